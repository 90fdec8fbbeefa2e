//! Fold-in recommendations on trained models: when an ALS iteration ends with the user
//! half-step (explicit, and implicit with Spark's convention), a trained user's factors are exactly the least-squares solve against the final
//! item factors. Folding in a user's own training row must therefore reproduce that user's
//! factors, and `recommend_for_liked` on the row must reproduce `recommend_user`.

use std::path::Path;

use alternator::Model;
use alternator::als::{fold_in_user, train_model};
use alternator::data::{ReadOptions, parse_interactions};
use alternator::params::{AlsParams, Confidence, Solver};
use alternator::recommend::{RecommendOptions, parse_liked, recommend_for_liked, recommend_user};
use alternator::sparse::Duplicates;

/// 60 users × 40 items, ~25% density, ratings 1–5 from a hidden rank-2 structure (xorshift).
fn data_text() -> String {
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut text = String::new();
    for u in 0..60u64 {
        for i in 0..40u64 {
            if next() % 4 == 0 {
                let r = 1 + ((u % 5) * (i % 3) + next() % 2) % 5;
                text.push_str(&format!("user{u}\titem{i}\t{r}\n"));
            }
        }
    }
    text
}

fn train(params: &AlsParams) -> Model {
    let text = data_text();
    let data =
        parse_interactions(text.as_bytes(), Path::new("toy.tsv"), &ReadOptions::default()).unwrap();
    train_model(&data, Duplicates::Sum, params, false, &mut |_| {}).unwrap()
}

fn check(model: &Model) {
    for u in 0..model.users.len() as u32 {
        let (items, values) = model.seen.row(u as usize);
        if items.is_empty() {
            continue;
        }
        let (x, _) = fold_in_user(model, items, values).unwrap();
        let trained = model.user_factors.row(u as usize);
        let scale = trained.iter().map(|v| v.abs()).fold(1.0f32, f32::max);
        for (a, b) in x.iter().zip(trained) {
            assert!((a - b).abs() <= 2e-3 * scale, "user {u}: folded {x:?} vs trained {trained:?}");
        }
        let liked: Vec<(u32, f32)> = items.iter().copied().zip(values.iter().copied()).collect();
        let opts = RecommendOptions::top(5);
        let a = recommend_for_liked(model, &liked, &opts).unwrap();
        let b = recommend_user(model, u, &opts).unwrap();
        assert_eq!(a.items.len(), b.items.len());
        assert_eq!(a.eligible, b.eligible);
        for (p, q) in a.items.iter().zip(&b.items) {
            assert!((p.1 - q.1).abs() <= 1e-2, "user {u}: {a:?} vs {b:?}");
            assert!(!items.contains(&p.0), "a liked item came back");
        }
    }
}

#[test]
fn explicit_fold_in_reproduces_trained_users() {
    let m = train(&AlsParams { rank: 3, max_iter: 5, reg_param: 0.1, ..Default::default() });
    check(&m);
}

#[test]
fn implicit_fold_in_reproduces_trained_users() {
    let m = train(&AlsParams {
        rank: 3,
        max_iter: 5,
        implicit_prefs: true,
        alpha: 2.0,
        // Spark's order (items, then users) so the user factors are the last solve;
        // `implicit`'s order solves users first.
        confidence: Confidence::Spark,
        solver: Solver::Cholesky,
        ..Default::default()
    });
    check(&m);
}

#[test]
fn liked_specs_parse_and_merge() {
    let m = train(&AlsParams { rank: 2, max_iter: 2, ..Default::default() });
    let liked = parse_liked(&m, ["item1, item2:3.5", "nope,item1:2", ""], 5.0).unwrap();
    let i1 = m.items.get("item1").unwrap();
    let i2 = m.items.get("item2").unwrap();
    assert_eq!(liked.items, vec![(i1, 5.0), (i2, 3.5), (i1, 2.0)]);
    assert_eq!(liked.unknown, vec!["nope".to_string()]);
    assert!(parse_liked(&m, ["item1:x"], 1.0).is_err());
    assert!(parse_liked(&m, ["item1:inf"], 1.0).is_err());

    // A repeated item keeps its last value: the same as giving it once with that value.
    let a = recommend_for_liked(&m, &liked.items, &RecommendOptions::top(40)).unwrap();
    let b = recommend_for_liked(&m, &[(i2, 3.5), (i1, 2.0)], &RecommendOptions::top(40)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.items.len(), m.items.len() - 2);
    assert!(recommend_for_liked(&m, &[], &RecommendOptions::top(3)).is_err());
    assert!(recommend_for_liked(&m, &[(9999, 1.0)], &RecommendOptions::top(3)).is_err());
}
