//! The library's errors as Python exceptions, with its messages and the parameter names of
//! the Python API the call came from.

use alternator::Error;
use pyo3::PyErr;
use pyo3::exceptions::{
    PyIndexError, PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError,
};

/// How one Python API spells the library's parameter names (`rank` → `factors`).
pub type Names = &'static [(&'static str, &'static str)];

/// `implicit`'s names.
pub const IMPLICIT: Names = &[
    ("rank", "factors"),
    ("reg_param", "regularization"),
    ("max_iter", "iterations"),
    ("seed", "random_state"),
    ("threads", "num_threads"),
    ("initial_factors", "user_factors/item_factors"),
    ("n", "N"),
];

/// Spark's names.
pub const SPARK: Names = &[
    ("rank", "rank"),
    ("reg_param", "regParam"),
    ("max_iter", "maxIter"),
    ("threads", "numThreads"),
    ("seed", "seed"),
];

/// The Python exception for a library error: `ValueError` for bad input (its message naming
/// the parameter as `names` spells it), `IndexError` for an unknown id or an index out of
/// range (as `implicit` and numpy do), `OSError` for files, `KeyboardInterrupt` for a
/// cancelled fit, `RuntimeError` for a diverged fit or an internal failure.
pub fn to_py(e: Error, names: Names) -> PyErr {
    match e {
        Error::InvalidParameter { name, message } => {
            let shown = names.iter().find(|(lib, _)| *lib == name).map_or(name, |(_, py)| py);
            PyValueError::new_err(format!("invalid {shown}: {message}"))
        }
        e @ (Error::UnknownId { .. } | Error::IndexOutOfRange { .. }) => {
            PyIndexError::new_err(e.to_string())
        }
        e @ Error::Io { .. } => PyOSError::new_err(e.to_string()),
        e @ Error::Cancelled { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        e @ (Error::Diverged { .. } | Error::Internal(_)) => PyRuntimeError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}
