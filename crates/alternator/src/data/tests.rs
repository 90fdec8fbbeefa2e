use super::number::{parse_f32, parse_f32_fast, parse_time, swar_digit_count, swar_digits};
use super::parse::parse_with;
use super::*;

fn read(text: &str, opts: &ReadOptions) -> Result<Interactions> {
    parse_interactions(text.as_bytes(), Path::new("t.tsv"), opts)
}

#[test]
fn movielens_tab_no_header() {
    let d = read(
        "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n",
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.users.len(), 2);
    assert_eq!(d.items.len(), 2);
    assert_eq!(d.users.id(0), Some("196"));
    assert_eq!(d.user_idx, vec![0, 1, 0]);
    assert_eq!(d.item_idx, vec![0, 1, 1]);
    assert_eq!(d.values, vec![3.0, 3.0, 1.0]);
    assert_eq!(d.times, Some(vec![881250949, 891717742, 1]));
    assert!(d.header.is_none());
}

#[test]
fn ratings_dat_double_colon() {
    let d =
        read("1::1193::5::978300760\r\n1::661::3::978302109\r\n", &ReadOptions::default()).unwrap();
    assert_eq!(d.delimiter, Some(Delimiter::DoubleColon));
    assert_eq!(d.values, vec![5.0, 3.0]);
    assert_eq!(d.items.id(1), Some("661"));
}

#[test]
fn ratings_csv_with_header() {
    let d = read(
        "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n",
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(d.header.as_deref().map(|h| h.len()), Some(4));
    assert_eq!(d.values, vec![2.5, 3.0]);
    assert_eq!(d.times, Some(vec![1260759144, 1260759179]));
}

#[test]
fn kuairec_named_value_column() {
    let text = "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n\
                14,148,4381,6067,2020-07-05 05:27:48.378,20200705.0,1593898068.378,0.722\n\
                14,183,11635,6100,2020-07-05 05:28:00.057,20200705.0,1593898080.057,1.907\n";
    let opts = ReadOptions {
        rating_col: Some(Column::Name("watch_ratio".into())),
        ..ReadOptions::default()
    };
    let d = read(text, &opts).unwrap();
    assert_eq!(d.values, vec![0.722, 1.907]);
    assert_eq!(d.times, Some(vec![1593898068, 1593898080]));
    // Training ignores the times unless a column is named.
    let d = read(text, &ReadOptions { ignore_times: true, ..opts.clone() }).unwrap();
    assert_eq!((d.values.len(), d.times), (2, None));
    let named = ReadOptions {
        time_col: Some(Column::Name("timestamp".into())),
        ignore_times: true,
        ..opts
    };
    assert_eq!(read(text, &named).unwrap().times, Some(vec![1593898068, 1593898080]));
}

#[test]
fn string_ids_and_quotes() {
    let d = read(
        "alice,The Matrix,5\nbob,\"Crouching Tiger, Hidden Dragon\",4\n",
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(d.header.is_none());
    assert_eq!(d.users.id(0), Some("alice"));
    assert_eq!(d.items.id(0), Some("The Matrix"));
    assert_eq!(d.items.id(1), Some("Crouching Tiger, Hidden Dragon"));
}

#[test]
fn bad_line_names_line_and_column() {
    let err = read("1\t1\t5\n2\t2\t4\n1\tx\toops\n3\t3\t1\n", &ReadOptions::default()).unwrap_err();
    let msg = err.to_string();
    // Columns are counted from 1 in messages: the value is the third field.
    assert!(msg.contains("line 3, column 3: \"oops\" is not a number"), "{msg}");
    let opts = ReadOptions { skip_invalid: true, ..ReadOptions::default() };
    let d = read("1\t1\t5\n2\t2\t4\n1\tx\toops\n3\t3\t1\n", &opts).unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.skipped.count, 1);
    assert_eq!(d.skipped.first[0].0, 3);
}

#[test]
fn nan_inf_missing_column_empty() {
    for (text, needle) in [
        ("1,1,5\n1,2,NaN\n", "not finite"),
        ("1,1,5\n1,2,inf\n", "not finite"),
        ("1,1,5\n1,2\n", "field"),
        ("1,1,5\n,2,3\n", "empty user"),
    ] {
        let msg = read(text, &ReadOptions::default()).unwrap_err().to_string();
        assert!(msg.contains("line 2") && msg.contains(needle), "{text:?}: {msg}");
    }
    assert!(matches!(read("", &ReadOptions::default()), Err(Error::Empty { .. })));
    assert!(matches!(read("\n\n  \n", &ReadOptions::default()), Err(Error::Empty { .. })));
    assert!(matches!(read("u,i,r\n", &ReadOptions::default()), Err(Error::Empty { .. })));
    let msg = read(
        "u,i,r\n1,2,3\n",
        &ReadOptions { rating_col: Some(Column::Name("score".into())), ..Default::default() },
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("no column named \"score\""), "{msg}");
}

#[test]
fn rating_none_binary_and_overrides() {
    let opts = ReadOptions { rating_col: None, ..ReadOptions::default() };
    let d = read("a b\nc d\n", &opts).unwrap();
    assert_eq!(d.values, vec![1.0, 1.0]);
    let opts = ReadOptions { binary: true, ..ReadOptions::default() };
    assert_eq!(read("1;2;4.5\n", &opts).unwrap().values, vec![1.0]);
    let opts = ReadOptions {
        header: Some(false),
        delimiter: Some(Delimiter::Byte(b'|')),
        ..Default::default()
    };
    let d = read("x|y|1\n", &opts).unwrap();
    assert_eq!(d.users.id(0), Some("x"));
    // Forcing a header drops the first line.
    let opts = ReadOptions { header: Some(true), ..Default::default() };
    assert_eq!(read("1,2,3\n4,5,6\n", &opts).unwrap().len(), 1);
}

#[test]
fn latin1_ids_are_lossless() {
    let bytes = b"caf\xe9,x,1\ncafe,x,2\n";
    let d = parse_interactions(bytes, Path::new("l1"), &ReadOptions::default()).unwrap();
    assert_eq!(d.users.len(), 2);
    assert_eq!(d.users.id(0), Some("caf\u{e9}"));
}

#[test]
fn chunked_parse_matches_sequential_numbering() {
    // Big enough for several 4 MiB chunks.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "u{}\ti{}\t{}\n",
            (n * 7919) % 5003,
            (n * 104729) % 3001,
            n % 5 + 1
        ));
        n += 1;
    }
    let d = read(&text, &ReadOptions { keep_lines: true, ..Default::default() }).unwrap();
    assert_eq!(d.len(), n);
    let mut users = IdMap::new();
    for k in 0..n {
        let u = users.get_or_insert(&format!("u{}", (k * 7919) % 5003));
        assert_eq!(d.user_idx[k], u);
    }
    assert_eq!(d.lines.as_ref().unwrap()[n - 1], n as u64);
}

