//! Hyper-parameter search: Spark's `ParamGridBuilder` + `CrossValidator` /
//! `TrainValidationSplit` in one function, with per-iteration learning curves and early
//! stopping.
//!
//! # Protocol
//!
//! * **Grid**: every combination of the listed ranks, regularizations λ, confidence scales α,
//!   iteration counts and bias settings ([`Grid::configs`]), in that nesting order (rank
//!   outermost).
//! * **Folds** ([`Validation`]): `K` folds assign the interactions to `K` groups of equal size
//!   (±1) by a seeded Fisher–Yates permutation of the interactions (position `p` of the
//!   permutation goes to fold `p mod K`); fold `f` validates on group `f` and trains on the
//!   others. A validation fraction `F` sends each interaction to validation independently
//!   with probability `F` ([`Strategy::Random`](crate::split::Strategy::Random)). A validation
//!   file is mapped into the training file's ids. Everything is deterministic for a seed.
//! * **Cold start** (Spark's `coldStartStrategy = "drop"`): within a fold only users and items
//!   with at least one training interaction get factors. A validation pair whose user or item
//!   has none is left out of the regression metrics and counted in [`TuneReport::dropped`].
//!   For ranking metrics, a user without training interactions is not evaluated, while an
//!   item without any still counts among the user's relevant items (it can never be hit), as
//!   in `implicit`'s protocol.
//! * **Score**: after every iteration the fold's validation metric is computed from the
//!   current factors ([`Metric`]): regression metrics on `r̂ = x_uᵀy_i (+ μ + b_u + b_i)`
//!   (optionally clipped to the training range), ranking metrics by
//!   [`crate::evaluate::ranking_metrics_at_k`], excluding the fold's
//!   training items of each user. The fold's score is the metric after the last iteration, or,
//!   with early stopping, the best one seen. A configuration's score is the mean over folds
//!   `m̄ = (1/K) Σ_f m_f` with the population standard deviation
//!   `s = √((1/K) Σ_f (m_f − m̄)²)`.
//! * **Early stopping** (`patience` `P`): a fold stops after the first iteration `t` such that
//!   none of iterations `t−P+1..=t` improved on the best value before them.
//!
//! # Parallelism
//!
//! Each (configuration, fold) pair is one task. `jobs` workers take tasks in order, and each
//! worker trains inside its own rayon pool of `max(1, threads / jobs)` threads, so the
//! machine is never oversubscribed. Results are stored by task, and training and every metric
//! are independent of the thread count, so the report does not depend on `jobs`.

use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::Serialize;

mod folds;

use crate::als::observe::{Snapshot, fit_with};
use crate::data::Interactions;
use crate::error::{Error, Result};
use crate::params::AlsParams;
use crate::sparse::{Csr, Duplicates};
use folds::{Fold, make_folds, score};

/// The validation metric a search optimises. Serialised as the user writes it (`rmse`,
/// `ndcg@10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Root mean squared error `√(mean (r̂ − r)²)` (smaller is better).
    Rmse,
    /// Mean absolute error `mean |r̂ − r|` (smaller is better).
    Mae,
    /// `R² = 1 − Σ(r̂ − r)² / Σ(r − r̄)²` (larger is better).
    R2,
    /// Precision at K, `Σ_u hits_u / Σ_u min(K, |T_u|)` (larger is better).
    Precision(usize),
    /// NDCG at K with binary gains (larger is better).
    Ndcg(usize),
    /// Mean average precision at K (larger is better).
    Map(usize),
}

