//! Writing Parquet in Spark's schemas: recommendation lists (`recommendForAllUsers`), factor
//! tables (`userFactors` / `itemFactors`), and an input's rows with a prediction appended
//! (`transform`) or routed to two outputs (a split).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, ListArray,
    RecordBatch, StructArray,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::read::Table;
use crate::data::{Delimiter, Interactions};
use crate::error::{Error, IdKind, Result};
use crate::ids::IdMap;
use crate::model::Factors;

/// Lists or rows buffered before a record batch is written.
const BATCH_ROWS: usize = 64 << 10;

/// Snappy, as Spark writes by default.
fn props() -> WriterProperties {
    WriterProperties::builder().set_compression(Compression::SNAPPY).build()
}

fn write_err(name: &Path, e: impl std::fmt::Display) -> Error {
    Error::table(name, format!("could not write Parquet: {e}"))
}

/// True when every id is a 32-bit integer written the usual way (`42`, `-7`; not `007` or
/// `+7`), so that it reads back as the same text: Spark's ids must be such integers.
pub fn all_int32(ids: &IdMap) -> bool {
    ids.ids().all(|s| s.parse::<i32>().is_ok_and(|v| v.to_string() == s))
}

/// An id column: int32 when `int`, else strings.
fn id_array<'a>(ids: impl Iterator<Item = &'a str>, int: bool) -> ArrayRef {
    if int {
        Arc::new(Int32Array::from_iter_values(ids.map(|s| s.parse::<i32>().unwrap_or_default())))
    } else {
        let mut b = StringBuilder::new();
        ids.for_each(|s| b.append_value(s));
        Arc::new(b.finish())
    }
}

fn id_type(int: bool) -> DataType {
    if int { DataType::Int32 } else { DataType::Utf8 }
}

/// Streams ranked lists to Parquet in the schema of Spark's `recommendForAllUsers`
/// (`user`, `recommendations: array<struct<item, rating: float>>`) or
/// `recommendForAllItems` (`item`, `recommendations: array<struct<user, rating>>`). Ids are
/// int32 when every id of their side is a 32-bit integer, strings otherwise.
pub struct ListWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    list_field: Arc<Field>,
    struct_fields: Fields,
    query_int: bool,
    target_int: bool,
    queries: Vec<String>,
    offsets: Vec<i32>,
    targets: Vec<String>,
    ratings: Vec<f32>,
    name: std::path::PathBuf,
}

impl<W: Write + Send> ListWriter<W> {
    /// A writer of lists for `query` ids (users for `recommendForAllUsers`) of `query_ids`,
    /// listing the other side's `target_ids`; `name` is used in messages.
    pub fn new(
        w: W,
        query: IdKind,
        query_ids: &IdMap,
        target_ids: &IdMap,
        name: &Path,
    ) -> Result<ListWriter<W>> {
        let (query_int, target_int) = (all_int32(query_ids), all_int32(target_ids));
        let target = match query {
            IdKind::User => "item",
            IdKind::Item => "user",
        };
        let struct_fields = Fields::from(vec![
            Field::new(target, id_type(target_int), false),
            Field::new("rating", DataType::Float32, false),
        ]);
        let list_field =
            Arc::new(Field::new("element", DataType::Struct(struct_fields.clone()), false));
        let schema = Arc::new(Schema::new(vec![
            Field::new(query.as_str(), id_type(query_int), false),
            Field::new("recommendations", DataType::List(list_field.clone()), false),
        ]));
        let writer = ArrowWriter::try_new(w, schema.clone(), Some(props()))
            .map_err(|e| write_err(name, e))?;
        Ok(ListWriter {
            writer,
            schema,
            list_field,
            struct_fields,
            query_int,
            target_int,
            queries: Vec::new(),
            offsets: vec![0],
            targets: Vec::new(),
            ratings: Vec::new(),
            name: name.into(),
        })
    }

