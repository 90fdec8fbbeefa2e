//! Item metadata: titles and genres joined into outputs, and fuzzy title search.
//!
//! Formats read by [`read_metadata`], detected from the first line:
//! - MovieLens 100K `u.item`: `id|title|release date|video date|url|` then 19 genre flags
//!   (0/1) named as in `u.genre`; no header; Latin-1.
//! - MovieLens `movies.csv`: header `movieId,title,genres`, titles CSV-quoted when they hold
//!   commas, genres `Action|Comedy` (`(no genres listed)` means none).
//! - MovieLens 1M/10M `movies.dat`: `id::title::genres`.
//! - Any CSV / TSV / `;` / `|` file with an id and a title column ([`MetaOptions`]); a column
//!   named `genres` (or `genre`) is used for genres when present.
//!
//! Malformed lines (too few fields, an empty id) are skipped and counted, never fatal.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::data::{Column, Delimiter, detect_delimiter, split_fields};
use crate::error::{Error, Result};

/// The genre names of MovieLens 100K's `u.genre`, in flag order.
pub const ML100K_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// How to read a metadata file. `Default` detects the format; for a generic file the id is
/// column 0 (or a header named `id`, `itemId`, `movieId`, `item_id`, `item`) and the title column 1
/// (or a header named `title` / `name`).
#[derive(Debug, Clone, Default)]
pub struct MetaOptions {
    /// The id column, by name or 0-based position.
    pub id_col: Option<Column>,
    /// The title column, by name or 0-based position.
    pub title_col: Option<Column>,
}

/// The detected format of a metadata file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaFormat {
    /// MovieLens 100K `u.item`.
    MovieLensItem,
    /// MovieLens `movies.csv`.
    MovieLensCsv,
    /// MovieLens `movies.dat` (`::`).
    MovieLensDat,
    /// Any delimited file with id and title columns.
    Generic,
}

/// One item's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemMeta {
    /// The item id, as in the interaction files.
    pub id: String,
    /// The title, e.g. `Star Wars (1977)`.
    pub title: String,
    /// Genre names (possibly empty).
    pub genres: Vec<String>,
}

impl ItemMeta {
    /// `Title (Genre1|Genre2)`, or the title alone when there are no genres.
    pub fn label(&self) -> String {
        if self.genres.is_empty() {
            self.title.clone()
        } else {
            format!("{} ({})", self.title, self.genres.join("|"))
        }
    }
}

/// How a title matched a search query (best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    /// The normalised title equals the normalised query.
    Exact,
    /// The normalised title starts with the query (at a word boundary).
    Prefix,
    /// The query occurs inside the title (at word boundaries).
    Substring,
    /// Token overlap / edit distance above the threshold.
    Fuzzy,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleMatch {
    /// Position in [`Metadata::items`].
    pub index: usize,
    /// How it matched.
    pub kind: MatchKind,
    /// Similarity in [0, 1] (1 for exact), used to order fuzzy hits.
    pub similarity: f64,
}

/// Item metadata read from a file: titles, genres, and a title search.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// The file read.
    pub path: PathBuf,
    /// Every item, in file order.
    pub items: Vec<ItemMeta>,
    /// Lines skipped as malformed.
    pub skipped: u64,
    by_id: FxHashMap<String, usize>,
    norm: Vec<(String, Option<u32>)>,
}

/// Reads item metadata (see the module docs for the formats).
pub fn read_metadata(path: impl AsRef<Path>, opts: &MetaOptions) -> Result<Metadata> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_metadata(&bytes, path, opts)
}

