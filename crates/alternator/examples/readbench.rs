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
    for _ in 0..repeats {
        let t = Instant::now();
        let d = read_interactions(&path, &opts)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        drop(d);
    }
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
    Ok(())
}
