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
                if simd_enabled() {
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

const LANES: usize = 16;

/// Dot product `Σ a_j b_j` over the common length, in f32, with a fixed reduction order.
#[inline(always)]
fn dot_g<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] = madd::<FMA>(x[l], y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ta.iter().zip(tb).enumerate() {
        acc[l] = madd::<FMA>(*x, *y, acc[l]);
    }
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0]
}

/// Dot product in f64 with a fixed reduction order.
#[inline(always)]
fn dot64_g<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    const L: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f64; L];
    let ca = a.chunks_exact(L);
    let cb = b.chunks_exact(L);
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..L {
            acc[l] = madd64::<FMA>(x[l], y[l], acc[l]);
        }
    }
    for (l, (x, y)) in ta.iter().zip(tb).enumerate() {
        acc[l] = madd64::<FMA>(*x, *y, acc[l]);
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            acc[l] += acc[l + w];
        }
    }
    acc[0]
}

/// `y += alpha·x` (f32).
#[inline(always)]
fn axpy_g<const FMA: bool>(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv = madd::<FMA>(alpha, *xv, *yv);
    }
}

/// `y += alpha·x` (f64).
#[inline(always)]
fn axpy64_g<const FMA: bool>(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv = madd64::<FMA>(alpha, *xv, *yv);
    }
}

/// `out = A·x` for a full (both triangles stored) symmetric row-major `k × k` matrix.
#[inline(always)]
fn symv_g<const FMA: bool>(a: &[f32], x: &[f32], out: &mut [f32]) {
    let k = out.len();
    for (j, o) in out.iter_mut().enumerate() {
        *o = dot_g::<FMA>(&a[j * k..(j + 1) * k], x);
    }
}

/// Lower-triangle rank-1 update `A += w·f fᵀ` (f32).
#[inline(always)]
fn syr_lower_g<const FMA: bool>(a: &mut [f32], w: f32, f: &[f32]) {
    let k = f.len();
    for (j, &fj) in f.iter().enumerate() {
        axpy_g::<FMA>(w * fj, &f[..=j], &mut a[j * k..j * k + j + 1]);
    }
}

/// In-place Cholesky `A = L Lᵀ` of the lower triangle of a row-major `k × k` f64 matrix
/// (right-looking: each column is scaled, then the trailing lower triangle gets a rank-1
/// update with contiguous axpys, which vectorise without horizontal reductions), then solves
/// `L Lᵀ x = b` in place of `b`. `col` and `diag0` are scratch of length `k`.
/// Returns `false` (leaving garbage) when `A` is not numerically positive definite (a pivot
/// at or below `1e-12` times its original diagonal entry: a pivot lost to rounding means a
/// singular matrix, e.g. λ = 0 with fewer ratings than the rank).
#[inline(always)]
fn cholesky_solve_g<const FMA: bool>(
    a: &mut [f64],
    b: &mut [f64],
    col: &mut [f64],
    diag0: &mut [f64],
) -> bool {
    let k = b.len();
    let (col, diag0) = (&mut col[..k], &mut diag0[..k]);
    for (j, d) in diag0.iter_mut().enumerate() {
        *d = a[j * k + j].abs();
    }
    for j in 0..k {
        let d = a[j * k + j];
        if d.is_nan() || d <= diag0[j] * 1e-12 {
            return false;
        }
        let l = d.sqrt();
        a[j * k + j] = l;
        // The pivot's check value is not needed any more: keep 1/l for the solves.
        let inv = 1.0 / l;
        diag0[j] = inv;
        for i in j + 1..k {
            let v = a[i * k + j] * inv;
            a[i * k + j] = v;
            col[i] = v;
        }
        for i in j + 1..k {
            let ci = col[i];
            axpy64_g::<FMA>(-ci, &col[j + 1..=i], &mut a[i * k + j + 1..=i * k + i]);
        }
    }
    // Forward: L z = b.
    for i in 0..k {
        let s = b[i] - dot64_g::<FMA>(&a[i * k..i * k + i], &b[..i]);
        b[i] = s * diag0[i];
    }
    // Backward: Lᵀ x = z, column-oriented so that only rows of L are read.
    for i in (0..k).rev() {
        b[i] *= diag0[i];
        let xi = b[i];
        axpy64_g::<FMA>(-xi, &a[i * k..i * k + i], &mut b[..i]);
    }
    true
}

/// Non-negative least squares on normal equations: minimises `½ xᵀA x − bᵀx` subject to
/// `x_j >= 0` for `j < constrained` (later coordinates are free), by cyclic coordinate descent
/// with exact coordinate minimisation (convergent for positive definite `A`). `a` is the full
/// symmetric matrix (both triangles), `x` the start (and result), `g` scratch of length k.
#[inline(always)]
fn nnls_g<const FMA: bool>(a: &[f64], b: &[f64], x: &mut [f64], g: &mut [f64], constrained: usize) {
    let k = b.len();
    // g = A x − b
    for j in 0..k {
        g[j] = dot64_g::<FMA>(&a[j * k..(j + 1) * k], x) - b[j];
    }
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-300);
    for _sweep in 0..2000 {
        let mut max_step = 0f64;
        for j in 0..k {
            let ajj = a[j * k + j];
            if ajj <= 0.0 {
                continue;
            }
            let mut nx = x[j] - g[j] / ajj;
            if j < constrained && nx < 0.0 {
                nx = 0.0;
            }
            let delta = nx - x[j];
            if delta != 0.0 {
                x[j] = nx;
                axpy64_g::<FMA>(delta, &a[j * k..(j + 1) * k], g);
                max_step = max_step.max((delta * ajj).abs());
            }
        }
        if max_step <= 1e-12 * scale {
            break;
        }
    }
}

/// How many entries ahead the row kernels prefetch the factor rows they will gather.
const PREFETCH_AHEAD: usize = 6;

