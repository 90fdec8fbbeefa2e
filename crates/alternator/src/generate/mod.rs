//! Deterministic synthetic interaction data of any size, shaped like real logs.
//!
//! * **User activity** is log-normal (σ = 1): a few heavy users, many light ones. Per-user
//!   counts are apportioned by largest remainder so the file has exactly the requested number
//!   of interactions (unless a user would need more than half of all items).
//! * **Item popularity** is Zipf-like (`p ∝ 1 / rank^0.9` over a seeded permutation), mixed
//!   with 20 % uniform draws.
//! * **A planted low-rank taste signal**: users and items get hidden rank-8 normal vectors
//!   `u`, `v`; with `s = uᵀv / √8`, a drawn item is kept with probability `σ(2s)` (users
//!   mostly pick what they like), ratings are `round(3 + 1.3·s + N(0, 0.6²))` clamped to
//!   1..5, and play counts are `1 + Geometric` with mean `2·e^{s}`.
//!
//! Each line is `user<TAB>item<TAB>value<TAB>timestamp` with integer ids starting at 1.
//! Every user is generated from its own random stream, so the bytes are the same for the
//! same arguments at any thread count.
//!
//! [`movie_data`] generates a titled, movie-like ratings data set in memory instead.

mod movies;
pub use movies::{GENRES, Movie, MovieData, movie_data};

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::error::{Error, Result};
use crate::files::AtomicFile;
use crate::rng::SplitMix64;

/// What kind of values to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Explicit ratings 1..=5.
    #[default]
    Ratings,
    /// Implicit play counts ≥ 1.
    Counts,
}

/// Parameters of a synthetic data set.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Number of interactions.
    pub nnz: usize,
    /// Random seed.
    pub seed: u64,
    /// Ratings or counts.
    pub kind: Kind,
    /// Fraction of interactions also written to `OUT.test` (the rest to `OUT.train`); 0 for none.
    pub test_fraction: f64,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct GenerateReport {
    /// Interactions written to the main file.
    pub interactions: usize,
    /// Interactions in `OUT.train` / `OUT.test` when split.
    pub train: usize,
    /// Interactions in `OUT.test`.
    pub test: usize,
    /// Files written.
    pub files: Vec<PathBuf>,
}

const HIDDEN_RANK: usize = 8;
const USERS_PER_BLOCK: usize = 2048;

/// Writes the data set to `out` (and `out.train` / `out.test` with a test fraction), each
/// file atomically (see [`crate::files`]): a failed run leaves no file half-written.
pub fn generate(opts: &GenerateOptions, out: &Path) -> Result<GenerateReport> {
    check(opts)?;
    let open = |p: &Path| -> Result<std::io::BufWriter<AtomicFile>> {
        Ok(std::io::BufWriter::with_capacity(1 << 20, AtomicFile::create(p)?))
    };
    let mut main = open(out)?;
    let report = if opts.test_fraction > 0.0 {
        let (ptr, pte) = (suffixed(out, "train"), suffixed(out, "test"));
        let (mut tr, mut te) = (open(&ptr)?, open(&pte)?);
        let mut report = write_data(opts, &mut main, out, Some((&mut tr, &ptr, &mut te, &pte)))?;
        commit(tr, &ptr)?;
        commit(te, &pte)?;
        report.files = vec![out.to_path_buf(), ptr, pte];
        report
    } else {
        let mut report = write_data(opts, &mut main, out, None)?;
        report.files = vec![out.to_path_buf()];
        report
    };
    commit(main, out)?;
    Ok(report)
}

/// Writes the data set to `out` (standard output, a pipe, a buffer): the one file only, so
/// `opts.test_fraction` must be 0. `name` is used in messages only.
pub fn generate_to(
    opts: &GenerateOptions,
    out: &mut dyn Write,
    name: &Path,
) -> Result<GenerateReport> {
    check(opts)?;
    if opts.test_fraction > 0.0 {
        return Err(Error::param(
            "test_fraction",
            "a test fraction writes two more files (OUT.train and OUT.test); write to a file",
        ));
    }
    let mut report = write_data(opts, out, name, None)?;
    out.flush().map_err(|e| Error::io(name, e))?;
    report.files = vec![name.to_path_buf()];
    Ok(report)
}

/// Flushes a buffered atomic file and puts it in place.
fn commit(w: std::io::BufWriter<AtomicFile>, path: &Path) -> Result<()> {
    w.into_inner().map_err(|e| Error::io(path, e.into_error()))?.commit()
}

