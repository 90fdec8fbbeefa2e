//! The native side of `implicit`'s API: a model whose users and items are the rows and
//! columns of a sparse matrix (ids `"0"`, `"1"`, …), built from numpy factors, and the fit of
//! a scipy CSR matrix.

use alternator::{
    Als, AlsParams, Csr, Duplicates, IdKind, Interactions, Model, ModelParts, RecommendOptions,
    Solver, TrainingSummary, UserWeights,
};
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{self, Ranked, array2, csr, index_set, numbered, ranked_arrays};
use crate::errors::{IMPLICIT, to_py};
use crate::fit;

/// What a fit hands back: user factors, item factors, the loss of every iteration.
type Fitted<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>, Vec<f64>);

/// A thread pool of `threads` workers, or `None` for rayon's global pool (`threads == 0`).
pub fn pool(threads: usize) -> PyResult<Option<rayon::ThreadPool>> {
    if threads == 0 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map(Some)
        .map_err(|e| PyValueError::new_err(format!("could not start {threads} threads: {e}")))
}

/// Runs `f` without the GIL, on `pool` when there is one.
pub fn run<T: Send>(
    py: Python<'_>,
    pool: &Option<rayon::ThreadPool>,
    f: impl FnOnce() -> T + Send,
) -> T {
    py.detach(|| match pool {
        Some(p) => p.install(f),
        None => f(),
    })
}

/// Trains `implicit`'s ALS on a CSR matrix (users × items) starting from the given factors
/// (`implicit` initialises them in Python); returns the user factors, the item factors
/// (handed to numpy without a copy) and the loss of every iteration when computed.
#[pyfunction]
#[pyo3(signature = (indptr, indices, data, shape, factors, regularization, alpha, iterations,
    use_cg, cg_steps, calculate_training_loss, num_threads, user_factors, item_factors,
    progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit_matrix<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i32>,
    data: PyReadonlyArray1<'py, f32>,
    shape: (usize, usize),
    factors: usize,
    regularization: f32,
    alpha: f32,
    iterations: usize,
    use_cg: bool,
    cg_steps: usize,
    calculate_training_loss: bool,
    num_threads: usize,
    user_factors: PyReadonlyArray2<'py, f32>,
    item_factors: PyReadonlyArray2<'py, f32>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Fitted<'py>> {
    let (users, items) = shape;
    let m = csr(indptr, indices, Some(data), items)?;
    if m.nrows() != users {
        return Err(PyValueError::new_err(format!(
            "indptr has {} rows but the shape says {users}",
            m.nrows()
        )));
    }
    let start = (convert::factors(user_factors)?, convert::factors(item_factors)?);
    let data = py.detach(|| {
        let rows: Vec<u32> =
            (0..m.nrows()).flat_map(|r| std::iter::repeat_n(r as u32, m.row_len(r))).collect();
        let cols = m.indices().to_vec();
        let vals = m.values().to_vec();
        Interactions::from_indices(numbered(users), numbered(items), rows, cols, vals)
    });
    let data = data.map_err(|e| to_py(e, IMPLICIT))?;
    let als = Als::implicit()
        .rank(factors)
        .reg_param(regularization)
        .alpha(alpha)
        .max_iter(iterations)
        .solver(if use_cg { Solver::Cg } else { Solver::Cholesky })
        .cg_steps(cg_steps)
        .compute_loss(calculate_training_loss)
        .duplicates(Duplicates::Keep)
        .threads(num_threads)
        .initial_factors(start.0, start.1);
    let model = fit::run(py, als, &data, progress, IMPLICIT)?;
    drop(data);
    let parts = model.into_parts();
    let (uf, itf) = (parts.user_factors, parts.item_factors);
    let (nu, ni, k) = (uf.rows(), itf.rows(), uf.rank());
    Ok((
        array2(py, nu, k, uf.into_vec())?,
        array2(py, ni, k, itf.into_vec())?,
        parts.summary.history,
    ))
}

