//! Users the model has never seen: a new user folded in from the items they liked (ids, ids
//! with values, titles), and the popular-items fallback.
//!
//! [`Model::fold_in`] is the one new-user pipeline the command line and the server share:
//! ids are looked up (unknown ones are set aside, not fatal), titles are matched in the item
//! metadata, values default to [`Model::default_liked_value`], a repeated item keeps its last
//! value, and the user's factors are one least-squares solve against the fixed item factors
//! with the model's own objective (`implicit`'s `recalculate_user`): explicit
//! `(Y_Iᵀ Y_I + λ n I) x = Y_Iᵀ r`, implicit `(YᵀY + Yᵀ(C−I)Y + λI) x = YᵀC p`.

use super::{
    IndexSet, Ranked, RecommendOptions, Recommendation, View, check_n, recommend_for_factors,
};
use crate::error::{Error, IdKind, Result};
use crate::meta::Metadata;
use crate::model::Model;
use crate::topk::top_k_into;

/// How many matching titles a title lookup reports.
const TITLE_CANDIDATES: usize = 10;
/// How many close titles an unmatched title suggests.
const TITLE_SUGGESTIONS: usize = 5;

/// A user the model has never seen, described by the items they liked.
///
/// ```
/// use alternator::NewUser;
///
/// let mut who = NewUser::new();
/// who.like("50").rate("181", 4.0).like_title("Fargo");
/// assert_eq!(who.len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUser {
    /// `(item id, value)`; `None` takes [`Model::default_liked_value`].
    liked: Vec<(String, Option<f32>)>,
    /// Titles to look up in the item metadata.
    titles: Vec<String>,
    /// Use every matching title rather than the best one.
    all_matches: bool,
}

impl NewUser {
    /// Nobody yet.
    pub fn new() -> NewUser {
        NewUser::default()
    }

    /// The user liked `item` (the model's "liked" value: see [`Model::default_liked_value`]).
    pub fn like(&mut self, item: impl Into<String>) -> &mut Self {
        self.liked.push((item.into(), None));
        self
    }

    /// The user gave `item` this rating (explicit models) or count (implicit models).
    pub fn rate(&mut self, item: impl Into<String>, value: f32) -> &mut Self {
        self.liked.push((item.into(), Some(value)));
        self
    }

    /// The user liked the item with this title, fuzzy-matched in the item metadata.
    pub fn like_title(&mut self, title: impl Into<String>) -> &mut Self {
        self.titles.push(title.into());
        self
    }

    /// Use every title that matches, not only the best one.
    pub fn all_matches(&mut self, on: bool) -> &mut Self {
        self.all_matches = on;
        self
    }

    /// Number of items and titles named.
    pub fn len(&self) -> usize {
        self.liked.len() + self.titles.len()
    }

    /// True when nothing was named.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The titles named.
    pub fn titles(&self) -> &[String] {
        &self.titles
    }
}

/// How one liked title was resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleChoice {
    /// The title as given.
    pub query: String,
    /// Matching titles of items the model knows, best first: `(item id, title)`.
    pub candidates: Vec<(String, String)>,
    /// The item ids used as liked: the best candidate, or all of them with
    /// [`NewUser::all_matches`].
    pub used: Vec<String>,
}

/// A new user folded into the model: their factors, and how what they named was resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedUser {
    /// The liked item ids used, in the order first named, each once.
    pub liked: Vec<String>,
    /// Item ids the model does not know, in the order given (left out of the fold-in).
    pub ignored: Vec<String>,
    /// How each title was resolved, in the order given.
    pub titles: Vec<TitleChoice>,
    /// The user's factors.
    pub factors: Vec<f32>,
    /// The user's bias, for a model with biases.
    pub bias: Option<f32>,
    /// The liked item indices, sorted (never recommended back).
    pub(crate) items: Vec<u32>,
    /// Their values, in the order of `items`.
    pub(crate) values: Vec<f32>,
}

impl FoldedUser {
    /// The liked items and the values the fold-in used, `(item id, value)` in item order.
    pub fn values<'m>(&self, model: &'m Model) -> Vec<(&'m str, f32)> {
        self.items
            .iter()
            .zip(&self.values)
            .map(|(&i, &v)| (model.id_at(IdKind::Item, i), v))
            .collect()
    }
}

impl Model {
    /// The value a liked item gets when the user gives none.
    ///
    /// Implicit models: 1.0 (one interaction, as `implicit` and Spark count a click). Explicit
    /// models: the largest training rating (e.g. 5 on a 1–5 scale), because "liked" means a
    /// top rating; 1.0 would tell a 1–5 model the user disliked the item. Falls back to 1.0
    /// when the model has no recorded range.
    pub fn default_liked_value(&self) -> f32 {
        let max = self.summary.value_max;
        if self.params.implicit_prefs || !(max.is_finite() && max > 0.0) { 1.0 } else { max }
    }

