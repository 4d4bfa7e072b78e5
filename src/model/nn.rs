//! Layers shared by the transformer architectures, written so training works:
//!
//! * [`LayerNorm`] uses candle's fused kernel only in inference: candle's `ops::layer_norm` has no
//!   backward (candle#3011) and the gradient would silently stop there. Training uses our fused CPU
//!   kernel with its own backward (`kernels::layer_norm`), or differentiable ops on other devices.
//! * [`softmax`] likewise (`softmax_last_dim` is `no_bwd`; `kernels::softmax_last_dim` is not).
//! * [`Dropout`] is real dropout driven by the crate's seeded [`Rng`] (candle's CPU RNG cannot be
//!   seeded, and candle-transformers' BERT dropout is a stub).
//! * [`Linear`] multiplies a flattened `[tokens, in]` matrix: one large GEMM instead of a batched one.
//! * Token states travel *packed* (`[real tokens, hidden]`, see [`Packing`]): every per-token op
//!   (linears, layer norms, GELU, dropout) skips padding; only attention sees a padded batch.

use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Standard deviation BERT-family models use for weight initialisation (`initializer_range`).
const INIT_STD: f64 = 0.02;

/// The number format matrix products are computed in. Only the products change: weights (and the
/// optimiser's state) stay f32 "master weights", and layer norms, softmax, GELU, the loss and every
/// reduction stay f32 — what PyTorch's autocast does for `torch.autocast("cuda", torch.bfloat16)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Everything in f32.
    #[default]
    F32,
    /// Matrix products in bfloat16 (f32's range, 8-bit mantissa): no loss scaling needed.
    Bf16,
    /// Matrix products in float16 (10-bit mantissa, range to 65504).
    F16,
}

impl Precision {
    /// The dtype products are cast to, `None` for f32.
    pub fn autocast_dtype(self) -> Option<DType> {
        match self {
            Precision::F32 => None,
            Precision::Bf16 => Some(DType::BF16),
            Precision::F16 => Some(DType::F16),
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(c: u8) -> Self {
        match c {
            1 => Precision::Bf16,
            2 => Precision::F16,
            _ => Precision::F32,
        }
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            "f16" | "fp16" | "float16" => Ok(Precision::F16),
            _ => Err(format!("`{s}`: expected f32, bf16 or f16")),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        })
    }
}

/// One model's switchable [`Precision`], shared by its layers (like [`DropoutRng`]): the trainer
/// turns reduced precision on for its steps and back off, so evaluation runs in f32 as in
/// sentence-transformers' AMP training.
#[derive(Clone, Debug, Default)]
pub struct Autocast(Arc<AtomicU8>);

impl Autocast {
    /// The precision now in force.
    pub fn get(&self) -> Precision {
        Precision::from_code(self.0.load(Ordering::Relaxed))
    }

    /// Change it; returns the previous one.
    pub fn set(&self, p: Precision) -> Precision {
        Precision::from_code(self.0.swap(p.code(), Ordering::Relaxed))
    }

    /// `a · b` computed in the precision in force, returned in `a`'s dtype. Under a reduced
    /// precision the inputs are cast (differentiably: the gradient is cast back), the product runs
    /// on the GPU's tensor cores, and the f32 result keeps the rest of the network in f32. In f32
    /// on the CPU in wasm, the product is [`super::wasm_gemm::matmul`].
    pub fn matmul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        match self.get().autocast_dtype() {
            Some(dt) if a.dtype() != dt => a
                .to_dtype(dt)?
                .matmul(&b.to_dtype(dt)?)?
                .to_dtype(a.dtype()),
            // In wasm our packed 4×8 SIMD kernel beats candle's (see `wasm_gemm`); natively
            // candle's matmul (AVX/FMA gemm, or the GPU) stays.
            #[cfg(target_arch = "wasm32")]
            _ if a.device().is_cpu() && a.dtype() == DType::F32 && b.dtype() == DType::F32 => {
                super::wasm_gemm::matmul(a, b)
            }
            _ => a.matmul(b),
        }
    }
}

/// A dense layer `y = x W^T + b` with Hugging Face weight names `weight` / `bias`.
#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
    autocast: Autocast,
}

