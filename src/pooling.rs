//! sentence-transformers' `Pooling` module: token states → one vector per text, reading the same
//! `1_Pooling/config.json`. Padding never contributes (candle's wasm BERT example averaged over
//! padding; see candle#1552).
//!
//! Imports: candle and the crate's error type.

use candle_core::{DType, Result as CResult, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `1_Pooling/config.json`, with the library's key names.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct PoolingConfig {
    /// Token embedding dimension.
    pub word_embedding_dimension: usize,
    /// Use the first token's state.
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    /// Masked mean of token states.
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    /// Masked max of token states.
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    /// Masked sum divided by sqrt(token count).
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
    /// Position-weighted mean (not supported).
    #[serde(default)]
    pub pooling_mode_weightedmean_tokens: bool,
    /// Last token (not supported).
    #[serde(default)]
    pub pooling_mode_lasttoken: bool,
    /// Whether prompt tokens are pooled (the library's default).
    #[serde(default = "yes")]
    pub include_prompt: bool,
}

fn yes() -> bool {
    true
}

impl PoolingConfig {
    /// Masked mean pooling of `dim`-sized token states (the default for both bundled models).
    pub fn mean(dim: usize) -> Self {
        PoolingConfig {
            word_embedding_dimension: dim,
            pooling_mode_mean_tokens: true,
            include_prompt: true,
            ..Default::default()
        }
    }

    /// Parse and validate `1_Pooling/config.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let file = "1_Pooling/config.json";
        let cfg: PoolingConfig = serde_json::from_slice(bytes)
            .map_err(|e| Error::model(file, format!("invalid ({e})")))?;
        if cfg.pooling_mode_weightedmean_tokens || cfg.pooling_mode_lasttoken {
            return Err(Error::model(
                file,
                "weighted-mean and last-token pooling are not supported",
            ));
        }
        if !(cfg.pooling_mode_cls_token
            || cfg.pooling_mode_mean_tokens
            || cfg.pooling_mode_max_tokens
            || cfg.pooling_mode_mean_sqrt_len_tokens)
        {
            return Err(Error::model(file, "no pooling mode is enabled"));
        }
        Ok(cfg)
    }

    /// Output dimension: the modes are concatenated, as in the library.
    pub fn output_dim(&self) -> usize {
        let modes = [
            self.pooling_mode_cls_token,
            self.pooling_mode_max_tokens,
            self.pooling_mode_mean_tokens,
            self.pooling_mode_mean_sqrt_len_tokens,
        ];
        modes.iter().filter(|m| **m).count() * self.word_embedding_dimension
    }

    /// Pool `tokens` `[b, s, h]` under the 0/1 `mask` `[b, s]` into `[b, output_dim]`, concatenating
    /// the enabled modes in the library's order (cls, max, mean, mean_sqrt_len).
    pub fn forward(&self, tokens: &Tensor, mask: &Tensor) -> CResult<Tensor> {
        let m = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?; // [b, s, 1]
        let mut parts = Vec::new();
        if self.pooling_mode_cls_token {
            parts.push(tokens.narrow(1, 0, 1)?.squeeze(1)?);
        }
        if self.pooling_mode_max_tokens {
            // Padding set to -1e9 so it never wins the max (the library's choice).
            let masked = (tokens.broadcast_mul(&m)?
                + ((m.ones_like()? - &m)? * -1e9)?.broadcast_as(tokens.shape())?)?;
            parts.push(masked.max(1)?);
        }
        if self.pooling_mode_mean_tokens || self.pooling_mode_mean_sqrt_len_tokens {
            let sum = tokens.broadcast_mul(&m)?.sum(1)?; // [b, h]
            let count = m.sum(1)?.clamp(1e-9, f64::INFINITY)?; // [b, 1]
            if self.pooling_mode_mean_tokens {
                parts.push(sum.broadcast_div(&count)?);
            }
            if self.pooling_mode_mean_sqrt_len_tokens {
                parts.push(sum.broadcast_div(&count.sqrt()?)?);
            }
        }
        Tensor::cat(&parts, 1)
    }
}

/// L2-normalise rows of `[b, d]` (the `Normalize` module).
pub fn normalize_l2(x: &Tensor) -> CResult<Tensor> {
    let norm = x
        .sqr()?
        .sum_keepdim(1)?
        .sqrt()?
        .clamp(1e-12, f64::INFINITY)?;
    x.broadcast_div(&norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn modes_ignore_padding_and_concatenate_in_library_order() -> CResult<()> {
        // One text of 2 real tokens + 1 padding token whose large values must never show up.
        let tokens = Tensor::new(&[[[1f32, -2.], [3., 4.], [100., 100.]]], &Device::Cpu)?;
        let mask = Tensor::new(&[[1f32, 1., 0.]], &Device::Cpu)?;
        let cfg = |cls, max, mean, sqrt| PoolingConfig {
            word_embedding_dimension: 2,
            pooling_mode_cls_token: cls,
            pooling_mode_max_tokens: max,
            pooling_mode_mean_tokens: mean,
            pooling_mode_mean_sqrt_len_tokens: sqrt,
            ..Default::default()
        };
        let run = |c: PoolingConfig| {
            c.forward(&tokens, &mask).unwrap().to_vec2::<f32>().unwrap()[0].clone()
        };
        assert_eq!(run(cfg(false, false, true, false)), vec![2.0, 1.0]);
        assert_eq!(run(cfg(true, false, false, false)), vec![1.0, -2.0]);
        assert_eq!(run(cfg(false, true, false, false)), vec![3.0, 4.0]);
        let s = run(cfg(false, false, false, true));
        assert!((s[0] - 4.0 / 2f32.sqrt()).abs() < 1e-6 && (s[1] - 2.0 / 2f32.sqrt()).abs() < 1e-6);
        // cls, max, mean concatenated in that order
        assert_eq!(
            run(cfg(true, true, true, false)),
            vec![1.0, -2.0, 3.0, 4.0, 2.0, 1.0]
        );
        assert_eq!(cfg(true, true, true, false).output_dim(), 6);
        let n = normalize_l2(&Tensor::new(&[[3f32, 4.]], &Device::Cpu)?)?.to_vec2::<f32>()?;
        assert_eq!(n, vec![vec![0.6, 0.8]]);
        Ok(())
    }

    #[test]
    fn config_validation() {
        assert!(
            PoolingConfig::from_json(br#"{"word_embedding_dimension": 4}"#)
                .unwrap_err()
                .to_string()
                .contains("no pooling mode")
        );
        let e = PoolingConfig::from_json(
            br#"{"word_embedding_dimension": 4, "pooling_mode_lasttoken": true}"#,
        );
        assert!(e.unwrap_err().to_string().contains("not supported"));
    }
}
