//! `alternator predict`: score every (user, item) line of a file with a model.
//!
//! Each input interaction line is re-emitted verbatim with its prediction appended (same
//! delimiter); the header, when the input has one, gets a `prediction` column. Spark's
//! `coldStartStrategy`: `nan` writes `NaN` for a pair whose user or item was not trained,
//! `drop` leaves the line out and reports how many were dropped on stderr.
//!
//! `--out X.parquet` (or `--format parquet`) writes Spark's `transform` output instead: the
//! input's columns (a Parquet input's own, or a text input's fields) and a float
//! `prediction`. A Parquet input with a text output gives CSV `user,item,prediction`.

use std::io::Write;
use std::path::PathBuf;

use alternator::{ColdStart, Delimiter, InputFormat, Interactions, Model};
use clap::ValueEnum;

use crate::common::{InputArgs, input_text, stdin_bytes};
use crate::paths::{self, OutFile, SendOut};

/// Flags of `alternator predict`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`) or a Spark ALSModel directory
    #[arg(long)]
    pub model: PathBuf,
    /// The (user, item) pairs to score: an interaction file (any value column is ignored;
    /// text, gzip/zstd text, Parquet, or `-` for stdin)
    #[arg(long)]
    pub input: PathBuf,
    /// Output file (`-` for stdout): the input lines with a prediction column appended;
    /// written atomically, never over --model or --input
    #[arg(long)]
    pub out: PathBuf,
    /// Output format: text (the input's lines, a column appended) or parquet (Spark's
    /// transform: the input's columns and `prediction`) [default: parquet for a name ending
    /// in .parquet, else text]
    #[arg(long, value_parser = ["text", "parquet"])]
    pub format: Option<String>,
    /// Pairs with a user or item unknown to the model: write NaN, or drop the line (Spark)
    #[arg(long, value_enum, default_value_t = ColdStartArg::Nan)]
    pub cold_start_strategy: ColdStartArg,
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `--cold-start-strategy` values (Spark's `coldStartStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColdStartArg {
    /// Predict NaN for unknown users or items
    Nan,
    /// Leave pairs with unknown users or items out
    Drop,
}

impl From<ColdStartArg> for ColdStart {
    fn from(c: ColdStartArg) -> Self {
        match c {
            ColdStartArg::Nan => ColdStart::Nan,
            ColdStartArg::Drop => ColdStart::Drop,
        }
    }
}