    /// Folds in a new user (see the module docs). `meta` is needed when titles are named.
    ///
    /// Errors: nothing named ([`Error::InvalidParameter`] `liked`); titles without metadata
    /// ([`Error::InvalidParameter`] `liked_titles`); a title that matches nothing
    /// ([`Error::UnknownTitle`], with the closest titles); no named item known to the model
    /// ([`Error::NoKnownItems`]); a non-finite value ([`Error::InvalidParameter`] `liked`).
    pub fn fold_in(&self, user: &NewUser, meta: Option<&Metadata>) -> Result<FoldedUser> {
        if user.is_empty() {
            return Err(Error::param("liked", "name at least one liked item"));
        }
        let default = self.default_liked_value();
        let mut liked: Vec<(u32, f32)> = Vec::with_capacity(user.len());
        let mut ignored = Vec::new();
        for (id, value) in &user.liked {
            let v = value.unwrap_or(default);
            if !v.is_finite() {
                return Err(Error::param(
                    "liked",
                    format!("the value of item {id:?} must be a finite number, got {v}"),
                ));
            }
            match self.items.get(id) {
                Some(i) => liked.push((i, v)),
                None => ignored.push(id.clone()),
            }
        }
        let mut titles = Vec::with_capacity(user.titles.len());
        if !user.titles.is_empty() {
            let Some(meta) = meta else {
                return Err(Error::param(
                    "liked_titles",
                    "titles need item metadata to be matched against",
                ));
            };
            for title in &user.titles {
                let choice = self.match_title(meta, title, user.all_matches)?;
                for id in &choice.used {
                    if let Some(i) = self.items.get(id) {
                        liked.push((i, default));
                    }
                }
                titles.push(choice);
            }
        }
        if liked.is_empty() {
            return Err(Error::NoKnownItems { ids: ignored });
        }
        let mut used: Vec<String> = Vec::with_capacity(liked.len());
        for &(i, _) in &liked {
            let id = self.id_at(IdKind::Item, i);
            if !used.iter().any(|u| u == id) {
                used.push(id.to_string());
            }
        }
        // A repeated item keeps its last value; the solve sees the items in index order.
        let mut merged: Vec<(usize, u32, f32)> =
            liked.iter().enumerate().map(|(k, &(i, v))| (k, i, v)).collect();
        merged.sort_by_key(|&(k, i, _)| (i, std::cmp::Reverse(k)));
        merged.dedup_by_key(|p| p.1);
        let items: Vec<u32> = merged.iter().map(|p| p.1).collect();
        let values: Vec<f32> = merged.iter().map(|p| p.2).collect();
        let (factors, bias) = crate::als::fold_in_user(self, &items, &values)?;
        Ok(FoldedUser { liked: used, ignored, titles, factors, bias, items, values })
    }

    /// Top-N items for a folded-in user, never returning an item they named.
    pub fn recommend_folded(
        &self,
        user: &FoldedUser,
        opts: &RecommendOptions<'_>,
    ) -> Result<Ranked<Recommendation>> {
        let r = recommend_for_factors(self, &user.factors, user.bias, &user.items, opts)?;
        Ok(self.items_of(&r))
    }

    /// Top-N items for a new user who rated these items (`(item id, value)`): the fold-in of
    /// [`Model::fold_in`], then the ranking of [`Model::recommend_folded`]. Every id must be
    /// known to the model ([`Error::UnknownId`] otherwise); use [`Model::fold_in`] to set
    /// unknown ids aside instead, or to match titles.
    pub fn recommend_for_liked(
        &self,
        liked: &[(&str, f32)],
        n: usize,
    ) -> Result<Vec<Recommendation>> {
        let mut who = NewUser::new();
        for &(id, v) in liked {
            self.index_of(IdKind::Item, id)?;
            who.rate(id, v);
        }
        let folded = self.fold_in(&who, None)?;
        Ok(self.recommend_folded(&folded, &RecommendOptions::top(n))?.results)
    }

