//! Tests of the scorers: batch, pruned and per-user rankings agree with a naive full sort.

use super::batch::{Batch, Order, Scratch, Shape, SideBound, batch_shaped};
use super::select::{Selector, f32_at_least, key_index, key_score, sel_key};
use super::similar::similar;
use super::*;
use crate::error::IdKind;
use crate::ids::IdMap;
use crate::model::Biases;
use crate::params::AlsParams;
use crate::sparse::{Csr, Duplicates};
use crate::topk::better;
use proptest::prelude::*;

pub(crate) fn model(
    nu: usize,
    ni: usize,
    rank: usize,
    uf: Vec<f32>,
    itf: Vec<f32>,
    seen: &[(u32, u32)],
) -> Model {
    let rows: Vec<u32> = seen.iter().map(|p| p.0).collect();
    let cols: Vec<u32> = seen.iter().map(|p| p.1).collect();
    let vals = vec![1.0f32; seen.len()];
    Model {
        params: AlsParams { rank, ..AlsParams::default() },
        users: (0..nu).map(|u| format!("u{u}")).collect::<IdMap>(),
        items: (0..ni).map(|i| format!("i{i}")).collect::<IdMap>(),
        user_factors: Factors::from_vec(nu, rank, uf).unwrap(),
        item_factors: Factors::from_vec(ni, rank, itf).unwrap(),
        biases: None,
        clip_predictions: false,
        seen: Csr::from_triplets(nu, ni, &rows, &cols, &vals, Duplicates::Keep),
        summary: Default::default(),
        bounds: Default::default(),
    }
}

fn naive(m: &Model, u: u32, opts: &RecommendOptions<'_>) -> ScoredIndices {
    let seen = m.seen.row(u as usize).0;
    let mut all: Vec<(u32, f32)> = (0..m.items.len() as u32)
        .filter(|&i| opts.include_seen || !seen.contains(&i))
        .filter(|&i| opts.filter.is_none_or(|f| !f.contains(i)))
        .filter(|&i| opts.candidates.is_none_or(|c| c.contains(i)))
        .map(|i| (i, score(m, u, i).unwrap()))
        .collect();
    all.sort_by(better);
    let eligible = all.len();
    all.truncate(opts.n);
    ScoredIndices { items: all, eligible }
}

#[test]
fn excludes_seen_and_filter_and_returns_exactly_n() {
    // 1 user, 5 items, rank 1: scores = item factor.
    let m = model(1, 5, 1, vec![1.0], vec![5.0, 4.0, 3.0, 2.0, 1.0], &[(0, 0)]);
    let filter = IndexSet::from_indices(5, [1]);
    let opts =
        RecommendOptions { n: 2, include_seen: false, filter: Some(&filter), candidates: None };
    let r = recommend_user(&m, 0, &opts).unwrap();
    assert_eq!(r.items, vec![(2, 3.0), (3, 2.0)]);
    assert_eq!(r.eligible, 3);
    let opts = RecommendOptions { n: 10, ..opts };
    let r = recommend_user(&m, 0, &opts).unwrap();
    assert_eq!(r.items.len(), 3);
    assert!(r.items.iter().all(|p| p.1.is_finite()));
    let r =
        recommend_user(&m, 0, &RecommendOptions { include_seen: true, ..RecommendOptions::top(1) })
            .unwrap();
    assert_eq!(r.items, vec![(0, 5.0)]);
    let cand = IndexSet::from_indices(5, [0, 3, 4]);
    let opts =
        RecommendOptions { n: 5, include_seen: false, filter: None, candidates: Some(&cand) };
    let r = recommend_user(&m, 0, &opts).unwrap();
    assert_eq!(r.items, vec![(3, 2.0), (4, 1.0)]);
    assert_eq!(r.eligible, 2);
    assert!(recommend_user(&m, 0, &RecommendOptions::top(0)).is_err());
    assert!(recommend_user(&m, 7, &RecommendOptions::top(1)).is_err());
}

