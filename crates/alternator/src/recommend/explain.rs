//! Why a user gets an item: the user's least-squares solve written as weights over the items
//! they interacted with (`implicit`'s `explain`; Hu, Koren & Volinsky, section 5).
//!
//! See [`Explanation`] for the maths.

use serde::Serialize;

use crate::error::{Error, IdKind, Result};
use crate::model::Model;
use crate::params::Confidence;

/// The Cholesky factor `L` (`A = L Lᵀ`, lower triangular, row-major `rank × rank`, f64) of a
/// user's normal equations (see [`Explanation`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWeights {
    rank: usize,
    lower: Vec<f64>,
}

impl UserWeights {
    /// Wraps a lower-triangular factor given row-major (entries above the diagonal are
    /// ignored). `None` unless it is `rank × rank`, finite, with a positive diagonal.
    pub fn from_lower(rank: usize, lower: Vec<f64>) -> Option<UserWeights> {
        let ok = rank.checked_mul(rank) == Some(lower.len())
            && lower.iter().all(|v| v.is_finite())
            && (0..rank).all(|i| lower.get(i * rank + i).is_some_and(|&d| d > 0.0));
        ok.then(|| {
            let mut lower = lower;
            for i in 0..rank {
                for j in i + 1..rank {
                    lower[i * rank + j] = 0.0;
                }
            }
            UserWeights { rank, lower }
        })
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// `L`, row-major, zero above the diagonal.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// Solves `A z = v` (`L Lᵀ z = v`).
    fn solve(&self, v: &[f32]) -> Vec<f64> {
        let k = self.rank;
        let l = &self.lower;
        let mut z: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        for i in 0..k {
            let mut s = z[i];
            for j in 0..i {
                s -= l[i * k + j] * z[j];
            }
            z[i] = s / l[i * k + i];
        }
        for i in (0..k).rev() {
            let mut s = z[i];
            for j in i + 1..k {
                s -= l[j * k + i] * z[j];
            }
            z[i] = s / l[i * k + i];
        }
        z
    }
}

/// The explanation of one (user, item) score ([`Model::explain`]).
///
/// A user (known or new) is described by the items they interacted with, `(j, r_j)`. Their
/// factors are one solve against the fixed item factors `Y`, `x = A⁻¹ b` with
/// `b = Σ_j w_j y_j`, where for the model's objective
///
/// ```text
/// implicit (implicit's convention): A = YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λ I,    c_j = α|r_j|
/// implicit (Spark's convention):    A = YᵀY + Σ_j (c_j − 1) y_j y_jᵀ + λ n⁺ I, c_j = 1 + α|r_j|
///                                   w_j = c_j when r_j > 0, else 0
/// explicit (ALS-WR):                A = Σ_j y_j y_jᵀ + λ n I,                 w_j = r_j
/// ```
///
/// so the score of item `i` splits into one term per interacted item:
///
/// ```text
/// s(i) = y_iᵀ x = Σ_j w_j (y_iᵀ A⁻¹ y_j)
/// ```
///
/// (`A⁻¹` plays the role of the user's "weights" `W_u`: the similarity of `i` and `j` as this
/// user sees them). The Cholesky factor of `A` ([`UserWeights`]) depends only on the user,
/// so it is returned for reuse across items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The score `s(i) = Σ_j w_j y_iᵀ A⁻¹ y_j` over all the user's items (equal to
    /// `y_iᵀ x` for the folded-in user `x`).
    pub score: f64,
    /// The largest contributions `(item index, w_j y_iᵀ A⁻¹ y_j)`, largest first.
    pub contributions: Vec<(u32, f64)>,
}

