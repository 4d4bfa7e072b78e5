//! Evaluation: labels and scores in, figures out — the one place metrics are defined.
//!
//! - [`metrics`]: the numbers (Pearson, Spearman, ROC / PR curves, AUC, AP, best-F1 threshold,
//!   per-class reports, confusion matrices) on plain slices, checked against scipy / sklearn.
//! - [`similarity`]: sentence-transformers' EmbeddingSimilarityEvaluator — an encoder on labelled
//!   pairs: Pearson and Spearman of the cosine (Spearman is the primary metric, the one that picks
//!   the checkpoint) and ROC-AUC when the labels are 0/1. The trainer, `ticketsim sts`, the bench
//!   and the web app's tables read it.
//! - [`report`]: the binary-classification report of `ticketsim eval` and the web app's Evaluate
//!   step (AUC, AP, thresholds, confusion matrix, HTML page).
//! - [`retrieval`]: "which other tickets are this one?" over a whole incident file: recall@k, MRR
//!   and MAP of the cosine, BM25 and their hybrid.
//! - [`neighbours`]: each ticket's nearest others (or a query's), blocked so memory is O(n·k): the
//!   labelling queue, find similar and the groups use it.
//! - [`groups`]: duplicate groups over a whole file (threshold communities) and their pairwise
//!   P/R/F1 and adjusted Rand index against known duplicate clusters.
//! - [`map`]: the tickets in two dimensions (PCA), for the map chart.
//! - [`backlog`]: retrieval, groups and map of an incident file together (the web app's view).
//! - [`charts`]: every chart, on any plotters backend (SVG for the CLI, canvas in the browser).
//!
//! A pair is **positive** when [`crate::data::pairs::is_positive`] says so (label ≥ 0.5): one
//! definition for the whole crate. Every evaluator also gives its figures as a [`Metrics`] map with a
//! named primary metric, the shape of sentence-transformers' evaluators.
//!
//! Imports: the encoder (to embed pairs), the data layer's pair type and the crate's error type.

pub mod backlog;
pub mod charts;
pub mod groups;
pub mod map;
pub mod metrics;
pub mod neighbours;
pub mod report;
pub mod retrieval;
pub mod similarity;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Named figures with the one that decides which model is better (sentence-transformers'
/// evaluator output: `{"spearman_cosine": …, "roc_auc": …}` plus `primary_metric`). Undefined
/// figures (a correlation of constant labels, an AUC without both classes) are absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Figures by name.
    pub values: BTreeMap<String, f64>,
    /// The name of the primary figure (higher is better).
    pub primary: String,
}

impl Metrics {
    /// A map with `primary` as its primary metric, from `(name, value)` pairs; `None` and
    /// non-finite values are left out.
    pub fn new<'a>(
        primary: &str,
        values: impl IntoIterator<Item = (&'a str, Option<f64>)>,
    ) -> Metrics {
        Metrics {
            values: values
                .into_iter()
                .filter_map(|(k, v)| v.filter(|v| v.is_finite()).map(|v| (k.to_string(), v)))
                .collect(),
            primary: primary.to_string(),
        }
    }

    /// The primary figure, when defined.
    pub fn primary_value(&self) -> Option<f64> {
        self.values.get(&self.primary).copied()
    }

    /// A figure by name, when defined.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    /// The same figures with `prefix_` before every name (`dev_spearman_cosine`), as
    /// sentence-transformers' `prefix_name_to_metrics`.
    pub fn prefixed(&self, prefix: &str) -> Metrics {
        let p = |k: &str| format!("{prefix}_{k}");
        Metrics {
            values: self.values.iter().map(|(k, v)| (p(k), *v)).collect(),
            primary: p(&self.primary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_undefined_figures_and_names_the_primary() {
        let m = Metrics::new(
            "spearman_cosine",
            [
                ("spearman_cosine", Some(0.5)),
                ("roc_auc", None),
                ("pearson_cosine", Some(f64::NAN)),
            ],
        );
        assert_eq!(m.primary_value(), Some(0.5));
        assert_eq!(m.values.len(), 1);
        let d = m.prefixed("dev");
        assert_eq!(d.primary, "dev_spearman_cosine");
        assert_eq!(d.get("dev_spearman_cosine"), Some(0.5));
        assert_eq!(Metrics::new("x", []).primary_value(), None);
    }
}
