//! Times one-user scoring on a synthetic 50k-item, rank-64 model (no HTTP), one request at a
//! time and as one batch: `cargo run --release -p alternator-server --example scoring`.
use std::time::Instant;

use alternator::RecommendOptions;
use alternator_server::loadgen::synthetic_model;

fn main() -> alternator::Result<()> {
    let m = synthetic_model(2000, 50_000, 64, 20, 7)?;
    let opts = RecommendOptions::top(10);
    let reps = 200u32;
    let t = Instant::now();
    let mut check = 0f32;
    for u in 0..reps {
        check += m.recommend_index(u, &opts)?.items[0].1;
    }
    println!(
        "one user at a time: {:.3} ms/request ({check})",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
    let t = Instant::now();
    let mut check = 0f32;
    let users: Vec<u32> = (0..reps).collect();
    m.recommend_batch(&users, &opts, |_, r| {
        check += r.items[0].1;
        Ok(())
    })?;
    println!(
        "one batch:          {:.3} ms/request ({check})",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(reps)
    );
    Ok(())
}
