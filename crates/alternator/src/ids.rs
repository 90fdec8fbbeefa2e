//! Mapping between the user's own ids (arbitrary strings) and dense indices.

use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

/// A bidirectional map from external ids (any string: integers, names, UUIDs) to dense
/// `u32` indices `0..len`, in order of first appearance.
///
/// All ids live in one string buffer (no allocation per id); a hash table of indices looks
/// them up by content.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<String>", into = "Vec<String>")]
pub struct IdMap {
    buf: String,
    ends: Vec<usize>,
    table: hashbrown::HashTable<u32>,
}

fn hash(s: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(s)
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no ids.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn slice<'a>(buf: &'a str, ends: &[usize], i: usize) -> &'a str {
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &buf[start..ends[i]]
    }

    /// The index of `id`, inserting it at the end when new.
    ///
    /// Callers that read user files check [`IdMap::len`] against `u32::MAX` (see `data`).
    pub fn get_or_insert(&mut self, id: &str) -> u32 {
        let h = hash(id);
        let (buf, ends) = (&self.buf, &self.ends);
        if let Some(&i) = self.table.find(h, |&i| Self::slice(buf, ends, i as usize) == id) {
            return i;
        }
        let i = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.buf.push_str(id);
        self.ends.push(self.buf.len());
        let (buf, ends) = (&self.buf, &self.ends);
        self.table.insert_unique(h, i, |&j| hash(Self::slice(buf, ends, j as usize)));
        i
    }

    /// The index of `id`, if known.
    pub fn get(&self, id: &str) -> Option<u32> {
        let (buf, ends) = (&self.buf, &self.ends);
        self.table.find(hash(id), |&i| Self::slice(buf, ends, i as usize) == id).copied()
    }

    /// The external id at `index`, if in range.
    pub fn id(&self, index: u32) -> Option<&str> {
        let i = index as usize;
        (i < self.ends.len()).then(|| Self::slice(&self.buf, &self.ends, i))
    }

    /// All ids in index order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|i| Self::slice(&self.buf, &self.ends, i))
    }
}

impl std::fmt::Debug for IdMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.ids().take(20)).finish()?;
        if self.len() > 20 { write!(f, " (+{} more)", self.len() - 20) } else { Ok(()) }
    }
}

impl PartialEq for IdMap {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf && self.ends == other.ends
    }
}

impl Eq for IdMap {}

impl From<Vec<String>> for IdMap {
    fn from(v: Vec<String>) -> Self {
        v.iter().collect()
    }
}

impl From<IdMap> for Vec<String> {
    fn from(m: IdMap) -> Self {
        m.ids().map(String::from).collect()
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
        assert_eq!(m.get_or_insert(""), 2);
        assert_eq!(m.get("a"), Some(1));
        assert_eq!(m.get(""), Some(2));
        assert_eq!(m.get("zz"), None);
        assert_eq!(m.id(1), Some("a"));
        assert_eq!(m.id(2), Some(""));
        assert_eq!(m.id(7), None);
        let v: Vec<String> = m.clone().into();
        assert_eq!(v, vec!["b", "a", ""]);
        assert_eq!(IdMap::from(v), m);
        let many: IdMap = (0..10_000).map(|i| format!("id{i}")).collect();
        assert_eq!(many.len(), 10_000);
        assert!((0..10_000).all(|i| many.get(&format!("id{i}")) == Some(i)));
    }
}
