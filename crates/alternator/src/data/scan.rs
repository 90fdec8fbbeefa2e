//! The fast route for the usual line: one pass over its bytes finds the needed fields and
//! reads the all-digit ones.

use super::Delimiter;
use super::chunk::LineSpec;
use super::number::{POW10_U64, swar_digit_count, swar_digits};

/// The field separators [`fast_line`] reads: the same splits as [`FieldIter`] on a line
/// without quotes.
///
/// [`FieldIter`]: super::fields::FieldIter
#[derive(Clone, Copy)]
enum Sep {
    Byte(u8),
    DoubleColon,
}

/// What [`fast_line`] needs: the separator, the role of each column up to the last needed
/// one (0 user, 1 item, 2 value, 3 time, [`SKIP`] unused), and how many of the layout's
/// columns follow it.
#[derive(Clone)]
pub(super) struct FastSpec {
    sep: Sep,
    roles: Vec<usize>,
    trailing: usize,
}

/// A column [`fast_line`] passes over.
const SKIP: usize = 4;

impl FastSpec {
    /// `None` when the fast route does not apply: other delimiters, a delimiter that could
    /// be part of a number or a line end, a column with two roles, or a needed column
    /// beyond the layout's (every line is then an error, which the other routes report).
    pub(super) fn new(spec: &LineSpec, last_needed: usize) -> Option<FastSpec> {
        let sep = match spec.delimiter {
            Delimiter::Byte(d) if !(d.is_ascii_digit() || matches!(d, b'\n' | b'\r' | b'"')) => {
                Sep::Byte(d)
            }
            Delimiter::DoubleColon => Sep::DoubleColon,
            _ => return None,
        };
        if !spec.scan || last_needed >= spec.nfields {
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
        Some(FastSpec { sep, roles, trailing: spec.nfields - 1 - last_needed })
    }
}

/// The fast route: one pass over the line starting at `bytes[start]` in a UTF-8 chunk.
///
/// Returns the position of the line's `\n` (or the chunk's end), the byte ranges of the
/// needed fields, and the value of those that are 1 to 18 ASCII digits. `None` — the
/// line goes to the other routes — when the line starts with whitespace (it may be blank)
/// or has other than the layout's number of fields. Fields are split as [`FieldIter`]
/// splits a line without quotes (the caller checks for quotes): the line's last field may
/// keep a trailing `\r`, which the trim removes anyway. A lone `\r` is not looked for here
/// (see [`ChunkParser`]).
///
/// [`ChunkParser`]: super::chunk::ChunkParser
/// [`FieldIter`]: super::fields::FieldIter
#[inline(always)]
pub(super) fn fast_line(bytes: &[u8], start: usize, spec: &FastSpec) -> Option<FastLine> {
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
            line.end = if line_ends { p } else { trailing_fields(bytes, p, spec, sep_len)? };
            // The line has the layout's fields, no more, no fewer.
            return (line_ends == (spec.trailing == 0)).then_some(line);
        }
        if line_ends {
            return None;
        }
        p += sep_len;
    }
    None
}

/// The columns after the last needed one, from the separator at `p`: the position of the
/// line's `\n` (or the chunk's end) when there are exactly `spec.trailing` of them, else
/// `None`. The usual case — a file read without its time column (training) — is one column
/// of digits and the line's end: its digits are skipped eight at a time, inline; anything
/// else goes to [`trailing_general`].
#[inline(always)]
fn trailing_fields(bytes: &[u8], p: usize, spec: &FastSpec, sep_len: usize) -> Option<usize> {
    if spec.trailing == 1 {
        let mut q = p + sep_len;
        while let Some(word) = bytes.get(q..q + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let n = swar_digit_count(u64::from_le_bytes(w));
            q += n;
            if n < 8 {
                break;
            }
        }
        match bytes.get(q) {
            None | Some(b'\n') => return Some(q),
            Some(b'\r') if bytes.get(q + 1) == Some(&b'\n') => return Some(q + 1),
            _ => {}
        }
    }
    trailing_general(bytes, p, spec, sep_len)
}

/// [`trailing_fields`] for any columns: each one's leading digits skipped eight at a time,
/// then its other bytes one by one.
#[inline(never)]
fn trailing_general(bytes: &[u8], mut p: usize, spec: &FastSpec, sep_len: usize) -> Option<usize> {
    let is_sep = |p: usize| match spec.sep {
        Sep::Byte(d) => bytes.get(p) == Some(&d),
        Sep::DoubleColon => bytes.get(p) == Some(&b':') && bytes.get(p + 1) == Some(&b':'),
    };
    for k in 1..=spec.trailing {
        p += sep_len;
        while let Some(word) = bytes.get(p..p + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let n = swar_digit_count(u64::from_le_bytes(w));
            p += n;
            if n < 8 {
                break;
            }
        }
        while let Some(&b) = bytes.get(p) {
            if b == b'\n' || is_sep(p) {
                break;
            }
            p += 1;
        }
        // At the line's end (or the chunk's) after the last column, at a separator before.
        if (k == spec.trailing) == is_sep(p) {
            return None;
        }
    }
    Some(p)
}

/// A line read by [`fast_line`].
pub(super) struct FastLine {
    /// Position of the line's `\n` (or the chunk's end).
    pub(super) end: usize,
    /// Byte ranges of the user, item, value and time fields, before trimming (empty for an
    /// absent column).
    pub(super) ranges: [(usize, usize); 4],
    /// The value of each field that is 1 to 18 ASCII digits (its range is just the digits).
    pub(super) digits: [Option<u64>; 4],
}
