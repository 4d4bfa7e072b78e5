//! Training pairs: two texts and a similarity label in [0, 1].
//!
//! Accepted shapes (detected from the content, not the file name):
//! - the seeds' `training_pairs.json`: `{"positive_pairs": [...], "negative_pairs": [...]}`, each
//!   item `[a, b]` or an object with two text fields; positives get label 1, negatives 0;
//! - a JSON list of objects (or of `[a, b, label]` arrays), or JSON Lines (one object per line);
//! - an STS-benchmark TSV (`genre, file, year, id, score, sentence1, sentence2`): label = score / 5.
//!
//! Object field names, in the spellings people use: texts `text1`/`text2`, `text_a`/`text_b`,
//! `ticket_a`/`ticket_b`, `sentence1`/`sentence2`, `a`/`b`; label `label`, `score` or `similarity`
//! (a number, a numeric string or a boolean). Other fields (ids, sources) are ignored. Labels are
//! taken as written — a label outside [0, 1] is reported by the trainer, never silently rescaled.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::train::trainer::TrainPair;

/// Field names accepted for the first text, the second text and the label.
pub const TEXT_A_FIELDS: [&str; 5] = ["text1", "text_a", "ticket_a", "sentence1", "a"];
/// See [`TEXT_A_FIELDS`].
pub const TEXT_B_FIELDS: [&str; 5] = ["text2", "text_b", "ticket_b", "sentence2", "b"];
/// See [`TEXT_A_FIELDS`].
pub const LABEL_FIELDS: [&str; 3] = ["label", "score", "similarity"];

/// Parse training pairs from any of the accepted shapes. Errors name `file`, the record and the
/// field; an input without a single pair is an error.
pub fn parse_training_pairs(bytes: &[u8], file: &str) -> Result<Vec<TrainPair>> {
    let text = super::decode_utf8(bytes, file)?;
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    let pairs = if trimmed.starts_with('[') || trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(v) => from_json(v, file)?,
            // Several objects one after the other: JSON Lines.
            Err(e) if trimmed.starts_with('{') && e.is_data() | e.is_syntax() => {
                from_json_lines(text, file)?
            }
            Err(e) => {
                return Err(Error::data(
                    file,
                    format!("line {}", e.line()),
                    "json",
                    format!("not valid JSON ({e})"),
                ))
            }
        }
    } else if looks_like_sts(text) {
        super::sts::parse_sts(bytes, file)?
            .into_iter()
            .map(|p| TrainPair {
                a: p.a,
                b: p.b,
                label: (p.score / 5.0) as f32,
            })
            .collect()
    } else {
        return Err(Error::data(
            file,
            "line 1",
            "format",
            "not a recognised pairs file: expected JSON (training_pairs.json or a list of objects), \
             JSON Lines, or an STS-benchmark TSV",
        ));
    };
    if pairs.is_empty() {
        return Err(Error::data(file, "record 0", "pairs", "no pairs in file"));
    }
    Ok(pairs)
}

/// An STS TSV: the first non-blank line has ≥ 7 tab-separated fields with a number in the fifth.
fn looks_like_sts(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            f.len() >= 7 && f[4].trim().parse::<f64>().is_ok()
        })
        .unwrap_or(false)
}

fn from_json(v: Value, file: &str) -> Result<Vec<TrainPair>> {
    match v {
        Value::Object(obj)
            if obj.contains_key("positive_pairs") || obj.contains_key("negative_pairs") =>
        {
            let mut out = Vec::new();
            for (key, label) in [("positive_pairs", 1.0), ("negative_pairs", 0.0)] {
                let items = match obj.get(key) {
                    None | Some(Value::Null) => continue,
                    Some(Value::Array(items)) => items,
                    Some(other) => {
                        return Err(Error::data(
                            file,
                            key,
                            key,
                            format!("expected a list of pairs, found {}", kind(other)),
                        ))
                    }
                };
                for (i, item) in items.iter().enumerate() {
                    let rec = format!("{key}[{i}]");
                    let (a, b) = match item {
                        Value::Array(_) => {
                            let (a, b, _) = from_array(item, file, &rec)?;
                            (a, b)
                        }
                        Value::Object(o) => texts(o, file, &rec)?,
                        other => {
                            return Err(Error::data(
                                file,
                                rec,
                                "pair",
                                format!(
                                    "expected [text_a, text_b] or an object, found {}",
                                    kind(other)
                                ),
                            ))
                        }
                    };
                    out.push(TrainPair { a, b, label });
                }
            }
            Ok(out)
        }
        Value::Object(obj) => Err(Error::data(
            file,
            "record 0",
            "positive_pairs",
            format!(
                "a JSON object must have positive_pairs / negative_pairs (found keys: {})",
                obj.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| record(item, file, &format!("record {i}")))
            .collect(),
        other => Err(Error::data(
            file,
            "record 0",
            "json",
            format!("expected a list or an object, found {}", kind(&other)),
        )),
    }
}

fn from_json_lines(text: &str, file: &str) -> Result<Vec<TrainPair>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rec = format!("line {}", i + 1);
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Error::data(file, &rec, "json", format!("not valid JSON ({e})")))?;
        out.push(record(&v, file, &rec)?);
    }
    Ok(out)
}