/// Issues one prefetch with locality `HINT` (an `_MM_HINT_*` constant) for every 64-byte line
/// of `row`: a pure hint (no effect on results, never faults).
#[inline(always)]
fn prefetch_lines<const HINT: i32>(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in row.chunks(16) {
        // SAFETY: prefetching a valid address has no side effects.
        unsafe { std::arch::x86_64::_mm_prefetch::<HINT>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Prefetch into every cache level (`_MM_HINT_T0`).
#[cfg(target_arch = "x86_64")]
const HINT_T0: i32 = std::arch::x86_64::_MM_HINT_T0;
/// Prefetch into L2 and up (`_MM_HINT_T1`).
#[cfg(target_arch = "x86_64")]
const HINT_T1: i32 = std::arch::x86_64::_MM_HINT_T1;
#[cfg(not(target_arch = "x86_64"))]
const HINT_T0: i32 = 0;
#[cfg(not(target_arch = "x86_64"))]
const HINT_T1: i32 = 0;

/// Hints the CPU to start loading factor row `idx[at]` (`k` f32 values) of `y` into cache.
/// The gathers of random factor rows are the main memory stall of the row kernels; this is a
/// pure hint (no effect on results, never faults: out-of-range rows are skipped).
#[inline(always)]
fn prefetch_row(y: &[f32], idx: &[u32], at: usize, k: usize) {
    if let Some(&i) = idx.get(at) {
        if let Some(row) = y.get(i as usize * k..(i as usize + 1) * k) {
            prefetch_lines::<HINT_T0>(row);
        }
    }
}

/// Hints the CPU to bring the factor rows `y[i]` for every `i` in `idx` into the L2 cache:
/// called for the next row while the current one computes, so that its gather finds its rows
/// near (a pure hint, like [`prefetch_row`]; it never changes results).
pub fn prefetch_rows_l2(y: &[f32], idx: &[u32], k: usize) {
    for &i in idx {
        if let Some(row) = y.get(i as usize * k..(i as usize + 1) * k) {
            prefetch_lines::<HINT_T1>(row);
        }
    }
}

/// Whether prefetching the next row's factor rows ([`prefetch_rows_l2`]) pays on this CPU,
/// decided once from the CPU vendor, as measured (s5m, CG rank 64, 2 threads, alternating
/// runs): on the AMD EPYC host it cut the fit from 5.4–7.7 to 4.2–5.2 s (3 iterations); on
/// the Intel Xeon host it cost 7% (0.32 → 0.345 s per iteration), the hardware prefetchers
/// and the wider miss queues there already covering the gathers. Unknown vendors prefetch.
pub fn next_row_prefetch_pays() -> bool {
    static FLAG: OnceLock<bool> = OnceLock::new();
    *FLAG.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: CPUID leaf 0 exists on every x86_64 CPU. (Recent Rust declares `__cpuid`
            // safe; the block keeps the crate building with the older compilers it supports.)
            #[allow(unused_unsafe)]
            let id = unsafe { std::arch::x86_64::__cpuid(0) };
            let vendor = [id.ebx, id.edx, id.ecx];
            let intel = vendor == [0x756e_6547, 0x4965_6e69, 0x6c65_746e]; // "GenuineIntel"
            !intel
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            true
        }
    })
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

/// The implicit-feedback confidence convention of a row solve, with α applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImplicitWeights {
    /// `implicit`: `c = α·|r|`; `A += (c − 1)·y yᵀ`; `b += c·y` when `r > 0`.
    Implicit {
        /// α.
        alpha: f32,
    },
    /// Spark: `c = 1 + α·|r|`; `A += (c − 1)·y yᵀ`; `b += c·y` when `r > 0`.
    Spark {
        /// α.
        alpha: f32,
    },
}

impl ImplicitWeights {
    /// `(wA, wb)` for a stored value `r`: the weight of `y yᵀ` added to `A` and of `y` added
    /// to `b`. Zeros are never passed here (they are ignored).
    #[inline(always)]
    pub fn weights(self, r: f32) -> (f32, f32) {
        match self {
            ImplicitWeights::Implicit { alpha } => {
                let c = alpha * r;
                if c > 0.0 { (c - 1.0, c) } else { (-c - 1.0, 0.0) }
            }
            ImplicitWeights::Spark { alpha } => {
                let c1 = alpha * r.abs();
                (c1, if r > 0.0 { 1.0 + c1 } else { 0.0 })
            }
        }
    }
}

/// Accumulates the lower triangle of `Σ_r y_r y_rᵀ` over the rows of a row-major `n × k` block
/// into `out` (f32, `k × k`, lower triangle only, added to).
#[inline(always)]
fn gram_lower_g<const FMA: bool>(y: &[f32], k: usize, out: &mut [f32]) {
    if k >= GEMM_MIN_RANK {
        // One matrix product `out += YᵀY` (faer, sequential: a fixed summation order for a
        // given block); both triangles are written, the lower one is the result.
        let n = y.len() / k;
        if n > 0 {
            let dst = faer::MatMut::from_row_major_slice_mut(&mut out[..k * k], k, k);
            let lhs = faer::MatRef::from_column_major_slice(&y[..n * k], k, n);
            let rhs = faer::MatRef::from_row_major_slice(&y[..n * k], n, k);
            faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, 1.0f32, faer::Par::Seq);
        }
        return;
    }
    for row in y.chunks_exact(k) {
        syr_lower_g::<FMA>(out, 1.0, row);
    }
}

dispatch! {
    /// Adds `YᵀY = Σ_r y_r y_rᵀ` over the rows of the row-major `n × k` block `y` to `out`
    /// (`k × k`, f32): at least the lower triangle is updated (for `k >= 16` both, by one
    /// matrix product). The caller sums blocks in a fixed order and reads the lower triangle.
    pub fn gram_lower / gram_lower_avx => gram_lower_g(y: &[f32], k: usize, out: &mut [f32])
}

dispatch! {
    /// `Σ_j a_j b_j` (f32, fixed reduction order).
    pub fn dot / dot_avx => dot_g(a: &[f32], b: &[f32]) -> f32
}

/// `out[c] += Σ_r coef[r]·m[r·stride + c]` for `c < out.len()`, over the rows `r < coef.len()`
/// of a row-major matrix: a transposed GEMV written as a sequence of row axpys, so it needs no
/// horizontal reduction. Columns are processed in register blocks of 32 (then 8, then single
/// columns); the sum over rows runs in row order for every column.
#[inline(always)]
fn gemv_t_g<const FMA: bool>(m: &[f32], stride: usize, coef: &[f32], out: &mut [f32]) {
    let ncols = out.len();
    let mut c0 = 0;
    // Up to eight independent accumulator chains; the sum over rows runs in row order for
    // every column whichever block it falls in.
    while c0 + 64 <= ncols {
        gemv_t_block::<FMA, 8>(m, stride, c0, coef, out);
        c0 += 64;
    }
    while c0 + 32 <= ncols {
        gemv_t_block::<FMA, 4>(m, stride, c0, coef, out);
        c0 += 32;
    }
    while c0 + 8 <= ncols {
        gemv_t_block::<FMA, 1>(m, stride, c0, coef, out);
        c0 += 8;
    }
    for (c, o) in out.iter_mut().enumerate().skip(c0) {
        let mut acc = *o;
        for (r, &w) in coef.iter().enumerate() {
            acc = madd::<FMA>(w, m[r * stride + c], acc);
        }
        *o = acc;
    }
}

/// One block of `B·8` columns of [`gemv_t_g`], starting at column `c0`, held in registers.
#[inline(always)]
fn gemv_t_block<const FMA: bool, const B: usize>(
    m: &[f32],
    stride: usize,
    c0: usize,
    coef: &[f32],
    out: &mut [f32],
) {
    let mut acc = [[0f32; 8]; B];
    for (b, a) in acc.iter_mut().enumerate() {
        a.copy_from_slice(&out[c0 + 8 * b..c0 + 8 * b + 8]);
    }
    for (r, &w) in coef.iter().enumerate() {
        let row = &m[r * stride + c0..r * stride + c0 + 8 * B];
        for (a, seg) in acc.iter_mut().zip(row.chunks_exact(8)) {
            for l in 0..8 {
                a[l] = madd::<FMA>(w, seg[l], a[l]);
            }
        }
    }
    for (b, a) in acc.iter().enumerate() {
        out[c0 + 8 * b..c0 + 8 * b + 8].copy_from_slice(a);
    }
}

/// `t[r] = G_r·p` for every row `r < t.len()` of the row-major `G` (row stride `k = p.len()`):
/// four rows at a time with independent 8-lane accumulators (each lane summing the columns
/// `≡ l mod 8` in order, then reduced pairwise), so consecutive FMAs never wait on each other.
#[inline(always)]
fn gemv_n_g<const FMA: bool>(g: &[f32], p: &[f32], t: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if FMA && simd_enabled() && g.len() >= t.len() * p.len() {
        // SAFETY: the CPU has AVX2 and FMA (checked), and `g` holds the `t.len()` rows read.
        unsafe { gemv_n_avx(g, p, t) };
        return;
    }
    let k = p.len();
    let kv = k / 8 * 8;
    let reduce = |a: [f32; 8]| ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    let tail = |row: &[f32]| {
        let mut acc = 0f32;
        for (a, b) in row[kv..k].iter().zip(&p[kv..k]) {
            acc = madd::<FMA>(*a, *b, acc);
        }
        acc
    };
    let mut quads = t.chunks_exact_mut(4);
    let mut r0 = 0;
    for tq in &mut quads {
        let rows = &g[r0 * k..(r0 + 4) * k];
        let (g0, rest) = rows.split_at(k);
        let (g1, rest) = rest.split_at(k);
        let (g2, g3) = rest.split_at(k);
        let mut acc = [[0f32; 8]; 4];
        for c in (0..kv).step_by(8) {
            let pv = &p[c..c + 8];
            for (a, gr) in acc.iter_mut().zip([g0, g1, g2, g3]) {
                let gv = &gr[c..c + 8];
                for l in 0..8 {
                    a[l] = madd::<FMA>(gv[l], pv[l], a[l]);
                }
            }
        }
        for (tv, (a, gr)) in tq.iter_mut().zip(acc.into_iter().zip([g0, g1, g2, g3])) {
            *tv = reduce(a) + tail(gr);
        }
        r0 += 4;
    }
    for tv in quads.into_remainder() {
        let gr = &g[r0 * k..(r0 + 1) * k];
        let mut a = [0f32; 8];
        for c in (0..kv).step_by(8) {
            for l in 0..8 {
                a[l] = madd::<FMA>(gr[c + l], p[c + l], a[l]);
            }
        }
        *tv = reduce(a) + tail(gr);
        r0 += 1;
    }
}

