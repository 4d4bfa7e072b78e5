//! AdamW, gradient clipping and the warmup-linear schedule, matching what sentence-transformers'
//! `fit()` builds with PyTorch (checked step-for-step against the library in tests/it/train_step.rs):
//!
//! * `torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8)`, decoupled weight decay 0.01 on every
//!   parameter whose name contains none of `bias`, `LayerNorm.bias`, `LayerNorm.weight`, and 0 on
//!   those; parameters that received no gradient (e.g. the unused pooler) are left alone;
//! * `clip_grad_norm_(max_norm=1.0)` on the global L2 norm before each step;
//! * `get_linear_schedule_with_warmup`: linear rise over the warmup steps, then linear decay to 0.
//!
//! candle-nn's `AdamW` applies one weight decay to every variable, hence this implementation.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

/// AdamW hyper-parameters (torch defaults, the library's weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay for parameters that decay.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// The library's no-decay rule, by parameter name.
pub fn decays(name: &str) -> bool {
    !["bias", "LayerNorm.bias", "LayerNorm.weight"]
        .iter()
        .any(|p| name.contains(p))
}

struct Slot {
    var: Var,
    decay: bool,
    /// Moments, created at the parameter's first gradient (torch's lazy state).
    moments: Option<(Tensor, Tensor)>,
    /// Steps this parameter has taken (torch keeps the count per parameter).
    steps: i32,
}

/// AdamW over named variables.
pub struct AdamW {
    slots: Vec<Slot>,
    cfg: AdamWConfig,
}

impl AdamW {
    /// An optimiser for `vars` (name, variable); the name decides the weight-decay group.
    pub fn new(vars: Vec<(String, Var)>, cfg: AdamWConfig) -> Self {
        let slots = vars
            .into_iter()
            .map(|(name, var)| Slot {
                decay: decays(&name),
                var,
                moments: None,
                steps: 0,
            })
            .collect();
        AdamW { slots, cfg }
    }

    /// One update with learning rate `lr`, in torch's order: decay the weights, update the moments,
    /// then `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        let c = self.cfg;
        for slot in &mut self.slots {
            let Some(g) = grads.get(&slot.var) else {
                continue;
            };
            slot.steps += 1;
            let (m, v) = match &slot.moments {
                Some((m, v)) => (m.clone(), v.clone()),
                None => (g.zeros_like()?, g.zeros_like()?),
            };
            let m = ((m * c.beta1)? + (g * (1.0 - c.beta1))?)?;
            let v = ((v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let bc1 = 1.0 - c.beta1.powi(slot.steps);
            let bc2 = 1.0 - c.beta2.powi(slot.steps);
            let theta = slot.var.as_tensor();
            let theta = if slot.decay {
                (theta * (1.0 - lr * c.weight_decay))?
            } else {
                theta.clone()
            };
            let denom = ((v.sqrt()? / bc2.sqrt())? + c.eps)?;
            let update = ((&m / denom)? * (lr / bc1))?;
            slot.var.set(&(theta - update)?)?;
            slot.moments = Some((m, v));
        }
        Ok(())
    }
}

/// Global L2 norm of the gradients of `vars` (f64 accumulation).
pub fn grad_norm(grads: &GradStore, vars: &[Var]) -> Result<f64> {
    let mut sum = 0f64;
    for var in vars {
        if let Some(g) = grads.get(var) {
            sum += g
                .sqr()?
                .sum_all()?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    Ok(sum.sqrt())
}

/// `torch.nn.utils.clip_grad_norm_`: scale all gradients by `max_norm / (norm + 1e-6)` when that is
/// below 1. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max_norm: f64) -> Result<f64> {
    let norm = grad_norm(grads, vars)?;
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for var in vars {
            if let Some(g) = grads.remove(var) {
                grads.insert(var, (g * coef)?);
            }
        }
    }
    Ok(norm)
}

/// `get_linear_schedule_with_warmup` (the library's `WarmupLinear`): the factor for optimiser step
/// `step` (0-based) rises linearly from 0 over `warmup` steps, then falls linearly to 0 at `total`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmupLinear {
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup steps.
    pub warmup: usize,
    /// Total optimiser steps of the run.
    pub total: usize,
}

impl WarmupLinear {
    /// Learning rate for optimiser step `step` (0-based, as torch's `LambdaLR` counts).
    pub fn lr_at(&self, step: usize) -> f64 {
        let f = if step < self.warmup {
            step as f64 / self.warmup.max(1) as f64
        } else {
            (self.total.saturating_sub(step)) as f64
                / self.total.saturating_sub(self.warmup).max(1) as f64
        };
        self.lr * f.max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn schedule_matches_transformers() {
        let s = WarmupLinear {
            lr: 2e-5,
            warmup: 100,
            total: 63,
        };
        // The reference run: 63 steps never leave warmup, first lr 0, last 62/100 * 2e-5.
        assert_eq!(s.lr_at(0), 0.0);
        assert!((s.lr_at(62) - 62.0 / 100.0 * 2e-5).abs() < 1e-20);
        let s = WarmupLinear {
            lr: 1.0,
            warmup: 10,
            total: 110,
        };
        assert_eq!(s.lr_at(5), 0.5);
        assert_eq!(s.lr_at(10), 1.0);
        assert_eq!(s.lr_at(60), 0.5);
        assert_eq!(s.lr_at(110), 0.0);
        assert_eq!(s.lr_at(500), 0.0);
    }

    #[test]
    fn decay_groups_follow_the_library() {
        assert!(decays("encoder.layer.0.attention.self.query.weight"));
        assert!(!decays("encoder.layer.0.attention.self.query.bias"));
        assert!(!decays("embeddings.LayerNorm.weight"));
        assert!(decays("embeddings.word_embeddings.weight"));
    }

    /// One step by hand: g = 0.5, lr = 0.1, decay 0.01, t = 1 -> m_hat = g, v_hat = g^2,
    /// p = 1 * (1 - 0.001) - 0.1 * 0.5 / (0.5 + 1e-8).
    #[test]
    fn adamw_first_step_by_hand() -> Result<()> {
        let w = Var::new(&[1f32], &Device::Cpu)?;
        let b = Var::new(&[1f32], &Device::Cpu)?;
        let loss = ((w.as_tensor() + b.as_tensor())? * 0.5)?.sum_all()?;
        let grads = loss.backward()?;
        let mut opt = AdamW::new(
            vec![("l.weight".into(), w.clone()), ("l.bias".into(), b.clone())],
            AdamWConfig::default(),
        );
        opt.step(&grads, 0.1)?;
        let want_w = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8);
        let want_b = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8);
        assert!((w.as_tensor().to_vec1::<f32>()?[0] as f64 - want_w).abs() < 1e-7);
        assert!((b.as_tensor().to_vec1::<f32>()?[0] as f64 - want_b).abs() < 1e-7);
        Ok(())
    }
}