    /// Adds the list of one query id: `(target id, score)`, best first.
    pub fn push<'a>(
        &mut self,
        query_id: &str,
        list: impl IntoIterator<Item = (&'a str, f32)>,
    ) -> Result<()> {
        self.queries.push(query_id.to_string());
        for (t, s) in list {
            self.targets.push(t.to_string());
            self.ratings.push(s);
        }
        let end = i32::try_from(self.targets.len())
            .map_err(|_| Error::Invalid("a batch of lists is too long for Parquet".into()))?;
        self.offsets.push(end);
        if self.targets.len() >= BATCH_ROWS || self.queries.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.queries.is_empty() {
            return Ok(());
        }
        let name = self.name.clone();
        let err = |e: arrow_schema::ArrowError| write_err(&name, e);
        let children: Vec<ArrayRef> = vec![
            id_array(self.targets.iter().map(String::as_str), self.target_int),
            Arc::new(Float32Array::from(std::mem::take(&mut self.ratings))),
        ];
        let structs =
            StructArray::try_new(self.struct_fields.clone(), children, None).map_err(err)?;
        let offsets = OffsetBuffer::new(std::mem::replace(&mut self.offsets, vec![0]).into());
        let lists = ListArray::try_new(self.list_field.clone(), offsets, Arc::new(structs), None)
            .map_err(err)?;
        let queries = id_array(self.queries.iter().map(String::as_str), self.query_int);
        let batch = RecordBatch::try_new(self.schema.clone(), vec![queries, Arc::new(lists)])
            .map_err(err)?;
        self.queries.clear();
        self.targets.clear();
        self.writer.write(&batch).map_err(|e| write_err(&self.name, e))
    }

    /// Writes what is buffered and the file's footer; returns the writer.
    pub fn finish(mut self) -> Result<W> {
        self.flush()?;
        let name = self.name.clone();
        self.writer.into_inner().map_err(|e| write_err(&name, e))
    }
}

/// Writes a factor table as Spark's `ALSModel` stores one: `id` (int32 when `int_ids`, else
/// strings) and `features: array<float>` of exactly `rank` values per row.
pub fn write_factor_table<W: Write + Send>(
    w: W,
    ids: &IdMap,
    factors: &Factors,
    int_ids: bool,
    name: &Path,
) -> Result<W> {
    let item = Arc::new(Field::new("element", DataType::Float32, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type(int_ids), false),
        Field::new("features", DataType::List(item.clone()), false),
    ]));
    let err = |e: arrow_schema::ArrowError| write_err(name, e);
    let mut writer =
        ArrowWriter::try_new(w, schema.clone(), Some(props())).map_err(|e| write_err(name, e))?;
    let rank = factors.rank();
    let all: Vec<&str> = ids.ids().collect();
    for (k, chunk) in all.chunks(BATCH_ROWS).enumerate() {
        let first = k * BATCH_ROWS;
        let rows = chunk.len();
        let values = factors.as_slice().get(first * rank..(first + rows) * rank).unwrap_or(&[]);
        if values.len() != rows * rank {
            return Err(Error::InconsistentModel("fewer factor rows than ids".into()));
        }
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(rank, rows));
        let lists = ListArray::try_new(
            item.clone(),
            offsets,
            Arc::new(Float32Array::from(values.to_vec())),
            None,
        )
        .map_err(err)?;
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![id_array(chunk.iter().copied(), int_ids), Arc::new(lists)],
        )
        .map_err(err)?;
        writer.write(&batch).map_err(|e| write_err(name, e))?;
    }
    writer.into_inner().map_err(|e| write_err(name, e))
}

/// Writes a bias table: `id` (int32 when `int_ids`, else strings) and `bias: float`.
pub fn write_bias_table<W: Write + Send>(
    w: W,
    ids: &IdMap,
    biases: &[f32],
    int_ids: bool,
    name: &Path,
) -> Result<W> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type(int_ids), false),
        Field::new("bias", DataType::Float32, false),
    ]));
    let columns: Vec<ArrayRef> =
        vec![id_array(ids.ids(), int_ids), Arc::new(Float32Array::from(biases.to_vec()))];
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| write_err(name, e))?;
    let mut writer =
        ArrowWriter::try_new(w, schema, Some(props())).map_err(|e| write_err(name, e))?;
    writer.write(&batch).map_err(|e| write_err(name, e))?;
    writer.into_inner().map_err(|e| write_err(name, e))
}

/// For each of the interactions `data` holds (in order), what becomes of its row: the output
/// it goes to (`None`: none) and, when writing predictions, its prediction.
pub type RowFate = (Option<usize>, Option<f32>);

