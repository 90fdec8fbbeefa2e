//! The entry points the fuzzers drive (`fuzz/`, see RELIABILITY.md), on stable Rust: bytes
//! into the interaction reader and into `Model::from_bytes`. Nothing may panic; a read that
//! succeeds is self-consistent; the line ends of a file (LF, CRLF, CR) do not change what it
//! says; a corrupted model file is an error. The inputs the fuzzers found are replayed at
//! the end.

use alternator::{Als, Delimiter, Error, IdKind, Interactions, Model, ReaderBuilder};
use proptest::prelude::*;

/// The reader under one of the option combinations the fuzz target derives from a byte.
fn reader(opts: u8) -> ReaderBuilder {
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
    r
}

/// Reads `bytes` as the fuzz target does (first byte: options) and checks the result.
fn read_checked(opts: u8, bytes: &[u8]) -> alternator::Result<Interactions> {
    let r = reader(opts).from_bytes(bytes, "p.tsv");
    if let Ok(d) = &r {
        // No value column (unless a later option names one), or binary values.
        let all_ones = ((opts >> 3) & 7 == 7 && opts >> 6 != 2) || opts >> 6 == 3;
        check(d, opts & 2 != 0, all_ones);
    }
    r
}

/// What every successful read holds (the fuzz target's checks).
fn check(d: &Interactions, keep_lines: bool, all_ones: bool) {
    let n = d.len();
    assert!(n > 0, "a read with no interactions is an error");
    assert_eq!((d.user_indices().len(), d.item_indices().len()), (n, n));
    for (idx, ids) in [(d.user_indices(), d.users()), (d.item_indices(), d.items())] {
        // Numbered in order of first appearance, every id used.
        let mut next = 0u32;
        for &i in idx {
            assert!(i <= next, "index {i} before {next}");
            next = next.max(i + 1);
        }
        assert_eq!(next as usize, ids.len());
        assert!(ids.ids().all(|id| !id.is_empty() && id.trim_ascii() == id), "{:?}", ids);
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
        assert!(l[0] >= 1 && l.windows(2).all(|w| w[0] < w[1]));
    }
    let s = d.skipped();
    assert!(s.first.len() as u64 <= s.count && s.first.len() <= 5);
}

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

/// Fields that are nearly right: numbers of every shape, ids, blanks, quotes, separators
/// in the wrong place.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9]{1,10}",
        2 => "-?[0-9]{1,3}\\.[0-9]{1,4}",
        1 => "[a-z]{1,6}",
        1 => prop::sample::select(vec![
            "", " ", "NaN", "inf", "1e3", "\"a,b\"", "\"x\"\"y\"", "caf\u{e9}", " 7 ", "\u{a0}5",
            "::", ",", "\t", "userId", "rating", "timestamp", "#", "0x1F", "99999999999999999999",
        ])
        .prop_map(str::to_string),
    ]
}

/// Lines of 0 to 6 tokens, the delimiter sometimes doubled or missing.
fn near_valid_lines() -> impl Strategy<Value = Vec<String>> {
    let delim = prop::sample::select(vec!["\t", ",", "::", " ", ";", "|"]);
    (delim, prop::collection::vec(prop::collection::vec(token(), 0..6), 1..30)).prop_map(
        |(d, lines)| lines.into_iter().map(|fields| fields.join(d)).collect::<Vec<String>>(),
    )
}

/// `lines` joined with `eol` after each.
fn joined(lines: &[String], eol: &str) -> String {
    lines.iter().map(|l| format!("{l}{eol}")).collect()
}