impl Model {
    /// The Cholesky factor of the normal equations of a user who interacted with `items`
    /// (item indices) with `values` (see [`Explanation`]).
    ///
    /// Errors: a model with biases or lengths that differ ([`Error::Invalid`]), an item out
    /// of range ([`Error::IndexOutOfRange`]), a non-finite value, and a system that is not
    /// positive definite ([`Error::Singular`]).
    pub fn user_weights(&self, items: &[u32], values: &[f32]) -> Result<UserWeights> {
        self.check_explainable(items, values)?;
        let k = self.rank();
        let y = &self.item_factors;
        let p = &self.params;
        let mut a = vec![0f64; k * k];
        let add = |a: &mut [f64], row: &[f32], w: f64| {
            for r in 0..k {
                let yr = f64::from(row[r]) * w;
                for c in 0..=r {
                    a[r * k + c] += yr * f64::from(row[c]);
                }
            }
        };
        let diag = if p.implicit_prefs {
            for i in 0..y.rows() {
                add(&mut a, y.row(i), 1.0);
            }
            for (&j, &r) in items.iter().zip(values) {
                let c = confidence(p.confidence, p.alpha, r);
                add(&mut a, y.row(j as usize), c - 1.0);
            }
            match p.confidence {
                Confidence::Implicit => f64::from(p.reg_param),
                Confidence::Spark => {
                    f64::from(p.reg_param) * values.iter().filter(|&&v| v > 0.0).count() as f64
                }
            }
        } else {
            for &j in items {
                add(&mut a, y.row(j as usize), 1.0);
            }
            f64::from(p.reg_param) * items.len() as f64
        };
        for i in 0..k {
            a[i * k + i] += diag;
        }
        // In-place Cholesky of the lower triangle.
        for j in 0..k {
            let mut d = a[j * k + j];
            for m in 0..j {
                d -= a[j * k + m] * a[j * k + m];
            }
            if !(d > 0.0 && d.is_finite()) {
                return Err(Error::Singular { reg_param: p.reg_param });
            }
            let d = d.sqrt();
            a[j * k + j] = d;
            for i in j + 1..k {
                let mut s = a[i * k + j];
                for m in 0..j {
                    s -= a[i * k + m] * a[j * k + m];
                }
                a[i * k + j] = s / d;
            }
        }
        UserWeights::from_lower(k, a).ok_or(Error::Singular { reg_param: p.reg_param })
    }

    /// Explains the score of `item` for a user who interacted with `items` (item indices)
    /// with `values`: the score and the `n` largest per-item contributions, largest first
    /// (see [`Explanation`]); `weights` is [`Model::user_weights`] of the same user
    /// when already computed. Under implicit feedback an item with a value ≤ 0 contributes
    /// nothing (its preference is 0).
    ///
    /// Errors: those of [`Model::user_weights`], an `item` out of range
    /// ([`Error::IndexOutOfRange`]), and `weights` of another rank ([`Error::Invalid`]).
    pub fn explain(
        &self,
        items: &[u32],
        values: &[f32],
        item: u32,
        weights: Option<&UserWeights>,
        n: usize,
    ) -> Result<Explanation> {
        super::check_index(self, IdKind::Item, item)?;
        let computed;
        let w = match weights {
            Some(w) => {
                self.check_explainable(items, values)?;
                if w.rank() != self.rank() {
                    return Err(Error::Invalid(format!(
                        "user weights of rank {} do not match the model's rank {}",
                        w.rank(),
                        self.rank()
                    )));
                }
                w
            }
            None => {
                computed = self.user_weights(items, values)?;
                &computed
            }
        };
        let z = w.solve(self.item_factors.row(item as usize));
        let p = &self.params;
        let mut terms: Vec<(u32, f64)> = Vec::with_capacity(items.len());
        let mut score = 0f64;
        for (&j, &r) in items.iter().zip(values) {
            if p.implicit_prefs && r <= 0.0 {
                continue;
            }
            let weight =
                if p.implicit_prefs { confidence(p.confidence, p.alpha, r) } else { f64::from(r) };
            let yj = self.item_factors.row(j as usize);
            let s: f64 = z.iter().zip(yj).map(|(a, &b)| a * f64::from(b)).sum::<f64>() * weight;
            score += s;
            terms.push((j, s));
        }
        terms.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        terms.truncate(n);
        Ok(Explanation { score, contributions: terms })
    }

    fn check_explainable(&self, items: &[u32], values: &[f32]) -> Result<()> {
        if self.biases.is_some() {
            return Err(Error::Invalid(
                "explanations are for models without biases; this one was trained with biases"
                    .into(),
            ));
        }
        if items.len() != values.len() {
            return Err(Error::Invalid(format!(
                "an explanation needs one value per item: got {} items and {} values",
                items.len(),
                values.len()
            )));
        }
        let len = self.item_factors.rows();
        if let Some(&bad) = items.iter().find(|&&j| j as usize >= len) {
            return Err(Error::IndexOutOfRange {
                kind: IdKind::Item,
                index: u64::from(bad),
                len: len as u64,
            });
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!("the values must be finite, found {v}")));
        }
        Ok(())
    }
}

