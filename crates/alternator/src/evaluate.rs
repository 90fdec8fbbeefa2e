//! Evaluation: regression metrics (Spark RegressionEvaluator) and ranking metrics at K.
//!
//! **Regression** (Spark's `RegressionEvaluator`, accumulated in f64) over pairs of a
//! prediction `p` and a label `r`:
//! `mse = mean (p − r)²`, `rmse = √mse`, `mae = mean |p − r|`,
//! `r2 = 1 − SS_err / SS_tot` with `SS_err = Σ (p − r)²` and `SS_tot = Σ (r − r̄)²` around the
//! mean `r̄` of the labels. A NaN prediction (a cold-start pair under
//! [`ColdStart::Nan`]) makes every metric NaN, as in Spark.
//!
//! **Ranking** ([`ranking_metrics_at_k`]) reproduces `implicit.evaluation.ranking_metrics_at_k`
//! (implicit 0.7.3); see that function for the exact definitions.
//!
//! [`Model::evaluate`] and [`Model::evaluate_ranking`] score a model on a test set given in
//! the user's own ids; [`Model::predict_all`] predicts every pair of a data set.

use rayon::prelude::*;
use serde::Serialize;

use crate::data::Interactions;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::sparse::{Csr, Duplicates};
use crate::topk::top_k_into;

/// Spark's `coldStartStrategy`: what to do with a pair whose user or item was not trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColdStart {
    /// Predict NaN (Spark's default); regression metrics then are NaN.
    #[default]
    Nan,
    /// Leave the pair out (and count it as dropped).
    Drop,
}

/// Regression metrics of predictions against labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Root mean squared error `√(mean (p − r)²)`.
    pub rmse: f64,
    /// Mean squared error `mean (p − r)²`.
    pub mse: f64,
    /// Mean absolute error `mean |p − r|`.
    pub mae: f64,
    /// Coefficient of determination `1 − Σ(p − r)² / Σ(r − r̄)²`.
    pub r2: f64,
    /// Number of pairs scored.
    pub scored: usize,
    /// Number of pairs left out (cold start under [`ColdStart::Drop`]).
    pub dropped: usize,
    /// Number of pairs whose user or item the model does not know (predicted NaN under
    /// [`ColdStart::Nan`], dropped under [`ColdStart::Drop`]).
    pub unknown: usize,
}

/// Regression metrics of `(prediction, label)` pairs, in f64, in one pass (sums of `r`, `r²`,
/// `(p − r)²` and `|p − r|`; `SS_tot = Σr² − (Σr)²/n`, computed with a shifted origin for
/// accuracy). With no pairs every metric is NaN. `dropped` and `unknown` are 0; callers that
/// drop pairs set them.
pub fn regression_metrics(pairs: impl IntoIterator<Item = (f64, f64)>) -> RegressionMetrics {
    let (mut n, mut se, mut ae) = (0usize, 0f64, 0f64);
    let (mut shift, mut s1, mut s2) = (f64::NAN, 0f64, 0f64);
    for (p, r) in pairs {
        if n == 0 {
            shift = r; // shifted sums: SS_tot = Σ(r−c)² − (Σ(r−c))²/n, stable for any c near r̄
        }
        n += 1;
        let d = p - r;
        se += d * d;
        ae += d.abs();
        let c = r - shift;
        s1 += c;
        s2 += c * c;
    }
    let nf = n as f64;
    let mse = se / nf;
    let ss_tot = (s2 - s1 * s1 / nf).max(0.0);
    RegressionMetrics {
        rmse: mse.sqrt(),
        mse,
        mae: ae / nf,
        r2: 1.0 - se / ss_tot,
        scored: n,
        dropped: 0,
        unknown: 0,
    }
}

/// For each distinct user and item of an [`Interactions`] (by its own dense index), the
/// model's index of the same external id, or `None` when the model has never seen it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IdRemap {
    /// `users[data user index]` = model user index.
    pub(crate) users: Vec<Option<u32>>,
    /// `items[data item index]` = model item index.
    pub(crate) items: Vec<Option<u32>>,
}

impl IdRemap {
    /// Maps `data`'s ids into `model`'s index space.
    pub(crate) fn new(model: &Model, data: &Interactions) -> IdRemap {
        IdRemap {
            users: data.users.ids().map(|id| model.users.get(id)).collect(),
            items: data.items.ids().map(|id| model.items.get(id)).collect(),
        }
    }

