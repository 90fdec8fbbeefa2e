//! Reading Parquet tables: the parts of a table (one file, a directory of part files as Spark
//! and Hive write them, or bytes in memory), their metadata, and record batches of any row
//! range of a part, so that callers can read row groups (or slices of one) in parallel.

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Once;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::ChunkReader;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// The four bytes a Parquet file starts and ends with.
pub(crate) const MAGIC: &[u8; 4] = b"PAR1";

/// The message for a file that starts as Parquet but is cut short.
const TRUNCATED: &str = "a truncated or damaged Parquet file: it starts with the Parquet magic \
                         bytes PAR1 but does not end with them (the footer, which describes the \
                         columns, is missing)";

/// True when `bytes` look like a whole Parquet file: the magic at both ends.
pub(crate) fn looks_like_parquet(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && bytes.starts_with(MAGIC) && bytes.ends_with(MAGIC)
}

/// Where one part's bytes are. Files are opened anew by every reader: the parquet crate's
/// reader for `File` seeks a shared descriptor, which threads reading one file would race on.
#[derive(Clone)]
enum Source {
    File(PathBuf),
    Bytes(Bytes),
}

/// One Parquet file of a table and its metadata (read once).
pub(crate) struct Part {
    source: Source,
    /// The file, or the name given to bytes in memory: for messages.
    pub(crate) path: PathBuf,
    meta: ArrowReaderMetadata,
}

/// A table: its parts in order (a directory's part files sorted by name, which is the order
/// Spark wrote them in).
pub(crate) struct Table {
    /// The file or directory given.
    pub(crate) path: PathBuf,
    pub(crate) parts: Vec<Part>,
}

/// A Parquet error as a table error naming `path`.
pub(crate) fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::table(path, format!("not a readable Parquet file: {e}"))
}

/// The part files of a directory table: every regular file (or link to one) whose name starts
/// with neither `_` (`_SUCCESS`, `_metadata`) nor `.` (checksums, hidden files), sorted by name.
pub(crate) fn list_parts(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            parts.push(path);
        }
    }
    parts.sort();
    Ok(parts)
}

/// Checks that every row group's row count and every column chunk's place are possible for a
/// file of `len` bytes: the parquet crate asserts (panics) on some impossible ones.
fn check_chunks(meta: &ArrowReaderMetadata, len: u64) -> std::result::Result<(), String> {
    for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(format!("row group {g} claims {} rows", rg.num_rows()));
        }
        for c in rg.columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(size).ok())
                .and_then(|(a, b)| a.checked_add(b));
            if end.is_none_or(|e| e > len) {
                return Err(format!(
                    "the metadata places a column chunk of row group {g} at bytes {start}..+{size}, \
                     outside the file's {len} bytes (a damaged or truncated file)"
                ));
            }
        }
    }
    Ok(())
}

impl Part {
    fn open(source: Source, path: PathBuf, options: &ArrowReaderOptions) -> Result<Part> {
        let meta = match &source {
            Source::File(p) => {
                let mut file = File::open(p).map_err(|e| Error::io(p, e))?;
                let mut head = [0u8; 4];
                let len = file.metadata().map_err(|e| Error::io(p, e))?.len();
                if len < 12 || file.read_exact(&mut head).is_err() || &head != MAGIC {
                    return Err(Error::table(
                        p,
                        "not a Parquet file (it does not start with the Parquet magic bytes PAR1)",
                    ));
                }
                let mut tail = [0u8; 4];
                let ends = file.seek(SeekFrom::End(-4)).is_ok()
                    && file.read_exact(&mut tail).is_ok()
                    && &tail == MAGIC;
                if !ends {
                    return Err(Error::table(p, TRUNCATED));
                }
                guarded(&path, || {
                    ArrowReaderMetadata::load(&file, options.clone()).map_err(|e| pq_err(&path, e))
                })?
            }
            Source::Bytes(b) => guarded(&path, || {
                ArrowReaderMetadata::load(b, options.clone()).map_err(|e| pq_err(&path, e))
            })?,
        };
        let len = match &source {
            Source::File(p) => std::fs::metadata(p).map_err(|e| Error::io(p, e))?.len(),
            Source::Bytes(b) => b.len() as u64,
        };
        check_chunks(&meta, len).map_err(|m| Error::table(&path, m))?;
        Ok(Part { source, path, meta })
    }

