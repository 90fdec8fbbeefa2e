//! The model file: magic, version, JSON header, little-endian f32 blocks, crc32.
//!
//! Layout of format version 1 (all integers little-endian):
//!
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 8 | magic `ALTMODEL` |
//! | 8 | 4 | format version (`u32`) |
//! | 12 | 8 | JSON header length `H` (`u64`) |
//! | 20 | `H` | JSON header: kind, params, id maps, summary, global bias, clip flag, block table |
//! | … | … | zero padding to a multiple of [`ALIGN`] bytes |
//! | block offsets | … | binary blocks, each starting at a multiple of [`ALIGN`] (so they can be memory-mapped): user factors (`f32`, row-major `users × rank`), item factors (`f32`), user biases and item biases (`f32`, only with biases), `seen` CSR indptr (`u64`, `rows + 1`), indices (`u32`), values (`f32`) |
//! | end − 4 | 4 | crc32 (IEEE, `crc32fast`) of every byte before it |
//!
//! The block table in the header gives each block's offset and length in bytes; on load
//! every offset and length is checked against the element counts the header declares and
//! against the real file size before anything is allocated, and the checksum is verified
//! before any block is decoded. Files are written atomically through
//! [`crate::files::AtomicFile`]: to a temporary file beside the target, then renamed over it,
//! so a reader never sees a half-written model, and the leftovers of saves that were killed
//! are removed by the next save. Like Spark's and `implicit`'s `save`, the write does not
//! wait for the disk by default (`fsync`, 2–18 ms here, more than a whole MovieLens fit):
//! should the machine lose power right after a save, the size and checksum checks above
//! reject the damaged file with an error instead of loading it.
//! [`SaveOptions::durable`] waits for the disk.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{AtomicFile, SaveOptions};
use crate::ids::IdMap;
use crate::model::{Biases, Factors, Model, ModelFileInfo, TrainingSummary};
use crate::params::{AlsParams, Confidence, Solver};
use crate::sparse::Csr;

/// The file's magic bytes.
pub const MAGIC: &[u8; 8] = b"ALTMODEL";
/// The format version this build writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;
/// The oldest format version this build reads.
pub const OLDEST_SUPPORTED_VERSION: u32 = 1;
/// Alignment in bytes of every binary block, from the start of the file.
pub const ALIGN: usize = 64;
/// Bytes before the JSON header: magic, version, header length.
const PREAMBLE: usize = 8 + 4 + 8;
/// Bytes of the trailing checksum.
const CRC_BYTES: usize = 4;

/// One binary block's place in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Block {
    offset: u64,
    len: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Blocks {
    user_factors: Block,
    item_factors: Block,
    user_biases: Option<Block>,
    item_biases: Option<Block>,
    seen_indptr: Block,
    seen_indices: Block,
    seen_values: Block,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SeenShape {
    /// Rows of the CSR; `None` for an empty default matrix (no row pointer at all).
    rows: Option<u64>,
    cols: u64,
    nnz: u64,
}

/// The JSON header.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    kind: String,
    rank: u64,
    n_users: u64,
    n_items: u64,
    params: HeaderParams,
    users: IdMap,
    items: IdMap,
    summary: HeaderSummary,
    /// Global mean μ when the model has biases (the per-row biases are binary blocks).
    global_bias: Option<f32>,
    clip_predictions: bool,
    seen: SeenShape,
    blocks: Blocks,
}

/// The training parameters as version 1 of the file writes them: the fields of
/// [`AlsParams`], in its order, under its names. Kept apart from the public type so that the
/// file format changes only when this struct does (and [`FORMAT_VERSION`] with it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
struct HeaderParams {
    rank: usize,
    max_iter: usize,
    reg_param: f32,
    seed: u64,
    nonnegative: bool,
    implicit_prefs: bool,
    alpha: f32,
    confidence: Confidence,
    solver: Solver,
    cg_steps: usize,
    biases: bool,
    compute_loss: bool,
}

impl Default for HeaderParams {
    fn default() -> Self {
        HeaderParams::from(&AlsParams::explicit())
    }
}

impl From<&AlsParams> for HeaderParams {
    fn from(p: &AlsParams) -> Self {
        HeaderParams {
            rank: p.rank,
            max_iter: p.max_iter,
            reg_param: p.reg_param,
            seed: p.seed,
            nonnegative: p.nonnegative,
            implicit_prefs: p.implicit_prefs,
            alpha: p.alpha,
            confidence: p.confidence,
            solver: p.solver,
            cg_steps: p.cg_steps,
            biases: p.biases,
            compute_loss: p.compute_loss,
        }
    }
}