    /// Model indices of interaction `k` of `data` (`None` for an unknown id).
    pub(crate) fn pair(&self, data: &Interactions, k: usize) -> (Option<u32>, Option<u32>) {
        let u = data.user_idx.get(k).and_then(|&u| self.users.get(u as usize).copied().flatten());
        let i = data.item_idx.get(k).and_then(|&i| self.items.get(i as usize).copied().flatten());
        (u, i)
    }
}

/// The model's prediction for every interaction of `data`, in file order (see
/// [`Model::predict_index`]); `None` where the user or the item is unknown to the model.
pub(crate) fn predict_interactions(model: &Model, data: &Interactions) -> Vec<Option<f32>> {
    let remap = IdRemap::new(model, data);
    (0..data.len())
        .into_par_iter()
        .map(|k| match remap.pair(data, k) {
            (Some(u), Some(i)) => model.predict_index(u, i),
            _ => None,
        })
        .collect()
}

/// Regression metrics of `model` on the labelled pairs of `data`, plus the number of pairs
/// whose user or item is unknown to the model. Under [`ColdStart::Nan`] those pairs are
/// predicted NaN (so the metrics are NaN when there is any); under [`ColdStart::Drop`] they
/// are left out and counted in [`RegressionMetrics::dropped`].
pub(crate) fn evaluate_regression(
    model: &Model,
    data: &Interactions,
    cold: ColdStart,
) -> RegressionMetrics {
    let preds = predict_interactions(model, data);
    let unknown = preds.iter().filter(|p| p.is_none()).count();
    let pairs = preds.iter().zip(&data.values).filter_map(|(p, &r)| match (p, cold) {
        (Some(p), _) => Some((f64::from(*p), f64::from(r))),
        (None, ColdStart::Nan) => Some((f64::NAN, f64::from(r))),
        (None, ColdStart::Drop) => None,
    });
    let mut m = regression_metrics(pairs);
    m.unknown = unknown;
    if cold == ColdStart::Drop {
        m.dropped = unknown;
    }
    m
}

/// Ranking metrics at K (see [`ranking_metrics_at_k`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankingMetrics {
    /// The cut-off K.
    pub k: usize,
    /// `Σ_u hits_u / Σ_u min(K, |T_u|)`.
    pub precision: f64,
    /// `mean_u hits_u / |T_u|`.
    pub recall: f64,
    /// `mean_u (Σ_{hit at rank j} hits_so_far / j) / min(K, |T_u|)`.
    pub map: f64,
    /// `mean_u (Σ_{hit at rank j} 1/log2(j+1)) / (Σ_{j ≤ min(K, |T_u|)} 1/log2(j+1))`.
    pub ndcg: f64,
    /// `implicit`'s AUC at K (see [`ranking_metrics_at_k`]).
    pub auc: f64,
    /// Fraction of users with at least one hit in their top K.
    pub hit_rate: f64,
    /// Number of users evaluated (known to the model, with ≥ 1 test item).
    pub users: usize,
    /// Distinct test users unknown to the model (not evaluated; [`Model::evaluate_ranking`]).
    pub unknown_users: usize,
    /// Test pairs of those users.
    pub unknown_user_pairs: usize,
    /// Test pairs whose item the model does not know (relevant, but never recommended).
    pub unknown_item_pairs: usize,
    /// Distinct test items the model does not know.
    pub test_only_items: usize,
}

/// The test interactions of `data` as a users × items matrix in `model`'s index space, for
/// [`ranking_metrics_at_k`].
#[derive(Debug, Clone)]
pub(crate) struct TestMatrix {
    /// `model users × (model items + test-only items)`; test-only items get the columns after
    /// the model's items, in order of first appearance. Repeated pairs are merged.
    pub(crate) csr: Csr,
    /// Test pairs left out because their user is unknown to the model.
    pub(crate) unknown_user_pairs: usize,
    /// Distinct test users unknown to the model (not evaluated).
    pub(crate) unknown_users: usize,
    /// Test pairs whose item is unknown to the model (kept: they can never be hit).
    pub(crate) unknown_item_pairs: usize,
    /// Distinct test-only items (extra columns).
    pub(crate) test_only_items: usize,
}

