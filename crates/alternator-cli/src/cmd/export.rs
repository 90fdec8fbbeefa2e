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
//!
//! `--format parquet` writes the same tables as Parquet (`id` int32 when every id is a 32-bit
//! integer, else string; `features: array<float>`; biases as `id, bias`). `--format spark`
//! writes a Spark `ALSModel` directory (`metadata/`, `userFactors/`, `itemFactors/`) that
//! `pyspark.ml.recommendation.ALSModel.load(DIR)` loads (see [`alternator::spark`]); Spark's
//! ids must be 32-bit integers, so a model with other ids is refused (exit code 2).
//!
//! The files are written as a set: into a temporary directory beside `--out`, which then takes
//! the place of `--out` (see [`alternator::files::AtomicDir`]). So `--out` must be a new
//! directory, an empty one, or an earlier export (a directory holding only export files); an
//! earlier export is replaced whole, never left mixed with the new one. Anything else is
//! refused (exit code 2) rather than deleted.

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::files::AtomicDir;
use alternator::tables::all_int32;
use alternator::{Factors, IdMap, SaveOptions};
use clap::ValueEnum;
use serde_json::json;

use super::output::{csv_field, load_model, num};
use crate::common::usage;
use crate::paths;

/// Flags of `alternator export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// Directory to write: a new or empty one, or an earlier export, which is replaced as a
    /// whole (a directory holding anything else is refused)
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
    /// Parquet tables (id, features)
    Parquet,
    /// A Spark ALSModel directory (ALSModel.load reads it)
    Spark,
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
    if format == ExportFormat::Parquet {
        let w = alternator::tables::write_factor_table(w, ids, f, all_int32(ids), path)?;
        w.into_inner().map_err(|e| alternator::Error::io(path, e.into_error()))?;
        return Ok(());
    }
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
            _ => {
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
    if format == ExportFormat::Parquet {
        let w = alternator::tables::write_bias_table(w, ids, b, all_int32(ids), path)?;
        w.into_inner().map_err(|e| alternator::Error::io(path, e.into_error()))?;
        return Ok(());
    }
    if format == ExportFormat::Csv {
        writeln!(w, "id,bias").map_err(io)?;
    }
    for (id, v) in ids.ids().zip(b) {
        match format {
            ExportFormat::Csv => writeln!(w, "{},{v}", csv_field(id)),
            _ => writeln!(w, "{}", json!({"id": id, "bias": num(*v)})),
        }
        .map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(())
}

/// True for the name of a file `export` writes.
fn is_export_file(name: &str) -> bool {
    let stems = ["user_factors", "item_factors", "user_biases", "item_biases"];
    name == "global_mean.txt"
        || name.rsplit_once('.').is_some_and(|(stem, ext)| {
            stems.contains(&stem) && matches!(ext, "csv" | "jsonl" | "parquet")
        })
}

/// True for what a Spark export holds: its three subdirectories.
fn is_spark_export_entry(name: &str, is_dir: bool) -> bool {
    is_dir && matches!(name, "metadata" | "userFactors" | "itemFactors")
}

/// Refuses an `--out` that export must not replace: a file, a directory holding anything but
/// an earlier export's files, or one holding `--model` itself.
fn check_out(out: &Path, model: &Path) -> anyhow::Result<()> {
    if let Some(how) = paths::same_file(out, model) {
        return usage(format!(
            "--out {} is {how} --model {}: exporting would replace the model; choose another \
             --out directory",
            out.display(),
            model.display()
        ));
    }
    let meta = match std::fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(alternator::Error::io(out, e).into()),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        return usage(format!(
            "--out {} exists and is not a directory: export writes a directory of files; \
             name a new directory",
            out.display()
        ));
    }
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| alternator::Error::io(out, e))? {
        let entry = entry.map_err(|e| alternator::Error::io(out, e))?;
        let path = entry.path();
        if let Some(how) = paths::same_file(&path, model) {
            return usage(format!(
                "--out {} holds {} which is {how} --model {}: exporting would replace the \
                 directory and destroy the model; choose another --out directory",
                out.display(),
                path.display(),
                model.display()
            ));
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let plain = entry.file_type().is_ok_and(|t| t.is_file());
        let dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !(plain && is_export_file(&name) || is_spark_export_entry(&name, dir)) {
            foreign.push(name);
        }
    }
    if !foreign.is_empty() {
        foreign.sort();
        let shown: Vec<&str> = foreign.iter().take(5).map(String::as_str).collect();
        return usage(format!(
            "--out {} is not empty and is not an earlier export (it holds {}{}): export \
             replaces the whole directory, so it writes only a new or empty directory or over \
             an earlier export; choose another directory",
            out.display(),
            shown.join(", "),
            if foreign.len() > 5 { ", …" } else { "" }
        ));
    }
    Ok(())
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    if paths::is_stdout(&a.out) {
        return usage(
            "--out -: export writes several files into a directory, not to standard output; \
             name a directory",
        );
    }
    check_out(&a.out, &a.model)?;
    let model = load_model(&a.model)?;
    if a.format == ExportFormat::Spark {
        if model.clip_predictions() {
            eprintln!(
                "note: the model clips predictions to the training range; Spark does not, so \
                 its predictions outside that range will differ"
            );
        }
        model.save_spark(&a.out)?;
        let extra = if model.biases().is_some() { " (+2 columns carrying the biases)" } else { "" };
        eprintln!(
            "exported {} users and {} items (rank {}{extra}) as a Spark ALSModel directory {}; \
             load it with pyspark.ml.recommendation.ALSModel.load({:?})",
            model.users().len(),
            model.items().len(),
            model.rank(),
            a.out.display(),
            a.out.display().to_string()
        );
        return Ok(());
    }
    let dir = AtomicDir::create_with(&a.out, SaveOptions::default())?;
    let ext = match a.format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
        _ => "parquet",
    };
    let mut written = Vec::new();
    let name = format!("user_factors.{ext}");
    write_factors(&dir.dir().join(&name), model.users(), model.user_factors(), a.format)?;
    written.push(name);
    let name = format!("item_factors.{ext}");
    write_factors(&dir.dir().join(&name), model.items(), model.item_factors(), a.format)?;
    written.push(name);
    if let Some(b) = model.biases() {
        let name = format!("user_biases.{ext}");
        write_biases(&dir.dir().join(&name), model.users(), &b.user, a.format)?;
        written.push(name);
        let name = format!("item_biases.{ext}");
        write_biases(&dir.dir().join(&name), model.items(), &b.item, a.format)?;
        written.push(name);
        let name = "global_mean.txt".to_string();
        let p = dir.dir().join(&name);
        std::fs::write(&p, format!("{}\n", b.global)).map_err(|e| alternator::Error::io(&p, e))?;
        written.push(name);
    }
    dir.commit()?;
    eprintln!(
        "exported {} users and {} items (rank {}) to {}",
        model.users().len(),
        model.items().len(),
        model.rank(),
        written.iter().map(|n| a.out.join(n).display().to_string()).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
