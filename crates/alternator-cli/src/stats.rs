//! Describing a data set before training: sizes, density, value distribution, activity.

use serde::Serialize;

use alternator::{Duplicates, IdMap, Interactions};

/// Quantiles of a count distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quantiles {
    /// Minimum.
    pub min: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Quantiles {
    /// Nearest-rank quantiles of `values` (sorted in place).
    pub fn of(values: &mut [f64]) -> Quantiles {
        if values.is_empty() {
            return Quantiles::default();
        }
        values.sort_by(f64::total_cmp);
        let q = |p: f64| {
            values[((p * (values.len() - 1) as f64).round() as usize).min(values.len() - 1)]
        };
        Quantiles {
            min: values[0],
            p25: q(0.25),
            median: q(0.5),
            p75: q(0.75),
            p90: q(0.9),
            p99: q(0.99),
            max: values[values.len() - 1],
            mean: values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// One bucket of the value histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// Lower bound (inclusive).
    pub lo: f64,
    /// Upper bound (exclusive, inclusive for the last bucket).
    pub hi: f64,
    /// Number of values in the bucket.
    pub count: u64,
}

/// A summary of an interaction file, as `alternator inspect` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The file.
    pub path: String,
    /// Distinct users.
    pub users: usize,
    /// Distinct items.
    pub items: usize,
    /// Interactions (lines read).
    pub interactions: usize,
    /// interactions / (users × items).
    pub density: f64,
    /// Smallest value.
    pub value_min: f64,
    /// Largest value.
    pub value_max: f64,
    /// Mean value.
    pub value_mean: f64,
    /// Value histogram: one bucket per distinct value when there are at most 20, else 10 equal bins.
    pub histogram: Vec<Bucket>,
    /// Interactions per user.
    pub per_user: Quantiles,
    /// Interactions per item.
    pub per_item: Quantiles,
    /// Interactions whose (user, item) pair appeared earlier in the file.
    pub duplicates: usize,
    /// Distinct (user, item) pairs that occur more than once.
    pub duplicate_pairs: usize,
    /// Whether a time column was read.
    pub has_time: bool,
    /// The detected or given delimiter.
    pub delimiter: String,
    /// The header line's columns, when there was one (Parquet: the column names).
    pub header: Option<Vec<String>>,
    /// How the input was stored: text, gzip, zstd or parquet.
    pub format: alternator::InputFormat,
    /// Lines skipped under `--skip-invalid`.
    pub skipped: u64,
    /// A few example user ids, as in the file.
    pub sample_users: Vec<String>,
    /// A few example item ids, as in the file.
    pub sample_items: Vec<String>,
}

/// Summarises `data`.
pub fn summarize(data: &Interactions) -> Summary {
    let csr = data.to_csr(Duplicates::Keep);
    let mut duplicates = 0usize;
    let mut duplicate_pairs = 0usize;
    for r in 0..csr.nrows() {
        let cols = csr.row(r).0;
        let mut k = 1;
        while k < cols.len() {
            if cols[k] == cols[k - 1] {
                duplicates += 1;
                if k == 1 || cols[k - 2] != cols[k] {
                    duplicate_pairs += 1;
                }
            }
            k += 1;
        }
    }
    let mut per_user: Vec<f64> = (0..csr.nrows()).map(|r| csr.row_len(r) as f64).collect();
    let mut item_counts = vec![0f64; data.items.len()];
    for &i in &data.item_idx {
        item_counts[i as usize] += 1.0;
    }
    let (lo, hi) = data.value_range();
    let mean = data.values.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len().max(1) as f64;
    let sample = |m: &IdMap| m.ids().take(5).map(String::from).collect();
    Summary {
        path: data.path.display().to_string(),
        users: data.users.len(),
        items: data.items.len(),
        interactions: data.len(),
        density: data.len() as f64 / (data.users.len() as f64 * data.items.len() as f64).max(1.0),
        value_min: f64::from(lo),
        value_max: f64::from(hi),
        value_mean: mean,
        histogram: histogram(&data.values),
        per_user: Quantiles::of(&mut per_user),
        per_item: Quantiles::of(&mut item_counts),
        duplicates,
        duplicate_pairs,
        has_time: data.times.is_some(),
        delimiter: data.delimiter.map(|d| d.name()).unwrap_or_default(),
        header: data.header.clone(),
        format: data.format(),
        skipped: data.skipped.count,
        sample_users: sample(&data.users),
        sample_items: sample(&data.items),
    }
}

fn histogram(values: &[f32]) -> Vec<Bucket> {
    let mut distinct: Vec<f32> = Vec::new();
    for &v in values {
        if !distinct.contains(&v) {
            distinct.push(v);
            if distinct.len() > 20 {
                break;
            }
        }
    }
    if distinct.len() <= 20 {
        distinct.sort_by(f32::total_cmp);
        return distinct
            .iter()
            .map(|&d| Bucket {
                lo: f64::from(d),
                hi: f64::from(d),
                count: values.iter().filter(|&&v| v == d).count() as u64,
            })
            .collect();
    }
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let width = ((hi - lo) / 10.0).max(f64::MIN_POSITIVE);
    let mut counts = [0u64; 10];
    for &v in values {
        let b = (((f64::from(v) - lo) / width) as usize).min(9);
        counts[b] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(b, &count)| Bucket {
            lo: lo + b as f64 * width,
            hi: lo + (b + 1) as f64 * width,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_duplicates_and_histogram() {
        let d = alternator::ReaderBuilder::new()
            .from_bytes(b"a,x,1\na,x,2\na,x,3\nb,y,5\nb,z,5\n", "t")
            .unwrap();
        let s = summarize(&d);
        assert_eq!((s.users, s.items, s.interactions), (2, 3, 5));
        assert_eq!(s.duplicates, 2);
        assert_eq!(s.duplicate_pairs, 1);
        assert_eq!(s.histogram.len(), 4);
        assert_eq!(s.histogram[3].count, 2);
        assert_eq!(s.per_user.max, 3.0);
        assert_eq!(s.sample_users, vec!["a", "b"]);
    }
}