#[test]
fn biases_enter_the_ranking() {
    let mut m = model(1, 3, 1, vec![1.0], vec![1.0, 1.0, 1.0], &[]);
    m.biases = Some(Biases { global: 3.0, user: vec![0.5], item: vec![0.0, 0.25, -1.0] });
    let r = recommend_user(&m, 0, &RecommendOptions::top(3)).unwrap();
    assert_eq!(r.items, vec![(1, 4.75), (0, 4.5), (2, 3.5)]);
    let mut got = Vec::new();
    m.recommend_batch(&[0], &RecommendOptions::top(3), |_, r| {
        got.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(got[0], r);
}

#[test]
fn popular_counts_interactions() {
    let m = model(
        3,
        4,
        1,
        vec![0.0; 3],
        vec![0.0; 4],
        &[(0, 2), (1, 2), (2, 2), (0, 1), (1, 1), (2, 3)],
    );
    let r = m.popular_items(&RecommendOptions::top(3)).unwrap();
    let got: Vec<(&str, f32)> = r.results.iter().map(|x| (x.item.as_str(), x.score)).collect();
    assert_eq!(got, vec![("i2", 3.0), ("i1", 2.0), ("i3", 1.0)]);
    assert_eq!(r.eligible, 4);
}

#[test]
fn similar_cosine_in_range_and_zero_norm() {
    // items: (1,0), (2,0), (0,1), (0,0), (-1,0)
    let m = model(
        1,
        5,
        2,
        vec![1.0, 0.0],
        vec![1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0],
        &[],
    );
    let r = similar(&m, IdKind::Item, 0, false, &RecommendOptions::top(10)).unwrap();
    assert_eq!(r.items, vec![(1, 1.0), (2, 0.0), (3, 0.0), (4, -1.0)]);
    assert_eq!(r.eligible, 4);
    let r = similar(&m, IdKind::Item, 0, true, &RecommendOptions::top(2)).unwrap();
    assert_eq!(r.items, vec![(0, 1.0), (1, 1.0)]);
    let r = similar(&m, IdKind::Item, 3, false, &RecommendOptions::top(10)).unwrap();
    assert!(r.items.iter().all(|p| p.1 == 0.0));
}

#[test]
fn fold_in_vector_excludes_given_items() {
    let m = model(1, 4, 1, vec![1.0], vec![4.0, 3.0, 2.0, 1.0], &[]);
    let r = recommend_for_factors(&m, &[1.0], None, &[1, 0], &RecommendOptions::top(2)).unwrap();
    assert_eq!(r.items, vec![(2, 2.0), (3, 1.0)]);
    assert!(recommend_for_factors(&m, &[1.0, 2.0], None, &[], &RecommendOptions::top(2)).is_err());
}

#[test]
fn index_set_basics() {
    let s = IndexSet::from_indices(100, [5, 70, 5, 200]);
    assert_eq!(s.members(), &[5, 70]);
    assert!(s.contains(70) && !s.contains(6) && !s.contains(200));
}

#[test]
fn batch_spanning_several_tiles_equals_per_user() {
    // 300 users (two blocks) × 2600 items (three tiles), rank 3, pseudo-random factors
    // with many exact ties (multiples of 1/4), some seen items and a filter.
    let (nu, ni, k) = (300usize, 2600usize, 3usize);
    let mut x = 7u64;
    let mut r = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 33) % 9) as f32 / 4.0 - 1.0
    };
    let uf: Vec<f32> = (0..nu * k).map(|_| r()).collect();
    let itf: Vec<f32> = (0..ni * k).map(|_| r()).collect();
    let seen: Vec<(u32, u32)> =
        (0..nu as u32).flat_map(|u| [(u, (u * 7) % ni as u32), (u, 2000 + u)]).collect();
    let m = model(nu, ni, k, uf, itf, &seen);
    let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 11 == 0));
    let opts =
        RecommendOptions { n: 25, include_seen: false, filter: Some(&filter), candidates: None };
    let users: Vec<u32> = (0..nu as u32).rev().collect();
    let mut got = Vec::new();
    m.recommend_batch(&users, &opts, |u, r| {
        got.push((u, r));
        Ok(())
    })
    .unwrap();
    assert_eq!(got.len(), nu);
    for (u, r) in got {
        assert_eq!(r, naive(&m, u, &opts), "user {u}");
    }
}