/// Copies the rows of the Parquet input `input` (the table `data` was read from with
/// [`ReaderBuilder::keep_lines`](crate::ReaderBuilder::keep_lines)) to `outs`, every column
/// as it is: the row of interaction `k` goes where `fate(k)` says, rows that are not
/// interactions go nowhere. With `prediction`, each output also gets a float column of that
/// name (NaN for a `None` prediction). `bytes`: the input's content, when it was read from
/// memory (standard input).
pub fn filter_rows<W: Write + Send>(
    input: &Path,
    bytes: Option<&[u8]>,
    data: &Interactions,
    fate: &dyn Fn(usize) -> RowFate,
    prediction: Option<&str>,
    outs: Vec<(W, &Path)>,
) -> Result<Vec<W>> {
    let Some(lines) = data.lines() else {
        return Err(Error::Invalid("copying rows needs interactions read with keep_lines".into()));
    };
    let table = match bytes {
        Some(b) => Table::from_bytes(b.to_vec().into(), input, true)?,
        None => Table::open(input, true)?,
    };
    let Some(in_schema) = table.schema().cloned() else {
        return Err(Error::table(input, "no Parquet files"));
    };
    let mut fields: Vec<Arc<Field>> = in_schema.fields().iter().cloned().collect();
    if let Some(p) = prediction {
        fields.push(Arc::new(Field::new(p, DataType::Float32, true)));
    }
    let schema = Arc::new(Schema::new(fields));
    let mut writers = Vec::with_capacity(outs.len());
    for (w, name) in outs {
        let aw = ArrowWriter::try_new(w, schema.clone(), Some(props()))
            .map_err(|e| write_err(name, e))?;
        writers.push((aw, name));
    }
    let mut next = 0usize; // index into `lines`
    let mut row = 0u64; // rows seen, over the whole table
    for part in &table.parts {
        let all: Vec<usize> = (0..part.schema().fields().len()).collect();
        let groups = part.row_group_rows()?;
        for (g, &rows) in groups.iter().enumerate() {
            part.for_each_batch(&all, g, 0, rows, |batch| {
                let n = batch.num_rows();
                let mut dest = vec![None; n];
                let mut preds = vec![f32::NAN; n];
                for r in 0..n {
                    let line = row + r as u64 + 1;
                    if lines.get(next) == Some(&line) {
                        let (to, p) = fate(next);
                        dest[r] = to;
                        preds[r] = p.unwrap_or(f32::NAN);
                        next += 1;
                    }
                }
                row += n as u64;
                let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
                if prediction.is_some() {
                    columns.push(Arc::new(Float32Array::from(preds)));
                }
                let full = RecordBatch::try_new(schema.clone(), columns)
                    .map_err(|e| Error::table(&part.path, format!("{e} (do the parts differ?)")))?;
                for (k, (w, name)) in writers.iter_mut().enumerate() {
                    let mask: BooleanArray = dest.iter().map(|d| Some(*d == Some(k))).collect();
                    let kept = arrow_select::filter::filter_record_batch(&full, &mask)
                        .map_err(|e| write_err(name, e))?;
                    if kept.num_rows() > 0 {
                        w.write(&kept).map_err(|e| write_err(name, e))?;
                    }
                }
                Ok(())
            })?;
        }
    }
    writers.into_iter().map(|(w, name)| w.into_inner().map_err(|e| write_err(name, e))).collect()
}

/// Predictions for the (user, item) pairs of a Parquet input, in Spark's `transform` shape:
/// every input column, then `prediction` (float; NaN for a pair the model cannot score, or
/// the row left out with `drop_unknown`). `preds` has one entry per interaction of `data`.
pub fn write_predictions<W: Write + Send>(
    input: &Path,
    bytes: Option<&[u8]>,
    data: &Interactions,
    preds: &[Option<f32>],
    drop_unknown: bool,
    out: (W, &Path),
) -> Result<W> {
    let fate = |k: usize| -> RowFate {
        let p = preds.get(k).copied().flatten();
        (if drop_unknown && p.is_none() { None } else { Some(0) }, p)
    };
    let mut ws = filter_rows(input, bytes, data, &fate, Some("prediction"), vec![out])?;
    ws.pop().ok_or_else(|| Error::Internal("no writer came back".into()))
}

