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

mod titles;
use titles::TitleIndex;
pub use titles::{MATCH_MARGIN, MATCH_THRESHOLD, TitleMatch, normalize};

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
    index: TitleIndex,
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
        m.items.push(ItemMeta { id: id.to_string(), title: title.to_string(), genres });
    }
    if m.items.is_empty() {
        return Err(Error::Empty {
            path: path.into(),
            message: format!("no usable metadata lines ({} skipped)", m.skipped),
        });
    }
    m.index = TitleIndex::build(m.items.iter().map(|it| it.title.as_str()));
    Ok(m)
}

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

    /// Titles matching `query` (score at least [`MATCH_THRESHOLD`]; see the `titles` module
    /// docs for the scoring), best first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<TitleMatch> {
        let mut hits = self.index.scored(query);
        hits.retain(|h| h.score >= MATCH_THRESHOLD);
        hits.truncate(limit);
        hits
    }

    /// The possible matches of `query`: the titles that match about as well as the best one
    /// (score at least [`MATCH_THRESHOLD`] and within [`MATCH_MARGIN`] of the best), best first.
    /// "Iron Man" gives Iron Man (2008), Iron Man 2 (2010), Iron Man 3 (2013). Empty when
    /// nothing matches (see [`Metadata::closest`] for suggestions).
    pub fn matches(&self, query: &str) -> Vec<TitleMatch> {
        let mut hits = self.search(query, usize::MAX);
        if let Some(best) = hits.first().map(|h| h.score) {
            hits.retain(|h| h.score >= best - MATCH_MARGIN);
        }
        hits
    }

    /// The `limit` titles closest to `query` whatever their score (for "did you mean"):
    /// those sharing a word with it by score, or, when none does, those sharing the most
    /// letter pairs.
    pub fn closest(&self, query: &str, limit: usize) -> Vec<TitleMatch> {
        let mut hits = self.index.scored(query);
        if hits.is_empty() {
            hits = self.index.resembling(query, limit);
        }
        hits.truncate(limit);
        hits
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
        assert!(hits[0].score > 0.99);
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
    fn possible_matches_of_a_title() {
        let text = "movieId,title,genres\n1,Iron Man 2 (2010),Action\n2,Iron Man (2008),Action\n3,Iron Man 3 (2013),Action\n4,\"Man in the Iron Mask, The (1998)\",Drama\n5,Star Wars (1977),Sci-Fi\n6,The Invincible Iron Man (2007),Animation\n";
        let m = parse(text.as_bytes(), &MetaOptions::default()).unwrap();
        let titles = |hits: Vec<TitleMatch>| -> Vec<String> {
            hits.iter().map(|h| m.items[h.index].title.clone()).collect()
        };
        assert_eq!(
            titles(m.matches("Iron Man")),
            ["Iron Man (2008)", "Iron Man 2 (2010)", "Iron Man 3 (2013)"]
        );
        assert_eq!(titles(m.matches("STAR WARS!")), ["Star Wars (1977)"]);
        assert_eq!(titles(m.matches("Star Warz")), ["Star Wars (1977)"]);
        assert_eq!(titles(m.matches("Iron Man (2010)"))[0], "Iron Man 2 (2010)");
        assert!(m.matches("zzzzqqq").is_empty());
        assert!(m.search("the invincible iron man", 1)[0].score > 0.99);
    }
}
