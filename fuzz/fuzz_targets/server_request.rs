//! Bytes into the server's request parsing: the JSON bodies of `POST /v1/recommend` and
//! `POST /v1/predict`, and the query strings of `GET /v1/recommend` and `GET /v1/similar`
//! (read with `serde_urlencoded`, as axum's `Query` reads them), then the checks the
//! handlers make on what was parsed.
#![no_main]

use alternator_server::api::requests::{
    Liked, Obj, PredictBody, RecommendBody, RecommendQuery, SimilarQuery, json_body, parse_bool,
    parse_n,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    match which % 4 {
        0 => {
            if let Ok(Obj(body)) = json_body::<Obj<RecommendBody>>(bytes) {
                if let Some(n) = &body.n {
                    let _ = n.get(1000);
                }
                if let Some(Liked::Values(v)) = &body.liked {
                    assert!(v.iter().all(|(_, x)| x.is_finite()));
                }
            }
        }
        1 => {
            let _ = json_body::<PredictBody>(bytes);
        }
        2 => {
            if let Ok(q) = serde_urlencoded::from_bytes::<RecommendQuery>(bytes) {
                let _ = parse_n(q.n.as_deref(), 1000);
                let _ = parse_bool(q.include_seen.as_deref(), "include_seen");
            }
        }
        _ => {
            if let Ok(q) = serde_urlencoded::from_bytes::<SimilarQuery>(bytes) {
                let _ = parse_n(q.n.as_deref(), 1000);
            }
        }
    }
});
