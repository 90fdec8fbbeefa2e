//! Ingestion: reading interaction files (ratings, play counts, watch ratios) into dense
//! indices with the reverse id maps kept.
//!
//! Supported out of the box, with the delimiter and header detected from the first lines:
//! MovieLens `u.data` / `ua.base` (tab, no header), `ratings.dat` (`::`), `ratings.csv`
//! (comma, header `userId,movieId,rating,timestamp`), KuaiRec-style CSV with a header naming
//! the value column (`rating_col("watch_ratio")`), and any CSV / TSV / `;` / `|` / space
//! separated file. Fields may be quoted CSV-style (`"The Matrix, Reloaded"`). Lines may end
//! in `\n`, `\r\n` or a lone `\r` (old Mac files), mixed in one file too (see [`lines`]).
//!
//! Nothing is guessed past the first lines: every line must have the fields of the header
//! (or of the first line, without a header) — a line with one missing or extra would put
//! another column's values in a used one, so it is an error (or skipped, with
//! [`ReaderBuilder::skip_invalid`]); trailing empty fields (a trailing delimiter) are not
//! counted. Every value of a used column must parse, the time column's included.
//!
//! The file is parsed in parallel chunks, streamed in blocks (a quick pass counts each
//! chunk's lines, so that chunks can then write straight into their part of the output);
//! ids are mapped to dense indices in order of first appearance, exactly as a sequential
//! read would number them. The usual line (numbers split on one byte or `::`) is read in a
//! single pass over its bytes; anything unusual takes the general route, with the same
//! results.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ids::IdMap;
use crate::sparse::{Csr, Duplicates};

mod arrays;
mod builder;
mod chunk;
mod fields;
mod input;
mod lines;
mod local_ids;
mod number;
mod parquet;
mod parse;
mod scan;
mod sniff;
#[cfg(unix)]
mod stream;
#[cfg(test)]
mod tests;

pub use builder::{InteractionsBuilder, ReaderBuilder};
pub(crate) use fields::split_fields;
pub use input::{InputFormat, decompress, read_text};
pub use lines::{Lines, lines};
pub(crate) use sniff::detect_delimiter;

use parse::parse_with;

/// A column, by 0-based position or by header name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// 0-based position.
    Index(usize),
    /// Header name (needs a header line).
    Name(String),
}

impl Column {
    /// Parses `"2"` as a position and anything else as a header name.
    pub fn parse(s: &str) -> Column {
        match s.trim().parse::<usize>() {
            Ok(i) => Column::Index(i),
            Err(_) => Column::Name(s.trim().to_string()),
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Index(i) => write!(f, "{i}"),
            Column::Name(n) => write!(f, "{n:?}"),
        }
    }
}

/// The field separator of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Delimiter {
    /// A single byte: tab, comma, semicolon, pipe, space.
    Byte(u8),
    /// MovieLens `ratings.dat`'s `::`.
    DoubleColon,
    /// Runs of spaces and tabs.
    Whitespace,
}

impl Delimiter {
    /// Parses a delimiter as a user writes it: `tab`, `\t`, `comma`, `,`, `::`, `space`, `whitespace`,
    /// or any single character.
    pub fn parse(s: &str) -> Result<Delimiter> {
        Ok(match s {
            "tab" | "\\t" | "\t" | "tsv" => Delimiter::Byte(b'\t'),
            "comma" | "," | "csv" => Delimiter::Byte(b','),
            "semicolon" | ";" => Delimiter::Byte(b';'),
            "pipe" | "|" => Delimiter::Byte(b'|'),
            "space" | " " => Delimiter::Byte(b' '),
            "whitespace" | "ws" => Delimiter::Whitespace,
            "::" => Delimiter::DoubleColon,
            s if s.len() == 1 && s.is_ascii() => Delimiter::Byte(s.as_bytes()[0]),
            _ => {
                return Err(Error::param(
                    "delimiter",
                    format!(
                        "{s:?} is not a delimiter; use tab, comma, ';', '|', space, whitespace or '::'"
                    ),
                ));
            }
        })
    }

    /// The delimiter as written in a file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Delimiter::Byte(b'\t') => "\t",
            Delimiter::Byte(b',') => ",",
            Delimiter::Byte(b';') => ";",
            Delimiter::Byte(b'|') => "|",
            Delimiter::Byte(b' ') | Delimiter::Whitespace => " ",
            Delimiter::Byte(_) => ",",
            Delimiter::DoubleColon => "::",
        }
    }

    /// The delimiter of a line, as the reader detects it in a file's first line: `::`, tab,
    /// comma, semicolon, pipe, else whitespace.
    pub fn detect(line: &str) -> Delimiter {
        detect_delimiter(line)
    }

    /// The fields of one line split on this delimiter, CSV quotes understood
    /// (`"Matrix, The",5` is two fields).
    pub fn split<'a>(&self, line: &'a str) -> Vec<std::borrow::Cow<'a, str>> {
        split_fields(line, *self)
    }

    /// A human name (`tab`, `comma`, …).
    pub fn name(&self) -> String {
        match self {
            Delimiter::Byte(b'\t') => "tab".into(),
            Delimiter::Byte(b',') => "comma".into(),
            Delimiter::Byte(b) => format!("{:?}", *b as char),
            Delimiter::DoubleColon => "::".into(),
            Delimiter::Whitespace => "whitespace".into(),
        }
    }
}

