//! The one JSON shape of results, shared by the command line (`--json`, JSON lines) and the
//! HTTP service, so that a list of items reads the same wherever it comes from:
//!
//! ```text
//! {"item": "50", "score": 4.940252, "title": "Star Wars (1977)", "genres": ["Action", ...]}
//! {"user": "196", "score": 0.912}
//! {"item": "50", "count": 495, "title": "Star Wars (1977)"}      (popular items)
//! ```
//!
//! `title` and `genres` appear when item metadata is loaded and has them. Scores are printed
//! at their f32 value, in the shortest decimal that reads back to it (`4.940252`, not
//! `4.940252304077148`); a score that is not finite is `null`.

use serde::Serializer;
use serde_json::{Map, Value};

use crate::meta::Metadata;
use crate::recommend::{FoldedUser, Recommendation, UserScore};

/// An f32 as a JSON number in the shortest decimal that reads back to it; `null` when not
/// finite.
pub fn number(v: f32) -> Value {
    if v.is_finite() {
        // The shortest f32 decimal, read as f64, prints back as that same decimal.
        v.to_string().parse::<f64>().map(Value::from).unwrap_or(Value::Null)
    } else {
        Value::Null
    }
}

/// Serialises an f32 as [`number`] does (for `#[serde(serialize_with = ...)]`).
pub fn serialize_f32<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
    match v.to_string().parse::<f64>() {
        Ok(x) if v.is_finite() => s.serialize_f64(x),
        _ => s.serialize_none(),
    }
}

/// One item with its title and genres from `meta`, when known.
fn titled(id: &str, meta: Option<&Metadata>, mut o: Map<String, Value>) -> Value {
    if let Some(m) = meta.and_then(|m| m.get(id)) {
        o.insert("title".into(), Value::from(m.title.as_str()));
        if !m.genres.is_empty() {
            o.insert("genres".into(), Value::from(m.genres.clone()));
        }
    }
    Value::Object(o)
}

/// One item: `{"item", "score", "title"?, "genres"?}`.
pub fn item(id: &str, score: f32, meta: Option<&Metadata>) -> Value {
    let mut o = Map::new();
    o.insert("item".into(), Value::from(id));
    o.insert("score".into(), number(score));
    titled(id, meta, o)
}

/// A list of items, best first.
pub fn items(list: &[Recommendation], meta: Option<&Metadata>) -> Value {
    Value::Array(list.iter().map(|r| item(&r.item, r.score, meta)).collect())
}

/// One user: `{"user", "score"}`.
pub fn user(id: &str, score: f32) -> Value {
    let mut o = Map::new();
    o.insert("user".into(), Value::from(id));
    o.insert("score".into(), number(score));
    Value::Object(o)
}

/// A list of users, best first.
pub fn users(list: &[UserScore]) -> Value {
    Value::Array(list.iter().map(|r| user(&r.user, r.score)).collect())
}

/// One popular item (the fallback for an unknown user): `{"item", "count", "title"?, ...}`,
/// the count being the item's number of training interactions.
pub fn popular_item(id: &str, count: u64, meta: Option<&Metadata>) -> Value {
    let mut o = Map::new();
    o.insert("item".into(), Value::from(id));
    o.insert("count".into(), Value::from(count));
    titled(id, meta, o)
}

/// Popular items ([`Model::popular_items`](crate::Model::popular_items), whose scores are
/// counts), best first.
pub fn popular(list: &[Recommendation], meta: Option<&Metadata>) -> Value {
    Value::Array(list.iter().map(|r| popular_item(&r.item, r.score as u64, meta)).collect())
}

/// What a new user named, as resolved by [`Model::fold_in`](crate::Model::fold_in):
/// `"liked"` (the item ids used), `"ignored"` (ids the model does not know) and `"titles"`
/// (`{"query", "item", "title"}` for each title match used).
pub fn fold_in(user: &FoldedUser, meta: Option<&Metadata>) -> Map<String, Value> {
    let titles: Vec<Value> = user
        .titles
        .iter()
        .flat_map(|t| {
            t.used.iter().map(|id| {
                let mut o = Map::new();
                o.insert("query".into(), Value::from(t.query.as_str()));
                o.insert("item".into(), Value::from(id.as_str()));
                o.insert(
                    "title".into(),
                    meta.and_then(|m| m.title(id)).map_or(Value::Null, Value::from),
                );
                Value::Object(o)
            })
        })
        .collect();
    let mut o = Map::new();
    o.insert("user".into(), Value::Null);
    o.insert("liked".into(), Value::from(user.liked.clone()));
    o.insert("ignored".into(), Value::from(user.ignored.clone()));
    o.insert("titles".into(), Value::Array(titles));
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_f32() {
        assert_eq!(number(4.940_252).to_string(), "4.940252");
        assert_eq!(number(0.1).to_string(), "0.1");
        assert_eq!(number(f32::NAN), Value::Null);
        assert_eq!(number(3.0).to_string(), "3.0");
        #[derive(serde::Serialize)]
        struct P {
            #[serde(serialize_with = "serialize_f32")]
            x: f32,
        }
        assert_eq!(serde_json::to_string(&P { x: 0.1 }).unwrap(), r#"{"x":0.1}"#);
        assert_eq!(serde_json::to_value(P { x: 0.1 }).unwrap().to_string(), r#"{"x":0.1}"#);
    }
}
