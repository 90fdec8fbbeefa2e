//! Recommendation: top-N per user, batch scoring, similar items/users, fold-in.
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
//! i.e. by order of first appearance in the training file ([`crate::topk::better`]).
//!
//! # Batch scoring
//!
//! [`recommend_batch`] (Spark's `recommendForAllUsers` / `recommendForUserSubset`) and
//! [`recommend_users_batch`] (`recommendForAllItems` / `recommendForItemSubset`) score blocks of
//! [`BLOCK`] queries against tiles of [`TILE`] targets with f32 matrix products `S = Y Xᵀ` (faer),
//! select the best `N + margin` of each column (the same selection as
//! [`crate::topk::top_k_into`], streamed over tiles of targets so the score tile stays in
//! cache, with a vectorised skip of chunks that cannot enter), then rescore
//! those exactly (f64) and keep the best `N`. The result equals the one-at-a-time functions
//! ([`recommend_user`]) unless an f32 rounding error exceeds the score gap at the margin.
//!
//! From a few dozen queries on, the scorer prunes exactly: targets are visited by decreasing
//! norm, and a query stops once `N` eligible targets beat `‖x‖·‖y‖ (+ max b)` of every target
//! left by more than a bound on the f32 rounding error (Cauchy–Schwarz; LEMP's and FEXIPRO's
//! length-based pruning). The targets skipped could neither enter the top `N` nor tie with it,
//! so pruning never changes a result. On factor models, where a few popular items have large
//! norms, it skips most of the work. With the same error bound, the pruned scorer also checks
//! that no candidate it dropped could belong to the top `N` (when one might, after a crowd of
//! near-ties, that query is ranked target by target), so its results are always the exact
//! ones, with no caveat about f32 rounding.
//!
//! Queries are cut into groups by position in the query list, and each query's result
//! depends only on its own scores, so the output does not depend on the number of threads.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::data::{Delimiter, detect_delimiter, split_fields};
use crate::error::{Error, Result};
use crate::model::{Factors, Model};
use crate::sparse::Csr;
use crate::topk::{better, top_k_into};

/// Number of queries (users, or items for [`recommend_users_batch`]) scored per matrix product.
pub const BLOCK: usize = 256;

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
}

/// What to rank and how many results to return.
#[derive(Debug, Clone, Copy)]
pub struct RecommendOptions<'a> {
    /// How many results (N).
    pub n: usize,
    /// Keep the query's training interactions (`model.seen`) in the ranking. Off by default:
    /// a user's already-rated items are excluded.
    pub include_seen: bool,
    /// Targets never returned (`--filter-items`).
    pub filter: Option<&'a IndexSet>,
    /// When given, only these targets are ranked (`--candidates`).
    pub candidates: Option<&'a IndexSet>,
}

impl RecommendOptions<'_> {
    /// Top-`n`, excluding seen items, no filter, no candidate subset.
    pub fn top(n: usize) -> RecommendOptions<'static> {
        RecommendOptions { n, include_seen: false, filter: None, candidates: None }
    }
}

/// A ranked list: `(index, score)` best first, and how many targets were eligible.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recommendations {
    /// `(item index, score)` (or user index for the item side), best first.
    pub items: Vec<(u32, f32)>,
    /// Number of targets that could have been returned (after candidates, filter and seen
    /// exclusion). `items.len() == min(n, eligible)`.
    pub eligible: usize,
}

/// Checks that the model's parts agree (factor rows match the id maps, both sides share a
/// rank, biases have the right lengths), so that every index below the id-map sizes is valid.
pub fn check_model(model: &Model) -> Result<()> {
    let bad = |m: String| Err(Error::Invalid(format!("inconsistent model: {m}")));
    if model.user_factors.rows() != model.users.len() {
        return bad(format!(
            "{} user factor rows for {} user ids",
            model.user_factors.rows(),
            model.users.len()
        ));
    }
    if model.item_factors.rows() != model.items.len() {
        return bad(format!(
            "{} item factor rows for {} item ids",
            model.item_factors.rows(),
            model.items.len()
        ));
    }
    if model.user_factors.rank() != model.item_factors.rank() {
        return bad(format!(
            "user rank {} differs from item rank {}",
            model.user_factors.rank(),
            model.item_factors.rank()
        ));
    }
    if let Some(b) = &model.biases {
        if b.user.len() != model.users.len() || b.item.len() != model.items.len() {
            return bad("bias vectors do not match the number of users and items".into());
        }
    }
    if model.seen.nnz() > 0
        && (model.seen.nrows() > model.users.len() || model.seen.ncols() > model.items.len())
    {
        return bad("the training matrix is larger than the id maps".into());
    }
    Ok(())
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
pub fn score(model: &Model, u: u32, i: u32) -> Option<f32> {
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
) -> Recommendations {
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
    Recommendations { items, eligible }
}

fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::param("-n", "must be at least 1"));
    }
    Ok(())
}

/// Top-N items for user index `user`: the items with the largest [`score`], excluding the
/// user's training items unless `include_seen`, never returning a filtered item or one outside
/// the candidate subset. Exactly `min(N, eligible)` results.
pub fn recommend_user(
    model: &Model,
    user: u32,
    opts: &RecommendOptions<'_>,
) -> Result<Recommendations> {
    check_model(model)?;
    check_n(opts.n)?;
    if user as usize >= model.users.len() {
        return Err(Error::Invalid(format!("user index {user} is out of range")));
    }
    let (users, items, global) = sides(model, true);
    let seen = if opts.include_seen { &[][..] } else { model.seen.row(user as usize).0 };
    let view = View::new(model.items.len(), opts);
    let q = users.factors.row(user as usize);
    Ok(rank_one(q, global + users.bias(user), &items, &view, seen, opts.n, None))
}

/// Top-N items for a user vector that is not in the model (a folded-in new user):
/// `s(i) = xᵀ y_i (+ μ + b + b_i)` where `b` is `user_bias`. `exclude` (item indices, any
/// order) are never returned, e.g. the items the new user named.
pub fn recommend_for_factors(
    model: &Model,
    factors: &[f32],
    user_bias: Option<f32>,
    exclude: &[u32],
    opts: &RecommendOptions<'_>,
) -> Result<Recommendations> {
    check_model(model)?;
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

/// The value a liked item gets when the user gives none (`--liked ID` rather than `ID:value`).
///
/// Implicit models: 1.0 (one interaction, as `implicit` and Spark count a click). Explicit
/// models: the largest training rating (`summary.value_max`, e.g. 5 on a 1–5 scale), because
/// "liked" means a top rating; 1.0 would tell a 1–5 model the user disliked the item. Falls back
/// to 1.0 when the model has no recorded range.
pub fn default_liked_value(model: &Model) -> f32 {
    if model.params.implicit_prefs {
        1.0
    } else if model.summary.value_max.is_finite() && model.summary.value_max > 0.0 {
        model.summary.value_max
    } else {
        1.0
    }
}

/// A new user's liked items, resolved to item indices (see [`parse_liked`],
/// [`match_liked_title`]) and ready for [`recommend_for_liked`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Liked {
    /// `(item index, value)` in the order given. A repeated item is kept as given here;
    /// [`recommend_for_liked`] merges repeats (the last value wins).
    pub items: Vec<(u32, f32)>,
    /// Ids the model does not know, in the order given (ignored by the fold-in).
    pub unknown: Vec<String>,
}

impl Liked {
    /// Adds one `ID` or `ID:value` token. An id the model knows verbatim wins over splitting at
    /// the last `:` (so ids containing `:` work); `ID` alone gets `default`
    /// ([`default_liked_value`]). A value that is not a finite number is an
    /// [`Error::InvalidParameter`] named `--liked`; an unknown id goes to [`Liked::unknown`].
    pub fn add_token(&mut self, model: &Model, token: &str, default: f32) -> Result<()> {
        let tok = token.trim();
        if tok.is_empty() {
            return Ok(());
        }
        if let Some(i) = model.items.get(tok) {
            self.items.push((i, default));
            return Ok(());
        }
        let Some((id, v)) = tok.rsplit_once(':') else {
            self.unknown.push(tok.to_string());
            return Ok(());
        };
        let value = v.trim().parse::<f32>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
            Error::param("--liked", format!("{tok:?}: the value after ':' must be a finite number"))
        })?;
        match model.items.get(id.trim()) {
            Some(i) => self.items.push((i, value)),
            None => self.unknown.push(id.trim().to_string()),
        }
        Ok(())
    }
}

