//! Incidents: the rows of an ITSM export (ServiceNow, Jira, ...), the raw material pairs are generated
//! from. CSV/TSV with a header, a JSON list (also ServiceNow's `{"result": [...]}` /
//! `{"records": [...]}`), or JSON Lines.
//!
//! Columns, in the spellings exports use (case, spaces and dashes do not matter); only an id and
//! some text are required:
//!
//! | field | accepted names |
//! |---|---|
//! | id | number, id, incident_id, incident_number, ticket_id, key, sys_id |
//! | short_description | short_description, title, summary, subject |
//! | description | description, details, body |
//! | category | category |
//! | subcategory | subcategory, sub_category |
//! | assignment_group | assignment_group, group, team, assigned_group |
//! | resolution | resolution, close_notes, resolution_notes |
//! | duplicate_of | duplicate_of, duplicates, duplicate |
//! | caused_by | caused_by, cause, root_cause |
//! | related_to | related_to, related, related_incidents |
//!
//! Link cells hold ids separated by `;`, `,`, `|` or spaces, or a JSON list.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::load::{Collector, Loaded, Mode, SkipReason};
use super::records::{self, as_text, kind, lookup, Raw};
use crate::error::{Error, Result};

/// The canonical incident export header, in order: the column names `ticketsim` writes for
/// incidents (the sample set `data/incidents.csv`, from `cargo run --release -p xtask --
/// sample-data`) and, for each field the loader reads, its first accepted name (`number` is
/// `ID_FIELDS[0]`, and so on for the other `*_FIELDS`). `opened_at` and `priority` are for people;
/// the loader ignores them.
pub const INCIDENT_COLUMNS: [&str; 12] = [
    "number",
    "opened_at",
    "short_description",
    "description",
    "category",
    "subcategory",
    "assignment_group",
    "priority",
    "resolution",
    "duplicate_of",
    "caused_by",
    "related_to",
];

/// Accepted names of each incident field, in [`Incident`] field order.
pub const ID_FIELDS: [&str; 7] = [
    "number",
    "id",
    "incident_id",
    "incident_number",
    "ticket_id",
    "key",
    "sys_id",
];
/// See [`ID_FIELDS`].
pub const SHORT_DESCRIPTION_FIELDS: [&str; 4] =
    ["short_description", "title", "summary", "subject"];
/// See [`ID_FIELDS`].
pub const DESCRIPTION_FIELDS: [&str; 3] = ["description", "details", "body"];
/// See [`ID_FIELDS`].
pub const CATEGORY_FIELDS: [&str; 1] = ["category"];
/// See [`ID_FIELDS`].
pub const SUBCATEGORY_FIELDS: [&str; 2] = ["subcategory", "sub_category"];
/// See [`ID_FIELDS`].
pub const ASSIGNMENT_GROUP_FIELDS: [&str; 4] =
    ["assignment_group", "group", "team", "assigned_group"];
/// See [`ID_FIELDS`].
pub const RESOLUTION_FIELDS: [&str; 3] = ["resolution", "close_notes", "resolution_notes"];
/// See [`ID_FIELDS`].
pub const DUPLICATE_OF_FIELDS: [&str; 3] = ["duplicate_of", "duplicates", "duplicate"];
/// See [`ID_FIELDS`].
pub const CAUSED_BY_FIELDS: [&str; 3] = ["caused_by", "cause", "root_cause"];
/// See [`ID_FIELDS`].
pub const RELATED_TO_FIELDS: [&str; 3] = ["related_to", "related", "related_incidents"];

/// One incident. Only `id` and some text are required; everything else is optional because real
/// exports differ (GitBugs has no category and no links).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Ticket number or id, unique in the file (`number`, `id`, ...).
    pub id: String,
    /// The title the user typed.
    pub short_description: String,
    /// The long text; may be empty.
    pub description: String,
    /// Category (e.g. "Network"); `None` when the export has no such column or the cell is empty.
    pub category: Option<String>,
    /// Subcategory (e.g. "VPN").
    pub subcategory: Option<String>,
    /// The team the ticket was assigned to.
    pub assignment_group: Option<String>,
    /// Resolution / close notes. Same category + same resolution means "same problem".
    pub resolution: Option<String>,
    /// Ids this incident duplicates.
    pub duplicate_of: Vec<String>,
    /// Ids of the incidents that caused this one (a cause → effect link).
    pub caused_by: Vec<String>,
    /// Ids of related incidents (symmetric).
    pub related_to: Vec<String>,
}