/// [`gemv_n_g`] written with AVX2/FMA intrinsics (the compiler's vectorisation of the portable
/// loop interleaved the rows into 2-lane pieces and spilled its accumulators): eight rows at a
/// time (eight independent FMA chains), then four, then one, with the same per-row order of
/// operations as the portable build — 8 lanes over the columns `≡ l mod 8`, reduced pairwise,
/// plus the columns past the last multiple of 8 in order.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `g.len() >= t.len() * p.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemv_n_avx(g: &[f32], p: &[f32], t: &mut [f32]) {
    use std::arch::x86_64::*;
    let k = p.len();
    let kv = k / 8 * 8;
    let n = t.len();
    let (gp, pp) = (g.as_ptr(), p.as_ptr());
    // ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)), as `reduce` in `gemv_n_g`.
    let reduce = |a: __m256| {
        let s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps::<1>(a));
        let u = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps::<0b01>(u, u)))
    };
    let tail = |row: usize| {
        let mut acc = 0f32;
        for c in kv..k {
            // SAFETY: row < n and c < k, so the index is below n·k <= g.len().
            acc = unsafe { (*gp.add(row * k + c)).mul_add(*pp.add(c), acc) };
        }
        acc
    };
    let mut r = 0;
    macro_rules! rows {
        ($m:literal) => {
            while n - r >= $m {
                let mut acc = [_mm256_setzero_ps(); $m];
                let mut c = 0;
                while c < kv {
                    // SAFETY: c + 8 <= kv <= k and every row read is below n.
                    let pv = unsafe { _mm256_loadu_ps(pp.add(c)) };
                    for (q, a) in acc.iter_mut().enumerate() {
                        // SAFETY: (r + q)·k + c + 8 <= n·k <= g.len().
                        let gv = unsafe { _mm256_loadu_ps(gp.add((r + q) * k + c)) };
                        *a = _mm256_fmadd_ps(gv, pv, *a);
                    }
                    c += 8;
                }
                for (q, a) in acc.into_iter().enumerate() {
                    t[r + q] = reduce(a) + tail(r + q);
                }
                r += $m;
            }
        };
    }
    rows!(8);
    rows!(4);
    rows!(1);
}

/// Gathers the factor rows of a row's non-zero entries once: `G` (`n × k`, row-major, in
/// `s.g`) and the weights `wA` (in `s.wa`) and `wb` (in `s.wb`). Returns `n`.
#[inline(always)]
fn gather_row(
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    k: usize,
    s: &mut Scratch,
) -> usize {
    let n = vals.iter().filter(|&&v| v != 0.0).count();
    if s.g.len() < n * k {
        s.g.resize(n * k, 0.0);
    }
    if s.wa.len() < n {
        s.wa.resize(n, 0.0);
        s.wb.resize(n, 0.0);
        s.t.resize(n, 0.0);
    }
    let g = &mut s.g[..n * k];
    let mut r = 0;
    for (e, (&i, &v)) in idx.iter().zip(vals).enumerate() {
        prefetch_row(y, idx, e + PREFETCH_AHEAD, k);
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        s.wa[r] = wa;
        s.wb[r] = wb;
        g[r * k..(r + 1) * k].copy_from_slice(&y[i as usize * k..(i as usize + 1) * k]);
        r += 1;
    }
    n
}

/// One implicit-feedback row by conjugate gradient, exactly as `implicit`'s
/// `least_squares_cg`: the system is `A x = b` with `A = YᵀY + d·I + Σ_obs wA·y yᵀ`,
/// `b = Σ_obs wb·y`; `x` is warm-started from its current value; `steps` CG steps, stopping
/// early when `rᵀr < 1e-20`. `yty` is the full symmetric `YᵀY` (f32).
///
/// The entries' factor rows are gathered once into a contiguous block `G`; every product with
/// the sparse part is then two small GEMVs, `t = G p` (four rows at a time) and
/// `Aₚ += Gᵀ(wA ∘ t)` (reduction-free row axpys), and `YᵀY·p` is computed as `Σ_j p_j·(YᵀY)_j`
/// (symmetric, so rows are columns).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn implicit_cg_row_g<const FMA: bool>(
    yty: &[f32],
    diag: f32,
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    let k = x.len();
    s.ensure(k);
    let np = gather_row(y, idx, vals, conf, k, s);
    let yty = &yty[..k * k];
    let g = &s.g[..np * k];
    let (wa, wb, t) = (&s.wa[..np], &s.wb[..np], &mut s.t[..np]);
    let (r, p, ap) = (&mut s.r[..k], &mut s.p[..k], &mut s.ap[..k]);
    // r = b − A x = Gᵀ(wb − wA ∘ (G x)) − (YᵀY + d·I) x
    for (rj, xj) in r.iter_mut().zip(x.iter()) {
        *rj = -diag * *xj;
    }
    ap.fill(0.0);
    gemv_t_g::<FMA>(yty, k, x, ap);
    for (rj, aj) in r.iter_mut().zip(ap.iter()) {
        *rj -= *aj;
    }
    gemv_n_g::<FMA>(g, x, t);
    for ((tv, &a), &b) in t.iter_mut().zip(wa).zip(wb) {
        *tv = b - a * *tv;
    }
    gemv_t_g::<FMA>(g, k, t, r);
    p.copy_from_slice(r);
    let mut rsold = dot_g::<FMA>(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        // ap = (YᵀY + d·I) p + Gᵀ(wA ∘ (G p))
        for (aj, pj) in ap.iter_mut().zip(p.iter()) {
            *aj = diag * *pj;
        }
        gemv_t_g::<FMA>(yty, k, p, ap);
        gemv_n_g::<FMA>(g, p, t);
        for (tv, &a) in t.iter_mut().zip(wa) {
            *tv *= a;
        }
        gemv_t_g::<FMA>(g, k, t, ap);
        let alpha = rsold / dot_g::<FMA>(p, ap);
        axpy_g::<FMA>(alpha, p, x);
        axpy_g::<FMA>(-alpha, ap, r);
        let rsnew = dot_g::<FMA>(r, r);
        if rsnew < 1e-20 {
            break;
        }
        let beta = rsnew / rsold;
        for (pj, rj) in p.iter_mut().zip(r.iter()) {
            *pj = madd::<FMA>(beta, *pj, *rj);
        }
        rsold = rsnew;
    }
}

dispatch! {
    /// Conjugate-gradient solve of one implicit row (see the module docs of `als`):
    /// `(YᵀY + diag·I + Σ_obs wA·y yᵀ) x = Σ_obs wb·y`, warm-started from `x`, `steps` steps,
    /// early exit when `rᵀr < 1e-20` (as `implicit`). `yty`: full `k × k` f32 `YᵀY`.
    #[allow(clippy::too_many_arguments)]
    pub fn implicit_cg_row / implicit_cg_row_avx => implicit_cg_row_g(
        yty: &[f32], diag: f32, y: &[f32], idx: &[u32], vals: &[f32],
        conf: ImplicitWeights, steps: usize, x: &mut [f32], s: &mut Scratch,
    )
}

