//! A map of the tickets: their embeddings projected to two dimensions with PCA (`linfa-reduction`),
//! so a user can see which tickets sit together and whether fine-tuning tightens the clusters.
//!
//! PCA, not t-SNE or UMAP: it is deterministic (linfa's truncated SVD starts from a fixed seed),
//! linear — distances along the axes mean the same everywhere, and a base and a fine-tuned map
//! can be read side by side — and fast enough for 10,000 tickets in the browser. t-SNE / UMAP draw
//! tighter pictures but invent distances between clusters, and no maintained pure-Rust crate that
//! builds for wasm serves them today.
//!
//! The sign of a principal component is arbitrary; each is flipped so that its largest loading is
//! positive, so the same model gives the same picture every time.

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Tickets placed in the plane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketMap {
    /// One point per ticket, in input order.
    pub points: Vec<[f32; 2]>,
    /// Share of the embeddings' total variance each axis shows.
    pub explained_variance_ratio: [f64; 2],
}

/// Project `embeddings` (rows of equal length, at least 2 dimensions) on their first two principal
/// components. Fewer than 3 tickets cannot define two directions: they go on the x axis.
pub fn project_2d(embeddings: &[Vec<f32>]) -> Result<TicketMap> {
    let n = embeddings.len();
    let d = embeddings.first().map_or(0, Vec::len);
    if embeddings.iter().any(|e| e.len() != d) {
        return Err(Error::Invalid(
            "map: embeddings differ in dimensions".into(),
        ));
    }
    if n < 3 || d < 2 {
        return Ok(TicketMap {
            points: (0..n).map(|i| [i as f32, 0.0]).collect(),
            explained_variance_ratio: [0.0, 0.0],
        });
    }
    let x = Array2::from_shape_fn((n, d), |(i, j)| embeddings[i][j] as f64);
    // Tickets that span fewer than two directions (all the same text, say) can make the truncated
    // SVD fail; they get the line layout rather than taking the whole analysis down.
    let Ok(pca) = linfa_reduction::Pca::params(2).fit(&DatasetBase::from(x.clone())) else {
        return Ok(TicketMap {
            points: (0..n).map(|i| [i as f32, 0.0]).collect(),
            explained_variance_ratio: [0.0, 0.0],
        });
    };
    // linfa's ratio is over the two components it computed; the share of the whole variance is
    // what a reader wants ("this picture shows 18% of how the tickets differ").
    let total: f64 = x
        .columns()
        .into_iter()
        .map(|c| {
            let m = c.mean().unwrap_or(0.0);
            c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64
        })
        .sum();
    // From the singular values: linfa 0.8.1's `explained_variance` divides by the number of
    // components instead of n − 1.
    let ratio = pca.singular_values().mapv(|s| {
        if total > 0.0 {
            s * s / (n - 1) as f64 / total
        } else {
            0.0
        }
    });
    // Flip each axis so its largest loading is positive.
    let signs: Vec<f64> = pca
        .components()
        .rows()
        .into_iter()
        .map(|c| {
            let big = c
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            if big < 0.0 {
                -1.0
            } else {
                1.0
            }
        })
        .collect();
    let y: Array2<f64> = pca.predict(&x);
    Ok(TicketMap {
        points: y
            .rows()
            .into_iter()
            // Data spanning one direction gives one component: the second axis is then 0.
            .map(|r| {
                let axis = |k: usize| r.get(k).zip(signs.get(k)).map_or(0.0, |(v, s)| v * s);
                [axis(0) as f32, axis(1) as f32]
            })
            .collect(),
        explained_variance_ratio: [
            ratio.get(0).copied().unwrap_or(0.0),
            ratio.get(1).copied().unwrap_or(0.0),
        ],
    })
}

/// Colour classes for the map: the `max` most frequent labels get a class each (by count, ties by
/// name), in that order; every other ticket, and one without a label, is in a last class, "other".
/// Returns each ticket's class and the class names.
pub fn map_classes(labels: &[Option<String>], max: usize) -> (Vec<usize>, Vec<String>) {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for l in labels.iter().flatten() {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut names: Vec<String> = by_count
        .iter()
        .take(max)
        .map(|(n, _)| n.to_string())
        .collect();
    let other = names.len();
    let classes: Vec<usize> = labels
        .iter()
        .map(|l| {
            l.as_deref()
                .and_then(|l| names.iter().position(|n| n == l))
                .unwrap_or(other)
        })
        .collect();
    if classes.contains(&other) {
        names.push("other".into());
    }
    (classes, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_frequency_with_the_rest_as_other() {
        let l = |s: &str| Some(s.to_string());
        let labels = [l("b"), l("a"), l("b"), None, l("c"), l("a"), l("b")];
        let (c, n) = map_classes(&labels, 2);
        assert_eq!(n, vec!["b", "a", "other"]);
        assert_eq!(c, vec![0, 1, 0, 2, 2, 1, 0]);
        let (c, n) = map_classes(&labels[..3], 5);
        assert_eq!(
            (c, n),
            (vec![0, 1, 0], vec!["b".to_string(), "a".to_string()])
        );
    }

    #[test]
    fn two_planted_clusters_separate_on_the_first_axis() {
        // Two groups of 10 near ±e0 in 5 dimensions, with small spread on e1.
        let emb: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let side = if i < 10 { 1.0 } else { -1.0 };
                let wiggle = (i % 5) as f32 * 0.01;
                vec![side, wiggle, 0.0, 0.001 * i as f32, 0.0]
            })
            .collect();
        let m = project_2d(&emb).unwrap();
        assert_eq!(m.points.len(), 20);
        assert!(m.explained_variance_ratio[0] > 0.99, "{m:?}");
        let xs: Vec<f32> = m.points.iter().map(|p| p[0]).collect();
        // One sign per group, opposite, and the same picture twice.
        assert!(xs[..10].iter().all(|&x| x * xs[0] > 0.0));
        assert!(xs[10..].iter().all(|&x| x * xs[0] < 0.0));
        assert_eq!(project_2d(&emb).unwrap(), m);
        // Too few tickets: on a line, no error.
        assert_eq!(
            project_2d(&emb[..2]).unwrap().points,
            vec![[0.0, 0.0], [1.0, 0.0]]
        );
        assert!(project_2d(&[vec![1.0, 2.0], vec![1.0]]).is_err());
        // Identical tickets, or ones along one direction only: a picture, not an error.
        let same = vec![vec![0.5f32, 0.5, 0.0]; 5];
        assert_eq!(project_2d(&same).unwrap().points.len(), 5);
        let line: Vec<Vec<f32>> = (0..6).map(|i| vec![i as f32, 0.0, 0.0]).collect();
        let m = project_2d(&line).unwrap();
        assert!(
            m.points
                .iter()
                .all(|p| p[0].is_finite() && p[1].is_finite()),
            "{m:?}"
        );
    }
}
