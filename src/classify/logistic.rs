//! Multinomial logistic regression (linfa-logistic) on standardised features, kept as plain vectors
//! so a fitted model serialises to JSON and predicts without linfa (in the CLI and in the browser).

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Per-feature mean and standard deviation of the training rows. Features are standardised before
/// the regression so one regularisation strength suits them all (embedding products are ~100×
/// smaller than the cosine).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f64>,
    /// Standard deviation of each feature (1 where it is constant, so it maps to 0, not NaN).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fit on `rows` (row-major, `dim` values per row).
    pub fn fit(rows: &[f64], dim: usize) -> Result<Self> {
        if dim == 0 || rows.is_empty() || rows.len() % dim != 0 {
            return Err(Error::Invalid(format!(
                "standardiser: {} values do not make rows of {dim}",
                rows.len()
            )));
        }
        let n = (rows.len() / dim) as f64;
        let mut mean = vec![0.0; dim];
        for row in rows.chunks(dim) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; dim];
        for row in rows.chunks(dim) {
            for ((v, x), m) in var.iter_mut().zip(row).zip(&mean) {
                *v += (x - m) * (x - m);
            }
        }
        let scale = var
            .into_iter()
            .map(|v| {
                let s = (v / n).sqrt();
                if s > 1e-12 {
                    s
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Standardizer { mean, scale })
    }

    /// Standardise `rows` in place.
    pub fn apply(&self, rows: &mut [f64]) {
        let dim = self.mean.len();
        for row in rows.chunks_mut(dim) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = (*x - m) / s;
            }
        }
    }
}

/// A fitted multinomial logistic regression over class ids `0..n_classes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Features per row.
    pub dim: usize,
    /// The class ids seen in training, in the column order of `weights`; classes absent from the
    /// training data get probability 0.
    pub classes: Vec<usize>,
    /// Weights, `dim × classes.len()`, row-major.
    pub weights: Vec<f64>,
    /// One intercept per class in `classes`.
    pub intercept: Vec<f64>,
}

impl LogisticModel {
    /// Fit on standardised `rows` (row-major, `dim` values each) with labels `y`. `c` is the inverse
    /// regularisation strength as in scikit-learn (`alpha = 1 / C` on linfa's L2 term).
    pub fn fit(rows: &[f64], dim: usize, y: &[usize], c: f64, max_iterations: u64) -> Result<Self> {
        if dim == 0 || rows.len() != y.len() * dim || y.is_empty() {
            return Err(Error::Invalid(format!(
                "logistic regression: {} values for {} labels of {dim} features",
                rows.len(),
                y.len()
            )));
        }
        if !(c.is_finite() && c > 0.0) {
            return Err(Error::Invalid(format!("C must be positive, got {c}")));
        }
        let mut classes: Vec<usize> = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() == 1 {
            // Nothing to separate: the one class seen is certain.
            return Ok(LogisticModel {
                dim,
                classes,
                weights: vec![0.0; dim],
                intercept: vec![0.0],
            });
        }
        let x = Array2::from_shape_vec((y.len(), dim), rows.to_vec())
            .map_err(|e| Error::Invalid(format!("logistic regression: {e}")))?;
        let dataset = Dataset::new(x, Array1::from_vec(y.to_vec()));
        let fitted = MultiLogisticRegression::default()
            .alpha(1.0 / c)
            .max_iterations(max_iterations)
            .fit(&dataset)
            .map_err(|e| Error::Invalid(format!("logistic regression did not fit: {e}")))?;
        let order: Vec<usize> = fitted.classes().to_vec();
        let params = fitted.params();
        let mut weights = Vec::with_capacity(dim * order.len());
        for r in 0..dim {
            weights.extend(params.row(r).iter().copied());
        }
        Ok(LogisticModel {
            dim,
            classes: order,
            weights,
            intercept: fitted.intercept().to_vec(),
        })
    }

    /// Class probabilities of one standardised row, indexed by class id `0..n_classes`.
    pub fn probabilities(&self, row: &[f64], n_classes: usize) -> Vec<f64> {
        let k = self.classes.len();
        let mut z = self.intercept.clone();
        for (r, x) in row.iter().enumerate().take(self.dim) {
            let w = &self.weights[r * k..(r + 1) * k];
            for (zj, wj) in z.iter_mut().zip(w) {
                *zj += x * wj;
            }
        }
        let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        let mut p = vec![0.0; n_classes];
        for (&c, ej) in self.classes.iter().zip(&e) {
            if c < n_classes {
                p[c] = ej / sum;
            }
        }
        p
    }

    /// The most probable class id.
    pub fn predict(&self, row: &[f64], n_classes: usize) -> usize {
        let p = self.probabilities(row, n_classes);
        (0..n_classes)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Three classes along the first feature (below −1, between, above 1); the second feature is
    /// noise. The model must put its weight on the first.
    #[test]
    fn learns_a_known_separating_direction() {
        let mut rng = Rng::new(7);
        let (mut rows, mut y) = (Vec::new(), Vec::new());
        for i in 0..300 {
            let class = i % 3;
            let x0 = [-2.5, 0.0, 2.5][class] + rng.normal() * 0.5;
            let x1 = rng.normal() * 3.0;
            rows.extend([x0, x1]);
            y.push(class);
        }
        let st = Standardizer::fit(&rows, 2).unwrap();
        st.apply(&mut rows);
        let m = LogisticModel::fit(&rows, 2, &y, 1.0, 200).unwrap();
        assert_eq!(m.classes, [0, 1, 2]);
        let right = rows
            .chunks(2)
            .zip(&y)
            .filter(|(r, &c)| m.predict(r, 3) == c)
            .count();
        assert!(right >= 290, "{right} of 300");
        // Class 2 vs class 0: the weight difference points along feature 0.
        let w = |r: usize, c: usize| m.weights[r * 3 + c];
        let (d0, d1) = (w(0, 2) - w(0, 0), w(1, 2) - w(1, 0));
        assert!(d0 > 5.0 * d1.abs(), "direction ({d0}, {d1})");
        let p = m.probabilities(&rows[..2], 4);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p[3] == 0.0);
        // Serialises and predicts identically after a round trip.
        let back: LogisticModel =
            serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(
            back.probabilities(&rows[..2], 3),
            m.probabilities(&rows[..2], 3)
        );
    }

    #[test]
    fn degenerate_inputs() {
        let m = LogisticModel::fit(&[1.0, 2.0], 1, &[3, 3], 1.0, 10).unwrap();
        assert_eq!(m.probabilities(&[5.0], 4), [0.0, 0.0, 0.0, 1.0]);
        assert!(LogisticModel::fit(&[1.0], 2, &[0], 1.0, 10).is_err());
        assert!(LogisticModel::fit(&[1.0, 2.0], 1, &[0, 1], 0.0, 10).is_err());
        let st = Standardizer::fit(&[1.0, 5.0, 1.0, 7.0], 2).unwrap();
        assert_eq!(st.scale[0], 1.0, "a constant feature is left unscaled");
        let mut r = vec![1.0, 6.0];
        st.apply(&mut r);
        assert_eq!(r, [0.0, 0.0]);
    }
}
