//! Ingestion: reading interaction files (ratings, play counts, watch ratios) into dense
//! indices with the reverse id maps kept.
//!
//! Supported out of the box, with the delimiter and header detected from the first lines:
//! MovieLens `u.data` / `ua.base` (tab, no header), `ratings.dat` (`::`), `ratings.csv`
//! (comma, header `userId,movieId,rating,timestamp`), KuaiRec-style CSV with a header naming
//! the value column (`--rating-col watch_ratio`), and any CSV / TSV / `;` / `|` / space
//! separated file. Fields may be quoted CSV-style (`"The Matrix, Reloaded"`).
//!
//! The file is read once into memory and parsed in parallel chunks; ids are mapped to dense
//! indices in order of first appearance, exactly as a sequential read would number them.

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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_interactions(&bytes, path, opts)
}

/// Parses interactions from bytes already in memory; `path` is used in messages only.
pub fn parse_interactions(bytes: &[u8], path: &Path, opts: &ReadOptions) -> Result<Interactions> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // UTF-8 BOM
    // Skip leading blank lines to find the first line.
    let mut first_start = 0usize;
    let mut first_line_no = 1u64;
    loop {
        let end =
            memchr::memchr(b'\n', &bytes[first_start..]).map_or(bytes.len(), |p| first_start + p);
        if trim_cr(&bytes[first_start..end]).iter().any(|b| !b.is_ascii_whitespace())
            || end >= bytes.len()
        {
            break;
        }
        first_start = end + 1;
        first_line_no += 1;
    }
    if bytes[first_start..].iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Empty {
            path: path.into(),
            message: "the file is empty: no interactions to read".into(),
        });
    }
    let first_end =
        memchr::memchr(b'\n', &bytes[first_start..]).map_or(bytes.len(), |p| first_start + p);
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
            let second_end = memchr::memchr(b'\n', &bytes[second_start..])
                .map_or(bytes.len(), |p| second_start + p);
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
    let rating_col = opts.rating_col.as_ref().map(|c| resolve(c, "--rating-col")).transpose()?;
    if user_col == item_col {
        return Err(Error::param("--item-col", "the user and item columns must differ"));
    }
    let (time_col, time_required) = match &opts.time_col {
        Some(c) => (Some(resolve(c, "--time-col")?), true),
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
    };

    // Chunk the body at line boundaries and parse chunks in parallel.
    let body = &bytes[body_start..];
    // Few, large chunks: each chunk re-interns the ids it sees, so fewer chunks is less work.
    let target = (body.len() / (4 * rayon::current_num_threads().max(1))).max(4 << 20);
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
    let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let newline_counts: Vec<u64> = ranges
        .par_iter()
        .map(|&(s, e)| memchr::memchr_iter(b'\n', &body[s..e]).count() as u64)
        .collect();
    let mut line_starts = Vec::with_capacity(ranges.len());
    let mut acc = body_line0;
    for n in &newline_counts {
        line_starts.push(acc);
        acc += n;
    }
    let chunks: Vec<Chunk> = ranges
        .par_iter()
        .zip(line_starts.par_iter())
        .map(|(&(s, e), &l0)| parse_chunk(&body[s..e], l0, &spec, opts.keep_lines))
        .collect();

    // Fail on the earliest error (chunks are in file order).
    if let Some(err) = chunks.iter().find_map(|c| c.error.clone()) {
        return Err(Error::Parse { path: path.into(), line: err.0, column: err.1, message: err.2 });
    }

    // Merge the chunk-local id maps in file order: global first-appearance order.
    let mut users = IdMap::new();
    let mut items = IdMap::new();
    let mut remaps = Vec::with_capacity(chunks.len());
    for c in &chunks {
        let ru: Vec<u32> = c.users.ids().map(|s| users.get_or_insert(s)).collect();
        let ri: Vec<u32> = c.items.ids().map(|s| items.get_or_insert(s)).collect();
        remaps.push((ru, ri));
    }
    if users.len() >= u32::MAX as usize || items.len() >= u32::MAX as usize {
        return Err(Error::Invalid(format!(
            "{}: more than 4 billion distinct ids",
            path.display()
        )));
    }
    let total: usize = chunks.iter().map(|c| c.values.len()).sum();
    let mut user_idx = vec![0u32; total];
    let mut item_idx = vec![0u32; total];
    let mut values = vec![0f32; total];
    let times_valid = time_col.is_some() && chunks.iter().all(|c| c.times_ok);
    let mut times = if times_valid { vec![0i64; total] } else { Vec::new() };
    let mut lines = if opts.keep_lines { vec![0u64; total] } else { Vec::new() };
    {
        let mut u_rest = &mut user_idx[..];
        let mut i_rest = &mut item_idx[..];
        let mut v_rest = &mut values[..];
        let mut t_rest = &mut times[..];
        let mut l_rest = &mut lines[..];
        let mut jobs = Vec::with_capacity(chunks.len());
        for (c, remap) in chunks.iter().zip(&remaps) {
            let n = c.values.len();
            let (u, ur) = u_rest.split_at_mut(n);
            let (i, ir) = i_rest.split_at_mut(n);
            let (v, vr) = v_rest.split_at_mut(n);
            let (t, tr) = if times_valid { t_rest.split_at_mut(n) } else { (&mut [][..], t_rest) };
            let (l, lr) =
                if opts.keep_lines { l_rest.split_at_mut(n) } else { (&mut [][..], l_rest) };
            (u_rest, i_rest, v_rest, t_rest, l_rest) = (ur, ir, vr, tr, lr);
            jobs.push((c, remap, u, i, v, t, l));
        }
        jobs.into_par_iter().for_each(|(c, (ru, ri), u, i, v, t, l)| {
            for (dst, &src) in u.iter_mut().zip(&c.user_local) {
                *dst = ru[src as usize];
            }
            for (dst, &src) in i.iter_mut().zip(&c.item_local) {
                *dst = ri[src as usize];
            }
            v.copy_from_slice(&c.values);
            if !t.is_empty() {
                t.copy_from_slice(&c.times);
            }
            if !l.is_empty() {
                l.copy_from_slice(&c.lines);
            }
        });
    }
    if opts.binary || rating_col.is_none() {
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
    Ok(Interactions {
        path: path.into(),
        users,
        items,
        user_idx,
        item_idx,
        values,
        times: times_valid.then_some(times),
        lines: opts.keep_lines.then_some(lines),
        header,
        delimiter: Some(delimiter),
        skipped,
    })
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
}

