//! The shapes files come in, read into untyped records: a JSON document (a list, or an object that
//! wraps a list), JSON Lines, or CSV / TSV / semicolon-separated text with a header row (RFC 4180
//! quoting, so cells may hold commas, quotes and newlines). The typed loaders ([`super::pairs`],
//! [`super::relationships`], [`super::incidents`]) look fields up by their accepted spellings.
//!
//! A record that cannot even be read (a broken JSON line, a CSV row with the wrong number of cells,
//! bytes that are not UTF-8) comes back as [`Raw::Bad`], so the loader can skip it and count it
//! instead of losing the whole file.

use serde_json::{Map, Value};

use super::load::SkipReason;
use crate::error::{Error, Result};

/// The format detected from a file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// One JSON document.
    Json,
    /// One JSON object per line.
    JsonLines,
    /// Delimited text with a header row; the delimiter byte.
    Delimited(u8),
}

impl Format {
    /// The name used in load reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::JsonLines => "jsonl",
            Format::Delimited(b'\t') => "tsv",
            Format::Delimited(b';') => "csv (semicolon)",
            Format::Delimited(_) => "csv",
        }
    }
}

/// One record as read.
#[derive(Clone, Debug)]
pub(crate) enum Raw {
    /// A JSON object, or a CSV row as header → cell (cells are strings, empty ones included, so an
    /// error can name the column that is empty).
    Object(Map<String, Value>),
    /// A JSON array record, e.g. `[text_a, text_b, label]`.
    Array(Vec<Value>),
    /// Any other JSON value (a number, a string, null): the loader says what it expected.
    Other(Value),
    /// Unreadable: why, and the error naming file, record and field.
    Bad(SkipReason, Error),
}

/// A record and where it is, e.g. `record 3` (JSON list index) or `line 12` (JSON Lines, CSV).
#[derive(Clone, Debug)]
pub(crate) struct Located {
    /// Where the record is, as the user would look for it.
    pub loc: String,
    /// The record.
    pub raw: Raw,
}

/// A whole file's records.
#[derive(Clone, Debug)]
pub(crate) struct RawFile {
    /// What the content looked like.
    pub format: Format,
    /// For a JSON document that is an object: the object itself (callers look for wrapper keys
    /// such as `positive_pairs` before [`RawFile::records`] is used).
    pub top_object: Option<Map<String, Value>>,
    /// The records, in file order.
    pub records: Vec<Located>,
    /// Delimited files: the header's column names as written (normalised), for "which columns are
    /// there" notes and for "not a recognised file" errors.
    pub columns: Vec<String>,
}

impl RawFile {
    /// Whether this is a delimited file whose header names none of `names` (JSON records are
    /// checked record by record instead).
    pub(crate) fn header_lacks(&self, names: &[&str]) -> bool {
        matches!(self.format, Format::Delimited(_))
            && !self.columns.iter().any(|c| names.contains(&c.as_str()))
    }
}

/// Keys under which JSON exports wrap their list of records (ServiceNow's REST API uses `result`,
/// its JSON export `records`).
const WRAPPER_KEYS: [&str; 6] = ["records", "result", "data", "items", "incidents", "pairs"];

/// Read `bytes` into records. Errors only when the file as a whole is unreadable (a JSON document
/// with a syntax error, an empty file); single bad records come back as [`Raw::Bad`].
pub(crate) fn read(bytes: &[u8], file: &str) -> Result<RawFile> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return Err(Error::data(file, "line 1", "file", "the file is empty"));
    };
    match bytes[first] {
        b'[' | b'{' => read_json(bytes, file),
        _ => read_delimited(bytes, file),
    }
}

