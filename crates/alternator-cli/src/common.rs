//! Flags and helpers shared by every verb: ingestion flags, implicit-solver values, threads,
//! progress, exit codes.

use std::io::IsTerminal;
use std::path::Path;

use alternator::{Confidence, Delimiter, Duplicates, Interactions, ReaderBuilder, Solver};
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
    /// User id column: 0-based position or header name (Parquet: column name or position)
    #[arg(long, default_value = "0")]
    pub user_col: String,
    /// Item id column: 0-based position or header name (Parquet: column name or position)
    #[arg(long, default_value = "1")]
    pub item_col: String,
    /// Value column: position, header name, or `none` (every interaction counts 1.0)
    #[arg(long, default_value = "2")]
    pub rating_col: String,
    /// Timestamp column: position, header name, or `none` [default: a header named timestamp/time/ts, else column 3, when the first line has a number there; only `inspect` and `split --strategy by-time` read times unless named]
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
    /// The library's reader, configured by these flags.
    pub fn reader(&self) -> anyhow::Result<ReaderBuilder> {
        let mut r = ReaderBuilder::new();
        if let Some(d) = self.delimiter.as_deref() {
            r.delimiter(Delimiter::parse(d)?);
        }
        if self.header {
            r.has_header(true);
        } else if self.no_header {
            r.has_header(false);
        }
        r.user_col(self.user_col.as_str()).item_col(self.item_col.as_str());
        match self.rating_col.trim() {
            "none" | "NONE" | "None" => r.no_rating_col(),
            s => r.rating_col(s),
        };
        match self.time_col.as_deref().map(str::trim) {
            Some("none" | "NONE" | "None") => _ = r.ignore_times(true),
            Some(t) => _ = r.time_col(t),
            None => {}
        }
        r.binary(self.binary).skip_invalid(self.skip_invalid);
        Ok(r)
    }

    /// The duplicate policy given with `--duplicates`, if any (the library's default for the
    /// kind of feedback otherwise: keep for explicit ratings, sum for implicit feedback).
    pub fn duplicates(&self) -> Option<Duplicates> {
        self.duplicates.map(|d| match d {
            DupArg::Keep => Duplicates::Keep,
            DupArg::Sum => Duplicates::Sum,
            DupArg::Last => Duplicates::Last,
            DupArg::Mean => Duplicates::Mean,
        })
    }

    /// Reads `path` with these flags, reporting skipped lines on stderr.
    pub fn read(&self, path: &Path) -> anyhow::Result<Interactions> {
        self.read_with(path, |_| {})
    }

    /// Reads `path` with these flags for its users, items and values only: no time column is
    /// looked for unless one is named, so a verb that never uses times does not fail on one.
    pub fn read_untimed(&self, path: &Path) -> anyhow::Result<Interactions> {
        self.read_with(path, |r| _ = r.ignore_times(true))
    }

    /// Reads `path` with these flags after `tweak` adjusts the reader.
    pub fn read_with(
        &self,
        path: &Path,
        tweak: impl FnOnce(&mut ReaderBuilder),
    ) -> anyhow::Result<Interactions> {
        let mut r = self.reader()?;
        tweak(&mut r);
        let read = if crate::paths::is_stdout(path) {
            r.from_bytes(stdin_bytes()?, STDIN_NAME)
        } else {
            r.from_path(path)
        };
        let data = read.map_err(|e| match &e {
            // The library says the time column was guessed; the flags that settle it are ours.
            alternator::Error::Parse { message, .. }
                if message.contains("time column was detected") =>
            {
                with_hint(e, "say which with --time-col COLUMN, or --time-col none")
            }
            _ => e.into(),
        })?;
        report_skipped(&data);
        Ok(data)
    }
}

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// Everything on standard input, read once (a verb that reads its input twice, such as
/// `predict` copying the lines it scored, gets the same bytes again).
pub fn stdin_bytes() -> anyhow::Result<&'static [u8]> {
    static STDIN: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    if let Some(b) = STDIN.get() {
        return Ok(b);
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .map_err(|e| alternator::Error::io(STDIN_NAME, e))?;
    Ok(STDIN.get_or_init(|| bytes))
}

/// The text of an input (`-` for standard input), decompressed when it is gzip or zstd: for
/// verbs that copy the lines they read.
pub fn input_text(path: &Path) -> anyhow::Result<std::borrow::Cow<'static, [u8]>> {
    if crate::paths::is_stdout(path) {
        let b = stdin_bytes()?;
        return Ok(match alternator::InputFormat::sniff(b) {
            alternator::InputFormat::Text => std::borrow::Cow::Borrowed(b),
            _ => std::borrow::Cow::Owned(alternator::data::decompress(
                b.to_vec(),
                Path::new(STDIN_NAME),
            )?),
        });
    }
    Ok(std::borrow::Cow::Owned(alternator::data::read_text(path)?))
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

impl From<SolverArg> for Solver {
    fn from(s: SolverArg) -> Solver {
        match s {
            SolverArg::Cg => Solver::Cg,
            SolverArg::Cholesky => Solver::Cholesky,
        }
    }
}

/// Prints the `--skip-invalid` report on stderr.
pub fn report_skipped(data: &Interactions) {
    let skipped = data.skipped();
    if skipped.count > 0 {
        let lines: Vec<String> =
            skipped.first.iter().map(|(l, why)| format!("line {l} ({why})")).collect();
        eprintln!(
            "{}: skipped {} invalid line(s); first: {}",
            data.path().display(),
            skipped.count,
            lines.join("; ")
        );
    }
}

/// `--threads`: builds the global rayon pool (0 or absent: one thread per core; at most
/// [`alternator::als::MAX_THREADS`]).
pub fn init_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(t) = threads.filter(|&t| t > alternator::als::MAX_THREADS) {
        return usage(format!(
            "--threads {t} is more than {} (far more than any machine has cores); use 0 for one per core",
            alternator::als::MAX_THREADS
        ));
    }
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
            return if e.is_bad_input() { 2 } else { 1 };
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

/// The command-line flag of a library parameter name (`reg_param` → `--reg-param`).
pub fn flag_of(name: &str) -> String {
    match name {
        "n" => "-n".into(),
        "id_col" => "--meta-id-col".into(),
        "title_col" => "--meta-title-col".into(),
        "liked_titles" => "--liked-title".into(),
        "loss" | "compute_loss" => "--loss".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// One line for an error, in the command line's words: a library parameter is named by its
/// flag (`invalid --rank: must be between 1 and 4096, got 0`).
pub fn render(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| match cause.downcast_ref::<alternator::Error>() {
            Some(alternator::Error::InvalidParameter { name, message }) => {
                format!("invalid {}: {message}", flag_of(name))
            }
            _ => cause.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// `err` with a hint of the command line's own appended (exit code 2).
pub fn with_hint(err: alternator::Error, hint: &str) -> anyhow::Error {
    UsageError(format!("{err}; {hint}")).into()
}

/// The hint for a user the model does not know, in `recommend` and the demo.
pub const UNKNOWN_USER_HINT: &str = "name a few liked items with --liked ID,ID,... (or --liked-title), \
     or use --fallback popular for the most popular items";
