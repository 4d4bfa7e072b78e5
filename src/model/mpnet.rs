//! MPNet encoder (as used by all-mpnet-base-v2), trainable.
//!
//! candle has no MPNet, so this is a port of Hugging Face transformers' `MPNetModel`
//! (models/mpnet/modeling_mpnet.py) in the shape of `bert.rs`, without the pooler. What differs from
//! BERT:
//! * position ids count only non-padding tokens and start after the padding id
//!   (`create_position_ids_from_input_ids`: `cumsum(ids != pad) * (ids != pad) + pad`);
//! * no token-type embeddings;
//! * attention adds a learnt relative-position bias, one scalar per head and bucket, from the T5-style
//!   bucketing of `key_pos - query_pos` (32 buckets, max distance 128), computed once and shared by
//!   every layer (`encoder.relative_attention_bias`);
//! * attention weight names are `attention.attn.{q,k,v,o}` and `attention.LayerNorm`.

use candle_core::{DType, Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::nn::{
    mask_bias, AttentionNames, Autocast, Dropout, DropoutRng, Embedding, EncoderLayer, HiddenAct,
    LayerConfig, LayerNorm, Packing, WordRows,
};

fn default_dropout() -> f32 {
    0.1
}
fn default_eps() -> f64 {
    1e-5
}
fn default_pad() -> u32 {
    1
}
fn default_buckets() -> usize {
    32
}

/// The fields of an MPNet `config.json` this implementation reads.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Config {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Number of layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Feed-forward inner size.
    pub intermediate_size: usize,
    /// Feed-forward activation.
    #[serde(default)]
    pub hidden_act: HiddenAct,
    /// Dropout on embeddings and sub-layer outputs.
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f32,
    /// Dropout on attention probabilities.
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f32,
    /// Size of the position table (514 = 512 + padding offset).
    pub max_position_embeddings: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Padding token id (also the position offset).
    #[serde(default = "default_pad")]
    pub pad_token_id: u32,
    /// Number of relative-position buckets.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
}

/// Max distance of the relative-position bucketing (fixed in HF's implementation).
const MAX_DISTANCE: i64 = 128;

/// HF `MPNetEncoder.relative_position_bucket` for one `relative_position = key - query`.
///
/// The log-spaced branch is evaluated in f32, as torch does for a float32 tensor, so that the
/// truncation to an integer lands on the same bucket at the exact powers of two.
pub fn relative_position_bucket(relative_position: i64, num_buckets: usize) -> usize {
    let half = (num_buckets / 2) as i64;
    let n = -relative_position;
    let mut ret = if n < 0 { half } else { 0 };
    let n = n.abs();
    let max_exact = half / 2;
    if n < max_exact {
        ret += n;
    } else {
        let ratio = (n as f32 / max_exact as f32).ln()
            / ((MAX_DISTANCE as f64 / max_exact as f64).ln() as f32);
        let large = max_exact + (ratio * (half - max_exact) as f32) as i64;
        ret += large.min(half - 1);
    }
    ret as usize
}

/// Where MPNet keeps a layer's attention weights.
const ATTENTION: AttentionNames = AttentionNames {
    q: "attention.attn.q",
    k: "attention.attn.k",
    v: "attention.attn.v",
    o: "attention.attn.o",
    norm: "attention.LayerNorm",
};

impl Config {
    fn layer(&self) -> LayerConfig {
        LayerConfig {
            hidden: self.hidden_size,
            heads: self.num_attention_heads,
            intermediate: self.intermediate_size,
            act: self.hidden_act,
            eps: self.layer_norm_eps,
            hidden_dropout: self.hidden_dropout_prob,
            attention_dropout: self.attention_probs_dropout_prob,
        }
    }
}

/// MPNet encoder returning token states `[batch, seq, hidden]`.
pub struct MPNetModel {
    word: Embedding,
    position: Embedding,
    emb_norm: LayerNorm,
    emb_dropout: Dropout,
    relative_bias: Embedding,
    layers: Vec<EncoderLayer>,
    cfg: Config,
}

