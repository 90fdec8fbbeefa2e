//! Top-K selection: the K largest scores, ties broken by the smaller index.

use std::cmp::Ordering;

/// Orders `(index, score)` best first: larger score, then smaller index. NaN scores sort last.
pub fn better(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    match (a.1.is_nan(), b.1.is_nan()) {
        (true, true) => a.0.cmp(&b.0),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal).then(a.0.cmp(&b.0)),
    }
}

/// The `k` best `(index, score)` pairs of `scores`, best first, skipping every index for which
/// `skip` returns true. Returns fewer than `k` only when fewer indices are eligible.
///
/// Runs in `O(n + k log k)` with a partial selection into `scratch` (reused across calls).
pub fn top_k_into(
    scores: &[f32],
    k: usize,
    mut skip: impl FnMut(u32) -> bool,
    scratch: &mut Vec<(u32, f32)>,
) -> Vec<(u32, f32)> {
    scratch.clear();
    if k == 0 {
        return Vec::new();
    }
    // Keep a buffer of at most 2k candidates; when full, cut it back to the k best.
    let cap = k.saturating_mul(2).max(16);
    let mut threshold: Option<(u32, f32)> = None;
    for (i, &s) in scores.iter().enumerate() {
        let i = i as u32;
        if let Some(t) = threshold {
            if better(&(i, s), &t) != Ordering::Less {
                continue;
            }
        }
        if skip(i) {
            continue;
        }
        scratch.push((i, s));
        if scratch.len() >= cap {
            scratch.select_nth_unstable_by(k - 1, better);
            scratch.truncate(k);
            threshold = scratch.iter().copied().max_by(better);
        }
    }
    if scratch.len() > k {
        scratch.select_nth_unstable_by(k - 1, better);
        scratch.truncate(k);
    }
    scratch.sort_unstable_by(better);
    scratch.clone()
}

/// [`top_k_into`] with a fresh scratch buffer.
#[cfg(test)]
pub fn top_k(scores: &[f32], k: usize, skip: impl FnMut(u32) -> bool) -> Vec<(u32, f32)> {
    top_k_into(scores, k, skip, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn equals_full_sort(
            scores in proptest::collection::vec(prop_oneof![(-5i32..5).prop_map(|x| x as f32), -5f32..5.0], 0..300),
            k in 0usize..40,
            skip_mod in 1u32..6,
        ) {
            let skip = |i: u32| i % skip_mod == 0 && skip_mod > 1;
            let got = top_k(&scores, k, skip);
            let mut all: Vec<(u32, f32)> = scores.iter().enumerate()
                .map(|(i, &s)| (i as u32, s)).filter(|&(i, _)| !skip(i)).collect();
            all.sort_by(better);
            all.truncate(k);
            prop_assert_eq!(got, all);
        }
    }

    #[test]
    fn nan_sorts_last() {
        let got = top_k(&[f32::NAN, 1.0, 2.0], 3, |_| false);
        assert_eq!(got[0], (2, 2.0));
        assert_eq!(got[1], (1, 1.0));
        assert!(got[2].1.is_nan());
    }
}
