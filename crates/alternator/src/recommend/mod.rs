//! Recommendation: top-N items for users (one, many, or new), users for items, similar items
//! and users, and the popularity fallback.
//!
//! The methods on [`Model`] take and return the user's own ids: [`Model::recommend`],
//! [`Model::recommend_with`] (seen items, filters, candidate subsets), [`Model::recommend_users`],
//! [`Model::similar_items`], [`Model::similar_users`], and for a user the model has never
//! seen, [`Model::recommend_for_liked`] or the full new-user pipeline ([`NewUser`],
//! [`Model::fold_in`]). The batch forms ([`Model::recommend_batch`],
//! [`Model::recommend_users_batch`]) work on dense indices for speed, as Spark's
//! `recommendForAllUsers` does, and hand each list to a sink in input order.
//!
//! # Scores
//!
//! The ranking score of user `u` for item `i` is the model's prediction without clipping:
//!
//! ```text
//! s(u, i) = x_uᵀ y_i            (+ μ + b_u + b_i when the model has biases)
//! ```
//!
//! Predictions of explicit models may be clipped to the training range
//! ([`Model::predict_index`]); rankings are not, because clipping would turn distinct scores
//! into ties. Every reported score is computed exactly the same way whichever entry point
//! produced it: the dot product accumulated in f64 (plus the biases, in f64), rounded to f32.
//!
//! # Ordering
//!
//! Results are ordered best first by score, ties broken by the smaller item (or user) index,
//! i.e. by order of first appearance in the training file.
//!
//! # Batch scoring
//!
//! The batch forms score blocks of queries against tiles of targets with f32 matrix products
//! `S = Y Xᵀ` (faer), select the best `N + margin` of each column (streamed over tiles of
//! targets so the score tile stays in cache, with a vectorised skip of chunks that cannot
//! enter), then rescore those exactly (f64) and keep the best `N`. A bound on the f32
//! rounding error decides whether a target left out could still belong to the top `N` (a
//! crowd of near-ties around the `N`-th score); such a query is then ranked target by
//! target, so that the batch result is always the exact one. A single user is scored the
//! same way ([`Model::recommend_with`]), which is several times faster than an exact score per
//! item on a large catalogue.
//!
//! From a few dozen queries on, the scorer prunes exactly: targets are visited by decreasing
//! norm, and a query stops once `N` eligible targets beat `‖x‖·‖y‖ (+ max b)` of every target
//! left by more than the rounding bound (Cauchy–Schwarz; LEMP's and FEXIPRO's length-based
//! pruning). The targets skipped could neither enter the top `N` nor tie with it, so pruning
//! never changes a result. On factor models, where a few popular items have large norms, it
//! skips most of the work.
//!
//! Queries are cut into groups by position in the query list, and each query's result
//! depends only on its own scores, so the output does not depend on the number of threads.

mod api;
mod batch;
mod cold_start;
mod explain;
mod select;
mod similar;
mod vectors;

pub use api::{Ranked, Recommendation, UserScore};
pub(crate) use batch::SideBound;
pub use cold_start::{FoldedUser, NewUser, TitleChoice};
pub use explain::{Contribution, Explanation, ItemExplanation, UserWeights};

use crate::error::{Error, IdKind, Result};
use crate::model::{Factors, Model};
use crate::topk::top_k_into;

/// A set of dense indices below a bound, as a bit set plus its sorted members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSet {
    bits: Vec<u64>,
    members: Vec<u32>,
}

impl IndexSet {
    /// The set of the given indices that are below `bound` (others are ignored; repeats count once).
    pub fn from_indices(bound: usize, indices: impl IntoIterator<Item = u32>) -> IndexSet {
        let mut bits = vec![0u64; bound.div_ceil(64)];
        for i in indices {
            if (i as usize) < bound {
                bits[i as usize / 64] |= 1u64 << (i % 64);
            }
        }
        let mut members = Vec::new();
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = word.trailing_zeros();
                members.push((w * 64) as u32 + b);
                word &= word - 1;
            }
        }
        IndexSet { bits, members }
    }

    /// True when `i` is in the set.
    pub fn contains(&self, i: u32) -> bool {
        self.bits.get(i as usize / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when the set has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members, ascending.
    pub fn members(&self) -> &[u32] {
        &self.members
    }

    /// The members of either set (below the larger bound).
    pub fn union(&self, other: &IndexSet) -> IndexSet {
        let bound = self.bits.len().max(other.bits.len()) * 64;
        IndexSet::from_indices(bound, self.members.iter().chain(&other.members).copied())
    }
}

/// What to rank and how many results to return.
#[derive(Debug, Clone, Copy)]
pub struct RecommendOptions<'a> {
    /// How many results (N).
    pub n: usize,
    /// Keep the query's training interactions ([`Model::training_matrix`]) in the ranking.
    /// Off by default: a user's already-rated items are excluded (`implicit`'s
    /// `filter_already_liked_items`).
    pub include_seen: bool,
    /// Targets never returned (`implicit`'s `filter_items`); build it with
    /// [`Model::index_set`].
    pub filter: Option<&'a IndexSet>,
    /// When given, only these targets are ranked (`implicit`'s `items`).
    pub candidates: Option<&'a IndexSet>,
}

