//! Mapping between the user's own ids (arbitrary strings) and dense indices.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// A bidirectional map from external ids (any string: integers, names, UUIDs) to dense
/// `u32` indices `0..len`, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct IdMap {
    ids: Vec<Box<str>>,
    index: FxHashMap<Box<str>, u32>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no ids.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The index of `id`, inserting it at the end when new.
    ///
    /// Panics only if more than `u32::MAX` distinct ids are inserted; callers that read user
    /// files check [`IdMap::len`] against that bound first (see `data`).
    pub fn get_or_insert(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let boxed: Box<str> = id.into();
        self.ids.push(boxed.clone());
        self.index.insert(boxed, i);
        i
    }

    /// The index of `id`, if known.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The external id at `index`, if in range.
    pub fn id(&self, index: u32) -> Option<&str> {
        self.ids.get(index as usize).map(|s| &**s)
    }

    /// All ids in index order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.ids.iter().map(|s| &**s)
    }
}

impl From<Vec<String>> for IdMap {
    fn from(v: Vec<String>) -> Self {
        let mut m = IdMap::new();
        for s in v {
            m.get_or_insert(&s);
        }
        m
    }
}

impl From<IdMap> for Vec<String> {
    fn from(m: IdMap) -> Self {
        m.ids.into_iter().map(String::from).collect()
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdMap {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        let mut m = IdMap::new();
        for s in iter {
            m.get_or_insert(s.as_ref());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_appearance_order_and_round_trip() {
        let mut m = IdMap::new();
        assert_eq!(m.get_or_insert("b"), 0);
        assert_eq!(m.get_or_insert("a"), 1);
        assert_eq!(m.get_or_insert("b"), 0);
        assert_eq!(m.get("a"), Some(1));
        assert_eq!(m.get("zz"), None);
        assert_eq!(m.id(1), Some("a"));
        assert_eq!(m.id(7), None);
        let v: Vec<String> = m.clone().into();
        assert_eq!(IdMap::from(v), m);
    }
}