/// How to read an interaction file. `Default` gives: detect delimiter and header, user in
/// column 0, item in 1, value in 2, time in 3 when present.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions {
    /// Field separator; `None` detects it from the first line.
    pub delimiter: Option<Delimiter>,
    /// Whether the first line is a header; `None` detects it.
    pub header: Option<bool>,
    /// User id column (Spark `userCol`).
    pub user_col: Column,
    /// Item id column (Spark `itemCol`).
    pub item_col: Column,
    /// Value column (Spark `ratingCol`); `None` makes every interaction count 1.0.
    pub rating_col: Option<Column>,
    /// Timestamp column. `None` looks for a header named `timestamp`/`time`/`ts`, else
    /// column 3, and uses it when the first data line holds a time there; either way, a
    /// used column must hold a time on every line.
    pub time_col: Option<Column>,
    /// Turn every value into 1.0 (after validation).
    pub binary: bool,
    /// Skip malformed lines (and report them) instead of failing.
    pub skip_invalid: bool,
    /// Keep the 1-based line number of every interaction (for tools that rewrite the file).
    pub keep_lines: bool,
    /// Do not look for a timestamp column when `time_col` is `None` (for callers that never
    /// use times, such as training: the column is then neither parsed nor stored).
    pub ignore_times: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: None,
            header: None,
            user_col: Column::Index(0),
            item_col: Column::Index(1),
            rating_col: Some(Column::Index(2)),
            time_col: None,
            binary: false,
            skip_invalid: false,
            keep_lines: false,
            ignore_times: false,
        }
    }
}

/// Lines skipped under [`ReaderBuilder::skip_invalid`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SkipReport {
    /// How many lines were skipped.
    pub count: u64,
    /// The first few skipped lines: 1-based line number and the reason.
    pub first: Vec<(u64, String)>,
}

/// How many skipped lines are described individually.
const SKIP_EXAMPLES: usize = 5;

impl SkipReport {
    /// Adds a chunk's skips, in chunk order: its count, and its examples while fewer than
    /// `SKIP_EXAMPLES` are kept.
    pub(crate) fn add(&mut self, count: u64, examples: &[(u64, String)]) {
        self.count += count;
        let room = SKIP_EXAMPLES.saturating_sub(self.first.len());
        self.first.extend(examples.iter().take(room).cloned());
    }
}

/// Interactions read from a file, as parallel arrays of dense indices and values.
#[derive(Debug, Clone, Default)]
pub struct Interactions {
    /// The file read.
    pub path: PathBuf,
    /// User ids, in order of first appearance.
    pub users: IdMap,
    /// Item ids, in order of first appearance.
    pub items: IdMap,
    /// User index of each interaction.
    pub user_idx: Vec<u32>,
    /// Item index of each interaction.
    pub item_idx: Vec<u32>,
    /// Value of each interaction (1.0 without a value column or with [`ReaderBuilder::binary`]).
    pub values: Vec<f32>,
    /// Timestamp of each interaction, when the file has a time column.
    pub times: Option<Vec<i64>>,
    /// 1-based line number of each interaction, with [`ReaderBuilder::keep_lines`].
    pub lines: Option<Vec<u64>>,
    /// The header's column names, when the file has a header.
    pub header: Option<Vec<String>>,
    /// The delimiter used.
    pub delimiter: Option<Delimiter>,
    /// Lines skipped under [`ReaderBuilder::skip_invalid`].
    pub skipped: SkipReport,
    /// How the input was stored (for Parquet, `lines` are 1-based row numbers and `header`
    /// the column names).
    pub format: InputFormat,
}

impl Interactions {
    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The user × item matrix, repeated pairs combined per `dup`.
    pub fn to_csr(&self, dup: Duplicates) -> Csr {
        Csr::from_triplets(
            self.users.len(),
            self.items.len(),
            &self.user_idx,
            &self.item_idx,
            &self.values,
            dup,
        )
    }

    /// Smallest and largest value (`(0, 0)` when empty).
    pub fn value_range(&self) -> (f32, f32) {
        let mut it = self.values.iter().copied();
        match it.next() {
            None => (0.0, 0.0),
            Some(f) => it.fold((f, f), |(lo, hi), v| (lo.min(v), hi.max(v))),
        }
    }
}

/// Reads an interaction file.
///
/// Errors name the file, the 1-based line and the 1-based column: a line with other fields
/// than the file's, an empty id, a non-numeric, NaN or infinite value, a bad timestamp, an
/// empty file, a missing path.
pub(crate) fn read_interactions(
    path: impl AsRef<Path>,
    opts: &ReadOptions,
) -> Result<Interactions> {
    let path = path.as_ref();
    if let Some(data) = input::read_other(path, opts)? {
        return Ok(data);
    }
    #[cfg(unix)]
    if let Some(data) = stream::read(path, opts)? {
        return Ok(data);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_interactions(&bytes, path, opts)
}

/// Parses interactions from bytes already in memory; `path` is used in messages only.
pub(crate) fn parse_interactions(
    bytes: &[u8],
    path: &Path,
    opts: &ReadOptions,
) -> Result<Interactions> {
    parse_with(bytes, path, opts, true)
}
