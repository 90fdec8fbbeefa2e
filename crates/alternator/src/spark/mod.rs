//! Spark `ALSModel` directories, read and written, so that a model moves between Alternator
//! and a Spark pipeline in either direction (`ALSModel.load(dir)` / `model.save(dir)`).
//!
//! The layout, as Spark 4.0.1 writes and reads it:
//!
//! * `metadata/`: a text part file whose first line is one JSON object: `class`
//!   (`org.apache.spark.ml.recommendation.ALSModel`), `timestamp` (ms), `sparkVersion`,
//!   `uid`, `paramMap` and `defaultParamMap` (ALSModel's own params only: `userCol`,
//!   `itemCol`, `coldStartStrategy`, `predictionCol`, `blockSize`), and `rank`;
//! * `userFactors/` and `itemFactors/`: Parquet part files with `id: int` and
//!   `features: array<float>` of `rank` values. Files whose names start with `_` or `.` are
//!   not parts (`_SUCCESS`, checksums).
//!
//! Spark predicts `x_uᵀ y_i` for explicit and implicit models alike, and keeps no training
//! matrix: a loaded model filters no seen items unless given its training data. A model
//! with biases is written with two extra factor columns carrying them (`[x_u, μ + b_u, 1]`
//! and `[y_i, 1, b_i]`), so that Spark's prediction is Alternator's; Spark's ids are 32-bit
//! integers, so a model with other ids cannot be written.
//!
//! Extra keys would make Spark's reader fail, so the training parameters that Spark's model
//! does not keep (regularization, implicit feedback, α) are not written; a loaded Spark model
//! has Spark's explicit defaults for them, or the values of `regParam`, `implicitPrefs` and
//! `alpha` when its metadata has them.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, IdKind, Result};
use crate::files::{AtomicDir, SaveOptions};
use crate::ids::IdMap;
use crate::model::{Biases, Factors, Model, ModelFileInfo, ModelParts, TrainingSummary};
use crate::params::{AlsParams, MAX_RANK};
use crate::sparse::Csr;
use crate::tables::read::{Table, list_parts};
use crate::tables::write_factor_table;

mod load;

/// The class name in the metadata of a Spark ALS model.
pub const ALS_MODEL_CLASS: &str = "org.apache.spark.ml.recommendation.ALSModel";

/// The Spark version written into exported metadata: the one the format was checked with.
pub const SPARK_VERSION: &str = "4.0.1";

/// The params an `ALSModel` has; `paramMap` and `defaultParamMap` may hold no others.
pub const ALS_MODEL_PARAMS: [&str; 5] =
    ["userCol", "itemCol", "predictionCol", "coldStartStrategy", "blockSize"];

/// The first line of `metadata/part-00000` of a Spark model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SparkMetadata {
    /// The model's class.
    pub class: String,
    /// When it was saved, ms since the Unix epoch.
    pub timestamp: i64,
    /// The Spark version that saved it (`X.Y.Z`).
    #[serde(rename = "sparkVersion")]
    pub spark_version: String,
    /// The model's Spark uid.
    pub uid: String,
    /// The params set explicitly.
    #[serde(rename = "paramMap", default)]
    pub param_map: Map<String, Value>,
    /// The params' defaults.
    #[serde(rename = "defaultParamMap", default)]
    pub default_param_map: Map<String, Value>,
    /// The number of factors.
    pub rank: usize,
}

impl SparkMetadata {
    /// A param's value: set, else its default.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.param_map.get(name).or_else(|| self.default_param_map.get(name))
    }
}

/// True when `path` is a directory with a `metadata` subdirectory, as a Spark ML model
/// directory has.
pub fn is_model_dir(path: &Path) -> bool {
    path.is_dir() && path.join("metadata").is_dir()
}

