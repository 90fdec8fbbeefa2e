//! The batch scorer: blocks of queries against tiles of targets with f32 matrix products,
//! streaming top-K selection, exact rescoring, and exact norm-bound pruning for large batches
//! (see the [module docs](super)).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use super::select::Selector;
use super::{RecommendOptions, ScoredIndices, Side, View, check_n, dot64, exact, rank_one, sides};
use crate::error::{Error, IdKind, Result};
use crate::model::Model;
use crate::sparse::Csr;
use crate::topk::better;

/// Number of queries (users, or items for users-for-items) scored per matrix product.
pub(crate) const BLOCK: usize = 256;

/// Targets scored per matrix product in the batch scorer: a `TILE × BLOCK` f32 score tile
/// (512 KiB) stays in cache between the product and the selection. With pruning, also the
/// granularity at which a query can stop.
pub(crate) const TILE: usize = 512;

/// Per-thread buffers of the batch scorer.
#[derive(Default)]
pub(super) struct Scratch {
    /// `tile × block` scores, column-major (one contiguous column per query).
    pub(super) scores: Vec<f32>,
    /// `rank` factors per active query of the group, in the order of `active`.
    pub(super) queries: Vec<f32>,
    /// Group-local positions of the queries still being scored, in the order of `queries`.
    pub(super) active: Vec<u32>,
    /// `‖x‖` of each query of the group (f64; when pruning).
    pub(super) norms: Vec<f64>,
    /// The rounding margin of each query of the group (see [`Order::margin`]; when pruning).
    pub(super) margins: Vec<f64>,
    /// Per query of the group, a 256-bit hash sketch of its excluded targets: a target
    /// whose bit is clear is not excluded (no binary search needed).
    pub(super) seen_sketch: Vec<[u64; 4]>,
    /// One streaming selection per query of the group.
    pub(super) sel: Vec<Selector>,
    /// (query, target) scores computed so far (a measure of what pruning saves).
    pub(super) scored: u64,
    /// Queries ranked target by target because of near-ties at the margin.
    pub(super) crowded: u64,
}

/// Below this many queries the batch scorer visits targets in view order without pruning:
/// sorting the targets by norm costs about as much as scoring a few dozen queries.
const PRUNE_MIN_QUERIES: usize = 64;

/// The smallest group of the pruning batch scorer when a batch is cut finer than [`GROUP`]
/// to keep every worker busy.
const MIN_GROUP: usize = 512;

/// Queries per task of the pruning batch scorer, scored [`BLOCK`] at a time: as queries stop,
/// those still active in the group are packed together, so that the products stay
/// [`BLOCK`] wide for longer.
const GROUP: usize = 4096;

/// How the batch scorer cuts its work (the constants above; tests use small ones).
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Targets per tile.
    pub(super) tile: usize,
    /// Queries per matrix product.
    pub(super) block: usize,
    /// Queries per task when pruning (without pruning a task scores one block).
    pub(super) group: usize,
    /// Prune from this many queries on.
    pub(super) prune_min: usize,
}

pub(super) const SHAPE: Shape =
    Shape { tile: TILE, block: BLOCK, group: GROUP, prune_min: PRUNE_MIN_QUERIES };

/// The targets of the view in the order the batch scorer visits them.
///
/// When pruning, targets are visited by decreasing norm `‖y‖`, so that after scoring the
/// first `p` of them, `‖x‖·‖y_p‖ + max_{p' ≥ p} b_{p'}` bounds the score of every target not
/// yet scored (Cauchy–Schwarz). A query stops as soon as `N` of the eligible targets it has
/// seen beat that bound by more than the f32 rounding margin: the targets left can then
/// neither enter its top `N` nor tie with it (an *exact* norm-bound pruning, as in LEMP or
/// FEXIPRO's length-based pruning).
pub(super) struct Order<'a> {
    /// Targets per tile.
    pub(super) tile: usize,
    /// View position of each visiting position; `None` when targets are visited in view order.
    pub(super) perm: Option<Vec<u32>>,
    /// Factors in visiting order: row-major in view order, or tile by tile column-major
    /// (`tl × rank`) when pruning.
    pub(super) factors: std::borrow::Cow<'a, [f32]>,
    /// Target biases in visiting order (f32, as added to the f32 scores).
    pub(super) bias: Option<Vec<f32>>,
    /// When pruning: `rest_norm[p]` bounds `‖y‖` of every target at visiting position `≥ p`.
    pub(super) rest_norm: Vec<f64>,
    /// When pruning with biases: `rest_bias[p]` bounds the bias of those targets.
    pub(super) rest_bias: Vec<f64>,
    /// Largest target norm and largest `|bias|` (the scale of the rounding margin).
    pub(super) norm_max: f64,
    pub(super) bias_abs_max: f64,
}

