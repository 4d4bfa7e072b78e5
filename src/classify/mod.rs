//! The relationship classifier: duplicate / causal / related / none from a pair of ticket
//! embeddings.

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
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut texts: Vec<&str> = Vec::new();
        let mut rows = Vec::with_capacity(pairs.len());
        for p in pairs {
            let a = *index.entry(p.a.as_str()).or_insert_with(|| {
                texts.push(p.a.as_str());
                texts.len() - 1
            });
            let b = *index.entry(p.b.as_str()).or_insert_with(|| {
                texts.push(p.b.as_str());
                texts.len() - 1
            });
            rows.push((a, b));
        }
        let embeddings = enc.encode(&texts, batch_size)?;
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