impl From<&HeaderParams> for AlsParams {
    fn from(p: &HeaderParams) -> Self {
        AlsParams {
            rank: p.rank,
            max_iter: p.max_iter,
            reg_param: p.reg_param,
            seed: p.seed,
            nonnegative: p.nonnegative,
            implicit_prefs: p.implicit_prefs,
            alpha: p.alpha,
            confidence: p.confidence,
            solver: p.solver,
            cg_steps: p.cg_steps,
            biases: p.biases,
            compute_loss: p.compute_loss,
        }
    }
}

/// The training summary as version 1 of the file writes it (see [`HeaderParams`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct HeaderSummary {
    interactions: usize,
    value_min: f32,
    value_max: f32,
    fit_seconds: f64,
    history: Vec<f64>,
    trained_at_unix: u64,
    source: String,
}

impl From<&TrainingSummary> for HeaderSummary {
    fn from(s: &TrainingSummary) -> Self {
        HeaderSummary {
            interactions: s.interactions,
            value_min: s.value_min,
            value_max: s.value_max,
            fit_seconds: s.fit_seconds,
            history: s.history.clone(),
            trained_at_unix: s.trained_at_unix,
            source: s.source.clone(),
        }
    }
}

impl From<&HeaderSummary> for TrainingSummary {
    fn from(s: &HeaderSummary) -> Self {
        TrainingSummary {
            interactions: s.interactions,
            value_min: s.value_min,
            value_max: s.value_max,
            fit_seconds: s.fit_seconds,
            history: s.history.clone(),
            trained_at_unix: s.trained_at_unix,
            source: s.source.clone(),
        }
    }
}

fn format_err(path: &Path, message: impl Into<String>) -> Error {
    Error::ModelFormat { path: path.to_path_buf(), message: message.into() }
}

fn kind_of(implicit_prefs: bool) -> &'static str {
    if implicit_prefs { "implicit" } else { "explicit" }
}

fn align_up(x: u64) -> u64 {
    x.div_ceil(ALIGN as u64) * ALIGN as u64
}

/// A writer that tracks its position and the crc32 of everything written.
struct CrcWriter<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
    pos: u64,
}

impl<W: Write> CrcWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.pos += bytes.len() as u64;
        self.inner.write_all(bytes)
    }

    /// Zero-pads up to `offset`.
    fn pad_to(&mut self, offset: u64) -> std::io::Result<()> {
        const ZEROS: [u8; ALIGN] = [0; ALIGN];
        while self.pos < offset {
            let n = (offset - self.pos).min(ALIGN as u64) as usize;
            self.put(&ZEROS[..n])?;
        }
        Ok(())
    }

    /// Writes `values` little-endian at `offset` (zero-padded up to it), in 4 KiB pieces.
    fn put_le<T: Copy, const N: usize>(
        &mut self,
        offset: u64,
        values: &[T],
        to_le: impl Fn(T) -> [u8; N],
    ) -> std::io::Result<()> {
        self.pad_to(offset)?;
        let mut buf = [0u8; 4096];
        for chunk in values.chunks(4096 / N) {
            for (dst, &v) in buf.chunks_exact_mut(N).zip(chunk) {
                dst.copy_from_slice(&to_le(v));
            }
            self.put(&buf[..chunk.len() * N])?;
        }
        Ok(())
    }
}

/// Writes `model` to `path` atomically through [`AtomicFile`] (temporary file beside the
/// target, then renamed; a symbolic link is written through). The file is streamed: no copy
/// of the model is built in memory.
///
/// Fails with [`Error::InconsistentModel`] when the model is internally inconsistent (id maps
/// and factor rows disagree, non-finite factors, …): such a file could not be loaded back.
pub fn save(model: &Model, path: &Path, opts: SaveOptions) -> Result<()> {
    let layout = layout(model)?;
    let mut file = AtomicFile::create_with(path, opts)?;
    write_model(model, &layout, std::io::BufWriter::with_capacity(1 << 16, &mut file))
        .map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// Serialises `model` into the bytes of a model file.
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    let layout = layout(model)?;
    let mut buf = Vec::with_capacity(layout.end as usize + CRC_BYTES);
    write_model(model, &layout, &mut buf).map_err(|e| Error::Internal(format!("{e}")))?;
    Ok(buf)
}

/// Where everything goes in a model file.
struct FileLayout {
    /// The header, as it is written.
    json: Vec<u8>,
    header: Header,
    /// End of the last block (where the crc32 goes).
    end: u64,
}

