//! The response bodies: the types the handlers serialise and the OpenAPI document describes
//! (`#[derive(Serialize, ToSchema)]`), so that the document cannot drift from the answers.
//! Lists have the shape of [`alternator::json`], which the command line's `--json` prints too.

use alternator::meta::Metadata;
use alternator::{Recommendation, UserScore};
use serde::Serialize;
use utoipa::ToSchema;

/// One item of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    /// The item id.
    pub item: String,
    /// The predicted score (cosine similarity for similar items), at its f32 value.
    #[serde(serialize_with = "alternator::json::serialize_f32")]
    #[schema(value_type = f64)]
    pub score: f32,
    /// The title, when item metadata is loaded and has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The genres, when the metadata has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genres: Option<Vec<String>>,
}

impl Item {
    /// The items of a library list, titled from `meta`.
    pub fn list(results: &[Recommendation], meta: Option<&Metadata>) -> Vec<Item> {
        results
            .iter()
            .map(|r| {
                let m = meta.and_then(|m| m.get(&r.item));
                Item {
                    item: r.item.clone(),
                    score: r.score,
                    title: m.map(|m| m.title.clone()),
                    genres: m.filter(|m| !m.genres.is_empty()).map(|m| m.genres.clone()),
                }
            })
            .collect()
    }
}

/// One user of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserOut {
    /// The user id.
    pub user: String,
    /// The score (cosine similarity for similar users), at its f32 value.
    #[serde(serialize_with = "alternator::json::serialize_f32")]
    #[schema(value_type = f64)]
    pub score: f32,
}

impl UserOut {
    /// The users of a library list.
    pub fn list(results: &[UserScore]) -> Vec<UserOut> {
        results.iter().map(|r| UserOut { user: r.user.clone(), score: r.score }).collect()
    }
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// Checksum of the model being served (8 hex digits).
    pub model_checksum: String,
    /// Seconds since the server started.
    pub uptime_seconds: u64,
}

/// `GET /v1/model`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfo {
    /// `explicit` or `implicit`.
    pub kind: String,
    /// Factors per user and item.
    pub rank: usize,
    /// Users of the model.
    pub users: usize,
    /// Items of the model.
    pub items: usize,
    /// Training interactions.
    pub interactions: usize,
    /// When training finished (RFC 3339), when recorded.
    pub trained_at: Option<String>,
    /// The same, as seconds since the Unix epoch (0 when not recorded).
    pub trained_at_unix: u64,
    /// The model file's crc32 (8 hex digits).
    pub checksum: String,
    /// The model file's format version.
    pub format_version: u32,
    /// The model file's size.
    pub file_bytes: u64,
    /// The model file's name.
    pub file: Option<String>,
    /// The model file's full path: only with the admin token.
    pub path: Option<String>,
    /// When the model was loaded (RFC 3339).
    pub loaded_at: String,
    /// Successful reloads since the start.
    pub reloads: u64,
    /// Whether the model has biases.
    pub biases: bool,
    /// The value a liked item without one gets in a fold-in (the top training rating for
    /// explicit models, 1 for implicit ones).
    #[serde(serialize_with = "alternator::json::serialize_f32")]
    #[schema(value_type = f64)]
    pub liked_value: f32,
    /// The training parameters.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// Titles loaded from item metadata, when any.
    pub titles: Option<usize>,
}

/// `GET /v1/recommend`: a known user's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRecommendations {
    /// The user id.
    pub user: String,
    /// The `n` asked for.
    pub n: usize,
    /// Items that could have been returned.
    pub eligible: usize,
    /// The recommendations, best first.
    pub items: Vec<Item>,
}

/// One liked title and the item it was resolved to.
#[derive(Debug, Serialize, ToSchema)]
pub struct TitleUse {
    /// The title as given.
    pub query: String,
    /// The item used.
    pub item: String,
    /// Its title.
    pub title: Option<String>,
}

/// `POST /v1/recommend`: a new user's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewUserRecommendations {
    /// Always `null`: the user is not in the model.
    #[schema(value_type = Option<String>)]
    pub user: Option<String>,
    /// The liked item ids used, in the order first named.
    pub liked: Vec<String>,
    /// Liked ids the model does not know (left out).
    pub ignored: Vec<String>,
    /// How each liked title was resolved.
    pub titles: Vec<TitleUse>,
    /// The `n` asked for.
    pub n: usize,
    /// Items that could have been returned.
    pub eligible: usize,
    /// The recommendations, best first.
    pub items: Vec<Item>,
}

