//! A trained model: factors, the id maps that give them meaning, and what training saw.
//!
//! A [`Model`] is checked once, when it is built ([`Model::from_parts`], training) or loaded
//! ([`Model::load`]): its id maps, factor blocks, biases and training matrix agree, and its
//! factors are finite. Every method can then rely on that, and takes and returns the user's
//! own ids. The methods that rank items live in [`crate::recommend`], the ones that score a
//! test set in [`crate::evaluate`], and the file format in `modelfile`.

use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, IdKind, Result};
use crate::ids::IdMap;
use crate::params::AlsParams;
use crate::recommend::SideBound;
use crate::sparse::Csr;

mod training;

/// A dense row-major `rows × rank` block of f32 factors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Factors {
    rows: usize,
    rank: usize,
    data: Vec<f32>,
}

impl Factors {
    /// All-zero factors.
    pub fn zeros(rows: usize, rank: usize) -> Self {
        Factors { rows, rank, data: vec![0.0; rows * rank] }
    }

    /// Wraps a row-major buffer; `None` when its length is not `rows * rank`.
    pub fn from_vec(rows: usize, rank: usize, data: Vec<f32>) -> Option<Self> {
        (rows.checked_mul(rank) == Some(data.len())).then_some(Factors { rows, rank, data })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of factors per row.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Row `r` (empty when out of range).
    pub fn row(&self, r: usize) -> &[f32] {
        self.data.get(r * self.rank..(r + 1) * self.rank).unwrap_or(&[])
    }

    /// Mutable row `r` (empty when out of range).
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        self.data.get_mut(r * self.rank..(r + 1) * self.rank).unwrap_or(&mut [])
    }

    /// The whole row-major buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The whole row-major buffer, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the block, returning its buffer.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// True when every value is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}

/// Global mean and per-user / per-item biases (`biases`): the prediction is
/// `μ + b_u + b_i + x_uᵀ y_i`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Biases {
    /// Global mean μ of the training ratings.
    pub global: f32,
    /// One bias per user, in user-index order.
    pub user: Vec<f32>,
    /// One bias per item, in item-index order.
    pub item: Vec<f32>,
}

/// What training saw and how long it took (kept in the model file's header).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TrainingSummary {
    /// Number of training interactions.
    pub interactions: usize,
    /// Smallest training value.
    pub value_min: f32,
    /// Largest training value.
    pub value_max: f32,
    /// Training wall time in seconds.
    pub fit_seconds: f64,
    /// Training loss or RMSE per iteration, when computed.
    pub history: Vec<f64>,
    /// When training finished, as seconds since the Unix epoch.
    pub trained_at_unix: u64,
    /// The training file, as given.
    pub source: String,
}

/// Everything a [`Model`] is made of, for building one from factors trained elsewhere
/// ([`Model::from_parts`]) or taking one apart ([`Model::into_parts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParts {
    /// The hyper-parameters it was trained with.
    pub params: AlsParams,
    /// User ids → user-factor rows.
    pub users: IdMap,
    /// Item ids → item-factor rows.
    pub items: IdMap,
    /// `users.len() × rank` user factors.
    pub user_factors: Factors,
    /// `items.len() × rank` item factors.
    pub item_factors: Factors,
    /// Bias terms, for models trained with biases.
    pub biases: Option<Biases>,
    /// Clamp predictions to `[value_min, value_max]` of the training data.
    pub clip_predictions: bool,
    /// The training interactions, users × items (to filter seen items); may be empty
    /// (`Csr::default()`) when they are not kept.
    pub training: Csr,
    /// Training summary.
    pub summary: TrainingSummary,
}

/// A trained ALS model. Its parts are consistent by construction (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) params: AlsParams,
    pub(crate) users: IdMap,
    pub(crate) items: IdMap,
    pub(crate) user_factors: Factors,
    pub(crate) item_factors: Factors,
    pub(crate) biases: Option<Biases>,
    pub(crate) clip_predictions: bool,
    /// The training interactions, user → items (to filter seen items and to fold in).
    pub(crate) seen: Csr,
    pub(crate) summary: TrainingSummary,
    /// Bounds on each side's rows for the batch scorer, computed once on first use.
    pub(crate) bounds: Bounds,
}

/// Bounds on the rows of each side of a model ([`SideBound`]), computed on first use. A cache
/// derived from the factors, not part of the model's value: it compares equal always. The
/// factors of a model are never changed once it is built (only crate tests do, before any use).
#[derive(Clone, Default)]
pub(crate) struct Bounds {
    users: OnceLock<SideBound>,
    items: OnceLock<SideBound>,
}

impl Bounds {
    /// The bounds of `kind`'s side, computed by `f` the first time.
    pub(crate) fn get(&self, kind: IdKind, f: impl FnOnce() -> SideBound) -> SideBound {
        *match kind {
            IdKind::User => &self.users,
            IdKind::Item => &self.items,
        }
        .get_or_init(f)
    }
}

