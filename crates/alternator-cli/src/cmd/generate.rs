//! `alternator generate`: a deterministic synthetic data set.

use std::path::PathBuf;

use alternator::generate::{GenerateOptions, Kind, generate};
use clap::ValueEnum;

/// Flags of `alternator generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of users
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Number of items
    #[arg(long, default_value_t = 500)]
    pub items: usize,
    /// Number of interactions
    #[arg(long, default_value_t = 50_000)]
    pub nnz: usize,
    /// Random seed: same arguments, same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file (user<TAB>item<TAB>value<TAB>timestamp)
    #[arg(long)]
    pub out: PathBuf,
    /// Explicit ratings 1..5 or implicit play counts
    #[arg(long, value_enum, default_value_t = KindArg::Ratings)]
    pub kind: KindArg,
    /// Also write OUT.train and OUT.test, with this fraction of interactions in test
    #[arg(long, default_value_t = 0.0)]
    pub test_fraction: f64,
}

/// `--kind` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Ratings 1..5
    Ratings,
    /// Play counts >= 1
    Counts,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let opts = GenerateOptions {
        users: a.users,
        items: a.items,
        nnz: a.nnz,
        seed: a.seed,
        kind: match a.kind {
            KindArg::Ratings => Kind::Ratings,
            KindArg::Counts => Kind::Counts,
        },
        test_fraction: a.test_fraction,
    };
    let r = generate(&opts, &a.out)?;
    eprintln!(
        "{}: {} interactions, {} users, {} items",
        a.out.display(),
        r.interactions,
        a.users,
        a.items
    );
    if r.files.len() > 1 {
        for (f, n) in r.files.iter().skip(1).zip([r.train, r.test]) {
            eprintln!("{}: {} interactions", f.display(), n);
        }
    }
    Ok(())
}
