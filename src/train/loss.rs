//! Losses over sentence embeddings, each a type that says what it needs and computes itself —
//! sentence-transformers' loss objects. A loss declares which pairs it trains on, which labels it
//! accepts, the smallest batch it can use, how an epoch is cut into batches and whether its batch
//! loss splits over pairs (so the trainer may spread a batch over shards and rounds); the trainer
//! asks, and never branches on which loss it holds.
//!
//! Adding a loss touches this file only: a variant of [`LossKind`] (its name in configs and on the
//! command line), a type implementing [`Loss`], its arm in [`LossKind::build`], and its test.
//!
//! Imports: candle, the batchers of [`super::batch`] and the data layer's pair types.

use candle_core::{Result, Tensor, D};
use serde::{Deserialize, Serialize};

use super::batch::{no_duplicate_batches, shuffled_batches};
use crate::data::pairs::is_positive;

/// Which loss to train with: its name in configs (`"cosine"`) and on the command line (`--loss`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// CosineSimilarityLoss: MSE of the cosine against the label (the seeds' loss).
    #[default]
    Cosine,
    /// MultipleNegativesRankingLoss: positives only, the rest of the batch as negatives.
    Mnrl,
    /// CoSENTLoss: ranks the batch's pairs by label (sentence-transformers' recommendation over
    /// CosineSimilarityLoss).
    Cosent,
}

impl LossKind {
    /// Every loss, in the order `--help` lists them.
    pub const ALL: [LossKind; 3] = [LossKind::Cosine, LossKind::Mnrl, LossKind::Cosent];

    /// The loss object. `scale` is the similarity scale of the losses that have one (MNRL's and
    /// CoSENT's default is 20, sentence-transformers' default for both).
    pub fn build(self, scale: f64) -> Box<dyn Loss> {
        match self {
            LossKind::Cosine => Box::new(CosineSimilarityLoss),
            LossKind::Mnrl => Box::new(MultipleNegativesRankingLoss { scale }),
            LossKind::Cosent => Box::new(CoSentLoss { scale }),
        }
    }
}

impl std::fmt::Display for LossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LossKind::Cosine => "cosine",
            LossKind::Mnrl => "mnrl",
            LossKind::Cosent => "cosent",
        })
    }
}

/// A training loss. The trainer validates the data with it before any work, batches with it, and
/// calls [`Loss::forward`] on the embeddings of each batch (or shard of one).
pub trait Loss: Send + Sync {
    /// The sentence-transformers class name (for messages).
    fn name(&self) -> &'static str;

    /// Whether the loss trains on a pair with this label; pairs it does not are left out of the
    /// run (MNRL: the negatives — the batch supplies its own).
    fn trains_on(&self, _label: f32) -> bool {
        true
    }

    /// `Err(why)` when a label cannot be trained on (checked for every pair before any work).
    fn check_label(&self, _label: f32) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Smallest meaningful batch, and of pairs to train on (in-batch losses need 2).
    fn min_batch(&self) -> usize {
        1
    }

    /// Most columns a row may have: 2 (pairs), or 3 for a loss that takes an explicit negative
    /// (anchor, positive, negative).
    fn max_columns(&self) -> usize {
        2
    }

    /// One epoch's batches of row indices (into the rows it trains on), seeded. `rows` are the
    /// rows' texts.
    fn batches(&self, rows: &[Vec<&str>], batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(rows.len(), batch_size, seed)
    }

    /// Whether the batch loss is the mean of independent per-pair terms: then a batch may be split
    /// into shards and rounds whose gradients add up. A loss that compares the batch's pairs with
    /// each other (in-batch negatives, rankings) runs each batch whole.
    fn per_pair(&self) -> bool {
        true
    }

    /// The loss of a batch: `columns` are the embeddings `[n, d]` of each column of the rows (two,
    /// or up to [`Loss::max_columns`]), `labels` `[n]`.
    fn forward(&self, columns: &[Tensor], labels: &Tensor) -> Result<Tensor>;
}