impl TestMatrix {
    /// Maps `data` into `model`'s index space.
    ///
    /// Matching `implicit`'s peer protocol, where one id space covers train and test: an item
    /// seen only in the test file still counts in `|T_u|` (and in the number of items for
    /// AUC's negatives) but can never be recommended, hence never hit. A user unknown to the
    /// model cannot be scored: their pairs are counted in
    /// [`TestMatrix::unknown_user_pairs`] and left out.
    pub(crate) fn new(model: &Model, data: &Interactions) -> TestMatrix {
        let remap = IdRemap::new(model, data);
        let n_model_items = model.item_factors.rows();
        let mut extra: Vec<Option<u32>> = vec![None; data.items.len()];
        let mut next_extra = 0u32;
        let (mut rows, mut cols) = (Vec::with_capacity(data.len()), Vec::with_capacity(data.len()));
        let (mut unknown_user_pairs, mut unknown_item_pairs) = (0usize, 0usize);
        let mut unknown_user_seen = vec![false; data.users.len()];
        for k in 0..data.len() {
            let (u, i) = remap.pair(data, k);
            let Some(u) = u else {
                unknown_user_pairs += 1;
                if let Some(s) =
                    data.user_idx.get(k).and_then(|&u| unknown_user_seen.get_mut(u as usize))
                {
                    *s = true;
                }
                continue;
            };
            let col = match i {
                Some(i) => i,
                None => {
                    unknown_item_pairs += 1;
                    let local = data.item_idx.get(k).copied().unwrap_or(0) as usize;
                    match extra.get(local).copied().flatten() {
                        Some(c) => c,
                        None => {
                            let c = n_model_items as u32 + next_extra;
                            next_extra += 1;
                            if let Some(slot) = extra.get_mut(local) {
                                *slot = Some(c);
                            }
                            c
                        }
                    }
                }
            };
            rows.push(u);
            cols.push(col);
        }
        let ones = vec![1.0f32; rows.len()];
        let ncols = n_model_items + next_extra as usize;
        let csr = Csr::from_triplets(
            model.user_factors.rows(),
            ncols,
            &rows,
            &cols,
            &ones,
            Duplicates::Last,
        );
        TestMatrix {
            csr,
            unknown_user_pairs,
            unknown_users: unknown_user_seen.iter().filter(|&&s| s).count(),
            unknown_item_pairs,
            test_only_items: next_extra as usize,
        }
    }
}

/// The interactions of a training file as a users × items matrix in `model`'s index space
/// (the items to filter out of each user's recommendations). Pairs with an id unknown to the
/// model are ignored: such an item can never be recommended anyway.
pub(crate) fn train_matrix(model: &Model, data: &Interactions) -> Csr {
    let remap = IdRemap::new(model, data);
    let (mut rows, mut cols) = (Vec::with_capacity(data.len()), Vec::with_capacity(data.len()));
    for k in 0..data.len() {
        if let (Some(u), Some(i)) = remap.pair(data, k) {
            rows.push(u);
            cols.push(i);
        }
    }
    let ones = vec![1.0f32; rows.len()];
    Csr::from_triplets(
        model.user_factors.rows(),
        model.item_factors.rows(),
        &rows,
        &cols,
        &ones,
        Duplicates::Last,
    )
}

/// Per-user terms of the ranking metrics.
#[derive(Debug, Clone, Copy, Default)]
struct UserTerms {
    hits: f64,
    pr_div: f64,
    ap: f64,
    ndcg: f64,
    auc: f64,
    recall: f64,
}

