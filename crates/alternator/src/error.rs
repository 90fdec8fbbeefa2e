//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in Alternator, each variant saying what, where and
/// (where it helps) what to do about it.
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
        /// The column (name or 0-based position) where the problem is, when known.
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
    #[error("invalid parameter {name}: {message}")]
    InvalidParameter {
        /// The parameter's name, as the user spells it (e.g. `--rank`).
        name: String,
        /// What was wrong and what is allowed.
        message: String,
    },
    /// A user or item id is not known to the model.
    #[error("unknown {kind} id {id:?}: {hint}")]
    UnknownId {
        /// `user` or `item`.
        kind: &'static str,
        /// The id as given.
        id: String,
        /// What to do instead.
        hint: String,
    },
    /// A model file is not a valid Alternator model.
    #[error("{path}: not a valid model file: {message}")]
    ModelFormat {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// Training produced non-finite factors.
    #[error("training diverged: {message}")]
    Diverged {
        /// What diverged and the likely cause.
        message: String,
    },
    /// Anything else about the data that makes the request impossible.
    #[error("{0}")]
    Invalid(String),
}

/// Alternator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io { path: path.into(), error }
    }

    /// An invalid-parameter error.
    pub fn param(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.into(), message: message.into() }
    }
}
