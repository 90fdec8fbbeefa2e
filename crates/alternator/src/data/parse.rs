//! Parsing a whole body in parallel chunks: chunk boundaries and line counts, each chunk's
//! region of the output arrays, and the merge of the chunk-local ids in file order.

use std::path::Path;

use rayon::prelude::*;

use super::chunk::{ChunkParser, ChunkResult};
use super::lines::{has_lone_cr, lone_cr_in_sniffed_lines, normalise_cr};
use super::local_ids::global_index;
use super::sniff::Layout;
use super::{Interactions, ReadOptions, SkipReport};
use crate::error::{Error, Result};
use crate::ids::IdMap;

/// [`parse_interactions`]; `scan` enables [`fast_line`] (tests turn it off to compare).
///
/// A file with a lone `\r` (see [`super::lines`]) is read with its line ends normalised:
/// from the start when the lines the sniffer reads have one, or after the parser found one
/// in the body.
///
/// [`parse_interactions`]: super::parse_interactions
/// [`fast_line`]: super::scan::fast_line
pub(super) fn parse_with(
    bytes: &[u8],
    path: &Path,
    opts: &ReadOptions,
    scan: bool,
) -> Result<Interactions> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    if !lone_cr_in_sniffed_lines(bytes) {
        if let Some(data) = parse_lf(bytes, path, opts, scan)? {
            return Ok(data);
        }
        if !has_lone_cr(bytes) {
            return Err(internal(path));
        }
    }
    parse_lf(&normalise_cr(bytes), path, opts, scan)?.ok_or_else(|| internal(path))
}

fn internal(path: &Path) -> Error {
    Error::Internal(format!("{}: could not read the file in chunks", path.display()))
}

/// Parses a body whose lines end in `\n` (or `\r\n`); `None` when a chunk meets a lone `\r`.
fn parse_lf(
    bytes: &[u8],
    path: &Path,
    opts: &ReadOptions,
    scan: bool,
) -> Result<Option<Interactions>> {
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
    assemble(&layout, path, opts, &counts, &|k, parser, out| {
        if let Some(&(c, text, _)) = chunks.get(k) {
            parser.feed(c, text, out);
        }
        true
    })
}

/// The UTF-8 byte order mark, skipped at the start of a file.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Chunks for a body of `len` bytes: about four per thread for balance, but not tiny ones
/// (each chunk has its own id tables, which the merge walks).
pub(super) fn chunk_target(len: usize) -> usize {
    (len / (4 * rayon::current_num_threads().max(1))).max(MIN_CHUNK)
}

/// Chunks are at least this long (the last one excepted), so that small files still use
/// two threads but the per-chunk costs (id tables, merge) stay small.
pub(super) const MIN_CHUNK: usize = 256 << 10;

/// Line counts of one chunk of the body, from a quick first pass.
#[derive(Clone, Copy, Default)]
pub(super) struct ChunkCount {
    /// Number of `\n`.
    pub(super) newlines: u64,
    /// Lines that could hold an interaction: the `\n`-terminated ones and a last one
    /// without `\n`.
    pub(super) slots: usize,
    /// Whether the chunk is UTF-8.
    pub(super) utf8: bool,
}

impl ChunkCount {
    pub(super) fn of(bytes: &[u8], utf8: bool) -> ChunkCount {
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
/// which writes to `out`, and returns false if the chunk could not be read. Either that or
/// a lone `\r` in any chunk makes the whole result `None`: the caller reads the file again
/// another way (a lone `\r` changes the numbering of every line after it, errors included).
#[allow(clippy::type_complexity)]
pub(super) fn assemble(
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
                (read && whole && !parser.res.lone_cr).then_some(parser.res)
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
    if opts.binary || layout.rating_col.is_none() {
        values.iter_mut().for_each(|v| *v = 1.0);
    }
    let mut skipped = SkipReport::default();
    for c in &chunks {
        skipped.add(c.skipped, &c.skip_examples);
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
        times: with_times.then_some(times),
        lines: opts.keep_lines.then_some(lines),
        header: layout.header.clone(),
        delimiter: Some(layout.delimiter),
        skipped,
        format: super::InputFormat::Text,
    }))
}

/// A chunk's region of the output arrays: one slot per line (`times` and `lines` are empty
/// when not collected).
pub(super) struct Out<'a> {
    pub(super) users: &'a mut [u32],
    pub(super) items: &'a mut [u32],
    pub(super) values: &'a mut [f32],
    pub(super) times: &'a mut [i64],
    pub(super) lines: &'a mut [u64],
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