impl PartialEq for Bounds {
    fn eq(&self, _: &Bounds) -> bool {
        true
    }
}

impl std::fmt::Debug for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bounds")
    }
}

impl Model {
    /// Builds a model from its parts, checking that they agree ([`Error::InconsistentModel`]
    /// naming what does not): one user-factor row per user id and one item-factor row per
    /// item id, both of the same rank, finite factors and biases, bias vectors of the right
    /// lengths, and a training matrix of `users × items` (or empty).
    pub fn from_parts(parts: ModelParts) -> Result<Model> {
        let model = Model {
            params: parts.params,
            users: parts.users,
            items: parts.items,
            user_factors: parts.user_factors,
            item_factors: parts.item_factors,
            biases: parts.biases,
            clip_predictions: parts.clip_predictions,
            seen: parts.training,
            summary: parts.summary,
            bounds: Bounds::default(),
        };
        model.validate()?;
        Ok(model)
    }

    /// Takes the model apart.
    pub fn into_parts(self) -> ModelParts {
        ModelParts {
            params: self.params,
            users: self.users,
            items: self.items,
            user_factors: self.user_factors,
            item_factors: self.item_factors,
            biases: self.biases,
            clip_predictions: self.clip_predictions,
            training: self.seen,
            summary: self.summary,
        }
    }