/// The layout of `model`'s file: the header's size depends on the block offsets, which depend
/// on the header's size, so the blocks are laid out from a provisional start, retried with a
/// later start until the header fits before it.
fn layout(model: &Model) -> Result<FileLayout> {
    model.validate()?;
    let rank = model.rank() as u64;
    let (nu, ni) = (model.users.len() as u64, model.items.len() as u64);
    let seen = &model.seen;
    let seen_rows = (!seen.indptr().is_empty()).then_some(seen.nrows() as u64);
    let nnz = seen.nnz() as u64;

    let mut start = align_up((PREAMBLE + 256) as u64);
    loop {
        let mut at = start;
        let mut next = |len: u64| {
            let b = Block { offset: at, len };
            at = align_up(at + len);
            b
        };
        let user_factors = next(nu * rank * 4);
        let item_factors = next(ni * rank * 4);
        let (user_biases, item_biases) = match &model.biases {
            Some(_) => (Some(next(nu * 4)), Some(next(ni * 4))),
            None => (None, None),
        };
        let blocks = Blocks {
            user_factors,
            item_factors,
            user_biases,
            item_biases,
            seen_indptr: next(seen.indptr().len() as u64 * 8),
            seen_indices: next(nnz * 4),
            seen_values: next(nnz * 4),
        };
        let header = Header {
            kind: kind_of(model.params.implicit_prefs).into(),
            rank,
            n_users: nu,
            n_items: ni,
            params: HeaderParams::from(&model.params),
            users: model.users.clone(),
            items: model.items.clone(),
            summary: HeaderSummary::from(&model.summary),
            global_bias: model.biases.as_ref().map(|b| b.global),
            clip_predictions: model.clip_predictions,
            seen: SeenShape { rows: seen_rows, cols: seen.ncols() as u64, nnz },
            blocks,
        };
        let json = serde_json::to_vec(&header)
            .map_err(|e| Error::Internal(format!("cannot encode the model header: {e}")))?;
        if (PREAMBLE + json.len()) as u64 > start {
            start = align_up((PREAMBLE + json.len()) as u64);
            continue;
        }
        return Ok(FileLayout { json, header, end: at });
    }
}

/// Writes the file of `model` laid out as `layout`, crc32 last.
fn write_model<W: Write>(
    model: &Model,
    FileLayout { json, header, end }: &FileLayout,
    inner: W,
) -> std::io::Result<()> {
    let mut w = CrcWriter { inner, crc: crc32fast::Hasher::new(), pos: 0 };
    w.put(MAGIC)?;
    w.put(&FORMAT_VERSION.to_le_bytes())?;
    w.put(&(json.len() as u64).to_le_bytes())?;
    w.put(json)?;
    let b = &header.blocks;
    let f32le = |x: f32| x.to_le_bytes();
    w.put_le(b.user_factors.offset, model.user_factors.as_slice(), f32le)?;
    w.put_le(b.item_factors.offset, model.item_factors.as_slice(), f32le)?;
    if let (Some(bias), Some(ub), Some(ib)) = (&model.biases, b.user_biases, b.item_biases) {
        w.put_le(ub.offset, &bias.user, f32le)?;
        w.put_le(ib.offset, &bias.item, f32le)?;
    }
    let seen = &model.seen;
    w.put_le(b.seen_indptr.offset, seen.indptr(), |x: usize| (x as u64).to_le_bytes())?;
    w.put_le(b.seen_indices.offset, seen.indices(), |x: u32| x.to_le_bytes())?;
    w.put_le(b.seen_values.offset, seen.values(), f32le)?;
    w.pad_to(*end)?;
    let CrcWriter { mut inner, crc, .. } = w;
    inner.write_all(&crc.finalize().to_le_bytes())?;
    inner.flush()
}

/// Reads a model file written by [`save`].
pub fn load(path: &Path) -> Result<Model> {
    load_with_info(path).map(|(m, _)| m)
}

