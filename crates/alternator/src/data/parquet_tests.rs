//! The Parquet reader against the text reader on the same data, its errors, and arbitrary
//! bytes (it must answer with an error, never panic).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use proptest::prelude::*;

use crate::{Error, InputFormat, ReaderBuilder};

/// A Parquet file of `columns`, in row groups of `group` rows.
fn parquet(columns: Vec<(&str, ArrayRef)>, group: usize) -> Vec<u8> {
    let fields: Vec<Field> =
        columns.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect()).unwrap();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(group)).build();
    let mut w = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.into_inner().unwrap()
}

fn same_as_text(pq: &[u8], text: &str) {
    let a = ReaderBuilder::new().from_bytes(pq, "t.parquet").unwrap();
    let b = ReaderBuilder::new().has_header(false).from_bytes(text.as_bytes(), "t.tsv").unwrap();
    assert_eq!(a.format(), InputFormat::Parquet);
    assert_eq!(a.users(), b.users());
    assert_eq!(a.items(), b.items());
    assert_eq!(a.user_indices(), b.user_indices());
    assert_eq!(a.item_indices(), b.item_indices());
    assert_eq!(a.values(), b.values());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Integer ids (small, large, negative) and string ids number as in text, whatever the
    /// row groups.
    #[test]
    fn ids_number_as_the_text_reader_numbers_them(
        rows in proptest::collection::vec((0i64..40, 0usize..30, 1u8..6), 1..400),
        group in 1usize..50,
        big in any::<bool>(),
    ) {
        let users: Vec<i64> =
            rows.iter().map(|r| if big && r.0 % 3 == 0 { -r.0 * 1_000_000_007 } else { r.0 }).collect();
        let items: Vec<String> = rows.iter().map(|r| format!("item-{}", r.1)).collect();
        let values: Vec<f64> = rows.iter().map(|r| f64::from(r.2) / 2.0).collect();
        let text: String = users
            .iter()
            .zip(&items)
            .zip(&values)
            .map(|((u, i), v)| format!("{u}\t{i}\t{v}\n"))
            .collect();
        let pq = parquet(
            vec![
                ("user", Arc::new(Int64Array::from(users.clone()))),
                ("item", Arc::new(StringArray::from(items.clone()))),
                ("rating", Arc::new(Float64Array::from(values.clone()))),
            ],
            group,
        );
        same_as_text(&pq, &text);
    }

    /// Arbitrary bytes between Parquet magics, and a real file with bytes changed or cut:
    /// an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(
        junk in proptest::collection::vec(any::<u8>(), 0..600),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut framed = b"PAR1".to_vec();
        framed.extend_from_slice(&junk);
        framed.extend_from_slice(b"PAR1");
        let _ = ReaderBuilder::new().from_bytes(&framed, "junk.parquet");

        let good = parquet(
            vec![
                ("user", Arc::new(Int32Array::from(vec![1, 2, 3, 1]))),
                ("item", Arc::new(Int32Array::from(vec![10, 20, 10, 30]))),
                ("rating", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]))),
            ],
            2,
        );
        let mut bad = good.clone();
        for (at, b) in flips {
            let n = bad.len();
            if let Some(x) = bad.get_mut(at % n) {
                *x ^= b | 1;
            }
        }
        let _ = ReaderBuilder::new().from_bytes(&bad, "flipped.parquet");
        let cut = good.get(..cut % good.len()).unwrap_or_default();
        let _ = ReaderBuilder::new().from_bytes(cut, "cut.parquet");
    }
}

#[test]
fn nulls_name_the_row_and_column_or_are_skipped() {
    let pq = parquet(
        vec![
            ("u", Arc::new(Int32Array::from(vec![Some(1), Some(2), None, Some(4)]))),
            ("i", Arc::new(Int32Array::from(vec![7, 8, 9, 10]))),
            ("r", Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(4.0)]))),
        ],
        10,
    );
    let err = ReaderBuilder::new().from_bytes(&pq, "n.parquet").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Table { row: Some(2), .. }), "{msg}");
    assert!(msg.contains("row 2 (index 1)") && msg.contains("\"r\"") && msg.contains("null"));
    let data = ReaderBuilder::new().skip_invalid(true).from_bytes(&pq, "n.parquet").unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data.skipped().count, 2);
    // Ids of skipped rows are not numbered.
    assert_eq!(data.users().ids().collect::<Vec<_>>(), ["1", "4"]);
    assert_eq!(data.items().ids().collect::<Vec<_>>(), ["7", "10"]);
}

