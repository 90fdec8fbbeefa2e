//! Runs the real `alternator recommend` / `recommend-users` binary on a hand-made model whose
//! rankings are known, and (when present) on MovieLens 100K.

mod common;

use std::path::{Path, PathBuf};

use alternator::{Csr, Duplicates, Factors};
use common::{alternator, fit, ml100k, ok, stderr, write};

/// Users u1 = (1, 0), u2 = (0, 1), u3 = (0, 0); items a = (1, 0), b = (0.9, 0.1), c = (0, 1),
/// d = (0.5, 0.5), e = (−1, 0). u1 saw a; u2 saw c and d; u3 saw nothing.
fn toy_model(dir: &Path) -> PathBuf {
    let users: alternator::IdMap = ["u1", "u2", "u3"].into_iter().collect();
    let items: alternator::IdMap = ["a", "b", "c", "d", "e"].into_iter().collect();
    let uf = vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let itf = vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.5, 0.5, -1.0, 0.0];
    let model = alternator::Model::from_parts(alternator::ModelParts {
        params: alternator::AlsParams { rank: 2, implicit_prefs: true, ..Default::default() },
        users,
        items,
        user_factors: Factors::from_vec(3, 2, uf).unwrap(),
        item_factors: Factors::from_vec(5, 2, itf).unwrap(),
        biases: None,
        clip_predictions: false,
        training: Csr::from_triplets(
            3,
            5,
            &[0, 1, 1],
            &[0, 2, 3],
            &[1.0, 1.0, 1.0],
            Duplicates::Sum,
        ),
        summary: Default::default(),
    })
    .unwrap();
    let p = dir.join("toy.alt");
    model.save(&p).unwrap();
    p
}

/// `(item, score)` rows of `--csv` output (after the header).
fn csv_rows(text: &str) -> Vec<(String, f32)> {
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[2].parse().unwrap())
        })
        .collect()
}

fn items_of(rows: &[(String, f32)]) -> Vec<&str> {
    rows.iter().map(|r| r.0.as_str()).collect()
}

#[test]
fn user_top_n_excludes_seen_and_honours_filters() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let rows = csv_rows(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "u1",
        "-n",
        "3",
        "--csv",
    ])));
    assert_eq!(items_of(&rows), ["b", "d", "c"]);
    assert!((rows[0].1 - 0.9).abs() < 1e-6 && (rows[1].1 - 0.5).abs() < 1e-6);

    let rows = csv_rows(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "u1",
        "-n",
        "2",
        "--csv",
        "--include-seen",
    ])));
    assert_eq!(items_of(&rows), ["a", "b"]);

    let filter = write(dir.path(), "filter.txt", "b\nzzz\n");
    let rows = csv_rows(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "u1",
        "-n",
        "3",
        "--csv",
        "--filter-items",
        &filter,
    ])));
    assert_eq!(items_of(&rows), ["d", "c", "e"]);

    // Candidates c, e, a: a is seen, so only two are eligible and exactly two come back.
    let cand = write(dir.path(), "cand.csv", "c,x\ne,y\na,z\n");
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "u1",
        "-n",
        "5",
        "--csv",
        "--candidates",
        &cand,
    ]);
    assert_eq!(items_of(&csv_rows(&ok(&out))), ["c", "e"]);
    assert!(stderr(&out).contains("only 2"), "{}", stderr(&out));
}

#[test]
fn json_and_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let meta = write(
        dir.path(),
        "meta.csv",
        "id,title,genres\na,Alpha (1999),Action\nb,\"Beta, The\",Drama|War\n",
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "u1",
        "-n",
        "2",
        "--json",
        "--items-meta",
        &meta,
    ])))
    .unwrap();
    assert_eq!(v["user"], "u1");
    assert_eq!(v["items"][0]["item"], "b");
    assert_eq!(v["items"][0]["title"], "Beta, The");
    assert_eq!(v["items"][0]["genres"][1], "War");
    assert_eq!(v["items"][0]["score"], 0.9);
    assert_eq!(v["n"], 2);
    let text = ok(&alternator(&["recommend", "--model", m, "--user", "u1", "--items-meta", &meta]));
    assert!(text.contains("Beta, The (Drama, War)") || text.contains("Beta, The"), "{text}");
}