/// The whole result of a read, for comparing two ways of reading.
fn summary(r: &Result<Interactions>) -> String {
    match r {
        Err(e) => format!("error: {e}"),
        Ok(d) => format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            d.users.ids().collect::<Vec<_>>(),
            d.items.ids().collect::<Vec<_>>(),
            d.user_idx,
            d.item_idx,
            d.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            d.times,
            d.lines,
            d.header,
            d.delimiter,
            d.skipped
        ),
    }
}

/// `parse_time` as it was before its fast path.
fn parse_time_std(s: &str) -> Option<i64> {
    s.parse::<i64>()
        .ok()
        .or_else(|| s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64))
}

fn same_f32(s: &str) {
    let (fast, std) = (parse_f32(s), s.parse::<f32>());
    match (&fast, &std) {
        (Ok(a), Ok(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{s:?}: {a} vs {b}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{s:?}: {fast:?} vs {std:?}"),
    }
}

#[test]
fn fast_f32_tricky_cases() {
    // Exact f32 midpoints (ties to even) go to the standard parser.
    for s in ["8388608.5", "8388609.5", "-8388608.5", "16777217", "16777219", "33554434"] {
        same_f32(s);
    }
    assert_eq!(parse_f32_fast(b"8388608.5"), None);
    // Not midpoints, but their nearest f64 is one: rounding that f64 again to f32 (ties
    // to even) would be wrong for the last four (double rounding), so they too go to the
    // standard parser.
    for s in [
        "1.16300767660141",
        "32.3598575592041",
        "1.36603444814682",
        "9.14079999923706",
        "3.34738290309906",
        "6.47054648399353",
    ] {
        same_f32(s);
        assert_eq!(parse_f32_fast(s.as_bytes()), None, "{s}");
    }
    assert_eq!(parse_f32_fast(b"2.5"), Some(2.5));
    for s in [
        "0",
        "-0",
        "00",
        "0.0",
        "-0.0",
        "5.",
        ".5",
        "-.5",
        "+4",
        "1e3",
        "1E-3",
        "inf",
        "-inf",
        "NaN",
        "nan",
        "infinity",
        "",
        "-",
        ".",
        "1.2.3",
        "1_0",
        " 1",
        "0x10",
        "3.4028235e38",
        "340282356779733661637539395458142568448",
        "999999999999999",
        "9999999999999999",
        "0.000000000000001",
        "0.1",
        "0.2",
        "0.3",
        "0.7",
        "1.1",
        "2.675",
        "123456.789",
        "0.123456789012345",
        "4.999999999999999",
        "16777216.5",
        "1.00000005960464477539",
        "1.0000000596046448",
        "7.006492321624085e-46",
        "1e-50",
        "-1e-50",
    ] {
        same_f32(s);
    }
}

proptest::proptest! {
    #[test]
    fn swar_digits_match_a_byte_loop(
        bytes in proptest::collection::vec(
            proptest::prop_oneof![
                6 => b'0'..=b'9',
                1 => proptest::strategy::Just(b'\t'),
                1 => proptest::strategy::Just(b'\n'),
                1 => proptest::strategy::Just(b'/'),
                1 => proptest::strategy::Just(b':'),
                1 => 0xF0u8..=0xFF,
                1 => proptest::num::u8::ANY,
            ],
            8,
        )
    ) {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes);
        let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let v = bytes[..n].iter().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
        proptest::prop_assert_eq!(swar_digits(u64::from_le_bytes(w)), (n, v));
        proptest::prop_assert_eq!(swar_digit_count(u64::from_le_bytes(w)), n);
    }

    #[test]
    fn long_digit_fields_read_exactly(
        ids in proptest::collection::vec(("[0-9]{1,25}", "[0-9]{1,25}"), 1..40),
    ) {
        // Integer ids of every length around the 8-byte steps and the 18-digit limit,
        // up to the chunk's last bytes: the ids are their text, byte for byte.
        let text: String = ids.iter().map(|(u, i)| format!("{u}\t{i}\t1\n")).collect();
        let d = read(&text, &ReadOptions::default()).unwrap();
        for (k, (u, i)) in ids.iter().enumerate() {
            proptest::prop_assert_eq!(d.users.id(d.user_idx[k]), Some(u.as_str()));
            proptest::prop_assert_eq!(d.items.id(d.item_idx[k]), Some(i.as_str()));
        }
        let bare = text.trim_end_matches('\n');
        let d = read(bare, &ReadOptions::default()).unwrap();
        proptest::prop_assert_eq!(d.len(), ids.len());
    }

    #[test]
    fn fast_f32_matches_std(
        neg in proptest::bool::ANY,
        int in "[0-9]{0,17}",
        frac in proptest::option::of("[0-9]{0,17}"),
    ) {
        let s = format!("{}{}{}", if neg { "-" } else { "" }, int, frac.map(|f| format!(".{f}")).unwrap_or_default());
        same_f32(&s);
    }

    #[test]
    fn fast_f32_near_f32_midpoints(bits in 0x4680_0000u32..0x4B80_0000, nudge in -2i64..=2) {
        // Between 2^14 and 2^24, the point halfway between two neighbouring f32s is a
        // decimal of at most 15 digits: the fast path must see it and step aside.
        let mid = (f64::from(f32::from_bits(bits)) + f64::from(f32::from_bits(bits + 1))) / 2.0;
        let s = format!("{mid}");
        same_f32(&s);
        if nudge == 0 && s.len() <= 16 {
            proptest::prop_assert_eq!(parse_f32_fast(s.as_bytes()), None);
        }
        // Its neighbours one unit in the last digit away round like the standard parser.
        if let Some((int, frac)) = s.split_once('.') {
            let m: i64 = format!("{int}{frac}").parse().unwrap();
            let digits = (m + nudge).to_string();
            let (i, f) = digits.split_at(digits.len() - frac.len());
            same_f32(&format!("{i}.{f}"));
        }
    }

    #[test]
    fn fast_time_matches_std(s in "-?[0-9]{0,20}(\\.[0-9]{0,4})?") {
        proptest::prop_assert_eq!(parse_time(&s), parse_time_std(&s));
    }

    #[test]
    fn fast_route_matches_general_route(
        lines in proptest::collection::vec(
            proptest::collection::vec(
                proptest::sample::select(vec![
                    "1", "7", "42", "007", "0", "4194303", "4194304", "123456789012345678901",
                    "2.5", "-3", "3.25", "1e3", "NaN", "", " 5", "5 ", "\t6", "u1", "caf\u{e9}",
                    "\u{a0}9", "9\u{a0}", "\u{b}8", "a\"b", "\"x,y\"", "::", "881250949",
                    "1593898068.378", "x\r", "1\r2", "a:b", "7::", "\r",
                ]),
                0..6,
            ),
            1..40,
        ),
        delim in proptest::sample::select(vec!["\t", ",", " ", "::", ";"]),
        crlf in proptest::bool::ANY,
        skip in proptest::bool::ANY,
        keep in proptest::bool::ANY,
        latin1 in proptest::bool::ANY,
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let text: String = lines.iter().map(|l| l.join(delim) + eol).collect();
        let mut bytes = text.into_bytes();
        if latin1 {
            bytes.push(0xE9); // not UTF-8: the body takes the general route where it matters
        }
        for opts in [
            ReadOptions { skip_invalid: skip, keep_lines: keep, ..Default::default() },
            ReadOptions { time_col: Some(Column::Index(3)), skip_invalid: skip, ..Default::default() },
            ReadOptions { rating_col: None, header: Some(false), ..Default::default() },
            ReadOptions { user_col: Column::Index(2), item_col: Column::Index(0), rating_col: Some(Column::Index(1)), ..Default::default() },
            // Columns after the last needed one (read without times, as training reads).
            ReadOptions { ignore_times: true, skip_invalid: skip, ..Default::default() },
            ReadOptions { rating_col: None, ignore_times: true, keep_lines: keep, ..Default::default() },
        ] {
            let fast = parse_with(&bytes, Path::new("p"), &opts, true);
            let general = parse_with(&bytes, Path::new("p"), &opts, false);
            proptest::prop_assert_eq!(summary(&fast), summary(&general));
        }
    }
}

#[test]
fn streamed_file_matches_in_memory() {
    // Big enough for the streamed reader (several chunks and blocks), with the shapes
    // that matter to it: byte order mark, header, CRLF, blank lines, a line longer than
    // a block, an error far into the file.
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::new();
    for n in 0..60_000u64 {
        body.push_str(&format!(
            "{}\t{}\t{}\t{}\r\n",
            n * 7 % 997,
            n * 13 % 3001,
            n % 5 + 1,
            880_000_000 + n
        ));
        if n % 9_999 == 0 {
            body.push_str("\r\n  \t \r\n");
        }
        if n == 33_333 {
            body.push_str(&format!("u{}\tlong\t1\t5\r\n", "x".repeat(300_000)));
        }
    }
    let cases: Vec<(Vec<u8>, ReadOptions)> = vec![
        (body.clone().into_bytes(), ReadOptions::default()),
        (
            format!("\u{feff}user\titem\trating\ttimestamp\n{body}").into_bytes(),
            ReadOptions { keep_lines: true, ..Default::default() },
        ),
        (format!("{}1\t2\t3\t4\n{body}", "\n".repeat(70_000)).into_bytes(), ReadOptions::default()),
        (format!("{body}1\t2\toops\t4\n{body}").into_bytes(), ReadOptions::default()),
        (
            format!("{body}1\t2\toops\t4\n{body}").into_bytes(),
            ReadOptions { skip_invalid: true, ..Default::default() },
        ),
    ];
    for (k, (bytes, opts)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("f{k}.tsv"));
        std::fs::write(&path, bytes).unwrap();
        let streamed = read_interactions(&path, opts);
        let in_memory = parse_interactions(bytes, &path, opts);
        assert_eq!(summary(&streamed), summary(&in_memory), "case {k}");
    }
}

