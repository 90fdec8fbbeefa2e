//! `alternator export`: writes a model's factors as plain files, named like Spark's
//! `userFactors` / `itemFactors` DataFrames:
//!
//! - `user_factors.csv`: header `id,f0,…,f{k−1}`, one row per user (`--format jsonl`:
//!   `user_factors.jsonl`, lines `{"id":"…","features":[…]}`, Spark's column names);
//! - `item_factors.csv` / `.jsonl`: the same for items;
//! - with biases: `user_biases.csv` / `item_biases.csv` (`id,bias`; jsonl `{"id":…,"bias":…}`)
//!   and `global_mean.txt` (μ, one number).
//!
//! Rows are in model index order (order of first appearance in the training file). Values are
//! printed with the shortest decimal that reads back to the same f32.

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::{Factors, IdMap};
use clap::ValueEnum;
use serde_json::json;

use super::output::{csv_field, load_model, num};

/// Flags of `alternator export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`)
    #[arg(long)]
    pub model: PathBuf,
    /// Directory to write into (created when missing; existing export files are replaced)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header
    Csv,
    /// JSON lines
    Jsonl,
}

fn create(path: &Path) -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
    let f = std::fs::File::create(path).map_err(|e| alternator::Error::io(path, e))?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, f))
}

fn write_factors(
    path: &Path,
    ids: &IdMap,
    f: &Factors,
    format: ExportFormat,
) -> anyhow::Result<()> {
    let mut w = create(path)?;
    let io = |e| alternator::Error::io(path, e);
    let mut line = String::new();
    if format == ExportFormat::Csv {
        line.push_str("id");
        for k in 0..f.rank() {
            use std::fmt::Write as _;
            let _ = write!(line, ",f{k}");
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    for (r, id) in ids.ids().enumerate() {
        use std::fmt::Write as _;
        line.clear();
        let row = f.row(r);
        match format {
            ExportFormat::Csv => {
                line.push_str(&csv_field(id));
                for v in row {
                    let _ = write!(line, ",{v}");
                }
            }
            ExportFormat::Jsonl => {
                let _ = write!(line, "{{\"id\":{},\"features\":[", json!(id));
                for (k, v) in row.iter().enumerate() {
                    let _ = write!(line, "{}{}", if k > 0 { "," } else { "" }, num(*v));
                }
                line.push_str("]}");
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(())
}

fn write_biases(path: &Path, ids: &IdMap, b: &[f32], format: ExportFormat) -> anyhow::Result<()> {
    let mut w = create(path)?;
    let io = |e| alternator::Error::io(path, e);
    if format == ExportFormat::Csv {
        writeln!(w, "id,bias").map_err(io)?;
    }
    for (id, v) in ids.ids().zip(b) {
        match format {
            ExportFormat::Csv => writeln!(w, "{},{v}", csv_field(id)),
            ExportFormat::Jsonl => writeln!(w, "{}", json!({"id": id, "bias": num(*v)})),
        }
        .map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(())
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    let model = load_model(&a.model)?;
    std::fs::create_dir_all(&a.out).map_err(|e| alternator::Error::io(&a.out, e))?;
    let ext = match a.format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    let mut written = Vec::new();
    let p = a.out.join(format!("user_factors.{ext}"));
    write_factors(&p, model.users(), model.user_factors(), a.format)?;
    written.push(p);
    let p = a.out.join(format!("item_factors.{ext}"));
    write_factors(&p, model.items(), model.item_factors(), a.format)?;
    written.push(p);
    if let Some(b) = model.biases() {
        let p = a.out.join(format!("user_biases.{ext}"));
        write_biases(&p, model.users(), &b.user, a.format)?;
        written.push(p);
        let p = a.out.join(format!("item_biases.{ext}"));
        write_biases(&p, model.items(), &b.item, a.format)?;
        written.push(p);
        let p = a.out.join("global_mean.txt");
        std::fs::write(&p, format!("{}\n", b.global)).map_err(|e| alternator::Error::io(&p, e))?;
        written.push(p);
    }
    eprintln!(
        "exported {} users and {} items (rank {}) to {}",
        model.users().len(),
        model.items().len(),
        model.rank(),
        written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
