//! sentence-transformers' EmbeddingSimilarityEvaluator: the cosine of the two embeddings of each pair
//! against its label, as Pearson and Spearman (Spearman is the primary metric, as there). When the
//! labels are binary (every label 0 or 1, both present) the ROC-AUC of the cosine is added: that is
//! the figure that matters for duplicate detection. Graded labels (STS scores) get no AUC here —
//! thresholding them is the report's business ([`super::report`]), which says so.
//!
//! [`similarity_metrics`] takes labels and scores; [`evaluate`] embeds the pairs first.

use serde::{Deserialize, Serialize};

use super::Metrics;
use crate::data::pairs::{is_positive, TrainPair};
use crate::error::{Error, Result};
use crate::eval::metrics::{best_f1_threshold, pearson, roc_auc, spearman};
use crate::{cosine, SentenceEncoder};

/// Texts per forward pass while evaluating.
const EVAL_BATCH: usize = 32;

/// Similarity metrics of an encoder on labelled pairs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Pearson correlation of cosine and label (`null` when the labels are constant).
    pub pearson: Option<f64>,
    /// Spearman correlation of cosine and label: the primary metric.
    pub spearman: Option<f64>,
    /// ROC-AUC of the cosine for label 1 vs label 0, when the labels are binary.
    pub roc_auc: Option<f64>,
    /// Mean cosine over the pairs.
    pub mean_cosine: f64,
    /// The cosine threshold with the best F1 (0.01 grid), when the labels are binary and both
    /// classes occur: what `ticketsim group` uses for a model folder that carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_f1_threshold: Option<f64>,
}

impl EvalMetrics {
    /// Name of the primary metric in [`EvalMetrics::metrics`].
    pub const PRIMARY: &'static str = "spearman_cosine";

    /// The figures as a metrics map under sentence-transformers' names (`pearson_cosine`,
    /// `spearman_cosine`, `roc_auc`, `mean_cosine`), Spearman primary.
    pub fn metrics(&self) -> Metrics {
        Metrics::new(
            Self::PRIMARY,
            [
                ("pearson_cosine", self.pearson),
                ("spearman_cosine", self.spearman),
                ("roc_auc", self.roc_auc),
                ("mean_cosine", Some(self.mean_cosine)),
            ],
        )
    }

    /// The metric used to pick the best checkpoint (Spearman), if defined.
    pub fn primary(&self) -> Option<f64> {
        self.metrics().primary_value()
    }
}

/// Cosine similarity of every pair's two embeddings (both texts of all pairs encoded together, in
/// batches of `batch_size`).
pub fn pair_cosines(
    enc: &SentenceEncoder,
    pairs: &[(&str, &str)],
    batch_size: usize,
) -> Result<Vec<f64>> {
    let texts: Vec<&str> = pairs
        .iter()
        .map(|p| p.0)
        .chain(pairs.iter().map(|p| p.1))
        .collect();
    let embs = enc.encode(&texts, batch_size)?;
    let n = pairs.len();
    Ok((0..n)
        .map(|i| cosine(&embs[i], &embs[n + i]) as f64)
        .collect())
}

/// The figures of `scores` (one per pair, e.g. cosines) against gold `labels`: Pearson and Spearman
/// on the labels as they are, ROC-AUC when every label is 0 or 1 (positives by
/// [`crate::data::pairs::is_positive`]). At least one pair; lengths must agree.
pub fn similarity_metrics(labels: &[f64], scores: &[f64]) -> Result<EvalMetrics> {
    if labels.is_empty() {
        return Err(Error::Invalid("evaluation needs at least one pair".into()));
    }
    if labels.len() != scores.len() {
        return Err(Error::Invalid(format!(
            "{} labels but {} scores",
            labels.len(),
            scores.len()
        )));
    }
    let finite = |x: f64| x.is_finite().then_some(x);
    let binary = labels.iter().all(|&l| l == 0.0 || l == 1.0);
    let (auc, threshold) = if binary {
        let pos: Vec<bool> = labels.iter().map(|&l| is_positive(l)).collect();
        let auc = finite(roc_auc(scores, &pos));
        // Defined only with both classes (the AUC is then defined too).
        let t = auc.map(|_| best_f1_threshold(scores, &pos).threshold);
        (auc, t)
    } else {
        (None, None)
    };
    Ok(EvalMetrics {
        pairs: labels.len(),
        pearson: finite(pearson(scores, labels)),
        spearman: finite(spearman(scores, labels)),
        roc_auc: auc,
        mean_cosine: scores.iter().sum::<f64>() / scores.len() as f64,
        best_f1_threshold: threshold,
    })
}

/// Evaluate `enc` on `pairs` (at least one pair): embed both texts of each, then
/// [`similarity_metrics`] of the cosines.
pub fn evaluate(enc: &SentenceEncoder, pairs: &[TrainPair]) -> Result<EvalMetrics> {
    if pairs.is_empty() {
        return Err(Error::Invalid("evaluation needs at least one pair".into()));
    }
    let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
    let sims = pair_cosines(enc, &texts, EVAL_BATCH)?;
    let labels: Vec<f64> = pairs.iter().map(|p| p.label as f64).collect();
    similarity_metrics(&labels, &sims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_only_for_binary_labels_and_spearman_primary() {
        let m = similarity_metrics(&[0.0, 1.0, 0.0, 1.0], &[0.1, 0.9, 0.4, 0.3]).unwrap();
        assert_eq!(m.roc_auc, Some(0.75));
        assert_eq!(m.metrics().primary, "spearman_cosine");
        assert_eq!(m.primary(), m.spearman);
        let graded = similarity_metrics(&[0.2, 0.8, 0.4], &[0.1, 0.9, 0.4]).unwrap();
        assert_eq!(graded.roc_auc, None);
        assert!((graded.spearman.unwrap() - 1.0).abs() < 1e-12);
        // Constant labels: correlations undefined, so no primary figure.
        let flat = similarity_metrics(&[1.0, 1.0], &[0.3, 0.5]).unwrap();
        assert_eq!((flat.spearman, flat.primary()), (None, None));
        assert!(similarity_metrics(&[], &[]).is_err());
        assert!(similarity_metrics(&[1.0], &[0.1, 0.2]).is_err());
    }
}