/// The type a column of text fields reads as: int32, int64, double, else string (Spark's CSV
/// schema inference, without dates).
fn infer(fields: &[&str]) -> DataType {
    let all = |f: &dyn Fn(&str) -> bool| fields.iter().all(|s| f(s));
    if all(&|s| s.parse::<i32>().is_ok()) {
        DataType::Int32
    } else if all(&|s| s.parse::<i64>().is_ok()) {
        DataType::Int64
    } else if all(&|s| s.parse::<f64>().is_ok()) {
        DataType::Float64
    } else {
        DataType::Utf8
    }
}

/// Predictions for the pairs of a text input, as Parquet: the input's fields as columns (named
/// by its header, else `_c0`, `_c1`, … as Spark names CSV columns; typed int, long, double or
/// string as every field of the column allows), then `prediction`. `text` is the input's
/// (decompressed) text, `data` read from it with `keep_lines`.
pub fn write_rows_with_prediction<W: Write + Send>(
    text: &[u8],
    data: &Interactions,
    preds: &[Option<f32>],
    drop_unknown: bool,
    out: (W, &Path),
) -> Result<W> {
    let (w, name) = out;
    let Some(lines) = data.lines() else {
        return Err(Error::Invalid("writing rows needs interactions read with keep_lines".into()));
    };
    let delim = data.delimiter().unwrap_or(Delimiter::Byte(b'\t'));
    let text = String::from_utf8_lossy(text);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row_preds: Vec<f32> = Vec::new();
    let mut next = 0usize;
    for (k, line) in text.split('\n').enumerate() {
        if lines.get(next) != Some(&(k as u64 + 1)) {
            continue;
        }
        let p = preds.get(next).copied().flatten();
        next += 1;
        if drop_unknown && p.is_none() {
            continue;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        rows.push(delim.split(line).into_iter().map(|f| f.trim().to_string()).collect());
        row_preds.push(p.unwrap_or(f32::NAN));
    }
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let names: Vec<String> = (0..width)
        .map(|c| match data.header().and_then(|h| h.get(c)) {
            Some(h) if !h.is_empty() && h != "prediction" => h.clone(),
            _ => format!("_c{c}"),
        })
        .collect();
    let mut fields = Vec::with_capacity(width + 1);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(width + 1);
    for (c, cname) in names.iter().enumerate() {
        let cells: Vec<&str> = rows.iter().map(|r| r.get(c).map_or("", String::as_str)).collect();
        let ty = infer(&cells);
        let array: ArrayRef = match ty {
            DataType::Int32 => Arc::new(Int32Array::from_iter_values(
                cells.iter().map(|s| s.parse().unwrap_or_default()),
            )),
            DataType::Int64 => Arc::new(Int64Array::from_iter_values(
                cells.iter().map(|s| s.parse().unwrap_or_default()),
            )),
            DataType::Float64 => Arc::new(Float64Array::from_iter_values(
                cells.iter().map(|s| s.parse().unwrap_or_default()),
            )),
            _ => {
                let mut b = StringBuilder::new();
                cells.iter().for_each(|s| b.append_value(s));
                Arc::new(b.finish())
            }
        };
        fields.push(Field::new(cname, ty, false));
        columns.push(array);
    }
    fields.push(Field::new("prediction", DataType::Float32, true));
    columns.push(Arc::new(Float32Array::from(row_preds)));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| write_err(name, e))?;
    let mut writer =
        ArrowWriter::try_new(w, schema, Some(props())).map_err(|e| write_err(name, e))?;
    if batch.num_rows() > 0 {
        writer.write(&batch).map_err(|e| write_err(name, e))?;
    }
    writer.into_inner().map_err(|e| write_err(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int32_ids_are_canonical_integers_only() {
        let ok: IdMap = ["1", "-7", "2147483647"].into_iter().collect();
        assert!(all_int32(&ok));
        for bad in ["007", "+7", "2147483648", "x", " 1"] {
            let m: IdMap = ["1", bad].into_iter().collect();
            assert!(!all_int32(&m), "{bad}");
        }
    }

    #[test]
    fn inference_prefers_the_narrowest_type() {
        assert_eq!(infer(&["1", "2"]), DataType::Int32);
        assert_eq!(infer(&["1", "8589934592"]), DataType::Int64);
        assert_eq!(infer(&["1", "2.5"]), DataType::Float64);
        assert_eq!(infer(&["1", "x"]), DataType::Utf8);
    }
}