impl Metric {
    /// Parses `rmse`, `mae`, `r2`, `precision@K`, `ndcg@K` or `map@K` (case-insensitive).
    pub fn parse(s: &str) -> Result<Metric> {
        let t = s.trim().to_ascii_lowercase();
        let bad = || {
            Error::param(
                "metric",
                format!("expected rmse, mae, r2, precision@K, ndcg@K or map@K, got {s:?}"),
            )
        };
        match t.as_str() {
            "rmse" => return Ok(Metric::Rmse),
            "mae" => return Ok(Metric::Mae),
            "r2" => return Ok(Metric::R2),
            _ => {}
        }
        let (name, k) = t.split_once('@').ok_or_else(bad)?;
        let k: usize = k.parse().map_err(|_| bad())?;
        if k == 0 || k > 100_000 {
            return Err(Error::param("metric", format!("K must be between 1 and 100000, got {k}")));
        }
        match name {
            "precision" | "p" => Ok(Metric::Precision(k)),
            "ndcg" => Ok(Metric::Ndcg(k)),
            "map" => Ok(Metric::Map(k)),
            _ => Err(bad()),
        }
    }

    /// True when a larger value is better (R² and the ranking metrics).
    pub fn larger_is_better(&self) -> bool {
        !matches!(self, Metric::Rmse | Metric::Mae)
    }

    /// True for the ranking metrics.
    pub fn is_ranking(&self) -> bool {
        matches!(self, Metric::Precision(_) | Metric::Ndcg(_) | Metric::Map(_))
    }

    /// True when `a` is strictly better than `b` (NaN is never better, and anything beats NaN).
    pub fn better(&self, a: f64, b: f64) -> bool {
        if a.is_nan() {
            return false;
        }
        if b.is_nan() {
            return true;
        }
        if self.larger_is_better() { a > b } else { a < b }
    }
}

impl Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Rmse => f.write_str("rmse"),
            Metric::Mae => f.write_str("mae"),
            Metric::R2 => f.write_str("r2"),
            Metric::Precision(k) => write!(f, "precision@{k}"),
            Metric::Ndcg(k) => write!(f, "ndcg@{k}"),
            Metric::Map(k) => write!(f, "map@{k}"),
        }
    }
}

/// The values to search; every combination is tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Ranks.
    pub ranks: Vec<usize>,
    /// Regularizations λ.
    pub reg_params: Vec<f32>,
    /// Confidence scales α (implicit feedback; ignored for explicit ratings).
    pub alphas: Vec<f32>,
    /// Iteration counts.
    pub max_iters: Vec<usize>,
    /// Whether to learn biases.
    pub biases: Vec<bool>,
}

impl Grid {
    /// A grid holding only `base`'s values.
    pub fn single(base: &AlsParams) -> Grid {
        Grid {
            ranks: vec![base.rank],
            reg_params: vec![base.reg_param],
            alphas: vec![base.alpha],
            max_iters: vec![base.max_iter],
            biases: vec![base.biases],
        }
    }