/// The writers of the split files and their names.
type SplitOut<'a> = (&'a mut dyn Write, &'a Path, &'a mut dyn Write, &'a Path);

/// Checks the options before anything is written.
fn check(opts: &GenerateOptions) -> Result<()> {
    for (name, v) in [("users", opts.users), ("items", opts.items), ("nnz", opts.nnz)] {
        if v == 0 {
            return Err(Error::param(name, "must be at least 1"));
        }
    }
    for (name, v) in [("users", opts.users), ("items", opts.items)] {
        if v > u32::MAX as usize / 2 {
            return Err(Error::param(name, "must be at most 2 billion"));
        }
    }
    if !(0.0..1.0).contains(&opts.test_fraction) {
        return Err(Error::param(
            "test_fraction",
            format!("must be in [0, 1), got {}", opts.test_fraction),
        ));
    }
    let max_per_user = (opts.items / 2).max(1);
    if opts.nnz > opts.users.saturating_mul(max_per_user) {
        return Err(Error::param(
            "nnz",
            format!(
                "{} interactions do not fit {} users with at most {} items each",
                opts.nnz, opts.users, max_per_user
            ),
        ));
    }
    Ok(())
}

/// Generates the data set into `main` (named `out`), and into the split files when given.
fn write_data(
    opts: &GenerateOptions,
    main: &mut dyn Write,
    out: &Path,
    mut split: Option<SplitOut<'_>>,
) -> Result<GenerateReport> {
    let max_per_user = (opts.items / 2).max(1);
    let seed = opts.seed;
    // Per-user activity, apportioned by largest remainder.
    let weights: Vec<f64> = (0..opts.users)
        .map(|u| (SplitMix64::stream(seed, u as u64 ^ 0xA11CE).next_normal()).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / total * opts.nnz as f64).collect();
    let mut counts: Vec<usize> =
        exact.iter().map(|&e| (e.floor() as usize).clamp(1, max_per_user)).collect();
    let assigned: usize = counts.iter().sum();
    if assigned < opts.nnz {
        let mut order: Vec<usize> = (0..opts.users).collect();
        order.sort_by(|&a, &b| {
            let fa = exact[a] - exact[a].floor();
            let fb = exact[b] - exact[b].floor();
            fb.partial_cmp(&fa).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
        });
        let mut missing = opts.nnz - assigned;
        while missing > 0 {
            let before = missing;
            for &u in &order {
                if missing == 0 {
                    break;
                }
                if counts[u] < max_per_user {
                    counts[u] += 1;
                    missing -= 1;
                }
            }
            if missing == before {
                break;
            }
        }
    }
    // Item popularity (Zipf over a permutation) as a cumulative table; hidden item vectors.
    let mut perm: Vec<usize> = (0..opts.items).collect();
    let mut g = SplitMix64::new(seed ^ 0x17E5);
    for i in (1..perm.len()).rev() {
        let j = g.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    let mut cdf = vec![0f64; opts.items];
    let mut acc = 0.0;
    for (i, &r) in perm.iter().enumerate() {
        acc += 1.0 / ((r + 1) as f64).powf(0.9);
        cdf[i] = acc;
    }
    let item_vecs: Vec<f32> = (0..opts.items)
        .flat_map(|i| {
            let mut g = SplitMix64::stream(seed ^ 0x1AE5, i as u64);
            (0..HIDDEN_RANK).map(move |_| g.next_normal() as f32).collect::<Vec<_>>()
        })
        .collect();

    fn err(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |e| Error::io(p, e)
    }
    let mut report = GenerateReport::default();
    for block in (0..opts.users).collect::<Vec<_>>().chunks(USERS_PER_BLOCK) {
        let texts: Vec<UserLines> = block
            .par_iter()
            .map(|&u| user_lines(u, counts[u], seed, opts, &cdf, &item_vecs))
            .collect();
        for (all, train, test, ntr, nte) in texts {
            main.write_all(&all).map_err(err(out))?;
            if let Some((tr, ptr, te, pte)) = split.as_mut() {
                tr.write_all(&train).map_err(err(ptr))?;
                te.write_all(&test).map_err(err(pte))?;
            }
            report.interactions += ntr + nte;
            report.train += ntr;
            report.test += nte;
        }
    }
    main.flush().map_err(err(out))?;
    if let Some((tr, ptr, te, pte)) = split.as_mut() {
        tr.flush().map_err(err(ptr))?;
        te.flush().map_err(err(pte))?;
    }
    Ok(report)
}

/// One user's generated text: all lines, train lines, test lines, train count, test count.
type UserLines = (Vec<u8>, Vec<u8>, Vec<u8>, usize, usize);

/// `FILE` + `.suffix`.
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

fn user_lines(
    u: usize,
    count: usize,
    seed: u64,
    opts: &GenerateOptions,
    cdf: &[f64],
    item_vecs: &[f32],
) -> (Vec<u8>, Vec<u8>, Vec<u8>, usize, usize) {
    let mut g = SplitMix64::stream(seed, u as u64);
    let uvec: Vec<f32> = (0..HIDDEN_RANK).map(|_| g.next_normal() as f32).collect();
    let total = cdf.last().copied().unwrap_or(1.0);
    let mut chosen = FxHashSet::default();
    let mut picks = Vec::with_capacity(count);
    let mut attempts = 0usize;
    let scale = 1.0 / (HIDDEN_RANK as f32).sqrt();
    let affinity = |i: usize| -> f32 {
        let v = &item_vecs[i * HIDDEN_RANK..(i + 1) * HIDDEN_RANK];
        uvec.iter().zip(v).map(|(a, b)| a * b).sum::<f32>() * scale
    };
    while picks.len() < count {
        attempts += 1;
        let i = if g.next_f64() < 0.8 {
            let x = g.next_f64() * total;
            cdf.partition_point(|&c| c <= x).min(cdf.len() - 1)
        } else {
            g.below(cdf.len() as u64) as usize
        };
        if chosen.contains(&i) {
            continue;
        }
        let s = affinity(i);
        // Taste filter, relaxed when a heavy user has exhausted most of their liked items.
        let keep = 1.0 / (1.0 + (-2.0 * s).exp());
        if attempts < 20 * count + 100 && g.next_f64() > f64::from(keep) {
            continue;
        }
        chosen.insert(i);
        picks.push((i, s));
    }
    let base_time = 1_500_000_000i64 + (u as i64 % 1000) * 86_400;
    let (mut all, mut train, mut test) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ntr, mut nte) = (0, 0);
    for (n, &(i, s)) in picks.iter().enumerate() {
        let value: String = match opts.kind {
            Kind::Ratings => {
                let r = (3.0 + 1.3 * f64::from(s) + 0.6 * g.next_normal()).round().clamp(1.0, 5.0);
                format!("{}", r as i32)
            }
            Kind::Counts => {
                let mean = 2.0 * f64::from(s).exp();
                let p = 1.0 / (1.0 + mean);
                let geo = ((1.0 - g.next_f64()).ln() / (1.0 - p).ln()).floor();
                format!("{}", 1 + geo.min(1e6) as u64)
            }
        };
        let t = base_time + n as i64 * 3_600 + g.below(3_600) as i64;
        let line = format!("{}\t{}\t{}\t{}\n", u + 1, i + 1, value, t);
        all.extend_from_slice(line.as_bytes());
        if opts.test_fraction > 0.0 {
            if g.next_f64() < opts.test_fraction {
                test.extend_from_slice(line.as_bytes());
                nte += 1;
            } else {
                train.extend_from_slice(line.as_bytes());
                ntr += 1;
            }
        } else {
            ntr += 1;
        }
    }
    (all, train, test, ntr, nte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_exact_count_and_split() {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenerateOptions {
            users: 300,
            items: 200,
            nnz: 5000,
            seed: 7,
            kind: Kind::Ratings,
            test_fraction: 0.2,
        };
        let a = dir.path().join("a.tsv");
        let b = dir.path().join("b.tsv");
        let ra = generate(&opts, &a).unwrap();
        generate(&opts, &b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ra.interactions, 5000);
        assert_eq!(ra.train + ra.test, 5000);
        assert!(ra.test > 700 && ra.test < 1300, "{}", ra.test);
        let data = crate::data::read_interactions(&a, &Default::default()).unwrap();
        assert_eq!(data.len(), 5000);
        let (lo, hi) = data.value_range();
        assert!(lo >= 1.0 && hi <= 5.0);
        let csr = data.to_csr(crate::sparse::Duplicates::Keep);
        let dedup = data.to_csr(crate::sparse::Duplicates::Sum);
        assert_eq!(csr.nnz(), dedup.nnz(), "no duplicate pairs");
    }

    #[test]
    fn rejects_impossible_requests() {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenerateOptions {
            users: 2,
            items: 4,
            nnz: 100,
            seed: 1,
            kind: Kind::Counts,
            test_fraction: 0.0,
        };
        assert!(generate(&opts, &dir.path().join("x")).is_err());
    }
}
