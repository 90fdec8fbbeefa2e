//! Integration tests of `alternator tune` and `alternator demo`, running the real binary.

mod common;

use std::path::{Path, PathBuf};

use common::{alternator as run, ml100k};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", text(&o.stderr));
    text(&o.stdout)
}

/// A small generated ratings (or counts) file.
fn generated(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let p = dir.join(name);
    ok(&[
        "generate",
        "--users",
        "150",
        "--items",
        "60",
        "--nnz",
        "4000",
        "--seed",
        "3",
        "--kind",
        kind,
        "--out",
        p.to_str().unwrap(),
    ]);
    p
}

/// Rows of the table: lines starting with `*` or a space followed by a number.
fn table_rows(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            let t = l.trim_start_matches(['*', ' ']);
            (l.starts_with('*') || l.starts_with("  "))
                && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        })
        .collect()
}

#[test]
fn cross_validation_table_sorted_with_best_marked() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "r.tsv", "ratings");
    let out = ok(&[
        "tune",
        "--train",
        f.to_str().unwrap(),
        "--folds",
        "3",
        "--rank",
        "2,4",
        "--reg-param",
        "0.05,0.5",
        "--max-iter",
        "4",
        "--metric",
        "rmse",
    ]);
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(rows.iter().filter(|r| r.starts_with('*')).count(), 1);
    assert!(rows[0].starts_with('*'));
    assert!(out.contains("rmse (mean ± std)"), "{out}");
    assert!(out.contains("best: rank="), "{out}");
    // Sorted: the means (first number after the parameters) ascend for RMSE.
    let means: Vec<f64> = rows
        .iter()
        .map(|r| {
            let cols: Vec<&str> = r.trim_start_matches(['*', ' ']).split_whitespace().collect();
            cols[2].parse().unwrap()
        })
        .collect();
    assert!(means.windows(2).all(|w| w[0] <= w[1]), "{means:?}");
}

#[test]
fn json_is_deterministic_and_independent_of_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "r.tsv", "ratings");
    let args = |jobs: &'static str| {
        vec![
            "tune".to_string(),
            "--train".into(),
            f.to_str().unwrap().into(),
            "--folds".into(),
            "3".into(),
            "--rank".into(),
            "3,5".into(),
            "--reg-param".into(),
            "0.1,0.3".into(),
            "--max-iter".into(),
            "3".into(),
            "--threads".into(),
            "2".into(),
            "--jobs".into(),
            jobs.into(),
            "--json".into(),
        ]
    };
    let get = |jobs| {
        let a = args(jobs);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let v: serde_json::Value = serde_json::from_str(&ok(&a)).unwrap();
        let r = &v["report"];
        let means: Vec<f64> =
            r["results"].as_array().unwrap().iter().map(|c| c["mean"].as_f64().unwrap()).collect();
        let curves: Vec<serde_json::Value> =
            r["results"].as_array().unwrap().iter().map(|c| c["mean_curve"].clone()).collect();
        (means, curves, r["ranking"].clone())
    };
    let a = get("1");
    let b = get("2");
    let c = get("4");
    assert_eq!(a.0.len(), 4);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.1[0].as_array().unwrap().len(), 3, "one value per iteration");
}

/// A minimal XML well-formedness check: every tag closes in order, one root `svg`.
fn check_xml(s: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut texts = Vec::new();
    let mut rest = s;
    let mut roots = 0;
    while let Some(lt) = rest.find('<') {
        let between = &rest[..lt];
        if !between.trim().is_empty() {
            assert!(!stack.is_empty(), "text outside the root");
            texts.push(between.trim().to_string());
        }
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "mismatched </{name}>");
        } else {
            let name = tag.split_whitespace().next().unwrap_or("").trim_end_matches('/');
            if stack.is_empty() {
                roots += 1;
                assert_eq!(name, "svg");
            }
            if !tag.ends_with('/') {
                stack.push(name.to_string());
            }
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert_eq!(roots, 1);
    texts
}