/// Labels a cosine-based target must lie in.
fn unit_interval(label: f32, loss: &str) -> std::result::Result<(), String> {
    if label.is_finite() && (0.0..=1.0).contains(&label) {
        Ok(())
    } else {
        Err(format!(
            "{label} is outside [0, 1] ({loss} compares it with a cosine)"
        ))
    }
}

/// sentence-transformers' `CosineSimilarityLoss`: mean squared error between `cos(u_i, v_i)` and the
/// label `y_i` in [0, 1].
///
/// Requirements: pairs with a similarity label in [0, 1]. Relations: [`CoSentLoss`] is the stronger
/// signal on the same data (sentence-transformers' docs recommend it).
pub struct CosineSimilarityLoss;

impl Loss for CosineSimilarityLoss {
    fn name(&self) -> &'static str {
        "CosineSimilarityLoss"
    }

    fn check_label(&self, label: f32) -> std::result::Result<(), String> {
        unit_interval(label, "CosineSimilarityLoss")
    }

    fn forward(&self, columns: &[Tensor], labels: &Tensor) -> Result<Tensor> {
        cosine_similarity_loss(&columns[0], &columns[1], labels)
    }
}

/// sentence-transformers' `MultipleNegativesRankingLoss` for (anchor, positive) pairs or (anchor,
/// positive, negative) triplets: every other positive in the batch, and every explicit negative,
/// is a negative.
///
/// Requirements: positive pairs (label ≥ 0.5; the others are left out), batches of at least 2 and
/// without a repeated text — a repeated text would make a true positive a negative
/// (sentence-transformers#3189), so batches come from [`no_duplicate_batches`] over all of a row's
/// texts.
pub struct MultipleNegativesRankingLoss {
    /// Multiplier of the cosine before the softmax (20 in the library).
    pub scale: f64,
}

impl Loss for MultipleNegativesRankingLoss {
    fn name(&self) -> &'static str {
        "MultipleNegativesRankingLoss"
    }

    fn trains_on(&self, label: f32) -> bool {
        is_positive(label as f64)
    }

    fn min_batch(&self) -> usize {
        2
    }

    fn max_columns(&self) -> usize {
        3
    }

    fn batches(&self, rows: &[Vec<&str>], batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
        no_duplicate_batches(rows, batch_size, seed)
            .into_iter()
            .filter(|batch| batch.len() >= 2)
            .collect()
    }

    fn per_pair(&self) -> bool {
        false
    }

    fn forward(&self, columns: &[Tensor], _labels: &Tensor) -> Result<Tensor> {
        match columns {
            [a, p] => multiple_negatives_ranking_loss(a, p, self.scale),
            [a, p, n] => multiple_negatives_ranking_loss(a, &Tensor::cat(&[p, n], 0)?, self.scale),
            _ => candle_core::bail!("MNRL takes 2 or 3 columns, got {}", columns.len()),
        }
    }
}

/// sentence-transformers' `CoSENTLoss`: for every two pairs of the batch where pair `i` is labelled
/// less similar than pair `j`, penalise `cos_i` above `cos_j`:
/// `log(1 + Σ_{y_i < y_j} exp(scale · (cos_i − cos_j)))`. Only the order of the labels matters.
///
/// Requirements: pairs with a similarity label in [0, 1], batches of at least 2 (a lone pair has
/// nothing to be ranked against). Relations: a drop-in replacement for [`CosineSimilarityLoss`].
pub struct CoSentLoss {
    /// Multiplier of the cosine differences (20 in the library).
    pub scale: f64,
}

