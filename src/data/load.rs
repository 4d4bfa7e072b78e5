//! What every loader shares: strict vs skip mode, the reasons a record is skipped, and the report
//! that says how many records were kept and why the others were not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How a loader treats a bad record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Skip bad records, count them by reason and keep going (the default: one typo in a 5,000-row
    /// export should not stop the work).
    #[default]
    Skip,
    /// Fail on the first bad record with an error naming the file, record and field.
    Strict,
}

/// Why a record was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A text field is empty or only whitespace.
    EmptyText,
    /// No label / relationship field, or it is empty.
    MissingLabel,
    /// A label that is not in the range the file type allows (e.g. similarity outside [0, 1]).
    LabelOutOfRange,
    /// A relationship name other than duplicate / causal / related / none (or their synonyms).
    UnknownRelationship,
    /// The record's bytes are not valid UTF-8.
    NotUtf8,
    /// The same record (or, for incidents, the same id) appeared earlier in the file.
    DuplicateRow,
    /// The record cannot be read at all: wrong type, missing required field, broken JSON line or
    /// CSV row with the wrong number of fields.
    Malformed,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 7] = [
        SkipReason::EmptyText,
        SkipReason::MissingLabel,
        SkipReason::LabelOutOfRange,
        SkipReason::UnknownRelationship,
        SkipReason::NotUtf8,
        SkipReason::DuplicateRow,
        SkipReason::Malformed,
    ];

    /// A short human phrase, e.g. "empty text".
    pub fn phrase(self) -> &'static str {
        match self {
            SkipReason::EmptyText => "empty text",
            SkipReason::MissingLabel => "missing label",
            SkipReason::LabelOutOfRange => "label out of range",
            SkipReason::UnknownRelationship => "unknown relationship",
            SkipReason::NotUtf8 => "not UTF-8",
            SkipReason::DuplicateRow => "duplicate row",
            SkipReason::Malformed => "malformed",
        }
    }
}

/// A skipped record: why, and the full error (file, record, field, message).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Skipped {
    /// The category, for counting.
    pub reason: SkipReason,
    /// The one-line message, as strict mode would have failed with.
    pub message: String,
}

/// What a loader read, kept and skipped.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoadReport {
    /// The file, as the user named it.
    pub file: String,
    /// The format detected from the content: `json`, `jsonl`, `csv`, `tsv`, `sts`, `training_pairs`.
    pub format: String,
    /// Records seen (kept + skipped).
    pub read: usize,
    /// Records kept.
    pub kept: usize,
    /// Skipped records by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// The first few skipped records of each reason (at most [`LoadReport::EXAMPLES_PER_REASON`]),
    /// with the message that names the record and field.
    pub examples: Vec<Skipped>,
    /// Remarks that are not errors (e.g. "no category column: hard negatives are not possible").
    pub notes: Vec<String>,
}

impl LoadReport {
    /// How many skipped records of each reason keep their full message.
    pub const EXAMPLES_PER_REASON: usize = 3;

    /// Total records skipped.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Count a skipped record; keep its message when it is among the first of its reason.
    pub fn skip(&mut self, reason: SkipReason, error: &Error) {
        let n = self.skipped.entry(reason).or_insert(0);
        *n += 1;
        if *n <= Self::EXAMPLES_PER_REASON {
            self.examples.push(Skipped {
                reason,
                message: error.to_string(),
            });
        }
    }

    /// One line: "kept 280 of 300 records; skipped 20 (12 empty text, 8 duplicate row)".
    pub fn summary(&self) -> String {
        let mut s = format!("{}: kept {} of {} records", self.file, self.kept, self.read);
        if self.skipped_total() > 0 {
            let parts: Vec<String> = SkipReason::ALL
                .iter()
                .filter_map(|r| self.skipped.get(r).map(|n| format!("{n} {}", r.phrase())))
                .collect();
            s.push_str(&format!(
                "; skipped {} ({})",
                self.skipped_total(),
                parts.join(", ")
            ));
        }
        s
    }
}

/// Records a loader returns with its report. Serialisable, so the browser's worker can read a file
/// and hand the page the result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Loaded<T> {
    /// The good records, in file order.
    pub records: Vec<T>,
    /// Counts of what was read, kept and skipped.
    pub report: LoadReport,
}

/// Gathers a loader's records: counts and skips bad ones (or fails on the first, in strict mode) and
/// drops repeats of an earlier record by key.
pub(crate) struct Collector<T, K> {
    mode: Mode,
    report: LoadReport,
    records: Vec<T>,
    /// Each kept record's key and where it was, so a repeat can say which record it repeats.
    seen: std::collections::HashMap<K, String>,
}

impl<T, K: std::hash::Hash + Eq> Collector<T, K> {
    /// An empty collector for `file`, whose content was read as `format`.
    pub(crate) fn new(file: &str, format: &str, mode: Mode) -> Self {
        Collector {
            mode,
            report: LoadReport {
                file: file.to_string(),
                format: format.to_string(),
                ..LoadReport::default()
            },
            records: Vec::new(),
            seen: std::collections::HashMap::new(),
        }
    }

    /// Take one record's outcome. In strict mode the first bad record is the error.
    pub(crate) fn push(
        &mut self,
        loc: &str,
        outcome: std::result::Result<(T, K), (SkipReason, Error)>,
    ) -> crate::error::Result<()> {
        self.report.read += 1;
        let bad = match outcome {
            Ok((record, key)) => match self.seen.get(&key) {
                None => {
                    self.seen.insert(key, loc.to_string());
                    self.records.push(record);
                    self.report.kept += 1;
                    return Ok(());
                }
                Some(first) => (
                    SkipReason::DuplicateRow,
                    Error::data(&self.report.file, loc, "record", format!("repeats {first}")),
                ),
            },
            Err(bad) => bad,
        };
        match self.mode {
            Mode::Strict => Err(bad.1),
            Mode::Skip => {
                self.report.skip(bad.0, &bad.1);
                Ok(())
            }
        }
    }

    /// Add a note to the report.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.report.notes.push(note.into());
    }

    /// The records and report; an error when nothing usable was found (`what` names the records,
    /// e.g. "pairs"), quoting the first skipped record's message so the cause is visible.
    pub(crate) fn finish(self, what: &str) -> crate::error::Result<Loaded<T>> {
        if self.records.is_empty() {
            let file = self.report.file.clone();
            let msg = if self.report.read == 0 {
                format!("no {what} in file")
            } else {
                let first = self
                    .report
                    .examples
                    .first()
                    .map(|s| format!("; first: {}", s.message))
                    .unwrap_or_default();
                format!(
                    "no usable {what}: {}{first}",
                    self.report
                        .summary()
                        .trim_start_matches(&format!("{file}: "))
                )
            };
            return Err(Error::data(file, "record 0", what, msg));
        }
        Ok(Loaded {
            records: self.records,
            report: self.report,
        })
    }
}

/// `s` as an owned text, or an [`SkipReason::EmptyText`] error naming `file`, `loc` and `field` when
/// it is blank — the empty-text check of every loader.
pub(crate) fn non_empty(
    s: &str,
    file: &str,
    loc: &str,
    field: &str,
) -> std::result::Result<String, (SkipReason, Error)> {
    if s.trim().is_empty() {
        Err((
            SkipReason::EmptyText,
            Error::data(file, loc, field, "empty text"),
        ))
    } else {
        Ok(s.to_string())
    }
}