/// `lines` each with its own end (LF, CRLF, CR in turn); but a `\r` before an empty line
/// ended by `\n` would be a `\r\n`, one line end, in any reading: that line gets `\n`.
fn mixed(lines: &[String]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let next_empty = lines.get(k + 1).is_some_and(|n| n.is_empty());
            let eol = match k % 3 {
                2 if !next_empty => "\r",
                1 => "\r\n",
                _ => "\n",
            };
            format!("{l}{eol}")
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(opts in any::<u8>(), bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_checked(opts, &bytes);
    }

    #[test]
    fn near_valid_text_never_panics(opts in any::<u8>(), lines in near_valid_lines(), cr in any::<bool>()) {
        let mut text = joined(&lines, "\n");
        if cr {
            // A lone `\r` somewhere: it ends a line.
            let mut at = text.len() / 2;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert(at, '\r');
        }
        let _ = read_checked(opts, text.as_bytes());
    }

    #[test]
    fn line_ends_do_not_change_what_a_file_says(opts in any::<u8>(), lines in near_valid_lines(), last in any::<bool>()) {
        let mut variants: Vec<String> = ["\n", "\r\n", "\r"].iter().map(|e| joined(&lines, e)).collect();
        if !last {
            // Without a line end after the last line.
            for (v, eol) in variants.iter_mut().zip([1, 2, 1]) {
                v.truncate(v.len() - eol);
            }
        }
        let lf = summary(&read_checked(opts, variants[0].as_bytes()));
        for v in &variants[1..] {
            prop_assert_eq!(&summary(&read_checked(opts, v.as_bytes())), &lf, "{:?}", v);
        }
        let mixed = mixed(&lines);
        let with_lf = joined(&lines, "\n");
        prop_assert_eq!(summary(&read_checked(opts, mixed.as_bytes())), summary(&read_checked(opts, with_lf.as_bytes())));
    }
}

proptest! {
    // Large inputs: several chunks, a lone `\r` far from the start.
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn chunked_reads_agree_across_line_ends(seed in 0u64..1000, cr_from in 0usize..40_000) {
        let mut lines = Vec::new();
        for k in 0..40_000u64 {
            let x = k.wrapping_mul(2654435761).wrapping_add(seed);
            lines.push(format!("{}\t{}\t{}\t{}", x % 997, x % 503, x % 5 + 1, 880_000_000 + k));
        }
        let lf = joined(&lines, "\n");
        let mixed: String = lines
            .iter()
            .enumerate()
            .map(|(k, l)| format!("{l}{}", if k < cr_from { "\n" } else { "\r" }))
            .collect();
        prop_assert_eq!(summary(&read_checked(2, mixed.as_bytes())), summary(&read_checked(2, lf.as_bytes())));
    }
}

/// A small trained model's file.
fn model_bytes(implicit: bool) -> Vec<u8> {
    let mut b = Interactions::builder();
    for u in 0..12u32 {
        for i in 0..9u32 {
            if (u * 7 + i * 3) % 4 != 0 {
                b.push(&format!("u{u}"), &format!("i{i}"), ((u + i) % 5 + 1) as f32);
            }
        }
    }
    let data = b.build().unwrap();
    let als = if implicit { Als::implicit() } else { Als::explicit() };
    als.rank(3).max_iter(3).seed(1).fit(&data).unwrap().to_bytes().unwrap()
}

/// Uses a model that loaded, as a server would.
fn exercise(m: &Model) {
    if let Some(u) = m.users().ids().next().map(str::to_string) {
        let _ = m.recommend(&u, 3);
        let _ = m.similar_users(&u, 3);
        assert!(m.index_of(IdKind::User, &u).is_ok());
    }
    if let Some(i) = m.items().ids().next().map(str::to_string) {
        let _ = m.similar_items(&i, 3);
        let _ = m.recommend_users(&i, 3);
        let _ = m.recommend_for_liked(&[(i.as_str(), 5.0)], 3);
    }
}

/// Whether `bytes` fail to load as a model file, saying so.
fn is_format_error(bytes: &[u8]) -> bool {
    matches!(Model::from_bytes(bytes, "p.alt"), Err(Error::ModelFormat { .. }))
}

