//! `alternator predict`: score every (user, item) line of a file with a model.
//!
//! Each input interaction line is re-emitted verbatim with its prediction appended (same
//! delimiter); the header, when the input has one, gets a `prediction` column. Spark's
//! `coldStartStrategy`: `nan` writes `NaN` for a pair whose user or item was not trained,
//! `drop` leaves the line out and reports how many were dropped on stderr.

use std::io::Write;
use std::path::PathBuf;

use alternator::{ColdStart, Delimiter, Model};
use anyhow::Context;
use clap::ValueEnum;

use crate::common::InputArgs;
use crate::paths::{self, OutFile};

/// Flags of `alternator predict`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model file (from `alternator fit`)
    #[arg(long)]
    pub model: PathBuf,
    /// The (user, item) pairs to score: an interaction file (any value column is ignored)
    #[arg(long)]
    pub input: PathBuf,
    /// Output file (`-` for stdout): the input lines with a prediction column appended;
    /// written atomically, never over --model or --input
    #[arg(long)]
    pub out: PathBuf,
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
    let Some(lines) = data.lines() else {
        anyhow::bail!("internal error: line numbers were not kept");
    };
    let bytes = std::fs::read(&a.input).with_context(|| format!("{}", a.input.display()))?;
    let delim = delimiter_bytes(data.delimiter());
    let mut out = OutFile::create(&a.out)?;
    let out_path = out.name().to_path_buf();
    let werr = |e: std::io::Error| alternator::Error::io(&out_path, e);
    let mut header_pending = data.header().is_some();
    let (mut next, mut dropped, mut written, mut unknown) = (0usize, 0usize, 0usize, 0usize);
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
        if pred.is_none() {
            unknown += 1;
            if a.cold_start_strategy == ColdStartArg::Drop {
                dropped += 1;
                continue;
            }
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
    match a.cold_start_strategy {
        ColdStartArg::Drop => eprintln!(
            "predicted {written} pair(s); dropped {dropped} with a user or item unknown to the model"
        ),
        ColdStartArg::Nan if unknown > 0 => eprintln!(
            "predicted {written} pair(s); {unknown} with a user or item unknown to the model got NaN (--cold-start-strategy drop leaves them out)"
        ),
        ColdStartArg::Nan => eprintln!("predicted {written} pair(s)"),
    }
    Ok(())
}