impl Loss for CoSentLoss {
    fn name(&self) -> &'static str {
        "CoSENTLoss"
    }

    fn check_label(&self, label: f32) -> std::result::Result<(), String> {
        unit_interval(label, "CoSENTLoss")
    }

    fn min_batch(&self) -> usize {
        2
    }

    fn per_pair(&self) -> bool {
        false
    }

    fn forward(&self, columns: &[Tensor], labels: &Tensor) -> Result<Tensor> {
        let scores = (cosine_rows(&columns[0], &columns[1])? * self.scale)?; // [n]
        let n = scores.dim(0)?;
        // diff[i][j] = s_i - s_j, kept where y_i < y_j.
        let diff = scores.unsqueeze(1)?.broadcast_sub(&scores.unsqueeze(0)?)?; // [n, n]
        let y = labels.to_dtype(scores.dtype())?;
        let mask = y.unsqueeze(1)?.broadcast_lt(&y.unsqueeze(0)?)?; // [n, n] u8
                                                                    // log(1 + Σ exp(d)) over the kept entries = logsumexp over {0} ∪ kept, computed stably
                                                                    // from differentiable pieces (the fused softmax has no backward).
        let neg_inf =
            Tensor::full(f32::NEG_INFINITY, (n, n), diff.device())?.to_dtype(diff.dtype())?;
        let kept = mask.where_cond(&diff, &neg_inf)?.flatten_all()?;
        let zero = Tensor::zeros(1, kept.dtype(), kept.device())?;
        let all = Tensor::cat(&[&zero, &kept], 0)?;
        let max = all.max_keepdim(0)?.detach();
        (all.broadcast_sub(&max)?.exp()?.sum_keepdim(0)?.log()? + max)?.squeeze(0)
    }
}

/// `CosineSimilarityLoss` as a function: mean squared error between `cos(u_i, v_i)` and `labels`.
/// `u`, `v` are `[b, d]`, `labels` `[b]`.
pub fn cosine_similarity_loss(u: &Tensor, v: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let cos = cosine_rows(u, v)?;
    (cos - labels)?.sqr()?.mean_all()
}

/// Row-wise cosine similarity of `[b, d]` tensors, `[b]`, as `torch.cosine_similarity`:
/// `u·v / (max(|u|, 1e-8) · max(|v|, 1e-8))`.
pub fn cosine_rows(u: &Tensor, v: &Tensor) -> Result<Tensor> {
    let dot = (u * v)?.sum(D::Minus1)?;
    let nu = u
        .sqr()?
        .sum(D::Minus1)?
        .sqrt()?
        .clamp(1e-8, f64::INFINITY)?;
    let nv = v
        .sqr()?
        .sum(D::Minus1)?
        .sqrt()?
        .clamp(1e-8, f64::INFINITY)?;
    dot / (nu * nv)?
}

