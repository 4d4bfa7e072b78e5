//! BERT encoder (as used by all-MiniLM-L6-v2), trainable.
//!
//! Port of Hugging Face transformers' `BertModel` (models/bert/modeling_bert.py) without the pooler,
//! which sentence-transformers does not use. Weight names are HF's verbatim (`embeddings.*`,
//! `encoder.layer.{i}.attention.self.query`, ..., `LayerNorm` casing included) so hub safetensors load
//! unchanged and fine-tuned weights save back under the same names. Differences from
//! `candle_transformers::models::bert`: real seeded dropout, a differentiable layer norm and softmax in
//! training, and one GEMM per linear layer.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use super::nn::{
    mask_bias, AttentionNames, Autocast, Dropout, DropoutRng, Embedding, EncoderLayer, HiddenAct,
    LayerConfig, LayerNorm, Packing, WordRows,
};

fn default_dropout() -> f32 {
    0.1
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_position_type() -> String {
    "absolute".into()
}

/// The fields of a BERT `config.json` this implementation reads.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Config {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden (embedding) size.
    pub hidden_size: usize,
    /// Number of transformer layers.
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
    /// Size of the absolute position table.
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// Padding token id.
    #[serde(default)]
    pub pad_token_id: u32,
    /// Only `absolute` is supported.
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
}

impl Config {
    /// all-MiniLM-L6-v2's shape
    /// (<https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/blob/main/config.json>).
    pub fn all_mini_lm_l6_v2() -> Self {
        Config {
            vocab_size: 30522,
            hidden_size: 384,
            num_hidden_layers: 6,
            num_attention_heads: 12,
            intermediate_size: 1536,
            hidden_act: HiddenAct::Gelu,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            position_embedding_type: "absolute".into(),
        }
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    dropout: Dropout,
}

impl Embeddings {
    fn load(vb: VarBuilder, cfg: &Config, rng: &DropoutRng) -> Result<Self> {
        let h = cfg.hidden_size;
        Ok(Embeddings {
            word: Embedding::load(vb.pp("word_embeddings"), cfg.vocab_size, h)?,
            position: Embedding::load(
                vb.pp("position_embeddings"),
                cfg.max_position_embeddings,
                h,
            )?,
            token_type: Embedding::load(vb.pp("token_type_embeddings"), cfg.type_vocab_size, h)?,
            norm: LayerNorm::load(vb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            dropout: Dropout::new(cfg.hidden_dropout_prob, rng.clone()),
        })
    }

    /// Packed embeddings `[tokens, hidden]` of padded `ids` `[b, s]`.
    fn forward_t(
        &self,
        ids: &Tensor,
        packing: &Packing,
        rows: Option<WordRows>,
        train: bool,
    ) -> Result<Tensor> {
        let (b, s) = ids.dims2()?;
        // Absolute positions are slot indices, as in HF (padding is on the right).
        let positions = packing.unpad_ids(
            &Tensor::arange(0u32, s as u32, ids.device())?
                .unsqueeze(0)?
                .broadcast_as((b, s))?,
        )?;
        // Single-segment inputs: token type 0 everywhere, i.e. row 0 of the table added to each token.
        let type0 = self.token_type.forward_t(
            &Tensor::zeros(1, candle_core::DType::U32, ids.device())?,
            train,
        )?;
        let x = self
            .word
            .lookup_packed(ids, packing, rows, train)?
            .add(&self.position.forward_t(&positions, train)?)?
            .broadcast_add(&type0)?;
        self.dropout
            .forward_t(&self.norm.forward_t(&x, train)?, train)
    }
}

/// Where BERT keeps a layer's attention weights.
const ATTENTION: AttentionNames = AttentionNames {
    q: "attention.self.query",
    k: "attention.self.key",
    v: "attention.self.value",
    o: "attention.output.dense",
    norm: "attention.output.LayerNorm",
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

/// BERT encoder returning token states `[batch, seq, hidden]`.
pub struct BertModel {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
    cfg: Config,
}

impl BertModel {
    /// Build from weights under `vb` (the root holding `embeddings` and `encoder`).
    pub fn load(
        vb: VarBuilder,
        cfg: &Config,
        rng: &DropoutRng,
        autocast: &Autocast,
    ) -> Result<Self> {
        if cfg.position_embedding_type != "absolute" {
            candle_core::bail!(
                "config.json: position_embedding_type `{}` is not supported (only `absolute`)",
                cfg.position_embedding_type
            );
        }
        if cfg.num_attention_heads == 0 || cfg.hidden_size % cfg.num_attention_heads != 0 {
            candle_core::bail!(
                "config.json: hidden_size must be a multiple of num_attention_heads"
            );
        }
        let embeddings = Embeddings::load(vb.pp("embeddings"), cfg, rng)?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| {
                EncoderLayer::load(
                    vb.pp(format!("encoder.layer.{i}")),
                    &ATTENTION,
                    &cfg.layer(),
                    rng,
                    autocast,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BertModel {
            embeddings,
            layers,
            cfg: cfg.clone(),
        })
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
        if s > self.cfg.max_position_embeddings {
            candle_core::bail!(
                "sequence of {s} tokens exceeds max_position_embeddings {}",
                self.cfg.max_position_embeddings
            );
        }
        let packing = Packing::from_mask(mask)?;
        let bias = mask_bias(mask)?;
        let mut x = self.embeddings.forward_t(ids, &packing, rows, train)?;
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
