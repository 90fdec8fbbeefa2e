//! Flags and helpers shared by every verb: ingestion flags, implicit-solver values, threads,
//! progress, exit codes.

use std::io::IsTerminal;
use std::path::Path;

use alternator::data::{Column, Delimiter, Interactions, ReadOptions, read_interactions};
use alternator::params::{Confidence, Solver};
use alternator::sparse::Duplicates;
use anyhow::Context;
use clap::{Args, ValueEnum};

/// How to read an interaction file (Spark's userCol / itemCol / ratingCol, plus format flags).
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Field delimiter: tab, comma, ';', '|', space, whitespace or '::' [default: detected]
    #[arg(long, global = false)]
    pub delimiter: Option<String>,
    /// The first line is a header [default: detected]
    #[arg(long, overrides_with = "no_header")]
    pub header: bool,
    /// The first line is data, not a header
    #[arg(long)]
    pub no_header: bool,
    /// User id column: 0-based position or header name
    #[arg(long, default_value = "0")]
    pub user_col: String,
    /// Item id column: 0-based position or header name
    #[arg(long, default_value = "1")]
    pub item_col: String,
    /// Value column: position, header name, or `none` (every interaction counts 1.0)
    #[arg(long, default_value = "2")]
    pub rating_col: String,
    /// Timestamp column [default: column 3 or a header named timestamp/time, when present; `fit` never uses times and reads none unless named]
    #[arg(long)]
    pub time_col: Option<String>,
    /// Treat every interaction as 1.0
    #[arg(long)]
    pub binary: bool,
    /// Repeated (user, item) pairs: keep each, sum, last or mean [default: keep for explicit ratings, sum for implicit]
    #[arg(long, value_enum)]
    pub duplicates: Option<DupArg>,
    /// Skip malformed lines (reporting how many) instead of failing
    #[arg(long)]
    pub skip_invalid: bool,
}

/// `--duplicates` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DupArg {
    /// Every interaction counts (Spark).
    Keep,
    /// Values of repeated pairs are added (`implicit`).
    Sum,
    /// The last one in the file wins.
    Last,
    /// Values are averaged.
    Mean,
}

impl InputArgs {
    /// The library's read options.
    pub fn read_options(&self) -> anyhow::Result<ReadOptions> {
        let delimiter = self.delimiter.as_deref().map(Delimiter::parse).transpose()?;
        let header = if self.header {
            Some(true)
        } else if self.no_header {
            Some(false)
        } else {
            None
        };
        let rating_col = match self.rating_col.trim() {
            "none" | "NONE" | "None" => None,
            s => Some(Column::parse(s)),
        };
        Ok(ReadOptions {
            delimiter,
            header,
            user_col: Column::parse(&self.user_col),
            item_col: Column::parse(&self.item_col),
            rating_col,
            time_col: self.time_col.as_deref().map(Column::parse),
            binary: self.binary,
            skip_invalid: self.skip_invalid,
            keep_lines: false,
            ignore_times: false,
        })
    }

    /// The duplicate policy, with the default for explicit (`keep`) or implicit (`sum`) data.
    pub fn duplicates(&self, implicit: bool) -> Duplicates {
        match self.duplicates {
            Some(DupArg::Keep) => Duplicates::Keep,
            Some(DupArg::Sum) => Duplicates::Sum,
            Some(DupArg::Last) => Duplicates::Last,
            Some(DupArg::Mean) => Duplicates::Mean,
            None if implicit => Duplicates::Sum,
            None => Duplicates::Keep,
        }
    }

    /// Reads `path` with these flags, reporting skipped lines on stderr.
    pub fn read(&self, path: &Path) -> anyhow::Result<Interactions> {
        self.read_with(path, |_| {})
    }

    /// Reads `path` with these flags after `tweak` adjusts the options.
    pub fn read_with(
        &self,
        path: &Path,
        tweak: impl FnOnce(&mut ReadOptions),
    ) -> anyhow::Result<Interactions> {
        let mut opts = self.read_options()?;
        tweak(&mut opts);
        let data = read_interactions(path, &opts)?;
        report_skipped(&data);
        Ok(data)
    }
}

/// `--confidence` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConfidenceArg {
    /// The `implicit` library: c = α·r, λ unscaled
    Implicit,
    /// Spark implicitPrefs: c = 1 + α·|r|, λ times the row's positive entries
    Spark,
}

/// `--solver` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SolverArg {
    /// Conjugate gradient, warm-started (`implicit`'s default)
    Cg,
    /// Exact Cholesky solve
    Cholesky,
}

impl From<ConfidenceArg> for Confidence {
    fn from(c: ConfidenceArg) -> Confidence {
        match c {
            ConfidenceArg::Implicit => Confidence::Implicit,
            ConfidenceArg::Spark => Confidence::Spark,
        }
    }
}

impl SolverArg {
    /// The solver to use: the chosen one for implicit feedback; explicit ALS always solves
    /// exactly (Cholesky).
    pub fn for_data(self, implicit_prefs: bool) -> Solver {
        match self {
            _ if !implicit_prefs => Solver::Cholesky,
            SolverArg::Cg => Solver::Cg,
            SolverArg::Cholesky => Solver::Cholesky,
        }
    }
}

/// Prints the `--skip-invalid` report on stderr.
pub fn report_skipped(data: &Interactions) {
    if data.skipped.count > 0 {
        let lines: Vec<String> =
            data.skipped.first.iter().map(|(l, why)| format!("line {l} ({why})")).collect();
        eprintln!(
            "{}: skipped {} invalid line(s); first: {}",
            data.path.display(),
            data.skipped.count,
            lines.join("; ")
        );
    }
}

/// `--threads`: builds the global rayon pool (0 or absent: one thread per core).
pub fn init_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads.filter(|&t| t > 0) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("could not start the worker threads")?;
    }
    Ok(())
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
pub fn progress(len: u64, message: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {pos}/{len} {elapsed_precise} {per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(message.to_string());
    pb
}

/// Exit code for an error: 2 for bad input (files, ids, flags, model files), 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<alternator::Error>() {
            return match e {
                alternator::Error::Diverged { .. } => 1,
                _ => 2,
            };
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return 2;
        }
    }
    1
}

/// An error in how the command was called (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Fails with exit code 2 and `msg`.
pub fn usage<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(UsageError(msg.into()).into())
}
