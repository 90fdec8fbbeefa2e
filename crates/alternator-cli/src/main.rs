//! `alternator`: train, evaluate, tune and serve ALS recommenders from the command line.

use clap::{Parser, Subcommand};

mod cmd;
mod common;
mod idfile;
mod paths;
mod stats;

/// Alternating least squares recommenders: Spark ALS and `implicit` semantics, fast.
#[derive(Debug, Parser)]
#[command(name = "alternator", version, about, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Self-contained tour: generate a movie-like data set, tune, train, evaluate, recommend
    Demo(cmd::demo::Args),
    /// Write a deterministic synthetic data set (ratings or play counts)
    Generate(cmd::generate::Args),
    /// Describe an interaction file: sizes, density, values, activity, duplicates
    Inspect(cmd::inspect::Args),
    /// Train an ALS model (explicit ratings, or implicit feedback with --implicit-prefs)
    Fit(cmd::fit::Args),
    /// Score (user, item) pairs with a model
    Predict(cmd::predict::Args),
    /// Evaluate a model on a test file (RMSE/MAE/R², or ranking metrics with --ranking)
    Evaluate(cmd::evaluate::Args),
    /// Split an interaction file into train and test files
    Split(cmd::split::Args),
    /// Top-N items for a user, for all users, or for a new user who names a few liked items
    Recommend(cmd::recommend::Args),
    /// Top-N users for an item (Spark's recommendForAllItems / recommendForItemSubset)
    RecommendUsers(cmd::recommend_users::Args),
    /// Items (or users) most similar to one, by cosine similarity of factors
    Similar(cmd::similar::Args),
    /// Why a user gets an item: the score split into the shares of the user's items
    Explain(cmd::explain::Args),
    /// Write user and item factors (and biases) with their ids, or a Spark ALSModel directory
    Export(cmd::export::Args),
    /// Convert a Spark ALSModel directory into a model file
    Import(cmd::import::Args),
    /// Grid search over rank, reg-param, alpha, ... with cross-validation, curves and plots
    Tune(cmd::tune::Args),
    /// HTTP recommendation service with hot reload
    Serve(cmd::serve::Args),
}

fn main() {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        restore_sigpipe();
    }
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Fit(a) => cmd::fit::run(a),
        Command::Predict(a) => cmd::predict::run(a),
        Command::Evaluate(a) => cmd::evaluate::run(a),
        Command::Split(a) => cmd::split::run(a),
        Command::Recommend(a) => cmd::recommend::run(a),
        Command::RecommendUsers(a) => cmd::recommend_users::run(a),
        Command::Similar(a) => cmd::similar::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Tune(a) => cmd::tune::run(a),
        Command::Serve(a) => cmd::serve::run(a),
    };
    if let Err(err) = result {
        eprintln!("error: {}", common::render(&err));
        std::process::exit(common::exit_code(&err));
    }
}

/// Lets `alternator ... | head` end quietly, like other Unix tools: Rust ignores SIGPIPE, which
/// turns a closed stdout into a panic in `println!`. The server keeps it ignored (a client that
/// hangs up must not kill it).
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread is spawned; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
