//! The hot numeric loops of ALS: dot products, Gram accumulation, Cholesky solves,
//! conjugate-gradient steps and the per-row normal equations of every solver.
//!
//! Every per-row kernel comes in two builds of the same source: a portable one and, on x86-64
//! CPUs that have them (checked once at run time), one compiled with AVX2 + FMA. The choice is
//! made per process, never per call site, so a given machine always computes bit-identical
//! results. Within a kernel every reduction has a fixed order (16 independent lanes, reduced
//! pairwise), so results never depend on how rows are scheduled across threads.
//!
//! Matrices are dense row-major `k × k` buffers; symmetric matrices being built keep only
//! their lower triangle (`a[i*k + j]`, `j <= i`) unless stated otherwise.

use std::sync::OnceLock;

/// Whether the AVX2 + FMA builds of the kernels are used on this machine.
pub fn simd_enabled() -> bool {
    static FLAG: OnceLock<bool> = OnceLock::new();
    *FLAG.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// Defines a public kernel with a portable and an AVX2 + FMA build of one generic body
/// (`$imp::<FMA>`), dispatched once per call.
macro_rules! dispatch {
    ($(#[$m:meta])* pub fn $name:ident / $avx:ident => $imp:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                if $crate::kernels::simd_enabled() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked by `simd_enabled`).
                    return unsafe { $avx($($arg),*) };
                }
            }
            $imp::<false>($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $avx($($arg: $ty),*) $(-> $ret)? {
            $imp::<true>($($arg),*)
        }
    };
}

mod blas;
mod cholesky;
mod explicit_row;
mod implicit_row;
mod nnls;
mod prefetch;
#[cfg(test)]
mod tests;

pub use blas::{dot, gram_lower};
pub use cholesky::cholesky_solve;
pub use explicit_row::{ExplicitRow, GRAM_CHUNK, SMALL_RANK_MAX, explicit_row, explicit_sse_row};
pub use implicit_row::{
    ImplicitWeights, implicit_cg_row, implicit_cholesky_row, implicit_loss_row,
};
pub use prefetch::{next_row_prefetch_pays, prefetch_rows_l2};

/// `a·b + c`, fused when the FMA build is running.
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `a·b + c` in f64, fused when the FMA build is running.
#[inline(always)]
fn madd64<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// Per-thread scratch for the row solvers (allocated once per task, reused for every row).
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    a32: Vec<f32>,
    a64: Vec<f64>,
    full64: Vec<f64>,
    b64: Vec<f64>,
    f64v: Vec<f64>,
    x64: Vec<f64>,
    r64: Vec<f64>,
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
    /// Gathered factor rows of the current row's entries (`n × k`, grown as needed).
    g: Vec<f32>,
    /// The same rows scaled by their weights (Cholesky).
    h: Vec<f32>,
    /// Per-entry weights `wA` of the gathered rows (CG).
    wa: Vec<f32>,
    /// Per-entry weights `wb` of the gathered rows (CG).
    wb: Vec<f32>,
    /// Per-entry products `G·p` (CG).
    t: Vec<f32>,
    /// Work space of the f32 Cholesky factorisation.
    llt: Vec<std::mem::MaybeUninit<u8>>,
}

impl Scratch {
    /// Scratch for rows of up to `dim` unknowns.
    pub fn new(dim: usize) -> Self {
        Scratch {
            a32: vec![0.0; dim * dim],
            a64: vec![0.0; dim * dim],
            full64: vec![0.0; dim * dim],
            b64: vec![0.0; dim],
            f64v: vec![0.0; dim],
            x64: vec![0.0; dim * dim],
            r64: vec![0.0; dim],
            r: vec![0.0; dim],
            p: vec![0.0; dim],
            ap: vec![0.0; dim],
            g: Vec::new(),
            h: Vec::new(),
            wa: Vec::new(),
            wb: Vec::new(),
            t: Vec::new(),
            llt: Vec::new(),
        }
    }

    fn ensure(&mut self, dim: usize) {
        if self.b64.len() < dim {
            *self = Scratch::new(dim);
        }
    }
}
