//! Training pairs: two texts and a similarity label in [0, 1].
//!
//! Accepted shapes (detected from the content, not the file name):
//! - the seeds' `training_pairs.json`: `{"positive_pairs": [...], "negative_pairs": [...]}`, each
//!   item `[a, b]` or an object with two text fields; positives get label 1, negatives 0;
//! - a JSON list of objects (or of `[a, b, label]` arrays), also wrapped as `{"pairs": [...]}` /
//!   `{"records": [...]}`; JSON Lines (one object per line);
//! - CSV or TSV (or `;`-separated) with a header row naming the fields, RFC 4180 quoting;
//! - an STS-benchmark TSV (`genre, file, year, id, score, sentence1, sentence2`, no header):
//!   label = score / 5.
//!
//! Field names, in the spellings people use (case, spaces and dashes do not matter): texts
//! `text1`/`text2`, `text_a`/`text_b`, `ticket_a`/`ticket_b`, `sentence1`/`sentence2`, `a`/`b`; label
//! `label`, `score` or `similarity` (a number, a numeric string or a boolean). Other fields (ids,
//! sources) are ignored. Labels must lie in [0, 1]: a 0–5 score is reported, never silently rescaled.
//!
//! What a pair *is* ([`PairKind`]: a duplicate, a cause and its effect, the same fix, a hard or a
//! random negative) is optional: a `kind` field on a record, or in `training_pairs.json` the lists
//! `positive_kinds` / `negative_kinds` parallel to the pairs (the notebooks ignore extra keys).
//! Recipes that grade pairs by what they are ([`crate::train::recipe`]) read it; the label stays
//! the 0 / 1 the seeds trained on.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::load::{non_empty, Collector, Loaded, Mode, SkipReason};
use super::records::{self, kind, lookup, Raw};
use super::sts;
use crate::error::{Error, Result};

/// Labels at or above this are **positive** (similar / duplicate) pairs, below it negative: 0/1
/// labels as they are, graded labels thresholded. The one definition, used by the pair generator,
/// the losses that train on positives only, the splits and every evaluation.
pub const POSITIVE_LABEL_MIN: f64 = 0.5;

/// Whether a label counts as a positive pair (see [`POSITIVE_LABEL_MIN`]).
pub fn is_positive(label: f64) -> bool {
    label >= POSITIVE_LABEL_MIN
}

/// What a generated pair is, from the links and fields that made it (see
/// [`crate::data::generate`]). Augmented copies have the kind of the pair they were made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// A `duplicate_of` link: the same problem reported twice.
    Duplicate,
    /// A `caused_by` link: `a` is the cause, `b` the effect — related, not the same.
    Causal,
    /// Same category and same resolution, no link: the same fix, most often the same problem.
    SameFix,
    /// Same category, different problem.
    HardNegative,
    /// Different category (where there are categories), different problem.
    RandomNegative,
}

impl PairKind {
    /// Every kind, positives first.
    pub const ALL: [PairKind; 5] = [
        PairKind::Duplicate,
        PairKind::Causal,
        PairKind::SameFix,
        PairKind::HardNegative,
        PairKind::RandomNegative,
    ];

    /// The name in files (`same_fix`).
    pub fn name(self) -> &'static str {
        match self {
            PairKind::Duplicate => "duplicate",
            PairKind::Causal => "causal",
            PairKind::SameFix => "same_fix",
            PairKind::HardNegative => "hard_negative",
            PairKind::RandomNegative => "random_negative",
        }
    }

    /// The kind named `s` (case-insensitive, `-` or `_`), or `None`.
    pub fn parse(s: &str) -> Option<PairKind> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        PairKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether pairs of this kind are positives (label 1) in the seeds' recipe.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            PairKind::Duplicate | PairKind::Causal | PairKind::SameFix
        )
    }
}

