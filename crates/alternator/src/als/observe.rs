//! Watching training iteration by iteration: a fit shows the current factors ([`Snapshot`])
//! to an observer after every iteration, which may stop training (the learning curves and
//! early stopping of [`crate::tune`]).

use std::ops::ControlFlow;

use super::{FitOutput, IterationReport};
use crate::error::Result;
use crate::model::Factors;
use crate::params::AlsParams;
use crate::sparse::Csr;

/// Bias terms as the trainer holds them during training.
#[derive(Debug, Clone, Copy)]
pub struct BiasesRef<'a> {
    /// Global mean μ.
    pub global: f32,
    /// Per-user biases.
    pub user: &'a [f32],
    /// Per-item biases.
    pub item: &'a [f32],
}

/// The model after one iteration.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// 1-based iteration number.
    pub iteration: usize,
    /// User factors.
    pub user_factors: &'a Factors,
    /// Item factors.
    pub item_factors: &'a Factors,
    /// Bias terms, when trained with biases.
    pub biases: Option<BiasesRef<'a>>,
}

/// An observer: called after every iteration with its report and the current model;
/// returning `Break` ends training after that iteration.
pub type Observer<'a> = dyn FnMut(&IterationReport, &Snapshot<'_>) -> ControlFlow<()> + 'a;

/// [`fit`](super::fit), showing every iteration's factors to `observe`, which may stop
/// training early (the output then holds the factors of the last iteration run).
pub(crate) fn fit_with(
    user_items: &Csr,
    params: &AlsParams,
    observe: &mut Observer<'_>,
) -> Result<FitOutput> {
    fit_from(user_items, params, None, observe)
}

/// [`fit_with`] starting from `start` (user and item factors of the right shapes, checked by
/// the caller) instead of the seeded initialisation.
pub(crate) fn fit_from(
    user_items: &Csr,
    params: &AlsParams,
    start: Option<(Factors, Factors)>,
    observe: &mut Observer<'_>,
) -> Result<FitOutput> {
    super::check_inputs(user_items, params)?;
    if params.implicit_prefs {
        super::implicit::fit(user_items, params, start, observe)
    } else {
        super::explicit::fit(user_items, params, start, observe)
    }
}