impl Linear {
    /// Load `weight` `[out, in]` and `bias` `[out]` under `vb`; products follow `autocast`.
    pub fn load(
        vb: VarBuilder,
        in_dim: usize,
        out_dim: usize,
        autocast: &Autocast,
    ) -> Result<Self> {
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
            autocast: autocast.clone(),
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
        let y = self.autocast.matmul(
            &x.reshape((rows, in_dim))?,
            &param(&self.weight, train).t()?,
        )?;
        let y = match &self.bias {
            Some(b) if y.device().is_cpu() && y.dtype() == candle_core::DType::F32 => {
                super::kernels::bias_add(&y, &param(b, train))?
            }
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
        if x.device().is_cpu() && x.dtype() == DType::F32 {
            return super::kernels::layer_norm(x, &self.weight, &self.bias, self.eps);
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
    if train && x.device().is_cpu() && x.dtype() == DType::F32 {
        super::kernels::softmax_last_dim(x)
    } else if train {
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

/// Word-embedding rows supplied by the caller instead of the whole table, for sparse training
/// updates: `table` `[rows, hidden]` holds just the rows a batch uses (a separate leaf, so the
/// backward pass yields a `[rows, hidden]` gradient rather than a dense vocabulary-sized one) and
/// `ids` `[b, s]` index into it.
#[derive(Clone, Copy, Debug)]
pub struct WordRows<'a> {
    /// The rows, `[rows, hidden]`.
    pub table: &'a Tensor,
    /// Batch ids remapped into `table`, `[b, s]` u32.
    pub ids: &'a Tensor,
}

impl Embedding {
    /// Packed word vectors `[tokens, hidden]` of padded `ids`, from the table or from `rows`.
    pub fn lookup_packed(
        &self,
        ids: &Tensor,
        packing: &Packing,
        rows: Option<WordRows>,
        train: bool,
    ) -> Result<Tensor> {
        match rows {
            Some(r) => r.table.index_select(&packing.unpad_ids(r.ids)?, 0),
            None => self.forward_t(&packing.unpad_ids(ids)?, train),
        }
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

    /// Apply dropout when `train` is set. Masks come from this thread's [`with_dropout_seed`]
    /// stream when one is active, else from the model's shared generator.
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
        if !x.device().is_cpu() {
            // On a GPU the mask is drawn on the device (cuRAND, seeded per step by the trainer
            // through `Device::set_seed`): drawing it here and copying it over would move tens of
            // MB per layer (attention masks are heads × s × s per sequence) through the CPU.
            drop(state);
            return device_dropout(x, self.p);
        }
        let draw = |rng: &mut Rng| -> Vec<f32> {
            (0..x.elem_count())
                .map(|_| if rng.next_f32() < keep { scale } else { 0.0 })
                .collect()
        };
        // With a per-thread stream, release the shared lock first: shards on other threads must
        // not wait for this mask.
        let mask = DROPOUT_STREAM.with(|stream| match stream.borrow_mut().as_mut() {
            Some(rng) => {
                drop(state);
                draw(rng)
            }
            None => draw(&mut state.rng),
        });
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}

/// Inverted dropout with the mask drawn by the device's own generator (the GPU path of
/// [`Dropout`]; on the CPU candle's generator cannot be seeded, so the CPU uses the crate's).
fn device_dropout(x: &Tensor, p: f32) -> Result<Tensor> {
    let u = Tensor::rand(0f32, 1f32, x.shape(), x.device())?;
    let mask = (u.ge(p as f64)?.to_dtype(x.dtype())? * (1.0 / (1.0 - p as f64)))?;
    x.mul(&mask)
}

thread_local! {
    /// Per-thread dropout generator, set by [`with_dropout_seed`].
    static DROPOUT_STREAM: std::cell::RefCell<Option<Rng>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with every dropout mask on this thread drawn from a generator seeded with `seed`. Training
/// runs shards of a batch on several threads; giving each shard its own stream keeps the masks
/// (and so the run) identical whatever the thread count or scheduling.
pub fn with_dropout_seed<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    let previous = DROPOUT_STREAM.with(|s| s.replace(Some(Rng::new(seed))));
    let out = f();
    DROPOUT_STREAM.with(|s| *s.borrow_mut() = previous);
    out
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
/// `[b, s, h]`. `q`, `k`, `v` are `[b, heads, s, d]`; `bias` broadcasts to `[b, heads, s, s]`. The
/// two products follow `autocast`; the softmax stays f32.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    bias: &Tensor,
    dropout: &Dropout,
    autocast: &Autocast,
    train: bool,
) -> Result<Tensor> {
    let (b, heads, s, d) = q.dims4()?;
    let scores = (autocast.matmul(q, &k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    let scores = scores.broadcast_add(bias)?;
    let probs = dropout.forward_t(&softmax(&scores, train)?, train)?;
    autocast
        .matmul(&probs, v)?
        .transpose(1, 2)?
        .reshape((b, s, heads * d))
}

/// Additive attention bias from a `[b, s]` 0/1 mask: 0 where attended, a large negative number at
/// padding, shaped `[b, 1, 1, s]` to broadcast over heads and query positions.
pub fn mask_bias(mask: &Tensor) -> Result<Tensor> {
    let (b, s) = mask.dims2()?;
    // (mask - 1) * 1e9: 0 for tokens, -1e9 for padding (exp underflows to exactly 0, like torch's
    // finfo.min, while staying finite so no NaN can appear in the backward pass).
    ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?.reshape((b, 1, 1, s))
}

/// How the real tokens of a padded `[b, s]` batch map to the rows of a packed `[tokens, hidden]`
/// matrix. Per-token work (about 90% of the FLOPs) runs on the packed rows: short-text batches are
/// ~40% padding (STS-B train: 1.70 padded tokens per real one at batch 32), which a padded layout
/// would multiply through every GEMM. Gathers are differentiable (`index_select`'s backward is an
/// index-add), so training sees the same maths.
#[derive(Clone, Debug)]
pub struct Packing {
    batch: usize,
    len: usize,
    tokens: usize,
    /// `[b * s]`: packed row of each padded slot; padding slots point at row 0 (masked out in
    /// attention as keys, dropped as queries).
    pad_index: Tensor,
    /// `[tokens]`: padded slot (`b * s + t`) of each packed row.
    unpad_index: Tensor,
}

impl Packing {
    /// Packing for a 0/1 `mask` `[b, s]`: packed rows are the mask's ones in row-major order.
    pub fn from_mask(mask: &Tensor) -> Result<Self> {
        let (batch, len) = mask.dims2()?;
        let m = mask.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let mut pad_index = vec![0u32; batch * len];
        let mut unpad_index = Vec::with_capacity(m.len());
        for (slot, &v) in m.iter().enumerate() {
            if v != 0.0 {
                pad_index[slot] = unpad_index.len() as u32;
                unpad_index.push(slot as u32);
            }
        }
        let tokens = unpad_index.len();
        if tokens == 0 {
            candle_core::bail!("batch has no tokens (the attention mask is all zeros)");
        }
        let dev = mask.device();
        Ok(Packing {
            batch,
            len,
            tokens,
            pad_index: Tensor::from_vec(pad_index, batch * len, dev)?,
            unpad_index: Tensor::from_vec(unpad_index, tokens, dev)?,
        })
    }

    /// Real tokens (packed rows).
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    fn dense(&self) -> bool {
        self.tokens == self.batch * self.len
    }

    /// `[tokens, h]` → `[b, s, h]`; padding slots hold copies of row 0.
    pub fn pad(&self, x: &Tensor) -> Result<Tensor> {
        let h = x.dim(1)?;
        let x = if self.dense() {
            x.clone()
        } else {
            x.index_select(&self.pad_index, 0)?
        };
        x.reshape((self.batch, self.len, h))
    }

    /// `[b, s, h]` (or anything with `b * s` rows) → `[tokens, h]`.
    pub fn unpad(&self, x: &Tensor) -> Result<Tensor> {
        let h = *x.dims().last().expect("at least one dim");
        let x = x.reshape((self.batch * self.len, h))?;
        if self.dense() {
            Ok(x)
        } else {
            x.index_select(&self.unpad_index, 0)
        }
    }

    /// Per-slot values `[b, s]` (ids, positions) → the packed rows' values `[tokens]`.
    pub fn unpad_ids(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.flatten_all()?;
        if self.dense() {
            Ok(x)
        } else {
            x.index_select(&self.unpad_index, 0)
        }
    }
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
        autocast: &Autocast,
    ) -> Result<Self> {
        Ok(FeedForward {
            intermediate: Linear::load(vb.pp("intermediate").pp("dense"), hidden, inner, autocast)?,
            act,
            output: Linear::load(vb.pp("output").pp("dense"), inner, hidden, autocast)?,
            norm: LayerNorm::load(vb.pp("output").pp("LayerNorm"), hidden, eps)?,
            dropout,
        })
    }

    /// Apply the block to token states `[..., hidden]`.
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
    autocast: Autocast,
}

impl EncoderLayer {
    /// Load from the layer's `VarBuilder` (e.g. `encoder.layer.3`).
    pub fn load(
        vb: VarBuilder,
        names: &AttentionNames,
        cfg: &LayerConfig,
        rng: &DropoutRng,
        autocast: &Autocast,
    ) -> Result<Self> {
        let h = cfg.hidden;
        let hidden_dropout = Dropout::new(cfg.hidden_dropout, rng.clone());
        Ok(EncoderLayer {
            q: Linear::load(vb.pp(names.q), h, h, autocast)?,
            k: Linear::load(vb.pp(names.k), h, h, autocast)?,
            v: Linear::load(vb.pp(names.v), h, h, autocast)?,
            o: Linear::load(vb.pp(names.o), h, h, autocast)?,
            attn_dropout: Dropout::new(cfg.attention_dropout, rng.clone()),
            attn_norm: LayerNorm::load(vb.pp(names.norm), h, cfg.eps)?,
            hidden_dropout: hidden_dropout.clone(),
            ffn: FeedForward::load(
                vb,
                h,
                cfg.intermediate,
                cfg.act,
                cfg.eps,
                hidden_dropout,
                autocast,
            )?,
            heads: cfg.heads,
            autocast: autocast.clone(),
        })
    }

    /// Apply the layer to packed token states `[tokens, hidden]` (see [`Packing`]); `bias`
    /// broadcasts to `[b, heads, s, s]`.
    pub fn forward_t(
        &self,
        x: &Tensor,
        packing: &Packing,
        bias: &Tensor,
        train: bool,
    ) -> Result<Tensor> {
        let heads = |l: &Linear| -> Result<Tensor> {
            split_heads(&packing.pad(&l.forward_t(x, train)?)?, self.heads)
        };
        let ctx = attention(
            &heads(&self.q)?,
            &heads(&self.k)?,
            &heads(&self.v)?,
            bias,
            &self.attn_dropout,
            &self.autocast,
            train,
        )?;
        let ctx = packing.unpad(&ctx)?;
        let a = self
            .hidden_dropout
            .forward_t(&self.o.forward_t(&ctx, train)?, train)?;
        let a = self.attn_norm.forward_t(&(a + x)?, train)?;
        self.ffn.forward_t(&a, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The GPU dropout path's arithmetic, run on the CPU: about 1 − p of the elements kept, each
    /// scaled by 1 / (1 − p), the rest exactly 0, and the mean preserved.
    #[test]
    fn device_dropout_keeps_and_scales() -> Result<()> {
        let x = Tensor::ones((200, 500), DType::F32, &Device::Cpu)?;
        let y = device_dropout(&x, 0.1)?.flatten_all()?.to_vec1::<f32>()?;
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.9).abs() < 0.01, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        let mean = y.iter().map(|&v| v as f64).sum::<f64>() / y.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
        Ok(())
    }

    #[test]
    fn precision_spellings_and_autocast_switch() {
        assert_eq!("BF16".parse(), Ok(Precision::Bf16));
        assert_eq!("fp16".parse(), Ok(Precision::F16));
        assert_eq!("float32".parse(), Ok(Precision::F32));
        assert!("int8"
            .parse::<Precision>()
            .unwrap_err()
            .contains("f32, bf16 or f16"));
        let a = Autocast::default();
        assert_eq!(a.get(), Precision::F32);
        assert_eq!(a.set(Precision::F16), Precision::F32);
        assert_eq!(a.clone().get(), Precision::F16, "clones share the switch");
        assert_eq!(serde_json::to_string(&Precision::Bf16).unwrap(), "\"bf16\"");
    }
}