/// Parses liked-item specifications as given on the command line or in a query string:
/// each spec is a comma-separated list of `ID` or `ID:value` tokens (see [`Liked::add_token`]),
/// e.g. `["50,181:4", "172"]`. `default` is the value of a bare `ID`, normally
/// [`default_liked_value`]. Unknown ids are collected, not fatal.
pub fn parse_liked<S: AsRef<str>>(
    model: &Model,
    specs: impl IntoIterator<Item = S>,
    default: f32,
) -> Result<Liked> {
    let mut liked = Liked::default();
    for spec in specs {
        for tok in spec.as_ref().split(',') {
            liked.add_token(model, tok, default)?;
        }
    }
    Ok(liked)
}

/// The result of resolving one liked title: the candidate titles and the items used.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleResolution {
    /// Matching metadata rows ([`crate::meta::Metadata::items`] indices) of items the model
    /// knows, best first (at most 10): what "Found possible matches" lists.
    pub candidates: Vec<usize>,
    /// The item indices to use as liked: the best candidate, or all of them with `all`.
    pub used: Vec<u32>,
}

/// Resolves a liked title by fuzzy search in item metadata ([`crate::meta::Metadata::search`]),
/// keeping only titles whose item the model knows. With `all`, every candidate is used;
/// otherwise the best one. No match is an [`Error::UnknownId`] (kind `item`) whose hint lists
/// the closest titles.
pub fn match_liked_title(
    model: &Model,
    meta: &crate::meta::Metadata,
    title: &str,
    all: bool,
) -> Result<TitleResolution> {
    let known = |k: usize| meta.items.get(k).and_then(|m| model.items.get(&m.id));
    let candidates: Vec<usize> = meta
        .search(title, usize::MAX)
        .into_iter()
        .map(|h| h.index)
        .filter(|&k| known(k).is_some())
        .take(10)
        .collect();
    if candidates.is_empty() {
        let close: Vec<String> = meta
            .closest(title, 50)
            .into_iter()
            .map(|h| h.index)
            .filter(|&k| known(k).is_some())
            .take(5)
            .filter_map(|k| meta.items.get(k).map(|m| m.title.clone()))
            .collect();
        return Err(Error::UnknownId {
            kind: "item",
            id: title.to_string(),
            hint: format!(
                "no title in {} matches it among the items the model knows; closest titles: {}",
                meta.path.display(),
                if close.is_empty() { "(none)".to_string() } else { close.join(", ") }
            ),
        });
    }
    let take = if all { candidates.len() } else { 1 };
    let used = candidates.iter().take(take).filter_map(|&k| known(k)).collect();
    Ok(TitleResolution { candidates, used })
}

/// Top-N items for a new user described by liked items (cold start by fold-in):
/// the user's factors `x` (and bias `b`) are one least-squares solve against the fixed item
/// factors with the model's own objective ([`crate::als::fold_in_user`], `implicit`'s
/// `recalculate_user`: explicit `(YᵀY_I + λ n I) x = Yᵀ r`, implicit
/// `(YᵀY + Yᵀ(C−I)Y + λI) x = YᵀC p`), then items are ranked by `xᵀ y_i (+ μ + b + b_i)` as
/// in [`recommend_for_factors`], never returning a liked item. `liked` holds
/// `(item index, value)`; a repeated item keeps its last value. Errors when `liked` is empty
/// or an index is out of range.
pub fn recommend_for_liked(
    model: &Model,
    liked: &[(u32, f32)],
    opts: &RecommendOptions<'_>,
) -> Result<Recommendations> {
    check_model(model)?;
    check_n(opts.n)?;
    if liked.is_empty() {
        return Err(Error::Invalid(
            "a new user needs at least one liked item known to the model".into(),
        ));
    }
    if let Some(&(bad, _)) = liked.iter().find(|p| p.0 as usize >= model.items.len()) {
        return Err(Error::Invalid(format!("item index {bad} is out of range")));
    }
    let mut merged: Vec<(usize, u32, f32)> =
        liked.iter().enumerate().map(|(k, &(i, v))| (k, i, v)).collect();
    merged.sort_by_key(|&(k, i, _)| (i, std::cmp::Reverse(k)));
    merged.dedup_by_key(|p| p.1);
    let items: Vec<u32> = merged.iter().map(|p| p.1).collect();
    let values: Vec<f32> = merged.iter().map(|p| p.2).collect();
    let (x, b) = crate::als::fold_in_user(model, &items, &values)?;
    recommend_for_factors(model, &x, b, &items, opts)
}

/// Number of training interactions of each item (the column counts of `model.seen`).
pub fn item_popularity(model: &Model) -> Vec<u32> {
    let mut counts = vec![0u32; model.items.len()];
    for &i in model.seen.indices() {
        if let Some(c) = counts.get_mut(i as usize) {
            *c = c.saturating_add(1);
        }
    }
    counts
}

/// The `popular` fallback for users the model does not know: items ranked by number of
/// training interactions (score = that count), ties by item index. Excludes nothing but the
/// filter, and ranks only the candidates when given (`include_seen` is irrelevant).
pub fn popular_items(model: &Model, opts: &RecommendOptions<'_>) -> Result<Recommendations> {
    check_n(opts.n)?;
    let counts = item_popularity(model);
    let view = View::new(counts.len(), opts);
    let len = view.len();
    let scores: Vec<f32> = (0..len as u32)
        .map(|v| counts.get(view.orig(v) as usize).copied().unwrap_or(0) as f32)
        .collect();
    let mut items = top_k_into(&scores, opts.n, |v| view.filtered(view.orig(v)), &mut Vec::new());
    for p in &mut items {
        p.0 = view.orig(p.0);
    }
    Ok(Recommendations { items, eligible: view.eligible(&[]) })
}

/// The error for a user id the model does not know, suggesting the two ways out.
pub fn unknown_user(id: &str) -> Error {
    Error::UnknownId {
        kind: "user",
        id: id.to_string(),
        hint: "the model has no factors for this user (not in the training data); \
               name a few liked items with --liked ID,ID,... (or --liked-title), \
               or use --fallback popular for the most popular items"
            .into(),
    }
}

/// The error for an unknown item id.
pub fn unknown_item(id: &str) -> Error {
    Error::UnknownId {
        kind: "item",
        id: id.to_string(),
        hint: "the model has no factors for this item (not in the training data)".into(),
    }
}

/// Which factors a similarity query compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// Item factors (`implicit`'s `similar_items`).
    Item,
    /// User factors (`implicit`'s `similar_users`).
    User,
}

/// The N rows most similar to row `index` by cosine similarity of factors,
/// `cos(a, b) = aᵀb / (‖a‖ ‖b‖)` (f64, clamped to [−1, 1]); a zero-norm row has similarity 0
/// with everything. The query itself is excluded unless `include_self`. Only `opts.n`,
/// `opts.filter` and `opts.candidates` apply.
pub fn similar(
    model: &Model,
    entity: Entity,
    index: u32,
    include_self: bool,
    opts: &RecommendOptions<'_>,
) -> Result<Recommendations> {
    check_model(model)?;
    check_n(opts.n)?;
    let factors = match entity {
        Entity::Item => &model.item_factors,
        Entity::User => &model.user_factors,
    };
    if index as usize >= factors.rows() {
        return Err(Error::Invalid(format!("index {index} is out of range")));
    }
    let norms: Vec<f64> =
        (0..factors.rows()).map(|r| dot64(factors.row(r), factors.row(r)).sqrt()).collect();
    let q = factors.row(index as usize);
    let qn = norms[index as usize];
    let view = View::new(factors.rows(), opts);
    let len = view.len();
    let mut scores = Vec::with_capacity(len);
    for v in 0..len as u32 {
        let t = view.orig(v) as usize;
        let d = qn * norms.get(t).copied().unwrap_or(0.0);
        let c = if d > 0.0 { (dot64(q, factors.row(t)) / d).clamp(-1.0, 1.0) } else { 0.0 };
        scores.push(c as f32);
    }
    let self_index = (!include_self).then_some(index);
    let skip = |v: u32| {
        let t = view.orig(v);
        view.filtered(t) || self_index == Some(t)
    };
    let mut items = top_k_into(&scores, opts.n, skip, &mut Vec::new());
    for p in &mut items {
        p.0 = view.orig(p.0);
    }
    let mut eligible = view.eligible(&[]);
    if !include_self && view.in_view(index) && !view.filtered(index) {
        eligible = eligible.saturating_sub(1);
    }
    Ok(Recommendations { items, eligible })
}

/// Scores per chunk of the fast rejection path of [`Selector::feed`].
const REJECT_CHUNK: usize = 64;

/// Targets scored per matrix product in the batch scorer: a `TILE × BLOCK` f32 score tile
/// (512 KiB) stays in cache between the product and the selection. With pruning, also the
/// granularity at which a query can stop.
pub const TILE: usize = 512;

