//! Interactions from arrays a caller already holds (a numpy or Arrow column, a sparse
//! matrix): dense indices into id maps of their own, checked once.

use super::Interactions;
use crate::error::{Error, Result};
use crate::ids::IdMap;

impl Interactions {
    /// Interactions from parallel arrays: interaction `k` is user `users.id(user_idx[k])`,
    /// item `items.id(item_idx[k])`, value `values[k]` (for example the row and column
    /// indices and values of a sparse matrix, with ids `"0"`, `"1"`, …, or the codes of a
    /// factorised data-frame column).
    ///
    /// Errors ([`Error::Invalid`]): arrays of different lengths, an index outside its id
    /// map, a non-finite value.
    ///
    /// ```
    /// use alternator::{IdMap, Interactions};
    ///
    /// let users: IdMap = ["ann", "bob"].into_iter().collect();
    /// let items: IdMap = ["Alien", "Heat", "Up"].into_iter().collect();
    /// let data = Interactions::from_indices(users, items, vec![0, 0, 1], vec![0, 2, 1], vec![5.0, 3.0, 4.0])?;
    /// assert_eq!(data.len(), 3);
    /// assert!(Interactions::from_indices(IdMap::new(), IdMap::new(), vec![0], vec![0], vec![1.0]).is_err());
    /// # Ok::<(), alternator::Error>(())
    /// ```
    pub fn from_indices(
        users: IdMap,
        items: IdMap,
        user_idx: Vec<u32>,
        item_idx: Vec<u32>,
        values: Vec<f32>,
    ) -> Result<Interactions> {
        if user_idx.len() != item_idx.len() || user_idx.len() != values.len() {
            return Err(Error::Invalid(format!(
                "{} user indices, {} item indices and {} values: one of each per interaction",
                user_idx.len(),
                item_idx.len(),
                values.len()
            )));
        }
        for (idx, map, side) in [(&user_idx, &users, "user"), (&item_idx, &items, "item")] {
            if let Some((k, &i)) = idx.iter().enumerate().find(|(_, i)| **i as usize >= map.len()) {
                return Err(Error::Invalid(format!(
                    "interaction {}: {side} index {i} is outside the {} {side} ids",
                    k + 1,
                    map.len()
                )));
            }
        }
        if let Some((k, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "interaction {}: the value {v} is not finite",
                k + 1
            )));
        }
        Ok(Interactions {
            path: "<memory>".into(),
            users,
            items,
            user_idx,
            item_idx,
            values,
            ..Interactions::default()
        })
    }
}
