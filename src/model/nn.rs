//! Layers shared by the transformer architectures, written so training works:
//!
//! * [`LayerNorm`] uses candle's fused kernel only in inference; in training it is composed of
//!   differentiable ops, because the fused `ops::layer_norm` has no backward (candle#3011) and the
//!   gradient would silently stop there.
//! * [`softmax`] likewise uses the fused kernel only in inference (`softmax_last_dim` is `no_bwd`).
//! * [`Dropout`] is real dropout driven by the crate's seeded [`Rng`] (candle's CPU RNG cannot be
//!   seeded, and candle-transformers' BERT dropout is a stub).
//! * [`Linear`] multiplies a flattened `[tokens, in]` matrix: one large GEMM instead of a batched one.

use std::sync::{Arc, Mutex};

use candle_core::{DType, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Standard deviation BERT-family models use for weight initialisation (`initializer_range`).
const INIT_STD: f64 = 0.02;

/// A dense layer `y = x W^T + b` with Hugging Face weight names `weight` / `bias`.
#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// Load `weight` `[out, in]` and `bias` `[out]` under `vb`.
    pub fn load(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<Self> {
        let weight = vb.get_with_hints(
            (out_dim, in_dim),
            "weight",
            Init::Randn {
                mean: 0.,
                stdev: INIT_STD,
            },
        )?;
        let bias = vb.get_with_hints(out_dim, "bias", Init::Const(0.))?;
        Ok(Linear {
            weight,
            bias: Some(bias),
        })
    }

    /// The weight matrix `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

/// The weight itself in training; in inference a detached handle to the same storage, so candle does
/// not record the op graph (which would keep every intermediate alive until the output is dropped).
fn param(t: &Tensor, train: bool) -> Tensor {
    if train {
        t.clone()
    } else {
        t.detach()
    }
}

impl Linear {
    /// Apply the layer; `train` keeps the op graph for backprop.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let in_dim = *dims.last().expect("Linear input has at least one dim");
        let rows = x.elem_count() / in_dim.max(1);
        let y = x
            .reshape((rows, in_dim))?
            .matmul(&param(&self.weight, train).t()?)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(&param(b, train))?,
            None => y,
        };
        let mut out_dims = dims;
        *out_dims.last_mut().expect("non-empty") = self.weight.dim(0)?;
        y.reshape(out_dims)
    }
}

/// Layer normalisation over the last dimension, HF names `weight` / `bias`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// Load `weight` and `bias` of size `dim` under `vb`.
    pub fn load(vb: VarBuilder, dim: usize, eps: f64) -> Result<Self> {
        let weight = vb.get_with_hints(dim, "weight", Init::Const(1.))?;
        let bias = vb.get_with_hints(dim, "bias", Init::Const(0.))?;
        Ok(LayerNorm { weight, bias, eps })
    }

    /// Normalise `x`. `train` selects the differentiable composition over the fused kernel.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train && x.dtype() == DType::F32 && x.is_contiguous() {
            return candle_nn::ops::layer_norm(
                x,
                &self.weight.detach(),
                &self.bias.detach(),
                self.eps as f32,
            );
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let xn = xc.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        xn.broadcast_mul(&self.weight)?.broadcast_add(&self.bias)
    }
}

/// Softmax over the last dimension; fused only when no gradient is needed.
pub fn softmax(x: &Tensor, train: bool) -> Result<Tensor> {
    if train {
        candle_nn::ops::softmax(x, D::Minus1)
    } else {
        candle_nn::ops::softmax_last_dim(x)
    }
}

/// A token (or position) embedding table, HF name `weight`.
#[derive(Clone, Debug)]
pub struct Embedding {
    weight: Tensor,
}

impl Embedding {
    /// Load a `[n, dim]` table under `vb`.
    pub fn load(vb: VarBuilder, n: usize, dim: usize) -> Result<Self> {
        let weight = vb.get_with_hints(
            (n, dim),
            "weight",
            Init::Randn {
                mean: 0.,
                stdev: INIT_STD,
            },
        )?;
        Ok(Embedding { weight })
    }

    /// Look up ids of any shape; the result has one more (last) dimension.
    pub fn forward_t(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        let mut dims = ids.dims().to_vec();
        dims.push(self.weight.dim(1)?);
        param(&self.weight, train)
            .index_select(&ids.flatten_all()?, 0)?
            .reshape(dims)
    }

