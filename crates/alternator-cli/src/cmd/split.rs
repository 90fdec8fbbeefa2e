//! `alternator split`: a train/test split of an interaction file that keeps its format.
//!
//! The outputs are the input's own lines, byte for byte (the header line, when there is one,
//! goes to both), so they read back with the same flags and keep the user's ids. Compressed
//! text (gzip, zstd) and standard input are written as plain text; a Parquet input gives two
//! Parquet files holding its rows, every column kept.

use std::path::PathBuf;

use alternator::InputFormat;
use alternator::files::AtomicFile;
use alternator::split::{Strategy, split_mask, write_split_text};
use clap::ValueEnum;

use crate::common::{InputArgs, input_text, stdin_bytes};
use crate::paths;

/// Flags of `alternator split`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The interaction file to split
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the training interactions
    #[arg(long)]
    pub out_train: PathBuf,
    /// Where to write the test interactions
    #[arg(long)]
    pub out_test: PathBuf,
    /// random: each interaction to test with probability --test-fraction; leave-k-out: --k
    /// random interactions of every user with more than k + 1; by-time: the latest
    /// --test-fraction of interactions by timestamp
    #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
    pub strategy: StrategyArg,
    /// Fraction of interactions sent to test (random, by-time)
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Interactions per eligible user sent to test (leave-k-out)
    #[arg(long, default_value_t = 1)]
    pub k: usize,
    /// Random seed: same input, flags and seed give the same files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `--strategy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Each interaction independently (implicit's train_test_split)
    Random,
    /// k random interactions per user with more than k + 1 (implicit's leave_k_out_split)
    LeaveKOut,
    /// The latest interactions by timestamp
    ByTime,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    paths::refuse_stdout("--out-train", &a.out_train, "split writes two files")?;
    paths::refuse_stdout("--out-test", &a.out_test, "split writes two files")?;
    paths::refuse_overwrite(
        &[("--input", Some(&a.input))],
        &[("--out-train", Some(&a.out_train)), ("--out-test", Some(&a.out_test))],
    )?;
    let strategy = match a.strategy {
        StrategyArg::Random => Strategy::Random { test_fraction: a.test_fraction },
        StrategyArg::LeaveKOut => Strategy::LeaveKOut { k: a.k },
        StrategyArg::ByTime => Strategy::ByTime { test_fraction: a.test_fraction },
    };
    // Times are read only for the split that uses them.
    let by_time = a.strategy == StrategyArg::ByTime;
    let data =
        a.input_args.read_with(&a.input, |r| _ = r.keep_lines(true).ignore_times(!by_time))?;
    let (mask, counts) = split_mask(&data, &strategy, a.seed)?;
    if data.format() == InputFormat::Parquet {
        let bytes = if paths::is_stdout(&a.input) { Some(stdin_bytes()?) } else { None };
        let open = |p: &std::path::Path| -> anyhow::Result<_> {
            Ok(std::io::BufWriter::with_capacity(1 << 20, AtomicFile::create(p)?))
        };
        let outs = vec![
            (open(&a.out_train)?, a.out_train.as_path()),
            (open(&a.out_test)?, a.out_test.as_path()),
        ];
        let fate = |k: usize| (Some(usize::from(mask.get(k).copied().unwrap_or(false))), None);
        let written = alternator::tables::filter_rows(&a.input, bytes, &data, &fate, None, outs)?;
        for (w, p) in written.into_iter().zip([&a.out_train, &a.out_test]) {
            w.into_inner().map_err(|e| alternator::Error::io(p, e.into_error()))?.commit()?;
        }
    } else {
        let text = input_text(&a.input)?;
        write_split_text(&text, &data, &mask, &a.out_train, &a.out_test)?;
    }
    let eligible = match a.strategy {
        StrategyArg::LeaveKOut => format!(
            "{} of {} users eligible (more than {} interactions)",
            counts.eligible_users,
            data.users().len(),
            a.k + 1
        ),
        _ => format!(
            "{} of {} users have test interactions",
            counts.eligible_users,
            data.users().len()
        ),
    };
    eprintln!(
        "train: {} interactions -> {}; test: {} -> {}; {eligible}",
        counts.train,
        a.out_train.display(),
        counts.test,
        a.out_test.display()
    );
    Ok(())
}
