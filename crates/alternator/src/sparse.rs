//! Compressed sparse row matrices: the user→item and item→user views the solvers sweep.

use serde::{Deserialize, Serialize};

/// How repeated `(row, column)` pairs are combined when a matrix is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Duplicates {
    /// Every entry is kept as its own entry (each rating counts, as in Spark).
    #[default]
    Keep,
    /// Values of repeated pairs are added (play counts; `implicit`'s `sum_duplicates`).
    Sum,
    /// The entry that appears last in the file wins.
    Last,
    /// Values of repeated pairs are averaged.
    Mean,
}

/// A sparse matrix in compressed sparse row form with `u32` column indices and `f32` values.
///
/// Row `r` holds entries `indptr[r]..indptr[r + 1]` of `indices` / `values`. Within a row,
/// entries are sorted by column (stable, so duplicates kept with [`Duplicates::Keep`] stay
/// in file order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Csr {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
    ncols: usize,
}

impl Csr {
    /// Builds a matrix from coordinate triplets, combining repeated pairs per `dup`.
    ///
    /// Triplets whose row or column is out of range are a caller bug and are skipped.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        rows: &[u32],
        cols: &[u32],
        vals: &[f32],
        dup: Duplicates,
    ) -> Csr {
        let n = rows.len().min(cols.len()).min(vals.len());
        // Counting sort by row, stable in input order.
        let keep = |k: usize| (rows[k] as usize) < nrows && (cols[k] as usize) < ncols;
        let (indptr, indices, values) =
            bucket(n, nrows, |k| keep(k).then(|| rows[k]), |k| (cols[k], vals[k]));
        let mut m = Csr { indptr, indices, values, ncols };
        m.sort_rows();
        if dup != Duplicates::Keep {
            m.combine_duplicates(dup);
        }
        m
    }

    /// Builds a matrix directly from its parts, checking that they are consistent.
    pub fn from_parts(
        indptr: Vec<usize>,
        indices: Vec<u32>,
        values: Vec<f32>,
        ncols: usize,
    ) -> Result<Csr, String> {
        if indptr.first() != Some(&0) {
            return Err("indptr must start at 0".into());
        }
        if indptr.windows(2).any(|w| w[0] > w[1]) {
            return Err("indptr must be non-decreasing".into());
        }
        if indptr.last() != Some(&indices.len()) || indices.len() != values.len() {
            return Err("indptr, indices and values disagree on the number of entries".into());
        }
        if indices.iter().any(|&c| c as usize >= ncols) {
            return Err("a column index is out of range".into());
        }
        Ok(Csr { indptr, indices, values, ncols })
    }

    /// Sorts every row by column, keeping duplicates in their original order; rows in parallel.
    fn sort_rows(&mut self) {
        use rayon::prelude::*;
        let mut rows: Vec<(&mut [u32], &mut [f32])> = Vec::with_capacity(self.nrows());
        let (mut idx, mut val) = (&mut self.indices[..], &mut self.values[..]);
        for w in self.indptr.windows(2) {
            let n = w[1] - w[0];
            let (a, ar) = idx.split_at_mut(n);
            let (b, br) = val.split_at_mut(n);
            (idx, val) = (ar, br);
            if a.windows(2).any(|p| p[0] > p[1]) {
                rows.push((a, b));
            }
        }
        rows.into_par_iter().for_each_init(
            Vec::new,
            |scratch: &mut Vec<(u32, u32, f32)>, (idx, val)| {
                scratch.clear();
                scratch.extend(
                    idx.iter().zip(val.iter()).enumerate().map(|(k, (&c, &v))| (c, k as u32, v)),
                );
                scratch.sort_unstable_by_key(|&(c, k, _)| (c, k));
                for (k, &(c, _, v)) in scratch.iter().enumerate() {
                    idx[k] = c;
                    val[k] = v;
                }
            },
        );
    }

    /// Merges repeated columns of each (sorted) row per `dup`; rows in parallel.
    fn combine_duplicates(&mut self, dup: Duplicates) {
        use rayon::prelude::*;
        let distinct = |r: usize| {
            let (idx, _) = self.row(r);
            idx.len() - idx.windows(2).filter(|w| w[0] == w[1]).count()
        };
        let lens: Vec<usize> = (0..self.nrows()).into_par_iter().map(distinct).collect();
        let mut indptr = Vec::with_capacity(lens.len() + 1);
        indptr.push(0usize);
        for l in &lens {
            indptr.push(indptr.last().copied().unwrap_or(0) + l);
        }
        let total = indptr.last().copied().unwrap_or(0);
        if total == self.nnz() {
            return;
        }
        let mut indices = vec![0u32; total];
        let mut values = vec![0f32; total];
        let mut parts: Vec<(&mut [u32], &mut [f32])> = Vec::with_capacity(lens.len());
        let (mut ri, mut rv) = (&mut indices[..], &mut values[..]);
        for &l in &lens {
            let (a, ar) = ri.split_at_mut(l);
            let (b, br) = rv.split_at_mut(l);
            parts.push((a, b));
            (ri, rv) = (ar, br);
        }
        parts.into_par_iter().enumerate().with_min_len(256).for_each(|(r, (oi, ov))| {
            let (idx, vals) = self.row(r);
            let (mut k, mut out) = (0usize, 0usize);
            while k < idx.len() {
                let c = idx[k];
                let mut acc = f64::from(vals[k]);
                let mut last = vals[k];
                let mut cnt = 1u32;
                let mut j = k + 1;
                while j < idx.len() && idx[j] == c {
                    acc += f64::from(vals[j]);
                    last = vals[j];
                    cnt += 1;
                    j += 1;
                }
                if let (Some(i), Some(v)) = (oi.get_mut(out), ov.get_mut(out)) {
                    *i = c;
                    *v = match dup {
                        Duplicates::Keep | Duplicates::Sum => acc as f32,
                        Duplicates::Last => last,
                        Duplicates::Mean => (acc / f64::from(cnt)) as f32,
                    };
                }
                out += 1;
                k = j;
            }
        });
        self.indptr = indptr;
        self.indices = indices;
        self.values = values;
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Column indices and values of row `r` (empty when `r` is out of range).
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        match (self.indptr.get(r), self.indptr.get(r + 1)) {
            (Some(&s), Some(&e)) => (&self.indices[s..e], &self.values[s..e]),
            _ => (&[], &[]),
        }
    }

    /// Number of entries in row `r`.
    pub fn row_len(&self, r: usize) -> usize {
        self.row(r).0.len()
    }

    /// Row pointers (`nrows + 1` entries).
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// Column indices of all entries.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Values of all entries.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Mutable access to the values (the pattern stays fixed).
    pub fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// The transpose, in `O(nnz + ncols)`. Rows of the result are sorted by column and keep
    /// the relative order of duplicates.
    pub fn transpose(&self) -> Csr {
        // The row of each entry, to bucket entries by column in their row-major order.
        let mut row_of = vec![0u32; self.nnz()];
        {
            use rayon::prelude::*;
            let mut parts: Vec<&mut [u32]> = Vec::with_capacity(self.nrows());
            let mut rest = &mut row_of[..];
            for w in self.indptr.windows(2) {
                let (a, b) = rest.split_at_mut(w[1] - w[0]);
                parts.push(a);
                rest = b;
            }
            parts.into_par_iter().enumerate().with_min_len(256).for_each(|(r, p)| p.fill(r as u32));
        }
        let (indptr, indices, values) = bucket(
            self.nnz(),
            self.ncols,
            |k| Some(self.indices[k]),
            |k| (row_of[k], self.values[k]),
        );
        Csr { indptr, indices, values, ncols: self.nrows() }
    }

    /// Iterates `(row, col, value)` over all entries in row order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.nrows()).flat_map(move |r| {
            let (c, v) = self.row(r);
            c.iter().zip(v).map(move |(&c, &v)| (r as u32, c, v))
        })
    }
}

