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
        // Counting sort by row: O(nnz + nrows), stable in input order.
        let mut counts = vec![0usize; nrows + 1];
        for (&r, &c) in rows[..n].iter().zip(&cols[..n]) {
            if (r as usize) < nrows && (c as usize) < ncols {
                counts[r as usize + 1] += 1;
            }
        }
        for i in 0..nrows {
            counts[i + 1] += counts[i];
        }
        let total = counts[nrows];
        let mut next = counts.clone();
        let mut indices = vec![0u32; total];
        let mut values = vec![0f32; total];
        for k in 0..n {
            let (r, c) = (rows[k] as usize, cols[k]);
            if r < nrows && (c as usize) < ncols {
                let slot = next[r];
                indices[slot] = c;
                values[slot] = vals[k];
                next[r] += 1;
            }
        }
        let mut m = Csr { indptr: counts, indices, values, ncols };
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

    fn combine_duplicates(&mut self, dup: Duplicates) {
        let mut out = 0usize;
        let mut new_indptr = Vec::with_capacity(self.indptr.len());
        new_indptr.push(0);
        for r in 0..self.nrows() {
            let (s, e) = (self.indptr[r], self.indptr[r + 1]);
            let mut k = s;
            while k < e {
                let c = self.indices[k];
                let mut acc = f64::from(self.values[k]);
                let mut last = self.values[k];
                let mut cnt = 1u32;
                let mut j = k + 1;
                while j < e && self.indices[j] == c {
                    acc += f64::from(self.values[j]);
                    last = self.values[j];
                    cnt += 1;
                    j += 1;
                }
                self.indices[out] = c;
                self.values[out] = match dup {
                    Duplicates::Keep | Duplicates::Sum => acc as f32,
                    Duplicates::Last => last,
                    Duplicates::Mean => (acc / f64::from(cnt)) as f32,
                };
                out += 1;
                k = j;
            }
            new_indptr.push(out);
        }
        self.indices.truncate(out);
        self.values.truncate(out);
        self.indptr = new_indptr;
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
        let mut counts = vec![0usize; self.ncols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.ncols {
            counts[i + 1] += counts[i];
        }
        let mut next = counts.clone();
        let mut indices = vec![0u32; self.nnz()];
        let mut values = vec![0f32; self.nnz()];
        for r in 0..self.nrows() {
            let (s, e) = (self.indptr[r], self.indptr[r + 1]);
            for k in s..e {
                let c = self.indices[k] as usize;
                let slot = next[c];
                indices[slot] = r as u32;
                values[slot] = self.values[k];
                next[c] += 1;
            }
        }
        Csr { indptr: counts, indices, values, ncols: self.nrows() }
    }

    /// Iterates `(row, col, value)` over all entries in row order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.nrows()).flat_map(move |r| {
            let (c, v) = self.row(r);
            c.iter().zip(v).map(move |(&c, &v)| (r as u32, c, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
