//! Request parameters and bodies, parsed by serde (`deny_unknown_fields` throughout) and then
//! checked against the server's limits.
//!
//! Ids may be JSON strings or integers. A repeated query parameter (`n=1&n=5`) is a duplicate
//! field, hence a 400, rather than silently the last one.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::error::Category;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::errors::ApiError;

/// Longest title accepted in `liked_titles`, in bytes: far longer than any film title, short
/// enough that matching one costs next to nothing.
pub const MAX_TITLE_BYTES: usize = 256;

/// An id: a JSON string, or an integer written as a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(pub String);

impl PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .description(Some("An id: a string, or an integer"))
            .into()
    }
}

impl ToSchema for Id {}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a string or an integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `n` as given in a body (any JSON value), checked against `max_n` by [`Count::get`].
#[derive(Debug, Clone, PartialEq)]
pub struct Count(String);

impl PartialSchema for Count {
    fn schema() -> RefOr<Schema> {
        // The maximum is the server's `max_n`, set when the document is served.
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .description(Some("How many results: 1 to the server's max-n (default 10)"))
            .into()
    }
}

impl ToSchema for Count {}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Count, D::Error> {
        // Anything is accepted here so that the range check below names the value.
        let v = serde_json::Value::deserialize(d)?;
        Ok(Count(match v {
            serde_json::Value::Number(x) => x.to_string(),
            serde_json::Value::String(s) => format!("the string {s:?}"),
            other => format!("{other}"),
        }))
    }
}

impl Count {
    /// `n` in `1..=max`, or a 400 naming the bound.
    pub fn get(&self, max: usize) -> Result<usize, ApiError> {
        parse_n(Some(&self.0), max)
    }
}

/// `n` from a query string (10 when absent, or `max` when that is smaller).
pub fn parse_n(raw: Option<&str>, max: usize) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(10.min(max)) };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad(format!("n must be an integer from 1 to {max}, got {raw}"))
            .with("max_n", serde_json::json!(max))),
    }
}

/// A boolean query parameter (`true`/`false`, `1`/`0`, `yes`/`no`; false when absent).
pub fn parse_bool(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match raw.map(str::trim) {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ApiError::bad(format!("{name} must be true or false, got {other:?}"))),
    }
}

/// `GET /v1/recommend` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendQuery {
    /// The user id.
    #[param(required = true, value_type = String)]
    pub user: Option<String>,
    /// How many items (default 10).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub n: Option<String>,
    /// Keep the user's training items (`true`/`false`, `1`/`0`, `yes`/`no`; default false).
    #[param(value_type = Option<bool>)]
    pub include_seen: Option<String>,
}

/// `GET /v1/similar` parameters: exactly one of `item` and `user`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// An item id: the items most similar to it.
    pub item: Option<String>,
    /// A user id: the users most similar to them.
    pub user: Option<String>,
    /// How many (default 10).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub n: Option<String>,
}

/// `GET /v1/search` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: part of a title (the last word may be unfinished), or an item id.
    /// At most 256 bytes; a blank query finds nothing.
    #[param(required = true, value_type = String, max_length = 256)]
    pub q: Option<String>,
    /// How many items (default 10).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub n: Option<String>,
}

/// `GET /v1/history` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The user id.
    #[param(required = true, value_type = String)]
    pub user: Option<String>,
    /// How many items (default 10).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub n: Option<String>,
}

/// `GET /v1/explain` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// The user id.
    #[param(required = true, value_type = String)]
    pub user: Option<String>,
    /// The item whose score is explained.
    #[param(required = true, value_type = String)]
    pub item: Option<String>,
    /// How many contributing items to list (default 10).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub n: Option<String>,
}

/// A liked item's value: a finite number in f32's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LikedValue(pub f32);

/// The largest liked value accepted (f32's range).
const MAX_LIKED_VALUE: f64 = f32::MAX as f64;