/// A small MovieLens-like body: `n` lines `user item rating timestamp`, tab-separated,
/// `\n`-terminated.
fn small_body(n: u64) -> String {
    (0..n)
        .map(|k| format!("{}\t{}\t{}\t{}\n", k % 30 + 1, k * 7 % 40 + 1, k % 5 + 1, 881250000 + k))
        .collect()
}

#[test]
fn cr_only_files_read_every_line() {
    // Old Mac line ends: 400 interactions, not one line with the rest silently lost.
    let lf = small_body(400);
    let want = read(&lf, &ReadOptions::default()).unwrap();
    assert_eq!(want.len(), 400);
    let cr = lf.replace('\n', "\r");
    let got = read(&cr, &ReadOptions::default()).unwrap();
    assert_eq!(summary(&Ok(got)), summary(&Ok(want)));
    // The CSV variant with a header, which read as "only a header".
    let csv = format!("user,item,rating,timestamp\n{}", lf.replace('\t', ","));
    let want = read(&csv, &ReadOptions { keep_lines: true, ..Default::default() }).unwrap();
    let got =
        read(&csv.replace('\n', "\r"), &ReadOptions { keep_lines: true, ..Default::default() })
            .unwrap();
    assert_eq!(got.len(), 400);
    assert_eq!(summary(&Ok(got)), summary(&Ok(want)));
}

