//! Folds: the train and validation parts of each (configuration, fold) task in a compact
//! index space, and the validation metric of a snapshot of the factors.

use super::{Metric, TuneOptions, Validation};
use crate::als::observe::Snapshot;
use crate::data::Interactions;
use crate::error::{Error, Result};
use crate::evaluate::{ranking_metrics_at_k, regression_metrics};
use crate::ids::IdMap;
use crate::model::{Biases, Model, TrainingSummary};
use crate::params::AlsParams;
use crate::rng::SplitMix64;
use crate::sparse::{Csr, Duplicates};

/// One fold's train and validation parts, in the fold's compact index space (only users and
/// items with training interactions get an index).
#[derive(Debug, Clone)]
pub(super) struct Fold {
    /// Training matrix, compact users × compact items.
    pub(super) train: Csr,
    /// Validation pairs `(compact user, compact item, value)` with both known.
    pub(super) pairs: Vec<(u32, u32, f32)>,
    /// Validation matrix for ranking: compact users × (compact items + unknown items).
    pub(super) test: Csr,
    /// Validation pairs left out of the regression metrics (cold start).
    pub(super) dropped: usize,
    /// Training value range.
    pub(super) range: (f32, f32),
}

/// Builds one fold from training pair indices and validation pairs `(user, item, value)` given
/// in the full index space, where items `≥ data.items.len()` are items of a validation file
/// the training data never saw (`n_valid_items` of them at most) and users may be unknown.
fn build_fold(
    data: &Interactions,
    train_idx: &[usize],
    valid: &[(Option<u32>, u32, f32)],
    n_valid_items: usize,
    dup: Duplicates,
) -> Fold {
    let nu = data.users.len();
    let ni = data.items.len();
    let mut umap: Vec<Option<u32>> = vec![None; nu];
    let mut imap: Vec<Option<u32>> = vec![None; ni];
    let (mut nu_c, mut ni_c) = (0u32, 0u32);
    let (mut rows, mut cols, mut vals) = (
        Vec::with_capacity(train_idx.len()),
        Vec::with_capacity(train_idx.len()),
        Vec::with_capacity(train_idx.len()),
    );
    let mut range = (f32::INFINITY, f32::NEG_INFINITY);
    for &k in train_idx {
        let (Some(&u), Some(&i), Some(&v)) =
            (data.user_idx.get(k), data.item_idx.get(k), data.values.get(k))
        else {
            continue;
        };
        let (Some(us), Some(is)) = (umap.get_mut(u as usize), imap.get_mut(i as usize)) else {
            continue;
        };
        let cu = *us.get_or_insert_with(|| {
            nu_c += 1;
            nu_c - 1
        });
        let ci = *is.get_or_insert_with(|| {
            ni_c += 1;
            ni_c - 1
        });
        rows.push(cu);
        cols.push(ci);
        vals.push(v);
        range = (range.0.min(v), range.1.max(v));
    }
    let train = Csr::from_triplets(nu_c as usize, ni_c as usize, &rows, &cols, &vals, dup);
    let mut pairs = Vec::with_capacity(valid.len());
    let mut dropped = 0usize;
    // Validation items without training interactions get columns after the fold's items.
    let mut extra: Vec<Option<u32>> = vec![None; ni + n_valid_items];
    let mut next_col = ni_c;
    let (mut trows, mut tcols) = (Vec::new(), Vec::new());
    for &(u, i, v) in valid {
        let cu = u.and_then(|u| umap.get(u as usize).copied().flatten());
        let ci = imap.get(i as usize).copied().flatten();
        match (cu, ci) {
            (Some(cu), Some(ci)) => pairs.push((cu, ci, v)),
            _ => dropped += 1,
        }
        let Some(cu) = cu else { continue };
        let col = match ci {
            Some(ci) => ci,
            None => {
                let Some(slot) = extra.get_mut(i as usize) else { continue };
                *slot.get_or_insert_with(|| {
                    next_col += 1;
                    next_col - 1
                })
            }
        };
        trows.push(cu);
        tcols.push(col);
    }
    let ones = vec![1.0f32; trows.len()];
    let test = Csr::from_triplets(
        nu_c as usize,
        next_col as usize,
        &trows,
        &tcols,
        &ones,
        Duplicates::Last,
    );
    if range.0 > range.1 {
        range = (0.0, 0.0);
    }
    Fold { train, pairs, test, dropped, range }
}