/// From this rank on, the implicit Cholesky row builds its matrix with one matrix product.
const GEMM_MIN_RANK: usize = 16;

/// One implicit row solved exactly: builds `A = YᵀY + d·I + Σ_obs wA·y yᵀ` (f32 lower
/// triangle), `b = Σ_obs wb·y`, and solves by Cholesky in f64. Returns `false` when `A` is
/// not positive definite (then `x` is filled with NaN).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn implicit_cholesky_row_g<const FMA: bool>(
    yty: &[f32],
    diag: f32,
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    x: &mut [f32],
    s: &mut Scratch,
) -> bool {
    let k = x.len();
    s.ensure(k);
    let a = &mut s.a32[..k * k];
    a.copy_from_slice(&yty[..k * k]);
    let b = &mut s.r[..k];
    b.fill(0.0);
    if k >= GEMM_MIN_RANK {
        // Gather the entries' rows once (G, and H = diag(wA)·G), then A += GᵀH as one
        // matrix product: far faster than one rank-1 update per entry at larger ranks.
        s.g.clear();
        s.h.clear();
        for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
            prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
            if v == 0.0 {
                continue;
            }
            let (wa, wb) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            s.g.extend_from_slice(yi);
            s.h.extend(yi.iter().map(|&t| wa * t));
            if wb != 0.0 {
                axpy_g::<FMA>(wb, yi, b);
            }
        }
        let n = s.g.len() / k;
        if n > 0 {
            let dst = faer::MatMut::from_row_major_slice_mut(a, k, k);
            let lhs = faer::MatRef::from_column_major_slice(&s.g[..n * k], k, n);
            let rhs = faer::MatRef::from_row_major_slice(&s.h[..n * k], n, k);
            faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, 1.0f32, faer::Par::Seq);
        }
        // Both triangles of A are set, so the row-major buffer reads as its own transpose.
        let ok = llt_solve_f32(a, k, diag, b, &mut s.p[..k], &mut s.llt);
        for (xv, bv) in x.iter_mut().zip(b.iter()) {
            *xv = if ok { *bv } else { f32::NAN };
        }
        return ok;
    } else {
        for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
            prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
            if v == 0.0 {
                continue;
            }
            let (wa, wb) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            syr_lower_g::<FMA>(a, wa, yi);
            if wb != 0.0 {
                axpy_g::<FMA>(wb, yi, b);
            }
        }
    }
    let a64 = &mut s.a64[..k * k];
    for j in 0..k {
        for c in 0..=j {
            a64[j * k + c] = f64::from(a[j * k + c]);
        }
        a64[j * k + j] += f64::from(diag);
    }
    let b64 = &mut s.b64[..k];
    for (d, v) in b64.iter_mut().zip(b.iter()) {
        *d = f64::from(*v);
    }
    let ok = cholesky_solve_g::<FMA>(a64, b64, &mut s.x64[..k], &mut s.f64v[..k]);
    for (xv, bv) in x.iter_mut().zip(b64.iter()) {
        *xv = if ok { *bv as f32 } else { f32::NAN };
    }
    ok
}

dispatch! {
    /// Exact (Cholesky) solve of one implicit row:
    /// `(YᵀY + diag·I + Σ_obs wA·y yᵀ) x = Σ_obs wb·y`. `yty`: the full symmetric `k × k`
    /// f32 `YᵀY`. Below rank 16 the matrix is built by rank-1 updates and factored in f64;
    /// from rank 16 on it is built by one matrix product and factored in f32 by faer (as
    /// `implicit` does with LAPACK's `sposv`). Returns `false` (and NaN factors) when the
    /// matrix is not positive definite.
    #[allow(clippy::too_many_arguments)]
    pub fn implicit_cholesky_row / implicit_cholesky_row_avx => implicit_cholesky_row_g(
        yty: &[f32], diag: f32, y: &[f32], idx: &[u32], vals: &[f32],
        conf: ImplicitWeights, x: &mut [f32], s: &mut Scratch,
    ) -> bool
}

/// Entries per block of the gathered Gram ([`explicit_row`]): products are summed in f32
/// within a block (8 lanes), blocks in f64.
pub const GRAM_CHUNK: usize = 128;

/// `acc[r·ds + c] = Σ_e g_e[r]·g_e[c]` for the `R` rows `r0..r0 + R` and the 8 columns
/// `c0..c0 + 8` over the rows `g_e` (stride `ds`) of `g`: `R` 8-lane accumulators held in
/// registers, one broadcast and one FMA per row and accumulator.
#[inline(always)]
fn gram_tile<const FMA: bool, const R: usize>(
    g: &[f32],
    ds: usize,
    r0: usize,
    c0: usize,
    acc: &mut [f32],
) {
    let mut a = [[0f32; 8]; R];
    for row in g.chunks_exact(ds) {
        let (Some(v), Some(sc)) = (row.get(c0..c0 + 8), row.get(r0..r0 + R)) else {
            continue;
        };
        for (aq, &sq) in a.iter_mut().zip(sc) {
            for (al, &vl) in aq.iter_mut().zip(v) {
                *al = madd::<FMA>(sq, vl, *al);
            }
        }
    }
    for (q, aq) in a.iter().enumerate() {
        let at = (r0 + q) * ds + c0;
        if let Some(dst) = acc.get_mut(at..at + 8) {
            dst.copy_from_slice(aq);
        }
    }
}

/// `dst.copy_from_slice(src)` for short rows without a call to `memcpy`: 8 values at a time.
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let mut d8 = dst.chunks_exact_mut(8);
    let mut s8 = src.chunks_exact(8);
    for (d, s) in (&mut d8).zip(&mut s8) {
        if let (Ok(d), Ok(s)) = (<&mut [f32; 8]>::try_from(d), <&[f32; 8]>::try_from(s)) {
            *d = *s;
        }
    }
    for (d, s) in d8.into_remainder().iter_mut().zip(s8.remainder()) {
        *d = *s;
    }
}

/// Adds the lower triangle of `GᵀG` to `out` (`dg × dg`, f64, row-major) for the rows of `g`
/// (stride `ds`, a multiple of 8 that is `>= dg`; columns `dg..ds` may hold anything: they
/// only reach output lanes that are not read), computed in
/// `8 × 8` (and narrower) register tiles into `acc` (`dg × ds` f32 scratch).
#[inline(always)]
fn gram_gathered_g<const FMA: bool>(
    g: &[f32],
    ds: usize,
    dg: usize,
    acc: &mut [f32],
    out: &mut [f64],
) {
    for c0 in (0..dg).step_by(8) {
        let mut r0 = c0;
        while r0 < dg {
            let rows = (dg - r0).min(8);
            match rows {
                8 => gram_tile::<FMA, 8>(g, ds, r0, c0, acc),
                7 => gram_tile::<FMA, 7>(g, ds, r0, c0, acc),
                6 => gram_tile::<FMA, 6>(g, ds, r0, c0, acc),
                5 => gram_tile::<FMA, 5>(g, ds, r0, c0, acc),
                4 => gram_tile::<FMA, 4>(g, ds, r0, c0, acc),
                3 => gram_tile::<FMA, 3>(g, ds, r0, c0, acc),
                2 => gram_tile::<FMA, 2>(g, ds, r0, c0, acc),
                _ => gram_tile::<FMA, 1>(g, ds, r0, c0, acc),
            }
            r0 += rows;
        }
    }
    for r in 0..dg {
        for (o, &v) in out[r * dg..r * dg + r + 1].iter_mut().zip(&acc[r * ds..r * ds + r + 1]) {
            *o += f64::from(v);
        }
    }
}