#[derive(Default)]
struct Chunk {
    users: IdMap,
    items: IdMap,
    user_local: Vec<u32>,
    item_local: Vec<u32>,
    values: Vec<f32>,
    times: Vec<i64>,
    times_ok: bool,
    lines: Vec<u64>,
    skipped: u64,
    skip_examples: Vec<(u64, String)>,
    error: Option<(u64, Option<String>, String)>,
}

fn parse_chunk(chunk: &[u8], line0: u64, spec: &LineSpec, keep_lines: bool) -> Chunk {
    let mut out = Chunk { times_ok: true, ..Chunk::default() };
    let mut st = ChunkState::default();
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
    // Fast path: a valid UTF-8 chunk whose lines need no unquoting is split into borrowed
    // field slices, reusing one vector; other lines go through the general splitter.
    let utf8 = std::str::from_utf8(chunk).ok();
    let mut spans: Vec<&str> = Vec::with_capacity(last_needed + 1);
    let (mut ubuf, mut ibuf, mut vbuf, mut tbuf) =
        (String::new(), String::new(), String::new(), String::new());
    let mut start = 0usize;
    let mut k = 0u64;
    while start <= chunk.len() {
        let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |p| start + p);
        let line_no = line0 + k;
        k += 1;
        let (s, e) = (start, if end > start && chunk[end - 1] == b'\r' { end - 1 } else { end });
        start = end + 1;
        let raw = &chunk[s..e];
        if raw.first().is_none_or(|b| b.is_ascii_whitespace())
            && raw.iter().all(|b| b.is_ascii_whitespace())
        {
            continue;
        }
        let quoted =
            matches!(spec.delimiter, Delimiter::Byte(_)) && memchr::memchr(b'"', raw).is_some();
        let nfields;
        let fields: [&str; 4];
        if let (Some(all), false) = (utf8, quoted) {
            let line = &all[s..e];
            spans.clear();
            match spec.delimiter {
                Delimiter::Byte(d) => {
                    let mut from = 0;
                    for p in memchr::memchr_iter(d, line.as_bytes()) {
                        spans.push(&line[from..p]);
                        from = p + 1;
                        if spans.len() > last_needed {
                            break;
                        }
                    }
                    if spans.len() <= last_needed {
                        spans.push(&line[from..]);
                    }
                }
                _ => {
                    let mut it = FieldIter::new(line, spec.delimiter);
                    while let Some(std::borrow::Cow::Borrowed(f)) = it.next_field() {
                        spans.push(f);
                        if spans.len() > last_needed {
                            break;
                        }
                    }
                }
            }
            nfields = spans.len();
            let get =
                |c: Option<usize>| c.and_then(|c| spans.get(c)).map_or("", |f| f.trim_ascii());
            fields = [
                get(Some(spec.user_col)),
                get(Some(spec.item_col)),
                get(spec.rating_col),
                get(spec.time_col),
            ];
        } else {
            let text = decode(raw);
            let mut n = 0usize;
            let mut it = FieldIter::new(&text, spec.delimiter);
            for b in [&mut ubuf, &mut ibuf, &mut vbuf, &mut tbuf] {
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
            nfields = n;
            fields = [ubuf.as_str(), ibuf.as_str(), vbuf.as_str(), tbuf.as_str()];
        }
        if st.record(&mut out, spec, line_no, nfields, max_col, fields, keep_lines).is_err() {
            return out;
        }
    }
    out
}