/// Reads a model file and reports its version, checksum and size.
///
/// Fails with [`Error::ModelFormat`] naming the problem for a foreign file (bad magic), a
/// file from a newer version, a truncated or extended file, a checksum mismatch (any
/// corrupted byte), and any inconsistency between the header and the blocks.
pub fn load_with_info(path: &Path) -> Result<(Model, ModelFileInfo)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, path)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Parses the bytes of a model file; `path` is used in messages only.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(Model, ModelFileInfo)> {
    let err = |m: String| format_err(path, m);
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(err(
            "not an Alternator model file (wrong magic bytes; expected a file written by `alternator fit`)"
                .into(),
        ));
    }
    let version =
        u32_at(bytes, 8).ok_or_else(|| err(format!("truncated: only {} bytes", bytes.len())))?;
    if version > FORMAT_VERSION {
        return Err(err(format!(
            "written by a newer version of alternator (format version {version}; this build reads up to {FORMAT_VERSION}); upgrade alternator"
        )));
    }
    if version < OLDEST_SUPPORTED_VERSION {
        return Err(err(format!(
            "format version {version} is older than the oldest this build reads ({OLDEST_SUPPORTED_VERSION})"
        )));
    }
    let len = bytes.len();
    if len < PREAMBLE + CRC_BYTES {
        return Err(err(format!("truncated: only {len} bytes")));
    }
    let header_len = u64_at(bytes, 12).unwrap_or(u64::MAX);
    let body_end = len - CRC_BYTES;
    // Try the header first, for a precise message about truncation.
    let header: Option<Header> = usize::try_from(header_len)
        .ok()
        .and_then(|h| PREAMBLE.checked_add(h))
        .filter(|&end| end <= body_end)
        .and_then(|end| serde_json::from_slice(&bytes[PREAMBLE..end]).ok());
    let declared_end = header.as_ref().map(|h| {
        let b = &h.blocks;
        [
            Some(b.user_factors),
            Some(b.item_factors),
            b.user_biases,
            b.item_biases,
            Some(b.seen_indptr),
            Some(b.seen_indices),
            Some(b.seen_values),
        ]
        .into_iter()
        .flatten()
        .map(|b| b.offset.checked_add(b.len).map(align_up).unwrap_or(u64::MAX))
        .max()
        .unwrap_or(0)
    });
    if let Some(end) = declared_end {
        if end != body_end as u64 {
            let expected = end.saturating_add(CRC_BYTES as u64);
            let what = if (len as u64) < expected { "truncated" } else { "has trailing bytes" };
            return Err(err(format!(
                "{what}: the header describes {expected} bytes but the file has {len}"
            )));
        }
    }
    let stored_crc = u32_at(bytes, body_end).unwrap_or(0);
    let crc = crc32fast::hash(&bytes[..body_end]);
    if crc != stored_crc {
        return Err(err(format!(
            "checksum mismatch (stored {stored_crc:08x}, computed {crc:08x}): the file is corrupted or truncated"
        )));
    }
    let Some(header) = header else {
        let h_ok = usize::try_from(header_len)
            .ok()
            .and_then(|h| PREAMBLE.checked_add(h))
            .is_some_and(|end| end <= body_end);
        return Err(err(if h_ok {
            "the JSON header cannot be parsed".into()
        } else {
            format!("header length {header_len} exceeds the file size {len}")
        }));
    };
    let model = decode(&header, bytes, body_end).map_err(err)?;
    Ok((model, ModelFileInfo { version, checksum: crc, bytes: len as u64 }))
}