impl Incident {
    /// The text that is embedded and paired: the title, then the description on the next line when
    /// there is one and it does not merely repeat the title.
    pub fn text(&self) -> String {
        let title = self.short_description.trim();
        let body = self.description.trim();
        if body.is_empty() || body == title {
            title.to_string()
        } else if title.is_empty() {
            body.to_string()
        } else {
            format!("{title}\n{body}")
        }
    }
}

/// An incident with a title, links and an optional category (tests across the crate build their
/// hand-made exports with it).
#[cfg(test)]
pub(crate) fn test_incident(
    id: &str,
    title: &str,
    duplicate_of: &[&str],
    caused_by: &[&str],
    category: Option<&str>,
) -> Incident {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Incident {
        id: id.into(),
        short_description: title.into(),
        category: category.map(str::to_string),
        duplicate_of: ids(duplicate_of),
        caused_by: ids(caused_by),
        ..Incident::default()
    }
}

/// Load incidents. In [`Mode::Skip`] bad rows (no id, no text, unreadable, repeated id) are counted;
/// in [`Mode::Strict`] the first is the error. The report's notes say which optional information the
/// file lacks (categories, resolutions, links) and how many links point outside the file, because
/// that decides which pairs can be generated from it.
pub fn load_incidents(bytes: &[u8], file: &str, mode: Mode) -> Result<Loaded<Incident>> {
    let raw = records::read(bytes, file)?;
    if raw.header_lacks(&ID_FIELDS)
        || (raw.header_lacks(&SHORT_DESCRIPTION_FIELDS) && raw.header_lacks(&DESCRIPTION_FIELDS))
    {
        return Err(Error::data(
            file,
            "line 1",
            "header",
            format!(
                "not a recognised incident export: the header must name an id ({}) and a \
                 text ({} or {}); the first line has: {}",
                ID_FIELDS.join(", "),
                SHORT_DESCRIPTION_FIELDS.join(", "),
                DESCRIPTION_FIELDS.join(", "),
                raw.columns.join(", ")
            ),
        ));
    }
    let mut c = Collector::new(file, raw.format.name(), mode);
    for rec in raw.records {
        let outcome = incident(rec.raw, file, &rec.loc).map(|i| {
            let key = i.id.clone();
            (i, key)
        });
        c.push(&rec.loc, outcome)?;
    }
    let mut loaded = c.finish("incidents")?;
    let notes = describe(&loaded.records);
    loaded.report.notes.extend(notes);
    Ok(loaded)
}

/// What the incidents lack, for the report's notes.
fn describe(incidents: &[Incident]) -> Vec<String> {
    let mut notes = Vec::new();
    let count = |f: &dyn Fn(&Incident) -> bool| incidents.iter().filter(|i| f(i)).count();
    if count(&|i| i.category.is_some()) == 0 {
        notes.push(
            "no categories: hard negatives (same category, different problem) are not possible"
                .to_string(),
        );
    }
    if count(&|i| i.resolution.is_some()) == 0 {
        notes.push(
            "no resolutions: same category + same resolution cannot mark the same problem"
                .to_string(),
        );
    }
    let links = count(&|i| {
        !(i.duplicate_of.is_empty() && i.caused_by.is_empty() && i.related_to.is_empty())
    });
    if links == 0 {
        notes.push("no duplicate_of / caused_by / related_to links".to_string());
    }
    let ids: HashSet<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
    let dangling = incidents
        .iter()
        .flat_map(|i| {
            i.duplicate_of
                .iter()
                .chain(&i.caused_by)
                .chain(&i.related_to)
        })
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    if dangling > 0 {
        notes.push(format!(
            "{dangling} link(s) point to incidents that are not in the file; they are ignored"
        ));
    }
    notes
}

