//! Ingestion: reading interaction files (ratings, play counts, watch ratios) into dense
//! indices with the reverse id maps kept.
//!
//! Supported out of the box, with the delimiter and header detected from the first lines:
//! MovieLens `u.data` / `ua.base` (tab, no header), `ratings.dat` (`::`), `ratings.csv`
//! (comma, header `userId,movieId,rating,timestamp`), KuaiRec-style CSV with a header naming
//! the value column (`--rating-col watch_ratio`), and any CSV / TSV / `;` / `|` / space
//! separated file. Fields may be quoted CSV-style (`"The Matrix, Reloaded"`).
//!
//! The file is parsed in parallel chunks, streamed in blocks (a quick pass counts each
//! chunk's lines, so that chunks can then write straight into their part of the output);
//! ids are mapped to dense indices in order of first appearance, exactly as a sequential
//! read would number them. The usual line (numbers split on one byte or `::`) is read in a
//! single pass over its bytes; anything unusual takes the general route, with the same
//! results.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ids::IdMap;
use crate::sparse::{Csr, Duplicates};

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
    /// Parses a user's `--delimiter`: `tab`, `\t`, `comma`, `,`, `::`, `space`, `whitespace`,
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
                    "--delimiter",
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
pub struct ReadOptions {
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
    /// Timestamp column. `None` looks for column 3 (or a header named `timestamp`/`time`)
    /// and uses it only when every value parses; `Some` requires it.
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

/// Lines skipped under `--skip-invalid`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SkipReport {
    /// How many lines were skipped.
    pub count: u64,
    /// The first few skipped lines: 1-based line number and the reason.
    pub first: Vec<(u64, String)>,
}

/// How many skipped lines are described individually.
const SKIP_EXAMPLES: usize = 5;

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
    /// Value of each interaction (1.0 with `--rating-col none` or `--binary`).
    pub values: Vec<f32>,
    /// Timestamp of each interaction, when the file has a time column.
    pub times: Option<Vec<i64>>,
    /// 1-based line number of each interaction, with [`ReadOptions::keep_lines`].
    pub lines: Option<Vec<u64>>,
    /// The header's column names, when the file has a header.
    pub header: Option<Vec<String>>,
    /// The delimiter used.
    pub delimiter: Option<Delimiter>,
    /// Lines skipped under `--skip-invalid`.
    pub skipped: SkipReport,
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
/// Errors name the file, the 1-based line and the column: a malformed line, a missing
/// column, an empty id, a non-numeric, NaN or infinite value, an empty file, a missing path.
pub fn read_interactions(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<Interactions> {
    let path = path.as_ref();
    #[cfg(unix)]
    if let Some(data) = stream::read(path, opts)? {
        return Ok(data);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_interactions(&bytes, path, opts)
}

/// Parses interactions from bytes already in memory; `path` is used in messages only.
pub fn parse_interactions(bytes: &[u8], path: &Path, opts: &ReadOptions) -> Result<Interactions> {
    parse_with(bytes, path, opts, true)
}

/// [`parse_interactions`]; `scan` enables [`fast_line`] (tests turn it off to compare).
fn parse_with(bytes: &[u8], path: &Path, opts: &ReadOptions, scan: bool) -> Result<Interactions> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let Some(layout) = Layout::detect(bytes, true, path, opts, scan)? else {
        return Err(Error::Invalid(format!("{}: could not read the first lines", path.display())));
    };
    // Chunk the body at line boundaries.
    let body = bytes.get(layout.body_start..).unwrap_or_default();
    let target = chunk_target(body.len());
    let mut bounds = vec![0usize];
    while let Some(&last) = bounds.last() {
        if last >= body.len() {
            break;
        }
        let probe = (last + target).min(body.len());
        let end = if probe >= body.len() {
            body.len()
        } else {
            memchr::memchr(b'\n', &body[probe..]).map_or(body.len(), |p| probe + p + 1)
        };
        bounds.push(end);
    }
    let chunks: Vec<(&[u8], Option<&str>, ChunkCount)> = bounds
        .par_windows(2)
        .map(|w| {
            let c = &body[w[0]..w[1]];
            let text = std::str::from_utf8(c).ok();
            (c, text, ChunkCount::of(c, text.is_some()))
        })
        .collect();
    let counts: Vec<ChunkCount> = chunks.iter().map(|c| c.2).collect();
    let data = assemble(&layout, path, opts, &counts, &|k, parser, out| {
        if let Some(&(c, text, _)) = chunks.get(k) {
            parser.feed(c, text, out);
        }
        true
    })?;
    data.ok_or_else(|| Error::Invalid(format!("{}: internal error reading chunks", path.display())))
}

/// The UTF-8 byte order mark, skipped at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Chunks for a body of `len` bytes: about four per thread for balance, but not tiny ones
/// (each chunk has its own id tables, which the merge walks).
fn chunk_target(len: usize) -> usize {
    (len / (4 * rayon::current_num_threads().max(1))).max(MIN_CHUNK)
}

/// What the first lines of a file say: delimiter, header, columns, and where the body
/// (the interactions) starts.
struct Layout {
    spec: LineSpec,
    header: Option<Vec<String>>,
    delimiter: Delimiter,
    rating_col: Option<usize>,
    time_col: Option<usize>,
    /// Offset of the body in the bytes given to [`Layout::detect`].
    body_start: usize,
    /// 1-based number of the body's first line.
    body_line0: u64,
}

impl Layout {
    /// Reads the first lines of `bytes` (after any byte order mark). With `complete` false,
    /// `bytes` is only the start of the file, and `Ok(None)` says that it does not hold the
    /// lines needed.
    fn detect(
        bytes: &[u8],
        complete: bool,
        path: &Path,
        opts: &ReadOptions,
        scan: bool,
    ) -> Result<Option<Layout>> {
        // The end of the line starting at `start`, if known.
        let line_end = |start: usize| -> Option<usize> {
            match memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default()) {
                Some(p) => Some(start + p),
                None => complete.then_some(bytes.len()),
            }
        };
        // Skip leading blank lines to find the first line.
        let mut first_start = 0usize;
        let mut first_line_no = 1u64;
        loop {
            let Some(end) = line_end(first_start) else { return Ok(None) };
            if trim_cr(&bytes[first_start..end]).iter().any(|b| !b.is_ascii_whitespace())
                || end >= bytes.len()
            {
                break;
            }
            first_start = end + 1;
            first_line_no += 1;
        }
        if bytes[first_start..].iter().all(|b| b.is_ascii_whitespace()) {
            if !complete {
                return Ok(None);
            }
            return Err(Error::Empty {
                path: path.into(),
                message: "the file is empty: no interactions to read".into(),
            });
        }
        let Some(first_end) = line_end(first_start) else { return Ok(None) };
        let first = decode(trim_cr(&bytes[first_start..first_end]));
        let delimiter = opts.delimiter.unwrap_or_else(|| detect_delimiter(&first));
        let first_fields = split_fields(&first, delimiter);

        let any_named = [
            Some(&opts.user_col),
            Some(&opts.item_col),
            opts.rating_col.as_ref(),
            opts.time_col.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|c| matches!(c, Column::Name(_)));
        let has_header = match opts.header {
            Some(h) => h,
            None if any_named => true,
            None => {
                let second_start = (first_end + 1).min(bytes.len());
                let Some(second_end) = line_end(second_start) else { return Ok(None) };
                let second = decode(trim_cr(&bytes[second_start..second_end]));
                looks_like_header(&first_fields, &split_fields(&second, delimiter), opts)
            }
        };
        let header: Option<Vec<String>> =
            has_header.then(|| first_fields.iter().map(|s| s.trim().to_string()).collect());

        let resolve = |c: &Column, flag: &str| -> Result<usize> {
            match c {
                Column::Index(i) => Ok(*i),
                Column::Name(n) => {
                    let Some(h) = &header else {
                        return Err(Error::param(
                            flag,
                            format!(
                                "column {n:?} is named, but the file has no header line; give a 0-based position or --header"
                            ),
                        ));
                    };
                    h.iter().position(|x| x == n).ok_or_else(|| Error::Parse {
                        path: path.into(),
                        line: first_line_no,
                        column: Some(n.clone()),
                        message: format!(
                            "no column named {n:?} in the header (columns: {})",
                            h.join(", ")
                        ),
                    })
                }
            }
        };
        let user_col = resolve(&opts.user_col, "--user-col")?;
        let item_col = resolve(&opts.item_col, "--item-col")?;
        let rating_col =
            opts.rating_col.as_ref().map(|c| resolve(c, "--rating-col")).transpose()?;
        if user_col == item_col {
            return Err(Error::param("--item-col", "the user and item columns must differ"));
        }
        let (time_col, time_required) = match &opts.time_col {
            Some(c) => (Some(resolve(c, "--time-col")?), true),
            None if opts.ignore_times => (None, false),
            None => {
                let by_name = header.as_ref().and_then(|h| {
                    ["timestamp", "time", "ts"]
                        .iter()
                        .find_map(|name| h.iter().position(|x| x.eq_ignore_ascii_case(name)))
                });
                let guess = by_name.unwrap_or(3);
                let used = [Some(user_col), Some(item_col), rating_col];
                let present = first_fields.len() > guess && !used.contains(&Some(guess));
                (present.then_some(guess), false)
            }
        };

        let body_start = if has_header { (first_end + 1).min(bytes.len()) } else { first_start };
        let body_line0 = if has_header { first_line_no + 1 } else { first_line_no };
        let spec = LineSpec {
            delimiter,
            user_col,
            item_col,
            rating_col,
            time_col,
            time_required,
            rating_name: opts.rating_col.as_ref().map(|c| column_label(c, rating_col, &header)),
            user_name: column_label(&opts.user_col, Some(user_col), &header),
            item_name: column_label(&opts.item_col, Some(item_col), &header),
            skip_invalid: opts.skip_invalid,
            scan,
        };
        Ok(Some(Layout { spec, header, delimiter, rating_col, time_col, body_start, body_line0 }))
    }
}

