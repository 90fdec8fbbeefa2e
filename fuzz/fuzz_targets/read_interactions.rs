//! Bytes into the interaction reader, under a few option combinations chosen by the first
//! byte; a successful read must be self-consistent, and an input without `\r` must read
//! the same (interactions or error) with its `\n`s turned into `\r\n` or `\r`.
#![no_main]

use alternator::{Delimiter, Interactions, ReaderBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (opts, bytes) = data.split_first().map_or((0, data), |(&o, rest)| (o, rest));
    let mut r = ReaderBuilder::new();
    r.skip_invalid(opts & 1 != 0).keep_lines(opts & 2 != 0).ignore_times(opts & 4 != 0);
    match (opts >> 3) & 7 {
        1 => _ = r.delimiter(b'\t'),
        2 => _ = r.delimiter(b','),
        3 => _ = r.delimiter(Delimiter::Whitespace),
        4 => _ = r.delimiter(Delimiter::DoubleColon),
        5 => _ = r.has_header(true),
        6 => _ = r.has_header(false),
        7 => _ = r.no_rating_col(),
        _ => {}
    }
    match opts >> 6 {
        1 => _ = r.time_col(3),
        2 => _ = r.user_col(2).item_col(0).rating_col(1),
        3 => _ = r.rating_col("rating").binary(true),
        _ => {}
    }
    let read = r.from_bytes(bytes, "fuzz.tsv");
    if let Ok(d) = &read {
        // No value column (unless a later option names one), or binary values.
        let all_ones = ((opts >> 3) & 7 == 7 && opts >> 6 != 2) || opts >> 6 == 3;
        check(d, opts & 2 != 0, all_ones);
    }
    if !bytes.contains(&b'\r') {
        let lf = summary(&read);
        for eol in [&b"\r\n"[..], b"\r"] {
            let mut other = Vec::with_capacity(bytes.len() * 2);
            for &b in bytes {
                if b == b'\n' {
                    other.extend_from_slice(eol);
                } else {
                    other.push(b);
                }
            }
            assert_eq!(summary(&r.from_bytes(&other, "fuzz.tsv")), lf, "line ends {eol:?}");
        }
    }
});

/// Everything a read gives (or its error), for comparing two reads.
fn summary(r: &alternator::Result<Interactions>) -> String {
    match r {
        Err(e) => format!("error: {e}"),
        Ok(d) => format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            d.users().ids().collect::<Vec<_>>(),
            d.items().ids().collect::<Vec<_>>(),
            d.user_indices(),
            d.item_indices(),
            d.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            d.times(),
            d.lines(),
            d.header(),
            d.delimiter(),
            d.skipped()
        ),
    }
}

/// What every successful read holds.
fn check(d: &Interactions, keep_lines: bool, all_ones: bool) {
    let n = d.len();
    assert!(n > 0, "a read with no interactions is an error");
    assert_eq!(d.user_indices().len(), n);
    assert_eq!(d.item_indices().len(), n);
    // Ids are numbered in order of first appearance, and every id is used.
    for (idx, ids) in [(d.user_indices(), d.users()), (d.item_indices(), d.items())] {
        let mut next = 0u32;
        for &i in idx {
            assert!(i <= next, "index {i} before {next}");
            next = next.max(i + 1);
        }
        assert_eq!(next as usize, ids.len());
        assert!(ids.ids().all(|id| !id.is_empty() && id.trim_ascii() == id));
    }
    assert!(d.values().iter().all(|v| v.is_finite()));
    if all_ones {
        assert!(d.values().iter().all(|&v| v == 1.0));
    }
    if let Some(t) = d.times() {
        assert_eq!(t.len(), n);
    }
    assert_eq!(d.lines().is_some(), keep_lines);
    if let Some(l) = d.lines() {
        assert_eq!(l.len(), n);
        assert!(l.first().is_some_and(|&f| f >= 1));
        assert!(l.windows(2).all(|w| w[0] < w[1]), "line numbers must increase");
    }
    let s = d.skipped();
    assert!(s.first.len() as u64 <= s.count && s.first.len() <= 5);
}