#[test]
fn plot_writes_a_valid_svg_showing_every_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "r.tsv", "ratings");
    let svg = dir.path().join("curves.svg");
    let out = ok(&[
        "tune",
        "--train",
        f.to_str().unwrap(),
        "--validation-fraction",
        "0.25",
        "--rank",
        "2,6",
        "--reg-param",
        "0.05,0.2,0.8",
        "--max-iter",
        "5",
        "--early-stopping",
        "--patience",
        "2",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(out.contains("stopped at"), "{out}");
    let s = std::fs::read_to_string(&svg).unwrap();
    let texts = check_xml(&s);
    for rank in ["2", "6"] {
        for reg in ["0.05", "0.2", "0.8"] {
            let label = format!("rank={rank} reg={reg}");
            assert!(texts.iter().any(|t| t.starts_with(&label)), "{label} missing: {texts:?}");
        }
    }
    assert!(texts.iter().any(|t| t.contains("(best)")));
    assert!(texts.iter().any(|t| t.contains("rank × reg-param")));
    // The heat map labels its rows and columns, and marks one cell best.
    for l in ["2", "6", "0.05", "0.2", "0.8", "rank", "reg-param"] {
        assert!(texts.iter().any(|t| t == l), "{l} missing: {texts:?}");
    }
    assert_eq!(texts.iter().filter(|t| *t == "★ best").count(), 1, "{texts:?}");
    // The heat map prints one value per cell.
    let cells = texts.iter().filter(|t| t.len() == 6 && t.parse::<f64>().is_ok()).count();
    assert!(cells >= 6, "{cells} cells");
}

/// `tune` on the generated ratings in `dir` with a 3 × 3 grid, plotting to `plot`.
fn tune_plot(dir: &Path, plot: &Path, jobs: &str) -> String {
    let f = dir.join("r.tsv");
    if !f.exists() {
        generated(dir, "r.tsv", "ratings");
    }
    ok(&[
        "tune",
        "--train",
        f.to_str().unwrap(),
        "--folds",
        "2",
        "--rank",
        "2,4,8",
        "--reg-param",
        "0.01,0.1,1",
        "--max-iter",
        "6",
        "--jobs",
        jobs,
        "--plot",
        plot.to_str().unwrap(),
    ])
}

#[test]
fn plot_writes_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.png");
    let out = tune_plot(dir.path(), &path, "1");
    assert!(out.contains("plot: ") && out.contains("x.png"), "{out}");
    let b = std::fs::read(&path).unwrap();
    assert!(b.len() > 20_000, "only {} bytes", b.len());
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    let (w, h) = (be(16), be(20));
    assert!((1000..=4000).contains(&w) && (400..=3000).contains(&h), "{w} x {h}");
    assert_eq!((b[24], b[25]), (8, 2), "8-bit RGB");
    assert_eq!(&b[b.len() - 8..b.len() - 4], b"IEND");

    // It decodes, and shows something: text and lines on white, the best curve in the
    // first palette colour, the best heat-map cell framed in black.
    let mut reader = png::Decoder::new(std::io::Cursor::new(&b)).read_info().unwrap();
    let mut px = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut px).unwrap();
    assert_eq!((info.width, info.height), (w, h));
    let rgb: Vec<[u8; 3]> =
        px[..info.buffer_size()].chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    let count = |c: [u8; 3]| rgb.iter().filter(|&&p| p == c).count();
    let white = count([255, 255, 255]);
    assert!(white > rgb.len() / 3 && white < rgb.len() * 19 / 20, "{white} of {} white", rgb.len());
    assert!(count([0x1f, 0x77, 0xb4]) > 300, "the best curve's blue");
    assert!(count([0, 0, 0]) > 500, "black text and frame");
    let mut colours: Vec<[u8; 3]> = rgb.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "{} colours: no antialiased text?", colours.len());
}

#[test]
fn plot_bytes_depend_only_on_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for ext in ["svg", "png"] {
        let (a, b) = (d.join(format!("a.{ext}")), d.join(format!("b.{ext}")));
        tune_plot(d, &a, "1");
        tune_plot(d, &b, "3");
        assert!(std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(), "{ext} differs");
    }
}

#[test]
fn plot_takes_only_svg_or_png() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "r.tsv", "ratings");
    for name in ["x.pdf", "x.jpg", "x", "x.svg.gz"] {
        let p = dir.path().join(name);
        let o = run(&["tune", "--train", f.to_str().unwrap(), "--plot", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o.stderr));
        let e = text(&o.stderr);
        assert!(e.starts_with("error: ") && e.contains(".svg or .png"), "{name}: {e}");
        assert!(!p.exists(), "{name} was written");
    }
    // The extension's case does not matter.
    let p = dir.path().join("X.PNG");
    ok(&["tune", "--train", f.to_str().unwrap(), "--max-iter", "2", "--plot", p.to_str().unwrap()]);
    assert_eq!(&std::fs::read(&p).unwrap()[1..4], b"PNG");
}