type Bad = (SkipReason, Error);

fn incident(raw: Raw, file: &str, loc: &str) -> std::result::Result<Incident, Bad> {
    let malformed =
        |field: &str, msg: String| (SkipReason::Malformed, Error::data(file, loc, field, msg));
    let o = match raw {
        Raw::Bad(reason, e) => return Err((reason, e)),
        Raw::Object(o) => o,
        Raw::Array(a) => {
            return Err(malformed(
                "incident",
                format!("expected an object, found {}", kind(&Value::Array(a))),
            ))
        }
        Raw::Other(v) => {
            return Err(malformed(
                "incident",
                format!("expected an object, found {}", kind(&v)),
            ))
        }
    };
    let id = match lookup(&o, &ID_FIELDS) {
        None => {
            return Err(malformed(
                "number",
                format!("missing (one of: {})", ID_FIELDS.join(", ")),
            ))
        }
        Some((field, v)) => match as_text(v) {
            Some(s) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => return Err(malformed(field, "empty id".to_string())),
            None => {
                return Err(malformed(
                    field,
                    format!("expected a string or number, found {}", kind(v)),
                ))
            }
        },
    };
    let short_description = optional(&o, &SHORT_DESCRIPTION_FIELDS, file, loc)?.unwrap_or_default();
    let description = optional(&o, &DESCRIPTION_FIELDS, file, loc)?.unwrap_or_default();
    if short_description.is_empty() && description.is_empty() {
        return Err((
            SkipReason::EmptyText,
            Error::data(
                file,
                loc,
                "short_description",
                "empty text (and no description)",
            ),
        ));
    }
    Ok(Incident {
        id,
        short_description,
        description,
        category: optional(&o, &CATEGORY_FIELDS, file, loc)?,
        subcategory: optional(&o, &SUBCATEGORY_FIELDS, file, loc)?,
        assignment_group: optional(&o, &ASSIGNMENT_GROUP_FIELDS, file, loc)?,
        resolution: optional(&o, &RESOLUTION_FIELDS, file, loc)?,
        duplicate_of: links(&o, &DUPLICATE_OF_FIELDS, file, loc)?,
        caused_by: links(&o, &CAUSED_BY_FIELDS, file, loc)?,
        related_to: links(&o, &RELATED_TO_FIELDS, file, loc)?,
    })
}

/// A text field trimmed; `None` when absent, null or blank.
fn optional(
    o: &Map<String, Value>,
    names: &[&str],
    file: &str,
    loc: &str,
) -> std::result::Result<Option<String>, Bad> {
    match lookup(o, names) {
        None | Some((_, Value::Null)) => Ok(None),
        Some((field, v)) => match as_text(v) {
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Ok(Some(s.trim().to_string())),
            None => Err((
                SkipReason::Malformed,
                Error::data(
                    file,
                    loc,
                    field,
                    format!("expected text, found {}", kind(v)),
                ),
            )),
        },
    }
}