/// `GET /v1/similar?item=`: the items most similar to an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarItems {
    /// The item asked about.
    pub item: String,
    /// Its title, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The `n` asked for.
    pub n: usize,
    /// Items that could have been returned.
    pub eligible: usize,
    /// The most similar items, best first (score = cosine similarity).
    pub items: Vec<Item>,
}

/// `GET /v1/similar?user=`: the users most similar to a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarUsers {
    /// The user asked about.
    pub user: String,
    /// The `n` asked for.
    pub n: usize,
    /// Users that could have been returned.
    pub eligible: usize,
    /// The most similar users, best first (score = cosine similarity).
    pub users: Vec<UserOut>,
}

/// `GET /v1/similar`: similar items or similar users.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Similar {
    /// For `item=ID`.
    Items(SimilarItems),
    /// For `user=ID`.
    Users(SimilarUsers),
}

/// `GET /v1/search`: items whose title (or id) matches a query.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// The query as given.
    pub query: String,
    /// The `n` asked for.
    pub n: usize,
    /// The items found, best first (score = match score in [0, 1]; a title matches from 0.7
    /// on, lower scores are the closest titles).
    pub items: Vec<Item>,
}

/// `GET /v1/history`: a known user's training items.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserItems {
    /// The user id.
    pub user: String,
    /// The `n` asked for.
    pub n: usize,
    /// How many training items the user has.
    pub eligible: usize,
    /// The items, largest value first (score = the training value: rating or count).
    pub items: Vec<Item>,
}

/// One item's part in an explained score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionOut {
    /// An item the user interacted with.
    pub item: String,
    /// Its title, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The user's value for it (rating or count).
    #[serde(serialize_with = "alternator::json::serialize_f32")]
    #[schema(value_type = f64)]
    pub value: f32,
    /// Its share of the score, in score units; all the shares add up to the score.
    pub share: f64,
}

/// `GET` and `POST /v1/explain`: a score split into the contributions of the user's items
/// (the user's least-squares solve written as weights over their items, as `implicit`'s
/// explain).
#[derive(Debug, Serialize, ToSchema)]
pub struct Explained {
    /// The user id; `null` for a new user.
    #[schema(value_type = Option<String>)]
    pub user: Option<String>,
    /// The item explained.
    pub item: String,
    /// Its title, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The score: for a new user the one `POST /v1/recommend` ranks by; for a known user it
    /// can differ from `GET /v1/recommend`'s by what the last training step changed.
    pub score: f64,
    /// The largest contributions, largest first.
    pub contributions: Vec<ContributionOut>,
    /// The sum of the shares not listed: score = sum of the listed shares + others.
    pub others: f64,
    /// How many of the user's items are not listed.
    pub others_count: usize,
    /// For a new user: liked ids the model does not know (left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Vec<String>>,
}

/// `POST /v1/predict`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Predictions {
    /// One score per pair, in order; `null` where the user or the item is unknown.
    #[schema(value_type = Vec<Option<f64>>)]
    pub scores: Vec<serde_json::Value>,
    /// How many pairs could not be scored.
    pub unknown: usize,
}

/// `POST /v1/admin/reload`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reloaded {
    /// Always `true`.
    pub reloaded: bool,
    /// Checksum of the model served before.
    pub previous_checksum: String,
    /// Checksum of the model served now.
    pub checksum: String,
    /// Users of the new model.
    pub users: usize,
    /// Items of the new model.
    pub items: usize,
    /// Its rank.
    pub rank: usize,
}

/// Every error: `error`, `code` and `status`, and details by case (`id`, `hint`, `max_n`,
/// `suggestions`, ...).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What was wrong, where, and what to do.
    pub error: String,
    /// A machine-readable code: `bad_request`, `unknown_user`, `unknown_item`,
    /// `unknown_title`, `too_large`, `timeout`, `not_found`, `method_not_allowed`, ...
    pub code: String,
    /// The HTTP status, repeated.
    pub status: u16,
}
