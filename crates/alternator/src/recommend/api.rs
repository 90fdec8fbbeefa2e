//! The recommendation methods of [`Model`], in the user's own ids.

use serde::Serialize;

use super::batch::{recommend_one, run_batch};
use super::similar::similar;
use super::{IndexSet, RecommendOptions, ScoredIndices, check_index};
use crate::error::{IdKind, Result};
use crate::model::Model;

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The item id.
    pub item: String,
    /// Its score: the predicted rating or preference (cosine similarity for similar items).
    pub score: f32,
}

/// One user, for the item side (users for an item, similar users).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserScore {
    /// The user id.
    pub user: String,
    /// The score (cosine similarity for similar users).
    pub score: f32,
}

/// A ranked list, best first, and how many targets were eligible: after the candidate subset,
/// the filter and the query's own training interactions, `results.len() == min(n, eligible)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked<T> {
    /// The results, best first.
    pub results: Vec<T>,
    /// How many targets could have been returned.
    pub eligible: usize,
}

impl Model {
    /// The training interactions of user `user`: their items with the values the model was
    /// trained on (ratings or counts, duplicates combined) as scores, largest first, ties
    /// by item index; at most `n`, and how many there are in all as `eligible`.
    pub fn user_items(&self, user: &str, n: usize) -> Result<Ranked<Recommendation>> {
        super::check_n(n)?;
        let u = self.index_of(IdKind::User, user)?;
        let (items, values) = self.training_matrix().row(u as usize);
        let mut pairs: Vec<(u32, f32)> =
            items.iter().copied().zip(values.iter().copied()).collect();
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let results = pairs
            .iter()
            .take(n)
            .map(|&(i, v)| Recommendation {
                item: self.id_at(IdKind::Item, i).to_string(),
                score: v,
            })
            .collect();
        Ok(Ranked { results, eligible: pairs.len() })
    }

