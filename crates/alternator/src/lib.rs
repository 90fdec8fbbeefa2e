//! # Alternator
//!
//! Alternating least squares (ALS) matrix factorization for recommender systems: explicit
//! ratings with Spark MLlib's semantics, implicit feedback with the `implicit` library's and
//! Spark's conventions, evaluation, recommendation in the user's own ids, and a versioned
//! model file.
//!
//! Train on interactions, evaluate on held-out ratings, recommend, save and load:
//!
//! ```
//! use alternator::{Als, ColdStart, Interactions, Model, Recommendation, RegressionMetrics};
//!
//! // Ratings of a few users, with ids of your own.
//! let mut train = Interactions::builder();
//! let ratings = [
//!     ("ann", "Alien", 5.0), ("ann", "Heat", 1.0), ("ann", "Up", 4.0),
//!     ("bob", "Alien", 4.0), ("bob", "Heat", 2.0), ("bob", "Brazil", 5.0),
//!     ("cat", "Heat", 5.0), ("cat", "Up", 2.0), ("cat", "Brazil", 1.0),
//!     ("dan", "Alien", 5.0), ("dan", "Up", 5.0), ("dan", "Heat", 1.0),
//! ];
//! for (user, item, rating) in ratings {
//!     train.push(user, item, rating);
//! }
//! let train = train.build()?;
//!
//! // Spark's ALS(rank=2, regParam=0.1, maxIter=10, seed=42).
//! let model: Model = Als::explicit().rank(2).reg_param(0.1).max_iter(10).seed(42).fit(&train)?;
//!
//! // Spark's RegressionEvaluator on a test set, cold-start pairs dropped.
//! let mut test = Interactions::builder();
//! test.push("ann", "Brazil", 2.0);
//! test.push("bob", "Up", 5.0);
//! test.push("eve", "Up", 3.0); // a user the model has never seen
//! let m: RegressionMetrics = model.evaluate(&test.build()?, ColdStart::Drop)?;
//! assert_eq!((m.scored, m.dropped), (2, 1));
//! assert!(m.rmse.is_finite());
//!
//! // Top items for a user (their training items excluded), items similar to an item, and a
//! // new user who names what they liked.
//! let recs: Vec<Recommendation> = model.recommend("ann", 1)?;
//! assert_eq!(recs[0].item, "Brazil");
//! let sims = model.similar_items("Alien", 2)?;
//! assert_eq!(sims.len(), 2);
//! let new_user = model.recommend_for_liked(&[("Alien", 5.0), ("Up", 4.0)], 2)?;
//! assert!(new_user.iter().all(|r| r.item != "Alien" && r.item != "Up"));
//!
//! // Save and load: the same model, the same recommendations.
//! let dir = std::env::temp_dir().join(format!("alternator-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).map_err(|e| alternator::Error::io(&dir, e))?;
//! let path = dir.join("ratings.alt");
//! model.save(&path)?;
//! let back = Model::load(&path)?;
//! assert_eq!(back.recommend("ann", 1)?, recs);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), alternator::Error>(())
//! ```
//!
//! Files are read with [`ReaderBuilder`] (MovieLens, CSV/TSV, delimiter and header sniffed;
//! gzip or zstd text; Parquet files and Spark's directories of part files).
//! The modules, by concept: [`data`] reads interactions, [`als`] trains ([`Als`]), [`model`]
//! is the trained [`Model`], [`evaluate`] scores it, [`recommend`] ranks items and users,
//! [`meta`] reads item titles, [`split`] makes train/test splits, [`tune`] searches
//! hyper-parameters, [`generate`] writes synthetic data sets, [`json`] is the JSON shape of
//! results every front end prints, [`files`] is how every file is written (atomically,
//! symbolic links written through, optionally `fsync`ed), [`tables`] writes Parquet in
//! Spark's schemas, and [`spark`] reads and writes Spark `ALSModel` directories.
#![deny(missing_docs)]

pub mod als;
pub mod data;
pub mod evaluate;
pub mod files;
pub mod generate;
pub mod json;
pub mod meta;
pub mod model;
pub mod recommend;
pub mod spark;
pub mod split;
pub mod tables;
pub mod tune;

mod error;
mod ids;
mod kernels;
mod modelfile;
mod params;
mod rng;
mod sparse;
mod topk;

pub use als::{Als, IterationReport};
pub use data::{Column, Delimiter, InputFormat, Interactions, InteractionsBuilder, ReaderBuilder};
pub use error::{Error, IdKind, Result};
pub use evaluate::{ColdStart, RankingMetrics, RegressionMetrics};
pub use files::SaveOptions;
pub use ids::IdMap;
pub use model::{Biases, Factors, Model, ModelFileInfo, ModelParts, TrainingSummary};
pub use modelfile::{FORMAT_VERSION, OLDEST_SUPPORTED_VERSION};
pub use params::{AlsParams, Confidence, MAX_ITER_LIMIT, MAX_RANK, Solver};
pub use recommend::{
    Explanation, NewUser, Ranked, RecommendOptions, Recommendation, UserScore, UserWeights,
};
pub use sparse::{Csr, Duplicates};

/// Internals for the crate's own benchmarks; not part of the API.
#[doc(hidden)]
pub mod bench_internals {
    pub use crate::kernels::*;
}
