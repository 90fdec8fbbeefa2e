//! One module per verb; each has `Args` (clap) and `run`.

pub mod demo;
pub mod evaluate;
pub mod explain;
pub mod export;
pub mod fit;
pub mod generate;
pub mod import;
pub mod inspect;
pub mod output;
pub mod predict;
pub mod recommend;
pub mod recommend_users;
pub mod serve;
pub mod similar;
pub mod split;
pub mod tune;
