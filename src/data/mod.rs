//! Data loading: bytes in, typed records out, and errors that name the file, the record and the field.
//!
//! It owns every input format — incidents CSV/JSON, labelled pairs (JSON, JSONL, STS TSV),
//! relationship pairs — with format detection ([`detect`]), the seeded splits ([`split`]), pair
//! generation from incidents ([`generate`]) and the one definition of a positive label
//! ([`pairs::is_positive`]).
//!
//! Imports: the crate's error type and the seeded RNG only — the bottom of the pipeline, so models,
//! training and evaluation all read its types.

pub mod detect;
#[cfg(test)]
mod fuzz;
pub mod generate;
pub mod incidents;
pub mod links;
pub mod load;
pub mod pairs;
pub(crate) mod records;
pub mod relationships;
pub mod split;
pub mod sts;

use crate::error::{Error, Result};

/// Decode UTF-8, or say where the first invalid byte is (line and byte offset).
pub fn decode_utf8<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::data(
            file,
            format!("line {line}"),
            "text",
            format!("not valid UTF-8 (byte offset {at})"),
        )
    })
}

/// Texts to embed: a JSON array of strings, or plain text with one text per line (blank lines and a
/// trailing `\r` are ignored). An input without any text is an error.
pub fn parse_text_list(bytes: &[u8], file: &str) -> Result<Vec<String>> {
    let text = decode_utf8(bytes, file)?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let texts: Vec<String> = if trimmed.starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(trimmed).map_err(|e| {
            Error::data(
                file,
                format!("line {}", e.line()),
                "json",
                format!("not a JSON array of strings ({e})"),
            )
        })?;
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                serde_json::Value::String(s) => Ok(s),
                other => Err(Error::data(
                    file,
                    format!("record {i}"),
                    "text",
                    format!("expected a string, found {other}"),
                )),
            })
            .collect::<Result<_>>()?
    } else {
        text.lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect()
    };
    if texts.is_empty() {
        return Err(Error::data(file, "record 0", "text", "no texts in input"));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists() {
        assert_eq!(parse_text_list(b"a\r\n\nb\n", "f").unwrap(), vec!["a", "b"]);
        assert_eq!(
            parse_text_list(br#" ["x", "y z"]"#, "f").unwrap(),
            vec!["x", "y z"]
        );
        let e = parse_text_list(b"[1]", "in.json").unwrap_err().to_string();
        assert!(e.contains("in.json") && e.contains("record 0"), "{e}");
        let e = parse_text_list(b" \n\n", "empty.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty.txt") && e.contains("no texts"), "{e}");
        let e = parse_text_list(b"ok\nbad \xff\n", "x.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.txt: line 2") && e.contains("UTF-8"), "{e}");
    }
}
