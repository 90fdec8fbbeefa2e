//! Times `ReaderBuilder::from_path` alone and prints a digest of the result, so two builds can be
//! compared for speed and for identical output:
//! `cargo run --release -p alternator --example readbench -- FILE [repeats] [options]`.
//!
//! Options: `--delimiter D`, `--header yes|no`, `--user-col C`, `--item-col C`,
//! `--rating-col C|none`, `--time-col C`, `--ignore-times` (as `fit` reads), `--binary`,
//! `--skip-invalid`, `--keep-lines`.
//! Prints the minimum and median read time over `repeats` reads (warm thread pool) and a
//! hash over ids, indices, value bits, times, line numbers and skipped lines; or the error.

use std::hash::{Hash, Hasher};
use std::time::Instant;

use alternator::{Delimiter, ReaderBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: readbench FILE [repeats] [options]")?;
    let mut repeats = 20usize;
    let mut reader = ReaderBuilder::new();
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--delimiter" => _ = reader.delimiter(Delimiter::parse(&val()?)?),
            "--header" => _ = reader.has_header(val()? == "yes"),
            "--user-col" => _ = reader.user_col(val()?.as_str()),
            "--item-col" => _ = reader.item_col(val()?.as_str()),
            "--rating-col" => match val()?.as_str() {
                "none" => _ = reader.no_rating_col(),
                v => _ = reader.rating_col(v),
            },
            "--time-col" => _ = reader.time_col(val()?.as_str()),
            "--binary" => _ = reader.binary(true),
            "--skip-invalid" => _ = reader.skip_invalid(true),
            "--keep-lines" => _ = reader.keep_lines(true),
            "--ignore-times" => _ = reader.ignore_times(true),
            n => repeats = n.parse()?,
        }
    }
    let data = match reader.from_path(&path) {
        Ok(d) => d,
        Err(e) => {
            println!("error: {e}");
            return Ok(());
        }
    };
    let mut times = Vec::with_capacity(repeats);
    let cpu0 = cpu_ticks();
    for _ in 0..repeats {
        let t = Instant::now();
        let d = reader.from_path(&path)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(d);
    }
    let cpu = cpu_ticks().zip(cpu0).map(|((u1, s1, f1), (u0, s0, f0))| (u1 - u0, s1 - s0, f1 - f0));
    times.sort_by(f64::total_cmp);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.users().ids().for_each(|s| s.hash(&mut h));
    data.items().ids().for_each(|s| s.hash(&mut h));
    data.user_indices().hash(&mut h);
    data.item_indices().hash(&mut h);
    data.values().iter().for_each(|v| v.to_bits().hash(&mut h));
    data.times().hash(&mut h);
    data.lines().hash(&mut h);
    data.header().hash(&mut h);
    format!("{:?} {:?}", data.delimiter(), data.skipped()).hash(&mut h);
    println!(
        "{} interactions, {} users, {} items, {} skipped; read min {:.3} ms, median {:.3} ms; digest {:016x}",
        data.len(),
        data.users().len(),
        data.items().len(),
        data.skipped().count,
        times.first().copied().unwrap_or(0.0),
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        h.finish()
    );
    if let (Some((user, sys, faults)), true) = (cpu, repeats > 0) {
        // Clock ticks are 10 ms; spread over the repeats. (Idle pool threads spin for a
        // while, so CPU time overstates the work; page faults are exact.)
        let per = |t: u64| t as f64 * 10.0 / repeats as f64;
        println!(
            "per read: cpu user {:.3} ms, sys {:.3} ms; {} page faults",
            per(user),
            per(sys),
            faults / repeats as u64
        );
    }
    Ok(())
}

/// User and system CPU time of the process so far, in clock ticks, and its minor page
/// faults (Linux only).
fn cpu_ticks() -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name: minflt is the 10th, utime and stime the
    // 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?, f.get(7)?.parse().ok()?))
}
