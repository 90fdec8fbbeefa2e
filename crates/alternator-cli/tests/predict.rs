//! `alternator predict` end to end, on a hand-built model saved with the library.

mod common;

use std::path::Path;

use alternator::{AlsParams, Csr, Duplicates, Factors, IdMap, Model, TrainingSummary};
use common::alternator as run;

/// 4 users × 5 items, rank 2, with irregular factors (predictions with many digits).
fn model() -> Model {
    let (nu, ni, rank) = (4, 5, 2);
    let uf: Vec<f32> = (0..nu * rank).map(|k| ((k * 7 + 3) % 11) as f32 / 7.0 - 0.6).collect();
    let itf: Vec<f32> = (0..ni * rank).map(|k| ((k * 5 + 2) % 13) as f32 / 9.0 - 0.3).collect();
    alternator::Model::from_parts(alternator::ModelParts {
        params: AlsParams { rank, ..AlsParams::default() },
        users: (0..nu).map(|u| format!("u{u}")).collect::<IdMap>(),
        items: (0..ni).map(|i| format!("i{i}")).collect::<IdMap>(),
        user_factors: Factors::from_vec(nu, rank, uf).unwrap(),
        item_factors: Factors::from_vec(ni, rank, itf).unwrap(),
        biases: None,
        clip_predictions: false,
        training: Csr::from_triplets(nu, ni, &[0, 1], &[0, 1], &[4.0, 3.0], Duplicates::Keep),
        summary: TrainingSummary {
            interactions: 2,
            value_min: 3.0,
            value_max: 4.0,
            ..Default::default()
        },
    })
    .unwrap()
}

fn saved(dir: &Path) -> (Model, String) {
    let m = model();
    let p = dir.join("m.alt");
    m.save(&p).unwrap();
    (m, p.to_str().unwrap().to_string())
}

#[test]
fn nan_for_unknown_user_and_bit_identical_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let (m, mp) = saved(dir.path());
    let input = dir.path().join("pairs.tsv");
    std::fs::write(&input, "u0\ti1\t4\nghost\ti2\t3\nu3\ti4\t5\nu2\tnewitem\t1\n").unwrap();
    let out = dir.path().join("pred.tsv");
    let o = run(&[
        "predict",
        "--model",
        &mp,
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].starts_with("ghost\ti2\t3\t") && lines[1].ends_with("\tNaN"), "{text}");
    assert!(lines[3].ends_with("\tNaN"), "{text}");
    for (line, (u, i)) in [(lines[0], ("u0", "i1")), (lines[2], ("u3", "i4"))] {
        let p: f32 = line.rsplit('\t').next().unwrap().parse().unwrap();
        assert_eq!(p.to_bits(), m.predict(u, i).unwrap().to_bits(), "{line}");
        assert!(line.starts_with(&format!("{u}\t{i}\t")));
    }
    assert!(String::from_utf8_lossy(&o.stderr).contains("2 with a user or item unknown"));
}