    /// The table `[n, dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

/// State shared by all dropout layers of one model: the seeded generator and a switch (dropout off
/// in training gives the deterministic steps the parity tests compare against).
#[derive(Clone, Debug)]
pub struct DropoutState {
    /// Source of the masks.
    pub rng: Rng,
    /// When false, dropout is the identity even in training.
    pub enabled: bool,
}

/// Shared handle to a model's [`DropoutState`].
pub type DropoutRng = Arc<Mutex<DropoutState>>;

/// A new enabled dropout state seeded with `seed`.
pub fn dropout_state(seed: u64) -> DropoutRng {
    Arc::new(Mutex::new(DropoutState {
        rng: Rng::new(seed),
        enabled: true,
    }))
}

/// Inverted dropout: in training, zero each element with probability `p` and scale the rest by
/// `1 / (1 - p)`; identity otherwise.
#[derive(Clone, Debug)]
pub struct Dropout {
    p: f32,
    rng: DropoutRng,
}

impl Dropout {
    /// A dropout layer drawing from `rng`.
    pub fn new(p: f32, rng: DropoutRng) -> Self {
        Dropout { p, rng }
    }

    /// Apply dropout when `train` is set.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if !train || self.p <= 0.0 {
            return Ok(x.clone());
        }
        let mut state = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if !state.enabled {
            return Ok(x.clone());
        }
        if self.p >= 1.0 {
            return x.zeros_like();
        }
        let keep = 1.0 - self.p;
        let scale = 1.0 / keep;
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if state.rng.next_f32() < keep {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        drop(state);
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}

/// Hidden activation named by `hidden_act` in config.json.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HiddenAct {
    /// Exact GELU (erf), what BERT and MPNet use.
    #[default]
    Gelu,
    /// tanh-approximated GELU.
    #[serde(alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    /// ReLU.
    Relu,
}

impl HiddenAct {
    /// Apply the activation.
    pub fn forward(self, x: &Tensor) -> Result<Tensor> {
        match self {
            HiddenAct::Gelu => super::kernels::gelu_erf(x),
            HiddenAct::GeluNew => x.gelu(),
            HiddenAct::Relu => x.relu(),
        }
    }
}

/// Split `[b, s, h]` into heads: `[b, heads, s, h / heads]`.
pub fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, s, h) = x.dims3()?;
    x.reshape((b, s, heads, h / heads))?
        .transpose(1, 2)?
        .contiguous()
}

/// Scaled dot-product attention with an additive bias (padding mask, relative positions):
/// `softmax(q k^T / sqrt(d) + bias) v`, with dropout on the probabilities, heads merged back to
/// `[b, s, h]`. `q`, `k`, `v` are `[b, heads, s, d]`; `bias` broadcasts to `[b, heads, s, s]`.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    dropout: &Dropout,
    train: bool,
) -> Result<Tensor> {
    let (b, heads, s, d) = q.dims4()?;
    let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    let scores = scores.broadcast_add(bias)?;
    let probs = dropout.forward_t(&softmax(&scores, train)?, train)?;
    probs.matmul(v)?.transpose(1, 2)?.reshape((b, s, heads * d))
}

/// Additive attention bias from a `[b, s]` 0/1 mask: 0 where attended, a large negative number at
/// padding, shaped `[b, 1, 1, s]` to broadcast over heads and query positions.
pub fn mask_bias(mask: &Tensor) -> Result<Tensor> {
    let (b, s) = mask.dims2()?;
    // (mask - 1) * 1e9: 0 for tokens, -1e9 for padding (exp underflows to exactly 0, like torch's
    // finfo.min, while staying finite so no NaN can appear in the backward pass).
    ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((b, 1, 1, s))
}

/// The position-wise feed-forward block of BERT-style layers:
/// `LayerNorm(dropout(output.dense(act(intermediate.dense(x)))) + x)`.
/// BERT and MPNet use the same weight names (`intermediate.dense`, `output.dense`, `output.LayerNorm`).
#[derive(Clone, Debug)]
pub struct FeedForward {
    intermediate: Linear,
    act: HiddenAct,
    output: Linear,
    norm: LayerNorm,
    dropout: Dropout,
}

