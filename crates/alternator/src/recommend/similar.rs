//! Similar items and similar users: cosine similarity of factor vectors (`implicit`'s
//! `similar_items` / `similar_users`).

use super::{RecommendOptions, ScoredIndices, View, check_index, check_n, dot64};
use crate::error::{Error, IdKind, Result};
use crate::model::Model;
use crate::topk::top_k_into;

/// The N rows of `kind`'s side most similar to row `index` by cosine similarity of factors,
/// `cos(a, b) = aᵀb / (‖a‖ ‖b‖)` (f64, clamped to [−1, 1]); a zero-norm row has similarity 0
/// with everything. The query itself is excluded unless `include_self`. Only `opts.n`,
/// `opts.filter` and `opts.candidates` apply.
pub(crate) fn similar(
    model: &Model,
    kind: IdKind,
    index: u32,
    include_self: bool,
    opts: &RecommendOptions<'_>,
) -> Result<ScoredIndices> {
    check_index(model, kind, index)?;
    let q = side(model, kind).row(index as usize);
    similar_to(model, kind, q, (!include_self).then_some(index), opts)
}

/// The N rows of `kind`'s side most similar to the vector `q` (see [`similar`]), never
/// returning `exclude`.
pub(crate) fn similar_to(
    model: &Model,
    kind: IdKind,
    q: &[f32],
    exclude: Option<u32>,
    opts: &RecommendOptions<'_>,
) -> Result<ScoredIndices> {
    check_n(opts.n)?;
    let factors = side(model, kind);
    if q.len() != factors.rank() {
        return Err(Error::Invalid(format!(
            "a vector of length {} does not match the model's rank {}",
            q.len(),
            factors.rank()
        )));
    }
    let qn = dot64(q, q).sqrt();
    let view = View::new(factors.rows(), opts);
    let len = view.len();
    let mut scores = Vec::with_capacity(len);
    for v in 0..len as u32 {
        let y = factors.row(view.orig(v) as usize);
        let d = qn * dot64(y, y).sqrt();
        let c = if d > 0.0 { (dot64(q, y) / d).clamp(-1.0, 1.0) } else { 0.0 };
        scores.push(c as f32);
    }
    let skip = |v: u32| {
        let t = view.orig(v);
        view.filtered(t) || exclude == Some(t)
    };
    let mut items = top_k_into(&scores, opts.n, skip, &mut Vec::new());
    for p in &mut items {
        p.0 = view.orig(p.0);
    }
    let mut eligible = view.eligible(&[]);
    if let Some(x) = exclude {
        if view.in_view(x) && !view.filtered(x) {
            eligible = eligible.saturating_sub(1);
        }
    }
    Ok(ScoredIndices { items, eligible })
}

fn side(model: &Model, kind: IdKind) -> &crate::model::Factors {
    match kind {
        IdKind::Item => &model.item_factors,
        IdKind::User => &model.user_factors,
    }
}
