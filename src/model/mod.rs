//! Transformer architectures (one file each, candle style) and their shared layers.
//!
//! It owns the architectures' configuration ([`ArchConfig`]), BERT ([`bert`]) and MPNet ([`mpnet`]),
//! the differentiable layers candle lacks (layer norm, softmax and attention with a backward pass,
//! seeded dropout: [`nn`]), the CPU/wasm matrix kernels ([`kernels`]) and the trainable parameter
//! store ([`params`]).
//!
//! Imports: candle, the seeded RNG and the crate's error type. No tokeniser, pooling or data types:
//! [`crate::encoder`] assembles a model with them.

pub mod bert;
pub mod kernels;
pub mod mpnet;
pub mod nn;
pub mod params;
pub mod wasm_gemm;

use candle_core::Tensor;
use candle_nn::VarBuilder;
use serde::Deserialize;

use crate::error::{Error, Result};
pub use nn::{Autocast, DropoutRng, Precision, WordRows};
pub use params::ParamStore;

/// An architecture's configuration, chosen by `model_type` in config.json.
#[derive(Clone, Debug, PartialEq)]
pub enum ArchConfig {
    /// `model_type: "bert"` (all-MiniLM-L6-v2 and other BERT checkpoints).
    Bert(bert::Config),
    /// `model_type: "mpnet"` (all-mpnet-base-v2).
    MPNet(mpnet::Config),
}

impl ArchConfig {
    /// Parse config.json, dispatching on `model_type`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Probe {
            model_type: Option<String>,
        }
        let file = "config.json";
        let probe: Probe = serde_json::from_slice(bytes)
            .map_err(|e| Error::model(file, format!("not valid JSON ({e})")))?;
        let kind = probe
            .model_type
            .ok_or_else(|| Error::model(file, "field `model_type` is missing"))?;
        let bad = |e: serde_json::Error| Error::model(file, format!("{kind} config: {e}"));
        match kind.as_str() {
            "bert" => Ok(ArchConfig::Bert(
                serde_json::from_slice(bytes).map_err(bad)?,
            )),
            "mpnet" => Ok(ArchConfig::MPNet(
                serde_json::from_slice(bytes).map_err(bad)?,
            )),
            other => Err(Error::model(
                file,
                format!("unknown model_type `{other}` (supported: bert, mpnet)"),
            )),
        }
    }

    /// The config as JSON (with `model_type`), for a newly created model's config.json.
    pub fn to_json(&self) -> serde_json::Value {
        let (v, kind) = match self {
            ArchConfig::Bert(c) => (serde_json::to_value(c), "bert"),
            ArchConfig::MPNet(c) => (serde_json::to_value(c), "mpnet"),
        };
        // Plain structs of numbers and strings always serialise.
        let mut v = v.unwrap_or_default();
        v["model_type"] = kind.into();
        v
    }

    /// `model_type` as written in config.json.
    pub fn model_type(&self) -> &'static str {
        match self {
            ArchConfig::Bert(_) => "bert",
            ArchConfig::MPNet(_) => "mpnet",
        }
    }

    /// Hidden size (token embedding dimension).
    pub fn hidden_size(&self) -> usize {
        match self {
            ArchConfig::Bert(c) => c.hidden_size,
            ArchConfig::MPNet(c) => c.hidden_size,
        }
    }

    /// Number of transformer layers.
    pub fn num_layers(&self) -> usize {
        match self {
            ArchConfig::Bert(c) => c.num_hidden_layers,
            ArchConfig::MPNet(c) => c.num_hidden_layers,
        }
    }

    /// Attention heads per layer.
    pub fn num_heads(&self) -> usize {
        match self {
            ArchConfig::Bert(c) => c.num_attention_heads,
            ArchConfig::MPNet(c) => c.num_attention_heads,
        }
    }

    /// Width of the feed-forward layer.
    pub fn intermediate_size(&self) -> usize {
        match self {
            ArchConfig::Bert(c) => c.intermediate_size,
            ArchConfig::MPNet(c) => c.intermediate_size,
        }
    }

    /// Padding token id.
    pub fn pad_token_id(&self) -> u32 {
        match self {
            ArchConfig::Bert(c) => c.pad_token_id,
            ArchConfig::MPNet(c) => c.pad_token_id,
        }
    }

    /// Longest sequence the position table allows.
    pub fn max_positions(&self) -> usize {
        match self {
            ArchConfig::Bert(c) => c.max_position_embeddings,
            // MPNet's positions start after the padding id.
            ArchConfig::MPNet(c) => c.max_position_embeddings - c.pad_token_id as usize - 1,
        }
    }

    /// Set both dropout probabilities (e.g. 0 for a deterministic training step).
    pub fn set_dropout(&mut self, p: f32) {
        match self {
            ArchConfig::Bert(c) => {
                c.hidden_dropout_prob = p;
                c.attention_probs_dropout_prob = p;
            }
            ArchConfig::MPNet(c) => {
                c.hidden_dropout_prob = p;
                c.attention_probs_dropout_prob = p;
            }
        }
    }
}

/// A loaded transformer returning token states.
pub enum Transformer {
    /// BERT.
    Bert(bert::BertModel),
    /// MPNet.
    MPNet(mpnet::MPNetModel),
}

impl Transformer {
    /// Build the architecture `cfg` names from `vb`. Checkpoints saved from a task model carry a
    /// `{model_type}.` prefix (e.g. `bert.embeddings...`); that is detected and handled like candle's
    /// `BertModel::load` does.
    pub fn load(
        vb: VarBuilder,
        cfg: &ArchConfig,
        rng: &DropoutRng,
        autocast: &Autocast,
    ) -> Result<Self> {
        let vb = if !vb.contains_tensor("embeddings.word_embeddings.weight")
            && vb.contains_tensor(&format!(
                "{}.embeddings.word_embeddings.weight",
                cfg.model_type()
            )) {
            vb.pp(cfg.model_type())
        } else {
            vb
        };
        let wrap = |e: candle_core::Error| {
            Error::model("model.safetensors", crate::error::candle_message(&e))
        };
        Ok(match cfg {
            ArchConfig::Bert(c) => {
                Transformer::Bert(bert::BertModel::load(vb, c, rng, autocast).map_err(wrap)?)
            }
            ArchConfig::MPNet(c) => {
                Transformer::MPNet(mpnet::MPNetModel::load(vb, c, rng, autocast).map_err(wrap)?)
            }
        })
    }

    /// Token states `[b, s, hidden]` for u32 `ids` `[b, s]` and 0/1 `mask` `[b, s]`.
    /// `train` turns on dropout and the differentiable kernels; `rows` replaces the word-embedding
    /// table with a batch's rows (sparse training updates).
    pub fn forward_t(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        rows: Option<WordRows>,
        train: bool,
    ) -> candle_core::Result<Tensor> {
        match self {
            Transformer::Bert(m) => m.forward_t(ids, mask, rows, train),
            Transformer::MPNet(m) => m.forward_t(ids, mask, rows, train),
        }
    }
}