    /// The set of dense indices of `ids` on `kind`'s side (for [`RecommendOptions::filter`]
    /// and [`RecommendOptions::candidates`]), and the ids the model does not know.
    pub fn index_set<'s>(
        &self,
        kind: IdKind,
        ids: impl IntoIterator<Item = &'s str>,
    ) -> (IndexSet, Vec<String>) {
        let map = self.ids(kind);
        let mut unknown = Vec::new();
        let known: Vec<u32> = ids
            .into_iter()
            .filter_map(|id| {
                let i = map.get(id);
                if i.is_none() {
                    unknown.push(id.to_string());
                }
                i
            })
            .collect();
        (IndexSet::from_indices(map.len(), known), unknown)
    }

    /// Converts an index-level list of items into the user's ids.
    pub fn items_of(&self, list: &ScoredIndices) -> Ranked<Recommendation> {
        let results = list
            .items
            .iter()
            .map(|&(i, score)| Recommendation { item: self.id_at(IdKind::Item, i).into(), score })
            .collect();
        Ranked { results, eligible: list.eligible }
    }

    /// Converts an index-level list of users into the user's ids.
    pub fn users_of(&self, list: &ScoredIndices) -> Ranked<UserScore> {
        let results = list
            .items
            .iter()
            .map(|&(u, score)| UserScore { user: self.id_at(IdKind::User, u).into(), score })
            .collect();
        Ranked { results, eligible: list.eligible }
    }

    /// Top-`n` items for a known user, their training items excluded (`implicit`'s
    /// `recommend`). Scores are `x_uᵀ y_i (+ μ + b_u + b_i)`.
    ///
    /// Errors: an unknown user ([`Error::UnknownId`](crate::Error::UnknownId)), `n == 0`.
    pub fn recommend(&self, user: &str, n: usize) -> Result<Vec<Recommendation>> {
        Ok(self.recommend_with(user, &RecommendOptions::top(n))?.results)
    }

    /// Top-N items for a known user with options: seen items kept or not, a filter, a
    /// candidate subset.
    pub fn recommend_with(
        &self,
        user: &str,
        opts: &RecommendOptions<'_>,
    ) -> Result<Ranked<Recommendation>> {
        let u = self.index_of(IdKind::User, user)?;
        Ok(self.items_of(&self.recommend_index(u, opts)?))
    }

    /// [`Model::recommend_with`] for a user index: the batch scorer for one user, exact as
    /// the batch forms are (see the [module docs](crate::recommend)).
    pub fn recommend_index(&self, user: u32, opts: &RecommendOptions<'_>) -> Result<ScoredIndices> {
        check_index(self, IdKind::User, user)?;
        recommend_one(self, user, opts)
    }

    /// Top-N items for each user index in `users`, in order (Spark's `recommendForAllUsers`
    /// with `0..users().len()`, `recommendForUserSubset` otherwise), handed to `sink` in input
    /// order. Multithreaded, deterministic at any thread count, the same lists as
    /// [`Model::recommend_with`]. A sink error stops the batch and is returned.
    pub fn recommend_batch(
        &self,
        users: &[u32],
        opts: &RecommendOptions<'_>,
        mut sink: impl FnMut(u32, ScoredIndices) -> Result<()>,
    ) -> Result<()> {
        run_batch(self, true, users, opts, &|u, r| (u, r), &mut |(u, r)| sink(u, r))
    }

    /// [`Model::recommend_batch`] with a `map` that turns each user's list into the caller's
    /// output (text lines, say) on the worker thread that scored it, so that formatting runs
    /// in parallel; `sink` receives the mapped values in input order.
    pub fn recommend_batch_map<T: Send>(
        &self,
        users: &[u32],
        opts: &RecommendOptions<'_>,
        map: impl Fn(u32, ScoredIndices) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        run_batch(self, true, users, opts, &map, &mut sink)
    }

    /// Top-`n` users for an item (Spark's `recommendForItemSubset` for one item): users
    /// ranked by `x_uᵀ y_i (+ μ + b_u + b_i)`, the item's training users excluded.
    pub fn recommend_users(&self, item: &str, n: usize) -> Result<Vec<UserScore>> {
        Ok(self.recommend_users_with(item, &RecommendOptions::top(n))?.results)
    }

    /// [`Model::recommend_users`] with options (`filter` and `candidates` are user sets).
    pub fn recommend_users_with(
        &self,
        item: &str,
        opts: &RecommendOptions<'_>,
    ) -> Result<Ranked<UserScore>> {
        let i = self.index_of(IdKind::Item, item)?;
        let mut out = None;
        run_batch(self, false, &[i], opts, &|_, r| r, &mut |r| {
            out = Some(r);
            Ok(())
        })?;
        Ok(self.users_of(&out.unwrap_or_default()))
    }

    /// Top-N users for each item index in `items` (Spark's `recommendForAllItems` /
    /// `recommendForItemSubset`), handed to `sink` in input order.
    pub fn recommend_users_batch(
        &self,
        items: &[u32],
        opts: &RecommendOptions<'_>,
        mut sink: impl FnMut(u32, ScoredIndices) -> Result<()>,
    ) -> Result<()> {
        run_batch(self, false, items, opts, &|i, r| (i, r), &mut |(i, r)| sink(i, r))
    }

    /// [`Model::recommend_users_batch`] with a `map` run on the scoring workers (see
    /// [`Model::recommend_batch_map`]).
    pub fn recommend_users_batch_map<T: Send>(
        &self,
        items: &[u32],
        opts: &RecommendOptions<'_>,
        map: impl Fn(u32, ScoredIndices) -> T + Sync,
        mut sink: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        run_batch(self, false, items, opts, &map, &mut sink)
    }

    /// The `n` items most similar to `item` by cosine similarity of their factors
    /// (`implicit`'s `similar_items`, without the query itself).
    pub fn similar_items(&self, item: &str, n: usize) -> Result<Vec<Recommendation>> {
        Ok(self.similar_items_with(item, &RecommendOptions::top(n), false)?.results)
    }

    /// [`Model::similar_items`] with a filter, a candidate subset, and the query itself kept
    /// (`include_self`, as `implicit` returns it first with similarity 1).
    pub fn similar_items_with(
        &self,
        item: &str,
        opts: &RecommendOptions<'_>,
        include_self: bool,
    ) -> Result<Ranked<Recommendation>> {
        let i = self.index_of(IdKind::Item, item)?;
        Ok(self.items_of(&similar(self, IdKind::Item, i, include_self, opts)?))
    }

    /// The `n` users most similar to `user` by cosine similarity of their factors
    /// (`implicit`'s `similar_users`, without the query itself).
    pub fn similar_users(&self, user: &str, n: usize) -> Result<Vec<UserScore>> {
        Ok(self.similar_users_with(user, &RecommendOptions::top(n), false)?.results)
    }

    /// [`Model::similar_users`] with a filter, a candidate subset and `include_self`.
    pub fn similar_users_with(
        &self,
        user: &str,
        opts: &RecommendOptions<'_>,
        include_self: bool,
    ) -> Result<Ranked<UserScore>> {
        let u = self.index_of(IdKind::User, user)?;
        Ok(self.users_of(&similar(self, IdKind::User, u, include_self, opts)?))
    }
}
