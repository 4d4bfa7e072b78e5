//! Pair features for the relationship classifier, from the encoder's sentence embeddings `u` (first
//! ticket) and `v` (second ticket), as in the seeds' notebooks and SBERT's softmax classifier:
//! the concatenation `[u, v]`, the element-wise difference `|u − v|`, the product `u ∘ v` and the
//! cosine — each switchable.
//!
//! Order: `|u − v|`, `u ∘ v` and the cosine are symmetric, `[u, v]` is not. Duplicate, related and
//! none are symmetric relations, so their training pairs are used in both orders (the model cannot
//! learn an order that means nothing); causal keeps its direction (a caused b), which only the
//! concatenation can express.

use serde::{Deserialize, Serialize};

use crate::data::relationships::Relation;

/// One part of a pair's feature vector (the `--features` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// `[u, v]`.
    Concat,
    /// `|u − v|`.
    Diff,
    /// `u ∘ v`.
    Product,
    /// cos(u, v).
    Cosine,
}

/// Which features make up a pair's vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// `[u, v]` (2·dim values; the only order-aware part).
    pub concat: bool,
    /// `|u − v|` (dim values).
    pub diff: bool,
    /// `u ∘ v` (dim values).
    pub product: bool,
    /// cos(u, v) (1 value).
    pub cosine: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            concat: true,
            diff: true,
            product: true,
            cosine: true,
        }
    }
}

impl FeatureConfig {
    /// The config with exactly `parts` switched on.
    pub fn from_parts(parts: &[Feature]) -> Self {
        let on = |f: Feature| parts.contains(&f);
        FeatureConfig {
            concat: on(Feature::Concat),
            diff: on(Feature::Diff),
            product: on(Feature::Product),
            cosine: on(Feature::Cosine),
        }
    }

    /// Length of the feature vector for embeddings of `dim` values; 0 when every part is off.
    pub fn len(&self, dim: usize) -> usize {
        let mut n = 0;
        if self.concat {
            n += 2 * dim;
        }
        if self.diff {
            n += dim;
        }
        if self.product {
            n += dim;
        }
        if self.cosine {
            n += 1;
        }
        n
    }

    /// True when no feature is switched on.
    pub fn is_empty(&self) -> bool {
        !(self.concat || self.diff || self.product || self.cosine)
    }

    /// The feature vector of one ordered pair, appended to `out` (so many pairs fill one matrix
    /// without a vector each).
    pub fn extend(&self, u: &[f32], v: &[f32], out: &mut Vec<f64>) {
        debug_assert_eq!(u.len(), v.len());
        if self.concat {
            out.extend(u.iter().map(|&x| x as f64));
            out.extend(v.iter().map(|&x| x as f64));
        }
        if self.diff {
            out.extend(u.iter().zip(v).map(|(&a, &b)| (a as f64 - b as f64).abs()));
        }
        if self.product {
            out.extend(u.iter().zip(v).map(|(&a, &b)| a as f64 * b as f64));
        }
        if self.cosine {
            out.push(crate::cosine(u, v) as f64);
        }
    }
}

/// The orders a labelled pair is trained in: both for symmetric relations, as given for causal.
pub fn training_orders(relation: Relation) -> &'static [bool] {
    // `false` = (a, b) as given, `true` = swapped.
    match relation {
        Relation::Causal => &[false],
        Relation::Duplicate | Relation::Related | Relation::None => &[false, true],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_symmetry() {
        let (u, v) = ([1.0f32, 0.0], [0.6f32, 0.8]);
        let all = FeatureConfig::default();
        assert_eq!(all.len(2), 9);
        let mut f = Vec::new();
        all.extend(&u, &v, &mut f);
        let want = [1.0, 0.0, 0.6, 0.8, 0.4, 0.8, 0.6, 0.0, 0.6];
        assert_eq!(f.len(), 9, "2+2 concat, 2 diff, 2 product, 1 cosine");
        for (a, b) in f.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{f:?}");
        }
        // Without the concatenation the vector does not depend on the order.
        let sym = FeatureConfig {
            concat: false,
            ..FeatureConfig::default()
        };
        let (mut ab, mut ba) = (Vec::new(), Vec::new());
        sym.extend(&u, &v, &mut ab);
        sym.extend(&v, &u, &mut ba);
        assert_eq!(ab, ba);
        assert_eq!(sym.len(2), ab.len());
        assert!(FeatureConfig {
            concat: false,
            diff: false,
            product: false,
            cosine: false
        }
        .is_empty());
        assert_eq!(training_orders(Relation::Causal), &[false]);
        assert_eq!(training_orders(Relation::None).len(), 2);
    }
}
