//! Relationship pairs: two tickets and how they relate — duplicate, causal, related or none.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::load::{Collector, Loaded, Mode, SkipReason};
use super::pairs::{texts, TEXT_A_FIELDS, TEXT_B_FIELDS};
use super::records::{self, as_text, lookup, Raw};
use crate::error::{Error, Result};

/// How two tickets relate. `Causal` is directed: in a [`RelationshipPair`], `a` caused `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// The same problem reported twice.
    Duplicate,
    /// `a` caused `b`.
    Causal,
    /// Connected (same service, same change, same root area) but not the same problem.
    Related,
    /// Unrelated.
    None,
}

impl Relation {
    /// Every class, in the fixed order reports and classifiers use (class index = position).
    pub const ALL: [Relation; 4] = [
        Relation::Duplicate,
        Relation::Causal,
        Relation::Related,
        Relation::None,
    ];

    /// The lowercase name written to files: duplicate, causal, related, none.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Duplicate => "duplicate",
            Relation::Causal => "causal",
            Relation::Related => "related",
            Relation::None => "none",
        }
    }

    /// Position in [`Relation::ALL`].
    pub fn index(self) -> usize {
        Relation::ALL
            .iter()
            .position(|&r| r == self)
            .expect("in ALL")
    }
}

/// Two ticket texts and their relationship.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationshipPair {
    /// First ticket's text (the cause, for [`Relation::Causal`]).
    pub a: String,
    /// Second ticket's text (the effect, for [`Relation::Causal`]).
    pub b: String,
    /// The label.
    pub relation: Relation,
    /// Id of the first ticket, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_a: Option<String>,
    /// Id of the second ticket, when the file has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_b: Option<String>,
}

/// Field names accepted for the relationship label (texts as in [`super::pairs::TEXT_A_FIELDS`]).
pub const RELATION_FIELDS: [&str; 5] = [
    "relationship",
    "relation",
    "label",
    "relationship_type",
    "type",
];
/// Field names accepted for the first ticket's id (optional).
pub const ID_A_FIELDS: [&str; 4] = ["id_a", "a_id", "number_a", "ticket_a_id"];
/// Field names accepted for the second ticket's id (optional).
pub const ID_B_FIELDS: [&str; 4] = ["id_b", "b_id", "number_b", "ticket_b_id"];

impl Relation {
    /// Read a relationship name, case-insensitively, with the synonyms people write: `duplicate`
    /// (`dup`, `duplicates`, `duplicate_of`), `causal` (`cause`, `causes`, `caused_by`), `related`
    /// (`related_to`, `relates_to`), `none` (`unrelated`, `no_relation`, `not_related`, `negative`).
    pub fn parse(s: &str) -> Option<Relation> {
        let s = s.trim().to_lowercase().replace([' ', '-'], "_");
        Some(match s.as_str() {
            "duplicate" | "dup" | "duplicates" | "duplicate_of" => Relation::Duplicate,
            "causal" | "cause" | "causes" | "caused_by" => Relation::Causal,
            "related" | "related_to" | "relates_to" => Relation::Related,
            "none" | "unrelated" | "no_relation" | "not_related" | "negative" => Relation::None,
            _ => return None,
        })
    }
}

/// Load relationship pairs: JSON (a list of objects, or wrapped under `pairs` / `records`), JSON
/// Lines, or CSV/TSV with a header. Each record has two texts and a relationship name (see
/// [`Relation::parse`]); ids are optional. In [`Mode::Skip`] bad records (empty texts, missing or
/// unknown relationship, unreadable rows, repeats) are counted; in [`Mode::Strict`] the first one is
/// the error. The same two texts with two different relationships are kept and noted.
pub fn load_relationship_pairs(
    bytes: &[u8],
    file: &str,
    mode: Mode,
) -> Result<Loaded<RelationshipPair>> {
    let raw = records::read(bytes, file)?;
    if raw.header_lacks(&TEXT_A_FIELDS) {
        return Err(Error::data(
            file,
            "line 1",
            "header",
            format!(
                "not a recognised relationship-pairs file: the header must name the texts ({} / \
                 {}) and the relationship ({}); the first line has: {}",
                TEXT_A_FIELDS.join(", "),
                TEXT_B_FIELDS.join(", "),
                RELATION_FIELDS.join(", "),
                raw.columns.join(", ")
            ),
        ));
    }
    let mut c = Collector::new(file, raw.format.name(), mode);
    let mut labels_of: HashMap<(String, String), Vec<Relation>> = HashMap::new();
    for rec in raw.records {
        let outcome = relationship(rec.raw, file, &rec.loc).map(|p| {
            // Causal pairs are directed; the others are the same pair in either order.
            let key = if p.relation == Relation::Causal || p.a <= p.b {
                (p.a.clone(), p.b.clone(), p.relation)
            } else {
                (p.b.clone(), p.a.clone(), p.relation)
            };
            (p, key)
        });
        if let Ok((p, _)) = &outcome {
            let pair = if p.a <= p.b {
                (p.a.clone(), p.b.clone())
            } else {
                (p.b.clone(), p.a.clone())
            };
            let seen = labels_of.entry(pair).or_default();
            if !seen.contains(&p.relation) {
                seen.push(p.relation);
            }
        }
        c.push(&rec.loc, outcome)?;
    }
    let conflicting = labels_of.values().filter(|r| r.len() > 1).count();
    if conflicting > 0 {
        c.note(format!(
            "{conflicting} pair(s) of texts carry more than one relationship; all are kept"
        ));
    }
    c.finish("relationship pairs")
}