impl<'de> Deserialize<'de> for LikedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LikedValue, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LikedValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a finite number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LikedValue, E> {
                if v.is_finite() && v.abs() <= MAX_LIKED_VALUE {
                    Ok(LikedValue(v as f32))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LikedValue, E> {
                Ok(LikedValue(v as f32))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LikedValue, E> {
                Ok(LikedValue(v as f32))
            }
        }
        d.deserialize_any(V)
    }
}

/// `liked`: item ids, or ids with values.
#[derive(Debug, Clone, PartialEq)]
pub enum Liked {
    /// `["ID", 7, ...]`: each takes the model's "liked" value.
    Ids(Vec<Id>),
    /// `{"ID": value, ...}`.
    Values(Vec<(String, f32)>),
}

impl PartialSchema for Liked {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(-MAX_LIKED_VALUE))
            .maximum(Some(MAX_LIKED_VALUE));
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(Id::schema()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(AdditionalProperties::RefOr(value.into()))),
            )
            .description(Some(
                "Liked item ids (each worth the model's liked value), or {\"ID\": value}",
            ))
            .into()
    }
}

impl ToSchema for Liked {}

impl<'de> Deserialize<'de> for Liked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Liked, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Liked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("liked as an array of item ids or an object {\"ID\": value}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Liked, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element::<Id>()? {
                    ids.push(id);
                }
                Ok(Liked::Ids(ids))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Liked, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, LikedValue>()? {
                    out.push((k, v.0));
                }
                Ok(Liked::Values(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A liked title: a non-empty string of at most [`MAX_TITLE_BYTES`].
#[derive(Debug, Clone, PartialEq)]
pub struct Title(pub String);

impl PartialSchema for Title {
    fn schema() -> RefOr<Schema> {
        // Bytes bound the length; a title of that many ASCII characters is the longest.
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TITLE_BYTES))
            .pattern(Some(r"\S"))
            .description(Some("A title, matched against the item metadata"))
            .into()
    }
}

impl ToSchema for Title {}

impl<'de> Deserialize<'de> for Title {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Title, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Title;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a title: a non-empty string of at most {MAX_TITLE_BYTES} bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Title, E> {
                if v.trim().is_empty() || v.len() > MAX_TITLE_BYTES {
                    return Err(E::invalid_value(de::Unexpected::Other("such a string"), &self));
                }
                Ok(Title(v.to_string()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A request object: what a type accepts only as a JSON object (serde's derived structs also
/// take arrays, field by field), and what the error says is expected.
pub trait Object: for<'de> Deserialize<'de> {
    /// What a client should send, for the error message.
    const EXPECTING: &'static str;
}

/// `T` read from a JSON object only.
#[derive(Debug)]
pub struct Obj<T>(pub T);

impl<'de, T: Object> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Object> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Obj)
    }
}

/// `POST /v1/recommend`: a new user named by what they liked (at least one of `liked` and
/// `liked_titles`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecommendBody {
    /// Liked item ids, or ids with values.
    #[serde(default)]
    pub liked: Option<Liked>,
    /// Liked titles, matched in the item metadata (needs the server's --items-meta).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub liked_titles: Option<Vec<Title>>,
    /// How many items.
    #[serde(default)]
    pub n: Option<Count>,
}

impl Object for RecommendBody {
    const EXPECTING: &'static str = "a JSON object like {\"liked\": [\"ID\", ...], \"n\": 10}";
}

/// `POST /v1/explain`: why a new user, named by what they liked (as `POST /v1/recommend`),
/// gets `item`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainBody {
    /// The item whose score is explained.
    pub item: Id,
    /// Liked item ids, or ids with values.
    #[serde(default)]
    pub liked: Option<Liked>,
    /// Liked titles, matched in the item metadata (needs the server's --items-meta).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub liked_titles: Option<Vec<Title>>,
    /// How many contributing items to list.
    #[serde(default)]
    pub n: Option<Count>,
}

impl Object for ExplainBody {
    const EXPECTING: &'static str =
        "a JSON object like {\"item\": \"ID\", \"liked\": [\"ID\", ...], \"n\": 10}";
}

/// One pair of `POST /v1/predict`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictPair {
    /// The user id.
    pub user: Id,
    /// The item id.
    pub item: Id,
}