    /// Resolves a liked title by fuzzy search in `meta`, keeping only titles whose item the
    /// model knows. With `all`, every candidate is used; otherwise the best one.
    fn match_title(&self, meta: &Metadata, title: &str, all: bool) -> Result<TitleChoice> {
        let known = |k: usize| meta.items.get(k).filter(|m| self.items.get(&m.id).is_some());
        let candidates: Vec<(String, String)> = meta
            .matches(title)
            .into_iter()
            .filter_map(|h| known(h.index))
            .take(TITLE_CANDIDATES)
            .map(|m| (m.id.clone(), m.title.clone()))
            .collect();
        if candidates.is_empty() {
            let suggestions = meta
                .closest(title, 50)
                .into_iter()
                .filter_map(|h| known(h.index))
                .take(TITLE_SUGGESTIONS)
                .map(|m| m.title.clone())
                .collect();
            return Err(Error::UnknownTitle { title: title.to_string(), suggestions });
        }
        let take = if all { candidates.len() } else { 1 };
        let used = candidates.iter().take(take).map(|c| c.0.clone()).collect();
        Ok(TitleChoice { query: title.to_string(), candidates, used })
    }

    /// Items the model knows whose title is close to `query`, for search as you type: the
    /// title matcher of [`NewUser::like_title`] ([`Metadata::closest`]: titles sharing a word
    /// with the query by score, or, when none does, those sharing the most letter pairs),
    /// best first, at most `n`. The score is the match score in `[0, 1]`; a title matches
    /// from [`crate::meta::MATCH_THRESHOLD`] on. An item id the model knows, given as the
    /// query, comes first with score 1 (so that items without titles can be found too).
    /// Without metadata only that id lookup is done.
    pub fn search_items(
        &self,
        query: &str,
        meta: Option<&Metadata>,
        n: usize,
    ) -> Result<Vec<Recommendation>> {
        check_n(n)?;
        let query = query.trim();
        let mut out: Vec<Recommendation> = Vec::new();
        if query.is_empty() {
            return Ok(out);
        }
        if self.items.get(query).is_some() {
            out.push(Recommendation { item: query.to_string(), score: 1.0 });
        }
        let Some(meta) = meta else { return Ok(out) };
        for hit in meta.closest(query, usize::MAX) {
            if out.len() >= n {
                break;
            }
            let Some(m) = meta.items.get(hit.index) else { continue };
            if self.items.get(&m.id).is_none() || out.iter().any(|r| r.item == m.id) {
                continue;
            }
            out.push(Recommendation { item: m.id.clone(), score: hit.score as f32 });
        }
        out.truncate(n);
        Ok(out)
    }

    /// The factors (and bias, with biases) of a new user who interacted with these item
    /// indices with these values: one least-squares solve against the fixed item factors
    /// with the model's objective (`implicit`'s `recalculate_user`). Indices must be sorted
    /// and distinct for results identical to training's.
    pub fn fold_in_user_indices(
        &self,
        items: &[u32],
        values: &[f32],
    ) -> Result<(Vec<f32>, Option<f32>)> {
        crate::als::fold_in_user(self, items, values)
    }

    /// The factors (and bias) of a new item from the users who interacted with it, against
    /// the fixed user factors (`implicit`'s `recalculate_item`).
    pub fn fold_in_item_indices(
        &self,
        users: &[u32],
        values: &[f32],
    ) -> Result<(Vec<f32>, Option<f32>)> {
        crate::als::fold_in_item(self, users, values)
    }

    /// Number of training interactions of each item (the column counts of the training
    /// matrix), in item-index order.
    pub fn item_popularity(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.items.len()];
        for &i in self.seen.indices() {
            if let Some(c) = counts.get_mut(i as usize) {
                *c = c.saturating_add(1);
            }
        }
        counts
    }

    /// The items with fewer than `min` training interactions: a filter that keeps rarely
    /// rated items out of lists (`RecommendOptions::filter`). Spark and `implicit` have no
    /// such filter; an item seen twice can top a list when its factors happen to be large.
    pub fn rare_items(&self, min: u32) -> IndexSet {
        let counts = self.item_popularity();
        let rare = counts.iter().enumerate().filter(|p| *p.1 < min).map(|p| p.0 as u32);
        IndexSet::from_indices(counts.len(), rare)
    }

    /// The popular-items fallback for a user the model does not know: items ranked by their
    /// number of training interactions (the score is that count), ties by item index. Only
    /// the filter and the candidate subset of `opts` apply.
    pub fn popular_items(&self, opts: &RecommendOptions<'_>) -> Result<Ranked<Recommendation>> {
        check_n(opts.n)?;
        let counts = self.item_popularity();
        let view = View::new(counts.len(), opts);
        let scores: Vec<f32> = (0..view.len() as u32)
            .map(|v| counts.get(view.orig(v) as usize).copied().unwrap_or(0) as f32)
            .collect();
        let mut items =
            top_k_into(&scores, opts.n, |v| view.filtered(view.orig(v)), &mut Vec::new());
        for p in &mut items {
            p.0 = view.orig(p.0);
        }
        Ok(self.items_of(&super::ScoredIndices { items, eligible: view.eligible(&[]) }))
    }
}