/// Line counts of one chunk of the body, from a quick first pass.
#[derive(Clone, Copy, Default)]
struct ChunkCount {
    /// Number of `\n`.
    newlines: u64,
    /// Lines that could hold an interaction: the `\n`-terminated ones and a last one
    /// without `\n`.
    slots: usize,
    /// Whether the chunk is UTF-8.
    utf8: bool,
}

impl ChunkCount {
    fn of(bytes: &[u8], utf8: bool) -> ChunkCount {
        let newlines = memchr::memchr_iter(b'\n', bytes).count();
        ChunkCount {
            newlines: newlines as u64,
            slots: newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n')),
            utf8,
        }
    }
}

/// Parses the chunks of a body into the output arrays and merges them. `counts` gives each
/// chunk's lines (in file order); `parse(k, parser, out)` feeds chunk `k` to `parser`,
/// which writes to `out`, and returns false if the chunk could not be read, which makes the
/// whole result `None`.
#[allow(clippy::type_complexity)]
fn assemble(
    layout: &Layout,
    path: &Path,
    opts: &ReadOptions,
    counts: &[ChunkCount],
    parse: &(dyn Fn(usize, &mut ChunkParser<'_>, &mut Out<'_>) -> bool + Sync),
) -> Result<Option<Interactions>> {
    let body_utf8 = counts.iter().all(|c| c.utf8);
    let cap: usize = counts.iter().map(|c| c.slots).sum();
    let with_times = layout.time_col.is_some();
    let mut user_idx = vec![0u32; cap];
    let mut item_idx = vec![0u32; cap];
    let mut values = vec![0f32; cap];
    let mut times = vec![0i64; if with_times { cap } else { 0 }];
    let mut lines = vec![0u64; if opts.keep_lines { cap } else { 0 }];
    // Each chunk fills its own region of the arrays, one slot per line, and knows its first
    // line number from the counts of the chunks before.
    let chunks: Vec<Option<ChunkResult>> = {
        let mut out = Out {
            users: &mut user_idx[..],
            items: &mut item_idx[..],
            values: &mut values[..],
            times: &mut times[..],
            lines: &mut lines[..],
        };
        let mut jobs = Vec::with_capacity(counts.len());
        let mut line0 = layout.body_line0;
        for (k, count) in counts.iter().enumerate() {
            let (head, rest) = out.split_at(count.slots);
            jobs.push((k, line0, head));
            out = rest;
            line0 += count.newlines;
        }
        jobs.into_par_iter()
            .map(|(k, line0, mut out)| {
                let mut parser = ChunkParser::new(&layout.spec, body_utf8, line0);
                let read = parse(k, &mut parser, &mut out);
                // A chunk that stopped early on an error has not seen all its lines.
                let whole = parser.res.error.is_some()
                    || counts.get(k).is_some_and(|c| c.newlines == parser.newlines);
                (read && whole).then_some(parser.res)
            })
            .collect()
    };
    let Some(chunks) = chunks.into_iter().collect::<Option<Vec<ChunkResult>>>() else {
        return Ok(None);
    };

    // Fail on the earliest error (chunks are in file order).
    if let Some(err) = chunks.iter().find_map(|c| c.error.clone()) {
        return Err(Error::Parse { path: path.into(), line: err.0, column: err.1, message: err.2 });
    }

    // Merge the chunk-local ids in file order: global first-appearance order.
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let (mut user_table, mut item_table) = (Vec::new(), Vec::new());
    let str_globals: Vec<(Vec<u32>, Vec<u32>)> = chunks
        .iter()
        .map(|c| {
            (
                c.users.globalize(&mut users, &mut user_table),
                c.items.globalize(&mut items, &mut item_table),
            )
        })
        .collect();
    if users.len() >= u32::MAX as usize || items.len() >= u32::MAX as usize {
        return Err(Error::Invalid(format!(
            "{}: more than 4 billion distinct ids",
            path.display()
        )));
    }
    // Codes to global indices, in place, chunk regions in parallel.
    let mut regions = Vec::with_capacity(chunks.len());
    {
        let (mut u_rest, mut i_rest) = (&mut user_idx[..], &mut item_idx[..]);
        let mut jobs = Vec::with_capacity(chunks.len());
        let mut start = 0usize;
        for ((c, count), (su, si)) in chunks.iter().zip(counts).zip(&str_globals) {
            let (u, ur) = u_rest.split_at_mut(count.slots);
            let (i, ir) = i_rest.split_at_mut(count.slots);
            (u_rest, i_rest) = (ur, ir);
            jobs.push((u, i, c.n, su, si));
            regions.push((start, c.n));
            start += count.slots;
        }
        let (ut, it) = (&user_table[..], &item_table[..]);
        jobs.into_par_iter().for_each(|(u, i, n, su, si)| {
            for x in u.iter_mut().take(n) {
                *x = global_index(*x, ut, su);
            }
            for x in i.iter_mut().take(n) {
                *x = global_index(*x, it, si);
            }
        });
    }
    // Close the gaps left by blank, skipped or header lines (none in a clean file).
    let total: usize = chunks.iter().map(|c| c.n).sum();
    if total < cap {
        compact(&mut user_idx, &regions, total);
        compact(&mut item_idx, &regions, total);
        compact(&mut values, &regions, total);
        if with_times {
            compact(&mut times, &regions, total);
        }
        if opts.keep_lines {
            compact(&mut lines, &regions, total);
        }
    }
    let times_valid = with_times && chunks.iter().all(|c| c.times_ok);
    if opts.binary || layout.rating_col.is_none() {
        values.iter_mut().for_each(|v| *v = 1.0);
    }
    let mut skipped = SkipReport::default();
    for c in &chunks {
        skipped.count += c.skipped;
        for s in &c.skip_examples {
            if skipped.first.len() < SKIP_EXAMPLES {
                skipped.first.push(s.clone());
            }
        }
    }
    if total == 0 {
        let why = if skipped.count > 0 {
            format!("no valid interactions: all {} lines were skipped as invalid", skipped.count)
        } else {
            "no interactions: the file has only a header".to_string()
        };
        return Err(Error::Empty { path: path.into(), message: why });
    }
    Ok(Some(Interactions {
        path: path.into(),
        users,
        items,
        user_idx,
        item_idx,
        values,
        times: times_valid.then_some(times),
        lines: opts.keep_lines.then_some(lines),
        header: layout.header.clone(),
        delimiter: Some(layout.delimiter),
        skipped,
    }))
}

/// Reading a file in streamed blocks (Unix: positioned reads, so threads share the file):
/// one pass counts the lines of each chunk, a second parses them. The file is never held
/// whole in memory, which spares the first touch of a buffer as large as the file (page
/// faults are a large part of reading on some virtual machines) and lets files larger than
/// memory be read.
#[cfg(unix)]
mod stream {
    use std::fs::File;
    use std::os::unix::fs::FileExt;
    use std::path::Path;
    use std::sync::Mutex;

    use rayon::prelude::*;

    use super::{
        BOM, ChunkCount, Interactions, Layout, MIN_CHUNK, ReadOptions, assemble, chunk_target,
    };
    use crate::error::Result;

    /// Size of a read; a block grows when a single line is longer.
    const BLOCK: usize = 128 << 10;

    /// How much of the start of the file the first lines are looked for in.
    const PREFIX: usize = 64 << 10;

