//! The library's front door, used exactly as a program embedding Alternator would: only the
//! names re-exported at the crate root. On MovieLens 100K when it is present (skipped with a
//! notice otherwise): train on `ua.base`, evaluate on `ua.test`, recommend, list similar
//! items, save, load, and get the same recommendations back.

use std::path::{Path, PathBuf};

use alternator::{
    Als, ColdStart, Interactions, Model, ReaderBuilder, Recommendation, RegressionMetrics, Solver,
};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml-100k");
    if d.join("ua.base").exists() {
        Some(d)
    } else {
        println!("skipping: ../shared/data/ml-100k not found");
        None
    }
}

#[test]
fn the_contract_on_movielens() -> alternator::Result<()> {
    let Some(dir) = data_dir() else { return Ok(()) };
    let train: Interactions = ReaderBuilder::new().from_path(dir.join("ua.base"))?; // sniffed
    let test: Interactions =
        ReaderBuilder::new().has_header(false).delimiter(b'\t').from_path(dir.join("ua.test"))?;
    let mut b = Interactions::builder(); // in memory, any string ids
    b.push("alice", "song-1", 3.0);
    b.push("alice", "song-2", 1.0);
    b.push("bob", "song-1", 5.0);
    let plays: Interactions = b.build()?;

    let model: Model = Als::explicit().rank(10).reg_param(0.1).max_iter(10).seed(42).fit(&train)?;
    let mut iterations = 0;
    let imp: Model = Als::implicit()
        .rank(64)
        .alpha(1.0)
        .reg_param(0.05)
        .solver(Solver::Cg)
        .on_iteration(|it| {
            eprintln!("{it:?}");
            iterations += 1;
        })
        .fit(&plays)?;
    assert_eq!(iterations, 15);
    assert!(imp.is_implicit() && imp.rank() == 64);

    let m: RegressionMetrics = model.evaluate(&test, ColdStart::Drop)?;
    println!("ua.test RMSE {:.6} MAE {:.6} R2 {:.6}", m.rmse, m.mae, m.r2);
    assert!((m.rmse - 0.960246).abs() < 5e-6, "RMSE {}", m.rmse);
    assert!(m.mae > 0.0 && m.mse > 0.0 && m.r2 > 0.0);
    assert_eq!((m.scored, m.dropped), (9428, 2));

    let recs: Vec<Recommendation> = model.recommend("196", 10)?;
    assert_eq!(recs.len(), 10);
    assert!(recs.windows(2).all(|w| w[0].score >= w[1].score));
    let seen = train.users().get("196").map(|u| model.training_matrix().row(u as usize).0);
    for r in &recs {
        let i = model.items().get(&r.item).expect("an item id of the model");
        assert!(!seen.is_some_and(|s| s.contains(&i)), "a training item was recommended");
    }
    let new_user = model.recommend_for_liked(&[("50", 5.0), ("181", 4.0)], 10)?;
    assert_eq!(new_user.len(), 10);
    assert!(new_user.iter().all(|r| r.item != "50" && r.item != "181"));
    let sims = model.similar_items("50", 10)?;
    assert_eq!(sims.len(), 10);
    assert!(sims.iter().all(|r| r.item != "50" && (-1.0..=1.0).contains(&r.score)));

    let dir = tempfile::tempdir().map_err(|e| alternator::Error::io("tempdir", e))?;
    let path = dir.path().join("ml.alt");
    model.save(&path)?;
    let model = Model::load(&path)?;
    assert_eq!(model.recommend("196", 10)?, recs);
    assert_eq!(model.similar_items("50", 10)?, sims);
    assert!(matches!(
        model.recommend("no such user", 10),
        Err(alternator::Error::UnknownId { kind: alternator::IdKind::User, .. })
    ));
    Ok(())
}

#[test]
fn parameters_are_checked_once_and_named() {
    let mut b = Interactions::builder();
    b.push("u", "i", 1.0);
    let data = b.build().unwrap();
    for (als, name) in [
        (Als::explicit().rank(0), "rank"),
        (Als::explicit().reg_param(-1.0), "reg_param"),
        (Als::implicit().alpha(0.0), "alpha"),
        (Als::explicit().max_iter(1_000_000), "max_iter"),
        (Als::implicit().cg_steps(0), "cg_steps"),
        (Als::implicit().biases(true), "biases"),
        (Als::explicit().threads(100_000), "threads"),
    ] {
        let mut als = als;
        match als.fit(&data) {
            Err(alternator::Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    // The defaults of each kind: Spark's for ratings, implicit's for implicit feedback.
    let p = Als::explicit().params().unwrap();
    assert_eq!((p.rank, p.max_iter, p.reg_param, p.solver), (10, 10, 0.1, Solver::Cholesky));
    let p = Als::implicit().params().unwrap();
    assert_eq!((p.rank, p.max_iter, p.reg_param, p.solver), (100, 15, 0.01, Solver::Cg));
    assert_eq!(Als::implicit().duplicates_policy(), alternator::Duplicates::Sum);
    assert_eq!(Als::explicit().duplicates_policy(), alternator::Duplicates::Keep);
    let spark = Als::implicit().confidence(alternator::Confidence::Spark).params().unwrap();
    assert_eq!((spark.rank, spark.max_iter, spark.reg_param), (10, 10, 0.1));
    // Bad data in memory is reported by build, naming the interaction.
    let mut b = Interactions::builder();
    b.push("u", "i", f32::NAN);
    assert!(b.build().unwrap_err().to_string().contains("interaction 1"));
}

/// The README's Library section shows the crate's front-page example, as it runs.
#[test]
fn readme_shows_the_front_page_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let doc: Vec<&str> = lib.lines().filter_map(|l| l.strip_prefix("//!")).collect();
    let start = doc.iter().position(|l| l.trim() == "```").unwrap() + 1;
    let end = start + doc[start..].iter().position(|l| l.trim() == "```").unwrap();
    let example: Vec<&str> = doc[start..end]
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .filter(|l| !l.trim_start().starts_with("# "))
        .collect();
    let section = &readme[readme.find("## Library").unwrap()..];
    let code_start = section.find("```rust\n").unwrap() + "```rust\n".len();
    let code_end = code_start + section[code_start..].find("\n```").unwrap();
    let shown: Vec<&str> = section[code_start..code_end].lines().collect();
    assert_eq!(shown, example, "README.md's Library example differs from src/lib.rs's");
}