/// The folds of `validation` over `data`, deterministic for `seed`.
pub(super) fn make_folds(
    data: &Interactions,
    validation: &Validation<'_>,
    seed: u64,
    dup: Duplicates,
) -> Result<Vec<Fold>> {
    if data.is_empty() {
        return Err(Error::Empty {
            path: data.path.clone(),
            message: "no training interactions".into(),
        });
    }
    let n = data.len();
    let full = |k: usize| {
        (
            data.user_idx.get(k).copied(),
            data.item_idx.get(k).copied().unwrap_or(u32::MAX),
            data.values.get(k).copied().unwrap_or(0.0),
        )
    };
    match *validation {
        Validation::Holdout(v) => {
            if v.is_empty() {
                return Err(Error::Empty {
                    path: v.path.clone(),
                    message: "no validation interactions".into(),
                });
            }
            let umap: Vec<Option<u32>> = v.users.ids().map(|id| data.users.get(id)).collect();
            // Items unknown to the training data: index `ni + their index in the file`.
            let ni = data.items.len() as u32;
            let imap: Vec<u32> = v
                .items
                .ids()
                .enumerate()
                .map(|(j, id)| data.items.get(id).unwrap_or(ni.saturating_add(j as u32)))
                .collect();
            let valid: Vec<(Option<u32>, u32, f32)> = (0..v.len())
                .map(|k| {
                    let u =
                        v.user_idx.get(k).and_then(|&u| umap.get(u as usize).copied().flatten());
                    let i = v
                        .item_idx
                        .get(k)
                        .and_then(|&i| imap.get(i as usize).copied())
                        .unwrap_or(u32::MAX);
                    (u, i, v.values.get(k).copied().unwrap_or(0.0))
                })
                .collect();
            let train: Vec<usize> = (0..n).collect();
            Ok(vec![build_fold(data, &train, &valid, v.items.len(), dup)])
        }
        Validation::Folds(k) => {
            if k < 2 {
                return Err(Error::param("folds", format!("must be at least 2, got {k}")));
            }
            if k > n {
                return Err(Error::param(
                    "folds",
                    format!("{k} folds need at least {k} interactions, the data has {n}"),
                ));
            }
            let mut perm: Vec<usize> = (0..n).collect();
            let mut g = SplitMix64::new(seed);
            for j in (1..n).rev() {
                let pick = g.below(j as u64 + 1) as usize;
                perm.swap(j, pick);
            }
            let mut fold_of = vec![0usize; n];
            for (p, &idx) in perm.iter().enumerate() {
                fold_of[idx] = p % k;
            }
            Ok((0..k)
                .map(|f| {
                    let train: Vec<usize> = (0..n).filter(|&j| fold_of[j] != f).collect();
                    let valid: Vec<_> = (0..n).filter(|&j| fold_of[j] == f).map(full).collect();
                    build_fold(data, &train, &valid, 0, dup)
                })
                .collect())
        }
        Validation::Fraction(f) => {
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::param(
                    "validation_fraction",
                    format!("must be strictly between 0 and 1, got {f}"),
                ));
            }
            let mut g = SplitMix64::new(seed);
            let is_valid: Vec<bool> = (0..n).map(|_| g.next_f64() < f).collect();
            let train: Vec<usize> = (0..n).filter(|&j| !is_valid[j]).collect();
            let valid: Vec<_> = (0..n).filter(|&j| is_valid[j]).map(full).collect();
            if valid.is_empty() || train.is_empty() {
                return Err(Error::param(
                    "validation_fraction",
                    format!("{f} leaves no training or no validation interaction"),
                ));
            }
            Ok(vec![build_fold(data, &train, &valid, 0, dup)])
        }
    }
}

/// The metric of the factors in `s` on `fold`.
pub(super) fn score(fold: &Fold, s: &Snapshot<'_>, params: &AlsParams, opts: &TuneOptions) -> f64 {
    let metric = opts.metric;
    if metric.is_ranking() {
        let model = Model {
            params: params.clone(),
            users: IdMap::new(),
            items: IdMap::new(),
            user_factors: s.user_factors.clone(),
            item_factors: s.item_factors.clone(),
            biases: s.biases.map(|b| Biases {
                global: b.global,
                user: b.user.to_vec(),
                item: b.item.to_vec(),
            }),
            clip_predictions: false,
            seen: Csr::default(),
            summary: TrainingSummary::default(),
            bounds: Default::default(),
        };
        let k = match metric {
            Metric::Precision(k) | Metric::Ndcg(k) | Metric::Map(k) => k,
            _ => 10,
        };
        let r = ranking_metrics_at_k(&model, &fold.train, &fold.test, k);
        return match metric {
            Metric::Precision(_) => r.precision,
            Metric::Ndcg(_) => r.ndcg,
            _ => r.map,
        };
    }
    let (lo, hi) = fold.range;
    let preds = fold.pairs.iter().map(|&(u, i, r)| {
        let x = s.user_factors.row(u as usize);
        let y = s.item_factors.row(i as usize);
        let mut p: f64 = x.iter().zip(y).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
        if let Some(b) = s.biases {
            p += f64::from(b.global)
                + f64::from(b.user.get(u as usize).copied().unwrap_or(0.0))
                + f64::from(b.item.get(i as usize).copied().unwrap_or(0.0));
        }
        if opts.clip_predictions {
            p = p.clamp(f64::from(lo), f64::from(hi));
        }
        (p, f64::from(r))
    });
    let m = regression_metrics(preds);
    match metric {
        Metric::Mae => m.mae,
        Metric::R2 => m.r2,
        _ => m.rmse,
    }
}