impl FeedForward {
    /// Load from a layer's `VarBuilder` (the one whose children are `intermediate` and `output`).
    pub fn load(
        vb: VarBuilder,
        hidden: usize,
        inner: usize,
        act: HiddenAct,
        eps: f64,
        dropout: Dropout,
    ) -> Result<Self> {
        Ok(FeedForward {
            intermediate: Linear::load(vb.pp("intermediate").pp("dense"), hidden, inner)?,
            act,
            output: Linear::load(vb.pp("output").pp("dense"), inner, hidden)?,
            norm: LayerNorm::load(vb.pp("output").pp("LayerNorm"), hidden, eps)?,
            dropout,
        })
    }

    /// Apply the block to `[b, s, hidden]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let h = self.act.forward(&self.intermediate.forward_t(x, train)?)?;
        let h = self
            .dropout
            .forward_t(&self.output.forward_t(&h, train)?, train)?;
        self.norm.forward_t(&(h + x)?, train)
    }
}

/// Shape of one transformer layer, from the architecture's config.
#[derive(Clone, Copy, Debug)]
pub struct LayerConfig {
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward inner size.
    pub intermediate: usize,
    /// Feed-forward activation.
    pub act: HiddenAct,
    /// Layer-norm epsilon.
    pub eps: f64,
    /// Dropout on sub-layer outputs.
    pub hidden_dropout: f32,
    /// Dropout on attention probabilities.
    pub attention_dropout: f32,
}

/// Hugging Face weight paths of a layer's attention block, relative to the layer. BERT and MPNet
/// layers compute the same thing under different names.
#[derive(Clone, Copy, Debug)]
pub struct AttentionNames {
    /// Query projection.
    pub q: &'static str,
    /// Key projection.
    pub k: &'static str,
    /// Value projection.
    pub v: &'static str,
    /// Output projection.
    pub o: &'static str,
    /// Layer norm after the residual.
    pub norm: &'static str,
}

/// A post-norm transformer layer: self-attention with an additive bias, residual, layer norm, then
/// the feed-forward block.
#[derive(Clone, Debug)]
pub struct EncoderLayer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attn_dropout: Dropout,
    attn_norm: LayerNorm,
    hidden_dropout: Dropout,
    ffn: FeedForward,
    heads: usize,
}

impl EncoderLayer {
    /// Load from the layer's `VarBuilder` (e.g. `encoder.layer.3`).
    pub fn load(
        vb: VarBuilder,
        names: &AttentionNames,
        cfg: &LayerConfig,
        rng: &DropoutRng,
    ) -> Result<Self> {
        let h = cfg.hidden;
        let hidden_dropout = Dropout::new(cfg.hidden_dropout, rng.clone());
        Ok(EncoderLayer {
            q: Linear::load(vb.pp(names.q), h, h)?,
            k: Linear::load(vb.pp(names.k), h, h)?,
            v: Linear::load(vb.pp(names.v), h, h)?,
            o: Linear::load(vb.pp(names.o), h, h)?,
            attn_dropout: Dropout::new(cfg.attention_dropout, rng.clone()),
            attn_norm: LayerNorm::load(vb.pp(names.norm), h, cfg.eps)?,
            hidden_dropout: hidden_dropout.clone(),
            ffn: FeedForward::load(vb, h, cfg.intermediate, cfg.act, cfg.eps, hidden_dropout)?,
            heads: cfg.heads,
        })
    }

    /// Apply the layer to `[b, s, hidden]`; `bias` broadcasts to `[b, heads, s, s]`.
    pub fn forward_t(&self, x: &Tensor, bias: &Tensor, train: bool) -> Result<Tensor> {
        let q = split_heads(&self.q.forward_t(x, train)?, self.heads)?;
        let k = split_heads(&self.k.forward_t(x, train)?, self.heads)?;
        let v = split_heads(&self.v.forward_t(x, train)?, self.heads)?;
        let ctx = attention(&q, &k, &v, bias, &self.attn_dropout, train)?;
        let a = self
            .hidden_dropout
            .forward_t(&self.o.forward_t(&ctx, train)?, train)?;
        let a = self.attn_norm.forward_t(&(a + x)?, train)?;
        self.ffn.forward_t(&a, train)
    }
}
