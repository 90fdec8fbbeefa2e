//! Id files given on the command line: `--users FILE`, `--items FILE`, `--filter-items FILE`,
//! `--candidates FILE` (one id per line, or the first column) and `--liked-file FILE` (`ID` or
//! `ID,value` per line). One reader serves them all.

use std::path::Path;

use alternator::Delimiter;

/// The non-blank lines of an id file that are not `#` comments, as `(1-based line, fields)`:
/// fields split on the delimiter of the first such line (comma, tab, `;`, `|` or whitespace,
/// CSV quoting understood), trimmed. A byte-order mark is skipped; Latin-1 bytes are accepted.
pub fn read_rows(path: &Path) -> anyhow::Result<Vec<(u64, Vec<String>)>> {
    let bytes = std::fs::read(path).map_err(|e| alternator::Error::io(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&c| char::from(c)).collect(),
    };
    let mut rows = Vec::new();
    let mut delim: Option<Delimiter> = None;
    // Line ends as the interaction reader knows them: `\n`, `\r\n` or a lone `\r`.
    for (k, (line, _)) in alternator::data::lines(text.as_bytes()).enumerate() {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let d = *delim.get_or_insert_with(|| Delimiter::detect(line));
        let fields = d.split(line).into_iter().map(|f| f.trim().to_string()).collect();
        rows.push((k as u64 + 1, fields));
    }
    Ok(rows)
}

/// The ids of an id file: the first field of each line, empty ones left out.
pub fn read_ids(path: &Path) -> anyhow::Result<Vec<String>> {
    Ok(read_rows(path)?
        .into_iter()
        .filter_map(|(_, f)| f.into_iter().next().filter(|id| !id.is_empty()))
        .collect())
}

/// `--liked-file`: `(id, value)` per line, the value `None` when the line has none. A first
/// line whose value is not a number is a header when `is_id` says its first field is not an
/// item id; any other value that is not a finite number is an error naming the line.
pub fn read_liked(
    path: &Path,
    is_id: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<(String, Option<f32>)>> {
    let mut out = Vec::new();
    for (n, (line, fields)) in read_rows(path)?.into_iter().enumerate() {
        let Some(id) = fields.first().filter(|id| !id.is_empty()) else { continue };
        let first = n == 0;
        let value = match fields.get(1).map(String::as_str) {
            None | Some("") => None,
            Some(v) => match v.parse::<f32>() {
                Ok(x) if x.is_finite() => Some(x),
                _ if first && !is_id(id) => continue, // a header line
                _ => {
                    return Err(alternator::Error::Parse {
                        path: path.into(),
                        line,
                        column: Some("2".into()),
                        message: format!("{v:?} is not a finite number"),
                    }
                    .into());
                }
            },
        };
        if first && fields.len() > 1 && !is_id(id) && value.is_none() {
            continue; // a header line with an empty value column
        }
        out.push((id.clone(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_liked_and_headers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ids.csv");
        std::fs::write(&p, "# comment\n\u{feff}a,1\n\n\"b, c\",2\nd\n").unwrap();
        assert_eq!(read_ids(&p).unwrap(), vec!["a", "b, c", "d"]);
        let liked = read_liked(&p, |_| true).unwrap();
        assert_eq!(liked[1], ("b, c".to_string(), Some(2.0)));
        assert_eq!(liked[2], ("d".to_string(), None));
        std::fs::write(&p, "movieId,rating\n50,5\n181\n").unwrap();
        let liked = read_liked(&p, |id| id != "movieId").unwrap();
        assert_eq!(liked, vec![("50".to_string(), Some(5.0)), ("181".to_string(), None)]);
        std::fs::write(&p, "50,5\n181,high\n").unwrap();
        let err = read_liked(&p, |_| true).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
