//! Times `read_interactions` alone and prints a digest of the result, so two builds can be
//! compared for speed and for identical output:
//! `cargo run --release -p alternator --example readbench -- FILE [repeats] [options]`.
//!
//! Options: `--delimiter D`, `--header yes|no`, `--user-col C`, `--item-col C`,
//! `--rating-col C|none`, `--time-col C`, `--binary`, `--skip-invalid`, `--keep-lines`.
//! Prints the minimum and median read time over `repeats` reads (warm thread pool) and a
//! hash over ids, indices, value bits, times, line numbers and skipped lines; or the error.

use std::hash::{Hash, Hasher};
use std::time::Instant;

use alternator::data::{Column, Delimiter, ReadOptions, read_interactions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: readbench FILE [repeats] [options]")?;
    let mut repeats = 20usize;
    let mut opts = ReadOptions::default();
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--delimiter" => opts.delimiter = Some(Delimiter::parse(&val()?)?),
            "--header" => opts.header = Some(val()? == "yes"),
            "--user-col" => opts.user_col = Column::parse(&val()?),
            "--item-col" => opts.item_col = Column::parse(&val()?),
            "--rating-col" => {
                let v = val()?;
                opts.rating_col = (v != "none").then(|| Column::parse(&v));
            }
            "--time-col" => opts.time_col = Some(Column::parse(&val()?)),
            "--binary" => opts.binary = true,
            "--skip-invalid" => opts.skip_invalid = true,
            "--keep-lines" => opts.keep_lines = true,
            n => repeats = n.parse()?,
        }
    }
    let data = match read_interactions(&path, &opts) {
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
        let d = read_interactions(&path, &opts)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(d);
    }
    let cpu = cpu_ticks().zip(cpu0).map(|((u1, s1, f1), (u0, s0, f0))| (u1 - u0, s1 - s0, f1 - f0));
    times.sort_by(f64::total_cmp);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.users.ids().for_each(|s| s.hash(&mut h));
    data.items.ids().for_each(|s| s.hash(&mut h));
    data.user_idx.hash(&mut h);
    data.item_idx.hash(&mut h);
    data.values.iter().for_each(|v| v.to_bits().hash(&mut h));
    data.times.hash(&mut h);
    data.lines.hash(&mut h);
    data.header.hash(&mut h);
    format!("{:?} {:?}", data.delimiter, data.skipped).hash(&mut h);
    println!(
        "{} interactions, {} users, {} items, {} skipped; read min {:.3} ms, median {:.3} ms; digest {:016x}",
        data.len(),
        data.users.len(),
        data.items.len(),
        data.skipped.count,
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
