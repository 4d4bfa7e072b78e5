//! STS-benchmark style TSV: `genre, file, year, id, score, sentence1, sentence2[, extra…]`, tab
//! separated, no quoting (fields are used exactly as written). Extra trailing columns (the
//! attribution fields some lines carry) are tolerated.

use crate::error::{Error, Result};

/// One scored sentence pair.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredPair {
    /// First sentence.
    pub a: String,
    /// Second sentence.
    pub b: String,
    /// Gold similarity (0–5 in STS-B).
    pub score: f64,
}

/// Parse an STS TSV. Blank lines are skipped; a malformed line is an error naming its line and field.
pub fn parse_sts(bytes: &[u8], file: &str) -> Result<Vec<ScoredPair>> {
    let text = super::decode_utf8(bytes, file)?;
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let rec = format!("line {}", i + 1);
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 7 {
            return Err(Error::data(
                file,
                rec,
                "columns",
                format!(
                    "expected at least 7 tab-separated fields, found {}",
                    f.len()
                ),
            ));
        }
        let score: f64 = f[4].trim().parse().map_err(|_| {
            Error::data(
                file,
                rec.clone(),
                "score (column 5)",
                format!("`{}` is not a number", f[4]),
            )
        })?;
        if !score.is_finite() {
            return Err(Error::data(file, rec, "score (column 5)", "must be finite"));
        }
        out.push(ScoredPair {
            a: f[5].to_string(),
            b: f[6].to_string(),
            score,
        });
    }
    if out.is_empty() {
        return Err(Error::data(file, "line 1", "columns", "no pairs in file"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports() {
        let ok = b"g\tf\t2012\t1\t3.5\tA cat.\tA dog.\tsrc\tsrc\n\ng\tf\t2012\t2\t0\tx\ty\r\n";
        let p = parse_sts(ok, "t.tsv").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0],
            ScoredPair {
                a: "A cat.".into(),
                b: "A dog.".into(),
                score: 3.5
            }
        );
        let e = parse_sts(b"g\tf\t2012\t1\tabc\ta\tb\n", "t.tsv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.tsv: line 1: score (column 5)"), "{e}");
        let e = parse_sts(b"a\tb\n", "t.tsv").unwrap_err().to_string();
        assert!(e.contains("at least 7"), "{e}");
    }
}