/// One item's part in an explained score ([`ItemExplanation`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Contribution {
    /// The item the user interacted with.
    pub item: String,
    /// The user's value for it (rating or count) as the solve used it.
    pub value: f32,
    /// Its share of the score, in score units: `w_j y_iᵀ A⁻¹ y_j` (see [`Explanation`]).
    /// The shares of all the user's items add up to the score.
    pub share: f64,
}

/// Why a user gets an item, in ids ([`Model::explain_user`], [`Model::explain_folded`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ItemExplanation {
    /// The item explained.
    pub item: String,
    /// Its score for the user re-solved against the item factors (see [`Explanation`]): for
    /// a new user the score they are recommended by; for a known user it differs from the
    /// model's prediction by what the last ALS half-step changed in the item factors.
    pub score: f64,
    /// The largest shares, largest first (ties by item index), at most `n`.
    pub contributions: Vec<Contribution>,
    /// The sum of the shares not listed: `score = Σ contributions + others`.
    pub others: f64,
    /// How many of the user's items are not listed.
    pub others_count: usize,
}

impl Model {
    /// Explains the score of `item` for the known user `user` from their training
    /// interactions: the `n` items that contribute most (see [`Explanation`]).
    ///
    /// Errors: an unknown user or item ([`Error::UnknownId`]), `n` of 0
    /// ([`Error::InvalidParameter`]), and those of [`Model::explain`] (a model with biases,
    /// a system that is not positive definite).
    pub fn explain_user(&self, user: &str, item: &str, n: usize) -> Result<ItemExplanation> {
        super::check_n(n)?;
        let u = self.index_of(IdKind::User, user)?;
        let i = self.index_of(IdKind::Item, item)?;
        let (items, values) = self.training_matrix().row(u as usize);
        self.explain_ids(items, values, i, n)
    }

    /// Explains the score of `item` for a new user folded in by [`Model::fold_in`] (the
    /// score [`Model::recommend_folded`] ranks by): the `n` liked items that contribute most.
    ///
    /// Errors: as [`Model::explain_user`].
    pub fn explain_folded(
        &self,
        user: &super::FoldedUser,
        item: &str,
        n: usize,
    ) -> Result<ItemExplanation> {
        super::check_n(n)?;
        let i = self.index_of(IdKind::Item, item)?;
        self.explain_ids(&user.items, &user.values, i, n)
    }

    fn explain_ids(
        &self,
        items: &[u32],
        values: &[f32],
        item: u32,
        n: usize,
    ) -> Result<ItemExplanation> {
        let all = self.explain(items, values, item, None, usize::MAX)?;
        let value_of = |j: u32| items.iter().position(|&x| x == j).and_then(|k| values.get(k));
        let listed = all.contributions.len().min(n);
        let others: f64 = all.contributions.iter().skip(listed).map(|c| c.1).sum();
        let contributions = all
            .contributions
            .iter()
            .take(listed)
            .map(|&(j, share)| Contribution {
                item: self.id_at(IdKind::Item, j).to_string(),
                value: value_of(j).copied().unwrap_or(0.0),
                share,
            })
            .collect();
        Ok(ItemExplanation {
            item: self.id_at(IdKind::Item, item).to_string(),
            score: all.score,
            contributions,
            others,
            others_count: all.contributions.len() - listed,
        })
    }
}

