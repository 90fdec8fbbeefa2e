//! An embedded, movie-like ratings data set (the one `alternator demo` tours): made-up titled
//! movies in genres and users with planted genre tastes, generated in memory (no file, no
//! download).
//!
//! # The model that generates it
//!
//! Each of `G = 8` genres has a list of title words. Movie `m` belongs to genre `g(m) = m mod G`
//! and has a quality `q_m ~ N(0, 0.4²)`. User `u` has a taste `t_ug ~ N(0, 0.6²)` for every
//! genre, plus `+1.2` for two favourite genres and `−1.0` for one disliked genre. The
//! affinity is `a_um = t_u,g(m) + q_m`. A user rates `n_u` movies (`n_u` uniform in
//! `[15, 90]`), picked without replacement with weights `exp(1.5·a_um)` (people mostly watch
//! what they expect to like), and gives the rating
//! `r_um = clamp(round(3.2 + 1.1·a_um + ε), 1, 5)` with `ε ~ N(0, 0.5²)`.
//! Everything comes from [`SplitMix64`] streams of the seed (one per user and one per movie),
//! so the data is identical for a seed on every machine.

use std::path::PathBuf;

use crate::data::Interactions;
use crate::ids::IdMap;
use crate::rng::SplitMix64;

/// The genres, in genre-index order.
pub const GENRES: [&str; 8] =
    ["Sci-Fi", "Romance", "Horror", "Comedy", "Western", "Animation", "Thriller", "Documentary"];

const WORDS: [(&[&str], &[&str]); 8] = [
    (
        &["Quantum", "Silent", "Last", "Crimson", "Distant", "Hollow", "Iron", "Binary"],
        &["Nebula", "Orbit", "Colony", "Horizon", "Signal", "Eclipse", "Android", "Voyage"],
    ),
    (
        &["Paris", "Summer", "Second", "Secret", "Autumn", "Midnight", "Little", "Endless"],
        &["Letters", "Kiss", "Promise", "Waltz", "Garden", "Heart", "Rendezvous", "Vows"],
    ),
    (
        &["Cursed", "Bleeding", "Haunted", "Rotten", "Black", "Screaming", "Buried", "Pale"],
        &["Cellar", "Lullaby", "Harvest", "Chapel", "Doll", "Marsh", "Asylum", "Mirror"],
    ),
    (
        &["Crazy", "Awkward", "Big", "Lucky", "Accidental", "Wedding", "Office", "Lazy"],
        &["Neighbours", "Weekend", "Uncle", "Roommates", "Road Trip", "Llama", "Reunion", "Boss"],
    ),
    (
        &["Dusty", "Lone", "Red", "Dead Man's", "High", "Copper", "Broken", "Seven"],
        &["Canyon", "Saddle", "Gulch", "Rider", "Frontier", "Bounty", "Spurs", "Mesa"],
    ),
    (
        &["Brave", "Tiny", "Magic", "Sleepy", "Flying", "Clever", "Paper", "Happy"],
        &["Penguin", "Dragon", "Robot", "Kingdom", "Fox", "Balloon", "Island", "Owl"],
    ),
    (
        &["Cold", "Double", "Deadly", "Silent", "Final", "Hidden", "Night", "Glass"],
        &["Witness", "Protocol", "Alibi", "Cipher", "Target", "Verdict", "Ransom", "Dossier"],
    ),
    (
        &[
            "The Secret Life of",
            "Inside",
            "Saving",
            "The Last",
            "Voices of",
            "Beyond",
            "Under",
            "The Age of",
        ],
        &["Bees", "Glaciers", "Jazz", "Coral Reefs", "Chess", "Volcanoes", "Wolves", "Salt"],
    ),
];

/// One made-up movie.
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    /// Item id as it appears in the ratings (`m1`, `m2`, ...).
    pub id: String,
    /// A readable made-up title with a year.
    pub title: String,
    /// Index into [`GENRES`].
    pub genre: usize,
}

/// The demo data set: ratings and the movies they refer to.
#[derive(Debug, Clone)]
pub struct MovieData {
    /// Ratings 1..=5 by users `u1..` of movies `m1..` (item index = movie index).
    pub ratings: Interactions,
    /// The movies, in item-index order.
    pub movies: Vec<Movie>,
    /// Each user's two favourite genres and disliked genre (indices into [`GENRES`]).
    pub tastes: Vec<([usize; 2], usize)>,
}

impl MovieData {
    /// `Title (Genre)` of item index `i`.
    pub fn label(&self, i: u32) -> String {
        match self.movies.get(i as usize) {
            Some(m) => format!("{} ({})", m.title, GENRES.get(m.genre).copied().unwrap_or("?")),
            None => format!("item {i}"),
        }
    }
}

