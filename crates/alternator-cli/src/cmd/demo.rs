//! `alternator demo`: the self-contained tour. Generates an embedded movie-like data set,
//! runs a small tune, trains the best configuration, evaluates it (RMSE/MAE and ranking
//! metrics), and shows titled recommendations, similar movies and a fold-in of a new user.

use std::time::Instant;

use alternator::generate::{GENRES, MovieData, movie_data};
use alternator::split::train_test_split;
use alternator::tune::{Grid, Metric, TuneOptions, Validation, als_trainer, tune};
use alternator::{Als, AlsParams, ColdStart, IdKind, NewUser, RecommendOptions};
use anyhow::Context;

use crate::common;

/// Flags of `alternator demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of users in the generated data set
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Number of movies in the generated data set
    #[arg(long, default_value_t = 400)]
    pub movies: usize,
    /// Seed of the data, the splits and the factors
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The user to show recommendations for (u1, u2, ...)
    #[arg(long, default_value = "u1")]
    pub user: String,
    /// Keep movies with fewer than N training ratings out of the lists
    #[arg(long, visible_alias = "min-support", value_name = "N", default_value_t = 0)]
    pub min_item_interactions: u32,
    /// Worker threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
}

fn genre_name(g: usize) -> &'static str {
    GENRES.get(g).copied().unwrap_or("?")
}

