//! `alternator._alternator`: the native half of the `alternator` Python package.
//!
//! Everything here is a thin layer over the library's front door ([`alternator::Als`],
//! [`alternator::Model`], [`alternator::Interactions`], the metrics of
//! [`alternator::evaluate`]): numpy arrays in and out, the GIL released while the library
//! works, Ctrl-C and Python callbacks between iterations, and the library's errors turned into
//! Python exceptions with its messages. The Python modules under `python/alternator/` give it
//! `implicit`'s and Spark's APIs.

use pyo3::prelude::*;

mod convert;
mod errors;
mod fit;
mod id_model;
mod index_model;
mod metrics;

/// The extension module.
#[pymodule]
fn _alternator(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<index_model::IndexModel>()?;
    m.add_class::<id_model::IdModel>()?;
    m.add_function(wrap_pyfunction!(index_model::fit_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(id_model::fit_ids, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::calculate_loss, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::regression_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::ranking_metrics, m)?)?;
    Ok(())
}