/// `(index, score)` packed into a `u64` that orders like [`better`]: larger is better.
///
/// The high half is the score's bits mapped to an unsigned order (NaN lowest, `-0.0` read as
/// `+0.0`, so equal scores compare equal), the low half `u32::MAX - index` (the smaller index
/// wins a tie).
fn sel_key(i: u32, s: f32) -> u64 {
    (u64::from(score_ord(s)) << 32) | u64::from(u32::MAX - i)
}

/// The high half of a [`sel_key`]: scores in unsigned order, NaN lowest, `-0.0 = +0.0`.
fn score_ord(s: f32) -> u32 {
    if s.is_nan() {
        0
    } else {
        let b = if s == 0.0 { 0 } else { s.to_bits() };
        if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
    }
}

/// The smallest f32 `≥ x` (`+∞` above the f32 range, NaN for NaN).
fn f32_at_least(x: f64) -> f32 {
    let b = x as f32;
    if f64::from(b) >= x || b.is_nan() {
        b
    } else if b == 0.0 {
        f32::from_bits(1)
    } else if b > 0.0 {
        f32::from_bits(b.to_bits() + 1)
    } else {
        f32::from_bits(b.to_bits() - 1)
    }
}

/// The score of a [`sel_key`] (a NaN comes back as the default NaN).
fn key_score(key: u64) -> f32 {
    let ord = (key >> 32) as u32;
    if ord == 0 {
        f32::NAN
    } else if ord >> 31 == 1 {
        f32::from_bits(ord & 0x7fff_ffff)
    } else {
        f32::from_bits(!ord)
    }
}

/// The index of a [`sel_key`].
fn key_index(key: u64) -> u32 {
    u32::MAX - key as u32
}

/// Streaming top-`k` selection (the same result as [`top_k_into`] over the concatenation of
/// everything fed), for the batch scorer, which sees each query's scores one tile at a time.
///
/// Candidates are held as [`sel_key`]s. Once `k` are held, the `k`-th best is a bar: a chunk
/// of [`REJECT_CHUNK`] scores whose maximum cannot pass it is skipped with one vectorised
/// max instead of a comparison per score. NaN scores sort last (as in [`better`]).
#[derive(Default)]
struct Selector {
    buf: Vec<u64>,
    /// The worst kept candidate once the buffer has been cut to `k`; entries must beat it.
    threshold: Option<u64>,
    /// The result of [`Selector::finish`].
    out: Vec<(u32, f32)>,
    /// Whether a candidate that was fed (and not skipped) has been dropped.
    dropped: bool,
    /// The `n`-th best key held ([`Selector::beaten_by`]), while no candidate has entered since.
    nth: Option<Option<u64>>,
}

impl Selector {
    fn reset(&mut self) {
        self.buf.clear();
        self.threshold = None;
        self.dropped = false;
        self.nth = None;
    }

    /// Feeds the scores of indices `base..base + scores.len()` (increasing across calls).
    fn feed(&mut self, scores: &[f32], base: u32, k: usize, skip: &impl Fn(u32) -> bool) {
        let mut at = base;
        self.feed_with(scores, k, skip, true, |c| {
            let i = at;
            at = at.wrapping_add(c as u32);
            move |o| i.wrapping_add(o as u32)
        });
    }

    /// Feeds `scores[c]` of view positions `idx[c]`, in any order (the batch scorer visits
    /// targets by decreasing norm).
    fn feed_indexed(&mut self, scores: &[f32], idx: &[u32], k: usize, skip: &impl Fn(u32) -> bool) {
        let mut at = 0usize;
        self.feed_with(scores, k, skip, false, |c| {
            let ic = idx.get(at..at + c).unwrap_or(&[]);
            at += c;
            move |o| ic.get(o).copied().unwrap_or(u32::MAX)
        });
    }

    /// The common loop: `chunk_index(len)` is called once per chunk of [`REJECT_CHUNK`]
    /// scores and returns the index of each offset in it. With `ascending` indices a chunk
    /// is skipped when its maximum is `≤` the bar (a later index loses a tie); otherwise only
    /// when it is `<` the bar.
    fn feed_with<F: Fn(usize) -> u32>(
        &mut self,
        scores: &[f32],
        k: usize,
        skip: &impl Fn(u32) -> bool,
        ascending: bool,
        mut chunk_index: impl FnMut(usize) -> F,
    ) {
        if k == 0 {
            return;
        }
        let cap = k.saturating_mul(2).max(16);
        for chunk in scores.chunks(REJECT_CHUNK) {
            let index = chunk_index(chunk.len());
            let mut bar = self.threshold.map_or(f32::NAN, key_score);
            if !bar.is_nan() {
                if let Ok(c) = <&[f32; REJECT_CHUNK]>::try_from(chunk) {
                    // `x > a ? x : a` is one packed max per 8 lanes (NaN never wins).
                    let mut acc = [f32::NEG_INFINITY; 8];
                    for l in 0..REJECT_CHUNK / 8 {
                        for (a, &x) in acc.iter_mut().zip(&c[l * 8..l * 8 + 8]) {
                            *a = if x > *a { x } else { *a };
                        }
                    }
                    let rejected = if ascending {
                        acc.iter().all(|&a| a <= bar)
                    } else {
                        acc.iter().all(|&a| a < bar)
                    };
                    if rejected {
                        continue;
                    }
                }
            }
            for (o, &s) in chunk.iter().enumerate() {
                // `s < bar` settles most scores with one comparison (false when either is NaN).
                if s < bar {
                    continue;
                }
                let i = index(o);
                let key = sel_key(i, s);
                if self.threshold.is_some_and(|t| key <= t) || skip(i) {
                    continue;
                }
                self.buf.push(key);
                self.nth = None;
                if self.buf.len() >= cap {
                    self.buf.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                    self.buf.truncate(k);
                    self.threshold = self.buf.last().copied();
                    self.dropped = true;
                    bar = self.threshold.map_or(f32::NAN, key_score);
                }
            }
        }
    }

    /// True when at least `n` of the candidates held score strictly above `bar`, give or
    /// take: a score within one f32 step above `bar` may not count (NaN never does). The
    /// `n`-th best key is cached until a candidate enters, so that the check costs nothing for
    /// a query whose candidates did not change (the batch scorer asks after every tile).
    fn beaten_by(&mut self, n: usize, bar: f64) -> bool {
        let b = f32_at_least(bar);
        if n == 0 || b.is_nan() || b == f32::INFINITY {
            return false;
        }
        let nth = match self.nth {
            Some(k) => k,
            None => {
                let k = if self.buf.len() >= n {
                    self.buf.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
                    self.buf.get(n - 1).copied()
                } else {
                    None
                };
                self.nth = Some(k);
                k
            }
        };
        // A score `> b` (so `> bar`) is a key above the best key of score `b`.
        let top = (u64::from(score_ord(b)) << 32) | u64::from(u32::MAX);
        nth.is_some_and(|k| k > top)
    }

    /// The `k` best fed so far, best first.
    fn finish(&mut self, k: usize) -> &[(u32, f32)] {
        if self.buf.len() > k {
            self.buf.select_nth_unstable_by(k.max(1) - 1, |a, b| b.cmp(a));
            self.buf.truncate(k);
            self.dropped = true;
        }
        self.buf.sort_unstable_by(|a, b| b.cmp(a));
        self.out.clear();
        self.out.extend(self.buf.iter().map(|&key| (key_index(key), key_score(key))));
        &self.out
    }
}

/// Per-thread buffers of the batch scorer.
#[derive(Default)]
struct Scratch {
    /// `tile × block` scores, column-major (one contiguous column per query).
    scores: Vec<f32>,
    /// `rank` factors per active query of the group, in the order of `active`.
    queries: Vec<f32>,
    /// Group-local positions of the queries still being scored, in the order of `queries`.
    active: Vec<u32>,
    /// `‖x‖` of each query of the group (f64; when pruning).
    norms: Vec<f64>,
    /// The rounding margin of each query of the group (see [`Order::margin`]; when pruning).
    margins: Vec<f64>,
    /// Per query of the group, a 256-bit hash sketch of its excluded targets: a target
    /// whose bit is clear is not excluded (no binary search needed).
    seen_sketch: Vec<[u64; 4]>,
    /// One streaming selection per query of the group.
    sel: Vec<Selector>,
    /// (query, target) scores computed so far (a measure of what pruning saves).
    scored: u64,
    /// Queries ranked target by target because of near-ties at the margin.
    crowded: u64,
}