proptest! {
    #[test]
    fn streaming_selector_equals_top_k(
        scores in proptest::collection::vec(prop_oneof![
            (-3i32..3).prop_map(|x| x as f32),
            -3f32..3.0,
            Just(f32::NAN),
        ], 0..700),
        k in 0usize..50,
        skip_mod in 1u32..5,
        piece in 1usize..300,
    ) {
        let skip = |i: u32| skip_mod > 1 && i % skip_mod == 0;
        let mut sel = Selector::default();
        sel.reset();
        for (p, part) in scores.chunks(piece).enumerate() {
            sel.feed(part, (p * piece) as u32, k, &skip);
        }
        let a = sel.finish(k).to_vec();
        let b = crate::topk::top_k(&scores, k, skip);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert!(x.0 == y.0 && (x.1 == y.1 || (x.1.is_nan() && y.1.is_nan())));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn batch_equals_naive_full_sort(
        nu in 1usize..40, ni in 1usize..60, rank in 1usize..5,
        seed in proptest::collection::vec(-3i32..4, 0..1000),
        n in 1usize..12, include_seen: bool, use_filter: bool, use_cand: bool,
    ) {
        // Small integers: every score is exact in f32, so ties are real ties.
        let v = |k: usize| seed.get(k % seed.len().max(1)).copied().unwrap_or(1) as f32;
        let uf: Vec<f32> = (0..nu * rank).map(|k| v(k * 7 + 1)).collect();
        let itf: Vec<f32> = (0..ni * rank).map(|k| v(k * 13 + 5)).collect();
        let seen: Vec<(u32, u32)> = (0..nu * 2).map(|k| ((k % nu) as u32, ((k * 31 + 3) % ni) as u32)).collect();
        let m = model(nu, ni, rank, uf, itf, &seen);
        let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 5 == 1));
        let cand = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 3 != 0));
        let opts = RecommendOptions {
            n, include_seen,
            filter: use_filter.then_some(&filter),
            candidates: use_cand.then_some(&cand),
        };
        let users: Vec<u32> = (0..nu as u32).collect();
        let mut got = Vec::new();
        m.recommend_batch(&users, &opts, |u, r| { got.push((u, r)); Ok(()) }).unwrap();
        prop_assert_eq!(got.len(), nu);
        for (u, r) in got {
            let want = naive(&m, u, &opts);
            prop_assert_eq!(&r, &want);
            prop_assert_eq!(&recommend_user(&m, u, &opts).unwrap(), &want);
            prop_assert_eq!(&m.recommend_index(u, &opts).unwrap(), &want);
        }
    }
}

/// A model with `nu` users, `ni` items and rank `k` whose item norms spread over a wide
/// range (so that pruning has something to prune). `exact_values`: small multiples of
/// powers of two, so that every score is exact in f32 and ties are real ties.
fn spread_model(
    nu: usize,
    ni: usize,
    k: usize,
    seed: u64,
    exact_values: bool,
    biases: bool,
) -> Model {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x >> 11
    };
    let mut val = |scale: f32| -> f32 {
        let r = next();
        if exact_values {
            ((r % 7) as f32 - 3.0) * scale
        } else {
            ((r % 1_000_000) as f32 / 500_000.0 - 1.0) * scale
        }
    };
    let uf: Vec<f32> = (0..nu * k).map(|_| val(1.0)).collect();
    let mut itf = Vec::with_capacity(ni * k);
    for i in 0..ni {
        let scale = [4.0, 2.0, 1.0, 0.5, 0.25, 0.125][(i * 7 + 3) % 6];
        for _ in 0..k {
            itf.push(val(scale));
        }
    }
    let seen: Vec<(u32, u32)> = (0..nu as u32)
        .flat_map(|u| (0..ni as u32).map(move |i| (u, i)))
        .filter(|&(u, i)| (u * 31 + i * 17) % 5 == 0)
        .collect();
    let mut m = model(nu, ni, k, uf, itf, &seen);
    if biases {
        m.biases = Some(Biases {
            global: val(1.0),
            user: (0..nu).map(|_| val(0.5)).collect(),
            item: (0..ni).map(|_| val(0.5)).collect(),
        });
    }
    m
}