/// A trained implicit-feedback model over matrix indices, with the thread pool its calls run
/// on. Built from numpy factors by the Python class, and rebuilt when they change.
#[pyclass(frozen, module = "alternator._alternator")]
pub struct IndexModel {
    pub(crate) model: Model,
    pub(crate) pool: Option<rayon::ThreadPool>,
}

fn kind(s: &str) -> PyResult<IdKind> {
    match s {
        "user" => Ok(IdKind::User),
        "item" => Ok(IdKind::Item),
        _ => Err(PyValueError::new_err(format!("kind must be 'user' or 'item', got {s:?}"))),
    }
}

#[pymethods]
impl IndexModel {
    /// A model of these factors (copied), `implicit`'s objective with `regularization` and
    /// `alpha` (confidence `alpha * r`), running on `num_threads` threads (0: all cores).
    #[new]
    fn new(
        user_factors: PyReadonlyArray2<'_, f32>,
        item_factors: PyReadonlyArray2<'_, f32>,
        regularization: f32,
        alpha: f32,
        num_threads: usize,
    ) -> PyResult<IndexModel> {
        let uf = convert::factors(user_factors)?;
        let itf = convert::factors(item_factors)?;
        let params = AlsParams {
            rank: uf.rank(),
            reg_param: regularization,
            alpha,
            ..AlsParams::implicit()
        };
        let model = Model::from_parts(ModelParts {
            params,
            users: numbered(uf.rows()),
            items: numbered(itf.rows()),
            user_factors: uf,
            item_factors: itf,
            biases: None,
            clip_predictions: false,
            training: Csr::default(),
            summary: TrainingSummary::default(),
        })
        .map_err(|e| to_py(e, IMPLICIT))?;
        Ok(IndexModel { model, pool: pool(num_threads)? })
    }