/// Decodes the blocks after the checksum has been verified.
fn decode(h: &Header, bytes: &[u8], body_end: usize) -> std::result::Result<Model, String> {
    let to_usize = |x: u64, what: &str| usize::try_from(x).map_err(|_| format!("{what} too large"));
    let rank = to_usize(h.rank, "rank")?;
    let nu = to_usize(h.n_users, "user count")?;
    let ni = to_usize(h.n_items, "item count")?;
    if h.kind != kind_of(h.params.implicit_prefs) {
        return Err(format!(
            "the header says kind {:?} but the parameters say {}",
            h.kind,
            kind_of(h.params.implicit_prefs)
        ));
    }
    if h.users.len() != nu || h.items.len() != ni {
        return Err(format!(
            "the id maps hold {} users and {} items but the header declares {nu} and {ni} (duplicate ids?)",
            h.users.len(),
            h.items.len()
        ));
    }
    // Slice a block after checking it is where the header says, of the expected size.
    let block =
        |b: Block, count: usize, elem: usize, what: &str| -> std::result::Result<&[u8], String> {
            let want = count.checked_mul(elem).ok_or_else(|| format!("{what} too large"))?;
            if b.len != want as u64 {
                return Err(format!("block {what} has {} bytes, expected {want}", b.len));
            }
            if b.offset % ALIGN as u64 != 0 {
                return Err(format!("block {what} is not aligned"));
            }
            let start = to_usize(b.offset, what)?;
            let end = start.checked_add(want).ok_or_else(|| format!("{what} too large"))?;
            if start < PREAMBLE || end > body_end {
                return Err(format!("block {what} lies outside the file"));
            }
            Ok(&bytes[start..end])
        };
    let f32s = |s: &[u8]| -> Vec<f32> {
        s.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    };
    let nu_rank = nu.checked_mul(rank).ok_or("user factors too large")?;
    let ni_rank = ni.checked_mul(rank).ok_or("item factors too large")?;
    let uf = f32s(block(h.blocks.user_factors, nu_rank, 4, "user factors")?);
    let itf = f32s(block(h.blocks.item_factors, ni_rank, 4, "item factors")?);
    let user_factors = Factors::from_vec(nu, rank, uf).ok_or("user factors have the wrong size")?;
    let item_factors =
        Factors::from_vec(ni, rank, itf).ok_or("item factors have the wrong size")?;
    let biases = match (h.global_bias, h.blocks.user_biases, h.blocks.item_biases) {
        (None, None, None) => None,
        (Some(global), Some(ub), Some(ib)) => Some(Biases {
            global,
            user: f32s(block(ub, nu, 4, "user biases")?),
            item: f32s(block(ib, ni, 4, "item biases")?),
        }),
        _ => return Err("the bias blocks are incomplete".into()),
    };
    let nnz = to_usize(h.seen.nnz, "seen entries")?;
    let cols = to_usize(h.seen.cols, "seen columns")?;
    let seen = match h.seen.rows {
        None => {
            if nnz != 0 || cols != 0 || h.blocks.seen_indptr.len != 0 {
                return Err("the seen matrix has entries but no row pointers".into());
            }
            Csr::default()
        }
        Some(rows) => {
            let rows = to_usize(rows, "seen rows")?;
            let n_ptr = rows.checked_add(1).ok_or("seen rows too large")?;
            let indptr: Vec<usize> = block(h.blocks.seen_indptr, n_ptr, 8, "seen indptr")?
                .chunks_exact(8)
                .map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    usize::try_from(u64::from_le_bytes(a)).unwrap_or(usize::MAX)
                })
                .collect();
            let indices: Vec<u32> = block(h.blocks.seen_indices, nnz, 4, "seen indices")?
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let values = f32s(block(h.blocks.seen_values, nnz, 4, "seen values")?);
            Csr::from_parts(indptr, indices, values, cols)
                .map_err(|e| format!("the seen matrix is inconsistent: {e}"))?
        }
    };
    let model = Model {
        params: AlsParams::from(&h.params),
        users: h.users.clone(),
        items: h.items.clone(),
        user_factors,
        item_factors,
        biases,
        clip_predictions: h.clip_predictions,
        seen,
        summary: TrainingSummary::from(&h.summary),
        bounds: Default::default(),
    };
    model.validate().map_err(|e| match e {
        Error::InconsistentModel(m) => m,
        other => other.to_string(),
    })?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::Duplicates;

    pub(crate) fn tiny() -> Model {
        let users: IdMap = ["u1", "u2", "u3"].into_iter().collect();
        let items: IdMap = ["a", "b"].into_iter().collect();
        Model {
            params: AlsParams { rank: 2, ..AlsParams::default() },
            users,
            items,
            user_factors: Factors::from_vec(3, 2, vec![0.5, -1.0, 1.5, 2.0, -0.25, 0.0]).unwrap(),
            item_factors: Factors::from_vec(2, 2, vec![1.0, 2.0, -3.0, 0.125]).unwrap(),
            biases: None,
            clip_predictions: true,
            seen: Csr::from_triplets(
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
                ..TrainingSummary::default()
            },
            bounds: Default::default(),
        }
    }

    #[test]
    fn round_trip_and_alignment() {
        let m = tiny();
        let bytes = to_bytes(&m).unwrap();
        let (back, info) = from_bytes(&bytes, Path::new("m.alt")).unwrap();
        assert_eq!(back, m);
        assert_eq!(info.version, FORMAT_VERSION);
        assert_eq!(info.bytes, bytes.len() as u64);
        assert_eq!((bytes.len() - CRC_BYTES) % ALIGN, 0);
    }

    #[test]
    fn saving_over_a_model_replaces_it_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.alt");
        let first = tiny();
        save(&first, &path, SaveOptions::default()).unwrap();
        let mut second = tiny();
        second.item_factors.as_mut_slice()[0] = 7.0;
        save(&second, &path, SaveOptions::default()).unwrap();
        assert_eq!(load(&path).unwrap(), second);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["m.alt"]);
        // A directory in the way is an error, and stays where it was.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(save(&first, &sub, SaveOptions::default()).is_err());
        assert!(sub.is_dir());
    }

    #[test]
    fn inconsistent_model_is_not_saved() {
        let mut m = tiny();
        m.user_factors.as_mut_slice()[0] = f32::NAN;
        assert!(to_bytes(&m).unwrap_err().to_string().contains("NaN"));
        let mut m = tiny();
        m.users.get_or_insert("extra");
        assert!(to_bytes(&m).is_err());
    }
}