/// `‖v‖` accumulated in f64; NaN reads as +∞ (so that it never allows a stop).
fn norm64(v: &[f32]) -> f64 {
    let n = dot64(v, v).sqrt();
    if n.is_nan() { f64::INFINITY } else { n }
}

/// Bounds on a side's rows over all of them: the largest norm `‖y‖` and the largest bias
/// `|b|` (the scale of the rounding margin, [`Order::margin`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SideBound {
    /// Largest row norm (f64; NaN read as +∞).
    pub(crate) norm_max: f64,
    /// Largest `|bias|` (0 without biases; NaN read as +∞).
    pub(crate) bias_abs_max: f64,
}

impl SideBound {
    /// The bounds of `side`'s rows, computed.
    pub(super) fn of(side: &Side<'_>) -> SideBound {
        let norm_max =
            (0..side.factors.rows()).map(|r| norm64(side.factors.row(r))).fold(0.0f64, f64::max);
        let bias_abs_max = side.bias.map_or(0.0, |b| {
            b.iter()
                .map(|&x| if x.is_nan() { f64::INFINITY } else { f64::from(x).abs() })
                .fold(0.0f64, f64::max)
        });
        SideBound { norm_max, bias_abs_max }
    }
}

impl<'a> Order<'a> {
    /// The visiting order of `view`'s targets: by decreasing norm when pruning, otherwise in
    /// view order with `bound` (the whole side's) as the scale of the rounding margin.
    pub(super) fn new(
        target: &'a Side<'_>,
        view: &View<'_>,
        tile: usize,
        prune: bool,
        bound: SideBound,
    ) -> Order<'a> {
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
                norm_max: bound.norm_max,
                bias_abs_max: bound.bias_abs_max,
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
pub(super) struct Batch<'a> {
    pub(super) query: &'a Side<'a>,
    pub(super) target: &'a Side<'a>,
    /// The global bias μ (0 without biases).
    pub(super) global: f64,
    pub(super) view: View<'a>,
    pub(super) order: Order<'a>,
    /// Each query's excluded (seen) targets, sorted rows; `None` when nothing is excluded.
    pub(super) exclude: Option<&'a Csr>,
    pub(super) opts: &'a RecommendOptions<'a>,
    /// Candidates kept per query for exact rescoring.
    pub(super) kk: usize,
    /// Queries per matrix product.
    pub(super) block: usize,
}