fn read_json(bytes: &[u8], file: &str) -> Result<RawFile> {
    // A document with a stray invalid byte inside one string is still worth reading: decode lossily
    // and mark the records that contain the replacement character as not UTF-8.
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    let trimmed = text.trim_start();
    match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Array(items)) => Ok(RawFile {
            format: Format::Json,
            top_object: None,
            records: items
                .into_iter()
                .enumerate()
                .map(|(i, v)| located(format!("record {i}"), v, lossy, file))
                .collect(),
            columns: Vec::new(),
        }),
        Ok(Value::Object(obj)) => {
            let wrapped = WRAPPER_KEYS.iter().find_map(|k| match obj.get(*k) {
                Some(Value::Array(items)) => Some((*k, items.clone())),
                _ => None,
            });
            let records = match wrapped {
                Some((key, items)) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| located(format!("{key}[{i}]"), v, lossy, file))
                    .collect(),
                // A lone object: a one-line JSON Lines file.
                None => vec![located(
                    "line 1".to_string(),
                    Value::Object(obj.clone()),
                    lossy,
                    file,
                )],
            };
            Ok(RawFile {
                format: Format::Json,
                top_object: Some(obj),
                records,
                columns: Vec::new(),
            })
        }
        Ok(other) => Err(Error::data(
            file,
            "record 0",
            "json",
            format!("expected a list or an object, found {}", kind(&other)),
        )),
        // Several objects one after the other: JSON Lines. If not a single line reads as JSON, the
        // file was meant as one document and the document's syntax error is the useful message.
        Err(e) if trimmed.starts_with('{') => {
            let lines = read_json_lines(bytes, file);
            if lines.records.iter().any(|r| !matches!(r.raw, Raw::Bad(..))) {
                Ok(lines)
            } else {
                Err(json_error(file, &e))
            }
        }
        Err(e) => Err(json_error(file, &e)),
    }
}

fn json_error(file: &str, e: &serde_json::Error) -> Error {
    Error::data(
        file,
        format!("line {}", e.line()),
        "json",
        format!("not valid JSON ({e})"),
    )
}

fn read_json_lines(bytes: &[u8], file: &str) -> RawFile {
    let mut records = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let loc = format!("line {}", i + 1);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let raw = match std::str::from_utf8(line) {
            Err(e) => Raw::Bad(
                SkipReason::NotUtf8,
                Error::data(
                    file,
                    &loc,
                    "text",
                    format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to()),
                ),
            ),
            Ok(s) => match serde_json::from_str::<Value>(s) {
                Ok(v) => return_raw(v),
                Err(e) => Raw::Bad(
                    SkipReason::Malformed,
                    Error::data(file, &loc, "json", format!("not valid JSON ({e})")),
                ),
            },
        };
        records.push(Located { loc, raw });
    }
    RawFile {
        format: Format::JsonLines,
        top_object: None,
        records,
        columns: Vec::new(),
    }
}

fn return_raw(v: Value) -> Raw {
    match v {
        Value::Object(o) => Raw::Object(o),
        Value::Array(a) => Raw::Array(a),
        other => Raw::Other(other),
    }
}

fn located(loc: String, v: Value, lossy: bool, file: &str) -> Located {
    let raw = if lossy && contains_replacement(&v) {
        Raw::Bad(
            SkipReason::NotUtf8,
            Error::data(
                file,
                &loc,
                "text",
                "not valid UTF-8 (the file has invalid bytes inside this record)",
            ),
        )
    } else {
        return_raw(v)
    };
    Located { loc, raw }
}

fn contains_replacement(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\u{FFFD}'),
        Value::Array(a) => a.iter().any(contains_replacement),
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| k.contains('\u{FFFD}') || contains_replacement(v)),
        _ => false,
    }
}

/// The delimiter of a header line: the most frequent of tab, comma and semicolon outside quotes
/// (tab wins ties: texts contain commas far more often than tabs).
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b'\t' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b';' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delims = [b'\t', b',', b';'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(1);
    if counts[best] == 0 {
        b','
    } else {
        delims[best]
    }
}

/// Line numbers of byte offsets, counted incrementally (offsets only grow). csv's own line count
/// does not count newlines inside quoted cells, so it would point at the wrong line of the file.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line a record begins on, given csv's record position: csv places it just after
    /// the previous record's first terminator byte, so the rest of that line ending and any blank
    /// lines are skipped first.
    fn at(&mut self, offset: u64) -> usize {
        let mut offset = (offset as usize).min(self.bytes.len());
        offset += self.bytes[offset..]
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if offset >= self.offset {
            self.line += self.bytes[self.offset..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = offset;
        }
        self.line
    }
}