impl Object for PredictPair {
    const EXPECTING: &'static str = "an object {\"user\": ID, \"item\": ID}";
}

/// `POST /v1/predict`: an array of pairs.
#[derive(Debug)]
pub struct PredictBody(pub Vec<PredictPair>);

impl PartialSchema for PredictBody {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("PredictPair")))
            .description(Some("(user, item) pairs to score"))
            .into()
    }
}

impl ToSchema for PredictBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("PredictPair".into(), PredictPair::schema()));
    }
}

impl<'de> Deserialize<'de> for PredictBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PredictBody, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PredictBody;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array of {\"user\": ID, \"item\": ID} objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PredictBody, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(Obj(p)) = seq.next_element::<Obj<PredictPair>>()? {
                    out.push(p);
                }
                Ok(PredictBody(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Parses a JSON body: a syntax error is "malformed JSON", a well-formed body of the wrong
/// shape says what was expected; both are 400s.
pub fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad(format!("malformed JSON: {e}"))
        }
        Category::Data => ApiError::bad(format!("bad request body: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_and_bool_parsing() {
        assert_eq!(parse_n(None, 1000).unwrap(), 10);
        assert_eq!(parse_n(Some("1000"), 1000).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "ten", "100000000000000000000000"] {
            assert!(parse_n(Some(bad), 1000).is_err(), "{bad}");
        }
        assert!(parse_bool(Some("maybe"), "x").is_err());
        assert!(parse_bool(Some("true"), "x").unwrap());
    }

    #[test]
    fn fold_in_bodies() {
        let Obj(ok): Obj<RecommendBody> = json_body(br#"{"liked": ["1", 2], "n": 5}"#).unwrap();
        assert_eq!(ok.liked, Some(Liked::Ids(vec![Id("1".into()), Id("2".into())])));
        assert_eq!(ok.n.unwrap().get(1000).unwrap(), 5);
        let Obj(ok): Obj<RecommendBody> = json_body(br#"{"liked": {"7": 4.5}}"#).unwrap();
        assert_eq!(ok.liked, Some(Liked::Values(vec![("7".into(), 4.5)])));
        for bad in [
            r#"[]"#,
            r#"{"liked": "1"}"#,
            r#"{"liked": [1.5]}"#,
            r#"{"liked": {"7": "x"}}"#,
            r#"{"liked": {"7": 1e300}}"#,
            r#"{"liked": ["1"], "extra": 1}"#,
            r#"{"liked_titles": [3]}"#,
            r#"{"liked_titles": [""]}"#,
            r#"{"liked": ["1"], "liked": ["2"]}"#,
        ] {
            assert!(json_body::<Obj<RecommendBody>>(bad.as_bytes()).is_err(), "{bad}");
        }
        let long = format!(r#"{{"liked_titles": ["{}"]}}"#, "x".repeat(MAX_TITLE_BYTES + 1));
        assert!(json_body::<Obj<RecommendBody>>(long.as_bytes()).is_err());
        let Obj(n): Obj<RecommendBody> = json_body(br#"{"liked": ["1"], "n": "10"}"#).unwrap();
        assert!(n.n.unwrap().get(1000).is_err());
    }

    #[test]
    fn predict_bodies() {
        let ok: PredictBody = json_body(br#"[{"user": 1, "item": "a"}]"#).unwrap();
        assert_eq!(ok.0[0].user, Id("1".into()));
        for bad in [
            r#"{"user": 1}"#,
            r#"[{"user": 1}]"#,
            r#"[3]"#,
            r#"[{"user": [1], "item": 2}]"#,
            r#"[["1", "2"]]"#,
        ] {
            assert!(json_body::<PredictBody>(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