    /// Top-`n` items for each row of `queries` (user vectors): `n` is clipped to the items
    /// ranked; `liked` (a CSR matrix's `indptr`, `indices`, one row per query) are left out,
    /// and so is `filter`; `items` restricts the ranking. Left-out items complete a short list
    /// at the tail with score `-FLT_MAX`.
    #[pyo3(signature = (queries, n, liked=None, filter=None, items=None))]
    fn recommend<'py>(
        &self,
        py: Python<'py>,
        queries: PyReadonlyArray2<'py, f32>,
        n: usize,
        liked: Option<(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, i32>, usize)>,
        filter: Option<PyReadonlyArray1<'py, i64>>,
        items: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Ranked<'py>> {
        let q = convert::factors(queries)?;
        let n_items = self.model.items().len();
        let liked = match liked {
            Some((p, i, ncols)) => Some(csr(p, i, None, ncols)?),
            None => None,
        };
        let filter = index_set(filter, n_items, "item")?;
        let cand = index_set(items, n_items, "item")?;
        let view = cand.as_ref().map_or(n_items, |c| c.len());
        let width = n.min(view);
        let mut lists = Vec::with_capacity(q.rows());
        if width > 0 {
            let opts = RecommendOptions {
                n: width,
                include_seen: false,
                filter: filter.as_ref(),
                candidates: cand.as_ref(),
            };
            run(py, &self.pool, || {
                self.model.recommend_vectors(&q, liked.as_ref(), &opts, |_, l| {
                    lists.push(l);
                    Ok(())
                })
            })
            .map_err(|e| to_py(e, IMPLICIT))?;
        } else {
            lists.resize(q.rows(), Default::default());
        }
        let in_view =
            |t: u32| (t as usize) < n_items && cand.as_ref().is_none_or(|c| c.contains(t));
        ranked_arrays(py, &lists, width, |r, out| {
            if let Some(m) = &liked {
                out.extend(m.row(r).0.iter().copied().filter(|&t| in_view(t)));
            }
            if let Some(f) = &filter {
                out.extend(f.members().iter().copied().filter(|&t| in_view(t)));
            }
        })
    }

    /// The `n` rows of `kind`'s side ("user" or "item") most similar to each row of `queries`
    /// by cosine similarity (a query equal to a row finds it first); `filter` rows are left
    /// out (completing a short list at the tail with `-FLT_MAX`), `rows` restricts the
    /// ranking.
    #[pyo3(signature = (kind, queries, n, filter=None, rows=None))]
    fn similar<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        queries: PyReadonlyArray2<'py, f32>,
        n: usize,
        filter: Option<PyReadonlyArray1<'py, i64>>,
        rows: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Ranked<'py>> {
        let kind = self::kind(kind)?;
        let q = convert::factors(queries)?;
        let len = self.model.ids(kind).len();
        let filter = index_set(filter, len, kind.as_str())?;
        let cand = index_set(rows, len, kind.as_str())?;
        let width = n.min(cand.as_ref().map_or(len, |c| c.len()));
        let mut lists = Vec::with_capacity(q.rows());
        if width > 0 {
            let opts = RecommendOptions {
                n: width,
                include_seen: false,
                filter: filter.as_ref(),
                candidates: cand.as_ref(),
            };
            run(py, &self.pool, || {
                self.model.similar_vectors(kind, &q, &opts, |_, l| {
                    lists.push(l);
                    Ok(())
                })
            })
            .map_err(|e| to_py(e, IMPLICIT))?;
        } else {
            lists.resize(q.rows(), Default::default());
        }
        ranked_arrays(py, &lists, width, |_, out| {
            if let Some(f) = &filter {
                let in_view = |t: u32| cand.as_ref().is_none_or(|c| c.contains(t));
                out.extend(f.members().iter().copied().filter(|&t| in_view(t)));
            }
        })
    }

    /// Factors of `kind`'s side ("user" or "item") recomputed from the rows of a CSR matrix
    /// over the other side (`implicit`'s `recalculate_user` / `recalculate_item`).
    fn fold_in<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        indptr: PyReadonlyArray1<'py, i64>,
        indices: PyReadonlyArray1<'py, i32>,
        data: PyReadonlyArray1<'py, f32>,
        ncols: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let kind = self::kind(kind)?;
        let m = csr(indptr, indices, Some(data), ncols)?;
        let f = run(py, &self.pool, || self.model.fold_in_rows(kind, &m))
            .map_err(|e| to_py(e, IMPLICIT))?;
        let (rows, k) = (f.rows(), f.rank());
        array2(py, rows, k, f.into_vec())
    }

    /// The lower Cholesky factor of a user's normal equations (`implicit`'s `user_weights`
    /// of `explain`), from their items and values.
    fn user_weights<'py>(
        &self,
        py: Python<'py>,
        items: Vec<u32>,
        values: Vec<f32>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let w = self.model.user_weights(&items, &values).map_err(|e| to_py(e, IMPLICIT))?;
        array2(py, w.rank(), w.rank(), w.lower().to_vec())
    }

    /// `implicit`'s `explain`: the score of `item` for a user who interacted with `items`
    /// with `values`, and the `n` largest per-item contributions.
    #[pyo3(signature = (items, values, item, weights=None, n=10))]
    fn explain(
        &self,
        items: Vec<u32>,
        values: Vec<f32>,
        item: u32,
        weights: Option<PyReadonlyArray2<'_, f64>>,
        n: usize,
    ) -> PyResult<(f64, Vec<(u32, f64)>)> {
        let w = match weights {
            Some(a) => {
                let v = a.as_array();
                let (r, c) = v.dim();
                let lower = v.iter().copied().collect();
                let w = UserWeights::from_lower(r, lower).filter(|_| r == c).ok_or_else(|| {
                    PyValueError::new_err(
                        "user_weights must be the Cholesky factor returned by explain",
                    )
                })?;
                Some(w)
            }
            None => None,
        };
        let e = self
            .model
            .explain(&items, &values, item, w.as_ref(), n)
            .map_err(|e| to_py(e, IMPLICIT))?;
        Ok((e.score, e.contributions))
    }
}