/// The confidence of an observed entry with value `r`.
fn confidence(convention: Confidence, alpha: f32, r: f32) -> f64 {
    let c = f64::from(alpha) * f64::from(r.abs());
    match convention {
        Confidence::Implicit => c,
        Confidence::Spark => 1.0 + c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Als, Confidence, Interactions, NewUser, Solver};

    fn data() -> Interactions {
        let mut b = Interactions::builder();
        for u in 0..15u32 {
            for i in 0..12u32 {
                if (u * 3 + i * 5) % 4 == 0 || (u + i) % 7 == 0 {
                    b.push(&u.to_string(), &i.to_string(), 1.0 + ((u + i) % 5) as f32);
                }
            }
        }
        let Ok(d) = b.build() else { panic!("data") };
        d
    }

    #[test]
    fn contributions_add_up_to_the_folded_in_score() {
        let d = data();
        let fits = [
            Als::implicit().rank(4).reg_param(0.5).alpha(2.0).solver(Solver::Cholesky),
            Als::implicit().rank(4).confidence(Confidence::Spark),
            Als::explicit().rank(3),
        ];
        for mut als in fits {
            let Ok(m) = als.fit(&d) else { panic!("fit") };
            let (items, values) = m.training_matrix().row(2);
            let (items, values) = (items.to_vec(), values.to_vec());
            let mut who = NewUser::new();
            for (&j, &v) in items.iter().zip(&values) {
                who.rate(m.id_at(IdKind::Item, j), v);
            }
            let Ok(folded) = m.fold_in(&who, None) else { panic!("fold-in") };
            for target in [0u32, 5, 11] {
                let Ok(e) = m.explain(&items, &values, target, None, 3) else { panic!("explain") };
                let y = m.item_factors().row(target as usize);
                let direct: f64 =
                    folded.factors.iter().zip(y).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
                assert!((e.score - direct).abs() < 1e-4 * (1.0 + direct.abs()), "{e:?} {direct}");
                assert!(e.contributions.len() <= 3);
                assert!(e.contributions.windows(2).all(|w| w[0].1 >= w[1].1));
                // Reusing the weights gives the same answer.
                let Ok(w) = m.user_weights(&items, &values) else { panic!("weights") };
                let Ok(again) = m.explain(&items, &values, target, Some(&w), 3) else {
                    panic!("again")
                };
                assert_eq!(again, e);
            }
        }
    }

    #[test]
    fn id_explanations_add_up_and_match_the_fold_in() {
        let d = data();
        for mut als in [Als::implicit().rank(4).alpha(2.0), Als::explicit().rank(3)] {
            let Ok(m) = als.fit(&d) else { panic!("fit") };
            let mut who = NewUser::new();
            who.rate("1", 5.0).rate("4", 2.0).like("7");
            let Ok(folded) = m.fold_in(&who, None) else { panic!("fold-in") };
            let opts = crate::RecommendOptions::top(3);
            let Ok(recs) = m.recommend_folded(&folded, &opts) else { panic!("recommend") };
            for r in &recs.results {
                let Ok(e) = m.explain_folded(&folded, &r.item, 2) else { panic!("explain") };
                assert_eq!(e.item, r.item);
                assert!((e.score - f64::from(r.score)).abs() < 1e-4, "{e:?} {r:?}");
                let sum: f64 = e.contributions.iter().map(|c| c.share).sum::<f64>() + e.others;
                assert!((sum - e.score).abs() < 1e-9, "{e:?}");
                assert_eq!(e.contributions.len() + e.others_count, 3);
            }
            let Ok(e) = m.explain_user("2", "5", 100) else { panic!("known user") };
            assert_eq!(e.others_count, 0);
            let (items, _) =
                m.training_matrix().row(m.index_of(IdKind::User, "2").unwrap_or(0) as usize);
            assert_eq!(e.contributions.len(), items.len());
            assert!(matches!(m.explain_user("nobody", "5", 3), Err(Error::UnknownId { .. })));
            assert!(matches!(m.explain_user("2", "nothing", 3), Err(Error::UnknownId { .. })));
            assert!(matches!(m.explain_user("2", "5", 0), Err(Error::InvalidParameter { .. })));
        }
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let mut als = Als::implicit().rank(3);
        let Ok(m) = als.fit(&data()) else { panic!("fit") };
        assert!(matches!(
            m.explain(&[0], &[1.0], 99, None, 3),
            Err(Error::IndexOutOfRange { kind: IdKind::Item, .. })
        ));
        assert!(matches!(m.explain(&[0, 1], &[1.0], 0, None, 3), Err(Error::Invalid(_))));
        let Some(w) = UserWeights::from_lower(2, vec![1.0, 9.0, 0.5, 2.0]) else { panic!() };
        assert_eq!(w.lower(), &[1.0, 0.0, 0.5, 2.0]);
        assert!(matches!(m.explain(&[0], &[1.0], 0, Some(&w), 3), Err(Error::Invalid(_))));
        assert!(UserWeights::from_lower(2, vec![0.0, 0.0, 0.0, 1.0]).is_none());
    }
}
