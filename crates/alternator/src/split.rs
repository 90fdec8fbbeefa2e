//! Train/test splits: random, leave-k-out, by time.
//!
//! A split decides, for every interaction of an [`Interactions`] read with
//! [`ReaderBuilder::keep_lines`](crate::ReaderBuilder::keep_lines), whether it goes to the
//! test set ([`split_mask`]); [`write_split`] then copies the original lines of the input file
//! (the header line, when there is one, to both outputs) so the outputs keep the input's
//! format, delimiter and ids byte for byte. Everything is deterministic for a seed
//! (SplitMix64 streams) and independent of the thread count.

use std::io::Write;
use std::path::Path;

use crate::data::Interactions;
use crate::error::{Error, Result};
use crate::files::AtomicFile;
use crate::rng::SplitMix64;

/// How to choose the test interactions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// Each interaction goes to test independently with probability `test_fraction`
    /// (like `implicit.evaluation.train_test_split`): one uniform draw `x ∈ [0, 1)` per
    /// interaction in file order from one stream, test when `x < test_fraction`.
    Random {
        /// Probability of an interaction going to test, in `(0, 1)`.
        test_fraction: f64,
    },
    /// Per user, as `implicit.evaluation.leave_k_out_split`: only users with more than
    /// `k + 1` interactions are eligible, and each gives up exactly `k` of them, chosen
    /// uniformly at random (from the user's own stream of the seed, by a partial
    /// Fisher–Yates shuffle), not the latest ones even when the file has timestamps: use
    /// [`Strategy::ByTime`] for a temporal split.
    LeaveKOut {
        /// Interactions per eligible user sent to test, ≥ 1.
        k: usize,
    },
    /// The latest `round(test_fraction · n)` interactions by timestamp go to test; equal
    /// timestamps are ordered by line (later lines are "later"). Needs a time column.
    ByTime {
        /// Fraction of interactions sent to test, in `(0, 1)`.
        test_fraction: f64,
    },
}

/// What a split did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitCounts {
    /// Interactions in the training output.
    pub train: usize,
    /// Interactions in the test output.
    pub test: usize,
    /// Users eligible to give up test interactions (leave-k-out: users with more than
    /// `k + 1` interactions; other strategies: users with at least one test interaction).
    pub eligible_users: usize,
}

fn check_fraction(f: f64) -> Result<()> {
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::param(
            "test_fraction",
            format!("must be strictly between 0 and 1, got {f}"),
        ));
    }
    Ok(())
}

/// `true` for every interaction of `data` that goes to test, plus the split's counts.
pub fn split_mask(
    data: &Interactions,
    strategy: &Strategy,
    seed: u64,
) -> Result<(Vec<bool>, SplitCounts)> {
    let n = data.len();
    let mut test = vec![false; n];
    let mut eligible = None;
    match *strategy {
        Strategy::Random { test_fraction } => {
            check_fraction(test_fraction)?;
            let mut g = SplitMix64::new(seed);
            for t in test.iter_mut() {
                *t = g.next_f64() < test_fraction;
            }
        }
        Strategy::LeaveKOut { k } => {
            if k == 0 {
                return Err(Error::param("k", "must be at least 1"));
            }
            // Interactions of each user, in file order (counting sort by user).
            let nu = data.users.len();
            let mut start = vec![0usize; nu + 1];
            for &u in &data.user_idx {
                if let Some(c) = start.get_mut(u as usize + 1) {
                    *c += 1;
                }
            }
            for u in 0..nu {
                start[u + 1] += start[u];
            }
            let mut next = start.clone();
            let mut order = vec![0usize; n];
            for (pos, &u) in data.user_idx.iter().enumerate() {
                if let Some(slot) = next.get_mut(u as usize) {
                    order[*slot] = pos;
                    *slot += 1;
                }
            }
            let mut count = 0;
            for u in 0..nu {
                let mine = &mut order[start[u]..start[u + 1]];
                if mine.len() <= k + 1 {
                    continue;
                }
                count += 1;
                let mut g = SplitMix64::stream(seed, u as u64);
                for j in 0..k {
                    let pick = j + g.below((mine.len() - j) as u64) as usize;
                    mine.swap(j, pick);
                    test[mine[j]] = true;
                }
            }
            eligible = Some(count);
        }
        Strategy::ByTime { test_fraction } => {
            check_fraction(test_fraction)?;
            let Some(times) = &data.times else {
                return Err(Error::param(
                    "time_col",
                    format!(
                        "a split by time needs a timestamp column, and none was found in {}; name it",
                        data.path.display()
                    ),
                ));
            };
            let n_test = ((n as f64) * test_fraction).round() as usize;
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&k| (times.get(k).copied().unwrap_or(0), k)); // ties: line order
            for &k in order.iter().skip(n - n_test.min(n)) {
                test[k] = true;
            }
        }
    }
    let n_test = test.iter().filter(|&&t| t).count();
    let eligible_users = eligible.unwrap_or_else(|| {
        let mut has = vec![false; data.users.len()];
        for (&u, _) in data.user_idx.iter().zip(&test).filter(|(_, t)| **t) {
            if let Some(h) = has.get_mut(u as usize) {
                *h = true;
            }
        }
        has.iter().filter(|&&h| h).count()
    });
    Ok((test, SplitCounts { train: n - n_test, test: n_test, eligible_users }))
}

