//! Title search: token-aware, case-, accent- and article-insensitive, tolerant of a typo or
//! two, the year optional. An index built once per metadata file makes a search cost a
//! bounded amount of work whatever the query.
//!
//! # Scoring
//!
//! Titles and queries are normalised into tokens ([`normalize`]: lower case, Latin accents
//! folded, punctuation dropped, a leading `The`/`A`/`An` or a trailing `, The` dropped, the
//! trailing `(1977)` kept apart as the year). Each token `t` weighs its rarity,
//! `w(t) = ln(1 + N / df(t))` over the `N` titles (numbers and roman numerals, the sequel
//! markers of `Iron Man 2`, weigh a tenth of that). A query token `q` matches a title token with a
//! credit `c`: 1 when equal, 0.9 when `q` is the query's last token and a prefix of it (typing
//! in progress), 0.8 at one edit (tokens of 4+ characters), 0.6 at two edits (8+). Then
//!
//! ```text
//! query coverage  Q = Σ_q w(q)·c(q) / Σ_q w(q)        (a query token no title has weighs ln(1+N))
//! title coverage  T = Σ_t w(t)·c(t) / Σ_t w(t)
//! score           s = 2QT / (Q + T) × year factor      (1; 0.8 for another year; 0.9 for none)
//! ```
//!
//! A title *matches* when `s ≥` [`MATCH_THRESHOLD`]. The titles that match about as well as
//! the best one (`s ≥ best − `[`MATCH_MARGIN`]) are the possible matches listed to the user:
//! "Iron Man" finds Iron Man (2008), Iron Man 2 (2010) and Iron Man 3 (2013), not The
//! Invincible Iron Man (2007) nor, on a catalogue without it, Thin Man, The (1934).

use std::collections::HashMap;

/// A title matches a query from this score on (see the module docs).
pub const MATCH_THRESHOLD: f64 = 0.7;
/// Titles within this score of the best match are listed with it as possible matches.
pub const MATCH_MARGIN: f64 = 0.15;
/// The weight of a sequel marker (`2`, `III`) relative to a word as rare.
const MARKER_WEIGHT: f64 = 0.1;
/// Query tokens considered: the rest of a longer query is ignored.
const MAX_QUERY_TOKENS: usize = 24;
/// Query characters read.
const MAX_QUERY_CHARS: usize = 512;
/// Longest token matched with typos (longer ones match exactly only).
const MAX_TYPO_TOKEN: usize = 40;
/// Vocabulary tokens a prefix (the last query token) may expand to.
const MAX_PREFIX_EXPANSION: usize = 64;

/// A search hit: a title's position in the metadata and its score in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleMatch {
    /// Position in [`crate::meta::Metadata::items`].
    pub index: usize,
    /// The score (see the module docs); 1 for an exact match.
    pub score: f64,
}

/// One title, tokenised.
#[derive(Debug, Clone, Default)]
struct Entry {
    tokens: Vec<u32>,
    year: Option<u32>,
    /// Length of the original title (shorter wins a tie).
    len: usize,
    /// The character bigrams of its normalised text, sorted (for suggestions when no token
    /// matches at all).
    bigrams: Vec<u32>,
}