    /// `Ok(None)` when the file is better read whole: not a regular file, small, odd first
    /// lines, or anything unexpected while reading (the caller then reads it again whole,
    /// and reports any error from that).
    pub(super) fn read(path: &Path, opts: &ReadOptions) -> Result<Option<Interactions>> {
        let Ok(file) = File::open(path) else { return Ok(None) };
        let Ok(meta) = file.metadata() else { return Ok(None) };
        let len = meta.len();
        if !meta.is_file() || len < MIN_CHUNK as u64 {
            return Ok(None);
        }
        let mut prefix = vec![0u8; PREFIX.min(len as usize)];
        if file.read_exact_at(&mut prefix, 0).is_err() {
            return Ok(None);
        }
        let bom = if prefix.starts_with(BOM) { BOM.len() } else { 0 };
        let complete = prefix.len() as u64 == len;
        let Some(layout) = Layout::detect(&prefix[bom..], complete, path, opts, true)? else {
            return Ok(None);
        };
        let body_start = (bom + layout.body_start) as u64;

        // Chunks: lines starting in [body_start + k * target, body_start + (k + 1) * target).
        let target = chunk_target((len - body_start) as usize) as u64;
        let n = (len - body_start).div_ceil(target).max(1);
        let Some(starts) = (0..=n)
            .into_par_iter()
            .map(|k| line_start_at(&file, body_start, len, body_start + k * target))
            .collect::<Option<Vec<u64>>>()
        else {
            return Ok(None);
        };
        let ranges: Vec<(u64, u64)> = starts.windows(2).map(|w| (w[0], w[1].max(w[0]))).collect();

        // Pass 1: line counts (and UTF-8 validity) of each chunk.
        let pool = Mutex::new(Vec::new());
        let Some(counts) = ranges
            .par_iter()
            .map(|&(s, e)| {
                let mut buf = take(&pool);
                let mut count = ChunkCount { utf8: true, ..ChunkCount::default() };
                let ok = for_each_block(&file, s, e, &mut buf, |block| {
                    let c = ChunkCount::of(block, std::str::from_utf8(block).is_ok());
                    count.newlines += c.newlines;
                    count.slots += c.slots;
                    count.utf8 &= c.utf8;
                    true
                });
                give(&pool, buf);
                ok.then_some(count)
            })
            .collect::<Option<Vec<ChunkCount>>>()
        else {
            return Ok(None);
        };

        // Pass 2: parse.
        assemble(&layout, path, opts, &counts, &|k, parser, out| {
            let Some(&(s, e)) = ranges.get(k) else { return false };
            let mut buf = take(&pool);
            let ok = for_each_block(&file, s, e, &mut buf, |block| {
                parser.feed(block, std::str::from_utf8(block).ok(), out)
            });
            give(&pool, buf);
            ok
        })
    }

    /// The first line start at or after `x` in the body `[body_start, len)` (`len` if none).
    fn line_start_at(file: &File, body_start: u64, len: u64, x: u64) -> Option<u64> {
        if x <= body_start || x >= len {
            return Some(x.clamp(body_start, len));
        }
        // A line starts at `x` when the byte before is `\n`.
        let mut pos = x - 1;
        let mut buf = [0u8; 4096];
        while pos < len {
            let n = ((len - pos) as usize).min(buf.len());
            file.read_exact_at(&mut buf[..n], pos).ok()?;
            if let Some(p) = memchr::memchr(b'\n', &buf[..n]) {
                return Some(pos + p as u64 + 1);
            }
            pos += n as u64;
        }
        Some(len)
    }

    /// Calls `f` on consecutive blocks of whole lines covering `file[start..end)` (`end` is a
    /// line start or the end of the file; the last block may end without `\n` only there).
    /// False when a read fails or `f` says stop.
    fn for_each_block(
        file: &File,
        start: u64,
        end: u64,
        buf: &mut Vec<u8>,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> bool {
        if buf.len() < BLOCK {
            buf.resize(BLOCK, 0);
        }
        let mut pos = start;
        let mut filled = 0usize;
        while pos < end || filled > 0 {
            let want = ((end - pos) as usize).min(buf.len() - filled);
            if want > 0 {
                if file.read_exact_at(&mut buf[filled..filled + want], pos).is_err() {
                    return false;
                }
                pos += want as u64;
                filled += want;
            }
            let data = &buf[..filled];
            let cut = if pos == end {
                filled
            } else {
                match memchr::memrchr(b'\n', data) {
                    Some(i) => i + 1,
                    None => {
                        // A line longer than the buffer.
                        let grown = buf.len() * 2;
                        buf.resize(grown, 0);
                        continue;
                    }
                }
            };
            if !f(&data[..cut]) {
                // The parser stopped on an error: the rest of the chunk does not matter.
                return true;
            }
            buf.copy_within(cut..filled, 0);
            filled -= cut;
        }
        true
    }

    fn take(pool: &Mutex<Vec<Vec<u8>>>) -> Vec<u8> {
        pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default()
    }

    fn give(pool: &Mutex<Vec<Vec<u8>>>, buf: Vec<u8>) {
        if let Ok(mut p) = pool.lock() {
            p.push(buf);
        }
    }
}

fn column_label(c: &Column, pos: Option<usize>, header: &Option<Vec<String>>) -> String {
    match (c, pos, header) {
        (Column::Name(n), _, _) => n.clone(),
        (Column::Index(_), Some(p), Some(h)) if p < h.len() => format!("{} ({:?})", p, h[p]),
        (Column::Index(i), _, _) => i.to_string(),
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// UTF-8, or Latin-1 (one char per byte, lossless) when the bytes are not valid UTF-8.
fn decode(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(b.iter().map(|&c| c as char).collect()),
    }
}

/// Picks the separator of a first line: `::`, tab, comma, semicolon, pipe, else whitespace.
pub fn detect_delimiter(first: &str) -> Delimiter {
    if first.contains("::") {
        Delimiter::DoubleColon
    } else if first.contains('\t') {
        Delimiter::Byte(b'\t')
    } else if first.contains(',') {
        Delimiter::Byte(b',')
    } else if first.contains(';') {
        Delimiter::Byte(b';')
    } else if first.contains('|') {
        Delimiter::Byte(b'|')
    } else {
        Delimiter::Whitespace
    }
}

fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok()
}

/// A header when the value column of the first line is not a number while the second line's
/// is; without a value column, when the first line has no numeric field but the second has.
fn looks_like_header(
    first: &[std::borrow::Cow<'_, str>],
    second: &[std::borrow::Cow<'_, str>],
    opts: &ReadOptions,
) -> bool {
    if let Some(Column::Index(r)) = &opts.rating_col {
        match (first.get(*r), second.get(*r)) {
            (Some(a), Some(b)) => return !is_number(a) && is_number(b),
            (Some(a), _) if second.iter().all(|f| f.trim().is_empty()) => return !is_number(a),
            (Some(a), None) => return !is_number(a) && second.is_empty(),
            _ => {}
        }
    }
    let first_numeric = first.iter().any(|f| is_number(f));
    let second_numeric = second.iter().any(|f| is_number(f));
    !first_numeric && second_numeric
}

/// Splits a line into fields (quoted CSV fields are unquoted).
pub fn split_fields(line: &str, d: Delimiter) -> Vec<std::borrow::Cow<'_, str>> {
    let mut out = Vec::new();
    let mut fields = FieldIter::new(line, d);
    while let Some(f) = fields.next_field() {
        out.push(f);
    }
    out
}

struct FieldIter<'a> {
    rest: Option<&'a str>,
    d: Delimiter,
}

impl<'a> FieldIter<'a> {
    fn new(line: &'a str, d: Delimiter) -> Self {
        let line = if d == Delimiter::Whitespace { line.trim_matches([' ', '\t']) } else { line };
        FieldIter { rest: Some(line), d }
    }

    fn next_field(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let rest = self.rest?;
        if rest.starts_with('"') {
            if let Delimiter::Byte(b) = self.d {
                return Some(self.quoted(rest, b));
            }
        }
        let (field, next) = match self.d {
            Delimiter::Byte(b) => match memchr::memchr(b, rest.as_bytes()) {
                Some(p) => (&rest[..p], Some(&rest[p + 1..])),
                None => (rest, None),
            },
            Delimiter::DoubleColon => match rest.find("::") {
                Some(p) => (&rest[..p], Some(&rest[p + 2..])),
                None => (rest, None),
            },
            Delimiter::Whitespace => match rest.find([' ', '\t']) {
                Some(p) => (&rest[..p], Some(rest[p..].trim_start_matches([' ', '\t']))),
                None => (rest, None),
            },
        };
        self.rest = next;
        Some(std::borrow::Cow::Borrowed(field))
    }

