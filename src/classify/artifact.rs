//! The saved classifier, `relationship_classifier/classifier.json` inside a model folder: the head
//! (feature config, standardiser, weights), the label list, and what it was trained with — so it
//! loads back, predicts identically, and says where it came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cv::{rare_class_filter, CvConfig};
use super::head::{fit_head, Example, Head};
use crate::data::relationships::Relation;
use crate::error::{Error, Result};
use crate::provenance::{dependency_versions, DataRecord};

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
    /// Fit the final classifier on every example of the classes the rare-class filter keeps (C by
    /// inner cross-validation), recording what it was trained on and with. The same in the CLI
    /// and the web app's worker.
    pub fn train(
        examples: &[Example],
        config: &CvConfig,
        encoder: &str,
        encoder_sha256: &str,
        data: Vec<DataRecord>,
    ) -> Result<Self> {
        let (support, dropped, kept) = rare_class_filter(examples, config.min_class_count);
        let mut class_counts = support.to_vec();
        for (r, _) in &dropped {
            class_counts[r.index()] = 0;
        }
        let head = fit_head(examples, &kept, &config.head)?;
        let mut versions = dependency_versions();
        versions.insert("ticketsim".into(), env!("CARGO_PKG_VERSION").into());
        Ok(ClassifierArtifact {
            format_version: FORMAT_VERSION,
            labels: Relation::ALL.iter().map(|r| r.name().to_string()).collect(),
            head,
            encoder: encoder.into(),
            encoder_sha256: encoder_sha256.into(),
            config: config.clone(),
            data,
            class_counts,
            dropped,
            versions,
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::head::tests::{examples, toy};
    use crate::classify::head::HeadConfig;

    #[test]
    fn save_load_round_trip_predicts_identically() {
        let (us, vs, ys) = toy([15, 4, 15, 40], 8);
        let ex = examples(&us, &vs, &ys);
        let cfg = CvConfig {
            head: HeadConfig {
                c_grid: vec![0.1, 1.0],
                ..HeadConfig::default()
            },
            ..CvConfig::default()
        };
        let art = ClassifierArtifact::train(&ex, &cfg, "tiny", "00", vec![]).unwrap();
        assert_eq!(art.dropped, vec![(Relation::Causal, 4)]);
        assert_eq!(art.class_counts, [15, 0, 15, 40]);
        let back = ClassifierArtifact::from_json(&art.to_json().unwrap(), FILE).unwrap();
        assert_eq!(back, art);
        for e in &ex {
            let (p, q) = (
                art.head.probabilities(e.u, e.v),
                back.head.probabilities(e.u, e.v),
            );
            assert_eq!(
                p.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                q.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        let mut wrong = art.clone();
        wrong.labels.swap(0, 1);
        let e = ClassifierArtifact::from_json(&wrong.to_json().unwrap(), FILE).unwrap_err();
        assert!(e.to_string().contains("labels"), "{e}");
    }
}