fn relationship(
    raw: Raw,
    file: &str,
    loc: &str,
) -> std::result::Result<RelationshipPair, (SkipReason, Error)> {
    let o = match raw {
        Raw::Bad(reason, e) => return Err((reason, e)),
        Raw::Object(o) => o,
        Raw::Array(_) | Raw::Other(_) => {
            return Err((
                SkipReason::Malformed,
                Error::data(
                    file,
                    loc,
                    "pair",
                    "expected an object with two texts and a relationship",
                ),
            ))
        }
    };
    let (a, b) = texts(&o, file, loc)?;
    let (field, value) = lookup(&o, &RELATION_FIELDS).ok_or_else(|| {
        (
            SkipReason::MissingLabel,
            Error::data(
                file,
                loc,
                "relationship",
                format!("missing (one of: {})", RELATION_FIELDS.join(", ")),
            ),
        )
    })?;
    let name = match value {
        Value::String(s) if s.trim().is_empty() => None,
        Value::Null => None,
        v => Some(as_text(v).unwrap_or_else(|| v.to_string())),
    };
    let Some(name) = name else {
        return Err((
            SkipReason::MissingLabel,
            Error::data(file, loc, field, "empty"),
        ));
    };
    let relation = Relation::parse(&name).ok_or_else(|| {
        (
            SkipReason::UnknownRelationship,
            Error::data(
                file,
                loc,
                field,
                format!(
                    "unknown relationship `{name}` (expected duplicate, causal, related or none)"
                ),
            ),
        )
    })?;
    let id = |names: &[&str]| lookup(&o, names).and_then(|(_, v)| as_text(v));
    Ok(RelationshipPair {
        a,
        b,
        relation,
        id_a: id(&ID_A_FIELDS),
        id_b: id(&ID_B_FIELDS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relations(l: &Loaded<RelationshipPair>) -> Vec<Relation> {
        l.records.iter().map(|p| p.relation).collect()
    }

    #[test]
    fn shapes_and_spellings() {
        let json = br#"[{"ticket_a": "vpn down", "ticket_b": "vpn broken", "relationship": "Duplicate", "id_a": 7},
                        {"text1": "switch died", "text2": "vpn down", "relation": "caused_by"},
                        {"a": "x", "b": "y", "label": "RELATED"},
                        {"sentence1": "p", "sentence2": "q", "type": "Unrelated"}]"#;
        let l = load_relationship_pairs(json, "r.json", Mode::Strict).unwrap();
        use Relation::*;
        assert_eq!(relations(&l), [Duplicate, Causal, Related, None]);
        assert_eq!(l.records[0].id_a.as_deref(), Some("7"));
        assert_eq!(l.report.format, "json");

        let csv = b"text_a,text_b,relationship\n\"a, 1\",b,none\nc,d,causal\n";
        let l = load_relationship_pairs(csv, "r.csv", Mode::Strict).unwrap();
        assert_eq!(relations(&l), [None, Causal]);
        assert_eq!(l.records[0].a, "a, 1");

        let tsv = b"text_a\ttext_b\tlabel\nc\td\tduplicate\n";
        assert_eq!(
            relations(&load_relationship_pairs(tsv, "r.tsv", Mode::Strict).unwrap()),
            [Duplicate]
        );
        let jsonl = b"{\"a\": \"x\", \"b\": \"y\", \"relationship\": \"related\"}\n";
        assert_eq!(
            relations(&load_relationship_pairs(jsonl, "r.jsonl", Mode::Strict).unwrap()),
            [Related]
        );
    }

    #[test]
    fn skip_mode_counts_every_reason() {
        let csv = b"text_a,text_b,relationship\n\
                    a,b,duplicate\n\
                    ,b,none\n\
                    a,b,\n\
                    a,b,sibling\n\
                    a,\xff,none\n\
                    b,a,duplicate\n\
                    a,b,causal\n\
                    b,a,causal\n\
                    only,two\n";
        let l = load_relationship_pairs(csv, "r.csv", Mode::Skip).unwrap();
        assert_eq!(
            relations(&l),
            [Relation::Duplicate, Relation::Causal, Relation::Causal]
        );
        let r = &l.report;
        assert_eq!((r.read, r.kept, r.skipped_total()), (9, 3, 6));
        for (reason, n) in [
            (SkipReason::EmptyText, 1),
            (SkipReason::MissingLabel, 1),
            (SkipReason::UnknownRelationship, 1),
            (SkipReason::NotUtf8, 1),
            (SkipReason::DuplicateRow, 1),
            (SkipReason::Malformed, 1),
        ] {
            assert_eq!(r.skipped.get(&reason), Some(&n), "{reason:?}");
        }
        assert!(r.summary().contains("kept 3 of 9"), "{}", r.summary());
        assert!(
            r.notes[0].contains("more than one relationship"),
            "{:?}",
            r.notes
        );
        let dup = r
            .examples
            .iter()
            .find(|s| s.reason == SkipReason::DuplicateRow)
            .unwrap();
        assert_eq!(dup.message, "r.csv: line 7: record: repeats line 2");

        let e = load_relationship_pairs(csv, "r.csv", Mode::Strict)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "r.csv: line 3: text_a: empty text");
        let e = load_relationship_pairs(
            b"[{\"a\": \"x\", \"b\": \"y\", \"relation\": \"sibling\"}]",
            "r.json",
            Mode::Strict,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("r.json: record 0: relation: unknown relationship `sibling`"),
            "{e}"
        );
        let e = load_relationship_pairs(b"x,y\n1,2\n", "r.csv", Mode::Skip)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a recognised relationship-pairs file"),
            "{e}"
        );
        let e = load_relationship_pairs(b"a,b,relation\n,,none\n", "r.csv", Mode::Skip)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no usable relationship pairs") && e.contains("1 empty text"),
            "{e}"
        );
    }
}