/// [`batch_shaped`] for users, collected.
fn run_shaped(
    m: &Model,
    users: &[u32],
    opts: &RecommendOptions<'_>,
    shape: Shape,
) -> Result<Vec<(u32, ScoredIndices)>> {
    let (q, t, global) = sides(m, true);
    let mut got = Vec::new();
    let bound = SideBound::of(&t);
    batch_shaped(
        &q,
        &t,
        global,
        bound,
        IdKind::User,
        users,
        Some(&m.seen),
        opts,
        shape,
        &|u, r| (u, r),
        &mut |p| {
            got.push(p);
            Ok(())
        },
    )?;
    Ok(got)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn pruned_batch_equals_per_user(
        nu in 1usize..40, ni in 1usize..70, k in 1usize..6, seed: u64,
        exact_values: bool, biases: bool,
        n in 1usize..14, include_seen: bool, use_filter: bool, use_cand: bool,
        tile in 1usize..9, block in 1usize..6, group in 1usize..12,
    ) {
        let m = spread_model(nu, ni, k, seed, exact_values, biases);
        let filter = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 5 == 1));
        let cand = IndexSet::from_indices(ni, (0..ni as u32).filter(|i| i % 3 != 0));
        let opts = RecommendOptions {
            n, include_seen,
            filter: use_filter.then_some(&filter),
            candidates: use_cand.then_some(&cand),
        };
        let users: Vec<u32> = (0..nu as u32).rev().collect();
        let pruned = Shape { tile, block, group, prune_min: 0 };
        let plain = Shape { prune_min: usize::MAX, ..pruned };
        let got = run_shaped(&m, &users, &opts, pruned).unwrap();
        let unpruned = run_shaped(&m, &users, &opts, plain).unwrap();
        prop_assert_eq!(got.len(), nu);
        for ((u, r), (u2, r2)) in got.iter().zip(&unpruned) {
            prop_assert_eq!(u, u2);
            let want = recommend_user(&m, *u, &opts).unwrap();
            prop_assert_eq!(r, &want, "user {}", u);
            prop_assert_eq!(r2, &want, "user {} (unpruned)", u);
            prop_assert_eq!(&naive(&m, *u, &opts), &want);
        }
    }
}

#[test]
fn pruning_skips_low_norm_items_and_stays_exact() {
    // Item norms decay geometrically: a user's top 5 are among the first items visited.
    let (nu, ni, k) = (50usize, 400usize, 4usize);
    let mut m = spread_model(nu, ni, k, 99, false, false);
    for i in 0..ni {
        let scale = 0.97f32.powi(i as i32);
        for f in m.item_factors.row_mut(i) {
            *f *= scale;
        }
    }
    let opts = RecommendOptions::top(5);
    let (q, t, global) = sides(&m, true);
    let view = View::new(ni, &opts);
    let b = Batch {
        query: &q,
        target: &t,
        global,
        order: Order::new(&t, &view, 16, true, SideBound::of(&t)),
        view,
        exclude: Some(&m.seen),
        opts: &opts,
        kk: 5 + 16 + 1,
        block: 8,
    };
    let users: Vec<u32> = (0..nu as u32).collect();
    let mut s = Scratch::default();
    let got = b.score_group(&users, &mut s);
    assert!(s.scored < (nu * ni / 4) as u64, "scored {} of {}", s.scored, nu * ni);
    for (u, r) in users.iter().zip(&got) {
        assert_eq!(r, &naive(&m, *u, &opts), "user {u}");
    }
}

#[test]
fn a_crowd_of_ties_at_the_margin_is_ranked_exactly() {
    // 40 items tie for the top (more than the N + 16 + N/4 candidates kept), 60 score less:
    // pruned or not, the batch scorer sees that a candidate it dropped might belong to the
    // top N and ranks such a query target by target.
    let (nu, ni) = (3usize, 100usize);
    let itf: Vec<f32> = (0..ni).map(|i| if i % 5 < 2 { 2.0 } else { 1.0 }).collect();
    let m = model(nu, ni, 1, vec![1.0, 0.5, 1.0], itf, &[(0, 5), (2, 0)]);
    let opts = RecommendOptions::top(5);
    let (q, t, global) = sides(&m, true);
    for prune in [true, false] {
        let view = View::new(ni, &opts);
        let b = Batch {
            query: &q,
            target: &t,
            global,
            order: Order::new(&t, &view, 8, prune, SideBound::of(&t)),
            view,
            exclude: Some(&m.seen),
            opts: &opts,
            kk: 5 + 16 + 1,
            block: 2,
        };
        let users: Vec<u32> = (0..nu as u32).collect();
        let mut s = Scratch::default();
        let got = b.score_group(&users, &mut s);
        assert_eq!(s.crowded, nu as u64, "prune {prune}");
        for (u, r) in users.iter().zip(&got) {
            assert_eq!(r, &naive(&m, *u, &opts), "user {u}, prune {prune}");
            assert_eq!(&m.recommend_index(*u, &opts).unwrap(), r, "user {u}");
        }
    }
}

