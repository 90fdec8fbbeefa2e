//! What `recommend`, `recommend-users` and `similar` share: the metadata and output flags,
//! model and id-file loading, and printing ranked lists (one as a table, CSV or JSON; many as a
//! stream of CSV or JSON lines).

use std::io::Write;
use std::path::{Path, PathBuf};

use alternator::meta::{MetaOptions, Metadata, read_metadata};
use alternator::recommend::{IndexSet, ScoredIndices};
use alternator::{Column, IdKind, Model};
use serde_json::json;

use crate::common::{self, usage};
use crate::idfile::read_ids;
use crate::paths;

/// Item metadata flags shared by `recommend`, `recommend-users` and `similar`.
#[derive(Debug, Clone, clap::Args)]
pub struct MetaArgs {
    /// Item metadata for titles and genres: MovieLens u.item, movies.csv, or any CSV/TSV
    #[arg(long, value_name = "FILE")]
    pub items_meta: Option<PathBuf>,
    /// Id column of --items-meta: name or 0-based position
    #[arg(long, value_name = "C")]
    pub meta_id_col: Option<String>,
    /// Title column of --items-meta: name or 0-based position
    #[arg(long, value_name = "C")]
    pub meta_title_col: Option<String>,
}

/// `--min-item-interactions` (alias `--min-support`), shared by `recommend`,
/// `recommend-users` and `similar`.
#[derive(Debug, Clone, clap::Args)]
pub struct SupportArgs {
    /// Keep items with fewer than N training interactions out of lists (rarely rated items
    /// with large factors otherwise top them) [default: 0, off, as in Spark]
    #[arg(long, visible_alias = "min-support", value_name = "N", default_value_t = 0)]
    pub min_item_interactions: u32,
}

impl SupportArgs {
    /// `filter` with the rare items of `model` added, when the flag is on.
    pub fn apply(&self, model: &Model, filter: Option<IndexSet>) -> Option<IndexSet> {
        if self.min_item_interactions == 0 {
            return filter;
        }
        let rare = model.rare_items(self.min_item_interactions);
        Some(match filter {
            Some(f) => f.union(&rare),
            None => rare,
        })
    }
}

impl MetaArgs {
    /// Reads the metadata when `--items-meta` is given, reporting skipped lines.
    pub fn load(&self) -> anyhow::Result<Option<Metadata>> {
        let Some(path) = &self.items_meta else {
            if self.meta_id_col.is_some() || self.meta_title_col.is_some() {
                return usage("--meta-id-col / --meta-title-col need --items-meta FILE");
            }
            return Ok(None);
        };
        let opts = MetaOptions {
            id_col: self.meta_id_col.as_deref().map(Column::parse),
            title_col: self.meta_title_col.as_deref().map(Column::parse),
        };
        let m = read_metadata(path, &opts)?;
        if m.skipped > 0 {
            eprintln!("{}: skipped {} malformed metadata line(s)", path.display(), m.skipped);
        }
        Ok(Some(m))
    }
}

/// Output flags shared by `recommend`, `recommend-users` and `similar` (`similar` words the
/// `--json` help differently, with `mut_arg`).
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Print JSON (one document; JSON lines in batch mode)
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header
    #[arg(long)]
    pub csv: bool,
    /// Write to FILE instead of stdout (`-`: stdout); the file appears complete or not at all
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads [default: one per core]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Batch output format: csv, json (lines) or parquet (Spark's recommendForAllUsers
    /// schema) [default: parquet when --out ends in .parquet, else csv or --json]
    #[arg(long, value_parser = ["csv", "json", "parquet"])]
    pub format: Option<String>,
}

impl OutputArgs {
    /// True when the output is Parquet (`--format parquet`, or `--out X.parquet`).
    pub fn parquet(&self) -> bool {
        let out = self.out.as_deref().unwrap_or(Path::new("-"));
        paths::is_parquet_out(out, self.format.as_deref())
    }

    /// The format of a single list, from `--json` / `--csv` (or `--format`).
    pub fn format(&self) -> Format {
        if self.json || self.format.as_deref() == Some("json") {
            Format::Json
        } else if self.csv || self.format.as_deref() == Some("csv") {
            Format::Csv
        } else {
            Format::Human
        }
    }