impl<'a> RecommendOptions<'a> {
    /// Top-`n`, excluding seen items, no filter, no candidate subset.
    pub fn top(n: usize) -> RecommendOptions<'static> {
        RecommendOptions { n, include_seen: false, filter: None, candidates: None }
    }

    /// Keep (or not) the query's training interactions in the ranking.
    pub fn include_seen(mut self, on: bool) -> Self {
        self.include_seen = on;
        self
    }

    /// Never return these targets.
    pub fn filter(mut self, set: &'a IndexSet) -> Self {
        self.filter = Some(set);
        self
    }

    /// Rank only these targets.
    pub fn candidates(mut self, set: &'a IndexSet) -> Self {
        self.candidates = Some(set);
        self
    }
}

/// A ranked list in dense indices: `(index, score)` best first, and how many targets were
/// eligible (the batch forms' result; [`Ranked`] is the same in the user's ids).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoredIndices {
    /// `(item index, score)` (or user index for the item side), best first.
    pub items: Vec<(u32, f32)>,
    /// Number of targets that could have been returned (after candidates, filter and seen
    /// exclusion). `items.len() == min(n, eligible)`.
    pub eligible: usize,
}

/// `Σ_f a_f b_f` accumulated in f64.
fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

/// One side of the score: query rows or target rows, with their biases.
struct Side<'a> {
    factors: &'a Factors,
    /// Bias per row (b_u or b_i), when the model has biases.
    bias: Option<&'a [f32]>,
}

impl Side<'_> {
    fn bias(&self, r: u32) -> f64 {
        self.bias.and_then(|b| b.get(r as usize)).map_or(0.0, |&b| f64::from(b))
    }
}

/// The pair of sides for ranking items for users (`forward`) or users for items.
fn sides(model: &Model, forward: bool) -> (Side<'_>, Side<'_>, f64) {
    let global = model.biases.as_ref().map_or(0.0, |b| f64::from(b.global));
    let ub = model.biases.as_ref().map(|b| &b.user[..]);
    let ib = model.biases.as_ref().map(|b| &b.item[..]);
    let users = Side { factors: &model.user_factors, bias: ub };
    let items = Side { factors: &model.item_factors, bias: ib };
    if forward { (users, items, global) } else { (items, users, global) }
}

/// The exact ranking score of a query vector (with its constant `μ + b_query`) for target `t`.
fn exact(q: &[f32], q_const: f64, target: &Side<'_>, t: u32) -> f32 {
    (dot64(q, target.factors.row(t as usize)) + q_const + target.bias(t)) as f32
}

/// The ranking score `x_uᵀ y_i (+ μ + b_u + b_i)` of user index `u` for item index `i`, unclipped,
/// computed as every ranking function computes it. `None` when an index is out of range.
#[cfg(test)]
pub(crate) fn score(model: &Model, u: u32, i: u32) -> Option<f32> {
    if u as usize >= model.user_factors.rows() || i as usize >= model.item_factors.rows() {
        return None;
    }
    let (users, items, global) = sides(model, true);
    let q = users.factors.row(u as usize);
    Some(exact(q, global + users.bias(u), &items, i))
}

/// Targets that can be ranked: all, or the candidate subset.
struct View<'a> {
    n_targets: usize,
    candidates: Option<&'a IndexSet>,
    filter: Option<&'a IndexSet>,
    /// Number of targets in the view that the filter removes.
    filtered_in_view: usize,
    /// Number of targets in the view.
    len: usize,
}