/// `implicit.evaluation.train_test_split` on interactions: each goes to test independently
/// with probability `test_fraction` ([`Strategy::Random`]). Both parts keep `data`'s id maps,
/// so their indices stay comparable. Returns `(train, test)`.
pub fn train_test_split(
    data: &Interactions,
    test_fraction: f64,
    seed: u64,
) -> Result<(Interactions, Interactions)> {
    let (is_test, _) = split_mask(data, &Strategy::Random { test_fraction }, seed)?;
    Ok(partition(data, &is_test))
}

/// Splits `data` by `is_test` (one flag per interaction) into `(train, test)`, both keeping
/// `data`'s id maps, times and line numbers.
pub fn partition(data: &Interactions, is_test: &[bool]) -> (Interactions, Interactions) {
    let flag = |k: usize| is_test.get(k).copied().unwrap_or(false);
    // `filter` visits the interactions in order, once each.
    let mut at = 0usize;
    let train = data.filter(|_, _, _| {
        at += 1;
        !flag(at - 1)
    });
    let mut at = 0usize;
    let test = data.filter(|_, _, _| {
        at += 1;
        flag(at - 1)
    });
    (train, test)
}

/// Copies the lines of `input` (the file `data` was read from, with
/// [`ReaderBuilder::keep_lines`](crate::ReaderBuilder::keep_lines)) to `out_train` and
/// `out_test` according to `is_test`: each interaction's original line, byte for byte, and the
/// header line (when `data` has a header) to both. Blank and skipped lines are left out. Each
/// output is written atomically (see [`crate::files`]). A gzip or zstd input is copied as
/// plain text; a Parquet input is split with [`crate::tables::filter_rows`].
pub fn write_split(
    input: &Path,
    data: &Interactions,
    is_test: &[bool],
    out_train: &Path,
    out_test: &Path,
) -> Result<()> {
    let bytes = crate::data::read_text(input)?;
    write_split_text(&bytes, data, is_test, out_train, out_test)
}

/// [`write_split`] for an input already in memory: `text` is its (decompressed) text.
pub fn write_split_text(
    text: &[u8],
    data: &Interactions,
    is_test: &[bool],
    out_train: &Path,
    out_test: &Path,
) -> Result<()> {
    let Some(lines) = &data.lines else {
        return Err(Error::Invalid("write_split needs interactions read with keep_lines".into()));
    };
    let bytes = text;
    let open = |p: &Path| -> Result<std::io::BufWriter<AtomicFile>> {
        Ok(std::io::BufWriter::with_capacity(1 << 20, AtomicFile::create(p)?))
    };
    let mut train = open(out_train)?;
    let mut test = open(out_test)?;
    let mut next = 0usize; // index into `lines` (ascending)
    let mut header_pending = data.header.is_some();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Lines as the reader numbered them (`\n`, `\r\n` or a lone `\r`), each copied with its
    // own line end.
    for (k, (text, eol)) in crate::data::lines(body).enumerate() {
        let line_no = k as u64 + 1;
        let eol: &[u8] = if eol.is_empty() { b"\n" } else { eol };
        if header_pending {
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            header_pending = false;
            write_line(&mut train, text, eol, out_train)?;
            write_line(&mut test, text, eol, out_test)?;
            continue;
        }
        if lines.get(next) != Some(&line_no) {
            continue;
        }
        if is_test.get(next).copied().unwrap_or(false) {
            write_line(&mut test, text, eol, out_test)?;
        } else {
            write_line(&mut train, text, eol, out_train)?;
        }
        next += 1;
    }
    let train = train.into_inner().map_err(|e| Error::io(out_train, e.into_error()))?;
    let test = test.into_inner().map_err(|e| Error::io(out_test, e.into_error()))?;
    train.commit()?;
    test.commit()
}