/// Generates the data set: `users` users, `movies` movies (see the module docs).
pub fn movie_data(users: usize, movies: usize, seed: u64) -> MovieData {
    let g = GENRES.len();
    let mut items = IdMap::new();
    let mut list = Vec::with_capacity(movies);
    let mut quality = Vec::with_capacity(movies);
    let mut used = std::collections::HashSet::new();
    for m in 0..movies {
        let genre = m % g;
        let mut r = SplitMix64::stream(seed ^ 0x6d6f_7669_6573, m as u64);
        let (adj, noun) = WORDS[genre];
        let mut title = String::new();
        for attempt in 0..64u64 {
            let a = adj[r.below(adj.len() as u64) as usize];
            let n = noun[r.below(noun.len() as u64) as usize];
            let year = 1950 + r.below(75);
            let t = if genre == 7 || a.starts_with("The ") || attempt % 2 == 1 {
                format!("{a} {n} ({year})")
            } else {
                format!("The {a} {n} ({year})")
            };
            if used.insert(t.clone()) {
                title = t;
                break;
            }
        }
        if title.is_empty() {
            title = format!("Untitled #{} ({})", m + 1, GENRES[genre]);
        }
        let id = format!("m{}", m + 1);
        items.get_or_insert(&id);
        list.push(Movie { id, title, genre });
        quality.push(0.4 * r.next_normal());
    }
    let mut user_ids = IdMap::new();
    let (mut uidx, mut iidx, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    let mut tastes = Vec::with_capacity(users);
    let mut weights = vec![0f64; movies];
    for u in 0..users {
        let mut r = SplitMix64::stream(seed ^ 0x0075_7365_7273, u as u64);
        let mut taste: Vec<f64> = (0..g).map(|_| 0.6 * r.next_normal()).collect();
        let fav1 = r.below(g as u64) as usize;
        let fav2 = (fav1 + 1 + r.below(g as u64 - 1) as usize) % g;
        let mut dislike = r.below(g as u64) as usize;
        while dislike == fav1 || dislike == fav2 {
            dislike = (dislike + 1) % g;
        }
        taste[fav1] += 1.2;
        taste[fav2] += 1.2;
        taste[dislike] -= 1.0;
        tastes.push(([fav1, fav2], dislike));
        let id = format!("u{}", u + 1);
        let ui = user_ids.get_or_insert(&id);
        let n = (15 + r.below(76) as usize).min(movies);
        for (m, w) in weights.iter_mut().enumerate() {
            *w = (1.5 * (taste[m % g] + quality[m])).exp();
        }
        // Weighted sampling without replacement (sequential draws, chosen weights zeroed).
        let mut total: f64 = weights.iter().sum();
        for _ in 0..n {
            if total <= 0.0 {
                break;
            }
            let mut x = r.next_f64() * total;
            let mut pick = movies - 1;
            for (m, &w) in weights.iter().enumerate() {
                if w > 0.0 && x < w {
                    pick = m;
                    break;
                }
                x -= w;
            }
            let Some(w) = weights.get_mut(pick) else { break };
            if *w <= 0.0 {
                // Rounding left x past the end: take the last movie still available.
                match weights.iter().rposition(|&w| w > 0.0) {
                    Some(p) => pick = p,
                    None => break,
                }
            }
            total -= weights[pick];
            weights[pick] = 0.0;
            let a = taste[pick % g] + quality[pick];
            let rating = (3.2 + 1.1 * a + 0.5 * r.next_normal()).round().clamp(1.0, 5.0);
            uidx.push(ui);
            iidx.push(pick as u32);
            vals.push(rating as f32);
        }
    }
    let ratings = Interactions {
        path: PathBuf::from("<demo movies>"),
        users: user_ids,
        items,
        user_idx: uidx,
        item_idx: iidx,
        values: vals,
        ..Interactions::default()
    };
    MovieData { ratings, movies: list, tastes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_titled_and_in_range() {
        let a = movie_data(200, 80, 7);
        let b = movie_data(200, 80, 7);
        assert_eq!(a.ratings.values, b.ratings.values);
        assert_eq!(a.movies, b.movies);
        assert_eq!(a.movies.len(), 80);
        assert!(a.ratings.len() >= 200 * 15);
        assert!(a.ratings.values.iter().all(|&v| (1.0..=5.0).contains(&v)));
        let titles: std::collections::HashSet<_> = a.movies.iter().map(|m| &m.title).collect();
        assert_eq!(titles.len(), 80);
        // No repeated (user, item) pair.
        let mut pairs: Vec<(u32, u32)> =
            a.ratings.user_idx.iter().copied().zip(a.ratings.item_idx.iter().copied()).collect();
        pairs.sort_unstable();
        let n = pairs.len();
        pairs.dedup();
        assert_eq!(pairs.len(), n);
        assert_ne!(movie_data(200, 80, 8).ratings.values, a.ratings.values);
    }

    #[test]
    fn planted_tastes_show_in_ratings() {
        let d = movie_data(300, 80, 1);
        let (mut fav, mut dis) = ((0.0, 0), (0.0, 0));
        for k in 0..d.ratings.len() {
            let u = d.ratings.user_idx[k] as usize;
            let genre = d.movies[d.ratings.item_idx[k] as usize].genre;
            let (f, x) = d.tastes[u];
            if f.contains(&genre) {
                fav = (fav.0 + d.ratings.values[k] as f64, fav.1 + 1);
            } else if genre == x {
                dis = (dis.0 + d.ratings.values[k] as f64, dis.1 + 1);
            }
        }
        assert!(fav.0 / fav.1 as f64 > dis.0 / dis.1 as f64 + 1.0);
        let (train, test) = crate::split::train_test_split(&d.ratings, 0.2, 3).unwrap();
        assert_eq!(train.len() + test.len(), d.ratings.len());
        assert!(test.len() > d.ratings.len() / 10);
    }
}