    /// RFC 4180 quoted field: `"a ""b"", c"` → `a "b", c`.
    fn quoted(&mut self, rest: &'a str, delim: u8) -> std::borrow::Cow<'a, str> {
        let bytes = rest.as_bytes();
        let mut out = String::new();
        let mut k = 1;
        let mut seg = 1;
        while k < bytes.len() {
            if bytes[k] == b'"' {
                if bytes.get(k + 1) == Some(&b'"') {
                    out.push_str(&rest[seg..=k]);
                    k += 2;
                    seg = k;
                    continue;
                }
                out.push_str(&rest[seg..k]);
                // After the closing quote: up to the next delimiter.
                let after = &rest[k + 1..];
                match memchr::memchr(delim, after.as_bytes()) {
                    Some(p) => {
                        out.push_str(&after[..p]);
                        self.rest = Some(&after[p + 1..]);
                    }
                    None => {
                        out.push_str(after);
                        self.rest = None;
                    }
                }
                return std::borrow::Cow::Owned(out);
            }
            k += 1;
        }
        // Unterminated quote: take the rest verbatim.
        self.rest = None;
        std::borrow::Cow::Borrowed(rest)
    }
}

/// Chunks are at least this long (the last one excepted), so that small files still use
/// two threads but the per-chunk costs (id tables, merge) stay small.
const MIN_CHUNK: usize = 256 << 10;

struct LineSpec {
    delimiter: Delimiter,
    user_col: usize,
    item_col: usize,
    rating_col: Option<usize>,
    time_col: Option<usize>,
    time_required: bool,
    rating_name: Option<String>,
    user_name: String,
    item_name: String,
    skip_invalid: bool,
    /// Use [`fast_line`] where it applies (tests turn it off to compare).
    scan: bool,
}

/// A chunk's region of the output arrays: one slot per line (`times` and `lines` are empty
/// when not collected).
struct Out<'a> {
    users: &'a mut [u32],
    items: &'a mut [u32],
    values: &'a mut [f32],
    times: &'a mut [i64],
    lines: &'a mut [u64],
}

impl<'a> Out<'a> {
    /// The first `n` slots, and the rest.
    fn split_at(self, n: usize) -> (Out<'a>, Out<'a>) {
        fn cut<T>(s: &mut [T], n: usize) -> (&mut [T], &mut [T]) {
            let n = n.min(s.len()); // `times` and `lines` may be empty
            s.split_at_mut(n)
        }
        let (u, ur) = cut(self.users, n);
        let (i, ir) = cut(self.items, n);
        let (v, vr) = cut(self.values, n);
        let (t, tr) = cut(self.times, n);
        let (l, lr) = cut(self.lines, n);
        (
            Out { users: u, items: i, values: v, times: t, lines: l },
            Out { users: ur, items: ir, values: vr, times: tr, lines: lr },
        )
    }
}

/// What one chunk parsed, besides what it wrote to its [`Out`] region: the first `n` slots,
/// with chunk-local user and item indices.
#[derive(Default)]
struct ChunkResult {
    users: LocalIds,
    items: LocalIds,
    n: usize,
    times_ok: bool,
    skipped: u64,
    skip_examples: Vec<(u64, String)>,
    error: Option<(u64, Option<String>, String)>,
}

/// Moves the `(start, len)` regions of `v` together, in order, and keeps the first `total`.
fn compact<T: Copy>(v: &mut Vec<T>, regions: &[(usize, usize)], total: usize) {
    let mut to = 0usize;
    for &(start, len) in regions {
        if start != to {
            v.copy_within(start..start + len, to);
        }
        to += len;
    }
    v.truncate(total);
}

/// Parses the lines of one chunk, fed in blocks of whole lines, into its output region.
///
/// Lines take one of three routes, which give the same fields:
/// - the fast one, [`fast_line`], for the usual line of a UTF-8 block split on one byte or
///   `::`: one pass over the bytes finds the needed fields and reads all-digit ones;
/// - the common one: any other UTF-8 line without `"` is split into borrowed slices by
///   [`FieldIter`], and the fields are trimmed of ASCII whitespace;
/// - the general one: quoted lines and lines that are not UTF-8 (read as Latin-1) are
///   decoded and split by [`FieldIter`], and the fields trimmed of any Unicode whitespace.
///
/// The two trims differ only on a field that starts or ends with a non-ASCII character or a
/// vertical tab. Historically the route depended on whether the whole chunk was UTF-8, and
/// the chunk was the whole body for files under 4 MiB; so such a line takes the general
/// route exactly when the body (`body_utf8`) is not UTF-8, whatever the chunking.
struct ChunkParser<'s> {
    spec: &'s LineSpec,
    fast: Option<FastSpec>,
    body_utf8: bool,
    max_col: usize,
    last_needed: usize,
    /// Number of the next line.
    line_no: u64,
    /// `\n` seen so far.
    newlines: u64,
    res: ChunkResult,
    bufs: [String; 4],
}

