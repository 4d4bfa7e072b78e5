//! Link files: pairs of incident ids that are the same problem, kept apart from the incidents —
//! GitBugs ships its duplicate links this way (`pairs-test.json`: `id_a`, `id_b`, `label`), and
//! teams often export "duplicate of" relations as a separate table.
//!
//! A record names two ids and, optionally, a label: a record is a link when it has no label or its
//! label is positive (≥ 0.5, the crate's one definition, [`super::pairs::is_positive`]); a record
//! labelled negative is read and left out (it says "these two are not the same problem").
//!
//! | field | accepted names |
//! |---|---|
//! | first id | id_a, id1, source, incident_a, from |
//! | second id | id_b, id2, target, incident_b, to |
//! | label (optional) | label, score, similarity |

use super::incidents::Incident;
use super::load::{Collector, Loaded, Mode, SkipReason};
use super::pairs::{is_positive, LABEL_FIELDS};
use super::records::{self, as_text, kind, lookup, Raw};
use crate::error::{Error, Result};

/// Accepted names of a link's first id.
pub const ID_A_FIELDS: [&str; 5] = ["id_a", "id1", "source", "incident_a", "from"];
/// Accepted names of a link's second id.
pub const ID_B_FIELDS: [&str; 5] = ["id_b", "id2", "target", "incident_b", "to"];

/// One link between two incidents, by id (undirected).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    /// One incident's id.
    pub a: String,
    /// The other incident's id.
    pub b: String,
}

/// What one record is: a link, or a pair labelled "not the same problem".
enum Row {
    Link(Link),
    Negative,
}

fn id_field(
    obj: &serde_json::Map<String, serde_json::Value>,
    names: &[&str],
    file: &str,
    loc: &str,
) -> Result<String> {
    let Some((key, v)) = lookup(obj, names) else {
        return Err(Error::data(
            file,
            loc,
            names[0],
            format!("missing (accepted names: {})", names.join(", ")),
        ));
    };
    match as_text(v).map(|s| s.trim().to_string()) {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(Error::data(file, loc, key, "empty id")),
        None => Err(Error::data(
            file,
            loc,
            key,
            format!("expected an id, found {}", kind(v)),
        )),
    }
}

fn row(raw: Raw, file: &str, loc: &str) -> std::result::Result<Row, (SkipReason, Error)> {
    let obj = match raw {
        Raw::Object(o) => o,
        Raw::Bad(reason, e) => return Err((reason, e)),
        Raw::Array(_) | Raw::Other(_) => {
            return Err((
                SkipReason::Malformed,
                Error::data(file, loc, "record", "expected an object with id_a and id_b"),
            ))
        }
    };
    let a = id_field(&obj, &ID_A_FIELDS, file, loc).map_err(|e| (SkipReason::Malformed, e))?;
    let b = id_field(&obj, &ID_B_FIELDS, file, loc).map_err(|e| (SkipReason::Malformed, e))?;
    if let Some((key, v)) = lookup(&obj, &LABEL_FIELDS) {
        let label = match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) if s.trim().is_empty() => None,
            serde_json::Value::String(s) => Some(s.trim().parse::<f64>().map_err(|_| {
                (
                    SkipReason::MissingLabel,
                    Error::data(file, loc, key, format!("not a number: {s:?}")),
                )
            })?),
            serde_json::Value::Null => None,
            other => {
                return Err((
                    SkipReason::MissingLabel,
                    Error::data(
                        file,
                        loc,
                        key,
                        format!("expected a number, found {}", kind(other)),
                    ),
                ))
            }
        };
        if label.is_some_and(|l| !is_positive(l)) {
            return Ok(Row::Negative);
        }
    }
    Ok(Row::Link(Link { a, b }))
}

