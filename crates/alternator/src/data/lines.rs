//! Line ends: `\n`, `\r\n` and a lone `\r` (old Mac files) all end a line.
//!
//! The parser splits on `\n` only, which keeps the common path a plain `memchr`; a lone `\r`
//! is noticed where the parser looks at a line's bytes anyway (see [`ChunkParser`]), and the
//! file is then read again with its lone `\r`s turned into `\n` ([`normalise_cr`]). Such files
//! are rare, so the copy costs nothing where it matters.
//!
//! [`ChunkParser`]: super::chunk::ChunkParser

/// Whether `bytes` has a lone `\r`: one followed by a byte other than `\n`. A `\r` at the
/// very end is not counted: it ends the last line either way.
pub(super) fn has_lone_cr(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', bytes).any(|p| bytes.get(p + 1).is_some_and(|&b| b != b'\n'))
}

/// Whether the lines the sniffer reads have a lone `\r`: those up to the second non-blank
/// one (split on `\n`), which tell the header, the layout and the time column. The parser
/// would notice a lone `\r` in them too late (a header taken for data, or data for a header,
/// may fail on a line before it), so this is asked first; a file with only lone `\r`s is one
/// long line and is caught here. After them, the parser notices a lone `\r` itself.
pub(super) fn lone_cr_in_sniffed_lines(bytes: &[u8]) -> bool {
    let mut start = 0usize;
    let mut non_blank = 0;
    while let Some(rest) = bytes.get(start..).filter(|r| !r.is_empty()) {
        let line = memchr::memchr(b'\n', rest).map_or(rest, |p| rest.get(..p).unwrap_or(rest));
        if has_lone_cr(line) {
            return true;
        }
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            non_blank += 1;
            if non_blank == 2 {
                return false;
            }
        }
        start += line.len() + 1;
    }
    false
}

/// `bytes` with every lone `\r` (and a final `\r`) turned into `\n`; `\r\n` is kept.
pub(super) fn normalise_cr(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for p in memchr::memchr_iter(b'\r', bytes) {
        if bytes.get(p + 1) != Some(&b'\n') {
            if let Some(b) = out.get_mut(p) {
                *b = b'\n';
            }
        }
    }
    out
}

/// The lines of a file as the reader numbers them: ended by `\n`, `\r\n` or a lone `\r`.
/// Each item is `(text, end)`: the line without its end, and the end itself (`b"\n"`,
/// `b"\r\n"`, `b"\r"`, or empty for a last line without one). The `k`-th item (from 0) is
/// line `k + 1` of [`Interactions::lines`](super::Interactions::lines), so tools that copy
/// lines of an interaction file (splits, predictions) find the same ones.
///
/// ```
/// let lines: Vec<_> = alternator::data::lines(b"a\r\nb\rc\nd").collect();
/// assert_eq!(
///     lines,
///     [(&b"a"[..], &b"\r\n"[..]), (b"b", b"\r"), (b"c", b"\n"), (b"d", b"")]
/// );
/// ```
pub fn lines(bytes: &[u8]) -> Lines<'_> {
    Lines { rest: bytes }
}

/// The iterator of [`lines`].
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let (text, end_len) = match memchr::memchr2(b'\n', b'\r', rest) {
            None => (rest, 0),
            Some(p) => match (rest.get(p), rest.get(p + 1)) {
                (Some(b'\r'), Some(b'\n')) => (rest.get(..p).unwrap_or_default(), 2),
                _ => (rest.get(..p).unwrap_or_default(), 1),
            },
        };
        let end = rest.get(text.len()..text.len() + end_len).unwrap_or_default();
        self.rest = rest.get(text.len() + end_len..).unwrap_or_default();
        Some((text, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends() {
        assert!(!has_lone_cr(b"a\r\nb\n\r"));
        assert!(has_lone_cr(b"a\rb"));
        assert!(has_lone_cr(b"a\r\r\n"));
        assert!(lone_cr_in_sniffed_lines(b"1\r2\r3"));
        assert!(lone_cr_in_sniffed_lines(b"1\n2\r3\n4"));
        assert!(!lone_cr_in_sniffed_lines(b"1\r\n\n2\r\n3\r4"));
        assert!(lone_cr_in_sniffed_lines(b"\n\r\n\r0\n0"));
        assert!(!lone_cr_in_sniffed_lines(b"\n\r\n \r\n0\r\n1\n2\r3"));
        assert_eq!(normalise_cr(b"a\rb\r\nc\r\r\nd\r"), b"a\nb\r\nc\n\r\nd\n");
        let all: Vec<_> = lines(b"\n\r\r\nx").collect();
        assert_eq!(all, [(&b""[..], &b"\n"[..]), (b"", b"\r"), (b"", b"\r\n"), (b"x", b"")]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"a\r").collect::<Vec<_>>(), [(&b"a"[..], &b"\r"[..])]);
    }
}
