//! `alternator generate`: a deterministic synthetic data set.

use std::path::PathBuf;

use alternator::generate::{GenerateOptions, Kind, generate, generate_to, suffixed};
use clap::ValueEnum;

use crate::common::usage;
use crate::paths;

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
    /// Output file (user<TAB>item<TAB>value<TAB>timestamp), written atomically; `-` for stdout
    #[arg(long)]
    pub out: PathBuf,
    /// Explicit ratings 1..5 or implicit play counts
    #[arg(long, value_enum, default_value_t = KindArg::Ratings)]
    pub kind: KindArg,
    /// Also write OUT.train and OUT.test, with this fraction of interactions in test (needs a
    /// file --out)
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
    let r = if paths::is_stdout(&a.out) {
        if a.test_fraction != 0.0 {
            return usage(format!(
                "--test-fraction {} writes OUT.train and OUT.test beside --out, which cannot be \
                 standard output; give --out a file name, or leave out --test-fraction",
                a.test_fraction
            ));
        }
        let mut out = paths::OutFile::create(&a.out)?;
        let name = out.name().to_path_buf();
        let r = generate_to(&opts, &mut out, &name)?;
        out.finish()?;
        r
    } else {
        let files = [a.out.clone(), suffixed(&a.out, "train"), suffixed(&a.out, "test")];
        let split = a.test_fraction > 0.0;
        paths::refuse_overwrite(
            &[],
            &[
                ("--out", Some(&files[0])),
                ("--out (.train)", split.then_some(files[1].as_path())),
                ("--out (.test)", split.then_some(files[2].as_path())),
            ],
        )?;
        generate(&opts, &a.out)?
    };
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
