//! [`Als`]: the estimator, a builder of validated hyper-parameters that trains a [`Model`].

use std::ops::ControlFlow;

use crate::data::Interactions;
use crate::error::{Error, Result};
use crate::model::{Factors, Model};
use crate::params::{AlsParams, Confidence, Solver};
use crate::sparse::Duplicates;

use super::IterationReport;

/// The per-iteration callback of a fit ([`Als::on_iteration`], [`Als::on_iteration_control`]).
type IterationCallback<'a> = Box<dyn FnMut(&IterationReport) -> ControlFlow<()> + Send + 'a>;

/// Most worker threads a fit may ask for: far more than any machine has cores.
pub const MAX_THREADS: usize = 1024;

/// The ALS estimator: hyper-parameters under Spark's names, with the defaults of the kind of
/// feedback, validated once in [`Als::fit`].
///
/// * [`Als::explicit`] (ratings) takes Spark MLlib's `ALS()` defaults: rank 10, 10
///   iterations, `reg_param` 0.1 (scaled per row, ALS-WR), exact Cholesky solves, and every
///   repeated (user, item) rating kept as its own term ([`Duplicates::Keep`]).
/// * [`Als::implicit`] (play counts, clicks) takes `implicit`'s `AlternatingLeastSquares()`
///   defaults: 100 factors, 15 iterations, `reg_param` 0.01, α = 1, confidence `α·r`,
///   conjugate gradient with 3 steps, and repeated pairs summed ([`Duplicates::Sum`]). With
///   [`Confidence::Spark`], the rank, iterations and `reg_param` not set default to Spark's
///   (10, 10, 0.1) instead.
///
/// ```
/// use alternator::{Als, Interactions, Solver};
///
/// let mut b = Interactions::builder();
/// for (u, i, v) in [("ann", "a", 5.0), ("ann", "b", 1.0), ("bob", "a", 4.0), ("bob", "c", 2.0)] {
///     b.push(u, i, v);
/// }
/// let data = b.build()?;
/// let model = Als::explicit().rank(2).reg_param(0.05).max_iter(5).seed(7).fit(&data)?;
/// assert_eq!(model.rank(), 2);
///
/// let mut losses = Vec::new();
/// let plays = Als::implicit()
///     .rank(4)
///     .alpha(2.0)
///     .solver(Solver::Cholesky)
///     .compute_loss(true)
///     .on_iteration(|it| losses.push(it.loss))
///     .fit(&data)?;
/// assert!(plays.is_implicit());
/// assert_eq!(losses.len(), 15); // implicit's default number of iterations
/// # Ok::<(), alternator::Error>(())
/// ```
pub struct Als<'a> {
    implicit: bool,
    rank: Option<usize>,
    max_iter: Option<usize>,
    reg_param: Option<f32>,
    alpha: f32,
    seed: u64,
    nonnegative: bool,
    confidence: Confidence,
    solver: Option<Solver>,
    cg_steps: usize,
    biases: bool,
    compute_loss: bool,
    clip_predictions: bool,
    duplicates: Option<Duplicates>,
    threads: usize,
    on_iteration: Option<IterationCallback<'a>>,
    /// Factors to start from instead of the seeded initialisation ([`Als::initial_factors`]).
    start: Option<Box<(Factors, Factors)>>,
}

