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
