//! Reading a Spark model directory: the metadata line, the factor tables, the params.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int32Type, Int64Type};
use arrow_schema::DataType;
use serde_json::Value;

use super::{ALS_MODEL_CLASS, SparkMetadata, default_params, par_parts};
use crate::error::{Error, Result};
use crate::ids::IdMap;
use crate::model::Factors;
use crate::params::{AlsParams, Confidence, MAX_RANK, Solver};
use crate::tables::read::Table;

/// Parses the first line of a metadata part file; the error says what is wrong.
pub(super) fn parse_metadata(bytes: &[u8]) -> std::result::Result<SparkMetadata, String> {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line =
        std::str::from_utf8(line).map_err(|_| "the metadata is not UTF-8 text".to_string())?;
    let value: Value = serde_json::from_str(line)
        .map_err(|e| format!("the metadata's first line is not a JSON object: {e}"))?;
    let class = value.get("class").and_then(Value::as_str).unwrap_or("");
    if class != ALS_MODEL_CLASS {
        return Err(format!(
            "the metadata's class is {class:?}, not {ALS_MODEL_CLASS:?}: this is not a Spark \
             ALS model"
        ));
    }
    let meta: SparkMetadata = serde_json::from_value(value)
        .map_err(|e| format!("the metadata is not an ALSModel's: {e}"))?;
    if meta.rank == 0 || meta.rank > MAX_RANK {
        return Err(format!("the metadata's rank {} is not between 1 and {MAX_RANK}", meta.rank));
    }
    Ok(meta)
}

/// The training params a Spark model says: its rank, and `regParam`, `implicitPrefs`,
/// `alpha`, `nonnegative`, `maxIter`, `seed` where its metadata has them (Spark's own
/// ALSModel does not; the estimator's defaults are taken then).
pub(super) fn params_of(meta: &SparkMetadata) -> AlsParams {
    let mut p = default_params(meta.rank);
    let num = |k: &str| meta.param(k).and_then(Value::as_f64);
    if meta.param("implicitPrefs").and_then(Value::as_bool) == Some(true) {
        p = AlsParams { rank: p.rank, ..AlsParams::spark_implicit() };
        p.confidence = Confidence::Spark;
        p.solver = Solver::Cg;
    }
    if let Some(v) = num("regParam").filter(|v| v.is_finite() && *v >= 0.0) {
        p.reg_param = v as f32;
    }
    if let Some(v) = num("alpha").filter(|v| v.is_finite() && *v > 0.0) {
        p.alpha = v as f32;
    }
    if let Some(v) = num("maxIter").filter(|v| (0.0..=1e4).contains(v)) {
        p.max_iter = v as usize;
    }
    if let Some(v) = meta.param("seed").and_then(Value::as_i64) {
        p.seed = v as u64;
    }
    if let Some(v) = meta.param("nonnegative").and_then(Value::as_bool) {
        p.nonnegative = v;
    }
    p
}

/// The ids and factors of one factor table (`userFactors/` or `itemFactors/`), rows in part
/// order: `id` int, `features` array<float> of `rank` values, no nulls, no repeated id.
pub(super) fn read_factors(table: &Table, rank: usize) -> Result<(IdMap, Factors)> {
    let parts = par_parts(table, |part| {
        let schema = part.schema();
        let field = |name: &str| {
            schema.index_of(name).map_err(|_| Error::Table {
                path: part.path.clone(),
                row: None,
                column: None,
                message: format!("no {name:?} column: not a Spark factor table"),
            })
        };
        let (id_col, f_col) = (field("id")?, field("features")?);
        let wrong = |column: &str, message: String| Error::Table {
            path: part.path.clone(),
            row: None,
            column: Some(column.into()),
            message,
        };
        let id_type = schema.field(id_col).data_type();
        if !matches!(id_type, DataType::Int32 | DataType::Int64) {
            return Err(wrong("id", format!("is {id_type}; Spark's ALSModel stores int ids")));
        }
        let f_type = schema.field(f_col).data_type();
        let ok = matches!(f_type, DataType::List(f) if f.data_type() == &DataType::Float32);
        if !ok {
            return Err(wrong(
                "features",
                format!("is {f_type}; Spark's ALSModel stores array<float> (32-bit floats)"),
            ));
        }
        let mut ids: Vec<i64> = Vec::new();
        let mut data: Vec<f32> = Vec::new();
        let mut row0 = 1u64;
        for (g, rows) in part.row_group_rows()?.into_iter().enumerate() {
            part.for_each_batch(&[id_col, f_col], g, 0, rows, |batch| {
                let at = |r: usize, column: &str, message: String| Error::Table {
                    path: part.path.clone(),
                    row: Some(row0 + r as u64),
                    column: Some(column.into()),
                    message,
                };
                let (Some(idc), Some(fc)) =
                    (batch.column_by_name("id"), batch.column_by_name("features"))
                else {
                    return Err(wrong("id", "a batch lacks a column".into()));
                };
                if let Some(r) = (0..idc.len()).find(|&r| idc.is_null(r)) {
                    return Err(at(r, "id", "null id".into()));
                }
                if let Some(a) = idc.as_primitive_opt::<Int32Type>() {
                    ids.extend(a.values().iter().map(|&v| i64::from(v)));
                } else if let Some(a) = idc.as_primitive_opt::<Int64Type>() {
                    ids.extend(a.values().iter().copied());
                }
                let Some(lists) = fc.as_list_opt::<i32>() else {
                    return Err(wrong("features", "is not a list column".into()));
                };
                for r in 0..lists.len() {
                    if lists.is_null(r) {
                        return Err(at(r, "features", "null features".into()));
                    }
                    let v = lists.value(r);
                    let Some(f) = v.as_primitive_opt::<Float32Type>() else {
                        return Err(at(r, "features", "not floats".into()));
                    };
                    if f.len() != rank || f.null_count() > 0 {
                        return Err(at(
                            r,
                            "features",
                            format!(
                                "{} values{}, where the metadata says rank {rank}",
                                f.len(),
                                if f.null_count() > 0 { " with nulls" } else { "" }
                            ),
                        ));
                    }
                    data.extend_from_slice(f.values());
                }
                row0 += batch.num_rows() as u64;
                Ok(())
            })?;
        }
        Ok((ids, data))
    })?;
    let mut map = IdMap::new();
    let mut all = Vec::new();
    for (ids, data) in parts {
        for id in ids {
            let s = id.to_string();
            if map.get(&s).is_some() {
                return Err(Error::table(&table.path, format!("id {s} appears twice")));
            }
            map.get_or_insert(&s);
        }
        all.extend(data);
    }
    let rows = map.len();
    let factors = Factors::from_vec(rows, rank, all).ok_or_else(|| {
        Error::table(&table.path, format!("{rows} ids but not {rank} features for each"))
    })?;
    Ok((map, factors))
}