#[test]
fn pruning_with_non_finite_factors_equals_per_user() {
    let mut m = spread_model(12, 40, 2, 3, true, false);
    m.item_factors.row_mut(3)[0] = f32::INFINITY;
    m.item_factors.row_mut(7)[1] = f32::NAN;
    m.item_factors.row_mut(9)[0] = -f32::INFINITY;
    m.user_factors.row_mut(0).fill(0.0);
    m.user_factors.row_mut(1)[0] = f32::INFINITY;
    let opts = RecommendOptions::top(6);
    let users: Vec<u32> = (0..12).collect();
    let shape = Shape { tile: 5, block: 2, group: 3, prune_min: 0 };
    for (u, r) in run_shaped(&m, &users, &opts, shape).unwrap() {
        let want = naive(&m, u, &opts);
        assert_eq!(r.eligible, want.eligible);
        assert_eq!(r.items.len(), want.items.len(), "user {u}");
        for (a, b) in r.items.iter().zip(&want.items) {
            assert!(a.0 == b.0 && (a.1 == b.1 || (a.1.is_nan() && b.1.is_nan())), "user {u}");
        }
    }
}

#[test]
fn streamed_groups_keep_input_order_and_stop_at_a_sink_error() {
    let m = spread_model(50, 30, 3, 5, true, true);
    let opts = RecommendOptions::top(4);
    let users: Vec<u32> = (0..50u32).map(|u| (u * 17) % 50).collect();
    let shape = Shape { tile: 4, block: 3, group: 4, prune_min: 0 };
    let want: Vec<(u32, ScoredIndices)> = users.iter().map(|&u| (u, naive(&m, u, &opts))).collect();
    assert_eq!(run_shaped(&m, &users, &opts, shape).unwrap(), want);
    // From inside a one-thread pool the stream is not used (it would block the worker).
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    assert_eq!(pool.install(|| run_shaped(&m, &users, &opts, shape)).unwrap(), want);
    let (q, t, global) = sides(&m, true);
    let mut calls = 0;
    let bound = SideBound::of(&t);
    let r = batch_shaped(
        &q,
        &t,
        global,
        bound,
        IdKind::User,
        &users,
        Some(&m.seen),
        &opts,
        shape,
        &|u, r| (u, r),
        &mut |_| {
            calls += 1;
            if calls == 7 { Err(Error::Invalid("stop".into())) } else { Ok(()) }
        },
    );
    assert!(r.is_err());
    assert_eq!(calls, 7);
}

#[test]
fn users_batch_with_pruning_equals_naive() {
    // 600 users: more than one tile of targets and enough queries to prune.
    let (nu, ni) = (600usize, 70usize);
    let m = spread_model(nu, ni, 3, 11, true, true);
    let opts = RecommendOptions::top(7);
    let items: Vec<u32> = (0..ni as u32).collect();
    let mut got = Vec::new();
    m.recommend_users_batch(&items, &opts, |i, r| {
        got.push((i, r));
        Ok(())
    })
    .unwrap();
    for (i, r) in got {
        let mut all: Vec<(u32, f32)> = (0..nu as u32)
            .filter(|&u| !m.seen.row(u as usize).0.contains(&i))
            .map(|u| (u, score(&m, u, i).unwrap()))
            .collect();
        all.sort_by(better);
        let eligible = all.len();
        all.truncate(opts.n);
        assert_eq!(r, ScoredIndices { items: all, eligible }, "item {i}");
    }
}

fn special_score() -> impl Strategy<Value = f32> {
    prop_oneof![
        (-3i32..3).prop_map(|x| x as f32),
        -3f32..3.0,
        Just(f32::NAN),
        Just(-0.0f32),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
    ]
}

