//! STS-benchmark style TSV: `genre, file, year, id, score, sentence1, sentence2[, extra…]`, tab
//! separated, no header, no quoting (fields are used exactly as written). Extra trailing columns
//! (the attribution fields some lines carry) are tolerated. The 0–5 gold score becomes a label in
//! [0, 1] by [`label_of_score`] — the one place that conversion is written.
//!
//! This module owns the line format; [`super::pairs`] turns lines into training pairs (with the
//! skip / strict report, or strictly for a whole benchmark file). Imports only [`super::load`]'s
//! skip reasons and the crate's error type.

use super::load::{non_empty, SkipReason};
use crate::error::Error;

/// One STS line: the two sentences and the 0–5 gold score.
#[derive(Clone, Debug, PartialEq)]
pub struct StsLine {
    /// First sentence (column 6).
    pub a: String,
    /// Second sentence (column 7).
    pub b: String,
    /// Gold score in [0, 5] (column 5).
    pub score: f64,
}

/// Highest gold score of the STS benchmark.
pub const MAX_SCORE: f64 = 5.0;

/// The label in [0, 1] of a 0–5 STS score.
pub fn label_of_score(score: f64) -> f32 {
    (score / MAX_SCORE) as f32
}

/// Whether `bytes` look like an STS TSV: the first non-blank line has ≥ 7 tab-separated fields with
/// a number in the fifth.
pub fn looks_like_sts(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        .map(|l| {
            let f: Vec<&[u8]> = l.split(|&b| b == b'\t').collect();
            f.len() >= 7
                && std::str::from_utf8(f[4])
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .is_some()
        })
        .unwrap_or(false)
}

/// Non-blank lines of an STS file with their location (`line N`, 1-based).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (String, &[u8])> {
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(|b| b.is_ascii_whitespace()))
        .map(|(i, l)| (format!("line {}", i + 1), l))
}

/// One STS line, or why it cannot be one (the skip reason and an error naming `file`, `loc` and the
/// field).
pub(crate) fn parse_line(
    line: &[u8],
    file: &str,
    loc: &str,
) -> std::result::Result<StsLine, (SkipReason, Error)> {
    let line = std::str::from_utf8(line).map_err(|e| {
        (
            SkipReason::NotUtf8,
            Error::data(
                file,
                loc,
                "text",
                format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to()),
            ),
        )
    })?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 7 {
        return Err((
            SkipReason::Malformed,
            Error::data(
                file,
                loc,
                "columns",
                format!(
                    "expected at least 7 tab-separated fields, found {}",
                    f.len()
                ),
            ),
        ));
    }
    let field = "score (column 5)";
    let score: f64 = match f[4].trim() {
        "" => {
            return Err((
                SkipReason::MissingLabel,
                Error::data(file, loc, field, "empty"),
            ))
        }
        s => s.parse().map_err(|_| {
            (
                SkipReason::Malformed,
                Error::data(file, loc, field, format!("`{s}` is not a number")),
            )
        })?,
    };
    if !(0.0..=MAX_SCORE).contains(&score) {
        return Err((
            SkipReason::LabelOutOfRange,
            Error::data(file, loc, field, format!("{score} is outside [0, 5]")),
        ));
    }
    Ok(StsLine {
        a: non_empty(f[5], file, loc, "sentence1 (column 6)")?,
        b: non_empty(f[6], file, loc, "sentence2 (column 7)")?,
        score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> std::result::Result<Vec<StsLine>, String> {
        lines(bytes)
            .map(|(loc, l)| parse_line(l, "t.tsv", &loc).map_err(|(_, e)| e.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_reports() {
        let ok = b"g\tf\t2012\t1\t3.5\tA cat.\tA dog.\tsrc\tsrc\n\ng\tf\t2012\t2\t0\tx\ty\r\n";
        let p = parse(ok).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            StsLine {
                a: "A cat.".into(),
                b: "A dog.".into(),
                score: 3.5
            }
        );
        assert_eq!(label_of_score(p[0].score), 0.7);
        let e = parse(b"g\tf\t2012\t1\tabc\ta\tb\n").unwrap_err();
        assert!(e.contains("t.tsv: line 1: score (column 5)"), "{e}");
        assert!(parse(b"a\tb\n").unwrap_err().contains("at least 7"));
        assert!(parse(b"g\tf\t2012\t1\t7\ta\tb\n")
            .unwrap_err()
            .contains("outside [0, 5]"));
    }
}