/// Read a link file (JSON list, JSON Lines or CSV/TSV with a header). Returns the links (records
/// labelled negative are dropped; [`Loaded::report`]'s notes count them). In [`Mode::Skip`] an
/// unreadable record is counted; in [`Mode::Strict`] it is the error, naming file, record and field.
pub fn load_links(bytes: &[u8], file: &str, mode: Mode) -> Result<Loaded<Link>> {
    let raw = records::read(bytes, file)?;
    if raw.header_lacks(&ID_A_FIELDS) || raw.header_lacks(&ID_B_FIELDS) {
        return Err(Error::data(
            file,
            "line 1",
            "header",
            format!(
                "not a link file: the header must name two incident ids ({} and {}); the first \
                 line has: {}",
                ID_A_FIELDS.join(" / "),
                ID_B_FIELDS.join(" / "),
                raw.columns.join(", ")
            ),
        ));
    }
    let mut c = Collector::new(file, raw.format.name(), mode);
    let mut negatives = 0usize;
    for rec in raw.records {
        match row(rec.raw, file, &rec.loc) {
            Ok(Row::Negative) => negatives += 1,
            Ok(Row::Link(l)) => {
                let key = format!("{}\u{0}{}", l.a, l.b);
                c.push(&rec.loc, Ok((l, key)))?;
            }
            Err(e) => c.push(&rec.loc, Err(e))?,
        }
    }
    let mut loaded = c.finish("links")?;
    if negatives > 0 {
        loaded.report.notes.push(format!(
            "{negatives} pair{} labelled negative (not the same problem) left out",
            if negatives == 1 { "" } else { "s" }
        ));
    }
    Ok(loaded)
}

/// Add `links` to the incidents as `duplicate_of` links (on the incident with id `a`), so the
/// pair generator and retrieval see them as the file's own. Returns how many were added; a link
/// naming an id that is not in `incidents`, or one the incidents already have (either way round),
/// is not.
pub fn apply_links(incidents: &mut [Incident], links: &[Link]) -> usize {
    let by_id: std::collections::HashMap<String, usize> = incidents
        .iter()
        .enumerate()
        .map(|(i, inc)| (inc.id.trim().to_string(), i))
        .collect();
    let mut added = 0;
    for l in links {
        let (a, b) = (l.a.trim(), l.b.trim());
        let (Some(&ia), Some(&ib)) = (by_id.get(a), by_id.get(b)) else {
            continue;
        };
        let has =
            |i: usize, other: &str| incidents[i].duplicate_of.iter().any(|d| d.trim() == other);
        if ia == ib || has(ia, b) || has(ib, a) {
            continue;
        }
        incidents[ia].duplicate_of.push(b.to_string());
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gitbugs_pairs_keeping_positives() {
        let json = br#"[
            {"id_a": "1", "id_b": "2", "ticket_a": "x", "ticket_b": "y", "label": 1.0},
            {"id_a": "1", "id_b": "3", "ticket_a": "x", "ticket_b": "z", "label": 0.0},
            {"id_a": 4, "id_b": "5"}
        ]"#;
        let l = load_links(json, "p.json", Mode::Strict).unwrap();
        assert_eq!(
            l.records,
            vec![
                Link {
                    a: "1".into(),
                    b: "2".into()
                },
                Link {
                    a: "4".into(),
                    b: "5".into()
                }
            ]
        );
        assert!(l
            .report
            .notes
            .iter()
            .any(|n| n.contains("1 pair labelled negative")));
    }

    #[test]
    fn csv_and_errors_name_file_record_field() {
        let l = load_links(b"source,target\nA,B\n", "l.csv", Mode::Strict).unwrap();
        assert_eq!(l.records.len(), 1);
        let e = load_links(b"x,y\nA,B\n", "l.csv", Mode::Strict).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("l.csv: line 1: header: not a link file"));
        let e = load_links(br#"[{"id_a": "1", "id_b": ""}]"#, "p.json", Mode::Strict)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.json") && e.contains("id_b") && e.contains("empty id"),
            "{e}"
        );
    }

    #[test]
    fn links_become_the_incidents_own() {
        let mut incs: Vec<Incident> = ["1", "2", "3"]
            .iter()
            .map(|id| {
                crate::data::incidents::test_incident(id, &format!("ticket {id}"), &[], &[], None)
            })
            .collect();
        incs[1].duplicate_of.push("1".into());
        let link = |a: &str, b: &str| Link {
            a: a.into(),
            b: b.into(),
        };
        let added = apply_links(
            &mut incs,
            &[
                link("1", "2"),
                link("3", "1"),
                link("3", "9"),
                link("2", "2"),
            ],
        );
        assert_eq!(added, 1, "2-1 exists, 9 is unknown, 2-2 is a self link");
        assert_eq!(incs[2].duplicate_of, ["1"]);
    }
}