    /// Refuses (exit code 2) an `--out` that is one of the verb's `inputs`.
    pub fn refuse_overwrite(&self, inputs: &[paths::Named<'_>]) -> anyhow::Result<()> {
        paths::refuse_overwrite(inputs, &[("--out", self.out.as_deref())])
    }

    /// Opens `--out` (written atomically: in place once [`paths::OutFile::finish`]ed) or
    /// stdout. Boxed, so that `&mut *w` is a `&mut dyn Write`.
    pub fn open(&self) -> anyhow::Result<Box<paths::OutFile>> {
        let path = self.out.as_deref().unwrap_or(Path::new("-"));
        Ok(Box::new(paths::OutFile::create(path)?))
    }

    /// True when the output is stdout (no `--out`, or `--out -`).
    fn to_stdout(&self) -> bool {
        self.out.as_deref().is_none_or(paths::is_stdout)
    }

    /// An error writing to `--out` or stdout, naming where.
    fn io_error(&self, e: std::io::Error) -> alternator::Error {
        match &self.out {
            Some(p) if !self.to_stdout() => alternator::Error::io(p, e),
            _ => alternator::Error::io("<stdout>", e),
        }
    }

    /// True when `e` is a broken pipe on stdout: the reader stopped reading.
    fn is_closed_stdout(&self, e: &std::io::Error) -> bool {
        self.to_stdout() && e.kind() == std::io::ErrorKind::BrokenPipe
    }

    /// Batch mode: streams one ranked list per query (indices of the `query` side, e.g.
    /// "user") to `--out` or stdout after `header`, with a progress bar. `rank` runs the batch
    /// with a map and a sink; `format` writes one list's text, and runs in the map, on the
    /// worker that scored the list, so that formatting a million lines is spread over the
    /// threads while this one only writes them in order. Stops quietly when the reader of
    /// stdout goes away (`| head`); reports the queries with fewer than `n` eligible `target`s.
    #[allow(clippy::too_many_arguments)]
    pub fn stream(
        &self,
        header: Option<String>,
        queries: usize,
        query: &str,
        target: &str,
        n: usize,
        rank: impl FnOnce(
            &(dyn Fn(u32, ScoredIndices) -> Chunk + Sync),
            &mut dyn FnMut(Chunk) -> alternator::Result<()>,
        ) -> alternator::Result<()>,
        format: impl Fn(&mut Vec<u8>, u32, &ScoredIndices) + Sync,
    ) -> anyhow::Result<()> {
        let mut w = self.open()?;
        if let Some(h) = header {
            writeln!(w, "{h}")?;
        }
        let pb = common::progress(queries as u64, &format!("{query}s"));
        let mut short = 0usize;
        let mut closed = false;
        let map = |q: u32, list: ScoredIndices| {
            let mut text = Vec::with_capacity(32 * list.items.len().max(1));
            format(&mut text, q, &list);
            Chunk { text, short: list.items.len() < n }
        };
        let done = rank(&map, &mut |chunk| {
            pb.inc(1);
            short += usize::from(chunk.short);
            w.write_all(&chunk.text).map_err(|e| {
                closed |= self.is_closed_stdout(&e);
                self.io_error(e)
            })
        });
        pb.finish_and_clear();
        if closed {
            return Ok(()); // the reader of stdout went away (`| head`): stop quietly
        }
        done?;
        match w.flush() {
            Err(e) if self.is_closed_stdout(&e) => return Ok(()),
            r => r.map_err(|e| self.io_error(e))?,
        }
        w.finish()?;
        if short > 0 {
            eprintln!("{short} {query}(s) had fewer than {n} eligible {target}s");
        }
        Ok(())
    }
}

/// One query's formatted output in batch mode, and whether its list came out short.
#[derive(Debug)]
pub struct Chunk {
    /// The lines, as written.
    text: Vec<u8>,
    /// Fewer than `n` results were eligible.
    short: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table.
    Human,
    /// CSV with a header.
    Csv,
    /// JSON.
    Json,
}

/// Loads a model file or a Spark model directory (checked as it loads).
pub fn load_model(path: &Path) -> anyhow::Result<Model> {
    Ok(Model::load(path)?)
}

/// The model with `--train`'s interactions attached (for seen filtering), or as it is; says
/// once when seen items cannot be filtered because the model keeps no training interactions
/// (a Spark model) and none were given.
pub fn with_train(
    model: Model,
    model_path: &Path,
    train: Option<&Path>,
    input: &common::InputArgs,
    include_seen: bool,
    what: &str,
) -> anyhow::Result<Model> {
    let Some(train) = train else {
        if !include_seen && model.training_matrix().nnz() == 0 {
            eprintln!(
                "note: {} keeps no training interactions (a Spark model): nothing is filtered \
                 as already seen; give --train FILE to leave out each {what}'s training items",
                model_path.display()
            );
        }
        return Ok(model);
    };
    let data = input.read_with(train, |r| _ = r.ignore_times(true))?;
    let (model, unknown) = model.with_training(&data)?;
    if unknown > 0 {
        eprintln!(
            "{}: {unknown} interaction(s) with a user or item the model does not know were ignored",
            train.display()
        );
    }
    Ok(model)
}

/// Streams the lists of a batch to Parquet in Spark's schema (`recommendForAllUsers`:
/// `user`, `recommendations: array<struct<item, rating>>`; for items the other way round).
pub fn stream_parquet(
    out: &OutputArgs,
    model: &Model,
    query: IdKind,
    rank: impl FnOnce(
        &mut dyn FnMut(u32, ScoredIndices) -> alternator::Result<()>,
    ) -> alternator::Result<()>,
) -> anyhow::Result<()> {
    let path = out.out.as_deref().unwrap_or(Path::new("-"));
    let target = match query {
        IdKind::User => IdKind::Item,
        IdKind::Item => IdKind::User,
    };
    let name = if paths::is_stdout(path) { Path::new("<stdout>") } else { path };
    let sink = paths::SendOut::create(path)?;
    let mut w = alternator::tables::ListWriter::new(
        sink,
        query,
        model.ids(query),
        model.ids(target),
        name,
    )?;
    rank(&mut |q, list| {
        let rows = list.items.iter().map(|&(t, s)| (model.id_at(target, t), s));
        w.push(model.id_at(query, q), rows)
    })?;
    w.finish()?.finish()?;
    Ok(())
}

/// An f32 as a JSON number with its shortest decimal (`0.1`, not `0.10000000149011612`);
/// `null` when not finite.
pub fn num(v: f32) -> serde_json::Value {
    alternator::json::number(v)
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The first five of `ids`, comma separated.
fn first_five(ids: &[String]) -> String {
    ids.iter().take(5).map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Reads an id file as a set of `kind` indices of `model`, warning about unknown ids.
pub fn id_set(path: &Path, model: &Model, kind: IdKind) -> anyhow::Result<IndexSet> {
    let list = read_ids(path)?;
    let (set, unknown) = model.index_set(kind, list.iter().map(String::as_str));
    if !unknown.is_empty() {
        eprintln!(
            "{}: {} {kind} id(s) not in the model were ignored (first: {})",
            path.display(),
            unknown.len(),
            first_five(&unknown)
        );
    }
    Ok(set)
}

/// The `--filter…` and `--candidates` id files, when given, as sets of `kind` indices.
pub fn filter_sets(
    filter: Option<&Path>,
    candidates: Option<&Path>,
    model: &Model,
    kind: IdKind,
) -> anyhow::Result<(Option<IndexSet>, Option<IndexSet>)> {
    let filter = filter.map(|p| id_set(p, model, kind)).transpose()?;
    let candidates = candidates.map(|p| id_set(p, model, kind)).transpose()?;
    Ok((filter, candidates))
}

/// Reads the query ids of a batch (`--users FILE`, `--items FILE`) as `kind` indices: unknown
/// ids are reported on stderr and skipped; fails with the first unknown id when none is known.
pub fn known_ids(path: &Path, model: &Model, kind: IdKind) -> anyhow::Result<Vec<u32>> {
    let list = read_ids(path)?;
    let mut known = Vec::with_capacity(list.len());
    let mut unknown = Vec::new();
    for id in list {
        match model.ids(kind).get(&id) {
            Some(i) => known.push(i),
            None => unknown.push(id),
        }
    }
    if !unknown.is_empty() {
        eprintln!(
            "{}: {} unknown {kind} id(s) skipped (first: {})",
            path.display(),
            unknown.len(),
            first_five(&unknown)
        );
    }
    if known.is_empty() {
        return Err(match unknown.into_iter().next() {
            Some(id) => alternator::Error::unknown(kind, id).into(),
            None => {
                alternator::Error::Empty { path: path.into(), message: format!("no {kind} ids") }
                    .into()
            }
        });
    }
    Ok(known)
}

/// Says on stderr when fewer than `n` `kind`s could be returned.
pub fn note_short(list: &List<'_>, n: usize, kind: &str) {
    if list.rows.len() < n {
        eprintln!("only {} {kind}(s) were eligible; returning {}", list.eligible, list.rows.len());
    }
}

/// One ranked list to print: `(id, score)` best first, and how many were eligible.
#[derive(Debug, Clone, Default)]
pub struct List<'a> {
    /// `(id, score)`, best first.
    pub rows: Vec<(&'a str, f32)>,
    /// How many targets could have been returned.
    pub eligible: usize,
}

impl<'a> List<'a> {
    /// Items of a library list.
    pub fn items(r: &'a alternator::Ranked<alternator::Recommendation>) -> List<'a> {
        List {
            rows: r.results.iter().map(|x| (x.item.as_str(), x.score)).collect(),
            eligible: r.eligible,
        }
    }

    /// Users of a library list.
    pub fn users(r: &'a alternator::Ranked<alternator::UserScore>) -> List<'a> {
        List {
            rows: r.results.iter().map(|x| (x.user.as_str(), x.score)).collect(),
            eligible: r.eligible,
        }
    }
}

/// Title and genres of an item, empty when unknown.
fn title_of<'a>(meta: Option<&'a Metadata>, id: &str) -> (&'a str, &'a [String]) {
    match meta.and_then(|m| m.get(id)) {
        Some(m) => (m.title.as_str(), &m.genres[..]),
        None => ("", &[]),
    }
}
/// What a printed list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Items with a predicted score.
    Items,
    /// Items with a cosine similarity.
    SimilarItems,
    /// Users with a score (or similarity: `SimilarUsers`).
    Users,
    /// Users with a cosine similarity.
    SimilarUsers,
    /// Items with their number of training interactions (the popular fallback).
    Popular,
}

impl ListKind {
    /// The entity listed: `item` or `user`.
    fn entity(self) -> &'static str {
        match self {
            ListKind::Users | ListKind::SimilarUsers => "user",
            _ => "item",
        }
    }

    /// The heading of the value column in tables and CSV.
    fn value_name(self) -> &'static str {
        match self {
            ListKind::SimilarItems | ListKind::SimilarUsers => "similarity",
            ListKind::Popular => "count",
            _ => "score",
        }
    }
}

/// Prints one ranked list: a human table, CSV, or JSON in the shape every front end shares
/// ([`alternator::json`]): the subject's fields, `eligible`, and `items` (or `users`).
pub fn print_list(
    w: &mut dyn Write,
    format: Format,
    subject: serde_json::Value,
    heading: &str,
    list: &List<'_>,
    meta: Option<&Metadata>,
    kind: ListKind,
) -> anyhow::Result<()> {
    let entity = kind.entity();
    let value_name = kind.value_name();
    // Titles apply to items only.
    let meta = if entity == "item" { meta } else { None };
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = list
                .rows
                .iter()
                .map(|&(id, s)| match kind {
                    ListKind::Users | ListKind::SimilarUsers => alternator::json::user(id, s),
                    ListKind::Popular => alternator::json::popular_item(id, s as u64, meta),
                    _ => alternator::json::item(id, s, meta),
                })
                .collect();
            let mut doc = subject;
            doc["eligible"] = json!(list.eligible);
            doc[format!("{entity}s")] = json!(rows);
            writeln!(w, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Csv => {
            write!(w, "rank,{entity},{value_name}")?;
            if meta.is_some() {
                write!(w, ",title,genres")?;
            }
            writeln!(w)?;
            for (k, &(id, s)) in list.rows.iter().enumerate() {
                write!(w, "{},{},{}", k + 1, csv_field(id), value_text(kind, s))?;
                if meta.is_some() {
                    let (t, g) = title_of(meta, id);
                    write!(w, ",{},{}", csv_field(t), csv_field(&g.join("|")))?;
                }
                writeln!(w)?;
            }
        }
        Format::Human => {
            writeln!(w, "{heading}")?;
            let idw = list
                .rows
                .iter()
                .map(|&(id, _)| id.chars().count())
                .max()
                .unwrap_or(0)
                .max(entity.len());
            write!(w, "{:>4}  {:<idw$}  {:>10}", "rank", entity, value_name)?;
            if meta.is_some() {
                write!(w, "  title (genres)")?;
            }
            writeln!(w)?;
            for (k, &(id, s)) in list.rows.iter().enumerate() {
                if kind == ListKind::Popular {
                    write!(w, "{:>4}  {:<idw$}  {:>10}", k + 1, id, s as u64)?;
                } else {
                    write!(w, "{:>4}  {:<idw$}  {:>10.4}", k + 1, id, s)?;
                }
                if let Some(m) = meta {
                    let label = m.get(id).map(|m| m.label()).unwrap_or_else(|| "?".into());
                    write!(w, "  {label}")?;
                }
                writeln!(w)?;
            }
        }
    }
    Ok(())
}

/// A value as CSV writes it: counts as integers, scores in f32's shortest form.
fn value_text(kind: ListKind, v: f32) -> String {
    if kind == ListKind::Popular { (v as u64).to_string() } else { v.to_string() }
}