#[test]
fn mixed_line_ends_read_alike() {
    // LF, CRLF and lone CR in one file, with the lone CR far from the start (found by the
    // parser, not the sniffer), and lines numbered as `lines` numbers them.
    let lf = small_body(300);
    let mut mixed = String::new();
    for (k, line) in lf.lines().enumerate() {
        mixed.push_str(line);
        mixed.push_str(match k % 3 {
            _ if k < 100 => "\n",
            0 => "\n",
            1 => "\r\n",
            _ => "\r",
        });
    }
    let opts = ReadOptions { keep_lines: true, ..Default::default() };
    let want = read(&lf, &opts).unwrap();
    let got = read(&mixed, &opts).unwrap();
    assert_eq!(summary(&Ok(got)), summary(&Ok(want)));
    let numbered: Vec<_> = lines(mixed.as_bytes()).collect();
    assert_eq!(numbered.len(), 300);
    assert_eq!(numbered[200].0, lf.lines().nth(200).unwrap().as_bytes());
    // An error after a lone CR names the line as counted with it.
    let bad = format!("{}1\t2\tfive\t3\r", mixed);
    let msg = read(&bad, &ReadOptions::default()).unwrap_err().to_string();
    assert!(msg.contains("line 301, column 3"), "{msg}");
    // A `\r\r\n` is a lone CR then a CRLF: a blank line between.
    let d = read("1\t2\t3\r\r\n4\t5\t6\n", &opts).unwrap();
    assert_eq!(d.lines, Some(vec![1, 3]));
}