/// One labelled record: an object or `[a, b, label]`.
fn record(item: &Value, file: &str, rec: &str) -> Result<TrainPair> {
    match item {
        Value::Object(o) => {
            let (a, b) = texts(o, file, rec)?;
            let (field, value) = field(o, &LABEL_FIELDS, file, rec)?;
            Ok(TrainPair {
                a,
                b,
                label: label(value, file, rec, field)?,
            })
        }
        Value::Array(_) => {
            let (a, b, l) = from_array(item, file, rec)?;
            let l = l.ok_or_else(|| {
                Error::data(
                    file,
                    rec,
                    "label",
                    "missing: expected [text_a, text_b, label]",
                )
            })?;
            Ok(TrainPair {
                a,
                b,
                label: label(l, file, rec, "label")?,
            })
        }
        other => Err(Error::data(
            file,
            rec,
            "pair",
            format!("expected an object, found {}", kind(other)),
        )),
    }
}

fn from_array<'v>(
    item: &'v Value,
    file: &str,
    rec: &str,
) -> Result<(String, String, Option<&'v Value>)> {
    let arr = item.as_array().expect("caller checked");
    if !(2..=3).contains(&arr.len()) {
        return Err(Error::data(
            file,
            rec,
            "pair",
            format!(
                "expected [text_a, text_b] or [text_a, text_b, label], found {} items",
                arr.len()
            ),
        ));
    }
    Ok((
        string(&arr[0], file, rec, "text_a")?,
        string(&arr[1], file, rec, "text_b")?,
        arr.get(2),
    ))
}

/// A text field's string, or an error naming the field and what was found instead.
fn string(v: &Value, file: &str, rec: &str, field: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(Error::data(
            file,
            rec,
            field,
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

/// The first of `names` present in `o`, with its name; missing: an error naming the first spelling.
fn field<'o>(
    o: &'o Map<String, Value>,
    names: &[&'static str],
    file: &str,
    rec: &str,
) -> Result<(&'static str, &'o Value)> {
    names
        .iter()
        .find_map(|f| o.get(*f).map(|v| (*f, v)))
        .ok_or_else(|| {
            Error::data(
                file,
                rec,
                names[0],
                format!("missing (one of: {})", names.join(", ")),
            )
        })
}

fn texts(o: &Map<String, Value>, file: &str, rec: &str) -> Result<(String, String)> {
    let get = |names: &[&'static str]| -> Result<String> {
        let (field, v) = field(o, names, file, rec)?;
        string(v, file, rec, field)
    };
    Ok((get(&TEXT_A_FIELDS)?, get(&TEXT_B_FIELDS)?))
}

fn label(v: &Value, file: &str, rec: &str, field: &str) -> Result<f32> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(x as f32),
        _ => Err(Error::data(
            file,
            rec,
            field,
            format!("expected a number, found {v}"),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(p: &[TrainPair]) -> Vec<f32> {
        p.iter().map(|p| p.label).collect()
    }

    #[test]
    fn every_shape() {
        let seeds = br#"{"positive_pairs": [["vpn drops", "vpn disconnects"], {"text1": "a", "text2": "b"}],
                         "negative_pairs": [["printer", "password"]]}"#;
        let p = parse_training_pairs(seeds, "t.json").unwrap();
        assert_eq!(labels(&p), vec![1.0, 1.0, 0.0]);
        assert_eq!((p[1].a.as_str(), p[1].b.as_str()), ("a", "b"));

        let list = br#"[{"ticket_a": "x", "ticket_b": "y", "label": 1.0, "id_a": "7"},
                        {"sentence1": "u", "sentence2": "v", "score": "0.25"},
                        {"text_a": "p", "text_b": "q", "similarity": false},
                        ["m", "n", 0.5]]"#;
        assert_eq!(
            labels(&parse_training_pairs(list, "l.json").unwrap()),
            vec![1.0, 0.25, 0.0, 0.5]
        );

        let jsonl = b"{\"a\": \"x\", \"b\": \"y\", \"label\": 0.5}\n\n{\"a\": \"z\", \"b\": \"w\", \"label\": 1}\n";
        assert_eq!(
            labels(&parse_training_pairs(jsonl, "p.jsonl").unwrap()),
            vec![0.5, 1.0]
        );

        let sts = b"main-captions\tMSRvid\t2012test\t0001\t5.000\tA man.\tA man.\n\
                    main-captions\tMSRvid\t2012test\t0002\t1.000\tA dog.\tA cat.\n";
        assert_eq!(
            labels(&parse_training_pairs(sts, "sts.csv").unwrap()),
            vec![1.0, 0.2]
        );
    }

    #[test]
    fn errors_name_file_record_and_field() {
        let e = |b: &[u8]| parse_training_pairs(b, "f.json").unwrap_err().to_string();
        assert!(e(br#"[{"a": "x", "b": "y"}]"#).contains("f.json: record 0: label: missing"));
        assert!(e(br#"[{"a": "x", "label": 1}]"#).contains("record 0: text2: missing"));
        assert!(
            e(br#"[{"a": "x", "b": 3, "label": 1}]"#).contains("record 0: b: expected a string")
        );
        assert!(e(br#"[{"a": "x", "b": "y", "label": "high"}]"#).contains("record 0: label"));
        assert!(e(br#"{"positive_pairs": [["x"]]}"#).contains("positive_pairs[0]: pair"));
        assert!(e(br#"{"pairs": []}"#).contains("positive_pairs"));
        assert!(e(b"[]").contains("no pairs"));
        assert!(e(b"{\"a\": \"x\", \"b\": \"y\", \"label\": 1}\n{oops\n").contains("line 2: json"));
        assert!(e(b"just some text").contains("not a recognised pairs file"));
        assert!(e(b"[{\"a\": \"\xff\"}]").contains("UTF-8"));
    }
}
