//! The native side of Spark's API: a model over the user's own ids (the `str` of each
//! distinct id of the data frame's columns), trained with Spark's semantics, saved in the
//! library's model file.

use alternator::{Als, Confidence, Error, IdMap, Interactions, Model, RecommendOptions};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{Ranked, array2, ranked_arrays};
use crate::errors::{SPARK, to_py};
use crate::fit;
use crate::index_model::{pool, run};

/// A model over ids, with the thread pool its calls run on.
#[pyclass(frozen, module = "alternator._alternator")]
pub struct IdModel {
    model: Model,
    pool: Option<rayon::ThreadPool>,
}

fn codes(a: PyReadonlyArray1<'_, i64>, what: &str, len: usize) -> PyResult<Vec<u32>> {
    a.as_array()
        .iter()
        .map(|&c| match u32::try_from(c) {
            Ok(u) if (u as usize) < len => Ok(u),
            _ => Err(PyValueError::new_err(format!("{what} code {c} is not one of the {len} ids"))),
        })
        .collect()
}

/// Trains Spark's ALS on interactions given as codes into `user_ids` and `item_ids`:
/// explicit ALS-WR (`Als::explicit`) or, with `implicit_prefs`, Spark's implicit feedback
/// (`c = 1 + alpha·|r|`, λ scaled per row).
#[pyfunction]
#[pyo3(signature = (user_ids, item_ids, user_codes, item_codes, ratings, rank, max_iter,
    reg_param, implicit_prefs, alpha, nonnegative, seed, num_threads, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit_ids(
    py: Python<'_>,
    user_ids: Vec<String>,
    item_ids: Vec<String>,
    user_codes: PyReadonlyArray1<'_, i64>,
    item_codes: PyReadonlyArray1<'_, i64>,
    ratings: PyReadonlyArray1<'_, f32>,
    rank: usize,
    max_iter: usize,
    reg_param: f32,
    implicit_prefs: bool,
    alpha: f32,
    nonnegative: bool,
    seed: u64,
    num_threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<IdModel> {
    let users: IdMap = user_ids.iter().collect();
    let items: IdMap = item_ids.iter().collect();
    if users.len() != user_ids.len() || items.len() != item_ids.len() {
        return Err(PyValueError::new_err("two distinct ids have the same text"));
    }
    let u = codes(user_codes, "user", users.len())?;
    let i = codes(item_codes, "item", items.len())?;
    let v = ratings.as_array().to_vec();
    let data = Interactions::from_indices(users, items, u, i, v).map_err(|e| to_py(e, SPARK))?;
    let base = if implicit_prefs {
        Als::implicit().confidence(Confidence::Spark)
    } else {
        Als::explicit()
    };
    let als = base
        .rank(rank)
        .max_iter(max_iter)
        .reg_param(reg_param)
        .alpha(alpha)
        .nonnegative(nonnegative)
        .seed(seed)
        .threads(num_threads);
    let model = fit::run(py, als, &data, progress, SPARK)?;
    Ok(IdModel { model, pool: pool(num_threads)? })
}

#[pymethods]
impl IdModel {
    /// Reads a model file written by `save` (or by `alternator fit`).
    #[staticmethod]
    #[pyo3(signature = (path, num_threads=0))]
    fn load(py: Python<'_>, path: std::path::PathBuf, num_threads: usize) -> PyResult<IdModel> {
        let model = py.detach(|| Model::load(&path)).map_err(|e| to_py(e, SPARK))?;
        Ok(IdModel { model, pool: pool(num_threads)? })
    }

    /// Writes the model file (atomically).
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save(&path)).map_err(|e| to_py(e, SPARK))
    }

    /// Writes a Spark `ALSModel` directory (`metadata/`, `userFactors/`, `itemFactors/`),
    /// replaced as a set; ids must be 32-bit integers.
    fn save_spark(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| self.model.save_spark(&path)).map_err(|e| to_py(e, SPARK))
    }

    /// The rank.
    #[getter]
    fn rank(&self) -> usize {
        self.model.rank()
    }

    /// True for an implicit-feedback model.
    #[getter]
    fn implicit_prefs(&self) -> bool {
        self.model.is_implicit()
    }

    /// The user ids, in factor-row order.
    fn user_ids(&self) -> Vec<String> {
        self.model.users().ids().map(String::from).collect()
    }

    /// The item ids, in factor-row order.
    fn item_ids(&self) -> Vec<String> {
        self.model.items().ids().map(String::from).collect()
    }

    /// The user factors (a copy), `users × rank`.
    fn user_factors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let f = self.model.user_factors();
        array2(py, f.rows(), f.rank(), f.as_slice().to_vec())
    }

    /// The item factors (a copy), `items × rank`.
    fn item_factors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let f = self.model.item_factors();
        array2(py, f.rows(), f.rank(), f.as_slice().to_vec())
    }

    /// Predictions for (user index, item index) pairs; NaN where an index is -1 (an id the
    /// model has not seen: Spark's cold start).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        users: PyReadonlyArray1<'py, i64>,
        items: PyReadonlyArray1<'py, i64>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let (u, i) = (users.as_array(), items.as_array());
        if u.len() != i.len() {
            return Err(PyValueError::new_err("one item per user"));
        }
        let (u, i): (Vec<i64>, Vec<i64>) = (u.to_vec(), i.to_vec());
        let out: Vec<f32> = run(py, &self.pool, || {
            use rayon::prelude::*;
            u.par_iter()
                .zip(i.par_iter())
                .map(|(&a, &b)| match (u32::try_from(a), u32::try_from(b)) {
                    (Ok(a), Ok(b)) => self.model.predict_index(a, b).unwrap_or(f32::NAN),
                    _ => f32::NAN,
                })
                .collect()
        });
        Ok(PyArray1::from_vec(py, out))
    }

    /// Top-`n` items for users (`users=True`) or top-`n` users for items, for the given
    /// indices or all of them, every target ranked (Spark's `recommendForAll*` rank seen
    /// pairs too); `n` is clipped to the number of targets.
    #[pyo3(signature = (users, n, queries=None))]
    fn recommend<'py>(
        &self,
        py: Python<'py>,
        users: bool,
        n: usize,
        queries: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Ranked<'py>> {
        let (n_query, n_target) = if users {
            (self.model.users().len(), self.model.items().len())
        } else {
            (self.model.items().len(), self.model.users().len())
        };
        let q: Vec<u32> = match queries {
            Some(a) => a
                .as_array()
                .iter()
                .map(|&x| {
                    u32::try_from(x)
                        .ok()
                        .filter(|&v| (v as usize) < n_query)
                        .ok_or_else(|| PyValueError::new_err(format!("index {x} out of range")))
                })
                .collect::<PyResult<_>>()?,
            None => (0..n_query as u32).collect(),
        };
        let width = n.min(n_target);
        let mut lists = Vec::with_capacity(q.len());
        if width > 0 {
            let opts = RecommendOptions::top(width).include_seen(true);
            let r: Result<(), Error> = run(py, &self.pool, || {
                let sink = |_, l| {
                    lists.push(l);
                    Ok(())
                };
                if users {
                    self.model.recommend_batch(&q, &opts, sink)
                } else {
                    self.model.recommend_users_batch(&q, &opts, sink)
                }
            });
            r.map_err(|e| to_py(e, SPARK))?;
        } else {
            lists.resize(q.len(), Default::default());
        }
        ranked_arrays(py, &lists, width, |_, _| {})
    }
}