/// Ranking metrics at `k`, exactly as `implicit.evaluation.ranking_metrics_at_k` (implicit
/// 0.7.3) computes them.
///
/// `train` and `test` are users × items matrices in the model's index space (as
/// [`Model::evaluate_ranking`] builds them from files); `test` may have more columns than the model has
/// items (test-only items, never recommended), and `N = test.ncols()` is the number of items
/// used for AUC's negatives. Only users with at least one test item and known to the model are
/// evaluated. For each such user `u`, with `T_u` the *set* of test items (repeats count once)
/// and `R_u` the model's top `k` items by score `x_uᵀy_i (+ b_i)`, training items of `u`
/// excluded (ties: smaller index first):
///
/// * positions `j = 1..=k` are walked in order (positions past the end of a short list are
///   misses); `hits` counts hits so far;
/// * **precision** `= Σ_u hits_u / Σ_u min(k, |T_u|)` (a micro average);
/// * **MAP** `= mean_u AP_u`, `AP_u = (Σ_{hit at j} hits_so_far / j) / min(k, |T_u|)`;
/// * **NDCG** `= mean_u DCG_u / IDCG_u`, `DCG_u = Σ_{hit at j} 1/log2(j+1)`,
///   `IDCG_u = Σ_{j=1}^{min(k,|T_u|)} 1/log2(j+1)` (binary gains);
/// * **AUC** `= mean_u auc_u / (P·Nneg)` with `P = |T_u|`, `Nneg = N − P`, and
///   `auc_u = Σ_{miss at j} hits_so_far + ((hits_u + P) / 2)·(Nneg − misses_u)`: every
///   negative ranked inside the top `k` counts the positives above it, and every negative
///   below is credited with the mean of the hits and all positives (implicit's "limited
///   AUC"; a user whose test set covers every item gives NaN, as in implicit);
/// * **recall** `= mean_u hits_u / |T_u|`; **hit rate** `= fraction of users with hits_u ≥ 1`.
///
/// Users are scored in parallel with per-task scratch buffers; per-user terms are summed in
/// user order, so the result does not depend on the thread count. With no user to evaluate
/// or `k == 0` the metrics are NaN.
pub fn ranking_metrics_at_k(model: &Model, train: &Csr, test: &Csr, k: usize) -> RankingMetrics {
    let n_items_model = model.item_factors.rows();
    let n_items_total = test.ncols().max(n_items_model) as f64;
    let rank = model.rank();
    let n_users = test.nrows().min(model.user_factors.rows());
    let item_bias = model.biases.as_ref().map(|b| b.item.as_slice());
    let cg: Vec<f64> = (0..k).map(|j| 1.0 / ((j + 2) as f64).log2()).collect();
    let cg_sum: Vec<f64> = cg
        .iter()
        .scan(0.0, |acc, &x| {
            *acc += x;
            Some(*acc)
        })
        .collect();
    let items = model.item_factors.as_slice();
    let terms: Vec<Option<UserTerms>> = (0..n_users)
        .into_par_iter()
        .map_init(
            || (vec![0f32; n_items_model], Vec::<(u32, f32)>::new()),
            |(scores, scratch), u| {
                let (likes, _) = test.row(u);
                if likes.is_empty() || k == 0 {
                    return None;
                }
                // Distinct test items (rows are sorted).
                let n_pos = 1 + likes.windows(2).filter(|w| w[0] != w[1]).count();
                let x = model.user_factors.row(u);
                for (i, s) in scores.iter_mut().enumerate() {
                    let y = &items[i * rank..(i + 1) * rank];
                    let mut d: f32 = x.iter().zip(y).map(|(a, b)| a * b).sum();
                    if let Some(b) = item_bias.and_then(|b| b.get(i)) {
                        d += *b;
                    }
                    *s = d;
                }
                let (seen, _) = if u < train.nrows() { train.row(u) } else { (&[][..], &[][..]) };
                let recs = top_k_into(scores, k, |i| seen.binary_search(&i).is_ok(), scratch);
                let p = n_pos as f64;
                let n_neg = n_items_total - p;
                let denom = (k.min(n_pos)) as f64;
                let idcg = cg_sum[k.min(n_pos) - 1];
                let (mut hit, mut miss, mut ap, mut ndcg, mut auc) = (0f64, 0f64, 0f64, 0f64, 0f64);
                for (j, &gain) in cg.iter().enumerate() {
                    let is_hit = recs.get(j).is_some_and(|&(i, _)| likes.binary_search(&i).is_ok());
                    if is_hit {
                        hit += 1.0;
                        ap += hit / (j + 1) as f64;
                        ndcg += gain / idcg;
                    } else {
                        miss += 1.0;
                        auc += hit;
                    }
                }
                auc += ((hit + p) / 2.0) * (n_neg - miss);
                Some(UserTerms {
                    hits: hit,
                    pr_div: denom,
                    ap: ap / denom,
                    ndcg,
                    auc: auc / (p * n_neg),
                    recall: hit / p,
                })
            },
        )
        .collect();
    let mut sum = UserTerms::default();
    let (mut users, mut hit_users) = (0usize, 0usize);
    for t in terms.into_iter().flatten() {
        users += 1;
        if t.hits > 0.0 {
            hit_users += 1;
        }
        sum.hits += t.hits;
        sum.pr_div += t.pr_div;
        sum.ap += t.ap;
        sum.ndcg += t.ndcg;
        sum.auc += t.auc;
        sum.recall += t.recall;
    }
    let n = if k == 0 { f64::NAN } else { users as f64 };
    RankingMetrics {
        k,
        precision: sum.hits / sum.pr_div,
        recall: sum.recall / n,
        map: sum.ap / n,
        ndcg: sum.ndcg / n,
        auc: sum.auc / n,
        hit_rate: hit_users as f64 / n,
        users,
        unknown_users: 0,
        unknown_user_pairs: 0,
        unknown_item_pairs: 0,
        test_only_items: 0,
    }
}