#[test]
fn cr_only_streamed_file() {
    // Large enough for the streamed reader, which hands a lone-CR file to the whole read.
    let dir = tempfile::tempdir().unwrap();
    let lf = small_body(30_000);
    for (k, text) in
        [lf.replace('\n', "\r"), format!("{}{}", lf, lf.replace('\n', "\r"))].iter().enumerate()
    {
        let path = dir.path().join(format!("cr{k}.tsv"));
        std::fs::write(&path, text).unwrap();
        let d = read_interactions(&path, &ReadOptions::default()).unwrap();
        assert_eq!(d.len(), 30_000 * (k + 1));
        let normal =
            parse_interactions(text.replace('\r', "\n").as_bytes(), &path, &Default::default());
        assert_eq!(summary(&Ok(d)), summary(&normal));
    }
}

#[test]
fn a_line_with_a_field_missing_is_never_misread() {
    // The timestamp must not become the rating.
    let text = "1\t10\t4\t881250949\n1\t11\t3\t881250950\n2\t10\t881250951\n3\t12\t5\t881250952\n";
    let err = read(text, &ReadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Parse { line: 3, column: None, .. }), "{msg}");
    assert!(msg.contains("has 3 field(s)") && msg.contains("line 1 has 4"), "{msg}");
    // Also when the time column is not read (training) and with the fast route off.
    for opts in [
        ReadOptions { ignore_times: true, ..Default::default() },
        ReadOptions { rating_col: None, ..Default::default() },
    ] {
        for scan in [true, false] {
            let err = parse_with(text.as_bytes(), Path::new("t"), &opts, scan).unwrap_err();
            assert!(matches!(err, Error::Parse { line: 3, .. }), "{err}");
        }
    }
    let skip = ReadOptions { skip_invalid: true, ..Default::default() };
    let d = read(text, &skip).unwrap();
    assert_eq!((d.len(), d.skipped.count, d.skipped.first[0].0), (3, 1, 3));
    assert_eq!(d.values, vec![4.0, 3.0, 5.0]);
    // An extra field is as wrong as a missing one; with a header, the message lists it.
    let csv = "userId,movieId,rating\n1,2,3\n1,3,4,5\n";
    let msg = read(csv, &ReadOptions::default()).unwrap_err().to_string();
    assert!(
        msg.contains("line 3") && msg.contains("the header has 3 (userId, movieId, rating)"),
        "{msg}"
    );
}