/// A training pair: two texts and their target similarity in [0, 1] (the cosine loss's target;
/// losses that train on positives only keep the pairs that are [`TrainPair::is_positive`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainPair {
    /// First text.
    pub a: String,
    /// Second text.
    pub b: String,
    /// Target similarity.
    pub label: f32,
    /// What the pair is, when the file or the generator says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PairKind>,
}

impl TrainPair {
    /// A pair without a kind.
    pub fn new(a: impl Into<String>, b: impl Into<String>, label: f32) -> Self {
        TrainPair {
            a: a.into(),
            b: b.into(),
            label,
            kind: None,
        }
    }

    /// Whether this pair is a positive one (label ≥ [`POSITIVE_LABEL_MIN`]).
    pub fn is_positive(&self) -> bool {
        is_positive(self.label as f64)
    }
}

/// Field names accepted for the first text, the second text and the label.
pub const TEXT_A_FIELDS: [&str; 5] = ["text1", "text_a", "ticket_a", "sentence1", "a"];
/// See [`TEXT_A_FIELDS`].
pub const TEXT_B_FIELDS: [&str; 5] = ["text2", "text_b", "ticket_b", "sentence2", "b"];
/// See [`TEXT_A_FIELDS`].
pub const LABEL_FIELDS: [&str; 3] = ["label", "score", "similarity"];
/// Field names accepted for the pair's [`PairKind`] (optional).
pub const KIND_FIELDS: [&str; 2] = ["kind", "pair_kind"];

/// A record that is skipped (skip mode) or fails the load (strict mode).
type Bad = (SkipReason, Error);

/// Parse training pairs strictly: the first bad record is the error. See [`load_training_pairs`].
pub fn parse_training_pairs(bytes: &[u8], file: &str) -> Result<Vec<TrainPair>> {
    Ok(load_training_pairs(bytes, file, Mode::Strict)?.records)
}