/// Metadata for a model of `rank` factors, saved now.
fn metadata_for(rank: usize) -> SparkMetadata {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let uid = format!("ALS_{:012x}", (now.as_nanos() as u64) & 0xffff_ffff_ffff);
    let params = |m: Value| match m {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    SparkMetadata {
        class: ALS_MODEL_CLASS.into(),
        timestamp: i64::try_from(now.as_millis()).unwrap_or(i64::MAX),
        spark_version: SPARK_VERSION.into(),
        uid,
        param_map: params(
            json!({"userCol": "user", "itemCol": "item", "coldStartStrategy": "nan"}),
        ),
        default_param_map: params(json!({
            "userCol": "user", "itemCol": "item", "predictionCol": "prediction",
            "coldStartStrategy": "nan", "blockSize": 4096
        })),
        rank,
    }
}

/// The first id of `ids` that is not a 32-bit integer, if any.
fn first_non_int32(ids: &IdMap) -> Option<&str> {
    ids.ids().find(|s| !s.parse::<i32>().is_ok_and(|v| v.to_string() == *s))
}

/// The factors Spark gets: the model's own, or with biases two more columns that carry them.
fn spark_factors(model: &Model) -> (Factors, Factors) {
    let Some(b) = model.biases() else {
        return (model.user_factors().clone(), model.item_factors().clone());
    };
    let widen = |f: &Factors, extra: &dyn Fn(usize) -> [f32; 2]| {
        let rank = f.rank() + 2;
        let mut data = Vec::with_capacity(f.rows() * rank);
        for r in 0..f.rows() {
            data.extend_from_slice(f.row(r));
            data.extend_from_slice(&extra(r));
        }
        Factors::from_vec(f.rows(), rank, data).unwrap_or_default()
    };
    let user =
        widen(model.user_factors(), &|r| [b.global + b.user.get(r).copied().unwrap_or(0.0), 1.0]);
    let item = widen(model.item_factors(), &|r| [1.0, b.item.get(r).copied().unwrap_or(0.0)]);
    (user, item)
}

impl Model {
    /// Writes the model as a Spark `ALSModel` directory, which
    /// `pyspark.ml.recommendation.ALSModel.load(dir)` loads (see [`crate::spark`]). The
    /// directory is written as a set (see [`AtomicDir`]): a failed save leaves `dir` as it
    /// was. Fails with [`Error::Invalid`] when an id is not a 32-bit integer (Spark's ids
    /// are); predictions clipped to the training range ([`Model::clip_predictions`]) are not
    /// clipped by Spark.
    pub fn save_spark(&self, dir: impl AsRef<Path>) -> Result<()> {
        self.save_spark_with(dir, SaveOptions::default())
    }

    /// [`Model::save_spark`] with options.
    pub fn save_spark_with(&self, dir: impl AsRef<Path>, opts: SaveOptions) -> Result<()> {
        let dir = dir.as_ref();
        for kind in [IdKind::User, IdKind::Item] {
            if let Some(id) = first_non_int32(self.ids(kind)) {
                return Err(Error::Invalid(format!(
                    "Spark's ALSModel needs 32-bit integer ids, but this model's {kind} ids \
                     include {id:?}: a model trained on such ids cannot be written for Spark \
                     (renumber the ids, or export with another format)"
                )));
            }
        }
        let (user, item) = spark_factors(self);
        let out = AtomicDir::create_with(dir, opts)?;
        let root = out.dir().to_path_buf();
        let meta = metadata_for(user.rank());
        let mut line = serde_json::to_string(&meta)
            .map_err(|e| Error::Internal(format!("metadata JSON: {e}")))?;
        line.push('\n');
        let mut written: Vec<PathBuf> = Vec::new();
        let mkdir = |p: &Path| std::fs::create_dir(p).map_err(|e| Error::io(p, e));
        let put = |p: PathBuf, bytes: &[u8], written: &mut Vec<PathBuf>| -> Result<()> {
            std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))?;
            written.push(p);
            Ok(())
        };
        let md = root.join("metadata");
        mkdir(&md)?;
        put(md.join("part-00000"), line.as_bytes(), &mut written)?;
        put(md.join("_SUCCESS"), b"", &mut written)?;
        let tables = [("userFactors", self.users(), &user), ("itemFactors", self.items(), &item)];
        for (name, ids, factors) in tables {
            let sub = root.join(name);
            mkdir(&sub)?;
            let p = sub.join("part-00000-alternator-c000.snappy.parquet");
            let file = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
            let w = std::io::BufWriter::with_capacity(1 << 20, file);
            let w = write_factor_table(w, ids, factors, true, &p)?;
            w.into_inner().map_err(|e| Error::io(&p, e.into_error()))?;
            written.push(p);
            put(sub.join("_SUCCESS"), b"", &mut written)?;
        }
        if opts.fsync {
            for p in &written {
                std::fs::File::open(p).and_then(|f| f.sync_all()).map_err(|e| Error::io(p, e))?;
            }
        }
        out.commit()
    }

    /// Reads a Spark `ALSModel` directory (see [`crate::spark`]). A directory that is not one,
    /// or whose metadata or factor tables are damaged, is an [`Error::ModelFormat`] naming
    /// what is wrong.
    pub fn load_spark(dir: impl AsRef<Path>) -> Result<Model> {
        Ok(load_with_info(dir.as_ref())?.0)
    }
}