/// A column name as loaders compare it: trimmed, lowercase, spaces and dashes as underscores, so
/// `Short description`, `short-description` and `SHORT_DESCRIPTION` are one field.
pub(crate) fn normalise_key(key: &str) -> String {
    key.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-'], "_")
}

fn read_delimited(bytes: &[u8], file: &str) -> Result<RawFile> {
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let delimiter = sniff_delimiter(&bytes[..header_end]);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = reader.byte_records();
    let header = match rows.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            return Err(Error::data(
                file,
                "line 1",
                "header",
                format!("unreadable ({e})"),
            ))
        }
        None => return Err(Error::data(file, "line 1", "file", "the file is empty")),
    };
    let mut columns = Vec::with_capacity(header.len());
    for (i, cell) in header.iter().enumerate() {
        let name = std::str::from_utf8(cell).map_err(|_| {
            Error::data(
                file,
                "line 1",
                format!("column {}", i + 1),
                "header is not valid UTF-8",
            )
        })?;
        columns.push(normalise_key(name));
    }
    let mut records = Vec::new();
    let mut lines = LineCounter::new(bytes);
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let loc = match e.position() {
                    Some(p) => format!("line {}", lines.at(p.byte())),
                    None => format!("row {}", records.len() + 2),
                };
                records.push(Located {
                    raw: Raw::Bad(
                        SkipReason::Malformed,
                        Error::data(file, &loc, "row", format!("unreadable ({e})")),
                    ),
                    loc,
                });
                continue;
            }
        };
        let loc = match row.position() {
            Some(p) => format!("line {}", lines.at(p.byte())),
            None => format!("row {}", records.len() + 2),
        };
        // A blank line inside the data reads as one empty cell: not a record.
        if row.len() == 1 && row[0].iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        if row.len() != columns.len() {
            records.push(Located {
                raw: Raw::Bad(
                    SkipReason::Malformed,
                    Error::data(
                        file,
                        &loc,
                        "row",
                        format!(
                            "expected {} cells (as in the header), found {}",
                            columns.len(),
                            row.len()
                        ),
                    ),
                ),
                loc,
            });
            continue;
        }
        let mut obj = Map::new();
        let mut bad = None;
        for (name, cell) in columns.iter().zip(row.iter()) {
            match std::str::from_utf8(cell) {
                Ok(s) => {
                    obj.entry(name.clone())
                        .or_insert_with(|| Value::String(s.to_string()));
                }
                Err(e) => {
                    bad = Some(Error::data(
                        file,
                        &loc,
                        name,
                        format!("not valid UTF-8 (byte {} of the cell)", e.valid_up_to()),
                    ));
                    break;
                }
            }
        }
        let raw = match bad {
            Some(e) => Raw::Bad(SkipReason::NotUtf8, e),
            None => Raw::Object(obj),
        };
        records.push(Located { loc, raw });
    }
    Ok(RawFile {
        format: Format::Delimited(delimiter),
        top_object: None,
        records,
        columns,
    })
}

/// The first of `names` present in `obj` (keys compared after [`normalise_key`]), with the key as
/// written in the file.
pub(crate) fn lookup<'o>(
    obj: &'o Map<String, Value>,
    names: &[&str],
) -> Option<(&'o str, &'o Value)> {
    // Exact keys first (the common case, no allocation), then normalised ones.
    names
        .iter()
        .find_map(|n| obj.get_key_value(*n))
        .or_else(|| {
            names
                .iter()
                .find_map(|n| obj.iter().find(|(k, _)| normalise_key(k) == *n))
        })
        .map(|(k, v)| (k.as_str(), v))
}

