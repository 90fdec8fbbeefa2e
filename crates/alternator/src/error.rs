//! The library's error type.

use std::path::PathBuf;

/// Which side of the model an id or index belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A user (a row of the interaction matrix).
    User,
    /// An item (a column of the interaction matrix).
    Item,
}

impl IdKind {
    /// `"user"` or `"item"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::User => "user",
            IdKind::Item => "item",
        }
    }
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in Alternator, each variant saying what, where and
/// (where it helps) what to do about it.
///
/// Parameters are named as the library spells them (`rank`, `reg_param`, `n`); a front end
/// maps [`Error::InvalidParameter::name`](Error::InvalidParameter) to its own flag or argument.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    // The OS error is part of the message, not a `source()` as well: printed with its chain
    // (`{:#}`), it would read twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        error: std::io::Error,
    },
    /// A line of an input file could not be understood.
    #[error("{path}: line {line}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column where the problem is, when known: its 1-based number as a person
        /// counts, with the header's name when the file has one (`3 (rating)`).
        column: Option<String>,
        /// What was wrong.
        message: String,
    },
    /// A table (Parquet) or a Spark model directory could not be read or used: a file that is
    /// not Parquet, a truncated one, a column of the wrong type, a null where a value is
    /// needed. `row` is 1-based, as file lines are.
    #[error("{path}: {}{message}", table_place(*row, column.as_deref()))]
    Table {
        /// The file (or directory).
        path: PathBuf,
        /// The 1-based row, when one row is at fault.
        row: Option<u64>,
        /// The column, when one is at fault.
        column: Option<String>,
        /// What was wrong.
        message: String,
    },
    /// An input had no usable data.
    #[error("{path}: {message}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was missing.
        message: String,
    },
    /// A parameter is outside its valid range.
    #[error("invalid {name}: {message}")]
    InvalidParameter {
        /// The parameter's name as the library spells it (`rank`, `reg_param`, `n`).
        name: &'static str,
        /// What was wrong and what is allowed.
        message: String,
    },
    /// A user or item id is not known to the model.
    #[error(
        "unknown {kind} id {id:?}: the model has no factors for this {kind} (it is not in the training data)"
    )]
    UnknownId {
        /// User or item.
        kind: IdKind,
        /// The id as given.
        id: String,
    },
    /// A title matched no item well enough.
    #[error("no title matches {title:?}{}", suggestion_text(suggestions))]
    UnknownTitle {
        /// The title as given.
        title: String,
        /// The closest titles, best first (possibly none).
        suggestions: Vec<String>,
    },
    /// None of the items a new user named is known to the model.
    #[error("none of the liked items is known to the model{}", unknown_text(ids))]
    NoKnownItems {
        /// The ids given that the model does not know (possibly none).
        ids: Vec<String>,
    },
    /// A dense index is outside the model (a caller's mistake with index-level functions).
    #[error("{kind} index {index} is out of range (the model has {len} {kind}s)")]
    IndexOutOfRange {
        /// User or item.
        kind: IdKind,
        /// The index given.
        index: u64,
        /// The number of rows on that side.
        len: u64,
    },
    /// A model file is not a valid Alternator model.
    #[error("{path}: not a valid model file: {message}")]
    ModelFormat {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The parts of a model disagree (id maps and factor rows, ranks, biases, non-finite
    /// values): such a model can be neither used nor saved.
    #[error("inconsistent model: {0}")]
    InconsistentModel(String),
    /// Training produced non-finite factors.
    #[error("training diverged: {message}")]
    Diverged {
        /// What diverged and the likely cause.
        message: String,
    },
    /// A fold-in's normal equations have no unique solution.
    #[error(
        "the fold-in normal equations are singular (reg_param {reg_param}); retrain with reg_param > 0"
    )]
    Singular {
        /// The model's regularization.
        reg_param: f32,
    },
    /// Anything else about the data or the request that makes it impossible.
    #[error("{0}")]
    Invalid(String),
    /// Training was stopped by its caller ([`Als::on_iteration_control`](crate::Als::on_iteration_control)
    /// returned `Break`, e.g. on Ctrl-C) after `iteration` complete iterations; no model is
    /// returned.
    #[error("training cancelled after iteration {iteration}")]
    Cancelled {
        /// The number of iterations completed.
        iteration: usize,
    },
    /// A failure inside the library that no input should cause (a worker thread that could
    /// not start, a task that did not run).
    #[error("internal error: {0}")]
    Internal(String),
}

fn table_place(row: Option<u64>, column: Option<&str>) -> String {
    match (row, column) {
        (Some(r), Some(c)) => format!("row {r} (index {}), column {c:?}: ", r.saturating_sub(1)),
        (Some(r), None) => format!("row {r} (index {}): ", r.saturating_sub(1)),
        (None, Some(c)) => format!("column {c:?}: "),
        (None, None) => String::new(),
    }
}

fn suggestion_text(s: &[String]) -> String {
    if s.is_empty() { String::new() } else { format!("; closest titles: {}", s.join(", ")) }
}

fn unknown_text(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
        format!(" (unknown: {}{})", shown.join(", "), if ids.len() > 10 { ", …" } else { "" })
    }
}

/// Alternator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A table error about the whole file (no row or column).
    pub(crate) fn table(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Table { path: path.into(), row: None, column: None, message: message.into() }
    }

    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io { path: path.into(), error }
    }

    /// An invalid-parameter error.
    pub fn param(name: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidParameter { name, message: message.into() }
    }

    /// An unknown-id error.
    pub fn unknown(kind: IdKind, id: impl Into<String>) -> Self {
        Error::UnknownId { kind, id: id.into() }
    }

    /// True when the error is the caller's input (a file, an id, a parameter, a model file),
    /// as opposed to a failure of training ([`Error::Diverged`]), a fit its caller stopped
    /// ([`Error::Cancelled`]) or a failure of the library itself ([`Error::Internal`]).
    /// Front ends use it for their exit code or status.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Diverged { .. } | Error::Internal(_) | Error::Cancelled { .. })
    }
}
