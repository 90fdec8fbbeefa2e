//! numpy arrays ↔ the library's types.

use alternator::recommend::{IndexSet, ScoredIndices};
use alternator::{Csr, Factors, IdMap};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;

/// Output arrays of a ranking: ids (int32) and scores (float32), one row per query.
pub type Ranked<'py> = (Bound<'py, PyArray2<i32>>, Bound<'py, PyArray2<f32>>);

/// A sparse matrix from a scipy CSR matrix's arrays (`indptr` as int64, `indices` as int32,
/// `data` as float32; `None` for a pattern whose values do not matter).
pub fn csr(
    indptr: PyReadonlyArray1<'_, i64>,
    indices: PyReadonlyArray1<'_, i32>,
    data: Option<PyReadonlyArray1<'_, f32>>,
    ncols: usize,
) -> PyResult<Csr> {
    let indptr = indptr.as_array();
    let indices = indices.as_array();
    let mut ptr = Vec::with_capacity(indptr.len());
    for &p in indptr.iter() {
        ptr.push(usize::try_from(p).map_err(|_| PyValueError::new_err("negative indptr"))?);
    }
    let mut idx = Vec::with_capacity(indices.len());
    for &c in indices.iter() {
        idx.push(u32::try_from(c).map_err(|_| PyValueError::new_err("negative column index"))?);
    }
    let values = match data {
        Some(d) => d.as_array().iter().copied().collect(),
        None => vec![1.0f32; idx.len()],
    };
    Csr::from_parts(ptr, idx, values, ncols)
        .map_err(|m| PyValueError::new_err(format!("not a valid CSR matrix: {m}")))
}

/// Factors copied from a 2-D float32 array (any strides).
pub fn factors(a: PyReadonlyArray2<'_, f32>) -> PyResult<Factors> {
    let v = a.as_array();
    let (rows, k) = v.dim();
    let data: Vec<f32> = match v.as_slice() {
        Some(s) => s.to_vec(),
        None => v.iter().copied().collect(),
    };
    Factors::from_vec(rows, k, data).ok_or_else(|| PyValueError::new_err("bad factor shape"))
}

/// A `rows × cols` float32 array that takes over `data` without copying it.
pub fn array2<T: numpy::Element>(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    data: Vec<T>,
) -> PyResult<Bound<'_, PyArray2<T>>> {
    let a = Array2::from_shape_vec((rows, cols), data)
        .map_err(|e| PyValueError::new_err(format!("bad array shape: {e}")))?;
    Ok(a.into_pyarray(py))
}

/// Ids `"0"`, `"1"`, … `"n-1"`: a model whose ids are the row numbers of a matrix.
pub fn numbered(n: usize) -> IdMap {
    (0..n).map(|i| i.to_string()).collect()
}

/// The set of indices in `a` (int64), each checked against `bound` (`IndexError` naming
/// `what` otherwise).
pub fn index_set(
    a: Option<PyReadonlyArray1<'_, i64>>,
    bound: usize,
    what: &str,
) -> PyResult<Option<IndexSet>> {
    let Some(a) = a else { return Ok(None) };
    let mut v = Vec::with_capacity(a.len()?);
    for &i in a.as_array().iter() {
        match u32::try_from(i) {
            Ok(u) if (u as usize) < bound => v.push(u),
            _ => {
                return Err(PyIndexError::new_err(format!(
                    "{what} {i} is not in the model (it has {bound})"
                )));
            }
        }
    }
    Ok(Some(IndexSet::from_indices(bound, v)))
}

/// Ranked lists as `(ids int32, scores float32)` arrays of `lists.len() × width`; a list
/// shorter than `width` is completed by `tail(row)` (targets the ranking left out, scored
/// `-FLT_MAX`, as `implicit` returns filtered items), then by `-1` ids.
pub fn ranked_arrays<'py>(
    py: Python<'py>,
    lists: &[ScoredIndices],
    width: usize,
    tail: impl Fn(usize, &mut Vec<u32>),
) -> PyResult<Ranked<'py>> {
    let mut ids = Vec::with_capacity(lists.len() * width);
    let mut scores = Vec::with_capacity(lists.len() * width);
    let mut extra = Vec::new();
    for (r, list) in lists.iter().enumerate() {
        let mut row: Vec<(u32, f32)> = list.items.iter().copied().take(width).collect();
        if row.len() < width {
            extra.clear();
            tail(r, &mut extra);
            for &t in extra.iter() {
                if row.len() >= width {
                    break;
                }
                if !row.iter().any(|&(i, _)| i == t) {
                    row.push((t, -f32::MAX));
                }
            }
        }
        for &(i, s) in &row {
            ids.push(i32::try_from(i).unwrap_or(-1));
            scores.push(s);
        }
        for _ in row.len()..width {
            ids.push(-1);
            scores.push(-f32::MAX);
        }
    }
    Ok((array2(py, lists.len(), width, ids)?, array2(py, lists.len(), width, scores)?))
}