/// Adds `diag` to the diagonal of the symmetric `k × k` f32 matrix `a`, factors it
/// `A = L Lᵀ` in place with faer's blocked Cholesky (the same single-precision solve as the
/// `implicit` library's `posv`), and solves `A x = b` in place of `b`. Returns `false` when a
/// pivot is not positive or lost to rounding (`l_jj² ≤ 1e-6·A_jj`: a singular matrix).
/// `diag0` (length `k`) and `buf` are scratch.
fn llt_solve_f32(
    a: &mut [f32],
    k: usize,
    diag: f32,
    b: &mut [f32],
    diag0: &mut [f32],
    buf: &mut Vec<std::mem::MaybeUninit<u8>>,
) -> bool {
    use faer::linalg::cholesky::llt;
    for (j, d) in diag0.iter_mut().enumerate() {
        a[j * k + j] += diag;
        *d = a[j * k + j].abs();
    }
    // faer factors up to 64 columns unblocked; splitting at 32 (the trailing update one GEMM)
    // is faster for rank 64: bench `implicit_cholesky_row k=64` 10.2 → 9.6 µs, s5m Cholesky
    // fit 1.00 → 0.95 s/iteration (3 alternating pairs); 16 and 8 are slower again.
    let mut params: llt::factor::LltParams = <llt::factor::LltParams as faer::Auto<f32>>::auto();
    params.recursion_threshold = 32;
    let need = llt::factor::cholesky_in_place_scratch::<f32>(k, faer::Par::Seq, params.into())
        .unaligned_bytes_required();
    if buf.len() < need {
        buf.resize(need, std::mem::MaybeUninit::new(0));
    }
    let stack = dyn_stack::MemStack::new(&mut buf[..]);
    let factored = llt::factor::cholesky_in_place(
        faer::MatMut::from_column_major_slice_mut(&mut a[..k * k], k, k),
        Default::default(),
        faer::Par::Seq,
        stack,
        params.into(),
    );
    if factored.is_err()
        || (0..k).any(|j| {
            let l = a[j * k + j];
            l.is_nan() || l * l <= 1e-6 * diag0[j]
        })
    {
        return false;
    }
    let stack = dyn_stack::MemStack::new(&mut buf[..]);
    llt::solve::solve_in_place(
        faer::MatRef::from_column_major_slice(&a[..k * k], k, k),
        faer::MatMut::from_column_major_slice_mut(&mut b[..k], k, 1),
        faer::Par::Seq,
        stack,
    );
    b.iter().all(|v| v.is_finite())
}

/// Sources of one explicit row solve (see [`explicit_row`]).
#[derive(Debug, Clone, Copy)]
pub struct ExplicitRow<'a> {
    /// The fixed side's factors, row-major `n × k`.
    pub y: &'a [f32],
    /// Rank k.
    pub k: usize,
    /// Indices of the row's entries into `y`.
    pub idx: &'a [u32],
    /// The row's ratings.
    pub vals: &'a [f32],
    /// With biases: `(μ, the fixed side's biases)`; the unknowns gain a bias coordinate.
    pub biases: Option<(f32, &'a [f32])>,
    /// λ: the factor block gets `λ·n` on the diagonal (ALS-WR, `n` = number of entries).
    pub reg: f32,
    /// The bias coordinate gets `reg_bias·n` on the diagonal.
    pub reg_bias: f32,
    /// Non-negative factors (the bias coordinate stays free).
    pub nonnegative: bool,
}

/// Largest rank solved by [`explicit_row_small`] (fixed-size, fully unrolled).
pub const SMALL_RANK_MAX: usize = 12;

#[inline(always)]
fn explicit_row_g<const FMA: bool>(
    p: &ExplicitRow<'_>,
    x: &mut [f32],
    bias: &mut f32,
    s: &mut Scratch,
) -> Option<f64> {
    if !p.nonnegative && x.len() == p.k {
        macro_rules! small {
            ($($k:literal)*) => {
                match (p.k, p.biases.is_some()) {
                    $(
                        ($k, false) => return explicit_row_small::<FMA, $k, false, { $k + 1 }>(p, x, bias),
                        ($k, true) => return explicit_row_small::<FMA, $k, true, { $k + 2 }>(p, x, bias),
                    )*
                    _ => {}
                }
            };
        }
        small!(1 2 3 4 5 6 7 8 9 10 11 12);
    }
    explicit_row_general_g::<FMA>(p, x, bias, s)
}

/// [`explicit_row`] for rank `K <= SMALL_RANK_MAX` (`B`: with the bias coordinate; `DG` is the
/// gathered width `K + B + 1 <= 16`), in fixed-size arrays that the compiler keeps in
/// registers: every entry's `[f, t]` (at most 16 lanes) updates the lower triangle of the
/// Gram with one broadcast FMA per row and 8-lane half (`f32` within a block of
/// [`GRAM_CHUNK`] entries, `f64` across blocks — the same sums as the general path), then the
/// `(K + B)`-unknown system is factored as L D Lᵀ in `f64` (below). Non-negative rows take
/// the general path.
#[inline(always)]
fn explicit_row_small<const FMA: bool, const K: usize, const B: bool, const DG: usize>(
    p: &ExplicitRow<'_>,
    x: &mut [f32],
    bias: &mut f32,
) -> Option<f64> {
    const { assert!(DG == K + B as usize + 1 && DG <= 16) };
    let d = DG - 1;
    let n = p.idx.len().min(p.vals.len());
    if n == 0 {
        x.fill(0.0);
        *bias = 0.0;
        return Some(0.0);
    }
    let (mu, other) = p.biases.unwrap_or((0.0, &[]));
    let prefetch = p.y.len() > 1 << 17;
    // Lower triangle of Σ [f,t][f,t]ᵀ.
    let mut gram = [[0f64; DG]; DG];
    for (c, (idx, vals)) in
        p.idx[..n].chunks(GRAM_CHUNK).zip(p.vals[..n].chunks(GRAM_CHUNK)).enumerate()
    {
        let mut acc = [[0f32; 16]; DG];
        for (e, (&i, &v)) in idx.iter().zip(vals).enumerate() {
            if prefetch {
                prefetch_row(p.y, p.idx, c * GRAM_CHUNK + e + PREFETCH_AHEAD, K);
            }
            let at = i as usize * K;
            let src = p.y.get(at..at + K).unwrap_or(&[0.0; K]);
            let mut f = [0f32; 16];
            f[..K].copy_from_slice(src);
            let mut t = v;
            if B {
                f[K] = 1.0;
                t -= mu + other.get(i as usize).copied().unwrap_or(0.0);
            }
            f[d] = t;
            for (r, ar) in acc.iter_mut().enumerate() {
                // The row's own values are broadcast straight from memory (one instruction).
                let fr = src.get(r).copied().unwrap_or(f[r]);
                // Row r needs the columns 0..=r: one 8-lane half below 8, both from 8 on.
                let w = if r < 8 { 8 } else { 16 };
                for (al, &fl) in ar[..w].iter_mut().zip(&f[..w]) {
                    *al = madd::<FMA>(fr, fl, *al);
                }
            }
        }
        for (gr, ar) in gram.iter_mut().zip(&acc) {
            for (g, &a) in gr.iter_mut().zip(ar) {
                *g += f64::from(a);
            }
        }
    }
    // A = Σ f fᵀ + regularization, b = Σ t f (column d), as the upper triangle: row j of `u`
    // is column j of the lower one, which the factorisation walks.
    // Rows padded to whole 4-lane vectors (`w` lanes; the padding stays zero).
    let w = DG.div_ceil(4) * 4;
    let mut u = [[0f64; 16]; DG];
    for (i, gr) in gram.iter().enumerate() {
        for (j, &g) in gr.iter().enumerate().take(i + 1) {
            u[j][i] = g;
        }
    }
    let nf = n as f64;
    for (j, row) in u.iter_mut().enumerate().take(d) {
        row[j] += if B && j == K { f64::from(p.reg_bias) * nf } else { f64::from(p.reg) * nf };
    }
    // Right-looking L D Lᵀ of the augmented [A b; bᵀ ·], no square roots: after step j, row j
    // of `u` holds D_j (at j) and D_j·L[i][j] (at i > j), column d holding D_j·w_j with
    // L D w = b. Every update is a whole row of constant length, loaded and stored as
    // vectors (entries left of the diagonal become garbage that is never read), so no
    // column is gathered through memory; the critical path per step is one division.
    let mut inv = [0f64; DG];
    let mut diag0 = [0f64; DG];
    for (j, d0) in diag0.iter_mut().enumerate().take(d) {
        *d0 = u[j][j].abs();
    }
    for j in 0..d {
        let djj = u[j][j];
        if djj.is_nan() || djj <= diag0[j] * 1e-12 {
            x.fill(f32::NAN);
            if B {
                *bias = f32::NAN;
            }
            return None;
        }
        let iv = 1.0 / djj;
        inv[j] = iv;
        let row = u[j];
        for c in j + 1..d {
            let m = row[c] * iv;
            for (uv, &rv) in u[c][..w].iter_mut().zip(&row[..w]) {
                *uv = madd64::<FMA>(-m, rv, *uv);
            }
        }
    }
    // A = L D Lᵀ and L D w = b, so Lᵀ x = w: x_j = (u[j][d] − Σ_{i>j} u[j][i]·x_i) / D_j,
    // the newest x_i taken last (the others are ready earlier).
    let mut b = [0f64; DG];
    for j in (0..d).rev() {
        let mut acc = u[j][d];
        for i in (j + 1..d).rev() {
            acc = madd64::<FMA>(-u[j][i], b[i], acc);
        }
        b[j] = acc * inv[j];
    }
    if !b[..d].iter().all(|v| v.is_finite()) {
        x.fill(f32::NAN);
        if B {
            *bias = f32::NAN;
        }
        return None;
    }
    for (xv, bv) in x.iter_mut().zip(&b[..K]) {
        *xv = *bv as f32;
    }
    if B {
        *bias = b[K] as f32;
    }
    // Training error at the stored (f32) solution z: Σt² − 2 zᵀ(Σ t f) + zᵀ(Σ f fᵀ) z.
    let mut z = [0f64; DG];
    for (zj, xv) in z.iter_mut().zip(x.iter()) {
        *zj = f64::from(*xv);
    }
    if B {
        z[K] = f64::from(*bias);
    }
    let mut sse = gram[d][d];
    for j in 0..d {
        let mut off = 0f64;
        for c in 0..j {
            off += gram[j][c] * z[c];
        }
        sse += z[j] * (gram[j][j] * z[j] + 2.0 * off - 2.0 * gram[d][j]);
    }
    Some(sse.max(0.0))
}

