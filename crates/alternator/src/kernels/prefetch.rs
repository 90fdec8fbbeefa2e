//! Software prefetching of the factor rows the row kernels gather, and the CPUID check of
//! whether prefetching the next row pays.

use std::sync::OnceLock;

/// How many entries ahead the row kernels prefetch the factor rows they will gather.
pub(super) const PREFETCH_AHEAD: usize = 6;

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
pub(super) fn prefetch_row(y: &[f32], idx: &[u32], at: usize, k: usize) {
    if let Some(&i) = idx.get(at) {
        if let Some(row) = y.get(i as usize * k..(i as usize + 1) * k) {
            prefetch_lines::<HINT_T0>(row);
        }
    }
}

/// Hints the CPU to bring the factor rows `y[i]` for every `i` in `idx` into the L2 cache:
/// called for the next row while the current one computes, so that its gather finds its rows
/// near (a pure hint, like `prefetch_row`; it never changes results).
pub fn prefetch_rows_l2(y: &[f32], idx: &[u32], k: usize) {
    for &i in idx {
        if let Some(row) = y.get(i as usize * k..(i as usize + 1) * k) {
            prefetch_lines::<HINT_T1>(row);
        }
    }
}

/// Whether prefetching the next row's factor rows ([`prefetch_rows_l2`]) pays on this CPU,
/// decided once from the CPU vendor, as measured (figures in BENCHMARKS.md): it shortens the
/// fit on AMD EPYC; on Intel Xeon it costs time, the hardware prefetchers and the wider miss
/// queues there already covering the gathers. Unknown vendors prefetch.
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
