//! Continuing from factors a caller holds: the checks of a warm start
//! ([`Als::initial_factors`](crate::Als::initial_factors)), the training loss of any factors
//! ([`training_loss`]), and new factors for many rows at once against a trained model's fixed
//! other side ([`Model::fold_in_rows`], `implicit`'s `recalculate_user` /
//! `recalculate_item` / `partial_fit_users` for a batch).

use rayon::prelude::*;

use super::{BIAS_REG_SCALE, gram, implicit, weights};
use crate::error::{Error, IdKind, Result};
use crate::kernels::{self, Scratch};
use crate::model::{Factors, Model};
use crate::params::AlsParams;
use crate::sparse::Csr;

/// Checks a warm start: `users × rank` and `items × rank` factors, all finite.
pub(super) fn check_start(
    user_factors: &Factors,
    item_factors: &Factors,
    users: usize,
    items: usize,
    rank: usize,
) -> Result<()> {
    for (f, n, side) in [(user_factors, users, "user"), (item_factors, items, "item")] {
        if f.rows() != n || f.rank() != rank {
            return Err(Error::param(
                "initial_factors",
                format!(
                    "the {side} factors are {} × {} but the data has {n} {side}s and the rank is \
                     {rank}",
                    f.rows(),
                    f.rank()
                ),
            ));
        }
        if !f.all_finite() {
            return Err(Error::param(
                "initial_factors",
                format!("the {side} factors contain NaN or infinite values"),
            ));
        }
    }
    Ok(())
}

/// The implicit-feedback training loss of `user_factors` and `item_factors` on `user_items`
/// (users × items), `implicit`'s `calculate_loss` under [`Confidence::Implicit`]
/// (`c = α·|r|`) and its analogue under [`Confidence::Spark`]:
///
/// ```text
/// loss = [Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ_u w_u‖x_u‖² + Σ_i w_i‖y_i‖²)] / (Σ_obs c + |U|·|I| − nnz)
/// ```
///
/// with `p = 1` for a positive entry and 0 otherwise, `c = 1` for every unobserved pair, and
/// `w = 1` (`implicit`) or the row's number of positive entries (Spark). Only `alpha`,
/// `reg_param` and `confidence` of `params` are used (`implicit`'s `calculate_loss(Cui, X, Y,
/// regularization)` is this with α = 1, its `Cui` already holding the confidences).
///
/// Errors: factors whose shapes do not match `user_items` or each other
/// ([`Error::Invalid`]), and an invalid `alpha` or `reg_param` ([`Error::InvalidParameter`]).
///
/// [`Confidence::Implicit`]: crate::Confidence::Implicit
/// [`Confidence::Spark`]: crate::Confidence::Spark
pub fn training_loss(
    user_items: &Csr,
    user_factors: &Factors,
    item_factors: &Factors,
    params: &AlsParams,
) -> Result<f64> {
    let rank = user_factors.rank();
    if item_factors.rank() != rank
        || user_factors.rows() != user_items.nrows()
        || item_factors.rows() != user_items.ncols()
    {
        return Err(Error::Invalid(format!(
            "the training loss needs {} × k user factors and {} × k item factors, got {} × {} \
             and {} × {}",
            user_items.nrows(),
            user_items.ncols(),
            user_factors.rows(),
            rank,
            item_factors.rows(),
            item_factors.rank()
        )));
    }
    let params = AlsParams { rank: rank.max(1), implicit_prefs: true, ..params.clone() };
    params.validate()?;
    if let Some(v) = user_items.values().iter().find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("the values must be finite, found {v}")));
    }
    let item_users = user_items.transpose();
    Ok(implicit::training_loss(user_items, &item_users, user_factors, item_factors, &params))
}

