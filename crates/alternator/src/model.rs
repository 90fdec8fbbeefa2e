//! A trained model: factors, the id maps that give them meaning, and what training saw.

use serde::{Deserialize, Serialize};

use crate::ids::IdMap;
use crate::params::AlsParams;
use crate::sparse::Csr;

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

    /// Mutable row `r`. Panics when out of range (internal use with checked indices).
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.rank..(r + 1) * self.rank]
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

/// Global mean and per-user / per-item biases (`--biases`): the prediction is
/// `μ + b_u + b_i + x_uᵀ y_i`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Biases {
    /// Global mean μ of the training ratings.
    pub global: f32,
    /// One bias per user, in user-index order.
    pub user: Vec<f32>,
    /// One bias per item, in item-index order.
    pub item: Vec<f32>,
}

/// What training saw and how long it took (kept in the model file's header).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSummary {
    /// Number of training interactions.
    pub interactions: usize,
    /// Smallest and largest training value.
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

/// A trained ALS model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
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
    /// Bias terms, when trained with `--biases`.
    pub biases: Option<Biases>,
    /// Clamp predictions to `[value_min, value_max]` of the training data.
    pub clip_predictions: bool,
    /// The training interactions, user → items (to filter seen items and to fold in).
    pub seen: Csr,
    /// Training summary.
    pub summary: TrainingSummary,
}

impl Model {
    /// The rank (number of factors per row).
    pub fn rank(&self) -> usize {
        self.user_factors.rank()
    }

    /// Predicted score of user index `u` for item index `i`:
    /// `x_uᵀ y_i` (+ `μ + b_u + b_i` with biases), clipped to the training range when asked.
    /// `None` when either index is out of range.
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

    /// Predicted score for external ids; `None` when either id is unknown (cold start).
    pub fn predict(&self, user: &str, item: &str) -> Option<f32> {
        self.predict_index(self.users.get(user)?, self.items.get(item)?)
    }
}
