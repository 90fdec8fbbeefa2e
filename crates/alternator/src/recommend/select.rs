//! Streaming top-K selection for the batch scorer: candidates packed as ordered `u64` keys,
//! with a vectorised skip of chunks that cannot enter.

/// Scores per chunk of the fast rejection path of [`Selector::feed`].
const REJECT_CHUNK: usize = 64;

/// `(index, score)` packed into a `u64` that orders like `topk::better`: larger is better.
///
/// The high half is the score's bits mapped to an unsigned order (NaN lowest, `-0.0` read as
/// `+0.0`, so equal scores compare equal), the low half `u32::MAX - index` (the smaller index
/// wins a tie).
pub(super) fn sel_key(i: u32, s: f32) -> u64 {
    (u64::from(score_ord(s)) << 32) | u64::from(u32::MAX - i)
}

/// The high half of a [`sel_key`]: scores in unsigned order, NaN lowest, `-0.0 = +0.0`.
pub(super) fn score_ord(s: f32) -> u32 {
    if s.is_nan() {
        0
    } else {
        let b = if s == 0.0 { 0 } else { s.to_bits() };
        if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
    }
}

/// The smallest f32 `≥ x` (`+∞` above the f32 range, NaN for NaN).
pub(super) fn f32_at_least(x: f64) -> f32 {
    let b = x as f32;
    if f64::from(b) >= x || b.is_nan() {
        b
    } else if b == 0.0 {
        f32::from_bits(1)
    } else if b > 0.0 {
        f32::from_bits(b.to_bits() + 1)
    } else {
        f32::from_bits(b.to_bits() - 1)
    }
}

/// The score of a [`sel_key`] (a NaN comes back as the default NaN).
pub(super) fn key_score(key: u64) -> f32 {
    let ord = (key >> 32) as u32;
    if ord == 0 {
        f32::NAN
    } else if ord >> 31 == 1 {
        f32::from_bits(ord & 0x7fff_ffff)
    } else {
        f32::from_bits(!ord)
    }
}

/// The index of a [`sel_key`].
pub(super) fn key_index(key: u64) -> u32 {
    u32::MAX - key as u32
}

/// Streaming top-`k` selection (the same result as `topk::top_k_into` over the concatenation of
/// everything fed), for the batch scorer, which sees each query's scores one tile at a time.
///
/// Candidates are held as [`sel_key`]s. Once `k` are held, the `k`-th best is a bar: a chunk
/// of [`REJECT_CHUNK`] scores whose maximum cannot pass it is skipped with one vectorised
/// max instead of a comparison per score. NaN scores sort last (as in `topk::better`).
#[derive(Default)]
pub(super) struct Selector {
    pub(super) buf: Vec<u64>,
    /// The worst kept candidate once the buffer has been cut to `k`; entries must beat it.
    pub(super) threshold: Option<u64>,
    /// The result of [`Selector::finish`].
    pub(super) out: Vec<(u32, f32)>,
    /// Whether a candidate that was fed (and not skipped) has been dropped.
    pub(super) dropped: bool,
    /// The `n`-th best key held ([`Selector::beaten_by`]), while no candidate has entered since.
    pub(super) nth: Option<Option<u64>>,
}

impl Selector {
    pub(super) fn reset(&mut self) {
        self.buf.clear();
        self.threshold = None;
        self.dropped = false;
        self.nth = None;
    }

    /// Feeds the scores of indices `base..base + scores.len()` (increasing across calls).
    pub(super) fn feed(
        &mut self,
        scores: &[f32],
        base: u32,
        k: usize,
        skip: &impl Fn(u32) -> bool,
    ) {
        let mut at = base;
        self.feed_with(scores, k, skip, true, |c| {
            let i = at;
            at = at.wrapping_add(c as u32);
            move |o| i.wrapping_add(o as u32)
        });
    }

    /// Feeds `scores[c]` of view positions `idx[c]`, in any order (the batch scorer visits
    /// targets by decreasing norm).
    pub(super) fn feed_indexed(
        &mut self,
        scores: &[f32],
        idx: &[u32],
        k: usize,
        skip: &impl Fn(u32) -> bool,
    ) {
        let mut at = 0usize;
        self.feed_with(scores, k, skip, false, |c| {
            let ic = idx.get(at..at + c).unwrap_or(&[]);
            at += c;
            move |o| ic.get(o).copied().unwrap_or(u32::MAX)
        });
    }