    /// The one consistency check of a model (see [`Model::from_parts`]).
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InconsistentModel(m));
        let rank = self.user_factors.rank();
        if self.item_factors.rank() != rank {
            return bad(format!(
                "user factors have rank {rank} but item factors rank {}",
                self.item_factors.rank()
            ));
        }
        if self.params.rank != rank && rank > 0 {
            return bad(format!(
                "the parameters say rank {} but the factors have rank {rank}",
                self.params.rank
            ));
        }
        if self.users.len() != self.user_factors.rows() {
            return bad(format!(
                "{} user ids but {} user-factor rows",
                self.users.len(),
                self.user_factors.rows()
            ));
        }
        if self.items.len() != self.item_factors.rows() {
            return bad(format!(
                "{} item ids but {} item-factor rows",
                self.items.len(),
                self.item_factors.rows()
            ));
        }
        if u32::try_from(self.users.len()).is_err() || u32::try_from(self.items.len()).is_err() {
            return bad("more than 2^32 users or items".into());
        }
        if !self.user_factors.all_finite() || !self.item_factors.all_finite() {
            return bad("the factors contain NaN or infinite values".into());
        }
        if let Some(b) = &self.biases {
            if b.user.len() != self.users.len() || b.item.len() != self.items.len() {
                return bad(format!(
                    "{} user and {} item biases for {} users and {} items",
                    b.user.len(),
                    b.item.len(),
                    self.users.len(),
                    self.items.len()
                ));
            }
            if !b.global.is_finite()
                || !b.user.iter().all(|v| v.is_finite())
                || !b.item.iter().all(|v| v.is_finite())
            {
                return bad("the biases contain NaN or infinite values".into());
            }
        }
        let seen = &self.seen;
        let empty_default = seen.indptr().is_empty() && seen.nnz() == 0 && seen.ncols() == 0;
        if !empty_default && (seen.nrows() != self.users.len() || seen.ncols() != self.items.len())
        {
            return bad(format!(
                "the training matrix is {} × {} but the model has {} users and {} items",
                seen.nrows(),
                seen.ncols(),
                self.users.len(),
                self.items.len()
            ));
        }
        let s = &self.summary;
        if !s.value_min.is_finite()
            || !s.value_max.is_finite()
            || !s.fit_seconds.is_finite()
            || !s.history.iter().all(|v| v.is_finite())
        {
            return bad("the training summary contains NaN or infinite values".into());
        }
        Ok(())
    }

    /// Reads a model file written by [`Model::save`] (see [`Model::load_with_info`]), or a
    /// Spark `ALSModel` directory ([`Model::load_spark`]): a directory is taken for one.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        if path.is_dir() {
            return Model::load_spark(path);
        }
        crate::modelfile::load(path)
    }

    /// Reads a model file and reports its version, checksum and size.
    ///
    /// Fails with [`Error::ModelFormat`] naming the problem for a foreign file (bad magic), a
    /// file from a newer or too old version, a truncated or extended file, a checksum
    /// mismatch (any corrupted byte), and any inconsistency between the header and the blocks.
    ///
    /// A directory is read as a Spark `ALSModel` directory ([`crate::spark::load_with_info`]:
    /// version 0, the checksum of its files).
    pub fn load_with_info(path: impl AsRef<Path>) -> Result<(Model, ModelFileInfo)> {
        let path = path.as_ref();
        if path.is_dir() {
            return crate::spark::load_with_info(path);
        }
        crate::modelfile::load_with_info(path)
    }

    /// Parses the bytes of a model file; `name` is used in messages only.
    pub fn from_bytes(bytes: &[u8], name: impl AsRef<Path>) -> Result<(Model, ModelFileInfo)> {
        crate::modelfile::from_bytes(bytes, name.as_ref())
    }

    /// Writes the model to `path` atomically (a temporary file in the same directory, then
    /// renamed over the target), streamed without building a copy in memory. A `path` that is
    /// a symbolic link is written through: the file it points to is replaced, the link stays.
    /// Temporary files left by earlier saves to `path` that were killed are removed (see
    /// [`crate::files`]). Nothing waits for the disk: see [`Model::save_with`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::modelfile::save(self, path.as_ref(), crate::SaveOptions::default())
    }

    /// [`Model::save`] with options: [`SaveOptions::durable`](crate::SaveOptions::durable)
    /// also `fsync`s the file and its directory, so that the saved model survives a power
    /// cut.
    pub fn save_with(&self, path: impl AsRef<Path>, opts: crate::SaveOptions) -> Result<()> {
        crate::modelfile::save(self, path.as_ref(), opts)
    }

    /// The bytes of the model's file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        crate::modelfile::to_bytes(self)
    }

    /// The hyper-parameters it was trained with.
    pub fn params(&self) -> &AlsParams {
        &self.params
    }

    /// True for an implicit-feedback model (scores are preferences, not ratings).
    pub fn is_implicit(&self) -> bool {
        self.params.implicit_prefs
    }

    /// The rank (number of factors per row).
    pub fn rank(&self) -> usize {
        self.user_factors.rank()
    }

    /// The user ids, in factor-row order.
    pub fn users(&self) -> &IdMap {
        &self.users
    }

    /// The item ids, in factor-row order.
    pub fn items(&self) -> &IdMap {
        &self.items
    }

    /// The ids of one side.
    pub fn ids(&self, kind: IdKind) -> &IdMap {
        match kind {
            IdKind::User => &self.users,
            IdKind::Item => &self.items,
        }
    }

    /// The dense index of a user or item id ([`Error::UnknownId`] when the model has none).
    pub fn index_of(&self, kind: IdKind, id: &str) -> Result<u32> {
        self.ids(kind).get(id).ok_or_else(|| Error::unknown(kind, id))
    }

    /// The id at a dense index (empty when out of range, which a model's own results never are).
    pub fn id_at(&self, kind: IdKind, index: u32) -> &str {
        self.ids(kind).id(index).unwrap_or("")
    }

    /// `users × rank` user factors.
    pub fn user_factors(&self) -> &Factors {
        &self.user_factors
    }

    /// `items × rank` item factors.
    pub fn item_factors(&self) -> &Factors {
        &self.item_factors
    }

    /// Global mean and biases, for a model trained with biases.
    pub fn biases(&self) -> Option<&Biases> {
        self.biases.as_ref()
    }

    /// Whether predictions are clamped to the training value range.
    pub fn clip_predictions(&self) -> bool {
        self.clip_predictions
    }

    /// The training interactions, users × items (empty when not kept).
    pub fn training_matrix(&self) -> &Csr {
        &self.seen
    }

    /// What training saw and how long it took.
    pub fn summary(&self) -> &TrainingSummary {
        &self.summary
    }

    /// Predicted score of user index `u` for item index `i`:
    /// `x_uᵀ y_i` (+ `μ + b_u + b_i` with biases), clipped to the training range when the
    /// model was trained so. `None` when either index is out of range.
    pub fn predict_index(&self, u: u32, i: u32) -> Option<f32> {
        let (u, i) = (u as usize, i as usize);
        if u >= self.user_factors.rows() || i >= self.item_factors.rows() {
            return None;
        }
        let x = self.user_factors.row(u);
        let y = self.item_factors.row(i);
        let mut s: f32 = x.iter().zip(y).map(|(a, b)| a * b).sum();
        if let Some(b) = &self.biases {
            s += b.global
                + b.user.get(u).copied().unwrap_or(0.0)
                + b.item.get(i).copied().unwrap_or(0.0);
        }
        if self.clip_predictions {
            s = s.clamp(self.summary.value_min, self.summary.value_max);
        }
        Some(s)
    }

    /// Predicted score for the user's own ids; `None` when either id is unknown (cold start).
    pub fn predict(&self, user: &str, item: &str) -> Option<f32> {
        self.predict_index(self.users.get(user)?, self.items.get(item)?)
    }
}

/// Facts about a model file ([`Model::load_with_info`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFileInfo {
    /// The format version the file was written in (0 for a Spark model directory).
    pub version: u32,
    /// The file's crc32 (IEEE) over every byte before the checksum.
    pub checksum: u32,
    /// The file's size in bytes.
    pub bytes: u64,
}
