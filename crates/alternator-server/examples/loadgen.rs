//! Benchmark helper for `alternator serve`.
//!
//! ```text
//! # a 50k-item, rank-64 model (10k users, 20 seen items each)
//! cargo run --release -p alternator-server --example loadgen -- make-model /tmp/bench.alt 10000 50000 64
//! alternator serve --model /tmp/bench.alt --addr 127.0.0.1:8080 &
//! # 20,000 GET /v1/recommend?user=U&n=10 over 10,000 users, 4 connections
//! cargo run --release -p alternator-server --example loadgen -- load 127.0.0.1:8080 20000 4 10000
//! ```
use std::time::Duration;

use alternator_server::loadgen::{LoadSpec, Target, run_load_blocking, synthetic_model};

fn arg<T: std::str::FromStr>(args: &[String], k: usize, what: &str) -> T {
    match args.get(k).and_then(|s| s.parse().ok()) {
        Some(v) => v,
        None => {
            eprintln!(
                "missing or bad {what}\nusage: loadgen make-model OUT USERS ITEMS RANK | loadgen load ADDR REQUESTS CONCURRENCY USERS [N]"
            );
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("make-model") => {
            let out: String = arg(&args, 1, "OUT");
            let (users, items, rank) =
                (arg(&args, 2, "USERS"), arg(&args, 3, "ITEMS"), arg(&args, 4, "RANK"));
            if let Err(e) = synthetic_model(users, items, rank, 20, 7).and_then(|m| m.save(&out)) {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            println!("wrote {out}: {users} users, {items} items, rank {rank}");
        }
        Some("load") => {
            let addr = arg(&args, 1, "ADDR");
            let requests: usize = arg(&args, 2, "REQUESTS");
            let concurrency = arg(&args, 3, "CONCURRENCY");
            let users: usize = arg(&args, 4, "USERS");
            let n: usize = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(10);
            let targets = (0..users.clamp(1, 100_000))
                .map(|k| {
                    Target::get(format!("/v1/recommend?user={}&n={n}", (k * 7919) % users + 1))
                })
                .collect();
            let spec = LoadSpec {
                addr,
                concurrency,
                requests,
                time_limit: Duration::from_secs(300),
                targets,
                progress: None,
                until_checksum: None,
            };
            match run_load_blocking(spec) {
                Ok(r) => {
                    println!("{}", r.summary());
                    if let Some(f) = &r.first_failure {
                        println!("first failure: {f}");
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
        _ => {
            eprintln!(
                "usage: loadgen make-model OUT USERS ITEMS RANK | loadgen load ADDR REQUESTS CONCURRENCY USERS [N]"
            );
            std::process::exit(2);
        }
    }
}