/// Load training pairs from any of the accepted shapes. In [`Mode::Skip`] bad records (empty texts,
/// missing or out-of-range labels, unreadable rows, repeats of an earlier pair) are counted in the
/// report; in [`Mode::Strict`] the first one is the error. A file without a single usable pair is an
/// error either way.
pub fn load_training_pairs(bytes: &[u8], file: &str, mode: Mode) -> Result<Loaded<TrainPair>> {
    if sts::looks_like_sts(bytes) {
        return load_sts(bytes, file, mode);
    }
    let raw = records::read(bytes, file)?;
    if let Some(obj) = &raw.top_object {
        if obj.contains_key("positive_pairs") || obj.contains_key("negative_pairs") {
            return load_seeds(obj, file, mode);
        }
        if raw.records.len() == 1 && raw.records[0].loc == "line 1" {
            if let Raw::Object(o) = &raw.records[0].raw {
                if lookup(o, &TEXT_A_FIELDS).is_none() {
                    return Err(Error::data(
                        file,
                        "record 0",
                        "positive_pairs",
                        format!(
                            "a JSON object must have positive_pairs / negative_pairs, or a list \
                             of pairs under `pairs` or `records` (found keys: {})",
                            o.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
    }
    if raw.header_lacks(&TEXT_A_FIELDS) {
        return Err(Error::data(
            file,
            "line 1",
            "header",
            format!(
                "not a recognised pairs file: expected JSON (training_pairs.json or a list of \
                 objects), JSON Lines, CSV/TSV with a header naming the texts ({} / {}) and the \
                 label ({}), or an STS-benchmark TSV; the first line has: {}",
                TEXT_A_FIELDS.join(", "),
                TEXT_B_FIELDS.join(", "),
                LABEL_FIELDS.join(", "),
                raw.columns.join(", ")
            ),
        ));
    }
    let mut c = Collector::new(file, raw.format.name(), mode);
    for rec in raw.records {
        let outcome = labelled(rec.raw, file, &rec.loc).map(keyed);
        c.push(&rec.loc, outcome)?;
    }
    c.finish("pairs")
}

/// Repeats are the same two texts (in either order) with the same label.
fn keyed(p: TrainPair) -> (TrainPair, (String, String, u32)) {
    let (x, y) = if p.a <= p.b {
        (p.a.clone(), p.b.clone())
    } else {
        (p.b.clone(), p.a.clone())
    };
    let key = (x, y, p.label.to_bits());
    (p, key)
}

/// A training pair from an STS line: label = score / 5.
fn sts_pair(l: sts::StsLine) -> TrainPair {
    TrainPair::new(l.a, l.b, sts::label_of_score(l.score))
}

/// STS-benchmark TSV, line by line through [`super::sts`] (the line format's one parser).
fn load_sts(bytes: &[u8], file: &str, mode: Mode) -> Result<Loaded<TrainPair>> {
    let mut c = Collector::new(file, "sts", mode);
    for (loc, line) in sts::lines(bytes) {
        let outcome = sts::parse_line(line, file, &loc).map(|l| keyed(sts_pair(l)));
        c.push(&loc, outcome)?;
    }
    c.finish("pairs")
}

/// Read a whole STS-benchmark TSV strictly — the first bad line is the error, naming its line and
/// field — keeping repeated pairs, as the benchmark has them (`ticketsim sts`, the benches).
pub fn parse_sts(bytes: &[u8], file: &str) -> Result<Vec<TrainPair>> {
    let out = sts::lines(bytes)
        .map(|(loc, line)| {
            sts::parse_line(line, file, &loc)
                .map(sts_pair)
                .map_err(|(_, e)| e)
        })
        .collect::<Result<Vec<_>>>()?;
    if out.is_empty() {
        return Err(Error::data(file, "line 1", "columns", "no pairs in file"));
    }
    Ok(out)
}

/// The seeds' `{"positive_pairs": [...], "negative_pairs": [...]}`.
fn load_seeds(obj: &Map<String, Value>, file: &str, mode: Mode) -> Result<Loaded<TrainPair>> {
    let mut c = Collector::new(file, "training_pairs", mode);
    for (key, kinds_key, label) in [
        ("positive_pairs", "positive_kinds", 1.0),
        ("negative_pairs", "negative_kinds", 0.0),
    ] {
        let Some(items) = seed_list(obj, key, "pairs", file)? else {
            continue;
        };
        let kinds = seed_kinds(obj, kinds_key, items.len(), label > 0.5, file)?;
        for (i, item) in items.iter().enumerate() {
            let loc = format!("{key}[{i}]");
            let outcome = seed_item(item, file, &loc).map(|(a, b)| {
                keyed(TrainPair {
                    a,
                    b,
                    label,
                    kind: kinds.as_ref().map(|k| k[i]),
                })
            });
            c.push(&loc, outcome)?;
        }
    }
    c.finish("pairs")
}

/// The list under `key` (absent or null: `None`); anything else is an error naming the key.
fn seed_list<'o>(
    obj: &'o Map<String, Value>,
    key: &str,
    what: &str,
    file: &str,
) -> Result<Option<&'o Vec<Value>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(Error::data(
            file,
            key,
            key,
            format!("expected a list of {what}, found {}", kind(other)),
        )),
    }
}

/// The optional kinds list parallel to a seeds list: one kind per pair, each a positive kind for
/// `positive_pairs` and a negative one for `negative_pairs` — a wrong list is an error (a misread
/// kind would silently change what a graded recipe teaches).
fn seed_kinds(
    obj: &Map<String, Value>,
    key: &str,
    pairs: usize,
    positive: bool,
    file: &str,
) -> Result<Option<Vec<PairKind>>> {
    let Some(items) = seed_list(obj, key, "kinds", file)? else {
        return Ok(None);
    };
    if items.len() != pairs {
        return Err(Error::data(
            file,
            key,
            key,
            format!("{} kinds for {pairs} pairs: one per pair", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let k = v.as_str().and_then(PairKind::parse);
            match k {
                Some(k) if k.is_positive() == positive => Ok(k),
                _ => Err(Error::data(
                    file,
                    format!("{key}[{i}]"),
                    key,
                    format!(
                        "{v} is not a {} pair kind ({})",
                        if positive { "positive" } else { "negative" },
                        PairKind::ALL
                            .iter()
                            .filter(|k| k.is_positive() == positive)
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn seed_item(item: &Value, file: &str, loc: &str) -> std::result::Result<(String, String), Bad> {
    match item {
        Value::Array(arr) => {
            let (a, b, _) = from_array(arr, file, loc)?;
            Ok((a, b))
        }
        Value::Object(o) => texts(o, file, loc),
        other => Err(malformed(
            file,
            loc,
            "pair",
            format!(
                "expected [text_a, text_b] or an object, found {}",
                kind(other)
            ),
        )),
    }
}

/// One labelled record: an object (JSON, JSON Lines, CSV row) or `[a, b, label]`.
fn labelled(raw: Raw, file: &str, loc: &str) -> std::result::Result<TrainPair, Bad> {
    match raw {
        Raw::Bad(reason, e) => Err((reason, e)),
        Raw::Object(o) => {
            let (a, b) = texts(&o, file, loc)?;
            let (field, value) = lookup(&o, &LABEL_FIELDS).ok_or_else(|| {
                (
                    SkipReason::MissingLabel,
                    Error::data(
                        file,
                        loc,
                        "label",
                        format!("missing (one of: {})", LABEL_FIELDS.join(", ")),
                    ),
                )
            })?;
            let label = label(value, file, loc, field)?;
            let kind = match lookup(&o, &KIND_FIELDS) {
                None | Some((_, Value::Null)) => None,
                Some((_, Value::String(s))) if s.trim().is_empty() => None,
                Some((field, v)) => {
                    Some(v.as_str().and_then(PairKind::parse).ok_or_else(|| {
                        malformed(
                            file,
                            loc,
                            field,
                            format!(
                                "{v} is not a pair kind ({})",
                                PairKind::ALL.map(PairKind::name).join(", ")
                            ),
                        )
                    })?)
                }
            };
            Ok(TrainPair { a, b, label, kind })
        }
        Raw::Array(arr) => {
            let (a, b, l) = from_array(&arr, file, loc)?;
            let l = l.ok_or_else(|| {
                (
                    SkipReason::MissingLabel,
                    Error::data(
                        file,
                        loc,
                        "label",
                        "missing: expected [text_a, text_b, label]",
                    ),
                )
            })?;
            let label = label(l, file, loc, "label")?;
            Ok(TrainPair::new(a, b, label))
        }
        Raw::Other(v) => Err(malformed(
            file,
            loc,
            "pair",
            format!("expected an object, found {}", kind(&v)),
        )),
    }
}

fn malformed(file: &str, loc: &str, field: &str, msg: String) -> Bad {
    (SkipReason::Malformed, Error::data(file, loc, field, msg))
}

fn from_array<'v>(
    arr: &'v [Value],
    file: &str,
    loc: &str,
) -> std::result::Result<(String, String, Option<&'v Value>), Bad> {
    if !(2..=3).contains(&arr.len()) {
        return Err(malformed(
            file,
            loc,
            "pair",
            format!(
                "expected [text_a, text_b] or [text_a, text_b, label], found {} items",
                arr.len()
            ),
        ));
    }
    Ok((
        text(&arr[0], file, loc, "text_a")?,
        text(&arr[1], file, loc, "text_b")?,
        arr.get(2),
    ))
}

/// A text field: a non-blank string, or why not.
pub(crate) fn text(
    v: &Value,
    file: &str,
    loc: &str,
    field: &str,
) -> std::result::Result<String, Bad> {
    match v {
        Value::String(s) => non_empty(s, file, loc, field),
        other => Err(malformed(
            file,
            loc,
            field,
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

/// The two texts of an object record, by their accepted spellings. A missing text field counts
/// as an empty text: the record has nothing to compare.
pub(crate) fn texts(
    o: &Map<String, Value>,
    file: &str,
    loc: &str,
) -> std::result::Result<(String, String), Bad> {
    let get = |names: &[&str]| match lookup(o, names) {
        Some((field, v)) => text(v, file, loc, field),
        None => Err((
            SkipReason::EmptyText,
            Error::data(
                file,
                loc,
                names[0],
                format!("missing (one of: {})", names.join(", ")),
            ),
        )),
    };
    Ok((get(&TEXT_A_FIELDS)?, get(&TEXT_B_FIELDS)?))
}

fn label(v: &Value, file: &str, loc: &str, field: &str) -> std::result::Result<f32, Bad> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) if s.trim().is_empty() => {
            return Err((
                SkipReason::MissingLabel,
                Error::data(file, loc, field, "empty"),
            ))
        }
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(1.0),
            "false" => Some(0.0),
            t => t.parse::<f64>().ok(),
        },
        Value::Null => {
            return Err((
                SkipReason::MissingLabel,
                Error::data(file, loc, field, "null"),
            ))
        }
        _ => None,
    };
    match x {
        Some(x) if (0.0..=1.0).contains(&x) => Ok(x as f32),
        Some(x) if x.is_finite() => Err((
            SkipReason::LabelOutOfRange,
            Error::data(
                file,
                loc,
                field,
                format!(
                    "{x} is outside [0, 1]{}",
                    if x > 1.0 && x <= 5.0 {
                        " (a 0–5 STS score? divide by 5)"
                    } else {
                        ""
                    }
                ),
            ),
        )),
        _ => Err(malformed(
            file,
            loc,
            field,
            format!("expected a number, found {v}"),
        )),
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
    fn kinds_are_read_and_checked() {
        let ok = br#"{"positive_pairs": [["a", "b"], ["c", "d"]], "negative_pairs": [["a", "d"]],
            "positive_kinds": ["duplicate", "Same-Fix"], "negative_kinds": ["hard_negative"]}"#;
        let p = parse_training_pairs(ok, "f.json").unwrap();
        let kinds: Vec<_> = p.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                Some(PairKind::Duplicate),
                Some(PairKind::SameFix),
                Some(PairKind::HardNegative)
            ]
        );
        let e = |b: &[u8]| parse_training_pairs(b, "f.json").unwrap_err().to_string();
        let short =
            br#"{"positive_pairs": [["a", "b"], ["c", "d"]], "positive_kinds": ["duplicate"]}"#;
        assert!(e(short).contains("1 kinds for 2 pairs"), "{}", e(short));
        let wrong = br#"{"positive_pairs": [["a", "b"]], "positive_kinds": ["hard_negative"]}"#;
        let msg = e(wrong);
        assert!(
            msg.contains("f.json")
                && msg.contains("positive_kinds[0]")
                && msg.contains("not a positive"),
            "{msg}"
        );
        // On records: a `kind` field; blank is no kind, an unknown one is an error naming it.
        let list = br#"[{"text_a": "a", "text_b": "b", "label": 1, "kind": "causal"},
            {"text_a": "c", "text_b": "d", "label": 0, "kind": ""}]"#;
        let p = parse_training_pairs(list, "l.json").unwrap();
        assert_eq!((p[0].kind, p[1].kind), (Some(PairKind::Causal), None));
        let bad = br#"[{"text_a": "a", "text_b": "b", "label": 1, "kind": "cousin"}]"#;
        assert!(e(bad).contains("not a pair kind"), "{}", e(bad));
        // Without kinds, as the seeds wrote them: no kind.
        let seeds = br#"{"positive_pairs": [["a", "b"]], "negative_pairs": [["a", "c"]]}"#;
        assert!(parse_training_pairs(seeds, "s.json")
            .unwrap()
            .iter()
            .all(|p| p.kind.is_none()));
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
        assert!(e(br#"{"stuff": []}"#).contains("positive_pairs"));
        assert!(e(b"[]").contains("no pairs"));
        assert!(e(b"{\"a\": \"x\", \"b\": \"y\", \"label\": 1}\n{oops\n").contains("line 2: json"));
        assert!(e(b"just some text").contains("not a recognised pairs file"));
        assert!(e(b"[{\"a\": \"\xff\"}]").contains("UTF-8"));
    }

    #[test]
    fn csv_with_header_and_skip_mode() {
        let csv = b"Text A,Text B,Label\n\
                    \"vpn, down\",vpn broken,1\n\
                    printer,password,0\n\
                    ,password,0\n\
                    a,b,\n\
                    a,b,4\n\
                    a,\xffb,1\n\
                    vpn broken,\"vpn, down\",1\n\
                    a,b,high\n\
                    a,b,0.5,extra\n";
        let l = load_training_pairs(csv, "p.csv", Mode::Skip).unwrap();
        assert_eq!(labels(&l.records), vec![1.0, 0.0]);
        assert_eq!(l.records[0].a, "vpn, down");
        let r = &l.report;
        assert_eq!((r.format.as_str(), r.read, r.kept), ("csv", 9, 2));
        for (reason, n) in [
            (SkipReason::EmptyText, 1),
            (SkipReason::MissingLabel, 1),
            (SkipReason::LabelOutOfRange, 1),
            (SkipReason::NotUtf8, 1),
            (SkipReason::DuplicateRow, 1),
            (SkipReason::Malformed, 2),
        ] {
            assert_eq!(r.skipped.get(&reason), Some(&n), "{reason:?}: {r:?}");
        }
        let msgs: Vec<&str> = r.examples.iter().map(|s| s.message.as_str()).collect();
        assert!(
            msgs.contains(&"p.csv: line 4: text_a: empty text"),
            "{msgs:?}"
        );
        assert!(msgs.contains(&"p.csv: line 5: label: empty"), "{msgs:?}");
        assert!(
            msgs.contains(
                &"p.csv: line 6: label: 4 is outside [0, 1] (a 0–5 STS score? divide by 5)"
            ),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&"p.csv: line 8: record: repeats line 2"),
            "{msgs:?}"
        );
        assert_eq!(
            r.summary(),
            "p.csv: kept 2 of 9 records; skipped 7 (1 empty text, 1 missing label, 1 label out of \
             range, 1 not UTF-8, 1 duplicate row, 2 malformed)"
        );
        let e = load_training_pairs(csv, "p.csv", Mode::Strict).unwrap_err();
        assert_eq!(e.to_string(), "p.csv: line 4: text_a: empty text");

        // TSV, and the seeds' shape in skip mode.
        let tsv = b"sentence1\tsentence2\tscore\nx\ty\t0.5\n";
        assert_eq!(
            labels(&parse_training_pairs(tsv, "p.tsv").unwrap()),
            vec![0.5]
        );
        let seeds = br#"{"positive_pairs": [["a", "b"], ["a", ""], ["b", "a"]], "negative_pairs": [["a", "b"]]}"#;
        let l = load_training_pairs(seeds, "t.json", Mode::Skip).unwrap();
        assert_eq!(labels(&l.records), vec![1.0, 0.0]);
        assert_eq!(l.report.skipped_total(), 2);
        // STS: scores outside 0–5 are out of range, and lines are counted like the other formats.
        let sts = b"g\tf\t2012\t1\t5.0\tA.\tB.\ng\tf\t2012\t2\t7\tA.\tC.\n";
        let l = load_training_pairs(sts, "s.tsv", Mode::Skip).unwrap();
        assert_eq!(l.report.skipped[&SkipReason::LabelOutOfRange], 1);
        assert_eq!(
            l.report.examples[0].message,
            "s.tsv: line 2: score (column 5): 7 is outside [0, 5]"
        );
    }
}