    /// The common loop: `chunk_index(len)` is called once per chunk of [`REJECT_CHUNK`]
    /// scores and returns the index of each offset in it. With `ascending` indices a chunk
    /// is skipped when its maximum is `≤` the bar (a later index loses a tie); otherwise only
    /// when it is `<` the bar.
    fn feed_with<F: Fn(usize) -> u32>(
        &mut self,
        scores: &[f32],
        k: usize,
        skip: &impl Fn(u32) -> bool,
        ascending: bool,
        mut chunk_index: impl FnMut(usize) -> F,
    ) {
        if k == 0 {
            return;
        }
        let cap = k.saturating_mul(2).max(16);
        for chunk in scores.chunks(REJECT_CHUNK) {
            let index = chunk_index(chunk.len());
            let mut bar = self.threshold.map_or(f32::NAN, key_score);
            if !bar.is_nan() {
                if let Ok(c) = <&[f32; REJECT_CHUNK]>::try_from(chunk) {
                    // `x > a ? x : a` is one packed max per 8 lanes (NaN never wins).
                    let mut acc = [f32::NEG_INFINITY; 8];
                    for l in 0..REJECT_CHUNK / 8 {
                        for (a, &x) in acc.iter_mut().zip(&c[l * 8..l * 8 + 8]) {
                            *a = if x > *a { x } else { *a };
                        }
                    }
                    let rejected = if ascending {
                        acc.iter().all(|&a| a <= bar)
                    } else {
                        acc.iter().all(|&a| a < bar)
                    };
                    if rejected {
                        continue;
                    }
                }
            }
            for (o, &s) in chunk.iter().enumerate() {
                // `s < bar` settles most scores with one comparison (false when either is NaN).
                if s < bar {
                    continue;
                }
                let i = index(o);
                let key = sel_key(i, s);
                if self.threshold.is_some_and(|t| key <= t) || skip(i) {
                    continue;
                }
                self.buf.push(key);
                self.nth = None;
                if self.buf.len() >= cap {
                    self.buf.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
                    self.buf.truncate(k);
                    self.threshold = self.buf.last().copied();
                    self.dropped = true;
                    bar = self.threshold.map_or(f32::NAN, key_score);
                }
            }
        }
    }

    /// True when at least `n` of the candidates held score strictly above `bar`, give or
    /// take: a score within one f32 step above `bar` may not count (NaN never does). The
    /// `n`-th best key is cached until a candidate enters, so that the check costs nothing for
    /// a query whose candidates did not change (the batch scorer asks after every tile).
    pub(super) fn beaten_by(&mut self, n: usize, bar: f64) -> bool {
        let b = f32_at_least(bar);
        if n == 0 || b.is_nan() || b == f32::INFINITY {
            return false;
        }
        let nth = match self.nth {
            Some(k) => k,
            None => {
                let k = if self.buf.len() >= n {
                    self.buf.select_nth_unstable_by(n - 1, |a, b| b.cmp(a));
                    self.buf.get(n - 1).copied()
                } else {
                    None
                };
                self.nth = Some(k);
                k
            }
        };
        // A score `> b` (so `> bar`) is a key above the best key of score `b`.
        let top = (u64::from(score_ord(b)) << 32) | u64::from(u32::MAX);
        nth.is_some_and(|k| k > top)
    }

    /// The `k` best fed so far, best first.
    pub(super) fn finish(&mut self, k: usize) -> &[(u32, f32)] {
        if self.buf.len() > k {
            self.buf.select_nth_unstable_by(k.max(1) - 1, |a, b| b.cmp(a));
            self.buf.truncate(k);
            self.dropped = true;
        }
        self.buf.sort_unstable_by(|a, b| b.cmp(a));
        self.out.clear();
        self.out.extend(self.buf.iter().map(|&key| (key_index(key), key_score(key))));
        &self.out
    }
}