impl<'a> View<'a> {
    fn new(n_targets: usize, opts: &RecommendOptions<'a>) -> View<'a> {
        let filtered_in_view = match (opts.filter, opts.candidates) {
            (None, _) => 0,
            (Some(f), None) => f.members().iter().filter(|&&t| (t as usize) < n_targets).count(),
            (Some(f), Some(c)) => c.members().iter().filter(|&&t| f.contains(t)).count(),
        };
        let len = match opts.candidates {
            Some(c) => c.members().iter().filter(|&&t| (t as usize) < n_targets).count(),
            None => n_targets,
        };
        View { n_targets, candidates: opts.candidates, filter: opts.filter, filtered_in_view, len }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The original target index of view position `v`.
    fn orig(&self, v: u32) -> u32 {
        match self.candidates {
            Some(c) => c.members().get(v as usize).copied().unwrap_or(u32::MAX),
            None => v,
        }
    }

    fn in_view(&self, t: u32) -> bool {
        (t as usize) < self.n_targets && self.candidates.is_none_or(|c| c.contains(t))
    }

    fn filtered(&self, t: u32) -> bool {
        self.filter.is_some_and(|f| f.contains(t))
    }

    /// Number of eligible targets given the query's excluded (seen) targets, sorted.
    fn eligible(&self, seen: &[u32]) -> usize {
        let mut excluded = 0usize;
        let mut prev = None;
        for &t in seen {
            if prev == Some(t) {
                continue;
            }
            prev = Some(t);
            if self.in_view(t) && !self.filtered(t) {
                excluded += 1;
            }
        }
        self.len().saturating_sub(self.filtered_in_view).saturating_sub(excluded)
    }
}

/// Ranks every target of `view` for one query vector by exact score (no matrix product).
fn rank_one(
    q: &[f32],
    q_const: f64,
    target: &Side<'_>,
    view: &View<'_>,
    seen: &[u32],
    n: usize,
    self_index: Option<u32>,
) -> ScoredIndices {
    let len = view.len();
    let mut scores = Vec::with_capacity(len);
    for v in 0..len as u32 {
        scores.push(exact(q, q_const, target, view.orig(v)));
    }
    let skip = |v: u32| {
        let t = view.orig(v);
        view.filtered(t) || seen.binary_search(&t).is_ok() || self_index == Some(t)
    };
    let mut scratch = Vec::new();
    let mut items = top_k_into(&scores, n, skip, &mut scratch);
    for p in &mut items {
        p.0 = view.orig(p.0);
    }
    let mut eligible = view.eligible(seen);
    if let Some(s) = self_index {
        if view.in_view(s) && !view.filtered(s) && seen.binary_search(&s).is_err() {
            eligible = eligible.saturating_sub(1);
        }
    }
    ScoredIndices { items, eligible }
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::param("n", "must be at least 1"));
    }
    Ok(())
}

/// Top-N items for user index `user`, scored one by one exactly: the items with the largest
/// [`score`], excluding the user's training items unless `include_seen`, never returning a
/// filtered item or one outside the candidate subset. Exactly `min(N, eligible)` results.
#[cfg(test)]
pub(crate) fn recommend_user(
    model: &Model,
    user: u32,
    opts: &RecommendOptions<'_>,
) -> Result<ScoredIndices> {
    check_n(opts.n)?;
    check_index(model, IdKind::User, user)?;
    let (users, items, global) = sides(model, true);
    let seen = if opts.include_seen { &[][..] } else { model.seen.row(user as usize).0 };
    let view = View::new(model.items.len(), opts);
    let q = users.factors.row(user as usize);
    Ok(rank_one(q, global + users.bias(user), &items, &view, seen, opts.n, None))
}

/// [`Error::IndexOutOfRange`] unless `index` is a row of `kind`'s side.
fn check_index(model: &Model, kind: IdKind, index: u32) -> Result<()> {
    let len = model.ids(kind).len();
    if index as usize >= len {
        return Err(Error::IndexOutOfRange { kind, index: u64::from(index), len: len as u64 });
    }
    Ok(())
}

/// Top-N items for a user vector that is not in the model (a folded-in new user):
/// `s(i) = xᵀ y_i (+ μ + b + b_i)` where `b` is `user_bias`. `exclude` (item indices, any
/// order) are never returned, e.g. the items the new user named.
pub(crate) fn recommend_for_factors(
    model: &Model,
    factors: &[f32],
    user_bias: Option<f32>,
    exclude: &[u32],
    opts: &RecommendOptions<'_>,
) -> Result<ScoredIndices> {
    check_n(opts.n)?;
    if factors.len() != model.rank() {
        return Err(Error::Invalid(format!(
            "a user vector of length {} does not match the model's rank {}",
            factors.len(),
            model.rank()
        )));
    }
    let (_, items, global) = sides(model, true);
    let q_const =
        if model.biases.is_some() { global + f64::from(user_bias.unwrap_or(0.0)) } else { 0.0 };
    let mut seen = exclude.to_vec();
    seen.sort_unstable();
    let view = View::new(model.items.len(), opts);
    Ok(rank_one(factors, q_const, &items, &view, &seen, opts.n, None))
}

#[cfg(test)]
mod tests;
