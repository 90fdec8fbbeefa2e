//! Times one-user scoring paths on a synthetic 50k-item, rank-64 model (no HTTP):
//! `cargo run --release -p alternator-server --example scoring`.
use std::time::Instant;

use alternator::recommend::{RecommendOptions, recommend_batch, recommend_user};
use alternator_server::loadgen::synthetic_model;

fn main() {
    let m = synthetic_model(2000, 50_000, 64, 20, 7);
    let opts = RecommendOptions::top(10);
    let reps = 200u32;
    let t = Instant::now();
    let mut check = 0f32;
    for u in 0..reps {
        check += recommend_user(&m, u, &opts).map(|r| r.items[0].1).unwrap_or(0.0);
    }
    println!(
        "recommend_user:  {:.3} ms/request ({check})",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
    let t = Instant::now();
    let mut check = 0f32;
    for u in 0..reps {
        let _ = recommend_batch(&m, &[u], &opts, |_, r| {
            check += r.items[0].1;
            Ok(())
        });
    }
    println!(
        "recommend_batch: {:.3} ms/request ({check})",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
}
