//! The front doors of ingestion: [`ReaderBuilder`] for files and bytes, and
//! [`InteractionsBuilder`] for interactions held in memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Column, Delimiter, Interactions, ReadOptions};
use crate::error::{Error, Result};
use crate::ids::IdMap;

/// Reads interaction files (and bytes or streams in the same formats), in the manner of
/// rust-csv's `ReaderBuilder`: unless told, the delimiter and the header are sniffed from the
/// first lines, the user id is column 0, the item id column 1, the value column 2, and a
/// timestamp column (named `timestamp`/`time`/`ts`, else column 3) is used when the first
/// data line holds a time there (see [`crate::data`] for the formats and what makes a line
/// invalid).
///
/// ```
/// use alternator::ReaderBuilder;
///
/// let text = "userId,movieId,rating\n1,10,4.5\n1,20,3\n2,10,5\n";
/// let data = ReaderBuilder::new().from_bytes(text.as_bytes(), "ratings.csv")?;
/// assert_eq!((data.users().len(), data.items().len(), data.len()), (2, 2, 3));
///
/// let tsv = "alice\tsong-1\t3\t881250949\n";
/// let plays = ReaderBuilder::new()
///     .has_header(false)
///     .delimiter(b'\t')
///     .rating_col("2")
///     .from_bytes(tsv.as_bytes(), "plays.tsv")?;
/// assert_eq!(plays.values(), &[3.0]);
/// # Ok::<(), alternator::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReaderBuilder {
    opts: ReadOptions,
}

impl ReaderBuilder {
    /// Sniffing defaults (see [`ReaderBuilder`]).
    pub fn new() -> ReaderBuilder {
        ReaderBuilder::default()
    }

    /// The field delimiter: a byte (`b'\t'`, `b','`) or a [`Delimiter`].
    pub fn delimiter(&mut self, d: impl Into<Delimiter>) -> &mut Self {
        self.opts.delimiter = Some(d.into());
        self
    }

    /// Whether the first line is a header (default: detected).
    pub fn has_header(&mut self, yes: bool) -> &mut Self {
        self.opts.header = Some(yes);
        self
    }

    /// The user id column (Spark `userCol`), by 0-based position or header name.
    pub fn user_col(&mut self, c: impl Into<Column>) -> &mut Self {
        self.opts.user_col = c.into();
        self
    }

    /// The item id column (Spark `itemCol`).
    pub fn item_col(&mut self, c: impl Into<Column>) -> &mut Self {
        self.opts.item_col = c.into();
        self
    }

    /// The value column (Spark `ratingCol`).
    pub fn rating_col(&mut self, c: impl Into<Column>) -> &mut Self {
        self.opts.rating_col = Some(c.into());
        self
    }

    /// No value column: every interaction counts 1.0.
    pub fn no_rating_col(&mut self) -> &mut Self {
        self.opts.rating_col = None;
        self
    }

    /// The timestamp column; named, it must be present and numeric on every line (as must a
    /// detected one).
    pub fn time_col(&mut self, c: impl Into<Column>) -> &mut Self {
        self.opts.time_col = Some(c.into());
        self
    }

    /// Turn every value into 1.0 (after validation).
    pub fn binary(&mut self, yes: bool) -> &mut Self {
        self.opts.binary = yes;
        self
    }

    /// Skip malformed lines, counting them in [`Interactions::skipped`], instead of failing.
    pub fn skip_invalid(&mut self, yes: bool) -> &mut Self {
        self.opts.skip_invalid = yes;
        self
    }

    /// Keep the 1-based line number of every interaction (for tools that rewrite the file).
    pub fn keep_lines(&mut self, yes: bool) -> &mut Self {
        self.opts.keep_lines = yes;
        self
    }

    /// Read no timestamps unless a time column is named (training never uses them): a
    /// column that would be detected is neither parsed nor checked.
    pub fn ignore_times(&mut self, yes: bool) -> &mut Self {
        self.opts.ignore_times = yes;
        self
    }

