//! Losses over sentence embeddings.

use candle_core::{Result, Tensor, D};

/// sentence-transformers' `CosineSimilarityLoss`: mean squared error between `cos(u_i, v_i)` and the
/// label `y_i` (in [0, 1]). `u`, `v` are `[b, d]`, `labels` `[b]`.
///
/// Cosine as `torch.cosine_similarity`: `u·v / (max(|u|, 1e-8) · max(|v|, 1e-8))`.
pub fn cosine_similarity_loss(u: &Tensor, v: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let cos = cosine_rows(u, v)?;
    (cos - labels)?.sqr()?.mean_all()
}

/// Row-wise cosine similarity of `[b, d]` tensors, `[b]`.
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

/// sentence-transformers' `MultipleNegativesRankingLoss` for (anchor, positive) pairs: every other
/// positive in the batch is a negative. Cross-entropy over `scale · cos(anchor_i, positive_j)` with the
/// matching `j = i` as the target (the library's default scale is 20). `[b, d]` inputs, `b ≥ 2`.
///
/// Batches must not repeat a text, or a true positive becomes a negative: see
/// [`no_duplicate_batches`](super::batch::no_duplicate_batches).
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
    let b = scores.dim(0)?;
    let eye = Tensor::eye(b, log_p.dtype(), log_p.device())?;
    // -mean_i log p(i | i)
    (log_p * eye)?.sum_all()? / -(b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

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
}