impl Model {
    /// New factors for many rows of one side at once, each solved exactly against the
    /// model's fixed factors of the other side with the objective the model was trained with
    /// (the solve of [`Model::fold_in`], batched): `kind` is the side being solved and `rows`
    /// holds one row per new vector, its columns being indices of the *other* side (for
    /// [`IdKind::User`], rows are users' items and values; for [`IdKind::Item`], items'
    /// users). Row `r` of the result is:
    ///
    /// * implicit feedback: `x = (YᵀY + Yᵀ(C_r − I)Y + λ_r I)⁻¹ Yᵀ C_r p_r`, with the model's
    ///   confidence convention (`implicit`'s `recalculate_user` / `recalculate_item`);
    /// * explicit ratings: `x = (Y_rᵀY_r + λ·n_r·I)⁻¹ Y_rᵀ r` (ALS-WR, non-negative when
    ///   trained so; without biases: a model with biases reports [`Error::Invalid`]).
    ///
    /// A row without entries (or whose values are all 0 under implicit feedback) gets zero
    /// factors. `YᵀY` is computed once for the batch; rows are solved in parallel on the
    /// current rayon pool, each independently, so the result does not depend on threads.
    ///
    /// Errors: a column outside the other side ([`Error::IndexOutOfRange`]), a non-finite
    /// value ([`Error::Invalid`]), and a singular system ([`Error::Singular`], with
    /// `reg_param` 0).
    pub fn fold_in_rows(&self, kind: IdKind, rows: &Csr) -> Result<Factors> {
        let (src, other) = match kind {
            IdKind::User => (&self.item_factors, IdKind::Item),
            IdKind::Item => (&self.user_factors, IdKind::User),
        };
        if self.biases.is_some() {
            return Err(Error::Invalid(
                "fold_in_rows solves factors without biases; this model was trained with \
                 biases (use Model::fold_in for a user)"
                    .into(),
            ));
        }
        if let Some(&bad) = rows.indices().iter().find(|&&c| c as usize >= src.rows()) {
            return Err(Error::IndexOutOfRange {
                kind: other,
                index: u64::from(bad),
                len: src.rows() as u64,
            });
        }
        if let Some(v) = rows.values().iter().find(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!("fold-in values must be finite, found {v}")));
        }
        let params = &self.params;
        let k = src.rank();
        let mut out = Factors::zeros(rows.nrows(), k);
        if k == 0 {
            return Ok(out);
        }
        let yty = if params.implicit_prefs { gram(src) } else { Vec::new() };
        let conf = weights(params);
        let y = src.as_slice();
        let failed = out
            .as_mut_slice()
            .par_chunks_mut(k)
            .enumerate()
            .with_min_len(8)
            .map_init(
                || Scratch::new(k + 1),
                |s, (r, x)| {
                    let (idx, vals) = rows.row(r);
                    if idx.is_empty() || (params.implicit_prefs && vals.iter().all(|&v| v == 0.0)) {
                        return false;
                    }
                    if params.implicit_prefs {
                        let diag = implicit::row_diag(params, vals);
                        !kernels::implicit_cholesky_row(&yty, diag, y, idx, vals, conf, x, s)
                    } else {
                        let row = kernels::ExplicitRow {
                            y,
                            k,
                            idx,
                            vals,
                            biases: None,
                            reg: params.reg_param,
                            reg_bias: params.reg_param * BIAS_REG_SCALE,
                            nonnegative: params.nonnegative,
                        };
                        let mut bias = 0f32;
                        kernels::explicit_row(&row, x, &mut bias, s).is_none()
                    }
                },
            )
            .any(|bad| bad);
        if failed || !out.all_finite() {
            return Err(Error::Singular { reg_param: params.reg_param });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Als, Duplicates, Interactions, Solver};

    /// A matrix from `(row, column, value)` triplets, repeated pairs kept.
    fn matrix(nrows: usize, ncols: usize, t: &[(u32, u32, f32)]) -> Csr {
        let r: Vec<u32> = t.iter().map(|x| x.0).collect();
        let c: Vec<u32> = t.iter().map(|x| x.1).collect();
        let v: Vec<f32> = t.iter().map(|x| x.2).collect();
        Csr::from_triplets(nrows, ncols, &r, &c, &v, Duplicates::Keep)
    }

    fn plays() -> Interactions {
        let mut b = Interactions::builder();
        for u in 0..12u32 {
            for i in 0..9u32 {
                if (u + i) % 3 == 0 || (u * i) % 5 == 1 {
                    b.push(&format!("u{u}"), &format!("i{i}"), 1.0 + ((u + 2 * i) % 4) as f32);
                }
            }
        }
        b.build().unwrap_or_default()
    }

    #[test]
    fn loss_matches_implicit_definition() {
        // One user who liked item 0 and not item 1; factors perfectly wrong.
        let m = matrix(1, 2, &[(0, 0, 1.0)]);
        let x = Factors::from_vec(1, 1, vec![1.0]).unwrap_or_default();
        let y = Factors::from_vec(2, 1, vec![0.0, 1.0]).unwrap_or_default();
        let p = AlsParams { reg_param: 0.0, ..AlsParams::implicit() };
        let l = training_loss(&m, &x, &y, &p).map_err(|e| e.to_string());
        assert!((l.clone().unwrap_or(f64::NAN) - 1.0).abs() < 1e-9, "{l:?}");
        let p1 = AlsParams { reg_param: 1.0, ..p.clone() };
        let l1 = training_loss(&m, &x, &y, &p1).unwrap_or(f64::NAN);
        assert!((l1 - 2.0).abs() < 1e-9, "{l1}");
        let bad = Factors::zeros(3, 1);
        assert!(matches!(training_loss(&m, &bad, &y, &p), Err(Error::Invalid(_))));
    }

    #[test]
    fn warm_start_continues_and_checks_shapes() {
        let data = plays();
        let base = Als::implicit().rank(4).max_iter(6).solver(Solver::Cholesky).fit(&data);
        let Ok(base) = base else { panic!("fit failed") };
        // Three iterations, then three more from there, equal six from the start (Cholesky
        // solves do not depend on the previous factors of the side being solved).
        let Ok(three) = Als::implicit().rank(4).max_iter(3).solver(Solver::Cholesky).fit(&data)
        else {
            panic!("fit failed")
        };
        let parts = three.into_parts();
        let Ok(more) = Als::implicit()
            .rank(4)
            .max_iter(3)
            .solver(Solver::Cholesky)
            .initial_factors(parts.user_factors, parts.item_factors)
            .fit(&data)
        else {
            panic!("warm fit failed")
        };
        assert_eq!(more.user_factors(), base.user_factors());
        assert_eq!(more.item_factors(), base.item_factors());
        let wrong = Als::implicit()
            .rank(4)
            .initial_factors(Factors::zeros(2, 4), Factors::zeros(9, 4))
            .fit(&data);
        assert!(
            matches!(wrong, Err(Error::InvalidParameter { name: "initial_factors", .. })),
            "{wrong:?}"
        );
    }

    #[test]
    fn cancel_stops_with_a_typed_error() {
        let data = plays();
        let mut seen = 0;
        let r = Als::implicit()
            .rank(3)
            .max_iter(10)
            .on_iteration_control(|it| {
                seen = it.iteration;
                if it.iteration == 2 {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            })
            .fit(&data);
        assert!(matches!(r, Err(Error::Cancelled { iteration: 2 })), "{r:?}");
        assert_eq!(seen, 2);
    }

    #[test]
    fn fold_in_rows_equals_fold_in_one_at_a_time() {
        let data = plays();
        for als in [Als::implicit().rank(4).reg_param(0.1), Als::explicit().rank(3)] {
            let mut als = als;
            let Ok(model) = als.fit(&data) else { panic!("fit failed") };
            let rows = model.training_matrix().clone();
            let Ok(all) = model.fold_in_rows(IdKind::User, &rows) else { panic!("fold-in") };
            for u in 0..rows.nrows() {
                let (idx, vals) = rows.row(u);
                let Ok((one, _)) = super::super::fold_in_user(&model, idx, vals) else {
                    panic!("fold-in one")
                };
                for (a, b) in all.row(u).iter().zip(&one) {
                    assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
                }
            }
            // Items against the user factors; an empty row gets zeros.
            let items = matrix(2, model.users().len(), &[(0, 1, 2.0), (0, 3, 1.0)]);
            let Ok(f) = model.fold_in_rows(IdKind::Item, &items) else { panic!("items") };
            assert_eq!(f.rows(), 2);
            assert!(f.row(1).iter().all(|&v| v == 0.0));
            let out = matrix(1, 99, &[(0, 98, 1.0)]);
            assert!(matches!(
                model.fold_in_rows(IdKind::User, &out),
                Err(Error::IndexOutOfRange { kind: IdKind::Item, index: 98, .. })
            ));
        }
    }
}