#[test]
fn unknown_user_exits_2_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let out = alternator(&["recommend", "--model", m, "--user", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("--liked") && e.contains("--fallback popular"), "{e}");
    assert!(!e.contains("panicked"), "{e}");

    // Popularity: a, c, d were seen once each; ties by index.
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "nobody",
        "--fallback",
        "popular",
        "-n",
        "3",
        "--csv",
    ]);
    assert_eq!(items_of(&csv_rows(&ok(&out))), ["a", "c", "d"]);

    let out = alternator(&["recommend", "--model", m]);
    assert_eq!(out.status.code(), Some(2));
    let out = alternator(&["recommend", "--model", m, "--user", "u1", "-n", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = alternator(&["recommend", "--model", "/nonexistent/model.alt", "--user", "u1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn batch_equals_per_user_and_reports_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let out = dir.path().join("all.csv");
    ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--all-users",
        "-n",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("user,rank,item,score"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    for user in ["u1", "u2", "u3"] {
        let single = csv_rows(&ok(&alternator(&[
            "recommend",
            "--model",
            m,
            "--user",
            user,
            "-n",
            "2",
            "--csv",
        ])));
        let batch: Vec<(String, f32)> = rows
            .iter()
            .filter(|r| r[0] == user)
            .map(|r| (r[2].to_string(), r[3].parse().unwrap()))
            .collect();
        assert_eq!(batch, single, "user {user}");
    }

    let users = write(dir.path(), "users.txt", "u2\nnobody\n");
    let out = alternator(&["recommend", "--model", m, "--users", &users, "-n", "1", "--json"]);
    let text = ok(&out);
    assert!(stderr(&out).contains("nobody"));
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["user"], "u2");
    assert_eq!(v["items"][0]["item"], "b");

    let users = write(dir.path(), "none.txt", "nobody\n");
    let out = alternator(&["recommend", "--model", m, "--users", &users]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn new_user_by_liked_ids_and_titles() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    let out = alternator(&["recommend", "--model", m, "--liked", "a,b:2", "-n", "3", "--csv"]);
    let rows = csv_rows(&ok(&out));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.0 != "a" && r.0 != "b"), "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1));

    // Only 3 items are not liked: asking for 10 gives exactly 3.
    let rows = csv_rows(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--liked",
        "a,b",
        "-n",
        "10",
        "--csv",
    ])));
    assert_eq!(rows.len(), 3);

    // --liked-file: a header line, `ID,value` rows and an unknown id (reported, not fatal).
    let lf = write(dir.path(), "liked.csv", "item,rating\na,1\nb,2\nzzz,3\n");
    let out = alternator(&["recommend", "--model", m, "--liked-file", &lf, "-n", "10", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["liked"], serde_json::json!(["a", "b"]));
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    assert!(stderr(&out).contains("zzz"), "{}", stderr(&out));
    let bad = write(dir.path(), "bad.csv", "a,1\nb,x\n");
    let out = alternator(&["recommend", "--model", m, "--liked-file", &bad]);
    assert_eq!(out.status.code(), Some(2));

    let out = alternator(&["recommend", "--model", m, "--liked", "a:lots"]);
    assert_eq!(out.status.code(), Some(2));
    let out = alternator(&["recommend", "--model", m, "--liked", "zzz"]);
    assert_eq!(out.status.code(), Some(2));

    let meta = write(
        dir.path(),
        "meta.tsv",
        "id\ttitle\na\tAlpha (1999)\nb\tAlpha 2 (2001)\nc\tGamma (1980)\nq\tNot In Model\n",
    );
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "alpha",
        "--items-meta",
        &meta,
        "--csv",
    ]);
    let rows = csv_rows(&ok(&out));
    let e = stderr(&out);
    assert!(e.contains("Found possible matches: Alpha (1999)"), "{e}");
    assert!(rows.iter().all(|r| r.0 != "a"));
    assert!(rows.iter().any(|r| r.0 == "b"));

    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "alpha",
        "--all-matches",
        "--items-meta",
        &meta,
        "--csv",
    ]);
    let rows = csv_rows(&ok(&out));
    assert!(rows.iter().all(|r| r.0 != "a" && r.0 != "b"), "{rows:?}");

    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "Zorro Unchained",
        "--items-meta",
        &meta,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("closest titles"), "{}", stderr(&out));

    let out = alternator(&["recommend", "--model", m, "--liked-title", "alpha"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn recommend_users_for_items() {
    let dir = tempfile::tempdir().unwrap();
    let m = toy_model(dir.path());
    let m = m.to_str().unwrap();
    // Item c = (0, 1): u2 scores 1 but saw c, so u1 and u3 (both 0) remain, ties by index.
    let text =
        ok(&alternator(&["recommend-users", "--model", m, "--item", "c", "-n", "5", "--csv"]));
    assert_eq!(text.lines().next(), Some("rank,user,score"));
    let users: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(users, ["u1", "u3"]);
    let text = ok(&alternator(&["recommend-users", "--model", m, "--all-items", "-n", "1"]));
    assert_eq!(text.lines().count(), 6);
    assert!(text.lines().any(|l| l.starts_with("b,1,u1,")), "{text}");
    let out = alternator(&["recommend-users", "--model", m, "--item", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

/// ML-100K acceptance (small config): titled top-10 excluding training items, batch equals
/// per-user, Star Wars fold-in.
#[test]
fn movielens_acceptance() {
    let Some(ml) = ml100k() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ml.alt");
    let (m, uitem) = (model.to_str().unwrap(), ml.join("u.item").to_str().unwrap().to_string());
    fit(
        &ml.join("ua.base"),
        &model,
        &["--rank", "8", "--max-iter", "3", "--implicit-prefs", "--seed", "1"],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--user",
        "117",
        "-n",
        "10",
        "--items-meta",
        &uitem,
        "--json",
    ])))
    .unwrap();
    let res = v["items"].as_array().unwrap();
    assert_eq!(res.len(), 10);
    let train = std::fs::read_to_string(ml.join("ua.base")).unwrap();
    let seen: Vec<&str> = train
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0] == "117").then_some(f[1])
        })
        .collect();
    assert!(!seen.is_empty());
    for r in res {
        assert!(!seen.contains(&r["item"].as_str().unwrap()));
        assert!(!r["title"].as_str().unwrap().is_empty());
    }
    assert!(res.windows(2).all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));

    let all = dir.path().join("all.csv");
    ok(&alternator(&[
        "recommend",
        "--model",
        m,
        "--all-users",
        "-n",
        "10",
        "--out",
        all.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&all).unwrap();
    assert_eq!(text.lines().count(), 943 * 10 + 1);
    for user in ["1", "117", "500", "943"] {
        let single =
            csv_rows(&ok(&alternator(&["recommend", "--model", m, "--user", user, "--csv"])));
        let batch: Vec<(String, f32)> = text
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[0] == user)
            .map(|f| (f[2].to_string(), f[3].parse().unwrap()))
            .collect();
        assert_eq!(batch, single, "user {user}");
    }

    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "Star Wars",
        "--items-meta",
        &uitem,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert!(stderr(&out).contains("Star Wars (1977)"), "{}", stderr(&out));
    assert_eq!(v["liked"][0], "50");
    let res = v["items"].as_array().unwrap();
    assert_eq!(res.len(), 10);
    assert!(res.iter().all(|r| r["item"] != "50"));
}

