//! Attaching training interactions to a model that has none (a Spark model), so that seen
//! items are filtered and popularity is known.

use super::Model;
use crate::data::Interactions;
use crate::error::{IdKind, Result};
use crate::sparse::{Csr, Duplicates};

impl Model {
    /// The model with `data` as its training interactions: recommendations then leave out
    /// each user's items in `data` (unless asked to include them), and popularity
    /// (`min_item_interactions`, the popular fallback) counts them. Pairs whose user or item
    /// the model does not know are ignored; returns the model and how many were.
    pub fn with_training(self, data: &Interactions) -> Result<(Model, usize)> {
        let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
        let mut unknown = 0usize;
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for k in 0..data.len() {
            let Some((u, i, v)) = data.get(k) else { continue };
            let user = data.users().id(u).and_then(|id| self.ids(IdKind::User).get(id));
            let item = data.items().id(i).and_then(|id| self.ids(IdKind::Item).get(id));
            match (user, item) {
                (Some(u), Some(i)) => {
                    rows.push(u);
                    cols.push(i);
                    vals.push(v);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                _ => unknown += 1,
            }
        }
        let mut parts = self.into_parts();
        parts.training = Csr::from_triplets(
            parts.users.len(),
            parts.items.len(),
            &rows,
            &cols,
            &vals,
            Duplicates::Keep,
        );
        parts.summary.interactions = vals.len();
        if !vals.is_empty() && parts.summary.interactions > 0 && parts.summary.value_max == 0.0 {
            parts.summary.value_min = lo;
            parts.summary.value_max = hi;
        }
        Ok((Model::from_parts(parts)?, unknown))
    }
}