/// Below this many queries the batch scorer visits targets in view order without pruning:
/// sorting the targets by norm costs about as much as scoring a few dozen queries.
const PRUNE_MIN_QUERIES: usize = 64;

/// Queries per task of the pruning batch scorer, scored [`BLOCK`] at a time: as queries stop,
/// those still active in the group are packed together, so that the products stay
/// [`BLOCK`] wide for longer.
const GROUP: usize = 4096;

/// How the batch scorer cuts its work (the constants above; tests use small ones).
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Targets per tile.
    tile: usize,
    /// Queries per matrix product.
    block: usize,
    /// Queries per task when pruning (without pruning a task scores one block).
    group: usize,
    /// Prune from this many queries on.
    prune_min: usize,
}

const SHAPE: Shape = Shape { tile: TILE, block: BLOCK, group: GROUP, prune_min: PRUNE_MIN_QUERIES };

/// The targets of the view in the order the batch scorer visits them.
///
/// When pruning, targets are visited by decreasing norm `‖y‖`, so that after scoring the
/// first `p` of them, `‖x‖·‖y_p‖ + max_{p' ≥ p} b_{p'}` bounds the score of every target not
/// yet scored (Cauchy–Schwarz). A query stops as soon as `N` of the eligible targets it has
/// seen beat that bound by more than the f32 rounding margin: the targets left can then
/// neither enter its top `N` nor tie with it (an *exact* norm-bound pruning, as in LEMP or
/// FEXIPRO's length-based pruning).
struct Order<'a> {
    /// Targets per tile.
    tile: usize,
    /// View position of each visiting position; `None` when targets are visited in view order.
    perm: Option<Vec<u32>>,
    /// Factors in visiting order: row-major in view order, or tile by tile column-major
    /// (`tl × rank`) when pruning.
    factors: std::borrow::Cow<'a, [f32]>,
    /// Target biases in visiting order (f32, as added to the f32 scores).
    bias: Option<Vec<f32>>,
    /// When pruning: `rest_norm[p]` bounds `‖y‖` of every target at visiting position `≥ p`.
    rest_norm: Vec<f64>,
    /// When pruning with biases: `rest_bias[p]` bounds the bias of those targets.
    rest_bias: Vec<f64>,
    /// Largest target norm and largest `|bias|` (the scale of the rounding margin).
    norm_max: f64,
    bias_abs_max: f64,
}

/// `‖v‖` accumulated in f64; NaN reads as +∞ (so that it never allows a stop).
fn norm64(v: &[f32]) -> f64 {
    let n = dot64(v, v).sqrt();
    if n.is_nan() { f64::INFINITY } else { n }
}

impl<'a> Order<'a> {
    fn new(target: &'a Side<'_>, view: &View<'_>, tile: usize, prune: bool) -> Order<'a> {
        let vlen = view.len();
        let rank = target.factors.rank();
        let tile = tile.max(1);
        let bias_of = |v: u32| target.bias(view.orig(v)) as f32;
        if !prune {
            // View order: the factors are the model's own unless a candidate subset is given.
            let factors = if view.candidates.is_some() {
                let mut g = Vec::with_capacity(vlen * rank);
                for v in 0..vlen as u32 {
                    g.extend_from_slice(target.factors.row(view.orig(v) as usize));
                }
                std::borrow::Cow::Owned(g)
            } else {
                std::borrow::Cow::Borrowed(target.factors.as_slice())
            };
            let bias = target.bias.map(|_| (0..vlen as u32).map(bias_of).collect());
            return Order {
                tile,
                perm: None,
                factors,
                bias,
                rest_norm: Vec::new(),
                rest_bias: Vec::new(),
                norm_max: 0.0,
                bias_abs_max: 0.0,
            };
        }
        let norms: Vec<f64> =
            (0..vlen as u32).map(|v| norm64(target.factors.row(view.orig(v) as usize))).collect();
        let mut perm: Vec<u32> = (0..vlen as u32).collect();
        perm.sort_unstable_by(|&a, &b| {
            let (na, nb) = (norms[a as usize], norms[b as usize]);
            nb.total_cmp(&na).then(a.cmp(&b))
        });
        // Each tile column-major (`tl × rank`): the product reads it without repacking.
        let mut factors = vec![0.0f32; vlen * rank];
        for (t0, dst) in (0..vlen).step_by(tile).zip(factors.chunks_mut((tile * rank).max(1))) {
            let tl = tile.min(vlen - t0);
            for (r, &v) in perm[t0..t0 + tl].iter().enumerate() {
                let y = target.factors.row(view.orig(v) as usize);
                for (f, &x) in y.iter().enumerate() {
                    dst[f * tl + r] = x;
                }
            }
        }
        let bias: Option<Vec<f32>> =
            target.bias.map(|_| perm.iter().map(|&v| bias_of(v)).collect());
        // Suffix maxima (the norms are sorted already; the maximum keeps this robust).
        let mut rest_norm = vec![0.0f64; vlen + 1];
        for p in (0..vlen).rev() {
            rest_norm[p] = rest_norm[p + 1].max(norms[perm[p] as usize]);
        }
        let mut rest_bias = Vec::new();
        let mut bias_abs_max = 0.0f64;
        if let Some(b) = &bias {
            rest_bias = vec![f64::NEG_INFINITY; vlen + 1];
            for p in (0..vlen).rev() {
                let x = f64::from(b[p]);
                let x = if x.is_nan() { f64::INFINITY } else { x };
                rest_bias[p] = rest_bias[p + 1].max(x);
                bias_abs_max = bias_abs_max.max(x.abs());
            }
        }
        let norm_max = rest_norm[0];
        Order {
            tile,
            perm: Some(perm),
            factors: std::borrow::Cow::Owned(factors),
            bias,
            rest_norm,
            rest_bias,
            norm_max,
            bias_abs_max,
        }
    }

    /// A bound on the f32 rounding of a query's scores (norm `qn`, constant `q_const`): the
    /// error of an f32 dot product of length `rank` plus the bias, `≤ (rank+2)·2⁻²⁴·scale` with
    /// `scale = ‖x‖·max‖y‖ + max|b| + |q_const|`, plus two f32 ulps of the final score, so
    /// that scores separated by the margin stay strictly ordered once rounded to f32. Taken
    /// four times over. Infinite (nothing is pruned) when the scale is not finite or so large
    /// that an f32 sum could overflow.
    fn margin(&self, qn: f64, q_const: f64, rank: usize) -> f64 {
        let scale = qn * self.norm_max + self.bias_abs_max + q_const.abs();
        // Beyond 1e30 (or NaN) an f32 partial sum might overflow: no bound, no pruning.
        if scale.is_nan() || scale > 1e30 {
            return f64::INFINITY;
        }
        scale * (rank as f64 + 4.0) * f64::powi(2.0, -22)
    }

    /// The bound on the exact score (without the query constant) of every target at visiting
    /// position `≥ p` for a query of norm `qn`.
    fn rest_bound(&self, p: usize, qn: f64) -> f64 {
        let n = self.rest_norm.get(p).copied().unwrap_or(f64::INFINITY);
        let b = if self.bias.is_some() {
            self.rest_bias.get(p).copied().unwrap_or(f64::INFINITY)
        } else {
            0.0
        };
        qn * n + b
    }
}

/// The bit of target `t` in a query's excluded-target sketch (a multiplicative hash, 0..256).
fn sketch_bit(t: u32) -> usize {
    (t.wrapping_mul(0x9e37_79b9) >> 24) as usize
}

/// One batch ranking: everything a task needs to score a group of queries.
struct Batch<'a> {
    query: &'a Side<'a>,
    target: &'a Side<'a>,
    /// The global bias μ (0 without biases).
    global: f64,
    view: View<'a>,
    order: Order<'a>,
    /// Each query's excluded (seen) targets, sorted rows; `None` when nothing is excluded.
    exclude: Option<&'a Csr>,
    opts: &'a RecommendOptions<'a>,
    /// Candidates kept per query for exact rescoring.
    kk: usize,
    /// Queries per matrix product.
    block: usize,
}

/// Batch top-N: `queries` are query-side indices; targets ranked for each; `exclude` holds
/// each query's seen targets (sorted rows).
fn batch(
    query: &Side<'_>,
    target: &Side<'_>,
    global: f64,
    queries: &[u32],
    exclude: Option<&Csr>,
    opts: &RecommendOptions<'_>,
    sink: &mut dyn FnMut(u32, Recommendations) -> Result<()>,
) -> Result<()> {
    batch_shaped(query, target, global, queries, exclude, opts, SHAPE, sink)
}