impl Model {
    /// Spark's `RegressionEvaluator` on the labelled pairs of `test` (RMSE, MSE, MAE, R²),
    /// with Spark's `coldStartStrategy` for pairs whose user or item the model does not know:
    /// [`ColdStart::Nan`] predicts NaN for them (so any makes the metrics NaN),
    /// [`ColdStart::Drop`] leaves them out. [`RegressionMetrics::unknown`] counts them either
    /// way.
    pub fn evaluate(&self, test: &Interactions, cold: ColdStart) -> Result<RegressionMetrics> {
        Ok(evaluate_regression(self, test, cold))
    }

    /// Ranking metrics at `k` on `test` ([`ranking_metrics_at_k`], as
    /// `implicit.evaluation.ranking_metrics_at_k`): each user's training items are filtered
    /// out of their top `k` — those of `train` when given, otherwise the training
    /// interactions stored in the model. Test users the model does not know are not
    /// evaluated; test items it does not know count as relevant but are never recommended
    /// (both counted in the result).
    pub fn evaluate_ranking(
        &self,
        test: &Interactions,
        k: usize,
        train: Option<&Interactions>,
    ) -> Result<RankingMetrics> {
        if k == 0 {
            return Err(Error::param("k", "must be at least 1"));
        }
        let tm = TestMatrix::new(self, test);
        let stored;
        let train = match train {
            Some(t) => {
                stored = train_matrix(self, t);
                &stored
            }
            None => &self.seen,
        };
        let mut m = ranking_metrics_at_k(self, train, &tm.csr, k);
        m.unknown_users = tm.unknown_users;
        m.unknown_user_pairs = tm.unknown_user_pairs;
        m.unknown_item_pairs = tm.unknown_item_pairs;
        m.test_only_items = tm.test_only_items;
        Ok(m)
    }

