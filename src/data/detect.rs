//! What a dropped file is — training pairs, relationship pairs or an incident export — decided from
//! its content, not its name: every loader reads it (skip mode) and the one that keeps the most
//! records wins. A relationship file also reads as training pairs when its label is numeric, and
//! a pairs file never reads as incidents (no id), so ties go relationship → training → incidents.

use serde::{Deserialize, Serialize};

use super::incidents::{load_incidents, Incident};
use super::load::{Loaded, Mode};
use super::pairs::load_training_pairs;
use super::relationships::{load_relationship_pairs, RelationshipPair};
use crate::data::pairs::TrainPair;
use crate::error::{Error, Result};

/// The kinds of data file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Text pairs with a similarity label (`training_pairs.json`).
    TrainingPairs,
    /// Text pairs with a relationship (`relationship_pairs.json`).
    RelationshipPairs,
    /// An incident export (pairs are generated from it).
    Incidents,
}

impl DataKind {
    /// For people: "training pairs", "relationship pairs", "incidents".
    pub fn name(self) -> &'static str {
        match self {
            DataKind::TrainingPairs => "training pairs",
            DataKind::RelationshipPairs => "relationship pairs",
            DataKind::Incidents => "incidents",
        }
    }
}

/// A loaded data file of any kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Dataset {
    /// Training pairs.
    TrainingPairs(Loaded<TrainPair>),
    /// Relationship pairs.
    RelationshipPairs(Loaded<RelationshipPair>),
    /// Incidents.
    Incidents(Loaded<Incident>),
}

impl Dataset {
    /// Its kind.
    pub fn kind(&self) -> DataKind {
        match self {
            Dataset::TrainingPairs(_) => DataKind::TrainingPairs,
            Dataset::RelationshipPairs(_) => DataKind::RelationshipPairs,
            Dataset::Incidents(_) => DataKind::Incidents,
        }
    }

    /// The load report.
    pub fn report(&self) -> &super::load::LoadReport {
        match self {
            Dataset::TrainingPairs(l) => &l.report,
            Dataset::RelationshipPairs(l) => &l.report,
            Dataset::Incidents(l) => &l.report,
        }
    }
}

/// Load `bytes` (named `file`) as `kind`.
pub fn load_as(bytes: &[u8], file: &str, kind: DataKind, mode: Mode) -> Result<Dataset> {
    Ok(match kind {
        DataKind::TrainingPairs => Dataset::TrainingPairs(load_training_pairs(bytes, file, mode)?),
        DataKind::RelationshipPairs => {
            Dataset::RelationshipPairs(load_relationship_pairs(bytes, file, mode)?)
        }
        DataKind::Incidents => Dataset::Incidents(load_incidents(bytes, file, mode)?),
    })
}

/// Load `bytes` as whichever kind keeps the most records (skip mode). When no kind keeps any, the
/// error is the one of the kind that got furthest, so it names the record and field at fault.
pub fn detect_and_load(bytes: &[u8], file: &str) -> Result<Dataset> {
    let kinds = [
        DataKind::RelationshipPairs,
        DataKind::TrainingPairs,
        DataKind::Incidents,
    ];
    let mut best: Option<Dataset> = None;
    let mut first_error: Option<Error> = None;
    for kind in kinds {
        match load_as(bytes, file, kind, Mode::Skip) {
            Ok(d) => {
                let kept = d.report().kept;
                if kept > 0 && best.as_ref().is_none_or(|b| kept > b.report().kept) {
                    best = Some(d);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(d) = best {
        return Ok(d);
    }
    // Nothing kept anything: the strict training-pairs reading names the first bad record.
    match load_as(bytes, file, DataKind::TrainingPairs, Mode::Strict) {
        Err(e) => Err(e),
        Ok(_) => Err(first_error.unwrap_or_else(|| {
            Error::data(
                file,
                "record 0",
                "text",
                "no usable record: not training pairs, relationship pairs or incidents",
            )
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn the_sample_files_are_recognised() {
        for (file, kind, n) in [
            ("training_pairs.json", DataKind::TrainingPairs, 2572),
            ("eval_pairs.json", DataKind::TrainingPairs, 396),
            ("relationship_pairs.json", DataKind::RelationshipPairs, 1393),
            ("incidents.csv", DataKind::Incidents, 400),
        ] {
            let d = detect_and_load(&data(file), file).unwrap();
            assert_eq!((d.kind(), d.report().kept), (kind, n), "{file}");
        }
    }

    #[test]
    fn small_shapes_and_garbage() {
        let rel =
            br#"[{"ticket_a": "vpn down", "ticket_b": "no vpn", "relationship": "duplicate"}]"#;
        assert_eq!(
            detect_and_load(rel, "r.json").unwrap().kind(),
            DataKind::RelationshipPairs
        );
        let pairs = b"text1,text2,label\nvpn down,no vpn,1\nprinter jam,outlook crash,0\n";
        assert_eq!(
            detect_and_load(pairs, "p.csv").unwrap().kind(),
            DataKind::TrainingPairs
        );
        let inc = br#"[{"number": "INC1", "short_description": "vpn down"}]"#;
        assert_eq!(
            detect_and_load(inc, "i.json").unwrap().kind(),
            DataKind::Incidents
        );
        let e = detect_and_load(b"[{\"x\": 1}]", "junk.json").unwrap_err();
        assert!(e.to_string().contains("junk.json"), "{e}");
        assert!(detect_and_load(b"", "empty.json").is_err());
    }
}