#[test]
fn columns_by_name_types_and_messages() {
    let pq = parquet(
        vec![
            ("rating", Arc::new(Float64Array::from(vec![5.0, 3.0]))),
            ("userId", Arc::new(StringArray::from(vec!["ann", "bob"]))),
            ("movieId", Arc::new(Int64Array::from(vec![3_000_000_000, 1]))),
            ("ts", Arc::new(Int64Array::from(vec![100, 200]))),
        ],
        10,
    );
    let data = ReaderBuilder::new()
        .user_col("userId")
        .item_col("movieId")
        .rating_col("rating")
        .time_col("ts")
        .from_bytes(&pq, "m.parquet")
        .unwrap();
    assert_eq!(data.items().ids().collect::<Vec<_>>(), ["3000000000", "1"]);
    assert_eq!(data.values(), &[5.0, 3.0]);
    assert_eq!(data.times(), Some(&[100i64, 200][..]));
    assert_eq!(data.header().map(<[String]>::len), Some(4));
    let err = ReaderBuilder::new().user_col("nope").from_bytes(&pq, "m.parquet").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name: "user_col", message } if message.contains("userId")),
        "{err}"
    );
    // A string column as the value: the column and its type are named.
    let err = ReaderBuilder::new()
        .user_col("movieId")
        .item_col("movieId")
        .rating_col("userId")
        .from_bytes(&pq, "m.parquet")
        .unwrap_err();
    assert!(err.to_string().contains("\"userId\"") && err.to_string().contains("Utf8"), "{err}");
    assert_eq!(DataType::Utf8.to_string(), "Utf8");
}

#[test]
fn gzip_and_zstd_text_are_recognised_by_content() {
    use std::io::Write;
    let text = "1\t10\t5\n2\t10\t3\n1\t20\t4\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    // Two zstd frames, as multi-threaded zstd writes, and a name that says nothing.
    let mut zst = ruzstd::encoding::compress_to_vec(
        &text.as_bytes()[..8],
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    zst.extend(ruzstd::encoding::compress_to_vec(
        &text.as_bytes()[8..],
        ruzstd::encoding::CompressionLevel::Fastest,
    ));
    let plain = ReaderBuilder::new().from_bytes(text.as_bytes(), "p").unwrap();
    for (bytes, format) in [(gz, InputFormat::Gzip), (zst, InputFormat::Zstd)] {
        let data = ReaderBuilder::new().from_reader(&bytes[..], "data.txt").unwrap();
        assert_eq!(data.format(), format);
        assert_eq!(data.user_indices(), plain.user_indices());
        assert_eq!(data.values(), plain.values());
        // A damaged stream is an error, not a panic.
        let cut = bytes.get(..bytes.len() / 2).unwrap_or_default();
        assert!(ReaderBuilder::new().from_bytes(cut, "cut").is_err());
    }
}

#[test]
fn a_truncated_file_and_a_directory_of_parts() {
    let dir = tempfile::tempdir().unwrap();
    let part = |u: Vec<i32>| {
        let n = u.len();
        parquet(
            vec![
                ("user", Arc::new(Int32Array::from(u))),
                ("item", Arc::new(Int32Array::from(vec![5; n]))),
                ("rating", Arc::new(Float64Array::from(vec![1.0; n]))),
            ],
            1,
        )
    };
    let whole = part(vec![3, 1, 2]);
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, whole.get(..whole.len() - 10).unwrap()).unwrap();
    let err = ReaderBuilder::new().from_path(&cut).unwrap_err();
    assert!(err.is_bad_input(), "{err}");
    let parts = dir.path().join("table");
    std::fs::create_dir(&parts).unwrap();
    std::fs::write(parts.join("part-00001.parquet"), part(vec![2, 9])).unwrap();
    std::fs::write(parts.join("part-00000.parquet"), part(vec![3, 1])).unwrap();
    std::fs::write(parts.join("_SUCCESS"), b"").unwrap();
    std::fs::write(parts.join(".part-00000.parquet.crc"), b"junk").unwrap();
    let data = ReaderBuilder::new().from_path(&parts).unwrap();
    assert_eq!(data.users().ids().collect::<Vec<_>>(), ["3", "1", "2", "9"]);
    assert_eq!(data.lines(), None);
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(ReaderBuilder::new().from_path(&empty), Err(Error::Empty { .. })));
}