/// Batch top-N: `queries` are indices of the query side (users when `forward`, else items);
/// the targets are ranked for each; every query's training interactions are excluded unless
/// `include_seen`. Lists are handed to `sink` in input order.
pub(crate) fn run_batch<T: Send>(
    model: &Model,
    forward: bool,
    queries: &[u32],
    opts: &RecommendOptions<'_>,
    map: &(dyn Fn(u32, ScoredIndices) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    let (q, t, global) = sides(model, forward);
    let target_kind = if forward { IdKind::Item } else { IdKind::User };
    let bound = model.bounds.get(target_kind, || SideBound::of(&t));
    let seen_t;
    let exclude = if forward {
        Some(&model.seen)
    } else if opts.include_seen {
        None
    } else {
        seen_t = model.seen.transpose();
        Some(&seen_t)
    };
    let kind = if forward { IdKind::User } else { IdKind::Item };
    batch_shaped(&q, &t, global, bound, kind, queries, exclude, opts, SHAPE, map, sink)
}

/// The batch scorer for one user (its result equals [`rank_one`]'s, see the module docs).
pub(crate) fn recommend_one(
    model: &Model,
    user: u32,
    opts: &RecommendOptions<'_>,
) -> Result<ScoredIndices> {
    let mut out = None;
    run_batch(model, true, &[user], opts, &|_, r| r, &mut |r| {
        out = Some(r);
        Ok(())
    })?;
    out.ok_or_else(|| Error::Internal("the scorer returned no result".into()))
}

/// [`run_batch`] on explicit sides, with the work cut by `shape`; `bound` holds the target
/// side's bounds and `kind` names the query side in errors. `map` runs on the worker that
/// scored the query (formatting output there keeps the thread that writes it from becoming
/// the bottleneck); `sink` gets the mapped results in input order.
#[allow(clippy::too_many_arguments)]
pub(super) fn batch_shaped<T: Send>(
    query: &Side<'_>,
    target: &Side<'_>,
    global: f64,
    bound: SideBound,
    kind: IdKind,
    queries: &[u32],
    exclude: Option<&Csr>,
    opts: &RecommendOptions<'_>,
    shape: Shape,
    map: &(dyn Fn(u32, ScoredIndices) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    check_n(opts.n)?;
    let n_query = query.factors.rows();
    if let Some(&bad) = queries.iter().find(|&&q| q as usize >= n_query) {
        return Err(Error::IndexOutOfRange { kind, index: u64::from(bad), len: n_query as u64 });
    }
    let view = View::new(target.factors.rows(), opts);
    let vlen = view.len();
    let prune = queries.len() >= shape.prune_min;
    let order = Order::new(target, &view, shape.tile, prune, bound);
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
        let scored = b.score_group(g, &mut guard);
        drop(guard);
        g.iter().zip(scored).map(|(&q, r)| map(q, r)).collect::<Vec<T>>()
    };
    // Enough groups for every worker to take several (a long tail of one group per thread
    // would leave the others idle), but none so small that pruning has nothing to pack.
    let group = if prune {
        shape.group.min(queries.len().div_ceil(4 * threads)).max(shape.group.min(MIN_GROUP)).max(1)
    } else {
        b.block
    };
    if queries.len() <= group || rayon::current_thread_index().is_some() {
        // One group, or called from inside the pool (where the stream below would block a
        // worker): parts scored in parallel, each handed to `sink` once complete.
        for part in queries.chunks(group * 4 * threads) {
            let results: Vec<Vec<T>> = part.par_chunks(group).map(run).collect();
            for r in results.into_iter().flatten() {
                sink(r)?;
            }
        }
        return Ok(());
    }
    // Groups are scored by tasks of the pool while this thread hands the finished ones to
    // `sink` in input order, so that writing the output overlaps the scoring.
    let groups: Vec<&[u32]> = queries.chunks(group).collect();
    let cancel = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<T>)>();
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
                    for rec in r {
                        if let Err(e) = sink(rec) {
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
    pub(super) fn score_group(&self, group: &[u32], s: &mut Scratch) -> Vec<ScoredIndices> {
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
            let qn = norm64(x);
            s.norms.push(qn);
            s.margins.push(order.margin(qn, self.global + self.query.bias(q), rank));
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
            // A candidate whose f32 score is below the N-th best by more than the margin
            // cannot reach the top N (see [`Order::margin`]): it is not rescored. NaN scores
            // always are.
            let low = match cand.get(opts.n.saturating_sub(1)) {
                Some(&(_, nth)) => {
                    f64::from(nth) - s.margins.get(j).copied().unwrap_or(f64::INFINITY)
                }
                None => f64::NEG_INFINITY,
            };
            let low = if low.is_nan() { f64::NEG_INFINITY } else { low };
            // The candidates dropped scored at most the last one kept: when that one is not
            // below `low`, a dropped one might belong to the top N (a crowd of near-ties
            // around the N-th score). Then this query is ranked exactly, target by target,
            // so that a batch result is always the exact one.
            let crowded = dropped && !cand.last().is_some_and(|&(_, last)| f64::from(last) < low);
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
            out.push(ScoredIndices { items, eligible: view.eligible(seen) });
        }
        out
    }
}
