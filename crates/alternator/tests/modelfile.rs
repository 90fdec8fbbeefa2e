//! Model file format: the checked-in v1 fixture, corruption, truncation, versions, and a
//! property test of save → load.
//!
//! The fixture `tests/fixtures/tiny-v1.alt` is the model of [`fixture_model`] saved by format
//! version 1. To regenerate it (only when deliberately changing the format, together with a
//! version bump, keeping the old fixture for the old version):
//! `ALTERNATOR_WRITE_FIXTURE=1 cargo test -p alternator --test modelfile fixture`.

use std::path::{Path, PathBuf};

use alternator::{
    AlsParams, Biases, Csr, Duplicates, Error, FORMAT_VERSION, Factors, IdMap, Model,
    ModelFileInfo, ModelParts, OLDEST_SUPPORTED_VERSION, TrainingSummary,
};
use proptest::prelude::*;

fn from_bytes(bytes: &[u8], name: &Path) -> alternator::Result<(Model, ModelFileInfo)> {
    Model::from_bytes(bytes, name)
}

fn to_bytes(m: &Model) -> alternator::Result<Vec<u8>> {
    m.to_bytes()
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-v1.alt")
}

/// The model stored in the fixture: 3 users, 2 items, rank 2, biases, clip, 3 seen pairs.
fn fixture_model() -> Model {
    let users: IdMap = ["u1", "u2", "ü3 with space"].into_iter().collect();
    let items: IdMap = ["a", "b"].into_iter().collect();
    Model::from_parts(ModelParts {
        params: AlsParams { rank: 2, max_iter: 5, reg_param: 0.1, seed: 7, ..AlsParams::default() },
        users,
        items,
        user_factors: Factors::from_vec(3, 2, vec![0.5, -1.0, 1.5, 2.0, -0.25, 0.0]).unwrap(),
        item_factors: Factors::from_vec(2, 2, vec![1.0, 2.0, -3.0, 0.125]).unwrap(),
        biases: Some(Biases { global: 3.5, user: vec![0.25, -0.5, 0.0], item: vec![0.125, -1.0] }),
        clip_predictions: true,
        training: Csr::from_triplets(
            3,
            2,
            &[0, 1, 2],
            &[0, 1, 1],
            &[5.0, 3.0, 1.0],
            Duplicates::Keep,
        ),
        summary: TrainingSummary {
            interactions: 3,
            value_min: 1.0,
            value_max: 5.0,
            fit_seconds: 0.5,
            history: vec![1.5, 1.25],
            trained_at_unix: 1_700_000_000,
            source: "tiny.tsv".into(),
        },
    })
    .unwrap()
}

fn fixture_bytes() -> Vec<u8> {
    if std::env::var_os("ALTERNATOR_WRITE_FIXTURE").is_some() {
        fixture_model().save(fixture_path()).unwrap();
    }
    std::fs::read(fixture_path()).expect("tests/fixtures/tiny-v1.alt is checked in")
}

fn format_error(r: alternator::Result<(Model, ModelFileInfo)>) -> String {
    match r {
        Err(e @ Error::ModelFormat { .. }) => e.to_string(),
        Err(e) => panic!("expected a model-format error, got {e}"),
        Ok(_) => panic!("a damaged file loaded"),
    }
}

#[test]
fn fixture_v1_still_loads_with_known_values() {
    let _ = fixture_bytes();
    let (m, info) = Model::load_with_info(fixture_path()).unwrap();
    assert_eq!(info.version, 1);
    const { assert!(OLDEST_SUPPORTED_VERSION <= 1 && FORMAT_VERSION >= 1) };
    assert_eq!(info.bytes, std::fs::metadata(fixture_path()).unwrap().len());
    assert_eq!(m, fixture_model());
    // Known values, independently of fixture_model(): prediction = μ + b_u + b_i + x·y, clipped.
    // u1·a = 0.5·1 − 1·2 = −1.5; + 3.5 + 0.25 + 0.125 = 2.375.
    assert_eq!(m.predict("u1", "a"), Some(2.375));
    // u2·b = 1.5·(−3) + 2·0.125 = −4.25; + 3.5 − 0.5 − 1 = −2.25 → clipped to 1.
    assert_eq!(m.predict("u2", "b"), Some(1.0));
    assert_eq!(m.users().get("ü3 with space"), Some(2));
    assert_eq!(m.training_matrix().row(1), (&[1u32][..], &[3.0f32][..]));
    assert_eq!(m.summary().source, "tiny.tsv");
}

#[test]
fn current_writer_round_trips_fixture_model() {
    let m = fixture_model();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.alt");
    m.save(&p).unwrap();
    assert_eq!(Model::load(&p).unwrap(), m);
    // Atomic write: nothing but the model is left in the directory.
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("m.alt")]);
    // Overwriting an existing file works too.
    m.save(&p).unwrap();
    assert_eq!(Model::load(&p).unwrap(), m);
}