impl<'s> ChunkParser<'s> {
    fn new(spec: &'s LineSpec, body_utf8: bool, line0: u64) -> Self {
        let max_col = [
            Some(spec.user_col),
            Some(spec.item_col),
            spec.rating_col,
            if spec.time_required { spec.time_col } else { None },
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        let last_needed = max_col.max(spec.time_col.unwrap_or(0));
        ChunkParser {
            spec,
            fast: FastSpec::new(spec, last_needed),
            body_utf8,
            max_col,
            last_needed,
            line_no: line0,
            newlines: 0,
            res: ChunkResult { times_ok: true, ..ChunkResult::default() },
            bufs: Default::default(),
        }
    }

    /// Parses a block of whole lines (ending with `\n`, or at the end of the chunk);
    /// `text` is the block when it is UTF-8. Returns false once the chunk stopped on an
    /// error (the rest of it does not matter).
    fn feed(&mut self, block: &[u8], text: Option<&str>, out: &mut Out<'_>) -> bool {
        let spec = self.spec;
        let (max_col, last_needed) = (self.max_col, self.last_needed);
        let fast = text.zip(self.fast.as_ref());
        // Whether fields must be checked for edges that only Unicode trimming removes.
        let check_odd =
            !self.body_utf8 && (!block.is_ascii() || memchr::memchr(0x0B, block).is_some());
        // With a one-byte delimiter, a line with a `"` is read by the general route; this is
        // the position of the next `"` (one search per quote, not per line).
        let quotes_matter = matches!(spec.delimiter, Delimiter::Byte(_));
        let mut next_quote =
            if quotes_matter { memchr::memchr(b'"', block) } else { None }.unwrap_or(usize::MAX);
        let mut strs: Vec<&str> = Vec::new();
        let mut start = 0usize;
        while start < block.len() {
            let line_start = start;
            let this_line = self.line_no;
            self.line_no += 1;
            if let Some((text, fs)) = fast {
                if let Some(line) = fast_line(text.as_bytes(), line_start, fs) {
                    // The fields as text, trimmed (only needed off the all-digit path).
                    let fields =
                        || line.ranges.map(|(a, b)| text.get(a..b).map_or("", str::trim_ascii));
                    let odd = check_odd && fields().iter().any(|f| odd_edge(f.as_bytes()));
                    if next_quote >= line.end && !odd {
                        start = line.end + 1;
                        self.newlines += u64::from(line.end < block.len());
                        let res = &mut self.res;
                        if res.record_digits(out, spec, this_line, &line, text.as_bytes()) {
                            continue;
                        }
                        let nfields = last_needed + 1;
                        let fields = fields();
                        if res
                            .record(out, spec, this_line, nfields, max_col, fields, line.digits)
                            .is_err()
                        {
                            return false;
                        }
                        continue;
                    }
                }
            }

            // The line is `line_start..end` (`end` at its `\n` or the block's end).
            let rest = block.get(line_start..).unwrap_or_default();
            let end = memchr::memchr(b'\n', rest).map_or(block.len(), |p| line_start + p);
            start = end + 1;
            self.newlines += u64::from(end < block.len());
            let quoted = next_quote < end;
            if next_quote < start {
                next_quote = block
                    .get(start..)
                    .and_then(|rest| memchr::memchr(b'"', rest))
                    .map_or(usize::MAX, |p| start + p);
            }
            let raw = block.get(line_start..end).unwrap_or_default();
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.first().is_none_or(|b| b.is_ascii_whitespace())
                && raw.iter().all(|b| b.is_ascii_whitespace())
            {
                continue;
            }
            let common = if quoted {
                None
            } else {
                let line = match text {
                    Some(all) => all.get(line_start..line_start + raw.len()),
                    None => std::str::from_utf8(raw).ok(),
                };
                line.map(|line| {
                    strs.clear();
                    let mut it = FieldIter::new(line, spec.delimiter);
                    while let Some(std::borrow::Cow::Borrowed(f)) = it.next_field() {
                        strs.push(f);
                        if strs.len() > last_needed {
                            break;
                        }
                    }
                    let get = |c: Option<usize>| {
                        c.and_then(|c| strs.get(c)).map_or("", |f| f.trim_ascii())
                    };
                    let fields = [
                        get(Some(spec.user_col)),
                        get(Some(spec.item_col)),
                        get(spec.rating_col),
                        get(spec.time_col),
                    ];
                    (strs.len(), fields)
                })
            };
            // See the type's documentation: only when the body is UTF-8 does ASCII trimming
            // stand for a field that may end in other whitespace.
            let common = common.filter(|(_, fields)| {
                !(check_odd && fields.iter().any(|f| odd_edge(f.as_bytes())))
            });
            let general;
            let (nfields, fields) = match common {
                Some(c) => c,
                None => {
                    let decoded = decode(raw);
                    let mut n = 0usize;
                    let mut it = FieldIter::new(&decoded, spec.delimiter);
                    let [ubuf, ibuf, vbuf, tbuf] = &mut self.bufs;
                    for b in [&mut *ubuf, &mut *ibuf, &mut *vbuf, &mut *tbuf] {
                        b.clear();
                    }
                    while let Some(f) = it.next_field() {
                        let f = f.trim();
                        if n == spec.user_col {
                            ubuf.push_str(f);
                        }
                        if n == spec.item_col {
                            ibuf.push_str(f);
                        }
                        if Some(n) == spec.rating_col {
                            vbuf.push_str(f);
                        }
                        if Some(n) == spec.time_col {
                            tbuf.push_str(f);
                        }
                        n += 1;
                        if n > last_needed {
                            break;
                        }
                    }
                    general = [ubuf.as_str(), ibuf.as_str(), vbuf.as_str(), tbuf.as_str()];
                    (n, general)
                }
            };
            let res = &mut self.res;
            if res.record(out, spec, this_line, nfields, max_col, fields, [None; 4]).is_err() {
                return false;
            }
        }
        true
    }
}

/// Whether `trim` could remove more than `trim_ascii` from this (ASCII-trimmed) field: it
/// starts or ends with a vertical tab or a non-ASCII byte.
fn odd_edge(f: &[u8]) -> bool {
    let odd = |b: &u8| *b == 0x0B || *b >= 0x80;
    f.first().is_some_and(odd) || f.last().is_some_and(odd)
}

/// The field separators [`fast_line`] reads: the same splits as [`FieldIter`] on a line
/// without quotes.
#[derive(Clone, Copy)]
enum Sep {
    Byte(u8),
    DoubleColon,
}

/// What [`fast_line`] needs: the separator and the role of each column up to the last
/// needed one (0 user, 1 item, 2 value, 3 time, [`SKIP`] unused).
#[derive(Clone)]
struct FastSpec {
    sep: Sep,
    roles: Vec<usize>,
}

/// A column [`fast_line`] passes over.
const SKIP: usize = 4;

impl FastSpec {
    /// `None` when the fast route does not apply: other delimiters, a delimiter that could
    /// be part of a number or a line end, or a column with two roles.
    fn new(spec: &LineSpec, last_needed: usize) -> Option<FastSpec> {
        let sep = match spec.delimiter {
            Delimiter::Byte(d) if !(d.is_ascii_digit() || matches!(d, b'\n' | b'\r' | b'"')) => {
                Sep::Byte(d)
            }
            Delimiter::DoubleColon => Sep::DoubleColon,
            _ => return None,
        };
        if !spec.scan {
            return None;
        }
        let mut roles = vec![SKIP; last_needed + 1];
        let cols = [Some(spec.user_col), Some(spec.item_col), spec.rating_col, spec.time_col];
        for (role, col) in cols.into_iter().enumerate() {
            if let Some(c) = col {
                match roles.get_mut(c) {
                    Some(r) if *r == SKIP => *r = role,
                    _ => return None,
                }
            }
        }
        Some(FastSpec { sep, roles })
    }
}

/// The fast route: one pass over the line starting at `bytes[start]` in a UTF-8 chunk.
///
/// Returns the position of the line's `\n` (or the chunk's end), the byte ranges of the
/// needed fields, and the value of those that are 1 to 18 ASCII digits. `None` — the
/// line goes to the other routes — when the line starts with whitespace (it may be blank)
/// or has fewer fields than needed. Fields are split as [`FieldIter`] splits a line without
/// quotes (the caller checks for quotes): the line's last field may keep a trailing `\r`,
/// which the trim removes anyway.
#[inline(always)]
fn fast_line(bytes: &[u8], start: usize, spec: &FastSpec) -> Option<FastLine> {
    if bytes.get(start).is_none_or(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let is_sep = |p: usize| match spec.sep {
        Sep::Byte(d) => bytes.get(p) == Some(&d),
        Sep::DoubleColon => bytes.get(p) == Some(&b':') && bytes.get(p + 1) == Some(&b':'),
    };
    let sep_len = match spec.sep {
        Sep::Byte(_) => 1,
        Sep::DoubleColon => 2,
    };
    let mut line = FastLine { end: 0, ranges: [(0, 0); 4], digits: [None; 4] };
    let mut p = start;
    let last = spec.roles.len() - 1;
    for (c, &role) in spec.roles.iter().enumerate() {
        let field_start = p;
        let mut value = 0u64;
        // Eight bytes at a time while they are all digits, then the leading digits of the
        // next eight (see `swar_digits`); byte by byte near the end of the chunk.
        while let Some(word) = bytes.get(p..p + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let (n, v) = swar_digits(u64::from_le_bytes(w));
            value = value.wrapping_mul(POW10_U64[n]).wrapping_add(v);
            p += n;
            if n < 8 {
                break;
            }
        }
        if bytes.len() < p + 8 {
            while let Some(&b) = bytes.get(p) {
                let d = b.wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                value = value.wrapping_mul(10).wrapping_add(u64::from(d));
                p += 1;
            }
        }
        let digits_end = p;
        while let Some(&b) = bytes.get(p) {
            if b == b'\n' || is_sep(p) {
                break;
            }
            p += 1;
        }
        let line_ends = !is_sep(p);
        if role != SKIP {
            let n = digits_end - field_start;
            // All digits, but for a `\r` before the line's `\n`, which the trim removes.
            let all_digits = (1..=18).contains(&n)
                && (p == digits_end
                    || (line_ends && p == digits_end + 1 && bytes.get(digits_end) == Some(&b'\r')));
            let (range, digits) = if all_digits {
                ((field_start, digits_end), Some(value))
            } else {
                ((field_start, p), None)
            };
            match role {
                0 => (line.ranges[0], line.digits[0]) = (range, digits),
                1 => (line.ranges[1], line.digits[1]) = (range, digits),
                2 => (line.ranges[2], line.digits[2]) = (range, digits),
                _ => (line.ranges[3], line.digits[3]) = (range, digits),
            }
        }
        if c == last {
            line.end = if line_ends {
                p
            } else {
                memchr::memchr(b'\n', bytes.get(p..)?).map_or(bytes.len(), |q| p + q)
            };
            return Some(line);
        }
        if line_ends {
            return None;
        }
        p += sep_len;
    }
    None
}

/// 10ⁿ for n = 0..=8.
const POW10_U64: [u64; 9] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// The number `n` of leading ASCII digits of the eight bytes of `w` (little-endian: the first
/// byte is the lowest) and their value, without a branch per byte.
#[inline(always)]
fn swar_digits(w: u64) -> (usize, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte is a digit iff its high nibble is 3 and stays 3 after adding 6. A carry out of a
    // byte (only from 0xFA..=0xFF, itself not a digit) can only disturb later bytes, which do
    // not count once an earlier one is not a digit.
    let hi = w & (0xF0 * ONES);
    let hi6 = w.wrapping_add(0x06 * ONES) & (0xF0 * ONES);
    let not_digit = (hi ^ (0x30 * ONES)) | (hi6 ^ (0x30 * ONES));
    let n = (not_digit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // The n digits moved to the top bytes (zeros below them are leading zero digits), then
    // combined pairwise: 10·a + b, 100·ab + cd, 10⁴·abcd + efgh.
    let d = (w << (8 * (8 - n))) & (0x0F * ONES);
    let d = (d.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    let v = d.wrapping_mul(10_000 << 32 | 1) >> 32;
    (n, v)
}

/// A line read by [`fast_line`].
struct FastLine {
    /// Position of the line's `\n` (or the chunk's end).
    end: usize,
    /// Byte ranges of the user, item, value and time fields, before trimming (empty for an
    /// absent column).
    ranges: [(usize, usize); 4],
    /// The value of each field that is 1 to 18 ASCII digits (its range is just the digits).
    digits: [Option<u64>; 4],
}

/// Ids that are plain decimal integers below this use a direct table instead of a hash.
const DIRECT_LIMIT: usize = 1 << 22;

/// The value of a canonical decimal id below [`DIRECT_LIMIT`]: 1 to 7 digits, no leading
/// zero (so that distinct strings never share a value).
fn small_id(b: &[u8]) -> Option<usize> {
    if b.is_empty() || b.len() > 7 || (b.len() > 1 && b.first() == Some(&b'0')) {
        return None;
    }
    let mut n = 0usize;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + usize::from(d);
    }
    (n < DIRECT_LIMIT).then_some(n)
}

/// `n` in decimal, written into `buf` (room for [`DIRECT_LIMIT`]'s 7 digits).
fn decimal(mut n: usize, buf: &mut [u8; 8]) -> &str {
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || k == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[k..]).unwrap_or_default()
}

/// One chunk's ids, as codes written to the output arrays until the merge turns them into
/// global indices. A canonical small integer id (see [`small_id`]) is its own code, and is
/// remembered in a bitset (a few KiB, where a table of indices would not stay in cache);
/// another id is [`STR_TAG`] plus its index in a chunk-local [`IdMap`].
#[derive(Default)]
struct LocalIds {
    /// Ids in order of first appearance in the chunk.
    order: Vec<LocalId>,
    /// Bit `n` is set once integer id `n` is seen.
    seen: Vec<u64>,
    strs: IdMap,
}

/// Marks codes of ids that are not small integers.
const STR_TAG: u32 = 1 << 31;

#[derive(Clone, Copy)]
enum LocalId {
    Num(u32),
    Str(u32),
}

/// `table[n]`, growing the table (zero-filled) to hold `n`.
fn direct_slot(table: &mut Vec<u32>, n: usize) -> Option<&mut u32> {
    if n >= table.len() {
        table.resize((n + 1).next_power_of_two().min(DIRECT_LIMIT), 0);
    }
    table.get_mut(n)
}

impl LocalIds {
    /// The code of the canonical small integer id `n` (see [`small_id`]).
    #[inline(always)]
    fn code_small(&mut self, n: usize) -> u32 {
        if self.seen.get(n / 64).is_none_or(|w| w & (1 << (n % 64)) == 0) {
            self.add_small(n);
        }
        n as u32
    }

    #[inline(never)]
    fn add_small(&mut self, n: usize) {
        if n / 64 >= self.seen.len() {
            self.seen.resize((n / 64 + 1).next_power_of_two(), 0);
        }
        if let Some(w) = self.seen.get_mut(n / 64) {
            *w |= 1 << (n % 64);
        }
        self.order.push(LocalId::Num(n as u32));
    }

    /// The code of `id`; `digits` is its value when it is all digits (a hint that spares
    /// reading them again). `None` past 2^31 distinct other ids in one chunk.
    fn code(&mut self, id: &str, digits: Option<u64>) -> Option<u32> {
        let small = match digits {
            Some(v) => {
                let b = id.as_bytes();
                let canonical = b.len() <= 7 && (b.len() == 1 || b.first() != Some(&b'0'));
                (canonical && v < DIRECT_LIMIT as u64).then_some(v as usize)
            }
            None => small_id(id.as_bytes()),
        };
        if let Some(n) = small {
            return Some(self.code_small(n));
        }
        let known = self.strs.len();
        let j = self.strs.get_or_insert(id);
        if j as usize == known {
            self.order.push(LocalId::Str(j));
        }
        (j < STR_TAG).then_some(STR_TAG | j)
    }

    /// Adds the chunk's ids that are new to `global`, in order of first appearance; `table`
    /// maps integer ids to their global index + 1. Returns the global index of each
    /// chunk-local other id.
    fn globalize(&self, global: &mut IdMap, table: &mut Vec<u32>) -> Vec<u32> {
        let mut buf = [0u8; 8];
        let mut str_global = vec![0u32; self.strs.len()];
        for &id in &self.order {
            match id {
                LocalId::Num(n) => {
                    let n = n as usize;
                    if table.get(n).is_none_or(|&v| v == 0) {
                        let g = global.get_or_insert(decimal(n, &mut buf));
                        if let Some(slot) = direct_slot(table, n) {
                            *slot = g + 1;
                        }
                    }
                }
                LocalId::Str(j) => {
                    let g = global.get_or_insert(self.strs.id(j).unwrap_or_default());
                    if let Some(slot) = str_global.get_mut(j as usize) {
                        *slot = g;
                    }
                }
            }
        }
        str_global
    }
}

/// The global index of a chunk's id code (see [`LocalIds`]).
#[inline(always)]
fn global_index(code: u32, table: &[u32], str_global: &[u32]) -> u32 {
    let g = if code & STR_TAG != 0 {
        str_global.get((code & !STR_TAG) as usize).copied()
    } else {
        table.get(code as usize).map(|v| v.saturating_sub(1))
    };
    g.unwrap_or_default()
}

impl ChunkResult {
    /// [`ChunkResult::record`] for the usual line from [`fast_line`]: user and item are
    /// small canonical integers, and the value and time (when used) all digits. Such a line
    /// passes every check in `record`, and its numbers are read as `record` reads them.
    /// Returns false, having done nothing, for any other line.
    #[inline(always)]
    fn record_digits(
        &mut self,
        out: &mut Out<'_>,
        spec: &LineSpec,
        line_no: u64,
        line: &FastLine,
        bytes: &[u8],
    ) -> bool {
        let small = |role: usize| -> Option<usize> {
            let (a, b) = line.ranges[role];
            let v = line.digits[role]?;
            let canonical = b - a <= 7 && (b - a == 1 || bytes.get(a) != Some(&b'0'));
            (canonical && v < DIRECT_LIMIT as u64).then_some(v as usize)
        };
        let (Some(u), Some(i)) = (small(0), small(1)) else { return false };
        let value = match (spec.rating_col, line.digits[2]) {
            (None, _) => 1.0,
            // As `parse_f32_fast` reads an integer: exact in an `f64` (< 10^15), one rounding.
            (Some(_), Some(m)) if line.ranges[2].1 - line.ranges[2].0 <= 15 => m as f64 as f32,
            _ => return false,
        };
        let time = match (spec.time_col, line.digits[3]) {
            (None, _) => 0,
            (Some(_), Some(t)) => t as i64, // at most 18 digits: as `parse_time` reads them
            _ => return false,
        };
        let k = self.n;
        let (Some(su), Some(si), Some(sv)) =
            (out.users.get_mut(k), out.items.get_mut(k), out.values.get_mut(k))
        else {
            return false;
        };
        (*su, *si, *sv) = (self.users.code_small(u), self.items.code_small(i), value);
        if let Some(st) = out.times.get_mut(k) {
            *st = time;
        }
        if let Some(sl) = out.lines.get_mut(k) {
            *sl = line_no;
        }
        self.n += 1;
        true
    }

    /// Validates one line's fields (user, item, value, time) and writes the interaction to
    /// the next slot. `digits` holds the value of each field that is 1 to 18 ASCII digits
    /// (from [`fast_line`]), which spares parsing it again. `Err` stops the chunk (the error
    /// is in `self.error`); skipped lines return `Ok`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn record(
        &mut self,
        out: &mut Out<'_>,
        spec: &LineSpec,
        line_no: u64,
        nfields: usize,
        max_col: usize,
        [user, item, value, time]: [&str; 4],
        digits: [Option<u64>; 4],
    ) -> Result<(), ()> {
        let fail = |col: Option<String>, msg: String, res: &mut ChunkResult| -> Result<(), ()> {
            if spec.skip_invalid {
                res.skipped += 1;
                if res.skip_examples.len() < SKIP_EXAMPLES {
                    let what = match &col {
                        Some(c) => format!("column {c}: {msg}"),
                        None => msg,
                    };
                    res.skip_examples.push((line_no, what));
                }
                Ok(())
            } else {
                res.error = Some((line_no, col, msg));
                Err(())
            }
        };
        if nfields <= max_col {
            let msg = format!(
                "has {} field(s) when split on {}, but column {} is needed; check --delimiter and the column flags",
                nfields,
                spec.delimiter.name(),
                max_col
            );
            return fail(None, msg, self);
        }
        if user.is_empty() {
            return fail(Some(spec.user_name.clone()), "empty user id".into(), self);
        }
        if item.is_empty() {
            return fail(Some(spec.item_name.clone()), "empty item id".into(), self);
        }
        let value = match (spec.rating_col, digits[2]) {
            (None, _) => 1.0,
            // As `parse_f32_fast` reads an integer: exact in an `f64` (< 10^15), one rounding.
            (Some(_), Some(m)) if value.len() <= 15 => m as f64 as f32,
            (Some(_), _) => match parse_f32(value) {
                Ok(v) if v.is_finite() => v,
                Ok(v) => {
                    let msg = format!("value {v} is not finite; ratings must be finite numbers");
                    return fail(spec.rating_name.clone(), msg, self);
                }
                Err(_) => {
                    return fail(
                        spec.rating_name.clone(),
                        format!("{value:?} is not a number"),
                        self,
                    );
                }
            },
        };
        let mut t = 0i64;
        if let Some(tc) = spec.time_col {
            let parsed = match digits[3] {
                Some(v) => Some(v as i64), // at most 18 digits: as `parse_time` reads them
                None if nfields > tc => parse_time(time),
                None => None,
            };
            match parsed {
                Some(v) => t = v,
                None if spec.time_required => {
                    return fail(
                        Some(tc.to_string()),
                        format!("timestamp {time:?} is not a number"),
                        self,
                    );
                }
                None => self.times_ok = false,
            }
        }
        let k = self.n;
        let (Some(u), Some(i)) =
            (self.users.code(user, digits[0]), self.items.code(item, digits[1]))
        else {
            return fail(
                None,
                "more than 2 billion distinct ids in one part of the file".into(),
                self,
            );
        };
        match (out.users.get_mut(k), out.items.get_mut(k), out.values.get_mut(k)) {
            (Some(su), Some(si), Some(sv)) => (*su, *si, *sv) = (u, i, value),
            // Cannot happen: a chunk has a slot for each of its lines.
            _ => return fail(None, "internal error: more lines than counted".into(), self),
        }
        if let Some(st) = out.times.get_mut(k) {
            *st = t;
        }
        if let Some(sl) = out.lines.get_mut(k) {
            *sl = line_no;
        }
        self.n += 1;
        Ok(())
    }
}

/// Exact powers of ten: every one up to 10^22 is an `f64` without rounding.
const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// `s.parse::<f32>()`, bit for bit, with a fast path for plain decimals like `4`, `3.5`,
/// `-0.722`.
fn parse_f32(s: &str) -> Result<f32, std::num::ParseFloatError> {
    match parse_f32_fast(s.as_bytes()) {
        Some(v) => Ok(v),
        None => s.parse(),
    }
}

/// `[-]digits[.digits]` with at most 15 digits, else `None` (left to the standard parser).
///
/// Why this is the correctly rounded `f32`, as `str::parse` gives: the digits without the
/// dot form an integer `m < 10^15 < 2^53`, and `10^f` (`f` ≤ 15 fraction digits) is exact
/// too, so `m / 10^f` is one IEEE division: the `f64` nearest to the decimal value `q`.
/// Rounding that `f64` to `f32` rounds `q` itself unless the `f64` lands exactly halfway
/// between two `f32`s (f32 midpoints are `f64`s, and rounding to `f64` never crosses one:
/// `q` and its `f64` are on the same side of every midpoint, or the `f64` is the midpoint).
/// The halfway case — the 29 bits an `f32` does not keep are exactly `1 << 28` — is left to
/// the standard parser. Values here lie between 10^-15 and 10^15, far from the `f32`
/// subnormal and overflow ranges, so those 29 bits are the right ones to look at.
fn parse_f32_fast(b: &[u8]) -> Option<f32> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let mut m = 0u64;
    let mut ndigits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(c - b'0');
                ndigits += 1;
                if ndigits > 15 {
                    return None;
                }
                if let Some(f) = &mut frac {
                    *f += 1;
                }
            }
            // A dot after at least one digit (`.5` is left to the standard parser).
            b'.' if frac.is_none() && ndigits > 0 => frac = Some(0),
            _ => return None,
        }
    }
    if ndigits == 0 {
        return None;
    }
    let v = match frac {
        // An integer: `m` is exact as an `f64`, so one rounding to `f32`.
        None | Some(0) => m as f64 as f32,
        Some(f) => {
            let x = m as f64 / *POW10.get(f)?;
            if x.to_bits() & ((1 << 29) - 1) == 1 << 28 {
                return None;
            }
            x as f32
        }
    };
    Some(if neg { -v } else { v })
}