#[inline(always)]
fn explicit_row_general_g<const FMA: bool>(
    p: &ExplicitRow<'_>,
    x: &mut [f32],
    bias: &mut f32,
    s: &mut Scratch,
) -> Option<f64> {
    let k = p.k;
    let d = k + usize::from(p.biases.is_some());
    // The gathered rows are `[f, t]`: the Gram of these `dg` columns holds `Σ f fᵀ` (top left),
    // `Σ t·f` (last row) and `Σ t²` (corner) at once.
    let dg = d + 1;
    let ds = dg.next_multiple_of(8);
    s.ensure(dg);
    let n = p.idx.len().min(p.vals.len());
    if n == 0 {
        x.fill(0.0);
        *bias = 0.0;
        return Some(0.0);
    }
    if s.g.len() < GRAM_CHUNK * ds {
        s.g.resize(GRAM_CHUNK * ds, 0.0);
    }
    if s.h.len() < dg * ds {
        s.h.resize(dg * ds, 0.0);
    }
    let gram = &mut s.full64[..dg * dg];
    gram.fill(0.0);
    // Factor rows are copied 8 values at a time, reading past the row's end into the next
    // row (never past `y`): the extra columns are overwritten or ignored.
    let kv = k.next_multiple_of(8);
    // Prefetching only pays when the factors do not sit in the L2 cache anyway.
    let prefetch = p.y.len() > 1 << 17;
    for (c, (idx, vals)) in
        p.idx[..n].chunks(GRAM_CHUNK).zip(p.vals[..n].chunks(GRAM_CHUNK)).enumerate()
    {
        let tile = &mut s.g[..idx.len() * ds];
        for (e, ((&i, &v), row)) in idx.iter().zip(vals).zip(tile.chunks_exact_mut(ds)).enumerate()
        {
            if prefetch {
                prefetch_row(p.y, p.idx, c * GRAM_CHUNK + e + PREFETCH_AHEAD, k);
            }
            let at = i as usize * k;
            match p.y.get(at..at + kv) {
                Some(src) => {
                    for (d8, s8) in row.chunks_exact_mut(8).zip(src.chunks_exact(8)) {
                        if let (Ok(d8), Ok(s8)) =
                            (<&mut [f32; 8]>::try_from(d8), <&[f32; 8]>::try_from(s8))
                        {
                            *d8 = *s8;
                        }
                    }
                }
                None => copy_short(&mut row[..k], &p.y[at..at + k]),
            }
            let mut t = v;
            if let Some((mu, other)) = p.biases {
                row[k] = 1.0;
                t -= mu + other.get(i as usize).copied().unwrap_or(0.0);
            }
            row[d] = t;
            // Columns dg..ds are never written: they only feed output lanes that are ignored.
        }
        gram_gathered_g::<FMA>(tile, ds, dg, &mut s.h[..dg * ds], gram);
    }
    let a = &mut s.a64[..d * d];
    let b = &mut s.b64[..d];
    for j in 0..d {
        a[j * d..j * d + j + 1].copy_from_slice(&gram[j * dg..j * dg + j + 1]);
        b[j] = gram[d * dg + j];
    }
    let nf = n as f64;
    for j in 0..k {
        a[j * d + j] += f64::from(p.reg) * nf;
    }
    if d > k {
        a[k * d + k] += f64::from(p.reg_bias) * nf;
    }
    let ok = if p.nonnegative {
        let full = &mut s.x64[..d * d];
        for j in 0..d {
            for c in 0..=j {
                full[j * d + c] = a[j * d + c];
                full[c * d + j] = a[j * d + c];
            }
        }
        let xs = &mut s.r64[..d];
        xs.fill(0.0);
        let g = &mut s.f64v[..d];
        nnls_g::<FMA>(full, b, xs, g, k);
        b.copy_from_slice(xs);
        b.iter().all(|v| v.is_finite())
    } else {
        cholesky_solve_g::<FMA>(a, b, &mut s.x64[..d], &mut s.f64v[..d])
    };
    if !ok {
        x.fill(f32::NAN);
        if d > k {
            *bias = f32::NAN;
        }
        return None;
    }
    for (xv, bv) in x.iter_mut().zip(b.iter()) {
        *xv = *bv as f32;
    }
    if d > k {
        *bias = b[k] as f32;
    }
    // Training error at the stored (f32) solution z: Σ (t − fᵀz)² = Σt² − 2 zᵀ(Σ t f) + zᵀ(Σ f fᵀ) z.
    let z = &mut s.f64v[..d];
    for (zj, xv) in z.iter_mut().zip(x.iter()) {
        *zj = f64::from(*xv);
    }
    if d > k {
        z[k] = f64::from(*bias);
    }
    let mut sse = gram[d * dg + d];
    for j in 0..d {
        let row = &gram[j * dg..j * dg + j];
        let off: f64 = row.iter().zip(&z[..j]).map(|(g, zc)| g * zc).sum();
        sse += z[j] * (gram[j * dg + j] * z[j] + 2.0 * off - 2.0 * gram[d * dg + j]);
    }
    Some(sse.max(0.0))
}