/// Seed 004's user types "Iron Man" into a `movies.csv`-shaped catalogue: the three Iron Man
/// films are listed as possible matches, not their namesakes; a title the catalogue lacks
/// exits 2 with suggestions.
#[test]
fn iron_man_lists_the_three_films() {
    let dir = tempfile::tempdir().unwrap();
    let titles = [
        (59315, "Iron Man (2008)"),
        (77561, "Iron Man 2 (2010)"),
        (102125, "Iron Man 3 (2013)"),
        (27611, "\"Invincible Iron Man, The (2007)\""),
        (1653, "\"Man in the Iron Mask, The (1998)\""),
        (2761, "\"Iron Giant, The (1999)\""),
        (950, "\"Thin Man, The (1934)\""),
        (260, "Star Wars: Episode IV - A New Hope (1977)"),
        (2571, "\"Matrix, The (1999)\""),
        (89745, "\"Avengers, The (2012)\""),
        (1, "Toy Story (1995)"),
        (318, "\"Shawshank Redemption, The (1994)\""),
    ];
    let mut movies = String::from("movieId,title,genres\n");
    let mut ratings = String::from("userId,movieId,rating\n");
    for (k, (id, t)) in titles.iter().enumerate() {
        movies.push_str(&format!("{id},{t},Action\n"));
        for u in 0..8 {
            if (u + k) % 3 != 0 {
                ratings.push_str(&format!("{u},{id},{}\n", 1 + (u * 7 + k) % 5));
            }
        }
    }
    let meta = write(dir.path(), "movies.csv", &movies);
    let data = write(dir.path(), "ratings.csv", &ratings);
    let model = dir.path().join("m.alt");
    fit(Path::new(&data), &model, &["--rank", "3"]);
    let m = model.to_str().unwrap();
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "Iron Man",
        "--items-meta",
        &meta,
    ]);
    let e = stderr(&out);
    ok(&out);
    assert!(
        e.contains(
            "Found possible matches: Iron Man (2008), Iron Man 2 (2010), Iron Man 3 (2013)\n"
        ),
        "{e}"
    );
    assert!(e.contains("using Iron Man (2008) (item 59315)"), "{e}");
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "Iron Man",
        "--all-matches",
        "--items-meta",
        &meta,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["liked"], serde_json::json!(["59315", "77561", "102125"]));
    assert_eq!(v["titles"][1]["title"], "Iron Man 2 (2010)");
    for q in ["Matrix", "the matrix", "Shawshank Redemtion", "toy story (1995)"] {
        ok(&alternator(&["recommend", "--model", m, "--liked-title", q, "--items-meta", &meta]));
    }
    let out = alternator(&[
        "recommend",
        "--model",
        m,
        "--liked-title",
        "Qwxyzzy Nonexistent Film",
        "--items-meta",
        &meta,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("no title matches \"Qwxyzzy Nonexistent Film\""), "{e}");
    assert!(!e.contains("item id"), "an unknown title is not an unknown item id: {e}");
}
