//! `alternator inspect`: what a user checks before training.

use std::path::PathBuf;

use crate::stats::{Quantiles, summarize};

use crate::common::InputArgs;

/// Flags of `alternator inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The interaction file: text (also gzip or zstd), Parquet, a directory of Parquet part
    /// files, or `-` for standard input
    pub file: PathBuf,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let data = a.input.read(&a.file)?;
    let s = summarize(&data);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!("file          {}", s.path);
    if data.format() == alternator::InputFormat::Parquet {
        println!("format        parquet");
    } else {
        if data.format() != alternator::InputFormat::Text {
            println!("format        {}-compressed text", data.format().name());
        }
        println!(
            "delimiter     {}{}",
            s.delimiter,
            if s.header.is_some() { ", with header" } else { "" }
        );
    }
    if let Some(h) = &s.header {
        println!("columns       {}", h.join(", "));
    }
    println!("users         {}", s.users);
    println!("items         {}", s.items);
    println!("interactions  {}", s.interactions);
    println!("density       {:.6} ({:.4}%)", s.density, s.density * 100.0);
    println!("values        min {} max {} mean {:.4}", s.value_min, s.value_max, s.value_mean);
    println!("timestamps    {}", if s.has_time { "yes" } else { "no" });
    println!(
        "duplicates    {} repeated interactions over {} (user, item) pairs",
        s.duplicates, s.duplicate_pairs
    );
    if s.skipped > 0 {
        println!("skipped       {} invalid lines", s.skipped);
    }
    println!("histogram");
    let peak = s.histogram.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    for b in &s.histogram {
        let label =
            if b.lo == b.hi { format!("{}", b.lo) } else { format!("{:.3}..{:.3}", b.lo, b.hi) };
        let bar = "#".repeat(((b.count as f64 / peak as f64) * 40.0).round() as usize);
        println!("  {label:>16} {:>10} {bar}", b.count);
    }
    let q = |name: &str, q: &Quantiles| {
        println!(
            "{name:<13} min {} p25 {} median {} p75 {} p90 {} p99 {} max {} mean {:.2}",
            q.min, q.p25, q.median, q.p75, q.p90, q.p99, q.max, q.mean
        )
    };
    q("per user", &s.per_user);
    q("per item", &s.per_item);
    println!("sample users  {}", s.sample_users.join(", "));
    println!("sample items  {}", s.sample_items.join(", "));
    Ok(())
}
