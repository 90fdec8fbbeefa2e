//! The explicit-feedback row kernel (Spark ALS-WR): the Gram of the gathered rows in register
//! tiles, the fixed-size small-rank solve (L D Lᵀ), the general Cholesky or NNLS solve, and a
//! row's squared error.

use super::blas::dot_g;
use super::cholesky::cholesky_solve_g;
use super::nnls::nnls_g;
use super::prefetch::{PREFETCH_AHEAD, prefetch_row};
use super::{Scratch, madd, madd64};

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

/// Largest rank solved by `explicit_row_small` (fixed-size, fully unrolled).
pub const SMALL_RANK_MAX: usize = 12;

#[inline(always)]
pub(super) fn explicit_row_g<const FMA: bool>(
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
pub(super) fn explicit_row_general_g<const FMA: bool>(
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