/// The separator to append a column with, as written in the file.
pub fn delimiter_bytes(d: Option<Delimiter>) -> Vec<u8> {
    match d {
        Some(Delimiter::Byte(b)) => vec![b],
        Some(Delimiter::DoubleColon) => b"::".to_vec(),
        Some(Delimiter::Whitespace) => b" ".to_vec(),
        None => b"\t".to_vec(),
    }
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    paths::refuse_overwrite(
        &[("--model", Some(&a.model)), ("--input", Some(&a.input))],
        &[("--out", Some(&a.out))],
    )?;
    let model = Model::load(&a.model)?;
    // Labels are not needed to predict: read only ids (a value column may be absent).
    let data = a.input_args.read_with(&a.input, |r| {
        r.keep_lines(true).no_rating_col().binary(false).ignore_times(true);
    })?;
    let preds = model.predict_all(&data);
    let drop = a.cold_start_strategy == ColdStartArg::Drop;
    let unknown = preds.iter().filter(|p| p.is_none()).count();
    let parquet_in = data.format() == InputFormat::Parquet;
    if paths::is_parquet_out(&a.out, a.format.as_deref()) {
        let out = SendOut::create(&a.out)?;
        let name = a.out.clone();
        let out = if parquet_in {
            let bytes = if paths::is_stdout(&a.input) { Some(stdin_bytes()?) } else { None };
            let pair = (out, name.as_path());
            alternator::tables::write_predictions(&a.input, bytes, &data, &preds, drop, pair)?
        } else {
            let text = input_text(&a.input)?;
            let pair = (out, name.as_path());
            alternator::tables::write_rows_with_prediction(&text, &data, &preds, drop, pair)?
        };
        out.finish()?;
        let written = if drop { preds.len() - unknown } else { preds.len() };
        report(a.cold_start_strategy, written, unknown);
        return Ok(());
    }
    if parquet_in {
        return write_csv(&a, &data, &preds);
    }
    let Some(lines) = data.lines() else {
        anyhow::bail!("internal error: line numbers were not kept");
    };
    let bytes = input_text(&a.input)?;
    let delim = delimiter_bytes(data.delimiter());
    let mut out = OutFile::create(&a.out)?;
    let out_path = out.name().to_path_buf();
    let werr = |e: std::io::Error| alternator::Error::io(&out_path, e);
    let mut header_pending = data.header().is_some();
    let (mut next, mut dropped, mut written) = (0usize, 0usize, 0usize);
    let mut buf = Vec::with_capacity(256);
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // Lines as the reader numbered them, each rewritten with its own line end (LF, CRLF or
    // CR).
    for (k, (raw, eol)) in alternator::data::lines(body).enumerate() {
        let line_no = k as u64 + 1;
        let eol: &[u8] = if eol.is_empty() { b"\n" } else { eol };
        if header_pending {
            if raw.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            header_pending = false;
            buf.clear();
            buf.extend_from_slice(raw);
            buf.extend_from_slice(&delim);
            buf.extend_from_slice(b"prediction");
            buf.extend_from_slice(eol);
            out.write_all(&buf).map_err(werr)?;
            continue;
        }
        if lines.get(next) != Some(&line_no) {
            continue; // blank or skipped line
        }
        let pred = preds.get(next).copied().flatten();
        next += 1;
        if pred.is_none() && a.cold_start_strategy == ColdStartArg::Drop {
            dropped += 1;
            continue;
        }
        buf.clear();
        buf.extend_from_slice(raw);
        buf.extend_from_slice(&delim);
        match pred {
            Some(p) => write!(buf, "{p}")?,
            None => buf.extend_from_slice(b"NaN"),
        }
        buf.extend_from_slice(eol);
        out.write_all(&buf).map_err(werr)?;
        written += 1;
    }
    out.finish()?;
    debug_assert!(dropped <= unknown);
    report(a.cold_start_strategy, written, unknown);
    Ok(())
}

/// Says on stderr how many pairs were written and what became of the unknown ones.
fn report(strategy: ColdStartArg, written: usize, unknown: usize) {
    match strategy {
        ColdStartArg::Drop => eprintln!(
            "predicted {written} pair(s); dropped {unknown} with a user or item unknown to the model"
        ),
        ColdStartArg::Nan if unknown > 0 => eprintln!(
            "predicted {written} pair(s); {unknown} with a user or item unknown to the model got NaN (--cold-start-strategy drop leaves them out)"
        ),
        ColdStartArg::Nan => eprintln!("predicted {written} pair(s)"),
    }
}

/// A Parquet input's predictions as CSV `user,item,prediction`.
fn write_csv(a: &Args, data: &Interactions, preds: &[Option<f32>]) -> anyhow::Result<()> {
    let mut out = OutFile::create(&a.out)?;
    let out_path = out.name().to_path_buf();
    let werr = |e: std::io::Error| alternator::Error::io(&out_path, e);
    writeln!(out, "user,item,prediction").map_err(werr)?;
    let (mut written, mut unknown) = (0usize, 0usize);
    for (k, p) in preds.iter().enumerate() {
        let Some((u, i, _)) = data.get(k) else { continue };
        if p.is_none() {
            unknown += 1;
            if a.cold_start_strategy == ColdStartArg::Drop {
                continue;
            }
        }
        let field = |id: Option<&str>| super::output::csv_field(id.unwrap_or("")).into_owned();
        let (uid, iid) = (field(data.users().id(u)), field(data.items().id(i)));
        match p {
            Some(p) => writeln!(out, "{uid},{iid},{p}"),
            None => writeln!(out, "{uid},{iid},NaN"),
        }
        .map_err(werr)?;
        written += 1;
    }
    out.finish()?;
    report(a.cold_start_strategy, written, unknown);
    Ok(())
}