#[test]
fn drop_omits_cold_rows_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mp) = saved(dir.path());
    let input = dir.path().join("pairs.tsv");
    std::fs::write(&input, "u0\ti1\t4\nghost\ti2\t3\nu3\ti4\t5\n").unwrap();
    let out = dir.path().join("pred.tsv");
    let o = run(&[
        "predict",
        "--model",
        &mp,
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--cold-start-strategy",
        "drop",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains("ghost"));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("dropped 1"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn header_csv_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let (m, mp) = saved(dir.path());
    // Detected header (a numeric value column), and a two-column file with --header.
    for (text, extra, cols) in [
        ("user,item,rating\nu1,i0,5\nu2,i3,1\n", None, 3),
        ("userId,movieId\nu1,i0\nu2,i3\n", Some("--header"), 2),
    ] {
        let input = dir.path().join("pairs.csv");
        std::fs::write(&input, text).unwrap();
        let mut args =
            vec!["predict", "--model", &mp, "--input", input.to_str().unwrap(), "--out", "-"];
        args.extend(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let src: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(lines[0], format!("{},prediction", src[0]));
        assert_eq!(lines[1], format!("{},{}", src[1], m.predict("u1", "i0").unwrap()));
        assert_eq!(lines[2], format!("{},{}", src[2], m.predict("u2", "i3").unwrap()));
        assert_eq!(lines[1].split(',').count(), cols + 1);
    }
}

#[test]
fn bad_model_files_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mp) = saved(dir.path());
    let input = dir.path().join("pairs.tsv");
    std::fs::write(&input, "u0\ti1\n").unwrap();
    let mut bytes = std::fs::read(&mp).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let bad = dir.path().join("bad.alt");
    std::fs::write(&bad, &bytes).unwrap();
    for (model, needle) in [
        (bad.to_str().unwrap(), "not a valid model file"),
        (input.to_str().unwrap(), "wrong magic"),
    ] {
        let o =
            run(&["predict", "--model", model, "--input", input.to_str().unwrap(), "--out", "-"]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{err}");
    }
}

/// A trained model: save → load → predict (the binary) is bit-identical to the in-memory model.
#[test]
fn trained_model_predictions_survive_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("g.tsv");
    common::ok(&run(&[
        "generate",
        "--users",
        "80",
        "--items",
        "50",
        "--nnz",
        "1500",
        "--test-fraction",
        "0.2",
        "--out",
        data.to_str().unwrap(),
    ]));
    let train = alternator::generate::suffixed(&data, "train");
    let test = alternator::generate::suffixed(&data, "test");
    let d = alternator::ReaderBuilder::new().from_path(&train).unwrap();
    let m = alternator::Als::explicit().rank(4).max_iter(3).fit(&d).unwrap();
    let mp = dir.path().join("m.alt");
    m.save(&mp).unwrap();
    let o = run(&[
        "predict",
        "--model",
        mp.to_str().unwrap(),
        "--input",
        test.to_str().unwrap(),
        "--out",
        "-",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let mut checked = 0;
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let got = f.last().unwrap();
        match m.predict(f[0], f[1]) {
            Some(p) => {
                assert_eq!(got.parse::<f32>().unwrap().to_bits(), p.to_bits(), "{line}");
                checked += 1;
            }
            None => assert_eq!(*got, "NaN"),
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn crlf_lines_keep_their_ending() {
    let dir = tempfile::tempdir().unwrap();
    let (m, mp) = saved(dir.path());
    let input = dir.path().join("pairs.tsv");
    std::fs::write(&input, "u0\ti1\t4\r\n\r\nu3\ti4\t5\r\n").unwrap();
    let o = run(&["predict", "--model", &mp, "--input", input.to_str().unwrap(), "--out", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = format!(
        "u0\ti1\t4\t{}\r\nu3\ti4\t5\t{}\r\n",
        m.predict("u0", "i1").unwrap(),
        m.predict("u3", "i4").unwrap()
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);
}

/// Old Mac line ends (`\r` only), mixed with others: every line is predicted, each with its
/// own end.
#[test]
fn cr_lines_keep_their_ending() {
    let dir = tempfile::tempdir().unwrap();
    let (m, mp) = saved(dir.path());
    let input = dir.path().join("pairs.tsv");
    std::fs::write(&input, "u0\ti1\t4\r\ru3\ti4\t5\ru1\ti2\t3\n").unwrap();
    let o = run(&["predict", "--model", &mp, "--input", input.to_str().unwrap(), "--out", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = format!(
        "u0\ti1\t4\t{}\ru3\ti4\t5\t{}\ru1\ti2\t3\t{}\n",
        m.predict("u0", "i1").unwrap(),
        m.predict("u3", "i4").unwrap(),
        m.predict("u1", "i2").unwrap()
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);
}