/// Runs the verb.
pub fn run(a: Args) -> anyhow::Result<()> {
    if !(20..=100_000).contains(&a.users) {
        return common::usage("--users must be between 20 and 100000");
    }
    if !(16..=100_000).contains(&a.movies) {
        return common::usage("--movies must be between 16 and 100000");
    }
    common::init_threads(a.threads)?;
    let start = Instant::now();
    let data: MovieData = movie_data(a.users, a.movies, a.seed);
    let r = &data.ratings;
    if r.users().get(&a.user).is_none() {
        return common::usage(format!(
            "--user {:?} is not in the demo data: its users are u1 to u{}",
            a.user,
            r.users().len()
        ));
    }
    println!("== Alternator demo: ALS recommendations on a made-up movie catalogue ==");
    println!(
        "1. data: {} ratings (1-5) by {} users of {} movies in {} genres ({}), generated in memory with planted genre tastes",
        r.len(),
        r.users().len(),
        r.items().len(),
        GENRES.len(),
        GENRES.join(", ")
    );
    let (train, test) = train_test_split(r, 0.2, a.seed)?;
    println!("   split: {} training and {} test ratings (random 20%)", train.len(), test.len());

    // 2. A small tune on the training part.
    let base = AlsParams { seed: a.seed, max_iter: 10, ..AlsParams::default() };
    let grid = Grid {
        ranks: vec![8, 16],
        reg_params: vec![0.05, 0.15],
        alphas: vec![1.0],
        max_iters: vec![10],
        biases: vec![true],
    };
    let configs = grid.configs(&base)?;
    let opts = TuneOptions {
        metric: Metric::Rmse,
        seed: a.seed,
        patience: Some(3),
        ..TuneOptions::default()
    };
    let report = tune(&train, &Validation::Fraction(0.2), &configs, &opts, &als_trainer, &|_| {})?;
    println!(
        "\n2. tune: rank {{8, 16}} x reg-param {{0.05, 0.15}} with biases, validation RMSE on 20% of the training ratings"
    );
    println!("   {:>5} {:>10} {:>16} {:>10}", "rank", "reg-param", "validation RMSE", "best iter");
    for (pos, &i) in report.ranking.iter().enumerate() {
        let Some(c) = report.results.get(i) else { continue };
        println!(
            " {} {:>5} {:>10} {:>16.4} {:>10}",
            if pos == 0 { '*' } else { ' ' },
            c.params.rank,
            c.params.reg_param,
            c.mean,
            c.best_iteration
        );
    }
    let best = report.best().context("the tune scored no configuration")?;
    let params = AlsParams { max_iter: best.best_iteration, ..best.params.clone() };

    // 3. Train and evaluate.
    let t0 = Instant::now();
    let model = Als::from_params(&params).clip_predictions(true).fit(&train)?;
    let fit_s = t0.elapsed().as_secs_f64();
    let reg = model.evaluate(&test, ColdStart::Drop)?;
    let liked = test.filter(|_, _, v| v >= 4.0);
    let rank = model.evaluate_ranking(&liked, 10, Some(&train))?;
    println!(
        "\n3. train: rank {} reg-param {} with biases, {} iterations, {:.2}s",
        params.rank, params.reg_param, params.max_iter, fit_s
    );
    println!(
        "   test RMSE {:.4}  MAE {:.4}  R2 {:.3}  ({} ratings)",
        reg.rmse, reg.mae, reg.r2, reg.scored
    );
    println!(
        "   ranking of test movies rated 4-5, top 10: precision@10 {:.4}  NDCG@10 {:.4}  MAP@10 {:.4}  ({} users)",
        rank.precision, rank.ndcg, rank.map, rank.users
    );

    // 4. A sample user.
    let u = model.index_of(IdKind::User, &a.user)?;
    // Ratings are shown on the scale users gave them (1-5): ranking scores are not clipped.
    let (lo, hi) = (model.summary().value_min, model.summary().value_max);
    let shown = |s: f32| s.clamp(lo, hi);
    let filter = (a.min_item_interactions > 0).then(|| model.rare_items(a.min_item_interactions));
    let mut opts = RecommendOptions::top(8);
    opts.filter = filter.as_ref();
    let (fav, dislike) = data.tastes.get(u as usize).copied().unwrap_or(([0, 1], 2));
    println!(
        "\n4. user {} (planted tastes: loves {} and {}, dislikes {})",
        a.user,
        genre_name(fav[0]),
        genre_name(fav[1]),
        genre_name(dislike)
    );
    let (seen, vals) = model.training_matrix().row(u as usize);
    let mut rated: Vec<(u32, f32)> = seen.iter().copied().zip(vals.iter().copied()).collect();
    rated.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    println!("   rated highest:");
    for (i, v) in rated.iter().take(5) {
        println!("     {v:.0}  {}", data.label(*i));
    }
    let label = |id: &str| data.label(model.items().get(id).unwrap_or(u32::MAX));
    println!("   recommended (predicted rating):");
    for r in model.recommend_with(&a.user, &opts)?.results {
        println!("     {:.2}  {}", shown(r.score), label(&r.item));
    }
    if let Some(&(top, _)) = rated.first() {
        let top_id = model.id_at(IdKind::Item, top);
        println!("   movies similar to {} (cosine of factors):", data.label(top));
        let sim_opts = RecommendOptions { n: 5, ..opts };
        for r in model.similar_items_with(top_id, &sim_opts, false)?.results {
            println!("     {:.3}  {}", r.score, label(&r.item));
        }
    }

    // 5. Fold-in: a new user who loved three movies of one genre.
    let genre = 2usize; // Horror
    let picks: Vec<u32> = data
        .movies
        .iter()
        .enumerate()
        .filter(|(_, m)| m.genre == genre)
        .map(|(i, _)| i as u32)
        .take(3)
        .collect();
    let mut who = NewUser::new();
    for &i in &picks {
        who.rate(model.id_at(IdKind::Item, i), 5.0);
    }
    let folded = model.fold_in(&who, None)?;
    let recs = model.recommend_folded(&folded, &RecommendOptions { n: 6, ..opts })?;
    println!(
        "\n5. fold-in: a new user (not in the model) rates three {} movies 5/5:",
        genre_name(genre)
    );
    for i in &picks {
        println!("     5  {}", data.label(*i));
    }
    println!("   one least-squares solve against the item factors, then recommended:");
    for r in &recs.results {
        println!("     {:.2}  {}", shown(r.score), label(&r.item));
    }
    println!(
        "\ndone in {:.1}s. Next: `alternator generate`, `fit`, `evaluate`, `tune --help`.",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