/// Ids in a link field: a JSON list, or one cell with ids separated by `;`, `,`, `|` or spaces.
fn links(
    o: &Map<String, Value>,
    names: &[&str],
    file: &str,
    loc: &str,
) -> std::result::Result<Vec<String>, Bad> {
    let split = |s: &str| -> Vec<String> {
        s.split(|c: char| c == ';' || c == ',' || c == '|' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    };
    match lookup(o, names) {
        None | Some((_, Value::Null)) => Ok(Vec::new()),
        Some((_, Value::Array(items))) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match as_text(v) {
                    Some(s) => out.extend(split(&s)),
                    None => {
                        return Err((
                            SkipReason::Malformed,
                            Error::data(
                                file,
                                loc,
                                format!("{}[{i}]", names[0]),
                                format!("expected an id, found {}", kind(v)),
                            ),
                        ))
                    }
                }
            }
            Ok(out)
        }
        Some((field, v)) => match as_text(v) {
            Some(s) => Ok(split(&s)),
            None => Err((
                SkipReason::Malformed,
                Error::data(file, loc, field, format!("expected ids, found {}", kind(v))),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_export_with_links() {
        let csv = b"Number,Short description,Description,Category,Subcategory,Assignment group,Resolution,Duplicate of,Caused by,Related to\n\
                    INC1,VPN down,\"Cannot connect, error 809\",Network,VPN,Net Ops,Restarted gateway,,,\n\
                    INC2,vpn not working,,Network,VPN,Net Ops,Restarted gateway,INC1,,INC3\n\
                    INC3,Switch failure,,Network,LAN,Net Ops,Replaced switch,,,\n\
                    INC4,Email slow,,Email,,Messaging,,,INC3;INC9,\n";
        let l = load_incidents(csv, "inc.csv", Mode::Strict).unwrap();
        assert_eq!(l.records.len(), 4);
        let i = &l.records[1];
        assert_eq!(i.id, "INC2");
        assert_eq!(i.duplicate_of, ["INC1"]);
        assert_eq!(i.related_to, ["INC3"]);
        assert_eq!(i.description, "");
        assert_eq!(l.records[0].description, "Cannot connect, error 809");
        assert_eq!(l.records[3].caused_by, ["INC3", "INC9"]);
        assert_eq!(l.records[3].subcategory, None);
        assert_eq!(l.records[0].text(), "VPN down\nCannot connect, error 809");
        assert_eq!(
            l.report.notes,
            ["1 link(s) point to incidents that are not in the file; they are ignored"]
        );
    }

    #[test]
    fn json_servicenow_and_jsonl() {
        let json =
            br#"{"result": [{"number": "INC1", "title": "Printer jam", "category": "Hardware",
                                     "related_to": ["INC2", 3]},
                                    {"sys_id": 2, "description": "Only a description"}]}"#;
        let l = load_incidents(json, "sn.json", Mode::Strict).unwrap();
        assert_eq!(l.records[0].related_to, ["INC2", "3"]);
        assert_eq!(l.records[1].id, "2");
        assert_eq!(l.records[1].text(), "Only a description");
        let jsonl = b"{\"id\": \"A\", \"summary\": \"x\"}\n{\"id\": \"B\", \"summary\": \"y\"}\n";
        let l = load_incidents(jsonl, "i.jsonl", Mode::Strict).unwrap();
        assert_eq!(l.report.format, "jsonl");
        assert!(l
            .report
            .notes
            .iter()
            .any(|n| n.starts_with("no categories")));
        assert!(l
            .report
            .notes
            .iter()
            .any(|n| n.starts_with("no duplicate_of")));
    }

    #[test]
    fn bad_rows_counted_or_fatal() {
        let csv = b"id,short_description,description,category\n\
                    1,ok,,Net\n\
                    ,no id,,Net\n\
                    3,,,Net\n\
                    1,repeated id,,Net\n\
                    5,\xff,,Net\n\
                    6,too,many,cells,here\n\
                    7,fine,,\n";
        let l = load_incidents(csv, "i.csv", Mode::Skip).unwrap();
        assert_eq!(
            l.records.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["1", "7"]
        );
        let r = &l.report;
        assert_eq!((r.read, r.kept), (7, 2));
        assert_eq!(r.skipped[&SkipReason::Malformed], 2);
        assert_eq!(r.skipped[&SkipReason::EmptyText], 1);
        assert_eq!(r.skipped[&SkipReason::DuplicateRow], 1);
        assert_eq!(r.skipped[&SkipReason::NotUtf8], 1);
        let e = load_incidents(csv, "i.csv", Mode::Strict)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "i.csv: line 3: id: empty id");
        let e = load_incidents(b"title,body\nx,y\n", "t.csv", Mode::Skip)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a recognised incident export"), "{e}");
    }

    #[test]
    fn gitbugs_shape_loads_with_notes() {
        let csv = b"id,project,component,short_description,description,created\n\
                    13278092,hadoop,,S3A reverts KMS encryption,\"When using S3, all files...\",2020-01-08T08:40\n";
        let l = load_incidents(csv, "incidents.csv", Mode::Strict).unwrap();
        assert_eq!(l.records[0].id, "13278092");
        assert_eq!(l.report.notes.len(), 3, "{:?}", l.report.notes);
    }
}
