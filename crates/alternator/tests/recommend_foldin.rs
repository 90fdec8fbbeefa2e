//! Fold-in recommendations on trained models: when an ALS iteration ends with the user
//! half-step (explicit, and implicit with Spark's convention), a trained user's factors are
//! exactly the least-squares solve against the final item factors. Folding in a user's own
//! training row must therefore reproduce that user's factors, and recommending for a new user
//! who liked that row must reproduce the trained user's recommendations.

use alternator::{
    Als, Confidence, IdKind, Interactions, Model, NewUser, ReaderBuilder, RecommendOptions, Solver,
};

/// 60 users × 40 items, ~25% density, ratings 1–5 from a hidden rank-2 structure (xorshift).
fn data() -> Interactions {
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
    ReaderBuilder::new().from_bytes(text.as_bytes(), "toy.tsv").unwrap()
}

fn check(model: &Model) {
    for u in 0..model.users().len() as u32 {
        let (items, values) = model.training_matrix().row(u as usize);
        if items.is_empty() {
            continue;
        }
        let (x, _) = model.fold_in_user_indices(items, values).unwrap();
        let trained = model.user_factors().row(u as usize);
        let scale = trained.iter().map(|v| v.abs()).fold(1.0f32, f32::max);
        for (a, b) in x.iter().zip(trained) {
            assert!((a - b).abs() <= 2e-3 * scale, "user {u}: folded {x:?} vs trained {trained:?}");
        }
        let mut who = NewUser::new();
        for (&i, &v) in items.iter().zip(values) {
            who.rate(model.id_at(IdKind::Item, i), v);
        }
        let folded = model.fold_in(&who, None).unwrap();
        let opts = RecommendOptions::top(5);
        let a = model.recommend_folded(&folded, &opts).unwrap();
        let b = model.recommend_with(model.id_at(IdKind::User, u), &opts).unwrap();
        assert_eq!(a.results.len(), b.results.len());
        assert_eq!(a.eligible, b.eligible);
        for (p, q) in a.results.iter().zip(&b.results) {
            assert!((p.score - q.score).abs() <= 1e-2, "user {u}: {a:?} vs {b:?}");
            let i = model.items().get(&p.item).unwrap();
            assert!(!items.contains(&i), "a liked item came back");
        }
    }
}

#[test]
fn explicit_fold_in_reproduces_trained_users() {
    let m = Als::explicit()
        .rank(3)
        .max_iter(5)
        .reg_param(0.1)
        .duplicates(alternator::Duplicates::Sum)
        .fit(&data())
        .unwrap();
    check(&m);
}

#[test]
fn implicit_fold_in_reproduces_trained_users() {
    // Spark's order (items, then users) so the user factors are the last solve; `implicit`'s
    // order solves users first.
    let m = Als::implicit()
        .rank(3)
        .max_iter(5)
        .reg_param(0.1)
        .alpha(2.0)
        .confidence(Confidence::Spark)
        .solver(Solver::Cholesky)
        .fit(&data())
        .unwrap();
    check(&m);
}

#[test]
fn new_users_merge_repeats_and_set_unknown_ids_aside() {
    let m = Als::explicit().rank(2).max_iter(2).fit(&data()).unwrap();
    let mut who = NewUser::new();
    who.like("item1").rate("item2", 3.5).like("nope").rate("item1", 2.0);
    let a = m.fold_in(&who, None).unwrap();
    assert_eq!(a.liked, vec!["item1".to_string(), "item2".to_string()]);
    assert_eq!(a.ignored, vec!["nope".to_string()]);
    // A repeated item keeps its last value: the same as giving it once with that value.
    let b = m.fold_in(NewUser::new().rate("item2", 3.5).rate("item1", 2.0), None).unwrap();
    assert_eq!(a.factors, b.factors);
    let all = RecommendOptions::top(40);
    let (ra, rb) = (m.recommend_folded(&a, &all).unwrap(), m.recommend_folded(&b, &all).unwrap());
    assert_eq!(ra, rb);
    assert_eq!(ra.results.len(), m.items().len() - 2);
    // The plain form: every id must be known.
    assert_eq!(m.recommend_for_liked(&[("item2", 3.5), ("item1", 2.0)], 40).unwrap(), ra.results);
    assert!(matches!(
        m.recommend_for_liked(&[("nope", 1.0)], 3),
        Err(alternator::Error::UnknownId { kind: IdKind::Item, .. })
    ));
    assert!(matches!(
        m.fold_in(NewUser::new().like("nope"), None),
        Err(alternator::Error::NoKnownItems { .. })
    ));
    assert!(m.fold_in(&NewUser::new(), None).is_err());
    assert!(m.fold_in(NewUser::new().rate("item1", f32::NAN), None).is_err());
    assert!(m.fold_in(NewUser::new().like_title("Star Wars"), None).is_err());
}