/// A timestamp as an integer (seconds or any unit), or a float truncated to an integer.
fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Fast path: up to 18 plain digits cannot overflow an i64 (what `parse::<i64>` gives).
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')));
    }
    s.parse::<i64>()
        .ok()
        .or_else(|| s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, opts: &ReadOptions) -> Result<Interactions> {
        parse_interactions(text.as_bytes(), Path::new("t.tsv"), opts)
    }

    #[test]
    fn movielens_tab_no_header() {
        let d = read(
            "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.users.len(), 2);
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.users.id(0), Some("196"));
        assert_eq!(d.user_idx, vec![0, 1, 0]);
        assert_eq!(d.item_idx, vec![0, 1, 1]);
        assert_eq!(d.values, vec![3.0, 3.0, 1.0]);
        assert_eq!(d.times, Some(vec![881250949, 891717742, 1]));
        assert!(d.header.is_none());
    }

    #[test]
    fn ratings_dat_double_colon() {
        let d = read("1::1193::5::978300760\r\n1::661::3::978302109\r\n", &ReadOptions::default())
            .unwrap();
        assert_eq!(d.delimiter, Some(Delimiter::DoubleColon));
        assert_eq!(d.values, vec![5.0, 3.0]);
        assert_eq!(d.items.id(1), Some("661"));
    }

    #[test]
    fn ratings_csv_with_header() {
        let d = read(
            "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(d.header.as_deref().map(|h| h.len()), Some(4));
        assert_eq!(d.values, vec![2.5, 3.0]);
        assert_eq!(d.times, Some(vec![1260759144, 1260759179]));
    }

    #[test]
    fn kuairec_named_value_column() {
        let text = "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n\
                    14,148,4381,6067,2020-07-05 05:27:48.378,20200705.0,1593898068.378,0.722\n\
                    14,183,11635,6100,2020-07-05 05:28:00.057,20200705.0,1593898080.057,1.907\n";
        let opts = ReadOptions {
            rating_col: Some(Column::Name("watch_ratio".into())),
            ..ReadOptions::default()
        };
        let d = read(text, &opts).unwrap();
        assert_eq!(d.values, vec![0.722, 1.907]);
        assert_eq!(d.times, Some(vec![1593898068, 1593898080]));
        // Training ignores the times unless a column is named.
        let d = read(text, &ReadOptions { ignore_times: true, ..opts.clone() }).unwrap();
        assert_eq!((d.values.len(), d.times), (2, None));
        let named = ReadOptions {
            time_col: Some(Column::Name("timestamp".into())),
            ignore_times: true,
            ..opts
        };
        assert_eq!(read(text, &named).unwrap().times, Some(vec![1593898068, 1593898080]));
    }

    #[test]
    fn string_ids_and_quotes() {
        let d = read(
            "alice,The Matrix,5\nbob,\"Crouching Tiger, Hidden Dragon\",4\n",
            &ReadOptions::default(),
        )
        .unwrap();
        assert!(d.header.is_none());
        assert_eq!(d.users.id(0), Some("alice"));
        assert_eq!(d.items.id(0), Some("The Matrix"));
        assert_eq!(d.items.id(1), Some("Crouching Tiger, Hidden Dragon"));
    }

    #[test]
    fn bad_line_names_line_and_column() {
        let err =
            read("1\t1\t5\n2\t2\t4\n1\tx\toops\n3\t3\t1\n", &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column 2"), "{msg}");
        assert!(msg.contains("oops"), "{msg}");
        let opts = ReadOptions { skip_invalid: true, ..ReadOptions::default() };
        let d = read("1\t1\t5\n2\t2\t4\n1\tx\toops\n3\t3\t1\n", &opts).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.skipped.count, 1);
        assert_eq!(d.skipped.first[0].0, 3);
    }

    #[test]
    fn nan_inf_missing_column_empty() {
        for (text, needle) in [
            ("1,1,5\n1,2,NaN\n", "not finite"),
            ("1,1,5\n1,2,inf\n", "not finite"),
            ("1,1,5\n1,2\n", "field"),
            ("1,1,5\n,2,3\n", "empty user"),
        ] {
            let msg = read(text, &ReadOptions::default()).unwrap_err().to_string();
            assert!(msg.contains("line 2") && msg.contains(needle), "{text:?}: {msg}");
        }
        assert!(matches!(read("", &ReadOptions::default()), Err(Error::Empty { .. })));
        assert!(matches!(read("\n\n  \n", &ReadOptions::default()), Err(Error::Empty { .. })));
        assert!(matches!(read("u,i,r\n", &ReadOptions::default()), Err(Error::Empty { .. })));
        let msg = read(
            "u,i,r\n1,2,3\n",
            &ReadOptions { rating_col: Some(Column::Name("score".into())), ..Default::default() },
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("no column named \"score\""), "{msg}");
    }

    #[test]
    fn rating_none_binary_and_overrides() {
        let opts = ReadOptions { rating_col: None, ..ReadOptions::default() };
        let d = read("a b\nc d\n", &opts).unwrap();
        assert_eq!(d.values, vec![1.0, 1.0]);
        let opts = ReadOptions { binary: true, ..ReadOptions::default() };
        assert_eq!(read("1;2;4.5\n", &opts).unwrap().values, vec![1.0]);
        let opts = ReadOptions {
            header: Some(false),
            delimiter: Some(Delimiter::Byte(b'|')),
            ..Default::default()
        };
        let d = read("x|y|1\n", &opts).unwrap();
        assert_eq!(d.users.id(0), Some("x"));
        // Forcing a header drops the first line.
        let opts = ReadOptions { header: Some(true), ..Default::default() };
        assert_eq!(read("1,2,3\n4,5,6\n", &opts).unwrap().len(), 1);
    }

    #[test]
    fn latin1_ids_are_lossless() {
        let bytes = b"caf\xe9,x,1\ncafe,x,2\n";
        let d = parse_interactions(bytes, Path::new("l1"), &ReadOptions::default()).unwrap();
        assert_eq!(d.users.len(), 2);
        assert_eq!(d.users.id(0), Some("caf\u{e9}"));
    }

    #[test]
    fn chunked_parse_matches_sequential_numbering() {
        // Big enough for several 4 MiB chunks.
        let mut text = String::new();
        let mut n = 0;
        while text.len() < 10 << 20 {
            text.push_str(&format!(
                "u{}\ti{}\t{}\n",
                (n * 7919) % 5003,
                (n * 104729) % 3001,
                n % 5 + 1
            ));
            n += 1;
        }
        let d = read(&text, &ReadOptions { keep_lines: true, ..Default::default() }).unwrap();
        assert_eq!(d.len(), n);
        let mut users = IdMap::new();
        for k in 0..n {
            let u = users.get_or_insert(&format!("u{}", (k * 7919) % 5003));
            assert_eq!(d.user_idx[k], u);
        }
        assert_eq!(d.lines.as_ref().unwrap()[n - 1], n as u64);
    }

    /// The whole result of a read, for comparing two ways of reading.
    fn summary(r: &Result<Interactions>) -> String {
        match r {
            Err(e) => format!("error: {e}"),
            Ok(d) => format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                d.users.ids().collect::<Vec<_>>(),
                d.items.ids().collect::<Vec<_>>(),
                d.user_idx,
                d.item_idx,
                d.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                d.times,
                d.lines,
                d.header,
                d.delimiter,
                d.skipped
            ),
        }
    }

    /// `parse_time` as it was before its fast path.
    fn parse_time_std(s: &str) -> Option<i64> {
        s.parse::<i64>()
            .ok()
            .or_else(|| s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64))
    }

    fn same_f32(s: &str) {
        let (fast, std) = (parse_f32(s), s.parse::<f32>());
        match (&fast, &std) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{s:?}: {a} vs {b}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{s:?}: {fast:?} vs {std:?}"),
        }
    }

    #[test]
    fn fast_f32_tricky_cases() {
        // Exact f32 midpoints (ties to even) go to the standard parser.
        for s in ["8388608.5", "8388609.5", "-8388608.5", "16777217", "16777219", "33554434"] {
            same_f32(s);
        }
        assert_eq!(parse_f32_fast(b"8388608.5"), None);
        // Not midpoints, but their nearest f64 is one: rounding that f64 again to f32 (ties
        // to even) would be wrong for the last four (double rounding), so they too go to the
        // standard parser.
        for s in [
            "1.16300767660141",
            "32.3598575592041",
            "1.36603444814682",
            "9.14079999923706",
            "3.34738290309906",
            "6.47054648399353",
        ] {
            same_f32(s);
            assert_eq!(parse_f32_fast(s.as_bytes()), None, "{s}");
        }
        assert_eq!(parse_f32_fast(b"2.5"), Some(2.5));
        for s in [
            "0",
            "-0",
            "00",
            "0.0",
            "-0.0",
            "5.",
            ".5",
            "-.5",
            "+4",
            "1e3",
            "1E-3",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "infinity",
            "",
            "-",
            ".",
            "1.2.3",
            "1_0",
            " 1",
            "0x10",
            "3.4028235e38",
            "340282356779733661637539395458142568448",
            "999999999999999",
            "9999999999999999",
            "0.000000000000001",
            "0.1",
            "0.2",
            "0.3",
            "0.7",
            "1.1",
            "2.675",
            "123456.789",
            "0.123456789012345",
            "4.999999999999999",
            "16777216.5",
            "1.00000005960464477539",
            "1.0000000596046448",
            "7.006492321624085e-46",
            "1e-50",
            "-1e-50",
        ] {
            same_f32(s);
        }
    }

    proptest::proptest! {
        #[test]
        fn swar_digits_match_a_byte_loop(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => b'0'..=b'9',
                    1 => proptest::strategy::Just(b'\t'),
                    1 => proptest::strategy::Just(b'\n'),
                    1 => proptest::strategy::Just(b'/'),
                    1 => proptest::strategy::Just(b':'),
                    1 => 0xF0u8..=0xFF,
                    1 => proptest::num::u8::ANY,
                ],
                8,
            )
        ) {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes);
            let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let v = bytes[..n].iter().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
            proptest::prop_assert_eq!(swar_digits(u64::from_le_bytes(w)), (n, v));
        }

        #[test]
        fn long_digit_fields_read_exactly(
            ids in proptest::collection::vec(("[0-9]{1,25}", "[0-9]{1,25}"), 1..40),
        ) {
            // Integer ids of every length around the 8-byte steps and the 18-digit limit,
            // up to the chunk's last bytes: the ids are their text, byte for byte.
            let text: String = ids.iter().map(|(u, i)| format!("{u}\t{i}\t1\n")).collect();
            let d = read(&text, &ReadOptions::default()).unwrap();
            for (k, (u, i)) in ids.iter().enumerate() {
                proptest::prop_assert_eq!(d.users.id(d.user_idx[k]), Some(u.as_str()));
                proptest::prop_assert_eq!(d.items.id(d.item_idx[k]), Some(i.as_str()));
            }
            let bare = text.trim_end_matches('\n');
            let d = read(bare, &ReadOptions::default()).unwrap();
            proptest::prop_assert_eq!(d.len(), ids.len());
        }

        #[test]
        fn fast_f32_matches_std(
            neg in proptest::bool::ANY,
            int in "[0-9]{0,17}",
            frac in proptest::option::of("[0-9]{0,17}"),
        ) {
            let s = format!("{}{}{}", if neg { "-" } else { "" }, int, frac.map(|f| format!(".{f}")).unwrap_or_default());
            same_f32(&s);
        }

        #[test]
        fn fast_f32_near_f32_midpoints(bits in 0x4680_0000u32..0x4B80_0000, nudge in -2i64..=2) {
            // Between 2^14 and 2^24, the point halfway between two neighbouring f32s is a
            // decimal of at most 15 digits: the fast path must see it and step aside.
            let mid = (f64::from(f32::from_bits(bits)) + f64::from(f32::from_bits(bits + 1))) / 2.0;
            let s = format!("{mid}");
            same_f32(&s);
            if nudge == 0 && s.len() <= 16 {
                proptest::prop_assert_eq!(parse_f32_fast(s.as_bytes()), None);
            }
            // Its neighbours one unit in the last digit away round like the standard parser.
            if let Some((int, frac)) = s.split_once('.') {
                let m: i64 = format!("{int}{frac}").parse().unwrap();
                let digits = (m + nudge).to_string();
                let (i, f) = digits.split_at(digits.len() - frac.len());
                same_f32(&format!("{i}.{f}"));
            }
        }

        #[test]
        fn fast_time_matches_std(s in "-?[0-9]{0,20}(\\.[0-9]{0,4})?") {
            proptest::prop_assert_eq!(parse_time(&s), parse_time_std(&s));
        }

        #[test]
        fn fast_route_matches_general_route(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "1", "7", "42", "007", "0", "4194303", "4194304", "123456789012345678901",
                        "2.5", "-3", "3.25", "1e3", "NaN", "", " 5", "5 ", "\t6", "u1", "caf\u{e9}",
                        "\u{a0}9", "9\u{a0}", "\u{b}8", "a\"b", "\"x,y\"", "::", "881250949",
                        "1593898068.378", "x\r",
                    ]),
                    0..6,
                ),
                1..40,
            ),
            delim in proptest::sample::select(vec!["\t", ",", " ", "::", ";"]),
            crlf in proptest::bool::ANY,
            skip in proptest::bool::ANY,
            keep in proptest::bool::ANY,
            latin1 in proptest::bool::ANY,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let text: String = lines.iter().map(|l| l.join(delim) + eol).collect();
            let mut bytes = text.into_bytes();
            if latin1 {
                bytes.push(0xE9); // not UTF-8: the body takes the general route where it matters
            }
            for opts in [
                ReadOptions { skip_invalid: skip, keep_lines: keep, ..Default::default() },
                ReadOptions { time_col: Some(Column::Index(3)), skip_invalid: skip, ..Default::default() },
                ReadOptions { rating_col: None, header: Some(false), ..Default::default() },
                ReadOptions { user_col: Column::Index(2), item_col: Column::Index(0), rating_col: Some(Column::Index(1)), ..Default::default() },
            ] {
                let fast = parse_with(&bytes, Path::new("p"), &opts, true);
                let general = parse_with(&bytes, Path::new("p"), &opts, false);
                proptest::prop_assert_eq!(summary(&fast), summary(&general));
            }
        }
    }

    #[test]
    fn streamed_file_matches_in_memory() {
        // Big enough for the streamed reader (several chunks and blocks), with the shapes
        // that matter to it: byte order mark, header, CRLF, blank lines, a line longer than
        // a block, an error far into the file.
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::new();
        for n in 0..60_000u64 {
            body.push_str(&format!(
                "{}\t{}\t{}\t{}\r\n",
                n * 7 % 997,
                n * 13 % 3001,
                n % 5 + 1,
                880_000_000 + n
            ));
            if n % 9_999 == 0 {
                body.push_str("\r\n  \t \r\n");
            }
            if n == 33_333 {
                body.push_str(&format!("u{}\tlong\t1\t5\r\n", "x".repeat(300_000)));
            }
        }
        let cases: Vec<(Vec<u8>, ReadOptions)> = vec![
            (body.clone().into_bytes(), ReadOptions::default()),
            (
                format!("\u{feff}user\titem\trating\ttimestamp\n{body}").into_bytes(),
                ReadOptions { keep_lines: true, ..Default::default() },
            ),
            (
                format!("{}1\t2\t3\t4\n{body}", "\n".repeat(70_000)).into_bytes(),
                ReadOptions::default(),
            ),
            (format!("{body}1\t2\toops\t4\n{body}").into_bytes(), ReadOptions::default()),
            (
                format!("{body}1\t2\toops\t4\n{body}").into_bytes(),
                ReadOptions { skip_invalid: true, ..Default::default() },
            ),
        ];
        for (k, (bytes, opts)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("f{k}.tsv"));
            std::fs::write(&path, bytes).unwrap();
            let streamed = read_interactions(&path, opts);
            let in_memory = parse_interactions(bytes, &path, opts);
            assert_eq!(summary(&streamed), summary(&in_memory), "case {k}");
        }
    }
}