/// Per-chunk direct tables for small integer ids (value → local index + 1), which skip hashing.
#[derive(Default)]
struct ChunkState {
    direct_users: Vec<u32>,
    direct_items: Vec<u32>,
}

/// Ids that are plain decimal integers below this use a direct table instead of a hash.
const DIRECT_LIMIT: usize = 1 << 22;

/// The local index of `id`: through `direct` when it is a canonical small integer
/// (no sign, no leading zero), else through the hash map. Both give the same numbering.
fn intern(ids: &mut IdMap, direct: &mut Vec<u32>, id: &str) -> u32 {
    let b = id.as_bytes();
    let canonical = !b.is_empty()
        && b.len() <= 7
        && (b[0] != b'0' || b.len() == 1)
        && b.iter().all(u8::is_ascii_digit);
    if !canonical {
        return ids.get_or_insert(id);
    }
    let n = b.iter().fold(0usize, |acc, &d| acc * 10 + usize::from(d - b'0'));
    if n >= DIRECT_LIMIT {
        return ids.get_or_insert(id);
    }
    if let Some(&v) = direct.get(n) {
        if v != 0 {
            return v - 1;
        }
    }
    let i = ids.get_or_insert(id);
    if n >= direct.len() {
        direct.resize((n + 1).next_power_of_two().min(DIRECT_LIMIT), 0);
    }
    direct[n] = i + 1;
    i
}

impl ChunkState {
    /// Validates one line's fields (user, item, value, time) and appends the interaction.
    /// `Err` stops the chunk (the error is in `out.error`); skipped lines return `Ok`.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        out: &mut Chunk,
        spec: &LineSpec,
        line_no: u64,
        nfields: usize,
        max_col: usize,
        [user, item, value, time]: [&str; 4],
        keep_lines: bool,
    ) -> Result<(), ()> {
        let fail = |col: Option<String>, msg: String, out: &mut Chunk| -> Result<(), ()> {
            if spec.skip_invalid {
                out.skipped += 1;
                if out.skip_examples.len() < SKIP_EXAMPLES {
                    let what = match &col {
                        Some(c) => format!("column {c}: {msg}"),
                        None => msg,
                    };
                    out.skip_examples.push((line_no, what));
                }
                Ok(())
            } else {
                out.error = Some((line_no, col, msg));
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
            return fail(None, msg, out);
        }
        if user.is_empty() {
            return fail(Some(spec.user_name.clone()), "empty user id".into(), out);
        }
        if item.is_empty() {
            return fail(Some(spec.item_name.clone()), "empty item id".into(), out);
        }
        let value = match spec.rating_col {
            None => 1.0,
            Some(_) => match value.parse::<f32>() {
                Ok(v) if v.is_finite() => v,
                Ok(v) => {
                    let msg = format!("value {v} is not finite; ratings must be finite numbers");
                    return fail(spec.rating_name.clone(), msg, out);
                }
                Err(_) => {
                    return fail(
                        spec.rating_name.clone(),
                        format!("{value:?} is not a number"),
                        out,
                    );
                }
            },
        };
        let mut t = 0i64;
        if let Some(tc) = spec.time_col {
            match if nfields > tc { parse_time(time) } else { None } {
                Some(v) => t = v,
                None if spec.time_required => {
                    return fail(
                        Some(tc.to_string()),
                        format!("timestamp {time:?} is not a number"),
                        out,
                    );
                }
                None => out.times_ok = false,
            }
        }
        let u = intern(&mut out.users, &mut self.direct_users, user);
        let i = intern(&mut out.items, &mut self.direct_items, item);
        out.user_local.push(u);
        out.item_local.push(i);
        out.values.push(value);
        if spec.time_col.is_some() {
            out.times.push(t);
        }
        if keep_lines {
            out.lines.push(line_no);
        }
        Ok(())
    }
}

/// A timestamp as an integer (seconds or any unit), or a float truncated to an integer.
fn parse_time(s: &str) -> Option<i64> {
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
}