impl std::fmt::Debug for Als<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Als")
            .field("params", &self.resolved())
            .field("clip_predictions", &self.clip_predictions)
            .field("duplicates", &self.duplicates_policy())
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl<'a> Als<'a> {
    fn new(implicit: bool) -> Als<'a> {
        let d = AlsParams::explicit();
        Als {
            implicit,
            rank: None,
            max_iter: None,
            reg_param: None,
            alpha: d.alpha,
            seed: d.seed,
            nonnegative: false,
            confidence: Confidence::Implicit,
            solver: None,
            cg_steps: d.cg_steps,
            biases: false,
            compute_loss: false,
            clip_predictions: false,
            duplicates: None,
            threads: 0,
            on_iteration: None,
            start: None,
        }
    }

    /// Explicit ratings, with Spark MLlib's defaults (see [`Als`]).
    pub fn explicit() -> Als<'a> {
        Als::new(false)
    }

    /// Implicit feedback, with `implicit`'s defaults (see [`Als`]).
    pub fn implicit() -> Als<'a> {
        Als::new(true)
    }

    /// An estimator that trains with exactly these parameters (for example a model's own, or
    /// one configuration of a grid).
    pub fn from_params(p: &AlsParams) -> Als<'a> {
        let mut a = Als::new(p.implicit_prefs);
        a.rank = Some(p.rank);
        a.max_iter = Some(p.max_iter);
        a.reg_param = Some(p.reg_param);
        a.alpha = p.alpha;
        a.seed = p.seed;
        a.nonnegative = p.nonnegative;
        a.confidence = p.confidence;
        a.solver = Some(p.solver);
        a.cg_steps = p.cg_steps;
        a.biases = p.biases;
        a.compute_loss = p.compute_loss;
        a
    }

    /// Number of latent factors (Spark `rank`, `implicit` `factors`), 1 to 4096.
    pub fn rank(mut self, rank: usize) -> Self {
        self.rank = Some(rank);
        self
    }

    /// Number of iterations (Spark `maxIter`, `implicit` `iterations`); each solves both sides.
    pub fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = Some(max_iter);
        self
    }

    /// Regularization λ ≥ 0 (Spark `regParam`, `implicit` `regularization`).
    pub fn reg_param(mut self, reg_param: f32) -> Self {
        self.reg_param = Some(reg_param);
        self
    }

    /// Confidence scale α > 0 of implicit feedback (Spark and `implicit` `alpha`).
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// Seed of the factor initialisation (Spark `seed`, `implicit` `random_state`); the
    /// factors are bit-identical for a seed at any number of threads. Default 42.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Constrain the factors to be non-negative (Spark `nonnegative`).
    pub fn nonnegative(mut self, on: bool) -> Self {
        self.nonnegative = on;
        self
    }

    /// The implicit-feedback confidence convention ([`Confidence`]).
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    /// The implicit-feedback solver (`implicit`'s `use_cg`); explicit ALS always solves exactly.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = Some(solver);
        self
    }

    /// Conjugate-gradient steps per row and half-iteration (`implicit`'s `cg_steps`), ≥ 1.
    pub fn cg_steps(mut self, steps: usize) -> Self {
        self.cg_steps = steps;
        self
    }

    /// Learn a global mean and user/item biases with the factors (explicit ratings only).
    pub fn biases(mut self, on: bool) -> Self {
        self.biases = on;
        self
    }

    /// Compute the training loss after every iteration (implicit feedback; explicit training
    /// always reports its training RMSE). Costs one extra pass per iteration.
    pub fn compute_loss(mut self, on: bool) -> Self {
        self.compute_loss = on;
        self
    }

    /// Clamp the model's predictions to the training value range.
    pub fn clip_predictions(mut self, on: bool) -> Self {
        self.clip_predictions = on;
        self
    }

    /// How repeated (user, item) pairs are combined before training (see [`Als`] for the
    /// defaults).
    pub fn duplicates(mut self, dup: Duplicates) -> Self {
        self.duplicates = Some(dup);
        self
    }

    /// Worker threads of the fit, 1 to [`MAX_THREADS`]; 0 (the default) uses the current
    /// rayon pool. The factors do not depend on it.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Calls `f` after every iteration with its number, time and (when computed) loss.
    pub fn on_iteration(mut self, mut f: impl FnMut(&IterationReport) + Send + 'a) -> Self {
        self.on_iteration = Some(Box::new(move |r| {
            f(r);
            ControlFlow::Continue(())
        }));
        self
    }

    /// Calls `f` after every iteration, like [`Als::on_iteration`]; when it returns
    /// `ControlFlow::Break`, training stops there and [`Als::fit`] returns
    /// [`Error::Cancelled`] (a front end's Ctrl-C, a progress bar closed). Replaces any
    /// [`Als::on_iteration`] callback.
    pub fn on_iteration_control(
        mut self,
        f: impl FnMut(&IterationReport) -> ControlFlow<()> + Send + 'a,
    ) -> Self {
        self.on_iteration = Some(Box::new(f));
        self
    }

    /// Starts training from these factors (`users × rank` and `items × rank`, in the data's
    /// user and item index order) instead of the seeded initialisation: `implicit`'s `fit` on
    /// a model that already has factors, which continues from them (with [`Solver::Cg`] each
    /// row's conjugate gradient also starts from its current factors). [`Als::fit`] checks
    /// their shapes against the data and the rank ([`Error::InvalidParameter`] naming
    /// `initial_factors`) and that they are finite. Used by one fit: a second `fit` starts
    /// from the seed again.
    pub fn initial_factors(mut self, user_factors: Factors, item_factors: Factors) -> Self {
        self.start = Some(Box::new((user_factors, item_factors)));
        self
    }

    /// The parameters with the defaults filled in, not yet validated.
    fn resolved(&self) -> AlsParams {
        let base = match (self.implicit, self.confidence) {
            (false, _) => AlsParams::explicit(),
            (true, Confidence::Implicit) => AlsParams::implicit(),
            (true, Confidence::Spark) => AlsParams::spark_implicit(),
        };
        AlsParams {
            rank: self.rank.unwrap_or(base.rank),
            max_iter: self.max_iter.unwrap_or(base.max_iter),
            reg_param: self.reg_param.unwrap_or(base.reg_param),
            seed: self.seed,
            nonnegative: self.nonnegative,
            implicit_prefs: self.implicit,
            alpha: self.alpha,
            confidence: self.confidence,
            // Explicit ALS always solves exactly.
            solver: if self.implicit {
                self.solver.unwrap_or(base.solver)
            } else {
                Solver::Cholesky
            },
            cg_steps: self.cg_steps,
            biases: self.biases,
            compute_loss: self.compute_loss,
        }
    }

    /// The parameters a fit would use: the defaults of the kind filled in, every value checked
    /// ([`Error::InvalidParameter`] naming the first one out of range).
    pub fn params(&self) -> Result<AlsParams> {
        let p = self.resolved();
        p.validate()?;
        if self.threads > MAX_THREADS {
            return Err(Error::param(
                "threads",
                format!("must be at most {MAX_THREADS}, got {}", self.threads),
            ));
        }
        Ok(p)
    }

    /// The duplicate policy a fit would use.
    pub fn duplicates_policy(&self) -> Duplicates {
        self.duplicates.unwrap_or(if self.implicit { Duplicates::Sum } else { Duplicates::Keep })
    }

    /// Trains a model on `data`.
    ///
    /// Errors: a parameter out of range ([`Error::InvalidParameter`]), no interactions or a
    /// non-finite value ([`Error::Invalid`]), a diverging fit ([`Error::Diverged`], naming
    /// the likely cause) instead of NaN factors, and a fit stopped by
    /// [`Als::on_iteration_control`] ([`Error::Cancelled`]).
    pub fn fit(&mut self, data: &Interactions) -> Result<Model> {
        self.fit_source(super::Source::Borrowed(data))
    }

    /// Trains a model on `data`, which it takes: the per-interaction arrays (12 bytes per
    /// interaction, more with times or line numbers) are freed as soon as the training matrix
    /// is built, so that they are not held beside the matrix and its transpose during the
    /// iterations. The model is the same as [`Als::fit`]'s, bit for bit; the errors too.
    ///
    /// ```
    /// use alternator::{Als, ReaderBuilder};
    /// let data = ReaderBuilder::new().from_bytes(b"u1\ti1\t5\nu1\ti2\t3\nu2\ti1\t4\n", "mem")?;
    /// let model = Als::explicit().rank(2).max_iter(3).fit_owned(data)?;
    /// assert_eq!(model.users().len(), 2);
    /// # Ok::<(), alternator::Error>(())
    /// ```
    pub fn fit_owned(&mut self, data: Interactions) -> Result<Model> {
        self.fit_source(super::Source::Owned(Box::new(data)))
    }

    fn fit_source(&mut self, data: super::Source<'_>) -> Result<Model> {
        let params = self.params()?;
        let dup = self.duplicates_policy();
        let clip = self.clip_predictions;
        let start = self.start.take().map(|b| *b);
        if let Some((uf, itf)) = &start {
            let d = data.interactions();
            super::warm::check_start(uf, itf, d.users.len(), d.items.len(), params.rank)?;
        }
        let mut cb = self.on_iteration.take();
        let mut on_iter = |r: &IterationReport| match cb.as_mut() {
            Some(f) => f(r),
            None => ControlFlow::Continue(()),
        };
        let result = if self.threads > 0 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .build()
                .map_err(|e| Error::Internal(format!("could not start worker threads: {e}")))?;
            pool.install(|| super::train_model(data, dup, &params, clip, start, &mut on_iter))
        } else {
            super::train_model(data, dup, &params, clip, start, &mut on_iter)
        };
        self.on_iteration = cb;
        result
    }
}