/// UTF-8, or Latin-1 when the bytes are not valid UTF-8 (MovieLens 100K is Latin-1).
fn decode(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

fn resolve(
    c: &Column,
    header: Option<&[String]>,
    flag: &'static str,
    path: &Path,
) -> Result<usize> {
    match c {
        Column::Index(i) => Ok(*i),
        Column::Name(n) => {
            let h = header.ok_or_else(|| {
                Error::param(
                    flag,
                    format!("column {n:?} is named, but {} has no header", path.display()),
                )
            })?;
            h.iter().position(|x| x.eq_ignore_ascii_case(n)).ok_or_else(|| Error::Parse {
                path: path.into(),
                line: 1,
                column: Some(n.clone()),
                message: format!("no column named {n:?} in the header (columns: {})", h.join(", ")),
            })
        }
    }
}

/// Parses metadata already in memory; `path` is used in messages only.
pub fn parse_metadata(bytes: &[u8], path: &Path, opts: &MetaOptions) -> Result<Metadata> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Line ends as the interaction reader knows them: `\n`, `\r\n` or a lone `\r`.
    let lines: Vec<String> = crate::data::lines(bytes).map(|(l, _)| decode(l)).collect();
    let Some(first) = lines.iter().find(|l| !l.trim().is_empty()) else {
        return Err(Error::Empty {
            path: path.into(),
            message: "the metadata file is empty".into(),
        });
    };
    let delim = detect_delimiter(first);
    let first_fields: Vec<String> =
        split_fields(first, delim).iter().map(|f| f.trim().to_string()).collect();
    let lower: Vec<String> = first_fields.iter().map(|f| f.to_ascii_lowercase()).collect();
    let is_flag = |f: &str| f == "0" || f == "1";
    let custom = opts.id_col.is_some() || opts.title_col.is_some();
    let format = if !custom
        && delim == Delimiter::Byte(b'|')
        && first_fields.len() >= 24
        && first_fields[first_fields.len() - 19..].iter().all(|f| is_flag(f))
    {
        MetaFormat::MovieLensItem
    } else if !custom && lower.len() >= 3 && lower[0] == "movieid" && lower[1] == "title" {
        MetaFormat::MovieLensCsv
    } else if !custom && delim == Delimiter::DoubleColon && first_fields.len() == 3 {
        MetaFormat::MovieLensDat
    } else {
        MetaFormat::Generic
    };
    let names =
        ["id", "itemid", "item_id", "movieid", "movie_id", "item", "product_id", "video_id"];
    let header_known =
        lower.iter().any(|f| names.contains(&f.as_str()) || f == "title" || f == "name");
    let has_header = match format {
        MetaFormat::MovieLensCsv => true,
        MetaFormat::MovieLensItem | MetaFormat::MovieLensDat => false,
        MetaFormat::Generic => {
            header_known
                || matches!(opts.id_col, Some(Column::Name(_)))
                || matches!(opts.title_col, Some(Column::Name(_)))
        }
    };
    let header = has_header.then_some(&first_fields[..]);
    let (id_col, title_col, genres_col) = match format {
        MetaFormat::MovieLensItem | MetaFormat::MovieLensCsv | MetaFormat::MovieLensDat => {
            (0, 1, Some(2))
        }
        MetaFormat::Generic => {
            let id = match &opts.id_col {
                Some(c) => resolve(c, header, "id_col", path)?,
                None => lower
                    .iter()
                    .position(|f| has_header && names.contains(&f.as_str()))
                    .unwrap_or(0),
            };
            let title = match &opts.title_col {
                Some(c) => resolve(c, header, "title_col", path)?,
                None => lower
                    .iter()
                    .position(|f| has_header && (f == "title" || f == "name"))
                    .unwrap_or(if id == 1 { 0 } else { 1 }),
            };
            let genres = if has_header {
                lower.iter().position(|f| f == "genres" || f == "genre")
            } else {
                None
            };
            (id, title, genres)
        }
    };
    if id_col == title_col {
        return Err(Error::param("title_col", "the id and title columns must differ"));
    }
    let mut m = Metadata { path: path.into(), ..Metadata::default() };
    let mut started = false;
    for line in &lines {
        if line.trim().is_empty() {
            continue;
        }
        if !started {
            started = true;
            if has_header {
                continue;
            }
        }
        let fields = split_fields(line, delim);
        let (Some(id), Some(title)) = (fields.get(id_col), fields.get(title_col)) else {
            m.skipped += 1;
            continue;
        };
        let (id, title) = (id.trim(), title.trim());
        if id.is_empty() || m.by_id.contains_key(id) {
            m.skipped += 1;
            continue;
        }
        let genres: Vec<String> = match format {
            MetaFormat::MovieLensItem => {
                let flags = fields.len().saturating_sub(19);
                if fields.len() < 24 {
                    m.skipped += 1;
                    continue;
                }
                fields[flags..]
                    .iter()
                    .zip(ML100K_GENRES)
                    .filter(|(f, _)| f.trim() == "1")
                    .map(|(_, g)| g.to_string())
                    .collect()
            }
            _ => genres_col
                .and_then(|g| fields.get(g))
                .map(|g| {
                    g.split('|')
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && *s != "(no genres listed)")
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        };
        m.by_id.insert(id.to_string(), m.items.len());
        m.norm.push(normalize(title));
        m.items.push(ItemMeta { id: id.to_string(), title: title.to_string(), genres });
    }
    if m.items.is_empty() {
        return Err(Error::Empty {
            path: path.into(),
            message: format!("no usable metadata lines ({} skipped)", m.skipped),
        });
    }
    Ok(m)
}

/// Normalises a title for matching: the trailing `(1977)` year is split off, case folded,
/// punctuation turned into spaces, a leading `the`/`a`/`an` or a trailing `, The` dropped,
/// whitespace collapsed. `"Usual Suspects, The (1995)"` → `("usual suspects", Some(1995))`.
pub fn normalize(title: &str) -> (String, Option<u32>) {
    let mut t = title.trim();
    let mut year = None;
    if let Some(open) = t.rfind('(') {
        let inner = t[open + 1..].trim_end_matches(')').trim();
        if t.ends_with(')') && inner.len() == 4 && inner.bytes().all(|b| b.is_ascii_digit()) {
            year = inner.parse().ok();
            t = t[..open].trim_end();
        }
    }
    let lowered: String = t
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() || c == ',' { c } else { ' ' })
        .collect();
    // Trailing article after a comma ("Usual Suspects, The").
    let mut s = lowered.trim().to_string();
    for art in [", the", ", a", ", an", ",the"] {
        if let Some(stripped) = s.strip_suffix(art) {
            s = stripped.to_string();
            break;
        }
    }
    let s = s.replace(',', " ");
    let mut tokens: Vec<&str> = s.split_whitespace().collect();
    if tokens.len() > 1 && matches!(tokens[0], "the" | "a" | "an") {
        tokens.remove(0);
    }
    (tokens.join(" "), year)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Similarity in [0, 1]: the larger of token Jaccard overlap and `1 − edit distance / longer length`.
fn fuzzy_similarity(q: &str, t: &str) -> f64 {
    let qt: Vec<&str> = q.split_whitespace().collect();
    let tt: Vec<&str> = t.split_whitespace().collect();
    let inter = qt.iter().filter(|w| tt.contains(w)).count();
    let union = qt.len() + tt.len() - inter;
    let jaccard = if union == 0 { 0.0 } else { inter as f64 / union as f64 };
    let longest = q.chars().count().max(t.chars().count());
    let ed = if longest == 0 { 0.0 } else { 1.0 - edit_distance(q, t) as f64 / longest as f64 };
    jaccard.max(ed)
}

/// Fuzzy hits need at least this similarity.
pub const FUZZY_THRESHOLD: f64 = 0.6;

impl Metadata {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Metadata of item `id`.
    pub fn get(&self, id: &str) -> Option<&ItemMeta> {
        self.by_id.get(id).and_then(|&k| self.items.get(k))
    }

    /// The title of item `id`.
    pub fn title(&self, id: &str) -> Option<&str> {
        self.get(id).map(|m| m.title.as_str())
    }

    fn classify(&self, q: &str, qyear: Option<u32>, k: usize) -> Option<(MatchKind, f64)> {
        let (t, tyear) = self.norm.get(k)?;
        let year_ok = qyear.is_none() || qyear == *tyear;
        if year_ok && !q.is_empty() {
            if t == q {
                return Some((MatchKind::Exact, 1.0));
            }
            if t.starts_with(q) && t[q.len()..].starts_with(' ') {
                return Some((MatchKind::Prefix, q.len() as f64 / t.len().max(1) as f64));
            }
            if t.contains(&format!(" {q} ")) || t.ends_with(&format!(" {q}")) {
                return Some((MatchKind::Substring, q.len() as f64 / t.len().max(1) as f64));
            }
        }
        let sim = fuzzy_similarity(q, t) * if year_ok { 1.0 } else { 0.9 };
        Some((MatchKind::Fuzzy, sim))
    }

    /// Case-insensitive fuzzy title search, best first: exact (after [`normalize`]) before
    /// prefix before substring before fuzzy (token overlap / edit distance ≥
    /// [`FUZZY_THRESHOLD`]); within a kind, higher similarity, then shorter title, then file
    /// order. A year in the query (`Star Wars (1977)`) must match for a non-fuzzy hit.
    /// At most `limit` hits; empty when nothing is close enough (see [`Metadata::closest`]).
    pub fn search(&self, query: &str, limit: usize) -> Vec<TitleMatch> {
        let (q, qyear) = normalize(query);
        let mut hits: Vec<TitleMatch> =
            (0..self.items.len())
                .filter_map(|k| {
                    let (kind, similarity) = self.classify(&q, qyear, k)?;
                    (kind != MatchKind::Fuzzy || similarity >= FUZZY_THRESHOLD)
                        .then_some(TitleMatch { index: k, kind, similarity })
                })
                .collect();
        self.sort_hits(&mut hits);
        hits.truncate(limit);
        hits
    }

    /// The `limit` titles most similar to `query` whatever their similarity (for "did you mean").
    pub fn closest(&self, query: &str, limit: usize) -> Vec<TitleMatch> {
        let (q, qyear) = normalize(query);
        let mut hits: Vec<TitleMatch> = (0..self.items.len())
            .filter_map(|k| {
                let (kind, similarity) = self.classify(&q, qyear, k)?;
                Some(TitleMatch { index: k, kind, similarity })
            })
            .collect();
        self.sort_hits(&mut hits);
        hits.truncate(limit);
        hits
    }

    fn sort_hits(&self, hits: &mut [TitleMatch]) {
        hits.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then(b.similarity.partial_cmp(&a.similarity).unwrap_or(std::cmp::Ordering::Equal))
                .then(self.items[a.index].title.len().cmp(&self.items[b.index].title.len()))
                .then(a.index.cmp(&b.index))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8], opts: &MetaOptions) -> Result<Metadata> {
        parse_metadata(text, Path::new("meta"), opts)
    }

    #[test]
    fn movielens_u_item_latin1_and_genres() {
        let mut text =
            b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                .to_vec();
        text.extend_from_slice(
            b"2|Caf\xe9 (1990)|01-Jan-1990||http://y|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|1\n",
        );
        text.extend_from_slice(b"garbage line\n\n");
        let m = parse(&text, &MetaOptions::default()).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.skipped, 1);
        assert_eq!(m.get("1").unwrap().genres, vec!["Animation", "Children's", "Comedy"]);
        assert_eq!(m.title("2"), Some("Café (1990)"));
        assert_eq!(m.get("2").unwrap().label(), "Café (1990) (Drama|Western)");
    }

    #[test]
    fn movies_csv_quoted() {
        let text = b"movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n11,\"American President, The (1995)\",Comedy|Drama|Romance\n5,Nothing (2000),(no genres listed)\n";
        let m = parse(text, &MetaOptions::default()).unwrap();
        assert_eq!(m.title("11"), Some("American President, The (1995)"));
        assert_eq!(m.get("11").unwrap().genres.len(), 3);
        assert!(m.get("5").unwrap().genres.is_empty());
        let hits = m.search("the american president", 5);
        assert_eq!(hits[0].kind, MatchKind::Exact);
        assert_eq!(m.items[hits[0].index].id, "11");
    }

    #[test]
    fn generic_columns_by_name_and_position() {
        let text = b"sku\tname\tprice\nA1\tBlue Shirt\t3\nB2\tRed Shirt\t4\n";
        let m = parse(
            text,
            &MetaOptions {
                id_col: Some(Column::parse("sku")),
                title_col: Some(Column::parse("name")),
            },
        )
        .unwrap();
        assert_eq!(m.title("B2"), Some("Red Shirt"));
        let text = b"Blue Shirt;A1\nRed Shirt;B2\n";
        let m = parse(
            text,
            &MetaOptions { id_col: Some(Column::Index(1)), title_col: Some(Column::Index(0)) },
        )
        .unwrap();
        assert_eq!(m.title("A1"), Some("Blue Shirt"));
        assert!(
            parse(b"x,y\n", &MetaOptions { id_col: Some(Column::parse("nope")), title_col: None })
                .is_err()
        );
        assert!(parse(b"\n\n", &MetaOptions::default()).is_err());
    }

    #[test]
    fn search_ranks_exact_prefix_substring_fuzzy() {
        let text = "movieId,title,genres\n1,Iron Man 2 (2010),Action\n2,Iron Man (2008),Action\n3,Iron Man 3 (2013),Action\n4,\"Man in the Iron Mask, The (1998)\",Drama\n5,Star Wars (1977),Sci-Fi\n6,The Invincible Iron Man (2007),Animation\n";
        let m = parse(text.as_bytes(), &MetaOptions::default()).unwrap();
        let hits = m.search("iron man", 10);
        let titles: Vec<&str> = hits.iter().map(|h| m.items[h.index].title.as_str()).collect();
        assert_eq!(
            &titles[..4],
            &[
                "Iron Man (2008)",
                "Iron Man 2 (2010)",
                "Iron Man 3 (2013)",
                "The Invincible Iron Man (2007)"
            ]
        );
        assert_eq!(hits[0].kind, MatchKind::Exact);
        let hits = m.search("STAR WARS!", 3);
        assert_eq!(m.items[hits[0].index].title, "Star Wars (1977)");
        let hits = m.search("Star Warz", 3);
        assert_eq!(hits[0].kind, MatchKind::Fuzzy);
        assert_eq!(m.items[hits[0].index].title, "Star Wars (1977)");
        assert!(m.search("zzzzqqq", 3).is_empty());
        assert_eq!(m.closest("zzzzqqq", 3).len(), 3);
        let hits = m.search("Iron Man (2010)", 3);
        assert_eq!(m.items[hits[0].index].title, "Iron Man 2 (2010)");
    }

    #[test]
    fn normalize_articles_and_years() {
        assert_eq!(normalize("Usual Suspects, The (1995)"), ("usual suspects".into(), Some(1995)));
        assert_eq!(normalize("The Usual Suspects"), ("usual suspects".into(), None));
        assert_eq!(normalize("  "), (String::new(), None));
        assert_eq!(normalize("(1995)"), (String::new(), Some(1995)));
    }
}
