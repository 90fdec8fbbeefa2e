//! What an input is, from its first bytes (never its name): Parquet (a file, or a directory
//! of part files), gzip- or zstd-compressed text, or plain text; and the dispatch of every
//! read to the reader for it.

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::{Interactions, ReadOptions, parquet};
use crate::error::{Error, Result};
use crate::tables::read::{MAGIC as PARQUET_MAGIC, looks_like_parquet};

/// How an input is stored, as recognised by its content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InputFormat {
    /// Delimited text (CSV, TSV, MovieLens).
    #[default]
    Text,
    /// Delimited text compressed with gzip (magic bytes `1f 8b`).
    Gzip,
    /// Delimited text compressed with Zstandard (magic bytes `28 b5 2f fd`).
    Zstd,
    /// A Parquet file (magic `PAR1`), or a directory of Parquet part files.
    Parquet,
}

const GZIP_MAGIC: &[u8] = b"\x1f\x8b";
const ZSTD_MAGIC: &[u8] = b"\x28\xb5\x2f\xfd";

impl InputFormat {
    /// The format of content starting with `head` (four bytes are enough).
    pub fn sniff(head: &[u8]) -> InputFormat {
        if head.starts_with(PARQUET_MAGIC) {
            InputFormat::Parquet
        } else if head.starts_with(GZIP_MAGIC) {
            InputFormat::Gzip
        } else if head.starts_with(ZSTD_MAGIC) {
            InputFormat::Zstd
        } else {
            InputFormat::Text
        }
    }

    /// The format of a file (its first bytes) or a directory (Parquet part files).
    pub fn of_path(path: &Path) -> Result<InputFormat> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Ok(InputFormat::Parquet);
        }
        let mut head = [0u8; 4];
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(path, e)),
            }
        }
        let format = InputFormat::sniff(&head[..n]);
        if format == InputFormat::Parquet {
            // A Parquet file also ends with the magic; a text file starting `PAR1` does not.
            use std::io::{Seek, SeekFrom};
            let mut tail = [0u8; 4];
            let ends = meta.len() >= 12
                && f.seek(SeekFrom::End(-4)).is_ok()
                && f.read_exact(&mut tail).is_ok()
                && &tail == PARQUET_MAGIC;
            if !ends && !has_binary_head(&mut f) {
                return Ok(InputFormat::Text);
            }
        }
        Ok(format)
    }

    /// True for text, compressed or not.
    pub fn is_text(self) -> bool {
        !matches!(self, InputFormat::Parquet)
    }

    /// A name for messages: `text`, `gzip`, `zstd`, `parquet`.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Text => "text",
            InputFormat::Gzip => "gzip",
            InputFormat::Zstd => "zstd",
            InputFormat::Parquet => "parquet",
        }
    }
}

/// Bytes a text file never holds within its first 4 KiB: a NUL. A file that starts with the
/// Parquet magic, lacks the closing one and holds a NUL is a truncated Parquet file, not text
/// whose first field happens to start with `PAR1`.
fn has_binary_head(f: &mut std::fs::File) -> bool {
    use std::io::{Seek, SeekFrom};
    let mut head = Vec::with_capacity(4096);
    f.seek(SeekFrom::Start(0)).is_ok()
        && f.take(4096).read_to_end(&mut head).is_ok()
        && memchr::memchr(0, &head).is_some()
}

/// Decompresses gzip (every member, as `gzip -d` does) or zstd (every frame) content; text is
/// returned as it is. `name` is used in messages.
pub fn decompress(bytes: Vec<u8>, name: &Path) -> Result<Vec<u8>> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        Error::Invalid(format!("{}: not valid {what} data: {e}", name.display()))
    };
    match InputFormat::sniff(&bytes) {
        InputFormat::Gzip => {
            let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .map_err(|e| bad("gzip", &e))?;
            Ok(out)
        }
        InputFormat::Zstd => {
            let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let mut frame = ruzstd::decoding::StreamingDecoder::new(&mut rest)
                    .map_err(|e| bad("zstd", &e))?;
                frame.read_to_end(&mut out).map_err(|e| bad("zstd", &e))?;
            }
            Ok(out)
        }
        _ => Ok(bytes),
    }
}

/// The text of a file, decompressed when it is gzip or zstd: for tools that copy an input's
/// lines (`predict`, `split`). A Parquet input is an error.
pub fn read_text(path: &Path) -> Result<Vec<u8>> {
    if !InputFormat::of_path(path)?.is_text() {
        return Err(Error::Invalid(format!("{}: is Parquet, not text", path.display())));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decompress(bytes, path)
}

/// Reads a file that is not plain text (Parquet, a directory of Parquet parts, compressed
/// text); `None` for plain text, which the text reader streams itself.
pub(super) fn read_other(path: &Path, opts: &ReadOptions) -> Result<Option<Interactions>> {
    let format = match InputFormat::of_path(path) {
        Ok(f) => f,
        // Let the text reader report a missing file as it always has.
        Err(_) => return Ok(None),
    };
    Ok(match format {
        InputFormat::Text => None,
        InputFormat::Parquet => Some(parquet::read_path(path, opts)?),
        InputFormat::Gzip | InputFormat::Zstd => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let text = decompress(bytes, path)?;
            let mut data = super::parse_interactions(&text, path, opts)?;
            data.format = format;
            Some(data)
        }
    })
}

/// Reads content held in memory, whatever its format; `name` is used in messages.
pub(super) fn read_bytes(bytes: Vec<u8>, name: &Path, opts: &ReadOptions) -> Result<Interactions> {
    let format = InputFormat::sniff(&bytes);
    match format {
        InputFormat::Parquet
            if looks_like_parquet(&bytes)
                || memchr::memchr(0, bytes.get(..4096).unwrap_or(&bytes)).is_some() =>
        {
            parquet::read_bytes(bytes, name, opts)
        }
        InputFormat::Gzip | InputFormat::Zstd => {
            let text = decompress(bytes, name)?;
            let mut data = super::parse_interactions(&text, name, opts)?;
            data.format = format;
            Ok(data)
        }
        _ => super::parse_interactions(&bytes, name, opts),
    }
}
