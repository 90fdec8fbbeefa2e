//! Ranking for vectors the caller holds: top-N items for query vectors with per-query
//! exclusions ([`Model::recommend_vectors`]: users recomputed from what they liked,
//! `implicit`'s `recommend(..., recalculate_user=True)`, or filters the caller supplies
//! instead of the training matrix), and the most similar rows for query vectors
//! ([`Model::similar_vectors`], `implicit`'s `similar_items(..., recalculate_item=True)` and
//! its batch form). Both run the batch scorer, so large batches are fast and every list is
//! exact.

use std::borrow::Cow;

use super::batch::{SHAPE, SideBound, batch_shaped};
use super::{RecommendOptions, ScoredIndices, Side, dot64};
use crate::error::{Error, IdKind, Result};
use crate::model::{Factors, Model};
use crate::sparse::{Csr, Duplicates};

impl Model {
    /// Top-N items for each row of `queries` (`q × rank` user vectors, not necessarily users
    /// of the model), ranked by `s(i) = xᵀy_i (+ μ + b_i` for a model with biases; no user
    /// bias`)`, handed to `sink` as `(query row, list)` in row order.
    ///
    /// `exclude`, when given, has one row per query (its columns are item indices): query
    /// `r` never gets the items of row `r` (`implicit`'s `filter_already_liked_items` with
    /// the `user_items` the caller passes). [`RecommendOptions::include_seen`] is ignored:
    /// the model's own training matrix is not used. `opts.filter` and `opts.candidates`
    /// apply as in [`Model::recommend_with`].
    ///
    /// Errors: `queries` of another rank or `exclude` with another number of rows
    /// ([`Error::Invalid`]), `n == 0` ([`Error::InvalidParameter`]), and any error of `sink`.
    pub fn recommend_vectors(
        &self,
        queries: &Factors,
        exclude: Option<&Csr>,
        opts: &RecommendOptions<'_>,
        mut sink: impl FnMut(u32, ScoredIndices) -> Result<()>,
    ) -> Result<()> {
        check_queries(queries, self.rank(), "query vector")?;
        let exclude = match exclude {
            Some(m) if m.nrows() != queries.rows() => {
                return Err(Error::Invalid(format!(
                    "the exclusions have {} rows for {} query vectors",
                    m.nrows(),
                    queries.rows()
                )));
            }
            Some(m) => Some(sorted_rows(m)),
            None => None,
        };
        let (_, items, global) = super::sides(self, true);
        let bound = self.bounds.get(IdKind::Item, || SideBound::of(&items));
        let query = Side { factors: queries, bias: None };
        let rows: Vec<u32> = (0..queries.rows() as u32).collect();
        let opts = RecommendOptions { include_seen: false, ..*opts };
        batch_shaped(
            &query,
            &items,
            global,
            bound,
            IdKind::User,
            &rows,
            exclude.as_deref(),
            &opts,
            SHAPE,
            &|q, r| (q, r),
            &mut |(q, r)| sink(q, r),
        )
    }

    /// The `n` rows of `kind`'s side most similar to each row of `queries` by cosine
    /// similarity, `cos(q, y) = qᵀy / (‖q‖ ‖y‖)` (0 for a zero vector), handed to `sink` as
    /// `(query row, list)` in row order. Nothing is excluded: a query equal to a row of the
    /// model finds that row first with similarity ≈ 1 (`implicit`'s `similar_items`, which
    /// returns the query itself). `opts.filter` and `opts.candidates` apply; `include_seen`
    /// is ignored.
    ///
    /// The scores are those of the unit vectors `q/‖q‖` and `y/‖y‖` in f32, ranked by the
    /// batch scorer (exact rescoring in f64), so they may differ from
    /// [`Model::similar_items`]'s in the last bits.
    ///
    /// Errors: `queries` of another rank ([`Error::Invalid`]), `n == 0`
    /// ([`Error::InvalidParameter`]), and any error of `sink`.
    pub fn similar_vectors(
        &self,
        kind: IdKind,
        queries: &Factors,
        opts: &RecommendOptions<'_>,
        mut sink: impl FnMut(u32, ScoredIndices) -> Result<()>,
    ) -> Result<()> {
        check_queries(queries, self.rank(), "query vector")?;
        let targets = normalized(match kind {
            IdKind::User => &self.user_factors,
            IdKind::Item => &self.item_factors,
        });
        let queries = normalized(queries);
        let target = Side { factors: &targets, bias: None };
        let query = Side { factors: &queries, bias: None };
        let bound = SideBound::of(&target);
        let rows: Vec<u32> = (0..queries.rows() as u32).collect();
        let opts = RecommendOptions { include_seen: false, ..*opts };
        let map = |q, r| (q, r);
        batch_shaped(
            &query,
            &target,
            0.0,
            bound,
            kind,
            &rows,
            None,
            &opts,
            SHAPE,
            &map,
            &mut |(q, r)| sink(q, r),
        )
    }
}