dispatch! {
    /// Solves one explicit row (Spark ALS-WR): `(Σ f fᵀ + λ·n·I) z = Σ t·f` over the row's `n`
    /// entries, with `f = y_i` and `t = r` — or, with biases, `f = [y_i, 1]`,
    /// `t = r − μ − b_i`, `z = [x, b]` and `reg_bias·n` on the bias diagonal. Cholesky (L D Lᵀ
    /// up to rank 12) in f64, or non-negative least squares. Empty rows get zeros. Returns the
    /// row's training error `Σ (t − fᵀz)²` at the stored solution (without the
    /// regularization), or `None` (and NaN factors) when the matrix is singular (e.g. `λ = 0`
    /// with fewer entries than the rank).
    ///
    /// The Gram `Σ f fᵀ`, `Σ t·f` and `Σ t²` come from one product of the gathered `[f, t]`
    /// rows with themselves, summed in f32 over blocks of [`GRAM_CHUNK`] entries and in f64
    /// across blocks.
    pub fn explicit_row / explicit_row_avx => explicit_row_g(
        p: &ExplicitRow<'_>, x: &mut [f32], bias: &mut f32, s: &mut Scratch,
    ) -> Option<f64>
}

/// Sum of squared errors of one explicit row: `Σ (r − x·y_i − μ − b_u − b_i)²` (f64).
#[inline(always)]
fn explicit_sse_row_g<const FMA: bool>(
    x: &[f32],
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    offset: f32,
    other_bias: Option<&[f32]>,
) -> f64 {
    let k = x.len();
    let mut sse = 0f64;
    for (&i, &v) in idx.iter().zip(vals) {
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let mut pred = dot_g::<FMA>(x, yi) + offset;
        if let Some(ob) = other_bias {
            pred += ob.get(i as usize).copied().unwrap_or(0.0);
        }
        let e = f64::from(v) - f64::from(pred);
        sse += e * e;
    }
    sse
}

dispatch! {
    /// Squared error of one explicit row: `Σ_i (r_i − x·y_i − offset − other_bias_i)²`, where
    /// `offset` is `μ + b_u` with biases (else 0).
    pub fn explicit_sse_row / explicit_sse_row_avx => explicit_sse_row_g(
        x: &[f32], y: &[f32], idx: &[u32], vals: &[f32], offset: f32, other_bias: Option<&[f32]>,
    ) -> f64
}

/// One user's part of `implicit`'s `calculate_training_loss`:
/// `xᵀ(YᵀY + Σ_obs wA·y yᵀ)x − 2·Σ_obs wb·(y·x) + Σ_obs c` where `c` is the entry's confidence;
/// also returns `Σ_obs c`. The caller adds the regularization term and normalises.
#[inline(always)]
fn implicit_loss_row_g<const FMA: bool>(
    yty: &[f32],
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    x: &[f32],
    s: &mut Scratch,
) -> (f64, f64) {
    let k = x.len();
    s.ensure(k);
    let r = &mut s.r[..k];
    symv_g::<FMA>(yty, x, r);
    let mut loss = 0f64;
    let mut total_conf = 0f64;
    for (&i, &v) in idx.iter().zip(vals) {
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let t = -2.0 * wb + wa * dot_g::<FMA>(yi, x);
        axpy_g::<FMA>(t, yi, r);
        let c = f64::from(wa) + 1.0;
        total_conf += c;
        // `implicit` adds the confidence of every stored entry; with Spark's convention only
        // entries with preference 1 contribute c·p².
        if wb != 0.0 || matches!(conf, ImplicitWeights::Implicit { .. }) {
            loss += c;
        }
    }
    loss += f64::from(dot_g::<FMA>(r, x));
    (loss, total_conf)
}

dispatch! {
    /// One row's share of the implicit training loss (see `als`): returns
    /// `(xᵀA₀x − 2bᵀx + Σ c, Σ c)` with `A₀ = YᵀY + Σ_obs wA·y yᵀ`, `b = Σ_obs wb·y`.
    pub fn implicit_loss_row / implicit_loss_row_avx => implicit_loss_row_g(
        yty: &[f32], y: &[f32], idx: &[u32], vals: &[f32], conf: ImplicitWeights,
        x: &[f32], s: &mut Scratch,
    ) -> (f64, f64)
}

/// Portable reference Cholesky solve (f64) of the lower triangle of `a` (`k × k`), in place of
/// `b`; `false` when not positive definite. Exposed for tests and one-off solves.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64]) -> bool {
    let k = b.len();
    if a.len() < k * k {
        return false;
    }
    let (mut col, mut diag0) = (vec![0f64; k], vec![0f64; k]);
    cholesky_solve_g::<false>(a, b, &mut col, &mut diag0)
}