/// The character bigrams of `tokens` joined by spaces, hashed to `u32`, sorted, deduplicated.
fn bigrams(tokens: &[String]) -> Vec<u32> {
    let text = tokens.join(" ");
    let chars: Vec<char> = text.chars().take(MAX_QUERY_CHARS).collect();
    let mut out: Vec<u32> =
        chars.windows(2).map(|w| (u32::from(w[0]) << 16) ^ u32::from(w[1])).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The Dice coefficient of two sorted bigram sets.
fn dice(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

/// The search index of a metadata file's titles.
#[derive(Debug, Clone, Default)]
pub(crate) struct TitleIndex {
    entries: Vec<Entry>,
    vocab: HashMap<String, u32>,
    /// Per token: its text, weight and the titles holding it (ascending).
    words: Vec<String>,
    weights: Vec<f64>,
    postings: Vec<Vec<u32>>,
    /// Token ids sorted by text (prefix search).
    sorted: Vec<u32>,
    /// Deletion neighbourhoods (SymSpell): a token with one or two characters deleted →
    /// the vocabulary tokens that give it.
    deletes: HashMap<String, Vec<u32>>,
}

/// Latin-1 letters with accents folded to ASCII (`é` → `e`); other characters unchanged.
fn fold(c: char) -> char {
    match c {
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

/// Normalises a title or a query into tokens and a year (see the module docs):
/// `"Usual Suspects, The (1995)"` → `(["usual", "suspects"], Some(1995))`.
pub fn normalize(title: &str) -> (Vec<String>, Option<u32>) {
    let mut t = title.trim();
    let mut year = None;
    if let Some(open) = t.rfind('(') {
        let inner = t[open + 1..].trim_end_matches(')').trim();
        if t.ends_with(')') && inner.len() == 4 && inner.bytes().all(|b| b.is_ascii_digit()) {
            year = inner.parse().ok();
            t = t[..open].trim_end();
        }
    }
    let lowered: String = t.chars().flat_map(char::to_lowercase).map(fold).collect();
    // A trailing article after a comma ("Usual Suspects, The").
    let mut s = lowered.trim_end();
    for art in [", the", ", a", ", an", ",the"] {
        if let Some(stripped) = s.strip_suffix(art) {
            s = stripped;
            break;
        }
    }
    let mut tokens: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    if tokens.len() > 1 && matches!(tokens[0].as_str(), "the" | "a" | "an") {
        tokens.remove(0);
    }
    (tokens, year)
}

/// True for sequel markers: numbers and roman numerals up to 20.
fn is_marker(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_digit())
        || matches!(
            t,
            "ii" | "iii" | "iv" | "v" | "vi" | "vii" | "viii" | "ix" | "x" | "xi" | "xii"
        )
}

/// Every string made by deleting `d` characters (1 or 2) from `w`.
fn deletions(w: &str, d: usize, out: &mut Vec<String>) {
    let chars: Vec<char> = w.chars().collect();
    for i in 0..chars.len() {
        let one: String = chars.iter().enumerate().filter(|&(k, _)| k != i).map(|p| p.1).collect();
        if d >= 2 {
            deletions(&one, 1, out);
        }
        out.push(one);
    }
}

/// Levenshtein distance, or `None` when it exceeds `max`.
fn distance_at_most(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// Typos allowed in a token of `n` characters.
fn max_typos(n: usize) -> usize {
    match n {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

impl TitleIndex {
    /// Indexes `titles` (in metadata order).
    pub(crate) fn build<'a>(titles: impl IntoIterator<Item = &'a str>) -> TitleIndex {
        let mut ix = TitleIndex::default();
        for (k, title) in titles.into_iter().enumerate() {
            let (tokens, year) = normalize(title);
            let grams = bigrams(&tokens);
            let mut ids = Vec::with_capacity(tokens.len());
            for t in tokens {
                let next = ix.words.len() as u32;
                let id = *ix.vocab.entry(t.clone()).or_insert(next);
                if id == next {
                    ix.words.push(t);
                    ix.postings.push(Vec::new());
                }
                if let Some(p) = ix.postings.get_mut(id as usize) {
                    if p.last() != Some(&(k as u32)) {
                        p.push(k as u32);
                    }
                }
                ids.push(id);
            }
            ix.entries.push(Entry { tokens: ids, year, len: title.len(), bigrams: grams });
        }
        let n = ix.entries.len().max(1) as f64;
        ix.weights = ix
            .words
            .iter()
            .zip(&ix.postings)
            .map(|(w, p)| {
                let idf = (1.0 + n / p.len().max(1) as f64).ln();
                if is_marker(w) { idf * MARKER_WEIGHT } else { idf }
            })
            .collect();
        ix.sorted = (0..ix.words.len() as u32).collect();
        ix.sorted.sort_by(|&a, &b| ix.words[a as usize].cmp(&ix.words[b as usize]));
        let mut dels = Vec::new();
        for (id, w) in ix.words.iter().enumerate() {
            let d = max_typos(w.chars().count());
            if d == 0 || w.len() > MAX_TYPO_TOKEN {
                continue;
            }
            dels.clear();
            deletions(w, d, &mut dels);
            dels.sort_unstable();
            dels.dedup();
            for v in dels.drain(..) {
                let list = ix.deletes.entry(v).or_default();
                if list.last() != Some(&(id as u32)) {
                    list.push(id as u32);
                }
            }
        }
        ix
    }

    /// The vocabulary tokens query token `q` matches, with their credit.
    fn expand(&self, q: &str, last: bool, out: &mut Vec<(u32, f64)>) {
        out.clear();
        if let Some(&id) = self.vocab.get(q) {
            out.push((id, 1.0));
        }
        let n = q.chars().count();
        if last && n >= 2 {
            let start = self.sorted.partition_point(|&id| self.words[id as usize].as_str() < q);
            for &id in self.sorted[start..].iter().take(MAX_PREFIX_EXPANSION) {
                let w = &self.words[id as usize];
                if !w.starts_with(q) {
                    break;
                }
                if w.len() > q.len() {
                    out.push((id, 0.9));
                }
            }
        }
        let d = max_typos(n);
        if d > 0 && q.len() <= MAX_TYPO_TOKEN {
            let mut variants = vec![q.to_string()];
            deletions(q, d, &mut variants);
            variants.sort_unstable();
            variants.dedup();
            let mut seen: Vec<u32> = Vec::new();
            for v in &variants {
                for &id in self.deletes.get(v).map_or(&[][..], Vec::as_slice) {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    let w = &self.words[id as usize];
                    let dmax = d.min(max_typos(w.chars().count()));
                    if let Some(k @ 1..) = distance_at_most(q, w, dmax) {
                        out.push((id, if k == 1 { 0.8 } else { 0.6 }));
                    }
                }
            }
        }
        // Keep each token's best credit.
        out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        out.dedup_by_key(|p| p.0);
    }

    /// Every title sharing a (possibly inexact) token with `query`, scored, best first (ties:
    /// the shorter title, then file order). Titles scoring 0 are left out.
    pub(crate) fn scored(&self, query: &str) -> Vec<TitleMatch> {
        // Beyond a few hundred characters a query is no title: only its start is read.
        let cut = query.char_indices().nth(MAX_QUERY_CHARS).map_or(query.len(), |(i, _)| i);
        let (all, year) = normalize(query.get(..cut).unwrap_or(query));
        let mut tokens: Vec<String> = Vec::with_capacity(MAX_QUERY_TOKENS);
        for t in all {
            if tokens.len() == MAX_QUERY_TOKENS {
                break;
            }
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
        let rare = (1.0 + self.entries.len().max(1) as f64).ln();
        // Per query token: its weight and the tokens it matches.
        let mut expansions: Vec<(f64, Vec<(u32, f64)>)> = Vec::with_capacity(tokens.len());
        let mut buf = Vec::new();
        for (k, q) in tokens.iter().enumerate() {
            self.expand(q, k + 1 == tokens.len(), &mut buf);
            let w = self.vocab.get(q.as_str()).map_or_else(
                || buf.iter().map(|&(id, _)| self.weights[id as usize]).fold(0.0, f64::max),
                |&id| self.weights[id as usize],
            );
            let w = if w > 0.0 { w } else { rare };
            expansions.push((w, buf.clone()));
        }
        let q_total: f64 = expansions.iter().map(|e| e.0).sum();
        let mut candidates: Vec<u32> = expansions
            .iter()
            .flat_map(|e| e.1.iter())
            .flat_map(|&(id, _)| self.postings[id as usize].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut hits: Vec<TitleMatch> = Vec::with_capacity(candidates.len());
        for k in candidates {
            let Some(entry) = self.entries.get(k as usize) else { continue };
            // Credit of each title token: the best any query token gives it.
            let mut t_num = 0.0;
            let mut q_num = 0.0;
            for (qw, matches) in &expansions {
                let best = entry
                    .tokens
                    .iter()
                    .filter_map(|t| matches.iter().find(|m| m.0 == *t).map(|m| m.1))
                    .fold(0.0, f64::max);
                q_num += qw * best;
            }
            let mut t_total = 0.0;
            for t in &entry.tokens {
                let w = self.weights[*t as usize];
                t_total += w;
                let best = expansions
                    .iter()
                    .flat_map(|e| e.1.iter())
                    .filter(|m| m.0 == *t)
                    .map(|m| m.1)
                    .fold(0.0, f64::max);
                t_num += w * best;
            }
            let (qc, tc) =
                (q_num / q_total.max(f64::MIN_POSITIVE), t_num / t_total.max(f64::MIN_POSITIVE));
            if qc + tc <= 0.0 {
                continue;
            }
            let year_factor = match (year, entry.year) {
                (None, _) => 1.0,
                (Some(a), Some(b)) if a == b => 1.0,
                (Some(_), Some(_)) => 0.8,
                (Some(_), None) => 0.9,
            };
            hits.push(TitleMatch {
                index: k as usize,
                score: 2.0 * qc * tc / (qc + tc) * year_factor,
            });
        }
        hits.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| {
                let len = |h: &TitleMatch| self.entries.get(h.index).map_or(0, |e| e.len);
                len(a).cmp(&len(b)).then(a.index.cmp(&b.index))
            })
        });
        hits
    }
}

impl TitleIndex {
    /// The titles closest to `query` by character bigrams (Dice coefficient), best first, at
    /// most `limit`: suggestions for a query that shares no token with any title.
    pub(crate) fn resembling(&self, query: &str, limit: usize) -> Vec<TitleMatch> {
        let cut = query.char_indices().nth(MAX_QUERY_CHARS).map_or(query.len(), |(i, _)| i);
        let q = bigrams(&normalize(query.get(..cut).unwrap_or(query)).0);
        let mut hits: Vec<TitleMatch> = self
            .entries
            .iter()
            .enumerate()
            .map(|(k, e)| TitleMatch { index: k, score: dice(&q, &e.bigrams) })
            .filter(|h| h.score > 0.0)
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(ix: &TitleIndex, all: &[&str], hits: &[TitleMatch]) -> Vec<String> {
        let _ = ix;
        hits.iter().map(|h| all[h.index].to_string()).collect()
    }

    #[test]
    fn normalize_articles_years_accents() {
        assert_eq!(
            normalize("Usual Suspects, The (1995)"),
            (vec!["usual".into(), "suspects".into()], Some(1995))
        );
        assert_eq!(normalize("The Usual Suspects").0, vec!["usual", "suspects"]);
        assert_eq!(normalize("Café Müller (1990)").0, vec!["cafe", "muller"]);
        assert_eq!(normalize("  ").0, Vec::<String>::new());
        assert_eq!(normalize("(1995)"), (Vec::new(), Some(1995)));
        assert_eq!(normalize("WALL·E (2008)").0, vec!["wall", "e"]);
    }

    #[test]
    fn distances_are_bounded() {
        assert_eq!(distance_at_most("wars", "warz", 1), Some(1));
        assert_eq!(distance_at_most("redemption", "redemtion", 2), Some(1));
        assert_eq!(distance_at_most("abcdef", "uvwxyz", 2), None);
        assert_eq!(distance_at_most("a", "abcd", 2), None);
    }

    #[test]
    fn scores_rank_exact_then_sequels_then_others() {
        let all = [
            "Iron Man 2 (2010)",
            "Iron Man (2008)",
            "Iron Man 3 (2013)",
            "Man in the Iron Mask, The (1998)",
            "Invincible Iron Man, The (2007)",
            "Thin Man, The (1934)",
            "Star Wars (1977)",
            "Matrix, The (1999)",
        ];
        let ix = TitleIndex::build(all.iter().copied());
        let hits = ix.scored("iron man");
        let good: Vec<String> = titles(&ix, &all, &hits)
            .into_iter()
            .zip(&hits)
            .filter(|(_, h)| h.score >= hits[0].score - MATCH_MARGIN && h.score >= MATCH_THRESHOLD)
            .map(|p| p.0)
            .collect();
        assert_eq!(good, ["Iron Man (2008)", "Iron Man 2 (2010)", "Iron Man 3 (2013)"]);
        assert!((hits[0].score - 1.0).abs() < 1e-12);
        let best = |q: &str| ix.scored(q).first().map(|h| (all[h.index], h.score));
        assert_eq!(best("Matrix").map(|b| b.0), Some("Matrix, The (1999)"));
        assert_eq!(best("the matrix").map(|b| b.0), Some("Matrix, The (1999)"));
        assert_eq!(best("Star Warz").map(|b| b.0), Some("Star Wars (1977)"));
        assert_eq!(best("star w").map(|b| b.0), Some("Star Wars (1977)"));
        assert_eq!(best("Iron Man (2010)").map(|b| b.0), Some("Iron Man 2 (2010)"));
        assert!(best("Qwxyzzy Nonexistent Film").is_none_or(|b| b.1 < MATCH_THRESHOLD));
    }

    #[test]
    fn a_title_missing_from_the_catalogue_does_not_match_a_neighbour() {
        let all = [
            "Thin Man, The (1934)",
            "After the Thin Man (1936)",
            "Iron Will (1994)",
            "Star Wars (1977)",
        ];
        let ix = TitleIndex::build(all.iter().copied());
        let hits = ix.scored("Iron Man");
        assert!(hits.iter().all(|h| h.score < MATCH_THRESHOLD), "{hits:?}");
        assert!(!hits.is_empty(), "closest titles exist for suggestions");
    }

    #[test]
    fn query_cost_is_bounded() {
        let all: Vec<String> =
            (0..2000).map(|i| format!("Film Number {i} ({})", 1900 + i % 100)).collect();
        let ix = TitleIndex::build(all.iter().map(String::as_str));
        let long = "film ".repeat(100_000);
        let hits = ix.scored(&long);
        assert_eq!(hits.len(), 2000);
        let garbage = "zq".repeat(200_000);
        assert!(ix.scored(&garbage).is_empty());
    }
}
