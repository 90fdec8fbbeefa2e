//! Parsing the lines of one chunk: the three routes a line takes (fast, common, general) and
//! the checks and writes of one interaction.

use super::fields::{FieldIter, decode, odd_edge};
use super::lines::has_lone_cr;
use super::local_ids::{DIRECT_LIMIT, LocalIds};
use super::number::{parse_f32, parse_time};
use super::parse::Out;
use super::scan::{FastLine, FastSpec, fast_line};
use super::{Delimiter, SKIP_EXAMPLES};

/// What a line must look like and where its fields are (from [`Layout`]).
///
/// [`Layout`]: super::sniff::Layout
pub(super) struct LineSpec {
    pub(super) delimiter: Delimiter,
    pub(super) user_col: usize,
    pub(super) item_col: usize,
    pub(super) rating_col: Option<usize>,
    pub(super) time_col: Option<usize>,
    /// The time column was detected, not named (its errors say so).
    pub(super) time_detected: bool,
    /// The fields of the header, or of the first line: a line has at least
    /// `min_fields` (the header's or first line's trailing empty fields may be absent), and
    /// any beyond `nfields` must be empty (trailing delimiters).
    pub(super) nfields: usize,
    pub(super) min_fields: usize,
    /// What the layout's field count is, for messages (`the header has 4 (…)`).
    pub(super) expected: String,
    /// Each column as messages name it (see `column_label`).
    pub(super) rating_name: Option<String>,
    pub(super) user_name: String,
    pub(super) item_name: String,
    pub(super) time_name: Option<String>,
    pub(super) skip_invalid: bool,
    /// Use [`fast_line`] where it applies (tests turn it off to compare).
    pub(super) scan: bool,
}

/// What one chunk parsed, besides what it wrote to its [`Out`] region: the first `n` slots,
/// with chunk-local user and item indices.
#[derive(Default)]
pub(super) struct ChunkResult {
    pub(super) users: LocalIds,
    pub(super) items: LocalIds,
    pub(super) n: usize,
    pub(super) skipped: u64,
    pub(super) skip_examples: Vec<(u64, String)>,
    pub(super) error: Option<(u64, Option<String>, String)>,
    /// The chunk stopped at a lone `\r`: the file must be read again with its line ends
    /// normalised (see [`super::lines`]).
    pub(super) lone_cr: bool,
}

/// How many fields a line has, and whether any of those beyond the layout's are non-empty.
#[derive(Clone, Copy)]
pub(super) struct Shape {
    pub(super) nfields: usize,
    pub(super) extra: bool,
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
///
/// Every route counts all the fields of a line (see [`LineSpec::nfields`]). A lone `\r` (see
/// [`super::lines`]) is noticed per block, not per byte: the block's `\r`s are counted in one
/// vectorised pass, each line whose end is a `\r\n` (or a last `\r`) accounts for one, and
/// any left over is a lone one (when a line stops the chunk, the block up to it is searched).
pub(super) struct ChunkParser<'s> {
    spec: &'s LineSpec,
    fast: Option<FastSpec>,
    body_utf8: bool,
    max_col: usize,
    /// Number of the next line.
    line_no: u64,
    /// `\n` seen so far.
    pub(super) newlines: u64,
    pub(super) res: ChunkResult,
    bufs: [String; 4],
}

impl<'s> ChunkParser<'s> {
    pub(super) fn new(spec: &'s LineSpec, body_utf8: bool, line0: u64) -> Self {
        let max_col = [Some(spec.user_col), Some(spec.item_col), spec.rating_col, spec.time_col]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
        ChunkParser {
            spec,
            fast: FastSpec::new(spec, max_col),
            body_utf8,
            max_col,
            line_no: line0,
            newlines: 0,
            res: ChunkResult::default(),
            bufs: Default::default(),
        }
    }