#[test]
fn implicit_ranking_metric_and_save_best() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "c.tsv", "counts");
    let model = dir.path().join("best.alt");
    let out = ok(&[
        "tune",
        "--train",
        f.to_str().unwrap(),
        "--implicit-prefs",
        "--folds",
        "2",
        "--rank",
        "4,8",
        "--reg-param",
        "0.01,1",
        "--alpha",
        "2,10",
        "--max-iter",
        "4",
        "--metric",
        "ndcg@10",
        "--save-best",
        model.to_str().unwrap(),
    ]);
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 8, "{out}");
    assert!(out.contains("ndcg@10 (mean ± std)") && out.contains("larger is better"), "{out}");
    assert!(out.contains("saved the best configuration"), "{out}");
    let m = alternator::Model::load(&model).unwrap();
    assert!(m.params().implicit_prefs);
    let best = out.lines().find(|l| l.starts_with("best: ")).unwrap();
    assert!(best.contains(&format!("rank={} ", m.params().rank)), "{best} vs {:?}", m.params());
    assert!(best.contains(&format!("alpha={}", m.params().alpha)), "{best} vs {:?}", m.params());
}

#[test]
fn bad_input_is_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let f = generated(dir.path(), "r.tsv", "ratings");
    let f = f.to_str().unwrap();
    let pdf = dir.path().join("x.pdf");
    for args in [
        vec!["tune", "--train", f, "--metric", "auc@x"],
        vec!["tune", "--train", f, "--folds", "1"],
        vec!["tune", "--train", f, "--validation-fraction", "1.5"],
        vec!["tune", "--train", f, "--rank", "0"],
        vec!["tune", "--train", f, "--reg-param", "-1"],
        vec!["tune", "--train", f, "--jobs", "0"],
        vec!["tune", "--train", f, "--plot", pdf.to_str().unwrap()],
        vec!["tune", "--train", f, "--biases", "true", "--implicit-prefs"],
        vec!["tune", "--train", "/nonexistent/file.tsv"],
        vec!["tune", "--train", f, "--validation", "/nonexistent/v.tsv"],
        vec!["demo", "--users", "3"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).starts_with("error: "), "{args:?}");
    }
}

#[test]
fn ml100k_cross_validation_and_holdout() {
    let Some(d) = ml100k() else { return };
    let base = d.join("ua.base");
    let test = d.join("ua.test");
    let out = ok(&[
        "tune",
        "--train",
        base.to_str().unwrap(),
        "--folds",
        "3",
        "--rank",
        "5,10",
        "--reg-param",
        "0.1,0.3",
        "--max-iter",
        "5",
    ]);
    assert_eq!(table_rows(&out).len(), 4, "{out}");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.alt");
    let out = ok(&[
        "tune",
        "--train",
        base.to_str().unwrap(),
        "--validation",
        test.to_str().unwrap(),
        "--biases",
        "true",
        "--rank",
        "10",
        "--reg-param",
        "0.1",
        "--max-iter",
        "8",
        "--json",
        "--save-best",
        model.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rmse = v["best"]["mean"].as_f64().unwrap();
    assert!(rmse < 0.96, "validation RMSE {rmse}");
    // The saved model, scored on the same file, gives the same RMSE as the tune reported.
    let m = alternator::Model::load(&model).unwrap();
    let data = alternator::ReaderBuilder::new().from_path(&test).unwrap();
    let r = m.evaluate(&data, alternator::ColdStart::Drop).unwrap();
    assert!((r.rmse - rmse).abs() < 1e-4, "{} vs {rmse}", r.rmse);
}

#[test]
fn demo_prints_metrics_and_titled_recommendations() {
    let out = ok(&["demo", "--users", "200", "--movies", "80", "--seed", "5"]);
    for needle in ["test RMSE", "precision@10", "NDCG@10", "recommended", "similar to", "fold-in"] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    // Titled movies with their genre.
    assert!(out.contains("(Sci-Fi)") || out.contains("(Horror)"), "{out}");
    let rmse: f64 = out
        .split("test RMSE ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(rmse > 0.2 && rmse < 1.0, "{rmse}");
    // Deterministic apart from the timings.
    let strip = |o: &str| -> String {
        o.lines()
            .filter(|l| !l.starts_with("done in") && !l.starts_with("3. train"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let again = ok(&["demo", "--users", "200", "--movies", "80", "--seed", "5"]);
    assert_eq!(strip(&out), strip(&again));
}