/// Entries per chunk of the parallel [`bucket`] at least: below this the serial pass is
/// faster than the per-chunk counters.
const BUCKET_CHUNK_MIN: usize = 1 << 20;

/// A raw pointer that may cross threads: [`bucket`]'s chunks write disjoint slots of one
/// output array, which safe slices cannot express (the slots of a chunk interleave with the
/// others').
#[derive(Clone, Copy)]
struct Slots<T>(*mut T);
// SAFETY: only used to write disjoint slots (see `bucket`).
unsafe impl<T: Send> Send for Slots<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Slots<T> {}

/// Stable counting sort of entries `0..n` into `nkeys` buckets: `key(e)` (`None` drops the
/// entry) and `payload(e)` give each entry's bucket and `(index, value)`. Returns the bucket
/// pointers (`nkeys + 1`) and the payloads in bucket order, each bucket in input order — the
/// same whatever the number of threads, because the input is cut into contiguous chunks whose
/// entries land after those of the chunks before them.
fn bucket(
    n: usize,
    nkeys: usize,
    key: impl Fn(usize) -> Option<u32> + Sync,
    payload: impl Fn(usize) -> (u32, f32) + Sync,
) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
    use rayon::prelude::*;
    let threads = rayon::current_num_threads().clamp(1, 32);
    let chunks = if n >= 2 * BUCKET_CHUNK_MIN { threads.min(n / BUCKET_CHUNK_MIN) } else { 1 };
    let len = n.div_ceil(chunks.max(1)).max(1);
    // counts[c][b]: entries of chunk c in bucket b.
    let mut counts: Vec<Vec<u32>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut cnt = vec![0u32; nkeys];
            for e in c * len..((c + 1) * len).min(n) {
                if let Some(b) = key(e).and_then(|b| cnt.get_mut(b as usize)) {
                    *b += 1;
                }
            }
            cnt
        })
        .collect();
    // Bucket starts, then each chunk's first slot in every bucket.
    let mut indptr = vec![0usize; nkeys + 1];
    for b in 0..nkeys {
        let total: usize = counts.iter().map(|c| c[b] as usize).sum();
        indptr[b + 1] = indptr[b] + total;
    }
    let mut starts: Vec<Vec<usize>> = Vec::with_capacity(chunks);
    let mut running: Vec<usize> = indptr[..nkeys].to_vec();
    for c in counts.iter_mut() {
        let mut s = Vec::with_capacity(nkeys);
        for (b, r) in running.iter_mut().enumerate() {
            s.push(*r);
            *r += c[b] as usize;
        }
        starts.push(s);
        *c = Vec::new();
    }
    drop(counts);
    let total = indptr[nkeys];
    let mut indices = vec![0u32; total];
    let mut values = vec![0f32; total];
    let (pi, pv) = (Slots(indices.as_mut_ptr()), Slots(values.as_mut_ptr()));
    starts.into_par_iter().enumerate().for_each(|(c, mut next)| {
        let (pi, pv) = (pi, pv);
        for e in c * len..((c + 1) * len).min(n) {
            let Some(b) = key(e) else { continue };
            let Some(slot) = next.get_mut(b as usize) else { continue };
            let (i, v) = payload(e);
            // SAFETY: `slot` runs over this chunk's own range of bucket `b` — from its start,
            // after the earlier chunks' entries of `b`, up to before the later chunks' — which
            // the counts above sized, so no two writes share a slot and all are in bounds.
            unsafe {
                *pi.0.add(*slot) = i;
                *pv.0.add(*slot) = v;
            }
            *slot += 1;
        }
    });
    (indptr, indices, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Large enough for the parallel bucketing: the result does not depend on the number of
    /// threads, and equals a stable sort by row then column.
    #[test]
    fn parallel_build_and_transpose_match_serial() {
        let n = 5 * super::BUCKET_CHUNK_MIN / 2;
        let (nr, nc) = (5_000usize, 3_000usize);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let rows: Vec<u32> = (0..n).map(|_| (next() % nr as u64) as u32).collect();
        let cols: Vec<u32> = (0..n).map(|_| (next() % nc as u64) as u32).collect();
        let vals: Vec<f32> = (0..n).map(|k| (k % 7) as f32).collect();
        let build = |threads: usize, dup: Duplicates| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let m = Csr::from_triplets(nr, nc, &rows, &cols, &vals, dup);
                let t = m.transpose();
                (m, t)
            })
        };
        for dup in [Duplicates::Keep, Duplicates::Sum] {
            let (m1, t1) = build(1, dup);
            let (m4, t4) = build(4, dup);
            assert_eq!(m1, m4);
            assert_eq!(t1, t4);
            assert_eq!(t1.transpose(), m1);
        }
        let (m, _) = build(3, Duplicates::Keep);
        let mut want: Vec<(u32, u32, usize)> = (0..n).map(|k| (rows[k], cols[k], k)).collect();
        want.sort_unstable();
        let got: Vec<(u32, u32, f32)> = m.iter().collect();
        assert_eq!(got.len(), n);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.0, g.1, g.2), (w.0, w.1, vals[w.2]));
        }
    }

    #[test]
    fn duplicates_policies() {
        let rows = [0, 0, 1, 0];
        let cols = [2, 1, 0, 2];
        let vals = [1.0, 5.0, 3.0, 4.0];
        let keep = Csr::from_triplets(2, 3, &rows, &cols, &vals, Duplicates::Keep);
        assert_eq!(keep.row(0), (&[1u32, 2, 2][..], &[5.0f32, 1.0, 4.0][..]));
        let sum = Csr::from_triplets(2, 3, &rows, &cols, &vals, Duplicates::Sum);
        assert_eq!(sum.row(0), (&[1u32, 2][..], &[5.0f32, 5.0][..]));
        let last = Csr::from_triplets(2, 3, &rows, &cols, &vals, Duplicates::Last);
        assert_eq!(last.row(0).1, &[5.0f32, 4.0][..]);
        let mean = Csr::from_triplets(2, 3, &rows, &cols, &vals, Duplicates::Mean);
        assert_eq!(mean.row(0).1, &[5.0f32, 2.5][..]);
        assert_eq!(mean.row(1), (&[0u32][..], &[3.0f32][..]));
        assert_eq!(mean.row(9), (&[][..], &[][..]));
    }

    proptest! {
        #[test]
        fn transpose_twice_is_identity(
            trip in proptest::collection::vec((0u32..7, 0u32..5, -3f32..3.0), 0..60)
        ) {
            let rows: Vec<u32> = trip.iter().map(|t| t.0).collect();
            let cols: Vec<u32> = trip.iter().map(|t| t.1).collect();
            let vals: Vec<f32> = trip.iter().map(|t| t.2).collect();
            let m = Csr::from_triplets(7, 5, &rows, &cols, &vals, Duplicates::Sum);
            let t = m.transpose();
            prop_assert_eq!(t.nrows(), 5);
            prop_assert_eq!(t.ncols(), 7);
            prop_assert_eq!(t.transpose(), m);
        }
    }
}
