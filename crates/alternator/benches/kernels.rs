//! Micro-benchmarks of the ALS row kernels (`cargo bench -p alternator --bench kernels`).
//!
//! A dependency-free harness: each kernel runs on a fixed synthetic problem (rank 64 unless
//! stated, 50 entries per row over 2 000 random factor rows) and the best of five timed rounds
//! is printed in nanoseconds per call. Wall-clock figures only; compare A/B on a quiet machine.

use std::hint::black_box;
use std::time::Instant;

use alternator::bench_internals::{self as kernels, ExplicitRow, ImplicitWeights, Scratch};

/// Deterministic pseudo-random values in `[-0.5, 0.5)`.
fn values(n: usize, salt: u64) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let mut z = i.wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// Runs `f` `reps` times per round, five rounds, and prints the best time per call.
fn bench(name: &str, reps: usize, mut f: impl FnMut()) {
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    println!("{name:<32} {:>12.0} ns/call", best * 1e9);
}

fn main() {
    let rows = 2000;
    let n = 50;
    for k in [10usize, 64] {
        let y: Vec<f32> = values(rows * k, 1).iter().map(|v| v * 0.1).collect();
        let mut yty = vec![0f32; k * k];
        kernels::gram_lower(&y, k, &mut yty);
        for i in 0..k {
            for j in 0..i {
                yty[j * k + i] = yty[i * k + j];
            }
        }
        let idx: Vec<u32> = (0..n).map(|e| ((e * 37 + 11) % rows) as u32).collect();
        let vals: Vec<f32> = (0..n).map(|e| 1.0 + (e % 5) as f32).collect();
        let conf = ImplicitWeights::Implicit { alpha: 1.0 };
        let mut s = Scratch::new(k + 1);
        let mut x = vec![0.001f32; k];
        bench(&format!("gram_lower k={k} n={rows}"), 20, || {
            let mut out = vec![0f32; k * k];
            kernels::gram_lower(black_box(&y), k, &mut out);
            black_box(&out);
        });
        bench(&format!("implicit_cg_row k={k} n={n}"), 2000, || {
            kernels::implicit_cg_row(&yty, 0.05, &y, &idx, &vals, conf, 3, &mut x, &mut s);
            black_box(&x);
        });
        bench(&format!("implicit_cholesky_row k={k} n={n}"), 500, || {
            black_box(kernels::implicit_cholesky_row(
                &yty, 0.05, &y, &idx, &vals, conf, &mut x, &mut s,
            ));
        });
        let mut bias = 0f32;
        // Short rows time the solve, long ones the Gram accumulation.
        for n in [5usize, 50, 200] {
            let idx: Vec<u32> = (0..n).map(|e| ((e * 37 + 11) % rows) as u32).collect();
            let vals: Vec<f32> = (0..n).map(|e| 1.0 + (e % 5) as f32).collect();
            bench(&format!("explicit_row k={k} n={n}"), 20_000 / n.min(100), || {
                let row = ExplicitRow {
                    y: &y,
                    k,
                    idx: &idx,
                    vals: &vals,
                    biases: None,
                    reg: 0.1,
                    reg_bias: 0.1,
                    nonnegative: false,
                };
                black_box(kernels::explicit_row(&row, &mut x, &mut bias, &mut s));
            });
        }
    }
}