proptest! {
    #[test]
    fn beaten_by_never_counts_a_score_at_or_below_the_bar(
        scores in proptest::collection::vec(special_score(), 0..60),
        bar in prop_oneof![-3f64..3.0, (-3i32..3).prop_map(f64::from), Just(f64::NAN),
            Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(1e300), Just(-1e300)],
        n in 0usize..62,
    ) {
        let mut sel = Selector {
            buf: scores.iter().enumerate().map(|(i, &s)| sel_key(i as u32, s)).collect(),
            ..Selector::default()
        };
        let b = f32_at_least(bar);
        prop_assert!(bar.is_nan() || (!b.is_nan() && f64::from(b) >= bar));
        // Counted: the scores above `b`, all of them above `bar`; only scores within one
        // f32 step above the bar may be missed.
        let counted = scores.iter().filter(|&&s| s > b).count();
        let exact = scores.iter().filter(|&&s| f64::from(s) > bar).count();
        let close = scores.iter().filter(|&&s| f64::from(s) > bar && s <= b).count();
        prop_assert_eq!(counted + close, exact);
        let want = n > 0 && !bar.is_nan() && counted >= n;
        prop_assert_eq!(sel.beaten_by(n, bar), want);
        // Cached, and still right once the candidates have been reordered.
        prop_assert_eq!(sel.beaten_by(n, bar), want);
    }

    #[test]
    fn selection_keys_order_like_better(
        a in (0u32..20, special_score()), b in (0u32..20, special_score()),
    ) {
        let (ka, kb) = (sel_key(a.0, a.1), sel_key(b.0, b.1));
        prop_assert_eq!(ka.cmp(&kb), better(&a, &b).reverse());
        prop_assert_eq!(key_index(ka), a.0);
        let back = key_score(ka);
        prop_assert!(back == a.1 || (back.is_nan() && a.1.is_nan()));
    }

    #[test]
    fn selector_fed_in_any_order_equals_top_k(
        scores in proptest::collection::vec(special_score(), 0..700),
        k in 0usize..50,
        skip_mod in 1u32..5,
        piece in 1usize..300,
        seed: u64,
    ) {
        let skip = |i: u32| skip_mod > 1 && i % skip_mod == 0;
        // A pseudo-random permutation of the indices.
        let mut order: Vec<u32> = (0..scores.len() as u32).collect();
        let mut x = seed | 1;
        for j in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(j, (x % (j as u64 + 1)) as usize);
        }
        let permuted: Vec<f32> = order.iter().map(|&i| scores[i as usize]).collect();
        let mut sel = Selector::default();
        sel.reset();
        for (p, idx) in order.chunks(piece).enumerate() {
            sel.feed_indexed(&permuted[p * piece..p * piece + idx.len()], idx, k, &skip);
        }
        let a = sel.finish(k).to_vec();
        let b = crate::topk::top_k(&scores, k, skip);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert!(x.0 == y.0 && (x.1 == y.1 || (x.1.is_nan() && y.1.is_nan())));
        }
    }
}

#[test]
fn item_search_and_user_items() {
    let m = model(2, 4, 1, vec![1.0, 1.0], vec![1.0, 2.0, 3.0, 4.0], &[(0, 2), (0, 1)]);
    let csv = b"id,title\ni0,Star Wars (1977)\ni1,Star Trek: Generations (1994)\ni2,Fargo (1996)\nzz,Star Wars: Not In The Model (2000)\n";
    let meta = crate::meta::parse_metadata(csv, std::path::Path::new("m.csv"), &Default::default())
        .unwrap();
    let hits = m.search_items("star wars", Some(&meta), 10).unwrap();
    assert_eq!(hits.first().map(|h| h.item.as_str()), Some("i0"));
    assert!(hits.iter().all(|h| h.item != "zz"), "{hits:?}");
    assert_eq!(m.search_items("star", Some(&meta), 1).unwrap().len(), 1);
    // An id is found by itself, first, with or without metadata.
    assert_eq!(m.search_items(" i3 ", None, 5).unwrap()[0].item, "i3");
    assert_eq!(m.search_items("i2", Some(&meta), 5).unwrap()[0].item, "i2");
    assert!(m.search_items("fargo", None, 5).unwrap().is_empty());
    assert!(m.search_items("  ", Some(&meta), 5).unwrap().is_empty());
    assert!(m.search_items("x", None, 0).is_err());
    let seen = m.user_items("u0", 1).unwrap();
    assert_eq!((seen.results.len(), seen.eligible), (1, 2));
    assert!(m.user_items("u9", 1).is_err());
}