fn check_queries(queries: &Factors, rank: usize, what: &str) -> Result<()> {
    if queries.rank() != rank && queries.rows() > 0 {
        return Err(Error::Invalid(format!(
            "a {what} of length {} does not match the model's rank {rank}",
            queries.rank()
        )));
    }
    if !queries.all_finite() {
        return Err(Error::Invalid(format!("a {what} contains NaN or infinite values")));
    }
    Ok(())
}

/// `m` with every row sorted by column (the scorer binary-searches them); borrowed when it
/// already is.
fn sorted_rows(m: &Csr) -> Cow<'_, Csr> {
    let sorted = (0..m.nrows()).all(|r| m.row(r).0.windows(2).all(|w| w[0] <= w[1]));
    if sorted {
        return Cow::Borrowed(m);
    }
    let rows: Vec<u32> = m.iter().map(|(r, _, _)| r).collect();
    Cow::Owned(Csr::from_triplets(
        m.nrows(),
        m.ncols(),
        &rows,
        m.indices(),
        m.values(),
        Duplicates::Keep,
    ))
}

/// Every row scaled to unit length (f64 norm); zero rows stay zero.
fn normalized(f: &Factors) -> Factors {
    let k = f.rank();
    let mut data = f.as_slice().to_vec();
    for row in data.chunks_mut(k.max(1)) {
        let n = dot64(row, row).sqrt();
        if n > 0.0 {
            for v in row.iter_mut() {
                *v = (f64::from(*v) / n) as f32;
            }
        }
    }
    Factors::from_vec(f.rows(), k, data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Als, Interactions};

    fn model() -> Model {
        let mut b = Interactions::builder();
        for u in 0..30u32 {
            for i in 0..20u32 {
                if (u + i) % 2 == 0 && (u * 7 + i) % 3 != 0 {
                    b.push(&u.to_string(), &i.to_string(), 1.0 + (i % 3) as f32);
                }
            }
        }
        let Ok(data) = b.build() else { panic!("data") };
        let Ok(m) = Als::implicit().rank(6).reg_param(0.1).max_iter(8).fit(&data) else {
            panic!("fit")
        };
        m
    }

    #[test]
    fn vectors_of_known_users_rank_as_the_users_do() {
        let m = model();
        let q = m.user_factors().clone();
        let seen = m.training_matrix().clone();
        let mut got = Vec::new();
        let opts = RecommendOptions::top(5);
        let r = m.recommend_vectors(&q, Some(&seen), &opts, |row, list| {
            got.push((row, list));
            Ok(())
        });
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(got.len(), m.users().len());
        for (row, list) in got {
            let Ok(direct) = m.recommend_index(row, &opts) else { panic!("direct") };
            assert_eq!(list, direct);
        }
        // Without exclusions the training items come back.
        let mut first = None;
        let _ = m.recommend_vectors(&q, None, &RecommendOptions::top(20), |row, list| {
            if row == 0 {
                first = Some(list);
            }
            Ok(())
        });
        let Some(first) = first else { panic!("no list") };
        assert_eq!(first.eligible, m.items().len());
        let bad = Factors::zeros(2, 3);
        assert!(matches!(
            m.recommend_vectors(&bad, None, &opts, |_, _| Ok(())),
            Err(Error::Invalid(_))
        ));
        let short = Csr::from_triplets(1, 20, &[0], &[1], &[1.0], Duplicates::Keep);
        assert!(matches!(
            m.recommend_vectors(&q, Some(&short), &opts, |_, _| Ok(())),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn similar_vectors_put_the_query_first() {
        let m = model();
        let q = m.item_factors().clone();
        let mut n = 0;
        let r = m.similar_vectors(IdKind::Item, &q, &RecommendOptions::top(4), |row, list| {
            n += 1;
            let Some(&(_, score)) = list.items.first() else { panic!("empty") };
            if dot64(q.row(row as usize), q.row(row as usize)) > 0.0 {
                // The query itself is there with similarity 1 (first, unless another item
                // points the same way and comes first on the index tie-break).
                assert!((score - 1.0).abs() < 1e-5, "{score}");
                assert!(list.items.iter().any(|&(t, s)| t == row && (s - 1.0).abs() < 1e-5));
            }
            let Ok(direct) =
                m.similar_items_with(m.id_at(IdKind::Item, row), &RecommendOptions::top(3), false)
            else {
                panic!("direct")
            };
            let others: Vec<f32> =
                list.items.iter().filter(|p| p.0 != row).map(|p| p.1).take(3).collect();
            for (a, b) in others.iter().zip(&direct.results) {
                assert!((a - b.score).abs() < 1e-5, "{a} vs {}", b.score);
            }
            Ok(())
        });
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(n, m.items().len());
    }
}
