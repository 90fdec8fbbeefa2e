//! Losses and metrics: `implicit`'s `calculate_loss` and `ranking_metrics_at_k`, Spark's
//! `RegressionEvaluator`.

use std::collections::BTreeMap;

use alternator::evaluate;
use alternator::{AlsParams, Confidence};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{self, csr};
use crate::errors::{IMPLICIT, to_py};
use crate::index_model::{IndexModel, pool, run};

/// `implicit.cpu.als.calculate_loss(Cui, X, Y, regularization)`: the training loss of the
/// factors on a confidence matrix (see `alternator::als::training_loss`).
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, ncols, user_factors, item_factors, regularization,
    num_threads=0))]
#[allow(clippy::too_many_arguments)]
pub fn calculate_loss(
    py: Python<'_>,
    indptr: PyReadonlyArray1<'_, i64>,
    indices: PyReadonlyArray1<'_, i32>,
    data: PyReadonlyArray1<'_, f32>,
    ncols: usize,
    user_factors: PyReadonlyArray2<'_, f32>,
    item_factors: PyReadonlyArray2<'_, f32>,
    regularization: f32,
    num_threads: usize,
) -> PyResult<f64> {
    let m = csr(indptr, indices, Some(data), ncols)?;
    let uf = convert::factors(user_factors)?;
    let itf = convert::factors(item_factors)?;
    let params = AlsParams {
        reg_param: regularization,
        alpha: 1.0,
        confidence: Confidence::Implicit,
        ..AlsParams::implicit()
    };
    run(py, &pool(num_threads)?, || alternator::als::training_loss(&m, &uf, &itf, &params))
        .map_err(|e| to_py(e, IMPLICIT))
}

/// Spark's `RegressionEvaluator` metrics of predictions against labels: `rmse`, `mse`,
/// `mae`, `r2` (NaN when any prediction is NaN, as in Spark) and `count`.
#[pyfunction]
pub fn regression_metrics(
    predictions: PyReadonlyArray1<'_, f64>,
    labels: PyReadonlyArray1<'_, f64>,
) -> PyResult<BTreeMap<&'static str, f64>> {
    let (p, l) = (predictions.as_array(), labels.as_array());
    if p.len() != l.len() {
        return Err(PyValueError::new_err(format!(
            "{} predictions for {} labels",
            p.len(),
            l.len()
        )));
    }
    let m = evaluate::regression_metrics(p.iter().copied().zip(l.iter().copied()));
    Ok(BTreeMap::from([
        ("rmse", m.rmse),
        ("mse", m.mse),
        ("mae", m.mae),
        ("r2", m.r2),
        ("count", m.scored as f64),
    ]))
}

/// `implicit.evaluation.ranking_metrics_at_k` of an index model: `precision`, `map`,
/// `ndcg`, `auc` at `k`, each user's training items filtered.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn ranking_metrics(
    py: Python<'_>,
    model: &IndexModel,
    train_indptr: PyReadonlyArray1<'_, i64>,
    train_indices: PyReadonlyArray1<'_, i32>,
    test_indptr: PyReadonlyArray1<'_, i64>,
    test_indices: PyReadonlyArray1<'_, i32>,
    ncols: usize,
    k: usize,
) -> PyResult<BTreeMap<&'static str, f64>> {
    let train = csr(train_indptr, train_indices, None, ncols)?;
    let test = csr(test_indptr, test_indices, None, ncols)?;
    let m = run(py, &model.pool, || evaluate::ranking_metrics_at_k(&model.model, &train, &test, k));
    Ok(BTreeMap::from([
        ("precision", m.precision),
        ("map", m.map),
        ("ndcg", m.ndcg),
        ("auc", m.auc),
    ]))
}