#[test]
fn every_single_byte_flip_fails_to_load() {
    let bytes = fixture_bytes();
    let p = Path::new("tiny-v1.alt");
    for at in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut b = bytes.clone();
            b[at] ^= mask;
            let msg = format_error(from_bytes(&b, p));
            assert!(!msg.is_empty(), "byte {at}");
        }
    }
}

#[test]
fn truncation_at_every_length_fails() {
    let bytes = fixture_bytes();
    let p = Path::new("tiny-v1.alt");
    for len in 0..bytes.len() {
        format_error(from_bytes(&bytes[..len], p));
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(format_error(from_bytes(&longer, p)).contains("trailing"));
    let msg = format_error(from_bytes(&bytes[..bytes.len() - 100], p));
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn foreign_and_future_files_are_named() {
    let bytes = fixture_bytes();
    let p = Path::new("m.alt");
    let msg = format_error(from_bytes(b"user\titem\trating\n1\t2\t5\n", p));
    assert!(msg.contains("not an Alternator model file"), "{msg}");
    let mut future = bytes.clone();
    future[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let msg = format_error(from_bytes(&future, p));
    assert!(msg.contains("written by a newer version"), "{msg}");
    let msg = format_error(from_bytes(&[], p));
    assert!(msg.contains("m.alt"), "{msg}");
    // A missing file is an I/O error naming the path.
    let err = Model::load("/nonexistent/dir/m.alt").unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dir/m.alt"), "{err}");
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // A valid checksum over a header that declares enormous blocks: rejected by size checks.
    let mut bytes = fixture_bytes();
    let body_end = bytes.len() - 4;
    bytes[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    let crc = crc32fast_hash(&bytes[..body_end]);
    bytes[body_end..].copy_from_slice(&crc.to_le_bytes());
    let msg = format_error(from_bytes(&bytes, Path::new("m.alt")));
    assert!(msg.contains("header length"), "{msg}");
}

/// crc32 (IEEE), bitwise, so the test does not depend on the library's implementation.
fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

prop_compose! {
    fn arb_model()(
        nu in 1usize..6, ni in 1usize..6, rank in 1usize..5,
        implicit in any::<bool>(), with_biases in any::<bool>(), clip in any::<bool>(),
        seed in any::<u64>(),
    )(
        uf in prop::collection::vec(-1e6f32..1e6, nu * rank),
        itf in prop::collection::vec(-1e6f32..1e6, ni * rank),
        ub in prop::collection::vec(-10f32..10.0, nu),
        ib in prop::collection::vec(-10f32..10.0, ni),
        pairs in prop::collection::vec((0..nu as u32, 0..ni as u32, -5f32..5.0), 0..12),
        uid in prop::collection::vec("[a-z0-9 ü,\"\\\\]{1,6}", nu),
        nu in Just(nu), ni in Just(ni), rank in Just(rank),
        implicit in Just(implicit), with_biases in Just(with_biases), clip in Just(clip),
        seed in Just(seed),
    ) -> Model {
        let mut users = IdMap::new();
        for (k, s) in uid.iter().enumerate() {
            users.get_or_insert(&format!("{k}:{s}"));
        }
        let items: IdMap = (0..ni).map(|i| format!("item-{i}")).collect();
        let rows: Vec<u32> = pairs.iter().map(|p| p.0).collect();
        let cols: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        let vals: Vec<f32> = pairs.iter().map(|p| p.2).collect();
        Model::from_parts(ModelParts {
            params: AlsParams { rank, implicit_prefs: implicit, seed, biases: with_biases, ..AlsParams::default() },
            users,
            items,
            user_factors: Factors::from_vec(nu, rank, uf).unwrap(),
            item_factors: Factors::from_vec(ni, rank, itf).unwrap(),
            biases: with_biases.then_some(Biases { global: 0.5, user: ub, item: ib }),
            clip_predictions: clip,
            training: Csr::from_triplets(nu, ni, &rows, &cols, &vals, Duplicates::Keep),
            summary: TrainingSummary { interactions: pairs.len(), value_min: -5.0, value_max: 5.0, ..TrainingSummary::default() },
        })
        .unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn save_load_is_bit_identical(m in arb_model()) {
        let bytes = to_bytes(&m).unwrap();
        let (back, info) = from_bytes(&bytes, Path::new("p.alt")).unwrap();
        prop_assert_eq!(info.bytes, bytes.len() as u64);
        prop_assert_eq!(bits(back.user_factors().as_slice()), bits(m.user_factors().as_slice()));
        prop_assert_eq!(bits(back.item_factors().as_slice()), bits(m.item_factors().as_slice()));
        prop_assert_eq!(bits(back.training_matrix().values()), bits(m.training_matrix().values()));
        prop_assert_eq!(&back, &m);
        // Saving the loaded model gives the same bytes.
        prop_assert_eq!(to_bytes(&back).unwrap(), bytes);
    }
}