/// Reads a Spark model directory and describes it: format version 0 (not a model file), the
/// crc32 of its metadata and part files in order, and their total size.
pub fn load_with_info(dir: &Path) -> Result<(Model, ModelFileInfo)> {
    let bad = |m: String| Error::ModelFormat { path: dir.into(), message: m };
    if !dir.is_dir() {
        return Err(bad("not a directory".into()));
    }
    let md_dir = dir.join("metadata");
    if !md_dir.is_dir() {
        return Err(bad("not a Spark ALSModel directory: it has no metadata/ subdirectory".into()));
    }
    let md_files = list_parts(&md_dir)?;
    let Some(md_path) = md_files.first() else {
        return Err(bad("metadata/ holds no part file".into()));
    };
    let md_bytes = std::fs::read(md_path).map_err(|e| Error::io(md_path, e))?;
    let meta = load::parse_metadata(&md_bytes)
        .map_err(|m| Error::ModelFormat { path: md_path.clone(), message: m })?;
    let rank = meta.rank;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&md_bytes);
    let mut total = md_bytes.len() as u64;
    let mut sides = Vec::with_capacity(2);
    for name in ["userFactors", "itemFactors"] {
        let sub = dir.join(name);
        if !sub.is_dir() {
            return Err(bad(format!("it has no {name}/ subdirectory")));
        }
        let table = Table::open(&sub, false)?;
        for part in &table.parts {
            let bytes = std::fs::read(&part.path).map_err(|e| Error::io(&part.path, e))?;
            crc.update(&bytes);
            total += bytes.len() as u64;
        }
        sides.push(load::read_factors(&table, rank)?);
    }
    let (Some((items, item_factors)), Some((users, user_factors))) = (sides.pop(), sides.pop())
    else {
        return Err(Error::Internal("factor tables went missing".into()));
    };
    let params = load::params_of(&meta);
    let summary = TrainingSummary {
        source: dir.display().to_string(),
        trained_at_unix: u64::try_from(meta.timestamp / 1000).unwrap_or(0),
        ..TrainingSummary::default()
    };
    let model = Model::from_parts(ModelParts {
        params,
        users,
        items,
        user_factors,
        item_factors,
        biases: None::<Biases>,
        clip_predictions: false,
        training: Csr::default(),
        summary,
    })
    .map_err(|e| bad(e.to_string()))?;
    let info = ModelFileInfo { version: 0, checksum: crc.finalize(), bytes: total };
    Ok((model, info))
}

/// Spark's model params, with `rank` as the factors have it.
pub(crate) fn default_params(rank: usize) -> AlsParams {
    AlsParams { rank: rank.clamp(1, MAX_RANK), ..AlsParams::explicit() }
}

/// Reads each side's rows in parallel (parts of a directory, in order).
pub(crate) fn par_parts<T: Send>(
    table: &Table,
    f: impl Fn(&crate::tables::read::Part) -> Result<T> + Sync + Send,
) -> Result<Vec<T>> {
    table.parts.par_iter().map(f).collect()
}
