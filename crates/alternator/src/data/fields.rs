//! Splitting a line into fields: the delimiters, RFC 4180 quoting, Latin-1 decoding, and the
//! field edges that only Unicode trimming removes.

use super::Delimiter;

pub(super) fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// UTF-8, or Latin-1 (one char per byte, lossless) when the bytes are not valid UTF-8.
pub(super) fn decode(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(b.iter().map(|&c| c as char).collect()),
    }
}

/// Splits a line into fields (quoted CSV fields are unquoted).
pub(crate) fn split_fields(line: &str, d: Delimiter) -> Vec<std::borrow::Cow<'_, str>> {
    let mut out = Vec::new();
    let mut fields = FieldIter::new(line, d);
    while let Some(f) = fields.next_field() {
        out.push(f);
    }
    out
}

pub(super) struct FieldIter<'a> {
    rest: Option<&'a str>,
    d: Delimiter,
}

impl<'a> FieldIter<'a> {
    pub(super) fn new(line: &'a str, d: Delimiter) -> Self {
        let line = if d == Delimiter::Whitespace { line.trim_matches([' ', '\t']) } else { line };
        FieldIter { rest: Some(line), d }
    }

    pub(super) fn next_field(&mut self) -> Option<std::borrow::Cow<'a, str>> {
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

/// Whether `trim` could remove more than `trim_ascii` from this (ASCII-trimmed) field: it
/// starts or ends with a vertical tab or a non-ASCII byte.
pub(super) fn odd_edge(f: &[u8]) -> bool {
    let odd = |b: &u8| *b == 0x0B || *b >= 0x80;
    f.first().is_some_and(odd) || f.last().is_some_and(odd)
}