    /// The model's prediction for every interaction of `data`, in order
    /// ([`Model::predict_index`]); `None` where the user or the item is unknown.
    pub fn predict_all(&self, data: &Interactions) -> Vec<Option<f32>> {
        predict_interactions(self, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdMap;
    use crate::model::{Factors, TrainingSummary};
    use crate::params::AlsParams;

    fn model(uf: Vec<f32>, itf: Vec<f32>, nu: usize, ni: usize, rank: usize) -> Model {
        Model {
            params: AlsParams { rank, ..AlsParams::default() },
            users: (0..nu).map(|u| format!("u{u}")).collect(),
            items: (0..ni).map(|i| format!("i{i}")).collect(),
            user_factors: Factors::from_vec(nu, rank, uf).unwrap(),
            item_factors: Factors::from_vec(ni, rank, itf).unwrap(),
            biases: None,
            clip_predictions: false,
            seen: Csr::from_triplets(nu, ni, &[], &[], &[], Duplicates::Keep),
            summary: TrainingSummary::default(),
            bounds: Default::default(),
        }
    }

    #[test]
    fn regression_by_hand() {
        let m = regression_metrics([(3.0, 4.0), (2.0, 2.0), (5.0, 3.0)]);
        // errors -1, 0, 2: se = 5, ae = 3; labels 4,2,3: mean 3, SS_tot = 2.
        assert!((m.mse - 5.0 / 3.0).abs() < 1e-12);
        assert!((m.rmse - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.mae - 1.0).abs() < 1e-12);
        assert!((m.r2 - (1.0 - 5.0 / 2.0)).abs() < 1e-12);
        assert_eq!(m.scored, 3);
        assert!(regression_metrics([(f64::NAN, 1.0), (1.0, 1.0)]).rmse.is_nan());
        assert!(regression_metrics(std::iter::empty()).rmse.is_nan());
    }

    /// A direct transcription of implicit's loop for one user, for comparison.
    fn reference(recs: &[u32], likes: &[u32], k: usize, n_items: usize) -> (f64, f64, f64, f64) {
        let p = likes.len() as f64;
        let nneg = n_items as f64 - p;
        let idcg: f64 = (0..k.min(likes.len())).map(|j| 1.0 / ((j + 2) as f64).log2()).sum();
        let (mut hit, mut miss, mut ap, mut ndcg, mut auc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for j in 0..k {
            if recs.get(j).is_some_and(|r| likes.contains(r)) {
                hit += 1.0;
                ap += hit / (j + 1) as f64;
                ndcg += 1.0 / ((j + 2) as f64).log2() / idcg;
            } else {
                miss += 1.0;
                auc += hit;
            }
        }
        auc += (hit + p) / 2.0 * (nneg - miss);
        (hit, ap / k.min(likes.len()) as f64, ndcg, auc / (p * nneg))
    }

    #[test]
    fn ranking_matches_hand_computation() {
        // Rank 1: item score = item factor (user factor 1): ranking is by item factor.
        let itf = vec![0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2];
        let m = model(vec![1.0, 1.0], itf, 2, 8, 1);
        // User 0 trained on item 0 (filtered); user 1 on nothing.
        let train = Csr::from_triplets(2, 8, &[0], &[0], &[1.0], Duplicates::Keep);
        // Test: user 0 likes items 2, 5 and a test-only item 8; user 1 likes 0, 0 (repeat), 7.
        let test = Csr::from_triplets(
            2,
            9,
            &[0, 0, 0, 1, 1, 1],
            &[2, 5, 8, 0, 0, 7],
            &[1.0; 6],
            Duplicates::Keep,
        );
        let k = 3;
        let r = ranking_metrics_at_k(&m, &train, &test, k);
        // User 0 recs: 1, 2, 3 (0 filtered) → hit at 2. User 1 recs: 0, 1, 2 → hit at 1.
        let a = reference(&[1, 2, 3], &[2, 5, 8], k, 9);
        let b = reference(&[0, 1, 2], &[0, 7], k, 9);
        assert_eq!(r.users, 2);
        assert!((r.precision - (a.0 + b.0) / (3.0 + 2.0)).abs() < 1e-12);
        assert!((r.map - (a.1 + b.1) / 2.0).abs() < 1e-12);
        assert!((r.ndcg - (a.2 + b.2) / 2.0).abs() < 1e-12);
        assert!((r.auc - (a.3 + b.3) / 2.0).abs() < 1e-12);
        assert!((r.recall - (1.0 / 3.0 + 1.0 / 2.0) / 2.0).abs() < 1e-12);
        assert_eq!(r.hit_rate, 1.0);
        // Hand values for user 0: AP = (1/2)/3, NDCG = (1/log2 3)/(1 + 1/log2 3 + 1/2).
        assert!((a.1 - 1.0 / 6.0).abs() < 1e-12);
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!((a.2 - (1.0 / 3f64.log2()) / idcg).abs() < 1e-12);
        // AUC user 0: misses at 1 (0 hits so far) and 3 (1 hit): 1; then (1+3)/2 * (6-2) = 8.
        assert!((a.3 - 9.0 / 18.0).abs() < 1e-12);
    }

    #[test]
    fn test_matrix_maps_ids_and_counts_cold() {
        let m = model(vec![1.0, 1.0], vec![1.0, 2.0, 3.0], 2, 3, 1);
        let text = "u0\ti2\t1\nu0\tnew\t1\nghost\ti0\t1\nu1\ti0\t1\nu1\tnew\t1\n";
        let data = crate::data::parse_interactions(
            text.as_bytes(),
            std::path::Path::new("t"),
            &crate::data::ReadOptions::default(),
        )
        .unwrap();
        let t = TestMatrix::new(&m, &data);
        assert_eq!(t.csr.ncols(), 4);
        assert_eq!(t.csr.row(0).0, &[2, 3]);
        assert_eq!(t.csr.row(1).0, &[0, 3]);
        assert_eq!((t.unknown_user_pairs, t.unknown_users), (1, 1));
        assert_eq!((t.unknown_item_pairs, t.test_only_items), (2, 1));
        let r = m.evaluate(&data, ColdStart::Drop).unwrap();
        assert_eq!((r.scored, r.dropped, r.unknown), (2, 3, 3));
        let r = m.evaluate(&data, ColdStart::Nan).unwrap();
        assert!(r.rmse.is_nan());
        assert_eq!((r.scored, r.dropped, r.unknown), (5, 0, 3));
        let _ = IdMap::new();
    }

    /// Top `k` by score (ties: smaller index), training items excluded, by a full sort.
    fn brute_recs(m: &Model, train: &Csr, u: usize, k: usize) -> Vec<u32> {
        let x = m.user_factors.row(u);
        let mut all: Vec<(u32, f32)> = (0..m.item_factors.rows())
            .filter(|&i| !train.row(u).0.contains(&(i as u32)))
            .map(|i| {
                let s: f32 = x.iter().zip(m.item_factors.row(i)).map(|(a, b)| a * b).sum();
                (i as u32, s)
            })
            .collect();
        all.sort_by(crate::topk::better);
        all.into_iter().take(k).map(|(i, _)| i).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The parallel implementation equals implicit's loop transcribed per user, on random
        /// small models with many score ties, random train/test matrices and test-only items.
        #[test]
        fn ranking_equals_reference(
            nu in 1usize..6, ni in 1usize..9, extra in 0usize..3, k in 1usize..6,
            fac in proptest::collection::vec(-2i8..3, 2 * 16),
            tr in proptest::collection::vec((0u32..6, 0u32..9), 0..20),
            te in proptest::collection::vec((0u32..6, 0u32..11), 0..20),
        ) {
            let f = |o: usize, n: usize| -> Vec<f32> { (0..n * 2).map(|j| f32::from(fac[(o + j) % fac.len()])).collect() };
            let m = model(f(0, nu), f(16, ni), nu, ni, 2);
            let ncols = ni + extra;
            let tr: Vec<_> = tr.into_iter().filter(|&(u, i)| (u as usize) < nu && (i as usize) < ni).collect();
            let te: Vec<_> = te.into_iter().filter(|&(u, i)| (u as usize) < nu && (i as usize) < ncols).collect();
            let csr = |p: &[(u32, u32)], c: usize| {
                let (r, cc): (Vec<u32>, Vec<u32>) = p.iter().copied().unzip();
                Csr::from_triplets(nu, c, &r, &cc, &vec![1.0; r.len()], Duplicates::Last)
            };
            let (train, test) = (csr(&tr, ni), csr(&te, ncols));
            let got = ranking_metrics_at_k(&m, &train, &test, k);
            let (mut users, mut hits, mut div, mut ap, mut ndcg, mut auc) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
            let (mut recall, mut hit_users) = (0.0, 0usize);
            for u in 0..nu {
                let likes = test.row(u).0;
                if likes.is_empty() {
                    continue;
                }
                let recs = brute_recs(&m, &train, u, k);
                let r = reference(&recs, likes, k, ncols);
                users += 1;
                hits += r.0;
                div += k.min(likes.len()) as f64;
                ap += r.1;
                ndcg += r.2;
                auc += r.3;
                recall += r.0 / likes.len() as f64;
                hit_users += usize::from(r.0 > 0.0);
            }
            proptest::prop_assert_eq!(got.users, users);
            if users > 0 {
                let n = users as f64;
                let close = |a: f64, b: f64| a == b || (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan());
                proptest::prop_assert!(close(got.precision, hits / div));
                proptest::prop_assert!(close(got.map, ap / n));
                proptest::prop_assert!(close(got.ndcg, ndcg / n));
                proptest::prop_assert!(close(got.auc, auc / n), "{} vs {}", got.auc, auc / n);
                proptest::prop_assert!(close(got.recall, recall / n));
                proptest::prop_assert!(close(got.hit_rate, hit_users as f64 / n));
            }
        }
    }
}