/// [`batch`] with the work cut by `shape`.
#[allow(clippy::too_many_arguments)]
fn batch_shaped(
    query: &Side<'_>,
    target: &Side<'_>,
    global: f64,
    queries: &[u32],
    exclude: Option<&Csr>,
    opts: &RecommendOptions<'_>,
    shape: Shape,
    sink: &mut dyn FnMut(u32, Recommendations) -> Result<()>,
) -> Result<()> {
    check_n(opts.n)?;
    let n_query = query.factors.rows();
    if let Some(&bad) = queries.iter().find(|&&q| q as usize >= n_query) {
        return Err(Error::Invalid(format!("index {bad} is out of range")));
    }
    let view = View::new(target.factors.rows(), opts);
    let vlen = view.len();
    let prune = queries.len() >= shape.prune_min;
    let order = Order::new(target, &view, shape.tile, prune);
    let b = Batch {
        query,
        target,
        global,
        view,
        order,
        exclude: exclude.filter(|_| !opts.include_seen),
        opts,
        kk: opts.n.saturating_add(16 + opts.n / 4).min(vlen),
        block: shape.block.max(1),
    };
    let threads = rayon::current_num_threads().max(1);
    let pool: Vec<Mutex<Scratch>> = (0..threads).map(|_| Mutex::new(Scratch::default())).collect();
    let run = |g: &[u32]| {
        let slot = rayon::current_thread_index().unwrap_or(0) % pool.len();
        let mut guard = match pool[slot].lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        b.score_group(g, &mut guard)
    };
    let group = if prune { shape.group.max(1) } else { b.block };
    if queries.len() <= group || rayon::current_thread_index().is_some() {
        // One group, or called from inside the pool (where the stream below would block a
        // worker): parts scored in parallel, each handed to `sink` once complete.
        for part in queries.chunks(group * 4 * threads) {
            let results: Vec<Vec<Recommendations>> = part.par_chunks(group).map(run).collect();
            for (q, r) in part.iter().zip(results.into_iter().flatten()) {
                sink(*q, r)?;
            }
        }
        return Ok(());
    }
    // Groups are scored by tasks of the pool while this thread hands the finished ones to
    // `sink` in input order, so that writing the output overlaps the scoring.
    let groups: Vec<&[u32]> = queries.chunks(group).collect();
    let cancel = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<Recommendations>)>();
    let mut result = Ok(());
    rayon::in_place_scope(|scope| {
        for (gi, &g) in groups.iter().enumerate() {
            let (tx, run, cancel) = (tx.clone(), &run, &cancel);
            scope.spawn(move |_| {
                let r = if cancel.load(AtomicOrdering::Relaxed) { Vec::new() } else { run(g) };
                let _ = tx.send((gi, r));
            });
        }
        drop(tx);
        let mut held = std::collections::BTreeMap::new();
        let mut next = 0usize;
        for (gi, r) in rx.iter() {
            held.insert(gi, r);
            while let Some(r) = held.remove(&next) {
                if result.is_ok() {
                    let g = groups.get(next).copied().unwrap_or(&[]);
                    for (q, rec) in g.iter().zip(r) {
                        if let Err(e) = sink(*q, rec) {
                            result = Err(e);
                            cancel.store(true, AtomicOrdering::Relaxed);
                            break;
                        }
                    }
                }
                next += 1;
            }
        }
    });
    result
}

impl Batch<'_> {
    /// Ranks the targets for one group of queries (see [`batch`] and [`Order`]).
    fn score_group(&self, group: &[u32], s: &mut Scratch) -> Vec<Recommendations> {
        let (order, view, opts, kk) = (&self.order, &self.view, self.opts, self.kk);
        let rank = self.query.factors.rank();
        let vlen = view.len();
        let b = group.len();
        let seen_of = |q: u32| self.exclude.map_or(&[][..], |m| m.row(q as usize).0);
        s.queries.clear();
        s.norms.clear();
        s.margins.clear();
        s.seen_sketch.clear();
        for &q in group {
            let mut sketch = [0u64; 4];
            for &t in seen_of(q) {
                let h = sketch_bit(t);
                sketch[h >> 6] |= 1 << (h & 63);
            }
            s.seen_sketch.push(sketch);
            let x = self.query.factors.row(q as usize);
            s.queries.extend_from_slice(x);
            if order.perm.is_some() {
                let qn = norm64(x);
                s.norms.push(qn);
                s.margins.push(order.margin(qn, self.global + self.query.bias(q), rank));
            }
        }
        s.active.clear();
        s.active.extend(0..b as u32);
        if s.sel.len() < b {
            s.sel.resize_with(b, Selector::default);
        }
        for sel in &mut s.sel[..b] {
            sel.reset();
        }
        s.scores.resize(order.tile * self.block.min(b), 0.0);
        let mut t0 = 0;
        while t0 < vlen && !s.active.is_empty() {
            let na = s.active.len();
            let tl = order.tile.min(vlen - t0);
            let rest = t0 + tl;
            let tile = &order.factors[t0 * rank..rest * rank];
            let lhs = if order.perm.is_some() {
                MatRef::from_column_major_slice(tile, tl, rank)
            } else {
                MatRef::from_row_major_slice(tile, tl, rank)
            };
            s.scored += (tl * na) as u64;
            // Active queries are compacted in place: position `keep ≤ a` is rewritten only
            // after the product that read it.
            let mut keep = 0usize;
            for a0 in (0..na).step_by(self.block) {
                let nb = self.block.min(na - a0);
                {
                    let rhs = MatRef::from_column_major_slice(
                        &s.queries[a0 * rank..(a0 + nb) * rank],
                        rank,
                        nb,
                    );
                    let dst = MatMut::from_column_major_slice_mut(&mut s.scores[..tl * nb], tl, nb);
                    faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, Par::Seq);
                }
                for a in a0..a0 + nb {
                    let j = s.active[a] as usize;
                    let Some(&q) = group.get(j) else { continue };
                    let col = &mut s.scores[(a - a0) * tl..(a - a0 + 1) * tl];
                    if let Some(vb) = &order.bias {
                        for (c, &bb) in col.iter_mut().zip(&vb[t0..rest]) {
                            *c += bb;
                        }
                    }
                    let seen = seen_of(q);
                    let sketch = s.seen_sketch.get(j).copied().unwrap_or([u64::MAX; 4]);
                    let skip = |v: u32| {
                        let t = view.orig(v);
                        let h = sketch_bit(t);
                        view.filtered(t)
                            || (sketch[h >> 6] & (1 << (h & 63)) != 0
                                && seen.binary_search(&t).is_ok())
                    };
                    let Some(sel) = s.sel.get_mut(j) else { continue };
                    let stop = match &order.perm {
                        None => {
                            sel.feed(col, t0 as u32, kk, &skip);
                            false
                        }
                        Some(perm) => {
                            sel.feed_indexed(col, &perm[t0..rest], kk, &skip);
                            rest < vlen && {
                                let qn = s.norms.get(j).copied().unwrap_or(f64::INFINITY);
                                let margin = s.margins.get(j).copied().unwrap_or(f64::INFINITY);
                                let bar = order.rest_bound(rest, qn) + margin;
                                sel.beaten_by(opts.n, bar)
                            }
                        }
                    };
                    if !stop {
                        s.active[keep] = j as u32;
                        if keep != a {
                            s.queries.copy_within(a * rank..(a + 1) * rank, keep * rank);
                        }
                        keep += 1;
                    }
                }
            }
            s.active.truncate(keep);
            t0 = rest;
        }
        let mut out = Vec::with_capacity(b);
        for (j, &q) in group.iter().enumerate() {
            let seen = seen_of(q);
            let Some(sel) = s.sel.get_mut(j) else { continue };
            sel.finish(kk);
            let (cand, dropped) = (&sel.out[..], sel.dropped);
            let qv = self.query.factors.row(q as usize);
            let q_const = self.global + self.query.bias(q);
            // When pruning, a candidate whose f32 score is below the N-th best by more than
            // the margin cannot reach the top N (see [`Order::margin`]): it is not rescored.
            // NaN scores always are.
            let low = match (&order.perm, cand.get(opts.n.saturating_sub(1))) {
                (Some(_), Some(&(_, nth))) => {
                    f64::from(nth) - s.margins.get(j).copied().unwrap_or(f64::INFINITY)
                }
                _ => f64::NEG_INFINITY,
            };
            let low = if low.is_nan() { f64::NEG_INFINITY } else { low };
            // The candidates dropped scored at most the last one kept: when that one is not
            // below `low`, a dropped one might belong to the top N (a crowd of near-ties
            // around the N-th score). Then this query is ranked exactly, target by target,
            // so that a pruned result is always the exact one.
            let crowded = order.perm.is_some()
                && dropped
                && !cand.last().is_some_and(|&(_, last)| f64::from(last) < low);
            if crowded {
                s.crowded += 1;
                out.push(rank_one(qv, q_const, self.target, view, seen, opts.n, None));
                continue;
            }
            let mut items: Vec<(u32, f32)> = cand
                .iter()
                .filter(|p| p.1.is_nan() || f64::from(p.1) >= low)
                .map(|&(v, _)| {
                    let t = view.orig(v);
                    (t, exact(qv, q_const, self.target, t))
                })
                .collect();
            items.sort_unstable_by(better);
            items.truncate(opts.n);
            out.push(Recommendations { items, eligible: view.eligible(seen) });
        }
        out
    }
}

