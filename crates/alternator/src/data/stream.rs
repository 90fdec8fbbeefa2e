//! Reading a file in streamed blocks (Unix: positioned reads, so threads share the file):
//! one pass counts the lines of each chunk, a second parses them. The file is never held
//! whole in memory, which spares the first touch of a buffer as large as the file (page
//! faults are a large part of reading on some virtual machines) and lets files larger than
//! memory be read.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;

use super::lines::lone_cr_in_sniffed_lines;
use super::parse::{BOM, ChunkCount, MIN_CHUNK, assemble, chunk_target};
use super::sniff::Layout;
use super::{Interactions, ReadOptions};
use crate::error::Result;

/// Size of a read; a block grows when a single line is longer.
const BLOCK: usize = 128 << 10;

/// How much of the start of the file the first lines are looked for in.
const PREFIX: usize = 64 << 10;

/// `Ok(None)` when the file is better read whole: not a regular file, small, odd first
/// lines, a lone `\r` (the whole read normalises line ends), or anything unexpected while
/// reading (the caller then reads it again whole,
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
    if lone_cr_in_sniffed_lines(&prefix[bom..]) {
        return Ok(None); // read whole, with its line ends normalised
    }
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
