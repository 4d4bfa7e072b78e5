//! Checking the encoder against outputs of the real Python sentence-transformers library
//! (`shared/reference/embeddings-*.json`): same token ids, embeddings within a tolerance. Used by the
//! native and the in-browser tests alike.
//!
//! Imports: the encoder and the crate's error type.

use serde::Deserialize;

use crate::encoder::SentenceEncoder;
use crate::error::{Error, Result};

/// The parts of a reference embeddings file we compare against.
#[derive(Clone, Debug, Deserialize)]
pub struct EmbeddingReference {
    /// Model name, e.g. `all-MiniLM-L6-v2`.
    pub model: String,
    /// The library's truncation length.
    pub max_seq_length: usize,
    /// Input texts.
    pub sentences: Vec<String>,
    /// Token ids the library produced (special tokens included, truncated, unpadded).
    pub token_ids: Vec<Vec<u32>>,
    /// `model.encode()` outputs.
    pub embeddings: Vec<Vec<f32>>,
}

impl EmbeddingReference {
    /// Parse a reference file.
    pub fn from_json(bytes: &[u8], file: &str) -> Result<Self> {
        let r: EmbeddingReference = serde_json::from_slice(bytes)
            .map_err(|e| Error::model(file, format!("invalid reference ({e})")))?;
        if r.sentences.len() != r.token_ids.len() || r.sentences.len() != r.embeddings.len() {
            return Err(Error::model(
                file,
                "sentences, token_ids and embeddings differ in length",
            ));
        }
        Ok(r)
    }
}

/// How far the encoder is from the reference.
#[derive(Clone, Debug, PartialEq)]
pub struct ParityReport {
    /// Number of sentences compared.
    pub sentences: usize,
    /// Indices whose token ids differ from the library's.
    pub token_mismatches: Vec<usize>,
    /// Largest |Δ| over all embedding components.
    pub max_abs_diff: f32,
    /// The sentence where it occurs.
    pub worst_sentence: usize,
}

/// Encode the reference sentences (batch 32, as the library did) and compare.
pub fn check_parity(enc: &SentenceEncoder, reference: &EmbeddingReference) -> Result<ParityReport> {
    let mut token_mismatches = Vec::new();
    let mut ids = Vec::with_capacity(reference.sentences.len());
    for (i, (s, want)) in reference
        .sentences
        .iter()
        .zip(&reference.token_ids)
        .enumerate()
    {
        let got = enc.tokenize(s)?;
        if &got != want {
            token_mismatches.push(i);
        }
        ids.push(got);
    }
    let embs = enc.encode_ids(&ids, 32)?;
    let (mut max_abs_diff, mut worst_sentence) = (0f32, 0);
    for (i, (got, want)) in embs.iter().zip(&reference.embeddings).enumerate() {
        if got.len() != want.len() {
            return Err(Error::Invalid(format!(
                "sentence {i}: embedding has {} dims, reference {}",
                got.len(),
                want.len()
            )));
        }
        let d = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        if d > max_abs_diff || d.is_nan() {
            max_abs_diff = d;
            worst_sentence = i;
        }
    }
    Ok(ParityReport {
        sentences: embs.len(),
        token_mismatches,
        max_abs_diff,
        worst_sentence,
    })
}