/// Top-N items for each user index in `users`, in order (Spark's `recommendForAllUsers` with
/// `users = 0..n_users`, `recommendForUserSubset` otherwise), calling `sink(user, list)` in
/// input order. Scores in blocks of [`BLOCK`] users with an f32 matrix product, multithreaded;
/// deterministic at any thread count; same results as [`recommend_user`] (see the module docs).
pub fn recommend_batch(
    model: &Model,
    users: &[u32],
    opts: &RecommendOptions<'_>,
    mut sink: impl FnMut(u32, Recommendations) -> Result<()>,
) -> Result<()> {
    check_model(model)?;
    let (q, t, global) = sides(model, true);
    batch(&q, &t, global, users, Some(&model.seen), opts, &mut sink)
}

/// Top-N users for each item index in `items` (Spark's `recommendForAllItems` /
/// `recommendForItemSubset`): users ranked by `x_uᵀ y_i (+ μ + b_u + b_i)`. Unless
/// `include_seen`, users who interacted with the item in training are excluded; `filter` and
/// `candidates` are sets of user indices. Calls `sink(item, list)` in input order.
pub fn recommend_users_batch(
    model: &Model,
    items: &[u32],
    opts: &RecommendOptions<'_>,
    mut sink: impl FnMut(u32, Recommendations) -> Result<()>,
) -> Result<()> {
    check_model(model)?;
    let (q, t, global) = sides(model, false);
    let seen_t = if opts.include_seen { None } else { Some(model.seen.transpose()) };
    batch(&q, &t, global, items, seen_t.as_ref(), opts, &mut sink)
}

