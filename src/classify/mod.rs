//! The relationship classifier: duplicate / causal / related / none from a pair of ticket
//! embeddings.
//!
//! It owns the pair features ([`features`]), the two heads — logistic regression ([`logistic`]) and a
//! small MLP ([`mlp`]) — behind one trained-head type ([`head`]), seeded cross-validation and the
//! class-weighting choice ([`cv`]), and the saved artifact ([`artifact`]).
//!
//! Imports: the encoder (to embed the two texts), the data layer's relationship records and splits, the
//! evaluation module's metrics, provenance, the seeded RNG, [`crate::parallel`] and the crate's error
//! type. Nothing from training, the CLI or the browser.

pub mod artifact;
pub mod cv;
pub mod features;
pub mod head;
pub mod logistic;
pub mod mlp;

use std::collections::HashMap;

use crate::data::relationships::RelationshipPair;
use crate::error::Result;
use crate::SentenceEncoder;

/// Embeddings of relationship pairs: each distinct text is encoded once (incident texts recur in
/// many pairs), and every pair points at its two texts' rows.
pub struct PairEmbeddings {
    /// One embedding per distinct text.
    pub embeddings: Vec<Vec<f32>>,
    /// Per pair: (row of text a, row of text b).
    pub pairs: Vec<(usize, usize)>,
}

impl PairEmbeddings {
    /// Encode the texts of `pairs` with `enc`.
    pub fn encode(
        enc: &SentenceEncoder,
        pairs: &[RelationshipPair],
        batch_size: usize,
    ) -> Result<Self> {
        Self::with(pairs, |texts| enc.encode(texts, batch_size))
    }

    /// Embed the distinct texts of `pairs` with `embed` (one vector per text, in order) — an
    /// encoder, or a cache of embeddings computed before.
    pub fn with<'a>(
        pairs: &'a [RelationshipPair],
        embed: impl FnOnce(&[String]) -> Result<Vec<Vec<f32>>>,
    ) -> Result<Self> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut rows = Vec::with_capacity(pairs.len());
        for p in pairs {
            let mut row = |t: &'a str| -> usize {
                *index.entry(t).or_insert_with(|| {
                    texts.push(t.to_string());
                    texts.len() - 1
                })
            };
            let a = row(p.a.as_str());
            let b = row(p.b.as_str());
            rows.push((a, b));
        }
        let embeddings = embed(&texts)?;
        if embeddings.len() != texts.len() {
            return Err(crate::error::Error::Invalid(format!(
                "{} embeddings for {} texts",
                embeddings.len(),
                texts.len()
            )));
        }
        Ok(PairEmbeddings {
            embeddings,
            pairs: rows,
        })
    }

    /// The pairs as classifier examples, labelled by `pairs` (the same slice that was encoded).
    pub fn examples<'a>(&'a self, pairs: &[RelationshipPair]) -> Vec<head::Example<'a>> {
        self.pairs
            .iter()
            .zip(pairs)
            .map(|(&(a, b), p)| head::Example {
                u: &self.embeddings[a],
                v: &self.embeddings[b],
                relation: p.relation,
            })
            .collect()
    }
}
