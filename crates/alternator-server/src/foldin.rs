//! Fold-in of a new user against a served model's fixed item factors.
//!
//! Interim implementation with the signature of `alternator::als::fold_in_user`
//! (`(model, items, values) -> (factors, bias)`), used until that function is merged into the
//! library; the server calls only [`fold_in_user`], so the swap is one line.
//!
//! One exact least-squares solve of the user's row, with the objective the model was trained
//! with (all sums over the items the user named, accumulated in f64):
//!
//! * explicit (Spark ALS-WR): `(Σ y_i y_iᵀ + λ·n·I) x = Σ r_i y_i`, `n` the number of items;
//!   with biases the targets are `r_i − μ − b_i` and the user bias `b` is solved jointly as
//!   an extra unit feature regularised by `λ·n`;
//! * implicit (Hu, Koren & Volinsky): `(YᵀY + Σ (c_i − 1) y_i y_iᵀ + λ'·I) x = Σ c_i p_i y_i`
//!   with `p_i = [r_i > 0]`; the `implicit` convention uses `c_i = α·|r_i|`, `λ' = λ`; Spark's
//!   uses `c_i = 1 + α·|r_i|`, `λ' = λ·n₊` (`n₊` positive entries).
//!
//! The non-negativity constraint of `--nonnegative` models is not applied here.

use alternator::params::Confidence;
use alternator::{Error, Model, Result};

/// `YᵀY` of the item factors (row-major `k × k`, f64), summed over items in index order.
pub fn item_gram(model: &Model) -> Vec<f64> {
    let k = model.rank();
    let mut g = vec![0f64; k * k];
    let y = &model.item_factors;
    for r in 0..y.rows() {
        let row = y.row(r);
        for a in 0..k {
            let ya = f64::from(row[a]);
            if ya == 0.0 {
                continue;
            }
            let out = &mut g[a * k..a * k + a + 1];
            for (b, o) in out.iter_mut().enumerate() {
                *o += ya * f64::from(row[b]);
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            g[b * k + a] = g[a * k + b];
        }
    }
    g
}

/// In-place Cholesky solve of the symmetric positive-definite `a` (row-major `n × n`) for `b`.
/// False when `a` is not positive definite.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for p in 0..j {
            d -= a[j * n + p] * a[j * n + p];
        }
        if d.is_nan() || d <= 0.0 {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for p in 0..j {
                s -= a[i * n + p] * a[j * n + p];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for p in 0..i {
            s -= a[i * n + p] * b[p];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for p in i + 1..n {
            s -= a[p * n + i] * b[p];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

/// Folds in a new user: see the module docs. `items` are item indices, `values` their ratings
/// or counts; `gram` is [`item_gram`] (needed for implicit models, ignored otherwise).
/// Returns the user factors and, for a model with biases, the user bias.
pub fn fold_in_user(
    model: &Model,
    gram: Option<&[f64]>,
    items: &[u32],
    values: &[f32],
) -> Result<(Vec<f32>, Option<f32>)> {
    let k = model.rank();
    let params = &model.params;
    if items.len() != values.len() {
        return Err(Error::Invalid(format!(
            "fold-in needs one value per item: got {} items and {} values",
            items.len(),
            values.len()
        )));
    }
    if let Some(&bad) = items.iter().find(|&&i| i as usize >= model.item_factors.rows()) {
        return Err(Error::Invalid(format!("item index {bad} is out of range")));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("fold-in values must be finite, found {v}")));
    }
    let lambda = f64::from(params.reg_param);
    let with_bias = !params.implicit_prefs && model.biases.is_some();
    let n = if with_bias { k + 1 } else { k };
    let mut a = vec![0f64; n * n];
    let mut b = vec![0f64; n];
    let mut feat = vec![0f64; n];
    if params.implicit_prefs {
        let Some(g) = gram.filter(|g| g.len() == k * k) else {
            return Err(Error::Invalid("implicit fold-in needs the item Gram matrix".into()));
        };
        a.copy_from_slice(g);
        let alpha = f64::from(params.alpha);
        let mut positives = 0usize;
        for (&i, &r) in items.iter().zip(values) {
            let r = f64::from(r);
            let c = match params.confidence {
                Confidence::Implicit => alpha * r.abs(),
                Confidence::Spark => 1.0 + alpha * r.abs(),
            };
            let p = if r > 0.0 { 1.0 } else { 0.0 };
            positives += usize::from(r > 0.0);
            let y = model.item_factors.row(i as usize);
            for (f, &v) in feat.iter_mut().zip(y) {
                *f = f64::from(v);
            }
            for s in 0..k {
                b[s] += c * p * feat[s];
                for t in 0..k {
                    a[s * k + t] += (c - 1.0) * feat[s] * feat[t];
                }
            }
        }
        if positives == 0 {
            return Ok((vec![0.0; k], None));
        }
        let reg = match params.confidence {
            Confidence::Implicit => lambda,
            Confidence::Spark => lambda * positives as f64,
        };
        for s in 0..k {
            a[s * k + s] += reg;
        }
    } else {
        let biases = model.biases.as_ref();
        for (&i, &r) in items.iter().zip(values) {
            let mut target = f64::from(r);
            if let Some(bs) = biases {
                target -= f64::from(bs.global)
                    + f64::from(bs.item.get(i as usize).copied().unwrap_or(0.0));
            }
            let y = model.item_factors.row(i as usize);
            for (f, &v) in feat.iter_mut().zip(y) {
                *f = f64::from(v);
            }
            if with_bias {
                feat[k] = 1.0;
            }
            for s in 0..n {
                b[s] += target * feat[s];
                for t in 0..n {
                    a[s * n + t] += feat[s] * feat[t];
                }
            }
        }
        let reg = lambda * items.len() as f64;
        for s in 0..n {
            a[s * n + s] += reg;
        }
    }
    if !cholesky_solve(&mut a, &mut b, n) {
        return Err(Error::Invalid(format!(
            "the fold-in normal equations are singular (reg-param {}); name more items or retrain with --reg-param > 0",
            params.reg_param
        )));
    }
    let x: Vec<f32> = b[..k].iter().map(|&v| v as f32).collect();
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Invalid("fold-in produced non-finite factors".into()));
    }
    Ok((x, with_bias.then(|| b[k] as f32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_small_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        assert!(cholesky_solve(&mut a, &mut b, 2));
        // 4x + 2y = 2, 2x + 3y = 1 → x = 0.5, y = 0.
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12);
        let mut a = vec![0.0, 0.0, 0.0, 0.0];
        let mut b = vec![1.0, 1.0];
        assert!(!cholesky_solve(&mut a, &mut b, 2));
    }
}