fn write_line(w: &mut impl Write, raw: &[u8], eol: &[u8], path: &Path) -> Result<()> {
    w.write_all(raw).and_then(|_| w.write_all(eol)).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ReadOptions, parse_interactions};

    fn data(text: &str) -> Interactions {
        let opts = ReadOptions { keep_lines: true, ..ReadOptions::default() };
        parse_interactions(text.as_bytes(), Path::new("t"), &opts).unwrap()
    }

    #[test]
    fn leave_k_out_only_eligible_users() {
        // a: 4 interactions (eligible for k=1 and k=2), b: 2 (not for k=1), c: 3 (k=1 only).
        let d = data(
            "a\t1\t1\na\t2\t1\nb\t1\t1\na\t3\t1\nc\t1\t1\nb\t2\t1\nc\t2\t1\nc\t3\t1\na\t4\t1\n",
        );
        let (mask, counts) = split_mask(&d, &Strategy::LeaveKOut { k: 1 }, 7).unwrap();
        assert_eq!(counts, SplitCounts { train: 7, test: 2, eligible_users: 2 });
        let per_user =
            |u: u32| d.user_idx.iter().zip(&mask).filter(|(x, t)| **x == u && **t).count();
        assert_eq!((per_user(0), per_user(1), per_user(2)), (1, 0, 1));
        let (m2, c2) = split_mask(&d, &Strategy::LeaveKOut { k: 2 }, 7).unwrap();
        assert_eq!(c2.eligible_users, 1);
        assert_eq!(m2.iter().filter(|&&t| t).count(), 2);
        assert_eq!(split_mask(&d, &Strategy::LeaveKOut { k: 1 }, 7).unwrap().0, mask);
    }

    #[test]
    fn by_time_takes_latest_with_line_ties() {
        let d = data("a\t1\t1\t30\nb\t1\t1\t10\nc\t1\t1\t30\nd\t1\t1\t20\n");
        let (mask, c) = split_mask(&d, &Strategy::ByTime { test_fraction: 0.5 }, 0).unwrap();
        assert_eq!(mask, vec![true, false, true, false]);
        assert_eq!(c.test, 2);
        let (mask, _) = split_mask(&d, &Strategy::ByTime { test_fraction: 0.25 }, 0).unwrap();
        assert_eq!(mask, vec![false, false, true, false]);
        let no_time = data("a\t1\t1\nb\t1\t1\n");
        let err = split_mask(&no_time, &Strategy::ByTime { test_fraction: 0.5 }, 0).unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { name: "time_col", .. }), "{err}");
    }

    #[test]
    fn random_fraction_and_bad_fraction() {
        let text: String = (0..2000).map(|i| format!("u{}\ti{}\t1\n", i % 50, i)).collect();
        let d = data(&text);
        let (_, c) = split_mask(&d, &Strategy::Random { test_fraction: 0.2 }, 3).unwrap();
        assert!((300..500).contains(&c.test), "{c:?}");
        assert!(split_mask(&d, &Strategy::Random { test_fraction: 1.0 }, 3).is_err());
        assert!(split_mask(&d, &Strategy::Random { test_fraction: f64::NAN }, 3).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Leave-k-out gives exactly k test interactions to every user with more than k + 1
        /// and none to the others; by-time sends the latest round(f·n) by (time, line).
        #[test]
        fn split_invariants(
            rows in proptest::collection::vec((0u8..8, 0u8..5, 0i64..6), 1..80),
            k in 1usize..4, seed in proptest::prelude::any::<u64>(), frac in 0.05f64..0.95,
        ) {
            let text: String = rows.iter().map(|(u, i, t)| format!("u{u}\ti{i}\t1\t{t}\n")).collect();
            let d = data(&text);
            let (mask, c) = split_mask(&d, &Strategy::LeaveKOut { k }, seed).unwrap();
            let mut eligible = 0;
            for u in 0..d.users.len() as u32 {
                let n = d.user_idx.iter().filter(|&&x| x == u).count();
                let t = d.user_idx.iter().zip(&mask).filter(|(x, m)| **x == u && **m).count();
                proptest::prop_assert_eq!(t, if n > k + 1 { k } else { 0 });
                eligible += usize::from(n > k + 1);
            }
            proptest::prop_assert_eq!(c.eligible_users, eligible);
            proptest::prop_assert_eq!(c.train + c.test, rows.len());
            proptest::prop_assert_eq!(split_mask(&d, &Strategy::LeaveKOut { k }, seed).unwrap().0, mask);
            let (mask, c) = split_mask(&d, &Strategy::ByTime { test_fraction: frac }, seed).unwrap();
            proptest::prop_assert_eq!(c.test, ((rows.len() as f64) * frac).round() as usize);
            let key = |j: usize| (rows[j].2, j);
            let max_train = (0..rows.len()).filter(|&j| !mask[j]).map(key).max();
            let min_test = (0..rows.len()).filter(|&j| mask[j]).map(key).min();
            if let (Some(a), Some(b)) = (max_train, min_test) {
                proptest::prop_assert!(a < b);
            }
        }
    }
}