/// Reads a list of ids: one per line, or the first field of each line (comma, tab, `;`, `|`
/// or whitespace separated, CSV quoting understood). Blank lines and lines starting with `#`
/// are skipped. Latin-1 bytes are accepted.
pub fn read_id_list(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&c| c as char).collect(),
    };
    let mut out = Vec::new();
    let mut delim: Option<Delimiter> = None;
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let d = *delim.get_or_insert_with(|| detect_delimiter(line));
        if let Some(f) = split_fields(line, d).into_iter().next() {
            let f = f.trim();
            if !f.is_empty() {
                out.push(f.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdMap;
    use crate::model::Biases;
    use crate::params::AlsParams;
    use crate::sparse::Duplicates;
    use proptest::prelude::*;

    pub(crate) fn model(
        nu: usize,
        ni: usize,
        rank: usize,
        uf: Vec<f32>,
        itf: Vec<f32>,
        seen: &[(u32, u32)],
    ) -> Model {
        let rows: Vec<u32> = seen.iter().map(|p| p.0).collect();
        let cols: Vec<u32> = seen.iter().map(|p| p.1).collect();
        let vals = vec![1.0f32; seen.len()];
        Model {
            params: AlsParams { rank, ..AlsParams::default() },
            users: (0..nu).map(|u| format!("u{u}")).collect::<IdMap>(),
            items: (0..ni).map(|i| format!("i{i}")).collect::<IdMap>(),
            user_factors: Factors::from_vec(nu, rank, uf).unwrap(),
            item_factors: Factors::from_vec(ni, rank, itf).unwrap(),
            biases: None,
            clip_predictions: false,
            seen: Csr::from_triplets(nu, ni, &rows, &cols, &vals, Duplicates::Keep),
            summary: Default::default(),
        }
    }

    fn naive(m: &Model, u: u32, opts: &RecommendOptions<'_>) -> Recommendations {
        let seen = m.seen.row(u as usize).0;
        let mut all: Vec<(u32, f32)> = (0..m.items.len() as u32)
            .filter(|&i| opts.include_seen || !seen.contains(&i))
            .filter(|&i| opts.filter.is_none_or(|f| !f.contains(i)))
            .filter(|&i| opts.candidates.is_none_or(|c| c.contains(i)))
            .map(|i| (i, score(m, u, i).unwrap()))
            .collect();
        all.sort_by(better);
        let eligible = all.len();
        all.truncate(opts.n);
        Recommendations { items: all, eligible }
    }

    #[test]
    fn excludes_seen_and_filter_and_returns_exactly_n() {
        // 1 user, 5 items, rank 1: scores = item factor.
        let m = model(1, 5, 1, vec![1.0], vec![5.0, 4.0, 3.0, 2.0, 1.0], &[(0, 0)]);
        let filter = IndexSet::from_indices(5, [1]);
        let opts =
            RecommendOptions { n: 2, include_seen: false, filter: Some(&filter), candidates: None };
        let r = recommend_user(&m, 0, &opts).unwrap();
        assert_eq!(r.items, vec![(2, 3.0), (3, 2.0)]);
        assert_eq!(r.eligible, 3);
        let opts = RecommendOptions { n: 10, ..opts };
        let r = recommend_user(&m, 0, &opts).unwrap();
        assert_eq!(r.items.len(), 3);
        assert!(r.items.iter().all(|p| p.1.is_finite()));
        let r = recommend_user(
            &m,
            0,
            &RecommendOptions { include_seen: true, ..RecommendOptions::top(1) },
        )
        .unwrap();
        assert_eq!(r.items, vec![(0, 5.0)]);
        let cand = IndexSet::from_indices(5, [0, 3, 4]);
        let opts =
            RecommendOptions { n: 5, include_seen: false, filter: None, candidates: Some(&cand) };
        let r = recommend_user(&m, 0, &opts).unwrap();
        assert_eq!(r.items, vec![(3, 2.0), (4, 1.0)]);
        assert_eq!(r.eligible, 2);
        assert!(recommend_user(&m, 0, &RecommendOptions::top(0)).is_err());
        assert!(recommend_user(&m, 7, &RecommendOptions::top(1)).is_err());
    }

    #[test]
    fn biases_enter_the_ranking() {
        let mut m = model(1, 3, 1, vec![1.0], vec![1.0, 1.0, 1.0], &[]);
        m.biases = Some(Biases { global: 3.0, user: vec![0.5], item: vec![0.0, 0.25, -1.0] });
        let r = recommend_user(&m, 0, &RecommendOptions::top(3)).unwrap();
        assert_eq!(r.items, vec![(1, 4.75), (0, 4.5), (2, 3.5)]);
        let mut got = Vec::new();
        recommend_batch(&m, &[0], &RecommendOptions::top(3), |_, r| {
            got.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(got[0], r);
    }

    #[test]
    fn popular_counts_interactions() {
        let m = model(
            3,
            4,
            1,
            vec![0.0; 3],
            vec![0.0; 4],
            &[(0, 2), (1, 2), (2, 2), (0, 1), (1, 1), (2, 3)],
        );
        let r = popular_items(&m, &RecommendOptions::top(3)).unwrap();
        assert_eq!(r.items, vec![(2, 3.0), (1, 2.0), (3, 1.0)]);
        assert_eq!(r.eligible, 4);
    }

    #[test]
    fn similar_cosine_in_range_and_zero_norm() {
        // items: (1,0), (2,0), (0,1), (0,0), (-1,0)
        let m = model(
            1,
            5,
            2,
            vec![1.0, 0.0],
            vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0],
            &[],
        );
        let r = similar(&m, Entity::Item, 0, false, &RecommendOptions::top(10)).unwrap();
        assert_eq!(r.items, vec![(1, 1.0), (2, 0.0), (3, 0.0), (4, -1.0)]);
        assert_eq!(r.eligible, 4);
        let r = similar(&m, Entity::Item, 0, true, &RecommendOptions::top(2)).unwrap();
        assert_eq!(r.items, vec![(0, 1.0), (1, 1.0)]);
        let r = similar(&m, Entity::Item, 3, false, &RecommendOptions::top(10)).unwrap();
        assert!(r.items.iter().all(|p| p.1 == 0.0));
    }

    #[test]
    fn fold_in_vector_excludes_given_items() {
        let m = model(1, 4, 1, vec![1.0], vec![4.0, 3.0, 2.0, 1.0], &[]);
        let r =
            recommend_for_factors(&m, &[1.0], None, &[1, 0], &RecommendOptions::top(2)).unwrap();
        assert_eq!(r.items, vec![(2, 2.0), (3, 1.0)]);
        assert!(
            recommend_for_factors(&m, &[1.0, 2.0], None, &[], &RecommendOptions::top(2)).is_err()
        );
    }

    #[test]
    fn index_set_basics() {
        let s = IndexSet::from_indices(100, [5, 70, 5, 200]);
        assert_eq!(s.members(), &[5, 70]);
        assert!(s.contains(70) && !s.contains(6) && !s.contains(200));
    }

    #[test]
    fn batch_spanning_several_tiles_equals_per_user() {
        // 300 users (two blocks) × 2600 items (three tiles), rank 3, pseudo-random factors
        // with many exact ties (multiples of 1/4), some seen items and a filter.
        let (nu, ni, k) = (300usize, 2600usize, 3usize);
        let mut x = 7u64;
        let mut r = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 33) % 9) as f32 / 4.0 - 1.0
        };
        let uf: Vec<f32> = (0..nu * k).map(|_| r()).collect();
        let itf: Vec<f32> = (0..ni * k).map(|_| r()).collect();
        let seen: Vec<(u32, u32)> =
            (0..nu as u32).flat_map(|u| [(u, (u * 7) % ni as u32), (u, 2000 + u)]).collect();
        let m = model(nu, ni, k, uf, itf, &seen);
        let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 11 == 0));
        let opts = RecommendOptions {
            n: 25,
            include_seen: false,
            filter: Some(&filter),
            candidates: None,
        };
        let users: Vec<u32> = (0..nu as u32).rev().collect();
        let mut got = Vec::new();
        recommend_batch(&m, &users, &opts, |u, r| {
            got.push((u, r));
            Ok(())
        })
        .unwrap();
        assert_eq!(got.len(), nu);
        for (u, r) in got {
            assert_eq!(r, naive(&m, u, &opts), "user {u}");
        }
    }

    proptest! {
        #[test]
        fn streaming_selector_equals_top_k(
            scores in proptest::collection::vec(prop_oneof![
                (-3i32..3).prop_map(|x| x as f32),
                -3f32..3.0,
                Just(f32::NAN),
            ], 0..700),
            k in 0usize..50,
            skip_mod in 1u32..5,
            piece in 1usize..300,
        ) {
            let skip = |i: u32| skip_mod > 1 && i % skip_mod == 0;
            let mut sel = Selector::default();
            sel.reset();
            for (p, part) in scores.chunks(piece).enumerate() {
                sel.feed(part, (p * piece) as u32, k, &skip);
            }
            let a = sel.finish(k).to_vec();
            let b = crate::topk::top_k(&scores, k, skip);
            prop_assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                prop_assert!(x.0 == y.0 && (x.1 == y.1 || (x.1.is_nan() && y.1.is_nan())));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn batch_equals_naive_full_sort(
            nu in 1usize..40, ni in 1usize..60, rank in 1usize..5,
            seed in proptest::collection::vec(-3i32..4, 0..1000),
            n in 1usize..12, include_seen: bool, use_filter: bool, use_cand: bool,
        ) {
            // Small integers: every score is exact in f32, so ties are real ties.
            let v = |k: usize| seed.get(k % seed.len().max(1)).copied().unwrap_or(1) as f32;
            let uf: Vec<f32> = (0..nu * rank).map(|k| v(k * 7 + 1)).collect();
            let itf: Vec<f32> = (0..ni * rank).map(|k| v(k * 13 + 5)).collect();
            let seen: Vec<(u32, u32)> = (0..nu * 2).map(|k| ((k % nu) as u32, ((k * 31 + 3) % ni) as u32)).collect();
            let m = model(nu, ni, rank, uf, itf, &seen);
            let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 5 == 1));
            let cand = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 3 != 0));
            let opts = RecommendOptions {
                n, include_seen,
                filter: use_filter.then_some(&filter),
                candidates: use_cand.then_some(&cand),
            };
            let users: Vec<u32> = (0..nu as u32).collect();
            let mut got = Vec::new();
            recommend_batch(&m, &users, &opts, |u, r| { got.push((u, r)); Ok(()) }).unwrap();
            prop_assert_eq!(got.len(), nu);
            for (u, r) in got {
                let want = naive(&m, u, &opts);
                prop_assert_eq!(&r, &want);
                prop_assert_eq!(&recommend_user(&m, u, &opts).unwrap(), &want);
            }
        }
    }

    /// A model with `nu` users, `ni` items and rank `k` whose item norms spread over a wide
    /// range (so that pruning has something to prune). `exact_values`: small multiples of
    /// powers of two, so that every score is exact in f32 and ties are real ties.
    fn spread_model(
        nu: usize,
        ni: usize,
        k: usize,
        seed: u64,
        exact_values: bool,
        biases: bool,
    ) -> Model {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x >> 11
        };
        let mut val = |scale: f32| -> f32 {
            let r = next();
            if exact_values {
                ((r % 7) as f32 - 3.0) * scale
            } else {
                ((r % 1_000_000) as f32 / 500_000.0 - 1.0) * scale
            }
        };
        let uf: Vec<f32> = (0..nu * k).map(|_| val(1.0)).collect();
        let mut itf = Vec::with_capacity(ni * k);
        for i in 0..ni {
            let scale = [4.0, 2.0, 1.0, 0.5, 0.25, 0.125][(i * 7 + 3) % 6];
            for _ in 0..k {
                itf.push(val(scale));
            }
        }
        let seen: Vec<(u32, u32)> = (0..nu as u32)
            .flat_map(|u| (0..ni as u32).map(move |i| (u, i)))
            .filter(|&(u, i)| (u * 31 + i * 17) % 5 == 0)
            .collect();
        let mut m = model(nu, ni, k, uf, itf, &seen);
        if biases {
            m.biases = Some(Biases {
                global: val(1.0),
                user: (0..nu).map(|_| val(0.5)).collect(),
                item: (0..ni).map(|_| val(0.5)).collect(),
            });
        }
        m
    }

    /// [`batch_shaped`] for users, collected.
    fn run_shaped(
        m: &Model,
        users: &[u32],
        opts: &RecommendOptions<'_>,
        shape: Shape,
    ) -> Result<Vec<(u32, Recommendations)>> {
        let (q, t, global) = sides(m, true);
        let mut got = Vec::new();
        batch_shaped(&q, &t, global, users, Some(&m.seen), opts, shape, &mut |u, r| {
            got.push((u, r));
            Ok(())
        })?;
        Ok(got)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn pruned_batch_equals_per_user(
            nu in 1usize..40, ni in 1usize..70, k in 1usize..6, seed: u64,
            exact_values: bool, biases: bool,
            n in 1usize..14, include_seen: bool, use_filter: bool, use_cand: bool,
            tile in 1usize..9, block in 1usize..6, group in 1usize..12,
        ) {
            let m = spread_model(nu, ni, k, seed, exact_values, biases);
            let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 5 == 1));
            let cand = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 3 != 0));
            let opts = RecommendOptions {
                n, include_seen,
                filter: use_filter.then_some(&filter),
                candidates: use_cand.then_some(&cand),
            };
            let users: Vec<u32> = (0..nu as u32).rev().collect();
            let pruned = Shape { tile, block, group, prune_min: 0 };
            let plain = Shape { prune_min: usize::MAX, ..pruned };
            let got = run_shaped(&m, &users, &opts, pruned).unwrap();
            let unpruned = run_shaped(&m, &users, &opts, plain).unwrap();
            prop_assert_eq!(got.len(), nu);
            for ((u, r), (u2, r2)) in got.iter().zip(&unpruned) {
                prop_assert_eq!(u, u2);
                let want = recommend_user(&m, *u, &opts).unwrap();
                prop_assert_eq!(r, &want, "user {}", u);
                prop_assert_eq!(r2, &want, "user {} (unpruned)", u);
                prop_assert_eq!(&naive(&m, *u, &opts), &want);
            }
        }
    }

    #[test]
    fn pruning_skips_low_norm_items_and_stays_exact() {
        // Item norms decay geometrically: a user's top 5 are among the first items visited.
        let (nu, ni, k) = (50usize, 400usize, 4usize);
        let mut m = spread_model(nu, ni, k, 99, false, false);
        for i in 0..ni {
            let scale = 0.97f32.powi(i as i32);
            for f in m.item_factors.row_mut(i) {
                *f *= scale;
            }
        }
        let opts = RecommendOptions::top(5);
        let (q, t, global) = sides(&m, true);
        let view = View::new(ni, &opts);
        let b = Batch {
            query: &q,
            target: &t,
            global,
            order: Order::new(&t, &view, 16, true),
            view,
            exclude: Some(&m.seen),
            opts: &opts,
            kk: 5 + 16 + 1,
            block: 8,
        };
        let users: Vec<u32> = (0..nu as u32).collect();
        let mut s = Scratch::default();
        let got = b.score_group(&users, &mut s);
        assert!(s.scored < (nu * ni / 4) as u64, "scored {} of {}", s.scored, nu * ni);
        for (u, r) in users.iter().zip(&got) {
            assert_eq!(r, &naive(&m, *u, &opts), "user {u}");
        }
    }

    #[test]
    fn a_crowd_of_ties_at_the_margin_is_ranked_exactly() {
        // 40 items tie for the top (more than the N + 16 + N/4 candidates kept), 60 score less.
        let (nu, ni) = (3usize, 100usize);
        let itf: Vec<f32> = (0..ni).map(|i| if i % 5 < 2 { 2.0 } else { 1.0 }).collect();
        let m = model(nu, ni, 1, vec![1.0, 0.5, 1.0], itf, &[(0, 5), (2, 0)]);
        let opts = RecommendOptions::top(5);
        let (q, t, global) = sides(&m, true);
        let view = View::new(ni, &opts);
        let b = Batch {
            query: &q,
            target: &t,
            global,
            order: Order::new(&t, &view, 8, true),
            view,
            exclude: Some(&m.seen),
            opts: &opts,
            kk: 5 + 16 + 1,
            block: 2,
        };
        let users: Vec<u32> = (0..nu as u32).collect();
        let mut s = Scratch::default();
        let got = b.score_group(&users, &mut s);
        assert_eq!(s.crowded, nu as u64);
        for (u, r) in users.iter().zip(&got) {
            assert_eq!(r, &naive(&m, *u, &opts), "user {u}");
        }
    }

    #[test]
    fn pruning_with_non_finite_factors_equals_per_user() {
        let mut m = spread_model(12, 40, 2, 3, true, false);
        m.item_factors.row_mut(3)[0] = f32::INFINITY;
        m.item_factors.row_mut(7)[1] = f32::NAN;
        m.item_factors.row_mut(9)[0] = -f32::INFINITY;
        m.user_factors.row_mut(0).fill(0.0);
        m.user_factors.row_mut(1)[0] = f32::INFINITY;
        let opts = RecommendOptions::top(6);
        let users: Vec<u32> = (0..12).collect();
        let shape = Shape { tile: 5, block: 2, group: 3, prune_min: 0 };
        for (u, r) in run_shaped(&m, &users, &opts, shape).unwrap() {
            let want = naive(&m, u, &opts);
            assert_eq!(r.eligible, want.eligible);
            assert_eq!(r.items.len(), want.items.len(), "user {u}");
            for (a, b) in r.items.iter().zip(&want.items) {
                assert!(a.0 == b.0 && (a.1 == b.1 || (a.1.is_nan() && b.1.is_nan())), "user {u}");
            }
        }
    }

    #[test]
    fn streamed_groups_keep_input_order_and_stop_at_a_sink_error() {
        let m = spread_model(50, 30, 3, 5, true, true);
        let opts = RecommendOptions::top(4);
        let users: Vec<u32> = (0..50u32).map(|u| (u * 17) % 50).collect();
        let shape = Shape { tile: 4, block: 3, group: 4, prune_min: 0 };
        let want: Vec<(u32, Recommendations)> =
            users.iter().map(|&u| (u, naive(&m, u, &opts))).collect();
        assert_eq!(run_shaped(&m, &users, &opts, shape).unwrap(), want);
        // From inside a one-thread pool the stream is not used (it would block the worker).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(pool.install(|| run_shaped(&m, &users, &opts, shape)).unwrap(), want);
        let (q, t, global) = sides(&m, true);
        let mut calls = 0;
        let r = batch_shaped(&q, &t, global, &users, Some(&m.seen), &opts, shape, &mut |_, _| {
            calls += 1;
            if calls == 7 { Err(Error::Invalid("stop".into())) } else { Ok(()) }
        });
        assert!(r.is_err());
        assert_eq!(calls, 7);
    }

    #[test]
    fn users_batch_with_pruning_equals_naive() {
        // 600 users: more than one tile of targets and enough queries to prune.
        let (nu, ni) = (600usize, 70usize);
        let m = spread_model(nu, ni, 3, 11, true, true);
        let opts = RecommendOptions::top(7);
        let items: Vec<u32> = (0..ni as u32).collect();
        let mut got = Vec::new();
        recommend_users_batch(&m, &items, &opts, |i, r| {
            got.push((i, r));
            Ok(())
        })
        .unwrap();
        for (i, r) in got {
            let mut all: Vec<(u32, f32)> = (0..nu as u32)
                .filter(|&u| !m.seen.row(u as usize).0.contains(&i))
                .map(|u| (u, score(&m, u, i).unwrap()))
                .collect();
            all.sort_by(better);
            let eligible = all.len();
            all.truncate(opts.n);
            assert_eq!(r, Recommendations { items: all, eligible }, "item {i}");
        }
    }

    fn special_score() -> impl Strategy<Value = f32> {
        prop_oneof![
            (-3i32..3).prop_map(|x| x as f32),
            -3f32..3.0,
            Just(f32::NAN),
            Just(-0.0f32),
            Just(f32::INFINITY),
            Just(f32::NEG_INFINITY),
        ]
    }

    proptest! {
        #[test]
        fn beaten_by_never_counts_a_score_at_or_below_the_bar(
            scores in proptest::collection::vec(special_score(), 0..60),
            bar in prop_oneof![-3f64..3.0, (-3i32..3).prop_map(f64::from), Just(f64::NAN),
                Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(1e300), Just(-1e300)],
            n in 0usize..62,
        ) {
            let mut sel = Selector {
                buf: scores.iter().enumerate().map(|(i, &s)| sel_key(i as u32, s)).collect(),
                ..Selector::default()
            };
            let b = f32_at_least(bar);
            prop_assert!(bar.is_nan() || (!b.is_nan() && f64::from(b) >= bar));
            // Counted: the scores above `b`, all of them above `bar`; only scores within one
            // f32 step above the bar may be missed.
            let counted = scores.iter().filter(|&&s| s > b).count();
            let exact = scores.iter().filter(|&&s| f64::from(s) > bar).count();
            let close = scores.iter().filter(|&&s| f64::from(s) > bar && s <= b).count();
            prop_assert_eq!(counted + close, exact);
            let want = n > 0 && !bar.is_nan() && counted >= n;
            prop_assert_eq!(sel.beaten_by(n, bar), want);
            // Cached, and still right once the candidates have been reordered.
            prop_assert_eq!(sel.beaten_by(n, bar), want);
        }

        #[test]
        fn selection_keys_order_like_better(
            a in (0u32..20, special_score()), b in (0u32..20, special_score()),
        ) {
            let (ka, kb) = (sel_key(a.0, a.1), sel_key(b.0, b.1));
            prop_assert_eq!(ka.cmp(&kb), better(&a, &b).reverse());
            prop_assert_eq!(key_index(ka), a.0);
            let back = key_score(ka);
            prop_assert!(back == a.1 || (back.is_nan() && a.1.is_nan()));
        }

        #[test]
        fn selector_fed_in_any_order_equals_top_k(
            scores in proptest::collection::vec(special_score(), 0..700),
            k in 0usize..50,
            skip_mod in 1u32..5,
            piece in 1usize..300,
            seed: u64,
        ) {
            let skip = |i: u32| skip_mod > 1 && i % skip_mod == 0;
            // A pseudo-random permutation of the indices.
            let mut order: Vec<u32> = (0..scores.len() as u32).collect();
            let mut x = seed | 1;
            for j in (1..order.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                order.swap(j, (x % (j as u64 + 1)) as usize);
            }
            let permuted: Vec<f32> = order.iter().map(|&i| scores[i as usize]).collect();
            let mut sel = Selector::default();
            sel.reset();
            for (p, idx) in order.chunks(piece).enumerate() {
                sel.feed_indexed(&permuted[p * piece..p * piece + idx.len()], idx, k, &skip);
            }
            let a = sel.finish(k).to_vec();
            let b = crate::topk::top_k(&scores, k, skip);
            prop_assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                prop_assert!(x.0 == y.0 && (x.1 == y.1 || (x.1.is_nan() && y.1.is_nan())));
            }
        }
    }
}
