//! Tokenisation as sentence-transformers does it: the model's `tokenizer.json`, but truncated at the
//! pipeline's `max_seq_length` and without fixed padding. Both bundled tokenizer.json files say
//! "truncate at 128, pad to 128", which is *not* what the library uses; we override both.
//!
//! Imports: the tokenizers crate and the crate's error type.

use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

use crate::error::{Error, Result};

/// Wraps a Hugging Face tokenizer with the pipeline's truncation.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
    max_len: usize,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("pad_id", &self.pad_id)
            .field("max_len", &self.max_len)
            .finish()
    }
}

impl TextTokenizer {
    /// Load `tokenizer.json` bytes; truncate every text to `max_len` tokens (special tokens
    /// included); pad batches with `pad_id`.
    pub fn from_bytes(json: &[u8], max_len: usize, pad_id: u32) -> Result<Self> {
        let file = "tokenizer.json";
        let mut inner = Tokenizer::from_bytes(json)
            .map_err(|e| Error::model(file, format!("cannot load ({e})")))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| Error::model(file, format!("cannot set truncation ({e})")))?;
        inner.with_padding(None::<PaddingParams>);
        Ok(TextTokenizer {
            inner,
            pad_id,
            max_len,
        })
    }

    /// Token ids of one text, special tokens included, truncated to `max_len`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| Error::Invalid(format!("cannot tokenise text ({e})")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The padding id.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// The truncation length (the pipeline's max_seq_length).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The underlying tokenizer (e.g. to save it).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}
