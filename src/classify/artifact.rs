//! The saved classifier, `relationship_classifier/classifier.json` inside a model folder: the head
//! (feature config, standardiser, weights), the label list, and what it was trained with — so it
//! loads back, predicts identically, and says where it came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cv::CvConfig;
use super::head::Head;
use crate::data::relationships::Relation;
use crate::error::{Error, Result};
use crate::train::metadata::DataRecord;

/// Folder name inside a model folder.
pub const DIR: &str = "relationship_classifier";
/// The classifier file in [`DIR`].
pub const FILE: &str = "classifier.json";
/// Format version written by this build.
pub const FORMAT_VERSION: u32 = 1;

/// Everything `classifier.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierArtifact {
    /// [`FORMAT_VERSION`] at writing.
    pub format_version: u32,
    /// Class names in probability order: duplicate, causal, related, none.
    pub labels: Vec<String>,
    /// The fitted head.
    pub head: Head,
    /// The encoder it was trained on: as given, and the sha256 of its model.safetensors (embeddings
    /// of another encoder would be meaningless to it).
    pub encoder: String,
    /// sha256 of the encoder's weights.
    pub encoder_sha256: String,
    /// Settings (the seed, the balancing, the C grid, the folds of the report).
    pub config: CvConfig,
    /// Training files.
    pub data: Vec<DataRecord>,
    /// Training examples per class, in `labels` order, after the rare-class filter.
    pub class_counts: Vec<usize>,
    /// Classes dropped by the rare-class filter, with their counts.
    pub dropped: Vec<(Relation, usize)>,
    /// ticketsim and dependency versions.
    pub versions: BTreeMap<String, String>,
}

impl ClassifierArtifact {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self).map_err(|e| Error::Invalid(format!("classifier: {e}")))
    }

    /// Parse `bytes` read from `file`, checking the format version and the label list.
    pub fn from_json(bytes: &[u8], file: &str) -> Result<Self> {
        let a: ClassifierArtifact = serde_json::from_slice(bytes)
            .map_err(|e| Error::model(file, format!("not a classifier file ({e})")))?;
        if a.format_version != FORMAT_VERSION {
            return Err(Error::model(
                file,
                format!(
                    "format version {} (this build reads {FORMAT_VERSION})",
                    a.format_version
                ),
            ));
        }
        let expected: Vec<&str> = Relation::ALL.iter().map(|r| r.name()).collect();
        if a.labels != expected {
            return Err(Error::model(
                file,
                format!("labels {:?}, expected {expected:?}", a.labels),
            ));
        }
        Ok(a)
    }
}