    /// The part's Arrow schema.
    pub(crate) fn schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    /// The number of rows of each row group.
    pub(crate) fn row_group_rows(&self) -> Result<Vec<usize>> {
        self.meta
            .metadata()
            .row_groups()
            .iter()
            .map(|rg| {
                usize::try_from(rg.num_rows()).map_err(|_| {
                    Error::table(&self.path, format!("a row group has {} rows", rg.num_rows()))
                })
            })
            .collect()
    }

    /// Calls `f` on the record batches of rows `offset..offset + len` of row group
    /// `row_group`, holding the top-level columns `columns` (in schema order). Stops at the
    /// first error, of reading or of `f`.
    pub(crate) fn for_each_batch(
        &self,
        columns: &[usize],
        row_group: usize,
        offset: usize,
        len: usize,
        f: impl FnMut(&RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let range = Rows { row_group, offset, len };
        match &self.source {
            Source::File(p) => {
                let file = File::open(p).map_err(|e| Error::io(p, e))?;
                self.batches(file, columns, range, f)
            }
            Source::Bytes(bytes) => self.batches(bytes.clone(), columns, range, f),
        }
    }

    fn batches<R: ChunkReader + 'static>(
        &self,
        input: R,
        columns: &[usize],
        rows: Rows,
        mut f: impl FnMut(&RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let b = ParquetRecordBatchReaderBuilder::new_with_metadata(input, self.meta.clone());
        let mask = ProjectionMask::roots(b.parquet_schema(), columns.iter().copied());
        let mut reader = guarded(&self.path, || {
            b.with_row_groups(vec![rows.row_group])
                .with_projection(mask)
                .with_offset(rows.offset)
                .with_limit(rows.len)
                .with_batch_size(rows.len.clamp(1, 64 << 10))
                .build()
                .map_err(|e| pq_err(&self.path, e))
        })?;
        // The decoder's panics on damaged pages are caught here (and only here: not in `f`).
        while let Some(rb) = guarded(&self.path, || Ok(reader.next()))? {
            f(&rb.map_err(|e| pq_err(&self.path, e))?)?;
        }
        Ok(())
    }
}

/// Rows `offset..offset + len` of one row group.
#[derive(Clone, Copy)]
struct Rows {
    row_group: usize,
    offset: usize,
    len: usize,
}

thread_local! {
    /// Set while this thread runs the Parquet decoder under [`guarded`].
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a call into the parquet crate) catching its panics as a bad-input error naming
/// `path`. The parquet crate asserts on some damaged pages and metadata instead of returning
/// an error; a damaged file must not take the process down. The panic hook in place is kept
/// for every other panic: the first call wraps it so that it stays silent only for a panic
/// raised while this thread is inside `guarded`.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !DECODING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = DECODING.with(|d| d.replace(true));
    let r = std::panic::catch_unwind(AssertUnwindSafe(f));
    DECODING.with(|d| d.set(was));
    r.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::table(
            path,
            format!("not a readable Parquet file: the decoder failed on damaged data ({what})"),
        ))
    })
}

impl Table {
    /// Opens a Parquet file, or a directory of part files, reading every part's metadata (in
    /// parallel). `arrow_schema`: whether to take the Arrow schema a writer stored in the file
    /// (dictionary or large-string types) rather than the one the Parquet types imply.
    pub(crate) fn open(path: &Path, arrow_schema: bool) -> Result<Table> {
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(!arrow_schema);
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let files = if meta.is_dir() {
            let files = list_parts(path)?;
            if files.is_empty() {
                return Err(Error::Empty {
                    path: path.into(),
                    message: "the directory holds no Parquet part files (names starting with \
                              `_` or `.` are skipped)"
                        .into(),
                });
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        let parts = files
            .into_par_iter()
            .map(|f| Part::open(Source::File(f.clone()), f, &options))
            .collect::<Result<Vec<Part>>>()?;
        Ok(Table { path: path.into(), parts })
    }

    /// A table of one Parquet file held in memory; `name` is used in messages.
    pub(crate) fn from_bytes(bytes: Bytes, name: &Path, arrow_schema: bool) -> Result<Table> {
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(!arrow_schema);
        if !looks_like_parquet(&bytes) {
            return Err(Error::table(name, TRUNCATED));
        }
        let part = Part::open(Source::Bytes(bytes), name.into(), &options)?;
        Ok(Table { path: name.into(), parts: vec![part] })
    }

    /// The first part's schema (every part is checked against it by its readers).
    pub(crate) fn schema(&self) -> Option<&SchemaRef> {
        self.parts.first().map(Part::schema)
    }
}
