//! Reading the first lines of a file: the delimiter, whether there is a header, which column
//! holds what, and where the body starts.

use std::path::Path;

use super::chunk::LineSpec;
use super::fields::{decode, split_fields, trim_cr};
use super::number::parse_time;
use super::{Column, Delimiter, ReadOptions};
use crate::error::{Error, Result};

/// What the first lines of a file say: delimiter, header, columns, and where the body
/// (the interactions) starts.
pub(super) struct Layout {
    pub(super) spec: LineSpec,
    pub(super) header: Option<Vec<String>>,
    pub(super) delimiter: Delimiter,
    pub(super) rating_col: Option<usize>,
    pub(super) time_col: Option<usize>,
    /// Offset of the body in the bytes given to [`Layout::detect`].
    pub(super) body_start: usize,
    /// 1-based number of the body's first line.
    pub(super) body_line0: u64,
}

impl Layout {
    /// Reads the first lines of `bytes` (after any byte order mark). With `complete` false,
    /// `bytes` is only the start of the file, and `Ok(None)` says that it does not hold the
    /// lines needed.
    pub(super) fn detect(
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
        if let Some(Delimiter::Byte(b'\n' | b'\r' | b'"')) = opts.delimiter {
            return Err(Error::param("delimiter", "a line end or a quote cannot separate fields"));
        }
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

        // The first data line: the first line itself, or the first non-blank line after the
        // header (`None` when the file has no data lines).
        let data_fields: Option<Vec<String>> = if has_header {
            let mut start = first_end + 1;
            loop {
                if start >= bytes.len() {
                    if !complete {
                        return Ok(None);
                    }
                    break None;
                }
                let Some(end) = line_end(start) else { return Ok(None) };
                let line = trim_cr(bytes.get(start..end).unwrap_or_default());
                if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    let line = decode(line);
                    let fields = split_fields(&line, delimiter);
                    break Some(fields.iter().map(|f| f.trim().to_string()).collect());
                }
                start = end + 1;
            }
        } else {
            Some(first_fields.iter().map(|f| f.trim().to_string()).collect())
        };

        let resolve = |c: &Column, flag: &'static str| -> Result<usize> {
            match c {
                Column::Index(i) => Ok(*i),
                Column::Name(n) => {
                    let Some(h) = &header else {
                        return Err(Error::param(
                            flag,
                            format!(
                                "column {n:?} is named, but the file has no header line; give a 0-based position or say the file has a header"
                            ),
                        ));
                    };
                    h.iter().position(|x| x == n).ok_or_else(|| Error::Parse {
                        path: path.into(),
                        line: first_line_no,
                        column: None,
                        message: format!(
                            "no column named {n:?} in the header (columns: {})",
                            h.join(", ")
                        ),
                    })
                }
            }
        };
        let user_col = resolve(&opts.user_col, "user_col")?;
        let item_col = resolve(&opts.item_col, "item_col")?;
        let rating_col = opts.rating_col.as_ref().map(|c| resolve(c, "rating_col")).transpose()?;
        if user_col == item_col {
            return Err(Error::param("item_col", "the user and item columns must differ"));
        }
        let (time_col, time_detected) = match &opts.time_col {
            Some(c) => (Some(resolve(c, "time_col")?), false),
            None if opts.ignore_times => (None, false),
            None => {
                // A column named like a time, else the fourth; used only when the first data
                // line holds a time there, so that a fourth column of something else (a date,
                // a comment) is not taken for times. Once used, every line must hold one.
                let by_name = header.as_ref().and_then(|h| {
                    ["timestamp", "time", "ts"]
                        .iter()
                        .find_map(|name| h.iter().position(|x| x.eq_ignore_ascii_case(name)))
                });
                let guess = by_name.unwrap_or(3);
                let used = [Some(user_col), Some(item_col), rating_col];
                let holds_time = data_fields
                    .as_ref()
                    .and_then(|f| f.get(guess))
                    .is_some_and(|f| parse_time(f).is_some());
                let present = holds_time && !used.contains(&Some(guess));
                (present.then_some(guess), present)
            }
        };

        // Every line must have the fields of the header (or of the first line): a line with
        // one missing or extra would put another column's values in a used one. Trailing
        // empty fields (a trailing delimiter) cannot move a column and are not counted
        // against a line; see `LineSpec::nfields`.
        let (reference, reference_fields) = match &header {
            Some(h) => ("the header has".to_string(), h.clone()),
            None => (format!("line {first_line_no} has"), data_fields.clone().unwrap_or_default()),
        };
        let nfields = reference_fields.len();
        let min_fields =
            nfields - reference_fields.iter().rev().take_while(|f| f.is_empty()).count();
        let shown = if nfields > min_fields {
            format!("{min_fields} to {nfields}")
        } else {
            nfields.to_string()
        };
        let names = match &header {
            Some(h) if h.len() <= 10 => format!(" ({})", h.join(", ")),
            Some(h) => {
                let first: Vec<&str> = h.iter().take(8).map(String::as_str).collect();
                format!(" ({}, …)", first.join(", "))
            }
            None => String::new(),
        };
        let expected = format!("{reference} {shown}{names}");

        let body_start = if has_header { (first_end + 1).min(bytes.len()) } else { first_start };
        let body_line0 = if has_header { first_line_no + 1 } else { first_line_no };
        let label = |pos: usize| column_label(pos, &header);
        let spec = LineSpec {
            delimiter,
            user_col,
            item_col,
            rating_col,
            time_col,
            time_detected,
            nfields,
            min_fields,
            expected,
            rating_name: rating_col.map(label),
            user_name: label(user_col),
            item_name: label(item_col),
            time_name: time_col.map(label),
            skip_invalid: opts.skip_invalid,
            scan,
        };
        Ok(Some(Layout { spec, header, delimiter, rating_col, time_col, body_start, body_line0 }))
    }
}

/// A column as messages name it: its 1-based number, as a person counts, with the header's
/// name when there is one (`3 (rating)`).
fn column_label(pos: usize, header: &Option<Vec<String>>) -> String {
    match header.as_ref().and_then(|h| h.get(pos)) {
        Some(name) if !name.is_empty() => format!("{} ({name})", pos + 1),
        _ => (pos + 1).to_string(),
    }
}

/// Picks the separator of a first line: `::`, tab, comma, semicolon, pipe, else whitespace.
pub(crate) fn detect_delimiter(first: &str) -> Delimiter {
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