/// A JSON value's kind in words, for "expected X, found Y" messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A text-ish cell as a string: strings as written, numbers and booleans printed (ids are often
/// numbers); `None` for null, lists and objects.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(f: &RawFile) -> Vec<&Map<String, Value>> {
        f.records
            .iter()
            .filter_map(|r| match &r.raw {
                Raw::Object(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn csv_with_quotes_newlines_crlf_and_bom() {
        let csv = b"\xEF\xBB\xBFNumber,Short Description,description\r\n\
                    INC1,\"VPN, again\",\"line one\nline \"\"two\"\"\"\r\n\
                    \r\n\
                    INC2,printer,\r\n";
        let f = read(csv, "x.csv").unwrap();
        assert_eq!(f.format, Format::Delimited(b','));
        assert_eq!(f.columns, ["number", "short_description", "description"]);
        let o = objects(&f);
        assert_eq!(o.len(), 2);
        assert_eq!(o[0]["short_description"], "VPN, again");
        assert_eq!(o[0]["description"], "line one\nline \"two\"");
        assert_eq!(o[1]["description"], "");
        assert_eq!(f.records[1].loc, "line 5");
    }

    #[test]
    fn tsv_and_semicolons_are_sniffed() {
        let f = read(b"a\tb\n\"x, y\"\tz\n", "t.tsv").unwrap();
        assert_eq!(f.format, Format::Delimited(b'\t'));
        assert_eq!(objects(&f)[0]["a"], "x, y");
        let f = read(b"a;b\nx;y\n", "s.csv").unwrap();
        assert_eq!(f.format, Format::Delimited(b';'));
    }

    #[test]
    fn bad_rows_are_records_not_file_errors() {
        let f = read(b"a,b\nx,y\nonly-one\nok,\xff\xfe\n", "b.csv").unwrap();
        let bad: Vec<(SkipReason, String)> = f
            .records
            .iter()
            .filter_map(|r| match &r.raw {
                Raw::Bad(reason, e) => Some((*reason, e.to_string())),
                _ => None,
            })
            .collect();
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].0, SkipReason::Malformed);
        assert!(
            bad[0].1.starts_with("b.csv: line 3: row: expected 2 cells"),
            "{}",
            bad[0].1
        );
        assert_eq!(bad[1].0, SkipReason::NotUtf8);
        assert!(
            bad[1].1.starts_with("b.csv: line 4: b: not valid UTF-8"),
            "{}",
            bad[1].1
        );
    }

    #[test]
    fn json_shapes() {
        let f = read(br#"{"result": [{"a": 1}, 2]}"#, "r.json").unwrap();
        assert_eq!(f.records[0].loc, "result[0]");
        assert!(matches!(f.records[1].raw, Raw::Other(_)));
        let f = read(b"{\"a\": 1}\nnot json\n\n{\"a\": \"\xff\"}\n", "l.jsonl").unwrap();
        assert_eq!(f.format, Format::JsonLines);
        let reasons: Vec<_> = f
            .records
            .iter()
            .map(|r| match &r.raw {
                Raw::Bad(reason, _) => Some(*reason),
                _ => None,
            })
            .collect();
        assert_eq!(
            reasons,
            [None, Some(SkipReason::Malformed), Some(SkipReason::NotUtf8)]
        );
        assert_eq!(f.records[2].loc, "line 4");
        // An invalid byte inside one record of a JSON list spoils that record only.
        let f = read(b"[{\"a\": \"ok\"}, {\"a\": \"x\xffy\"}]", "j.json").unwrap();
        assert!(matches!(f.records[0].raw, Raw::Object(_)));
        assert!(matches!(f.records[1].raw, Raw::Bad(SkipReason::NotUtf8, _)));
        let e = read(b"[{\"a\": 1},\n oops]", "j.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("j.json: line 2: json: not valid JSON"), "{e}");
        assert!(read(b"  \n", "e.csv")
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }

    #[test]
    fn lookup_normalises_keys() {
        let o: Map<String, Value> =
            serde_json::from_str(r#"{"Short Description": "x", "id": 7}"#).unwrap();
        assert_eq!(
            lookup(&o, &["title", "short_description"]).unwrap().0,
            "Short Description"
        );
        assert_eq!(
            as_text(lookup(&o, &["number", "id"]).unwrap().1).unwrap(),
            "7"
        );
        assert!(lookup(&o, &["category"]).is_none());
    }
}