/// The straightforward CG row (one dot and one axpy per entry and CG step, `YᵀY·p` by row
/// dots): the reference the blocked [`implicit_cg_row_g`] is tested against.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn implicit_cg_row_ref_g<const FMA: bool>(
    yty: &[f32],
    diag: f32,
    y: &[f32],
    idx: &[u32],
    vals: &[f32],
    conf: ImplicitWeights,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    let k = x.len();
    s.ensure(k);
    let (r, p, ap) = (&mut s.r[..k], &mut s.p[..k], &mut s.ap[..k]);
    // r = b − A x
    symv_g::<FMA>(yty, x, r);
    for (rj, xj) in r.iter_mut().zip(x.iter()) {
        *rj = -madd::<FMA>(diag, *xj, *rj);
    }
    for (n, (&i, &v)) in idx.iter().zip(vals).enumerate() {
        prefetch_row(y, idx, n + PREFETCH_AHEAD, k);
        if v == 0.0 {
            continue;
        }
        let (wa, wb) = conf.weights(v);
        let yi = &y[i as usize * k..(i as usize + 1) * k];
        let t = wb - wa * dot_g::<FMA>(yi, x);
        axpy_g::<FMA>(t, yi, r);
    }
    p.copy_from_slice(r);
    let mut rsold = dot_g::<FMA>(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        symv_g::<FMA>(yty, p, ap);
        axpy_g::<FMA>(diag, p, ap);
        for (&i, &v) in idx.iter().zip(vals) {
            if v == 0.0 {
                continue;
            }
            let (wa, _) = conf.weights(v);
            let yi = &y[i as usize * k..(i as usize + 1) * k];
            let t = wa * dot_g::<FMA>(yi, p);
            axpy_g::<FMA>(t, yi, ap);
        }
        let alpha = rsold / dot_g::<FMA>(p, ap);
        axpy_g::<FMA>(alpha, p, x);
        axpy_g::<FMA>(-alpha, ap, r);
        let rsnew = dot_g::<FMA>(r, r);
        if rsnew < 1e-20 {
            break;
        }
        let beta = rsnew / rsold;
        for (pj, rj) in p.iter_mut().zip(r.iter()) {
            *pj = madd::<FMA>(beta, *pj, *rj);
        }
        rsold = rsnew;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_explicit_rows_match_the_general_path() {
        for k in 1..=SMALL_RANK_MAX {
            for biased in [false, true] {
                for (n, reg) in [(3usize, 0.1f32), (40, 0.05), (300, 0.2), (k / 2, 0.0)] {
                    let items = 50;
                    let y: Vec<f32> = (0..items * k).map(|i| val(i, 3 + k as u64) * 0.8).collect();
                    let ib: Vec<f32> = (0..items).map(|i| val(i, 99) * 0.3).collect();
                    let idx: Vec<u32> = (0..n).map(|e| ((e * 7 + k) % items) as u32).collect();
                    let vals: Vec<f32> = (0..n).map(|e| 1.0 + (e % 5) as f32).collect();
                    let p = ExplicitRow {
                        y: &y,
                        k,
                        idx: &idx,
                        vals: &vals,
                        biases: biased.then_some((3.1, &ib[..])),
                        reg,
                        reg_bias: reg * 0.5,
                        nonnegative: false,
                    };
                    let mut s = Scratch::new(k + 2);
                    let (mut xs, mut bs) = (vec![0f32; k], 0f32);
                    let (mut xg, mut bg) = (vec![0f32; k], 0f32);
                    let small = explicit_row_g::<false>(&p, &mut xs, &mut bs, &mut s);
                    let general = explicit_row_general_g::<false>(&p, &mut xg, &mut bg, &mut s);
                    let what = format!("k {k} biases {biased} n {n} reg {reg}");
                    assert_eq!(small.is_some(), general.is_some(), "{what}");
                    let (Some(es), Some(eg)) = (small, general) else {
                        assert!(xs.iter().all(|v| v.is_nan()), "{what}");
                        continue;
                    };
                    assert!((es - eg).abs() <= 1e-6 * (1.0 + eg), "{what}: sse {es} vs {eg}");
                    for (a, b) in xs.iter().zip(&xg).chain([(&bs, &bg)]) {
                        assert!(
                            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                            "{what}: {xs:?} vs {xg:?}"
                        );
                    }
                    // The dispatched (SIMD) build agrees too.
                    let (mut xd, mut bd) = (vec![0f32; k], 0f32);
                    assert!(explicit_row(&p, &mut xd, &mut bd, &mut s).is_some());
                    for (a, b) in xd.iter().zip(&xg) {
                        assert!(
                            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                            "{what}: {xd:?} vs {xg:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn dot_matches_naive_for_all_lengths() {
        for n in 0..70 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            assert!((f64::from(dot(&a, &b)) - naive).abs() < 1e-4, "n = {n}");
            assert!((f64::from(dot_g::<false>(&a, &b)) - naive).abs() < 1e-4);
        }
    }

    #[test]
    fn cholesky_solves_spd_system() {
        // A = M Mᵀ + I for a fixed M.
        let k = 7;
        let m: Vec<f64> = (0..k * k).map(|i| ((i * 7 + 3) % 11) as f64 / 5.0 - 1.0).collect();
        let mut a = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                a[i * k + j] = (0..k).map(|t| m[i * k + t] * m[j * k + t]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let x_true: Vec<f64> = (0..k).map(|i| i as f64 - 3.0).collect();
        let mut b: Vec<f64> =
            (0..k).map(|i| (0..k).map(|j| a[i * k + j] * x_true[j]).sum()).collect();
        let mut l = a.clone();
        assert!(cholesky_solve(&mut l, &mut b));
        for (x, t) in b.iter().zip(&x_true) {
            assert!((x - t).abs() < 1e-9);
        }
        let mut sing = vec![1.0, 0.0, 1.0, 1.0];
        let mut bb = vec![1.0, 1.0];
        assert!(!cholesky_solve(&mut sing, &mut bb));
    }

    /// A deterministic pseudo-random value in `[-0.5, 0.5)` for test data.
    fn val(i: usize, salt: u64) -> f32 {
        let mut z = (i as u64).wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    #[test]
    fn gemv_t_matches_naive() {
        for (rows, cols, stride) in [(0, 5, 5), (3, 64, 64), (17, 40, 41), (9, 7, 7), (40, 33, 40)]
        {
            let m: Vec<f32> = (0..rows * stride).map(|i| val(i, 1)).collect();
            let coef: Vec<f32> = (0..rows).map(|i| val(i, 2)).collect();
            let init: Vec<f32> = (0..cols).map(|i| val(i, 3)).collect();
            for fma in [false, true] {
                let mut out = init.clone();
                if fma {
                    gemv_t_g::<true>(&m, stride, &coef, &mut out);
                } else {
                    gemv_t_g::<false>(&m, stride, &coef, &mut out);
                }
                for c in 0..cols {
                    let naive: f64 = f64::from(init[c])
                        + (0..rows)
                            .map(|r| f64::from(coef[r]) * f64::from(m[r * stride + c]))
                            .sum::<f64>();
                    assert!((f64::from(out[c]) - naive).abs() < 1e-4, "{rows}x{cols} c={c}");
                }
            }
        }
    }

    #[test]
    fn gemv_n_matches_naive() {
        for (rows, k) in [(0, 8), (1, 64), (7, 64), (9, 10), (13, 3), (4, 17)] {
            let g: Vec<f32> = (0..rows * k).map(|i| val(i, 4)).collect();
            let p: Vec<f32> = (0..k).map(|i| val(i, 5)).collect();
            let mut t = vec![f32::NAN; rows];
            gemv_n_g::<false>(&g, &p, &mut t);
            let mut t2 = vec![f32::NAN; rows];
            gemv_n_g::<true>(&g, &p, &mut t2);
            for r in 0..rows {
                let naive: f64 = (0..k).map(|c| f64::from(g[r * k + c]) * f64::from(p[c])).sum();
                assert!((f64::from(t[r]) - naive).abs() < 1e-4, "{rows}x{k} r={r}");
                assert!((f64::from(t2[r]) - naive).abs() < 1e-4, "{rows}x{k} r={r}");
            }
        }
    }

    #[test]
    fn blocked_cg_row_matches_reference() {
        for (k, n, items) in [(64, 45, 200), (10, 3, 30), (13, 0, 20), (8, 1, 5), (37, 90, 120)] {
            let y: Vec<f32> = (0..items * k).map(|i| val(i, 7) * 0.3).collect();
            let mut yty = vec![0f32; k * k];
            for r in 0..items {
                for a in 0..k {
                    for b in 0..k {
                        yty[a * k + b] += y[r * k + a] * y[r * k + b];
                    }
                }
            }
            let idx: Vec<u32> = (0..n).map(|e| ((e * 7 + 3) % items) as u32).collect();
            // Some stored zeros, some negative values.
            let vals: Vec<f32> = (0..n)
                .map(|e| {
                    if e % 9 == 4 {
                        0.0
                    } else if e % 11 == 5 {
                        -2.0
                    } else {
                        1.0 + e as f32
                    }
                })
                .collect();
            for conf in
                [ImplicitWeights::Implicit { alpha: 2.0 }, ImplicitWeights::Spark { alpha: 0.5 }]
            {
                let x0: Vec<f32> = (0..k).map(|i| val(i, 9) * 0.01).collect();
                let mut xa = x0.clone();
                let mut xb = x0.clone();
                let mut s = Scratch::new(k);
                implicit_cg_row(&yty, 0.1, &y, &idx, &vals, conf, 3, &mut xa, &mut s);
                // Run twice with a reused scratch, after a longer row, to catch stale state.
                let mut xa2 = x0.clone();
                implicit_cg_row(&yty, 0.1, &y, &idx, &vals, conf, 3, &mut xa2, &mut s);
                implicit_cg_row_ref_g::<false>(
                    &yty, 0.1, &y, &idx, &vals, conf, 3, &mut xb, &mut s,
                );
                assert_eq!(xa, xa2);
                let scale = xb.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
                for (a, b) in xa.iter().zip(&xb) {
                    assert!((a - b).abs() <= 1e-3 * scale, "k={k} n={n}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn nnls_matches_brute_force_on_2x2() {
        // min ½xᵀAx − bᵀx, x >= 0, A = [[2,1],[1,2]], b = [1,-3]: unconstrained solution
        // (5/3, -7/3) is infeasible; with x2 = 0, x1 = b1/A11 = 0.5 and the gradient of x2
        // there is 1·0.5 + 3 > 0, so (0.5, 0) is optimal.
        let a = [2.0, 1.0, 1.0, 2.0];
        let b = [1.0, -3.0];
        let mut x = [0.0, 0.0];
        let mut g = [0.0, 0.0];
        nnls_g::<false>(&a, &b, &mut x, &mut g, 2);
        assert!((x[0] - 0.5).abs() < 1e-9 && x[1] == 0.0, "{x:?}");
    }
}
