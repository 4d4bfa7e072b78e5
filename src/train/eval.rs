//! sentence-transformers' EmbeddingSimilarityEvaluator: the cosine of the two embeddings of each pair
//! against its label, as Pearson and Spearman (Spearman is the primary metric, as there). When the
//! labels are binary (every label 0 or 1, both present) the ROC-AUC of the cosine is added: that is
//! the figure that matters for duplicate detection.

use serde::{Deserialize, Serialize};

use super::trainer::TrainPair;
use crate::error::{Error, Result};
use crate::metrics::{pearson, roc_auc, spearman};
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
}

impl EvalMetrics {
    /// The metric used to pick the best checkpoint (Spearman), if defined.
    pub fn primary(&self) -> Option<f64> {
        self.spearman
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

/// Evaluate `enc` on `pairs` (at least one pair).
pub fn evaluate(enc: &SentenceEncoder, pairs: &[TrainPair]) -> Result<EvalMetrics> {
    if pairs.is_empty() {
        return Err(Error::Invalid("evaluation needs at least one pair".into()));
    }
    let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
    let sims = pair_cosines(enc, &texts, EVAL_BATCH)?;
    let labels: Vec<f64> = pairs.iter().map(|p| p.label as f64).collect();
    let finite = |x: f64| x.is_finite().then_some(x);
    let binary = labels.iter().all(|&l| l == 0.0 || l == 1.0);
    let auc = if binary {
        let pos: Vec<bool> = labels.iter().map(|&l| l == 1.0).collect();
        finite(roc_auc(&sims, &pos))
    } else {
        None
    };
    Ok(EvalMetrics {
        pairs: pairs.len(),
        pearson: finite(pearson(&sims, &labels)),
        spearman: finite(spearman(&sims, &labels)),
        roc_auc: auc,
        mean_cosine: sims.iter().sum::<f64>() / sims.len() as f64,
    })
}