/// `bytes` with its checksum (the last 4 bytes, crc32 of the rest) made to match.
fn fix_crc(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let body = bytes.len() - 4;
        let crc = crc32(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// CRC-32 (IEEE), as the model file uses (a dev-dependency would be one more crate).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_model_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), magic in any::<bool>()) {
        let mut bytes = bytes;
        if magic {
            // Past the magic bytes and the version check, into the lengths and the header.
            let valid = model_bytes(false);
            let keep = 12.min(bytes.len());
            bytes[..keep].copy_from_slice(&valid[..keep]);
        }
        let mut fixed = bytes.clone();
        fix_crc(&mut fixed);
        for b in [&bytes, &fixed] {
            if let Ok((m, _)) = Model::from_bytes(b, "p.alt") {
                exercise(&m);
            }
        }
    }

    #[test]
    fn corrupted_model_files_are_errors(
        implicit in any::<bool>(),
        at in any::<prop::sample::Index>(),
        burst in prop::collection::vec(any::<u8>(), 1..=4),
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let valid = model_bytes(implicit);
        // A burst of up to 4 changed bytes: crc32 detects every one.
        let mut b = valid.clone();
        let start = at.index(b.len());
        let mut changed = false;
        for (k, x) in burst.iter().enumerate() {
            if let Some(slot) = b.get_mut(start + k) {
                changed |= *slot != *x;
                *slot = *x;
            }
        }
        if changed {
            prop_assert!(is_format_error(&b));
        }
        // Truncated, or with bytes after the end.
        let short = &valid[..cut.index(valid.len())];
        prop_assert!(is_format_error(short));
        let long = [&valid[..], &extra[..]].concat();
        prop_assert!(is_format_error(&long));
        // The same changes with the checksum made to match reach the header and the blocks:
        // an error or a usable model, never a panic.
        fix_crc(&mut b);
        if let Ok((m, _)) = Model::from_bytes(&b, "p.alt") {
            exercise(&m);
            let again = m.to_bytes().unwrap();
            prop_assert!(Model::from_bytes(&again, "again.alt").is_ok());
        }
    }
}

/// Inputs the property tests above found, each read alike with any line ends.
#[test]
fn found_inputs_replayed() {
    // (options byte, lines): a lone `\r` in the lines the sniffer reads changed its
    // decisions (first line, header) before the parser could see it.
    let cases: [(u8, &[&str]); 3] = [
        (106, &["", "", "", "0", "0"]),
        (56, &["", "\"a,b\" 0 0", "0", "0"]),
        (59, &["0\t0", "", "", "", "", "", "", "", "", "", "0"]),
    ];
    for (opts, lines) in cases {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let lf = summary(&read_checked(opts, joined(&lines, "\n").as_bytes()));
        for eol in ["\r\n", "\r"] {
            let text = joined(&lines, eol);
            assert_eq!(summary(&read_checked(opts, text.as_bytes())), lf, "{text:?}");
        }
        let mixed = mixed(&lines);
        assert_eq!(summary(&read_checked(opts, mixed.as_bytes())), lf, "{mixed:?}");
    }
    // An id padded with a no-break space keeps it (UTF-8 bodies are trimmed of ASCII
    // whitespace only), and is not empty.
    let d = read_checked(0, "xxvjme\t\u{a0}5\tinf\t31.271\n".as_bytes());
    assert!(d.is_err(), "inf is not a rating");
}

/// Found by the `model_file` fuzzer: a model loaded from a file did not save to the same
/// bytes after a second load, because the JSON header's floats (the training history) did
/// not read back to the values written (serde_json's default float parser can be one unit in
/// the last place off). Every float of the header must survive save → load exactly.
#[test]
fn model_header_floats_survive_save_and_load() {
    let (m, _) = Model::from_bytes(&model_bytes(false), "m.alt").unwrap();
    let mut parts = m.into_parts();
    // The value the fuzzer's file held, as serde_json reads it, and a spread of others.
    let mut history: Vec<f64> = vec![serde_json::from_str("0.94548784440897892").unwrap()];
    let mut x = 0x3FEE_4145_0E7B_D8A3u64;
    for _ in 0..2000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let v = f64::from_bits(x);
        if v.is_finite() {
            history.push(v);
        }
    }
    parts.summary.history = history.clone();
    parts.summary.fit_seconds = history[0];
    let bytes = Model::from_parts(parts).unwrap().to_bytes().unwrap();
    let (back, _) = Model::from_bytes(&bytes, "m.alt").unwrap();
    let read = &back.summary().history;
    let wrong: Vec<f64> = history
        .iter()
        .zip(read)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .map(|p| *p.0)
        .collect();
    assert!(read.len() == history.len() && wrong.is_empty(), "{} differ: {wrong:?}", wrong.len());
    assert_eq!(back.to_bytes().unwrap(), bytes);
}