/// `MultipleNegativesRankingLoss` as a function: cross-entropy over `scale · cos(anchor_i,
/// candidate_j)` with the matching `j = i` as the target. `anchors` `[b, d]`, `positives`
/// `[m, d]` with `m ≥ b`: the first `b` are the anchors' positives, any after them explicit
/// negatives (the library's `torch.cat(candidates)`), `b ≥ 2` or `m > b`.
pub fn multiple_negatives_ranking_loss(
    anchors: &Tensor,
    positives: &Tensor,
    scale: f64,
) -> Result<Tensor> {
    let unit = |x: &Tensor| -> Result<Tensor> {
        let n = x
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()?
            .clamp(1e-12, f64::INFINITY)?;
        x.broadcast_div(&n)
    };
    let scores = (unit(anchors)?.matmul(&unit(positives)?.t()?)? * scale)?; // [b, b]
                                                                            // log-softmax by rows from differentiable pieces.
    let max = scores.max_keepdim(D::Minus1)?.detach();
    let shifted = scores.broadcast_sub(&max)?;
    let log_z = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let log_p = shifted.broadcast_sub(&log_z)?;
    let (b, m) = scores.dims2()?;
    let eye = Tensor::eye(b, log_p.dtype(), log_p.device())?;
    let eye = if m > b {
        Tensor::cat(
            &[&eye, &Tensor::zeros((b, m - b), eye.dtype(), eye.device())?],
            1,
        )?
    } else {
        eye
    };
    // -mean_i log p(i | i)
    (log_p * eye)?.sum_all()? / -(b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Var};

    #[test]
    fn cosine_loss_by_hand() -> Result<()> {
        let u = Tensor::new(&[[1f32, 0.], [1., 1.]], &Device::Cpu)?;
        let v = Tensor::new(&[[1f32, 0.], [-1., 1.]], &Device::Cpu)?;
        let y = Tensor::new(&[0.5f32, 0.0], &Device::Cpu)?;
        // cos = [1, 0]; ((1 - .5)^2 + 0) / 2 = 0.125
        assert!((cosine_similarity_loss(&u, &v, &y)?.to_scalar::<f32>()? - 0.125).abs() < 1e-7);
        Ok(())
    }

    /// Two orthogonal pairs: cos matrix [[1, 0], [0, 1]], scale 20:
    /// loss = -log(e^20 / (e^20 + e^0)) = log(1 + e^-20).
    #[test]
    fn mnrl_by_hand_and_differentiable() -> Result<()> {
        let a = Var::new(&[[2f32, 0.], [0., 3.]], &Device::Cpu)?;
        let p = Tensor::new(&[[1f32, 0.], [0., 1.]], &Device::Cpu)?;
        let loss = multiple_negatives_ranking_loss(a.as_tensor(), &p, 20.0)?;
        let want = (1.0f64 + (-20f64).exp()).ln();
        assert!((loss.to_scalar::<f32>()? as f64 - want).abs() < 1e-7);
        // Swapped positives: the loss is large (target scores are the lowest) and gradients flow.
        let swapped = Tensor::new(&[[0f32, 1.], [1., 0.]], &Device::Cpu)?;
        let bad = multiple_negatives_ranking_loss(a.as_tensor(), &swapped, 20.0)?;
        assert!(bad.to_scalar::<f32>()? > 19.0);
        let g = bad
            .backward()?
            .get(&a)
            .expect("gradient")
            .abs()?
            .sum_all()?
            .to_scalar::<f32>()?;
        assert!(g > 0.0);
        Ok(())
    }

    /// One anchor with its positive and an explicit negative, plus a second row: the scores of
    /// anchor 0 are over [p0, p1, n0, n1]; by hand with unit vectors.
    #[test]
    fn mnrl_with_explicit_negatives_by_hand() -> Result<()> {
        let dev = Device::Cpu;
        let a = Tensor::new(&[[1f32, 0.], [0., 1.]], &dev)?;
        let p = Tensor::new(&[[1f32, 0.], [0., 1.]], &dev)?;
        // n0 = a0 exactly (as close as the positive), n1 orthogonal to a1's... far.
        let n = Tensor::new(&[[1f32, 0.], [-1., 0.]], &dev)?;
        let loss = MultipleNegativesRankingLoss { scale: 20.0 };
        let got = loss.forward(
            &[a.clone(), p.clone(), n],
            &Tensor::ones(2, DType::F32, &dev)?,
        )?;
        // Row 0: candidates cos [1, 0, 1, -1] -> -log(e^20 / (e^20 + 1 + e^20 + e^-20)).
        let row0 = -(20f64.exp() / (2.0 * 20f64.exp() + 1.0 + (-20f64).exp())).ln();
        // Row 1: candidates cos [0, 1, 0, 0] -> -log(e^20 / (e^20 + 3)).
        let row1 = -(20f64.exp() / (20f64.exp() + 3.0)).ln();
        let want = (row0 + row1) / 2.0;
        assert!(
            (got.to_scalar::<f32>()? as f64 - want).abs() < 1e-5,
            "{got} vs {want}"
        );
        // Two columns: the plain loss.
        let plain = loss.forward(&[a.clone(), p.clone()], &Tensor::ones(2, DType::F32, &dev)?)?;
        let want = (1.0f64 + (-20f64).exp()).ln();
        assert!((plain.to_scalar::<f32>()? as f64 - want).abs() < 1e-6);
        assert_eq!(
            (loss.max_columns(), CoSentLoss { scale: 1.0 }.max_columns()),
            (3, 2)
        );
        Ok(())
    }

    /// The reference formula, written out as sentence-transformers' `CoSENTLoss.forward` computes
    /// it (`scores = cos * scale; scores = scores[:, None] - scores[None, :];
    /// scores = scores - (1 - (labels[:, None] < labels[None, :])) * 1e12;
    /// logsumexp(cat([0], scores.view(-1)))`), in f64 on plain numbers.
    fn cosent_reference(cos: &[f64], labels: &[f64], scale: f64) -> f64 {
        let mut terms = vec![0.0];
        for i in 0..cos.len() {
            for j in 0..cos.len() {
                if labels[i] < labels[j] {
                    terms.push(scale * (cos[i] - cos[j]));
                }
            }
        }
        let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
    }

    #[test]
    fn cosent_matches_the_reference_formula_and_is_differentiable() -> Result<()> {
        let dev = Device::Cpu;
        let u = Var::new(
            &[
                [1f32, 0.2, 0.],
                [0.3, 1., 0.5],
                [0.1, 0.1, 1.],
                [1., 1., 1.],
            ],
            &dev,
        )?;
        let v = Tensor::new(
            &[
                [0.9f32, 0.1, 0.2],
                [1., 0., 0.],
                [0.2, 0.3, 0.9],
                [-1., 0.5, 0.2],
            ],
            &dev,
        )?;
        // Ties (0.5, 0.5) contribute nothing, as in the library.
        let labels = [0.9f32, 0.1, 0.5, 0.5];
        let y = Tensor::new(&labels, &dev)?;
        let loss = CoSentLoss { scale: 20.0 };
        let cols = [u.as_tensor().clone(), v.clone()];
        let got = loss.forward(&cols, &y)?.to_scalar::<f32>()? as f64;
        let cos: Vec<f64> = cosine_rows(u.as_tensor(), &v)?
            .to_vec1::<f32>()?
            .into_iter()
            .map(f64::from)
            .collect();
        let labels64: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
        let want = cosent_reference(&cos, &labels64, 20.0);
        assert!(
            (got - want).abs() < 1e-4 * want.abs().max(1.0),
            "{got} vs {want}"
        );
        // All labels equal: nothing to rank, log(1 + 0) = 0.
        let flat = Tensor::new(&[0.5f32; 4], &dev)?;
        assert!(loss.forward(&cols, &flat)?.to_scalar::<f32>()?.abs() < 1e-7);
        // Perfectly ordered cosines with a large margin: loss near 0; reversed: large.
        let grad = loss
            .forward(&cols, &y)?
            .backward()?
            .get(&u)
            .expect("gradient")
            .abs()?
            .sum_all()?
            .to_scalar::<f32>()?;
        assert!(grad > 0.0, "CoSENT must pass gradients back");
        Ok(())
    }

    #[test]
    fn losses_say_what_they_need() {
        let cosine = LossKind::Cosine.build(20.0);
        let mnrl = LossKind::Mnrl.build(20.0);
        let cosent = LossKind::Cosent.build(20.0);
        assert!(cosine
            .check_label(1.5)
            .unwrap_err()
            .contains("outside [0, 1]"));
        assert!(cosent.check_label(f32::NAN).is_err());
        assert!(mnrl.check_label(7.0).is_ok() && !mnrl.trains_on(0.2) && mnrl.trains_on(0.5));
        assert_eq!(
            [cosine.min_batch(), mnrl.min_batch(), cosent.min_batch()],
            [1, 2, 2]
        );
        assert!(cosine.per_pair() && !mnrl.per_pair() && !cosent.per_pair());
        let names: Vec<String> = LossKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(names, ["cosine", "mnrl", "cosent"]);
        for k in LossKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{k}\""));
        }
    }
}