impl MPNetModel {
    /// Build from weights under `vb` (the root holding `embeddings` and `encoder`).
    pub fn load(
        vb: VarBuilder,
        cfg: &Config,
        rng: &DropoutRng,
        autocast: &Autocast,
    ) -> Result<Self> {
        if cfg.num_attention_heads == 0 || cfg.hidden_size % cfg.num_attention_heads != 0 {
            candle_core::bail!(
                "config.json: hidden_size must be a multiple of num_attention_heads"
            );
        }
        let h = cfg.hidden_size;
        let emb = vb.pp("embeddings");
        let enc = vb.pp("encoder");
        Ok(MPNetModel {
            word: Embedding::load(emb.pp("word_embeddings"), cfg.vocab_size, h)?,
            position: Embedding::load(
                emb.pp("position_embeddings"),
                cfg.max_position_embeddings,
                h,
            )?,
            emb_norm: LayerNorm::load(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            emb_dropout: Dropout::new(cfg.hidden_dropout_prob, rng.clone()),
            relative_bias: Embedding::load(
                enc.pp("relative_attention_bias"),
                cfg.relative_attention_num_buckets,
                cfg.num_attention_heads,
            )?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| {
                    EncoderLayer::load(
                        enc.pp(format!("layer.{i}")),
                        &ATTENTION,
                        &cfg.layer(),
                        rng,
                        autocast,
                    )
                })
                .collect::<Result<Vec<_>>>()?,
            cfg: cfg.clone(),
        })
    }

    /// `[1, heads, s, s]` relative-position bias for a sequence of length `s`.
    fn position_bias(&self, s: usize, dev: &candle_core::Device, train: bool) -> Result<Tensor> {
        let buckets: Vec<u32> = (0..s as i64)
            .flat_map(|q| (0..s as i64).map(move |k| (q, k)))
            .map(|(q, k)| {
                relative_position_bucket(k - q, self.cfg.relative_attention_num_buckets) as u32
            })
            .collect();
        let buckets = Tensor::from_vec(buckets, (s, s), dev)?;
        // [s, s, heads] -> [heads, s, s] -> [1, heads, s, s]
        self.relative_bias
            .forward_t(&buckets, train)?
            .permute((2, 0, 1))?
            .unsqueeze(0)?
            .contiguous()
    }

    /// Token states for `ids` `[b, s]` (u32) with 0/1 `mask` `[b, s]`; `rows` replaces the word
    /// table (see [`WordRows`]).
    pub fn forward_t(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        rows: Option<WordRows>,
        train: bool,
    ) -> Result<Tensor> {
        let (_b, s) = ids.dims2()?;
        let pad = self.cfg.pad_token_id;
        // Position ids as HF computes them: padding keeps position `pad`, real tokens count from pad+1.
        let not_pad = ids.ne(pad)?.to_dtype(DType::F32)?;
        let positions = ((not_pad.cumsum(1)? * &not_pad)? + pad as f64)?.to_dtype(DType::U32)?;
        if s + pad as usize >= self.cfg.max_position_embeddings {
            candle_core::bail!(
                "sequence of {s} tokens exceeds max_position_embeddings {} (minus the padding offset)",
                self.cfg.max_position_embeddings
            );
        }
        let packing = Packing::from_mask(mask)?;
        let x = (self.word.lookup_packed(ids, &packing, rows, train)?
            + self
                .position
                .forward_t(&packing.unpad_ids(&positions)?, train)?)?;
        let mut x = self
            .emb_dropout
            .forward_t(&self.emb_norm.forward_t(&x, train)?, train)?;
        let bias =
            mask_bias(mask)?.broadcast_add(&self.position_bias(s, ids.device(), train)?)?;
        for layer in &self.layers {
            x = layer.forward_t(&x, &packing, &bias, train)?;
        }
        packing.pad(&x)
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
}

#[cfg(test)]
mod tests {
    use super::relative_position_bucket;

    /// Buckets from HF's implementation, printed with
    /// `MPNetEncoder.relative_position_bucket(torch.tensor([...]))` semantics, spot-checked by hand:
    /// |n| < 8 is exact, then log-spaced up to 15, and key positions before the query get +16.
    #[test]
    fn buckets_follow_hf() {
        // key - query = 0 -> 0; key after query (n < 0) -> +16.
        assert_eq!(relative_position_bucket(0, 32), 0);
        assert_eq!(relative_position_bucket(-3, 32), 3);
        assert_eq!(relative_position_bucket(3, 32), 19);
        assert_eq!(relative_position_bucket(-7, 32), 7);
        // n = 16: 8 + trunc(ln(2)/ln(16) * 8) = 8 + 2
        assert_eq!(relative_position_bucket(-16, 32), 10);
        assert_eq!(relative_position_bucket(-32, 32), 12);
        assert_eq!(relative_position_bucket(-127, 32), 15);
        assert_eq!(relative_position_bucket(-500, 32), 15);
        assert_eq!(relative_position_bucket(500, 32), 31);
    }
}