    /// Parses a block of whole lines (ending with `\n`, or at the end of the chunk);
    /// `text` is the block when it is UTF-8. Returns false once the chunk stopped on an
    /// error or a lone `\r` (the rest of it does not matter).
    pub(super) fn feed(&mut self, block: &[u8], text: Option<&str>, out: &mut Out<'_>) -> bool {
        let spec = self.spec;
        let max_col = self.max_col;
        let fast = text.zip(self.fast.as_ref());
        // Whether fields must be checked for edges that only Unicode trimming removes.
        let check_odd =
            !self.body_utf8 && (!block.is_ascii() || memchr::memchr(0x0B, block).is_some());
        // With a one-byte delimiter, a line with a `"` is read by the general route; this is
        // the position of the next `"` (one search per quote, not per line).
        let quotes_matter = matches!(spec.delimiter, Delimiter::Byte(_));
        let mut next_quote =
            if quotes_matter { memchr::memchr(b'"', block) } else { None }.unwrap_or(usize::MAX);
        // `\r`s in the block, and those that end a line (see the type's documentation).
        let crs = memchr::memchr_iter(b'\r', block).count();
        let mut line_crs = 0usize;
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
                        if crs > 0 {
                            line_crs +=
                                usize::from(block.get(line.end.wrapping_sub(1)) == Some(&b'\r'));
                        }
                        let res = &mut self.res;
                        if res.record_digits(out, spec, this_line, &line, text.as_bytes()) {
                            continue;
                        }
                        // `fast_line` takes only lines with the layout's fields.
                        let shape = Shape { nfields: spec.nfields, extra: false };
                        let fields = fields();
                        if res
                            .record(out, spec, this_line, shape, max_col, fields, line.digits)
                            .is_err()
                        {
                            let upto = block.get(..=line.end).unwrap_or(block);
                            self.res.lone_cr = crs > 0 && has_lone_cr(upto);
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
            if crs > 0 && end > line_start {
                line_crs += usize::from(block.get(end - 1) == Some(&b'\r'));
            }
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
            let nfields = spec.nfields;
            let common = if quoted {
                None
            } else {
                let line = match text {
                    Some(all) => all.get(line_start..line_start + raw.len()),
                    None => std::str::from_utf8(raw).ok(),
                };
                line.map(|line| {
                    strs.clear();
                    let mut extra = false;
                    let mut it = FieldIter::new(line, spec.delimiter);
                    while let Some(std::borrow::Cow::Borrowed(f)) = it.next_field() {
                        if strs.len() >= nfields {
                            extra |= !f.trim_ascii().is_empty();
                        }
                        strs.push(f);
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
                    (Shape { nfields: strs.len(), extra }, fields)
                })
            };
            // See the type's documentation: only when the body is UTF-8 does ASCII trimming
            // stand for a field that may end in other whitespace.
            let common = common.filter(|(_, fields)| {
                !(check_odd && fields.iter().any(|f| odd_edge(f.as_bytes())))
            });
            let general;
            let (shape, fields) = match common {
                Some(c) => c,
                None => {
                    let decoded = decode(raw);
                    let mut n = 0usize;
                    let mut extra = false;
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
                        if n >= nfields {
                            extra |= !f.is_empty();
                        }
                        n += 1;
                    }
                    general = [ubuf.as_str(), ibuf.as_str(), vbuf.as_str(), tbuf.as_str()];
                    (Shape { nfields: n, extra }, general)
                }
            };
            let res = &mut self.res;
            if res.record(out, spec, this_line, shape, max_col, fields, [None; 4]).is_err() {
                let upto = block.get(..=end).unwrap_or(block);
                self.res.lone_cr = crs > 0 && has_lone_cr(upto);
                return false;
            }
        }
        // Any `\r` that does not end a line is a lone one: the whole file is read again.
        self.res.lone_cr = crs != line_crs;
        !self.res.lone_cr
    }
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
        shape: Shape,
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
        let nfields = shape.nfields;
        // Checked before the columns: a line with a field missing or extra has the wrong
        // values in them, and must not be read as if it had not.
        if nfields < spec.min_fields || (nfields > spec.nfields && shape.extra) {
            let msg = format!(
                "has {nfields} field(s) when split on {}, but {}: a field is missing or extra",
                spec.delimiter.name(),
                spec.expected,
            );
            return fail(None, msg, self);
        }
        if nfields <= max_col {
            let msg = format!(
                "has {} field(s) when split on {}, but column {} is needed; check the delimiter and the columns",
                nfields,
                spec.delimiter.name(),
                max_col + 1
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
        if spec.time_col.is_some() {
            let parsed = match digits[3] {
                Some(v) => Some(v as i64), // at most 18 digits: as `parse_time` reads them
                None => parse_time(time),
            };
            match parsed {
                Some(v) => t = v,
                None => {
                    // A detected column may be something else that looked like a time on the
                    // first line: say how to read the file without it.
                    let hint = if spec.time_detected {
                        "; the time column was detected (the first line has a number there), not named: name the time column, or read without times"
                    } else {
                        ""
                    };
                    let msg = format!("timestamp {time:?} is not a number{hint}");
                    return fail(spec.time_name.clone(), msg, self);
                }
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
