//! Times the phases of one training run in-process (read, CSR, fit):
//! `cargo run --release -p alternator --example phases -- FILE [rank] [iters] [implicit] [solver]`.
//! A profiling aid for BENCHMARKS.md; prints one line per phase.

use std::time::Instant;

use alternator::{Als, Duplicates, ReaderBuilder, Solver};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: phases FILE [rank] [iters] [implicit] [cg|cholesky]")?;
    let rank = args.get(1).map_or(Ok(10), |s| s.parse())?;
    let iters = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let implicit = args.get(3).is_some_and(|s| s == "implicit");
    let solver = match args.get(4).map(String::as_str) {
        Some("cholesky") => Solver::Cholesky,
        _ => Solver::Cg,
    };
    let reader = ReaderBuilder::new();
    let t = Instant::now();
    let data = reader.from_path(path)?;
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let again = reader.from_path(path)?;
    println!("read again (warm pool) {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
    drop(again);
    let t = Instant::now();
    let csr = data.to_csr(if implicit { Duplicates::Sum } else { Duplicates::Keep });
    let to_csr = t.elapsed().as_secs_f64();
    drop(csr);
    let als =
        if implicit { Als::implicit().reg_param(0.05).solver(solver) } else { Als::explicit() };
    let mut per_iter = Vec::new();
    let t = Instant::now();
    let model =
        als.rank(rank).max_iter(iters).on_iteration(|r| per_iter.push(r.seconds)).fit(&data)?;
    let fit = t.elapsed().as_secs_f64();
    println!("read    {:>9.3} ms ({} interactions)", read * 1e3, data.len());
    println!("to_csr  {:>9.3} ms", to_csr * 1e3);
    println!(
        "fit     {:>9.3} ms ({} iterations including to_csr, last loss {:?})",
        fit * 1e3,
        iters,
        model.summary().history.last()
    );
    let iters_ms: Vec<String> = per_iter.iter().map(|s| format!("{:.2}", s * 1e3)).collect();
    println!("per-iteration ms: {}", iters_ms.join(" "));
    Ok(())
}
