//! # Alternator
//!
//! Alternating least squares (ALS) matrix factorization for recommender systems: explicit
//! ratings with Spark MLlib's semantics, implicit feedback with the `implicit` library's and
//! Spark's conventions, evaluation, recommendation, and a versioned model file.
//!
//! ```
//! use alternator::data::{parse_interactions, ReadOptions};
//! use alternator::sparse::Duplicates;
//! use std::path::Path;
//!
//! let text = "alice\tMatrix\t5\nalice\tAlien\t3\nbob\tMatrix\t4\nbob\tHeat\t2\n";
//! let data = parse_interactions(text.as_bytes(), Path::new("ratings.tsv"), &ReadOptions::default())?;
//! assert_eq!((data.users.len(), data.items.len(), data.len()), (2, 3, 4));
//! let user_items = data.to_csr(Duplicates::Keep);
//! assert_eq!(user_items.row(1).0, &[0, 2]); // bob rated Matrix (0) and Heat (2)
//! # Ok::<(), alternator::Error>(())
//! ```
//!
//! Module map: [`data`] reads files, [`ids`] maps ids, [`sparse`] holds the matrices,
//! [`params`] the hyper-parameters, [`als`] trains (hot loops in [`kernels`]), [`model`] is the
//! trained model and [`modelfile`] its file format, [`evaluate`] scores it, [`recommend`]
//! ranks items, [`split`] makes train/test files, [`generate`] writes synthetic data,
//! [`stats`] describes a data set.
#![deny(missing_docs)]

pub mod als;
pub mod data;
pub mod demo;
pub mod error;
pub mod evaluate;
pub mod generate;
pub mod ids;
pub mod kernels;
pub mod meta;
pub mod model;
pub mod modelfile;
pub mod params;
pub mod recommend;
pub mod rng;
pub mod sparse;
pub mod split;
pub mod stats;
pub mod topk;
pub mod tune;

pub use error::{Error, Result};
pub use ids::IdMap;
pub use model::Model;
pub use params::AlsParams;
pub use sparse::Csr;