    /// Reads an interaction file: delimited text, text compressed with gzip or zstd, a Parquet
    /// file, or a directory of Parquet part files as Spark writes it (files whose names start
    /// with `_` or `.` skipped). The format is recognised by the content, not the name. In
    /// Parquet, columns are chosen by name (or position in the schema); ids may be integers
    /// or strings, values integers or floating point, and they are numbered exactly as the
    /// same data in text would number them.
    ///
    /// Errors name the file, the 1-based line (or row) and the 1-based column (with the
    /// header's name): a line with other fields than the file's, a missing column, an empty or
    /// null id, a non-numeric, null, NaN or infinite value, a bad timestamp, an empty file, a
    /// missing path, a truncated Parquet file.
    pub fn from_path(&self, path: impl AsRef<Path>) -> Result<Interactions> {
        super::read_interactions(path, &self.opts)
    }

    /// Parses interactions already in memory, in any format [`ReaderBuilder::from_path`]
    /// reads (recognised by the first bytes); `name` is used in messages only.
    pub fn from_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Interactions> {
        let name = name.as_ref();
        if super::InputFormat::sniff(bytes) == super::InputFormat::Text {
            return super::parse_interactions(bytes, name, &self.opts);
        }
        super::input::read_bytes(bytes.to_vec(), name, &self.opts)
    }

    /// Reads a stream to its end (standard input, a pipe) and parses it, in any format
    /// [`ReaderBuilder::from_path`] reads; `name` is used in messages only.
    pub fn from_reader(&self, mut r: impl Read, name: impl AsRef<Path>) -> Result<Interactions> {
        let name = name.as_ref();
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).map_err(|e| Error::io(name, e))?;
        super::input::read_bytes(bytes, name, &self.opts)
    }
}

/// Interactions built in memory from the user's own ids (any strings), as a file would give
/// them: ids numbered in order of first appearance.
///
/// ```
/// use alternator::Interactions;
///
/// let mut b = Interactions::builder();
/// b.push("alice", "song-1", 3.0);
/// b.push("alice", "song-2", 1.0);
/// b.push("bob", "song-1", 7.0);
/// let plays = b.build()?;
/// assert_eq!((plays.users().len(), plays.items().len(), plays.len()), (2, 2, 3));
/// # Ok::<(), alternator::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct InteractionsBuilder {
    name: PathBuf,
    users: IdMap,
    items: IdMap,
    user_idx: Vec<u32>,
    item_idx: Vec<u32>,
    values: Vec<f32>,
    /// The first problem seen by [`InteractionsBuilder::push`], reported by `build`.
    error: Option<String>,
}

impl InteractionsBuilder {
    /// No interactions yet.
    pub fn new() -> InteractionsBuilder {
        InteractionsBuilder { name: PathBuf::from("<memory>"), ..Default::default() }
    }

    /// The name used in messages (default `<memory>`).
    pub fn name(&mut self, name: impl Into<PathBuf>) -> &mut Self {
        self.name = name.into();
        self
    }

    /// Room for `n` more interactions.
    pub fn reserve(&mut self, n: usize) -> &mut Self {
        self.user_idx.reserve(n);
        self.item_idx.reserve(n);
        self.values.reserve(n);
        self
    }

    /// Adds one interaction. An empty id or a non-finite value is reported by
    /// [`InteractionsBuilder::build`], naming the interaction.
    pub fn push(&mut self, user: &str, item: &str, value: f32) -> &mut Self {
        if self.error.is_none() {
            let k = self.values.len() + 1;
            if user.is_empty() || item.is_empty() {
                self.error = Some(format!("interaction {k}: empty user or item id"));
            } else if !value.is_finite() {
                self.error = Some(format!("interaction {k}: the value {value} is not finite"));
            } else if self.users.len() >= u32::MAX as usize - 1
                || self.items.len() >= u32::MAX as usize - 1
            {
                self.error = Some("more than 4 billion distinct users or items".into());
            }
        }
        if self.error.is_some() {
            return self;
        }
        self.user_idx.push(self.users.get_or_insert(user));
        self.item_idx.push(self.items.get_or_insert(item));
        self.values.push(value);
        self
    }