#[test]
fn trailing_delimiters_are_not_a_field() {
    // A trailing delimiter on some lines, on every line, or on the header only.
    for text in [
        "1,2,3\n1,3,4,\n2,2,5\n",
        "1,2,3,\n1,3,4,\n2,2,5\n",
        "u,i,r,\n1,2,3\n1,3,4,\n2,2,5,,\n",
        "1\t2\t3\t\n1\t3\t4\t\n2\t2\t5\t\n",
    ] {
        let d = read(text, &ReadOptions::default()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(d.values, vec![3.0, 4.0, 5.0], "{text:?}");
    }
    // But a trailing field that is not empty is one too many.
    let err = read("1,2,3\n1,3,4,x\n", &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Parse { line: 2, .. }), "{err}");
    // An empty field inside the layout is a field (an empty optional last column).
    let d = read("u,i,r,note\n1,2,3,\n1,3,4,good\n", &ReadOptions::default()).unwrap();
    assert_eq!(d.len(), 2);
}

#[test]
fn a_bad_timestamp_is_an_error() {
    // Detected time column: one bad value no longer turns the times off silently.
    let text = "1\t10\t4\t881250949\n1\t11\t3\tsoon\n2\t10\t5\t881250951\n";
    let err = read(text, &ReadOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 2, column 4: timestamp \"soon\" is not a number"), "{msg}");
    assert!(msg.contains("detected"), "{msg}");
    assert!(matches!(err, Error::Parse { line: 2, .. }));
    // Named column, with a header: the name is given.
    let csv = "u,i,r,ts\n1,10,4,881250949\n1,11,3,soon\n";
    let opts = ReadOptions { time_col: Some(Column::Name("ts".into())), ..Default::default() };
    let msg = read(csv, &opts).unwrap_err().to_string();
    assert!(msg.contains("line 3, column 4 (ts): timestamp \"soon\""), "{msg}");
    // Skipped like any other bad line; not read at all when times are ignored.
    let d = read(text, &ReadOptions { skip_invalid: true, ..Default::default() }).unwrap();
    assert_eq!((d.len(), d.times), (2, Some(vec![881250949, 881250951])));
    let d = read(text, &ReadOptions { ignore_times: true, ..Default::default() }).unwrap();
    assert_eq!((d.len(), d.times), (3, None));
    // A fourth column that is not a time on the first line is not taken for one.
    for text in ["1,10,4,2020-01-01\n1,11,3,2020-01-02\n", "a,b,1,great\nc,d,2,12\n"] {
        let d = read(text, &ReadOptions::default()).unwrap();
        assert_eq!((d.len(), d.times), (2, None), "{text}");
    }
    let d = read("user,item,r,time\n1,2,3,2020-07-05 05:27\n", &ReadOptions::default()).unwrap();
    assert_eq!(d.times, None);
}

#[test]
fn columns_are_counted_from_one_with_names() {
    let msg = read("u,i,r\n1,2,3\n1,3,five\n", &ReadOptions::default()).unwrap_err().to_string();
    assert!(msg.ends_with("line 3, column 3 (r): \"five\" is not a number"), "{msg}");
    let msg = read("u,i,r\n1,,3\n", &ReadOptions::default()).unwrap_err().to_string();
    assert!(msg.contains("line 2, column 2 (i): empty item id"), "{msg}");
    let opts = ReadOptions { rating_col: Some(Column::Index(5)), ..Default::default() };
    let msg = read("1,2,3\n", &opts).unwrap_err().to_string();
    assert!(msg.contains("column 6 is needed"), "{msg}");
    let opts = ReadOptions { skip_invalid: true, ..Default::default() };
    let d = read("u,i,r\n1,2,3\n1,3,five\n", &opts).unwrap();
    assert_eq!(d.skipped.first, vec![(3, "column 3 (r): \"five\" is not a number".to_string())]);
}

#[test]
fn line_end_and_quote_delimiters_are_refused() {
    for d in [b'\n', b'\r', b'"'] {
        let opts = ReadOptions { delimiter: Some(Delimiter::Byte(d)), ..Default::default() };
        let err = read("1,2,3\n", &opts).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "delimiter", .. }), "{err}");
    }
}
