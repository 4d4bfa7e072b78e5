//! The comparison head: a one-hidden-layer MLP (ReLU, softmax cross-entropy, AdamW) in candle, on the
//! same standardised, balanced training rows as the logistic regression. It is only reported next to
//! the learnt head in the k-fold table, to show whether a non-linear head buys anything here.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// Settings of the MLP head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW weight decay (the regularisation).
    pub weight_decay: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            hidden: 64,
            epochs: 10,
            batch_size: 64,
            learning_rate: 1e-3,
            weight_decay: 1e-2,
        }
    }
}

/// A trained MLP: `softmax(relu(x W1 + b1) W2 + b2)`.
pub struct Mlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

fn init(rows: usize, cols: usize, rng: &mut Rng) -> Result<Var> {
    // Uniform in ±1/√fan_in (PyTorch's Linear default), from the seeded generator.
    let bound = 1.0 / (rows as f64).sqrt();
    let data: Vec<f32> = (0..rows * cols)
        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
        .collect();
    Ok(Var::from_vec(data, (rows, cols), &Device::Cpu)?)
}

impl Mlp {
    /// Train on standardised `rows` (row-major, `dim` each) with class ids `y` < `n_classes`.
    pub fn fit(
        rows: &[f64],
        dim: usize,
        y: &[usize],
        n_classes: usize,
        cfg: &MlpConfig,
        seed: u64,
    ) -> Result<Self> {
        if dim == 0 || y.is_empty() || rows.len() != y.len() * dim || cfg.hidden == 0 {
            return Err(Error::Invalid(format!(
                "MLP: {} values for {} labels of {dim} features",
                rows.len(),
                y.len()
            )));
        }
        let mut rng = Rng::new(seed);
        let w1 = init(dim, cfg.hidden, &mut rng)?;
        let b1 = Var::zeros(cfg.hidden, DType::F32, &Device::Cpu)?;
        let w2 = init(cfg.hidden, n_classes, &mut rng)?;
        let b2 = Var::zeros(n_classes, DType::F32, &Device::Cpu)?;
        let mut opt = AdamW::new(
            vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()],
            ParamsAdamW {
                lr: cfg.learning_rate,
                weight_decay: cfg.weight_decay,
                ..ParamsAdamW::default()
            },
        )?;
        let x: Vec<f32> = rows.iter().map(|&v| v as f32).collect();
        let mut order: Vec<usize> = (0..y.len()).collect();
        let batch = cfg.batch_size.max(1);
        for _ in 0..cfg.epochs {
            rng.shuffle(&mut order);
            for chunk in order.chunks(batch) {
                let mut xb = Vec::with_capacity(chunk.len() * dim);
                for &i in chunk {
                    xb.extend_from_slice(&x[i * dim..(i + 1) * dim]);
                }
                let xb = Tensor::from_vec(xb, (chunk.len(), dim), &Device::Cpu)?;
                let yb: Vec<u32> = chunk.iter().map(|&i| y[i] as u32).collect();
                let yb = Tensor::from_vec(yb, chunk.len(), &Device::Cpu)?;
                let h = xb
                    .matmul(w1.as_tensor())?
                    .broadcast_add(b1.as_tensor())?
                    .relu()?;
                let logits = h.matmul(w2.as_tensor())?.broadcast_add(b2.as_tensor())?;
                let loss = candle_nn::loss::cross_entropy(&logits, &yb)?;
                opt.backward_step(&loss)?;
            }
        }
        Ok(Mlp {
            w1: w1.as_tensor().clone(),
            b1: b1.as_tensor().clone(),
            w2: w2.as_tensor().clone(),
            b2: b2.as_tensor().clone(),
        })
    }

    /// The most probable class of each standardised row.
    pub fn predict(&self, rows: &[f64], dim: usize) -> Result<Vec<usize>> {
        let n = rows.len() / dim.max(1);
        if n == 0 {
            return Ok(Vec::new());
        }
        let x: Vec<f32> = rows.iter().map(|&v| v as f32).collect();
        let x = Tensor::from_vec(x, (n, dim), &Device::Cpu)?;
        let h = x.matmul(&self.w1)?.broadcast_add(&self.b1)?.relu()?;
        let logits = h.matmul(&self.w2)?.broadcast_add(&self.b2)?;
        Ok(logits
            .argmax(1)?
            .to_vec1::<u32>()?
            .into_iter()
            .map(|c| c as usize)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XOR-like classes a linear model cannot separate: the MLP can.
    #[test]
    fn learns_a_non_linear_boundary() {
        let mut rng = Rng::new(3);
        let (mut rows, mut y) = (Vec::new(), Vec::new());
        for _ in 0..400 {
            let (a, b) = (rng.next_f64() * 2.0 - 1.0, rng.next_f64() * 2.0 - 1.0);
            rows.extend([a, b]);
            y.push(usize::from((a > 0.0) != (b > 0.0)));
        }
        let cfg = MlpConfig {
            hidden: 16,
            epochs: 60,
            batch_size: 32,
            learning_rate: 1e-2,
            weight_decay: 0.0,
        };
        let m = Mlp::fit(&rows, 2, &y, 2, &cfg, 1).unwrap();
        let pred = m.predict(&rows, 2).unwrap();
        let right = pred.iter().zip(&y).filter(|(p, t)| p == t).count();
        assert!(right > 360, "{right} of 400");
        assert!(Mlp::fit(&rows, 3, &y, 2, &cfg, 1).is_err());
    }
}