    /// Every combination, as `base` with the grid's values, rank outermost, then λ, α, the
    /// number of iterations and biases. Repeated values are tried once; for explicit ratings
    /// α is irrelevant and only the first is used. Each combination is validated.
    pub fn configs(&self, base: &AlsParams) -> Result<Vec<AlsParams>> {
        fn dedup<T: PartialEq + Copy>(v: &[T]) -> Vec<T> {
            let mut out: Vec<T> = Vec::with_capacity(v.len());
            for &x in v {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            out
        }
        let ranks = dedup(&self.ranks);
        let regs = dedup(&self.reg_params);
        let mut alphas = dedup(&self.alphas);
        if !base.implicit_prefs {
            alphas.truncate(1);
        }
        let iters = dedup(&self.max_iters);
        let biases = dedup(&self.biases);
        for (name, empty) in [
            ("rank", ranks.is_empty()),
            ("reg_param", regs.is_empty()),
            ("alpha", alphas.is_empty()),
            ("max_iter", iters.is_empty()),
            ("biases", biases.is_empty()),
        ] {
            if empty {
                return Err(Error::param(name, "needs at least one value"));
            }
        }
        let mut out = Vec::new();
        for &rank in &ranks {
            for &reg_param in &regs {
                for &alpha in &alphas {
                    for &max_iter in &iters {
                        for &b in &biases {
                            let p = AlsParams {
                                rank,
                                reg_param,
                                alpha,
                                max_iter,
                                biases: b,
                                ..base.clone()
                            };
                            p.validate()?;
                            if max_iter == 0 {
                                return Err(Error::param("max_iter", "must be at least 1"));
                            }
                            out.push(p);
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// How to hold out validation data.
#[derive(Debug, Clone, Copy)]
pub enum Validation<'a> {
    /// Train on all of the training data, validate on this file's interactions (mapped into
    /// the training ids; unknown ids are cold-start pairs).
    Holdout(&'a Interactions),
    /// K-fold cross-validation, K ≥ 2.
    Folds(usize),
    /// One split: each interaction validates with this probability, in `(0, 1)`.
    Fraction(f64),
}

/// Options of a search.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// The metric to optimise.
    pub metric: Metric,
    /// Seed of the folds (the factor initialisation uses each configuration's own seed).
    pub seed: u64,
    /// Number of (configuration, fold) tasks trained concurrently, ≥ 1.
    pub jobs: usize,
    /// Total worker threads shared by the jobs (0: rayon's current number of threads).
    pub threads: usize,
    /// Early-stopping patience in iterations (`None`: always run every iteration).
    pub patience: Option<usize>,
    /// How repeated (user, item) pairs of the training part are combined.
    pub duplicates: Duplicates,
    /// Clamp regression predictions to the training range `[min, max]`.
    pub clip_predictions: bool,
}

impl Default for TuneOptions {
    fn default() -> Self {
        TuneOptions {
            metric: Metric::Rmse,
            seed: 42,
            jobs: 1,
            threads: 0,
            patience: None,
            duplicates: Duplicates::Keep,
            clip_predictions: false,
        }
    }
}

/// An observer of one training run: sees the model after every iteration, returns `Break` to
/// stop training.
pub type Observer<'a> = dyn FnMut(&Snapshot<'_>) -> ControlFlow<()> + 'a;

/// A training function: trains on `user_items` with `params`, showing every iteration to the
/// observer and stopping when it breaks. [`als_trainer`] is the real one; tests may plug in
/// others.
pub type Trainer = dyn Fn(&Csr, &AlsParams, &mut Observer<'_>) -> Result<()> + Sync;

/// The real trainer: ALS, showing the observer every iteration's factors.
pub fn als_trainer(user_items: &Csr, params: &AlsParams, observe: &mut Observer<'_>) -> Result<()> {
    fit_with(user_items, params, &mut |_, s| observe(s)).map(|_| ())
}

/// What one (configuration, fold) task produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldResult {
    /// The validation metric after every iteration run.
    pub curve: Vec<f64>,
    /// The fold's score (last value, or the best with early stopping).
    pub score: f64,
    /// The 1-based iteration of the best value.
    pub best_iteration: usize,
    /// The iteration where early stopping stopped training, when it did.
    pub stopped_at: Option<usize>,
    /// Wall time of training and scoring, seconds.
    pub seconds: f64,
}

/// The results of one configuration over every fold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigResult {
    /// The configuration.
    pub params: AlsParams,
    /// One result per fold.
    pub folds: Vec<FoldResult>,
    /// Mean score over folds.
    pub mean: f64,
    /// Population standard deviation of the fold scores.
    pub std: f64,
    /// Mean over folds of the metric after each iteration (up to the shortest fold's curve).
    pub mean_curve: Vec<f64>,
    /// Mean wall time per fold, seconds.
    pub seconds: f64,
    /// The number of iterations a refit should run: `max_iter`, or with early stopping the
    /// rounded mean of the folds' best iterations.
    pub best_iteration: usize,
}

/// The outcome of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TuneReport {
    /// The metric.
    pub metric: Metric,
    /// Whether larger is better.
    pub larger_is_better: bool,
    /// Number of folds (1 for a validation file or fraction).
    pub folds: usize,
    /// Validation pairs scored per fold (summed over folds).
    pub validation_pairs: usize,
    /// Validation pairs left out of regression metrics as cold start (summed over folds).
    pub dropped: usize,
    /// One result per configuration, in grid order.
    pub results: Vec<ConfigResult>,
    /// Indices into `results`, best first (NaN scores last; ties keep grid order).
    pub ranking: Vec<usize>,
}

impl TuneReport {
    /// The best configuration's result.
    pub fn best(&self) -> Option<&ConfigResult> {
        self.ranking.first().and_then(|&i| self.results.get(i))
    }
}

/// Progress of a search, reported after every finished task.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Tasks finished so far.
    pub done: usize,
    /// Total tasks.
    pub total: usize,
}

/// Runs one task: trains `params` on `fold`, scoring every iteration.
fn run_task(
    fold: &Fold,
    params: &AlsParams,
    opts: &TuneOptions,
    trainer: &Trainer,
) -> Result<FoldResult> {
    let t0 = Instant::now();
    let metric = opts.metric;
    let mut curve: Vec<f64> = Vec::with_capacity(params.max_iter);
    let mut best = f64::NAN;
    let mut best_it = 0usize;
    let mut stopped_at = None;
    let mut obs = |s: &Snapshot<'_>| {
        let m = score(fold, s, params, opts);
        curve.push(m);
        if best_it == 0 || metric.better(m, best) {
            best = m;
            best_it = s.iteration;
        }
        if let Some(p) = opts.patience {
            if s.iteration >= best_it + p.max(1) && s.iteration < params.max_iter {
                stopped_at = Some(s.iteration);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    trainer(&fold.train, params, &mut obs)?;
    let last = curve.last().copied().unwrap_or(f64::NAN);
    let score = if opts.patience.is_some() { best } else { last };
    let best_iteration = if opts.patience.is_some() { best_it.max(1) } else { curve.len() };
    Ok(FoldResult { curve, score, best_iteration, stopped_at, seconds: t0.elapsed().as_secs_f64() })
}

fn summarize(params: AlsParams, folds: Vec<FoldResult>, patience: Option<usize>) -> ConfigResult {
    let k = folds.len().max(1) as f64;
    let mean = folds.iter().map(|f| f.score).sum::<f64>() / k;
    let std = (folds.iter().map(|f| (f.score - mean).powi(2)).sum::<f64>() / k).sqrt();
    let len = folds.iter().map(|f| f.curve.len()).min().unwrap_or(0);
    let mean_curve = (0..len).map(|t| folds.iter().map(|f| f.curve[t]).sum::<f64>() / k).collect();
    let seconds = folds.iter().map(|f| f.seconds).sum::<f64>() / k;
    let best_iteration = if patience.is_some() {
        let m = folds.iter().map(|f| f.best_iteration as f64).sum::<f64>() / k;
        (m.round() as usize).clamp(1, params.max_iter.max(1))
    } else {
        params.max_iter
    };
    ConfigResult { params, folds, mean, std, mean_curve, seconds, best_iteration }
}

/// Searches `configs` on `data` with `validation`, training with `trainer`, calling
/// `progress` after every finished (configuration, fold) task. See the module docs for the
/// protocol. Errors: no data, invalid folds or fraction, an invalid configuration, or the
/// first training error (in task order).
pub fn tune(
    data: &Interactions,
    validation: &Validation<'_>,
    configs: &[AlsParams],
    opts: &TuneOptions,
    trainer: &Trainer,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<TuneReport> {
    if configs.is_empty() {
        return Err(Error::Invalid("the grid has no configuration to try".into()));
    }
    for p in configs {
        p.validate()?;
    }
    if opts.jobs == 0 {
        return Err(Error::param("jobs", "must be at least 1"));
    }
    let folds = make_folds(data, validation, opts.seed, opts.duplicates)?;
    for (f, fold) in folds.iter().enumerate() {
        if fold.train.nnz() == 0 {
            return Err(Error::Invalid(format!("fold {} has no training interactions", f + 1)));
        }
    }
    let nf = folds.len();
    let total = configs.len() * nf;
    let threads = if opts.threads == 0 { rayon::current_num_threads() } else { opts.threads };
    let jobs = opts.jobs.min(total).max(1);
    let per_job = (threads / jobs).max(1);
    let slots: Vec<Mutex<Option<Result<FoldResult>>>> =
        (0..total).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let work = |pool: Option<&rayon::ThreadPool>| {
        loop {
            let t = next.fetch_add(1, Ordering::Relaxed);
            if t >= total {
                break;
            }
            let (c, f) = (t / nf, t % nf);
            let (Some(params), Some(fold)) = (configs.get(c), folds.get(f)) else { break };
            let r = match pool {
                Some(pool) => pool.install(|| run_task(fold, params, opts, trainer)),
                None => run_task(fold, params, opts, trainer),
            };
            let failed = r.is_err();
            if let Some(slot) = slots.get(t) {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(r);
                }
            }
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(Progress { done: d, total });
            if failed {
                // Stop handing out work: the first error in task order is reported.
                next.store(total, Ordering::Relaxed);
            }
        }
    };
    let build = || {
        rayon::ThreadPoolBuilder::new()
            .num_threads(per_job)
            .build()
            .map_err(|e| Error::Invalid(format!("could not start worker threads: {e}")))
    };
    if jobs == 1 && opts.threads == 0 {
        work(None);
    } else {
        let pools: Vec<rayon::ThreadPool> = (0..jobs).map(|_| build()).collect::<Result<_>>()?;
        std::thread::scope(|s| {
            for pool in &pools {
                let work = &work;
                s.spawn(move || work(Some(pool)));
            }
        });
    }
    let mut results = Vec::with_capacity(configs.len());
    let mut slots = slots.into_iter();
    for params in configs {
        let mut fr = Vec::with_capacity(nf);
        for _ in 0..nf {
            let r = slots
                .next()
                .and_then(|m| m.into_inner().ok().flatten())
                .ok_or_else(|| Error::Invalid("a tuning task did not run".into()));
            // The first task error in task order wins.
            fr.push(r??);
        }
        results.push(summarize(params.clone(), fr, opts.patience));
    }
    let mut ranking: Vec<usize> = (0..results.len()).collect();
    let metric = opts.metric;
    ranking.sort_by(|&a, &b| {
        let (x, y) = (results[a].mean, results[b].mean);
        if metric.better(x, y) {
            std::cmp::Ordering::Less
        } else if metric.better(y, x) {
            std::cmp::Ordering::Greater
        } else {
            a.cmp(&b)
        }
    });
    Ok(TuneReport {
        metric,
        larger_is_better: metric.larger_is_better(),
        folds: nf,
        validation_pairs: folds.iter().map(|f| f.pairs.len()).sum(),
        dropped: folds.iter().map(|f| f.dropped).sum(),
        results,
        ranking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ReadOptions, parse_interactions};
    use crate::model::Factors;
    use std::path::Path;

    /// A planted rank-2 ratings matrix: 30 users × 20 items, every third pair rated.
    fn data() -> Interactions {
        let mut text = String::new();
        for u in 0..30 {
            for i in 0..20 {
                if (u * 7 + i * 3) % 3 == 0 || (u + i) % 4 == 0 {
                    let a = if u % 2 == 0 { 1.0 } else { -1.0 };
                    let b = if i % 2 == 0 { 1.0 } else { -1.0 };
                    let r = 3.0 + a * b * 1.5 + ((u + i) % 3) as f64 * 0.1;
                    text.push_str(&format!("u{u}\ti{i}\t{r}\n"));
                }
            }
        }
        parse_interactions(text.as_bytes(), Path::new("t"), &ReadOptions::default()).unwrap()
    }

    #[test]
    fn metric_parsing_and_direction() {
        assert_eq!(Metric::parse("RMSE").unwrap(), Metric::Rmse);
        assert_eq!(Metric::parse("ndcg@10").unwrap(), Metric::Ndcg(10));
        assert_eq!(Metric::parse("precision@5").unwrap(), Metric::Precision(5));
        assert_eq!(Metric::parse("map@3").unwrap().to_string(), "map@3");
        for bad in ["ndcg", "ndcg@0", "ndcg@x", "auc@10", ""] {
            assert!(Metric::parse(bad).is_err(), "{bad}");
        }
        assert!(Metric::Rmse.better(0.8, 0.9) && !Metric::Rmse.better(0.9, 0.8));
        assert!(Metric::Ndcg(10).better(0.3, 0.2));
        assert!(Metric::Rmse.better(1.0, f64::NAN) && !Metric::Rmse.better(f64::NAN, 1.0));
    }

    #[test]
    fn grid_combinations_and_validation() {
        let g = Grid {
            ranks: vec![2, 4, 2],
            reg_params: vec![0.1, 0.2],
            alphas: vec![1.0, 5.0],
            max_iters: vec![3],
            biases: vec![false, true],
        };
        let c = g.configs(&AlsParams::default()).unwrap();
        assert_eq!(c.len(), 2 * 2 * 2); // explicit: alpha collapsed, rank deduplicated
        assert_eq!((c[0].rank, c[0].reg_param, c[0].biases), (2, 0.1, false));
        assert_eq!((c[7].rank, c[7].reg_param, c[7].biases), (4, 0.2, true));
        let implicit = AlsParams { implicit_prefs: true, ..AlsParams::default() };
        let g2 = Grid { biases: vec![false], ..g.clone() };
        assert_eq!(g2.configs(&implicit).unwrap().len(), 2 * 2 * 2);
        let bad = Grid { reg_params: vec![-1.0], ..g.clone() };
        assert!(bad.configs(&AlsParams::default()).is_err());
        let empty = Grid { ranks: vec![], ..g };
        assert!(empty.configs(&AlsParams::default()).is_err());
    }

    #[test]
    fn folds_partition_the_data_deterministically() {
        let d = data();
        let folds = make_folds(&d, &Validation::Folds(4), 9, Duplicates::Keep).unwrap();
        assert_eq!(folds.len(), 4);
        let total_valid: usize = folds.iter().map(|f| f.pairs.len() + f.dropped).sum();
        assert_eq!(total_valid, d.len());
        for f in &folds {
            assert_eq!(f.train.nnz() + f.pairs.len() + f.dropped, d.len());
            let n = f.pairs.len() + f.dropped;
            assert!(n == d.len() / 4 || n == d.len() / 4 + 1, "{n}");
        }
        let again = make_folds(&d, &Validation::Folds(4), 9, Duplicates::Keep).unwrap();
        assert_eq!(folds[2].pairs, again[2].pairs);
        let other = make_folds(&d, &Validation::Folds(4), 10, Duplicates::Keep).unwrap();
        assert_ne!(folds[2].pairs, other[2].pairs);
        assert!(make_folds(&d, &Validation::Folds(1), 9, Duplicates::Keep).is_err());
        assert!(make_folds(&d, &Validation::Fraction(1.5), 9, Duplicates::Keep).is_err());
    }

    #[test]
    fn holdout_maps_ids_and_drops_cold_pairs() {
        let train = parse_interactions(
            b"a\tx\t5\na\ty\t3\nb\tx\t4\n",
            Path::new("train"),
            &ReadOptions::default(),
        )
        .unwrap();
        let valid = parse_interactions(
            b"b\ty\t2\nghost\tx\t1\nb\tnew\t4\n",
            Path::new("valid"),
            &ReadOptions::default(),
        )
        .unwrap();
        let folds = make_folds(&train, &Validation::Holdout(&valid), 0, Duplicates::Keep).unwrap();
        let f = &folds[0];
        assert_eq!(f.pairs, vec![(1, 1, 2.0)]); // b → 1, y → 1
        assert_eq!(f.dropped, 2);
        // Ranking matrix: b likes y and the unknown item (an extra column 2).
        assert_eq!(f.test.ncols(), 3);
        assert_eq!(f.test.row(1).0, &[1, 2]);
        assert_eq!(f.range, (3.0, 5.0));
    }

    /// A fake trainer: predicts the training mean at iteration `good_at` and further from it
    /// before and after, to check curves and early stopping without ALS.
    fn fake(good_at: usize) -> impl Fn(&Csr, &AlsParams, &mut Observer<'_>) -> Result<()> + Sync {
        move |csr: &Csr, p: &AlsParams, obs: &mut Observer<'_>| {
            let mean = csr.values().iter().sum::<f32>() / csr.nnz() as f32;
            for it in 1..=p.max_iter {
                let off = (it as f32 - good_at as f32).abs();
                let uf = Factors::from_vec(csr.nrows(), 1, vec![1.0; csr.nrows()]).unwrap();
                let itf = Factors::from_vec(csr.ncols(), 1, vec![mean + off; csr.ncols()]).unwrap();
                let s =
                    Snapshot { iteration: it, user_factors: &uf, item_factors: &itf, biases: None };
                if obs(&s).is_break() {
                    break;
                }
            }
            Ok(())
        }
    }

    #[test]
    fn curves_and_early_stopping() {
        let d = data();
        let configs = Grid {
            ranks: vec![1],
            reg_params: vec![0.1],
            alphas: vec![1.0],
            max_iters: vec![10],
            biases: vec![false],
        }
        .configs(&AlsParams::default())
        .unwrap();
        let trainer = fake(3);
        let opts = TuneOptions { patience: Some(2), ..TuneOptions::default() };
        let r = tune(&d, &Validation::Folds(3), &configs, &opts, &trainer, &|_| {}).unwrap();
        let c = &r.results[0];
        for f in &c.folds {
            assert_eq!(f.best_iteration, 3);
            assert_eq!(f.stopped_at, Some(5));
            assert_eq!(f.curve.len(), 5);
            assert_eq!(f.score, f.curve[2]);
        }
        assert_eq!(c.best_iteration, 3);
        let opts = TuneOptions::default();
        let r = tune(&d, &Validation::Folds(3), &configs, &opts, &trainer, &|_| {}).unwrap();
        let f = &r.results[0].folds[0];
        assert_eq!((f.curve.len(), f.stopped_at, f.score), (10, None, f.curve[9]));
    }

    #[test]
    fn real_als_ranks_and_does_not_depend_on_jobs() {
        let d = data();
        let configs = Grid {
            ranks: vec![1, 3],
            reg_params: vec![0.01, 1.0],
            alphas: vec![1.0],
            max_iters: vec![4],
            biases: vec![false],
        }
        .configs(&AlsParams::default())
        .unwrap();
        let done = AtomicUsize::new(0);
        let run = |jobs: usize, threads: usize| {
            let opts = TuneOptions { jobs, threads, ..TuneOptions::default() };
            tune(&d, &Validation::Folds(3), &configs, &opts, &als_trainer, &|p| {
                assert!(p.done <= p.total);
                done.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap()
        };
        let a = run(1, 1);
        assert_eq!(done.load(Ordering::Relaxed), 12);
        let b = run(2, 2);
        let c = run(3, 1);
        for r in [&b, &c] {
            assert_eq!(a.ranking, r.ranking);
            for (x, y) in a.results.iter().zip(&r.results) {
                assert_eq!(x.mean.to_bits(), y.mean.to_bits());
                assert_eq!(x.mean_curve, y.mean_curve);
            }
        }
        // Best first: the heavily regularised configurations are worse here.
        let best = a.best().unwrap();
        assert!(best.mean < a.results[a.ranking[3]].mean);
        assert!((best.params.reg_param - 0.01).abs() < 1e-6, "{:?}", best.params);
        assert!(best.mean.is_finite() && best.std >= 0.0);
        // Ranking metrics run too, larger is better.
        let opts = TuneOptions { metric: Metric::Ndcg(5), ..TuneOptions::default() };
        let r =
            tune(&d, &Validation::Fraction(0.3), &configs, &opts, &als_trainer, &|_| {}).unwrap();
        assert!(r.larger_is_better);
        let m: Vec<f64> = r.ranking.iter().map(|&i| r.results[i].mean).collect();
        assert!(m.windows(2).all(|w| w[0] >= w[1] || w[1].is_nan()), "{m:?}");
    }
}