    /// Number of interactions pushed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when none was pushed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The interactions, or the first problem a push met.
    pub fn build(self) -> Result<Interactions> {
        if let Some(message) = self.error {
            return Err(Error::Invalid(format!("{}: {message}", self.name.display())));
        }
        Ok(Interactions {
            path: self.name,
            users: self.users,
            items: self.items,
            user_idx: self.user_idx,
            item_idx: self.item_idx,
            values: self.values,
            ..Interactions::default()
        })
    }
}

impl From<u8> for Delimiter {
    /// A one-byte delimiter.
    fn from(b: u8) -> Delimiter {
        Delimiter::Byte(b)
    }
}

impl From<usize> for Column {
    /// A column by 0-based position.
    fn from(i: usize) -> Column {
        Column::Index(i)
    }
}

impl From<&str> for Column {
    /// A position when the text is a number, otherwise a header name ([`Column::parse`]).
    fn from(s: &str) -> Column {
        Column::parse(s)
    }
}

impl Interactions {
    /// An [`InteractionsBuilder`], for interactions held in memory.
    pub fn builder() -> InteractionsBuilder {
        InteractionsBuilder::new()
    }

    /// The file read (or the name given to the builder).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// User ids, in order of first appearance.
    pub fn users(&self) -> &IdMap {
        &self.users
    }

    /// Item ids, in order of first appearance.
    pub fn items(&self) -> &IdMap {
        &self.items
    }

    /// The user index of each interaction.
    pub fn user_indices(&self) -> &[u32] {
        &self.user_idx
    }

    /// The item index of each interaction.
    pub fn item_indices(&self) -> &[u32] {
        &self.item_idx
    }

    /// The value of each interaction.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The timestamp of each interaction, when the file has a time column.
    pub fn times(&self) -> Option<&[i64]> {
        self.times.as_deref()
    }

    /// The 1-based line number of each interaction, when read with
    /// [`ReaderBuilder::keep_lines`].
    pub fn lines(&self) -> Option<&[u64]> {
        self.lines.as_deref()
    }

    /// The header's column names, when the file has a header.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// The delimiter used (`None` for Parquet).
    pub fn delimiter(&self) -> Option<Delimiter> {
        self.delimiter
    }

    /// How the input was stored: text, compressed text, Parquet.
    pub fn format(&self) -> super::InputFormat {
        self.format
    }

    /// Lines skipped under [`ReaderBuilder::skip_invalid`].
    pub fn skipped(&self) -> &super::SkipReport {
        &self.skipped
    }

    /// Interaction `k` as `(user index, item index, value)`.
    pub fn get(&self, k: usize) -> Option<(u32, u32, f32)> {
        Some((*self.user_idx.get(k)?, *self.item_idx.get(k)?, *self.values.get(k)?))
    }

    /// The interactions for which `keep(user index, item index, value)` holds, with the same
    /// id maps (so indices stay comparable) and times.
    pub fn filter(&self, mut keep: impl FnMut(u32, u32, f32) -> bool) -> Interactions {
        let mut out = Interactions {
            path: self.path.clone(),
            users: self.users.clone(),
            items: self.items.clone(),
            header: self.header.clone(),
            delimiter: self.delimiter,
            format: self.format,
            ..Interactions::default()
        };
        let mut times = self.times.as_ref().map(|_| Vec::new());
        let mut lines = self.lines.as_ref().map(|_| Vec::new());
        for k in 0..self.len() {
            let Some((u, i, v)) = self.get(k) else { continue };
            if !keep(u, i, v) {
                continue;
            }
            out.user_idx.push(u);
            out.item_idx.push(i);
            out.values.push(v);
            if let (Some(t), Some(src)) = (times.as_mut(), self.times.as_ref()) {
                t.push(src.get(k).copied().unwrap_or(0));
            }
            if let (Some(l), Some(src)) = (lines.as_mut(), self.lines.as_ref()) {
                l.push(src.get(k).copied().unwrap_or(0));
            }
        }
        out.times = times;
        out.lines = lines;
        out
    }
}
