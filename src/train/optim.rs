//! AdamW, gradient clipping and the warmup-linear schedule, matching what sentence-transformers'
//! `fit()` builds with PyTorch (checked step-for-step against the library in tests/it/train_step.rs):
//!
//! * `torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8)`, decoupled weight decay 0.01 on every
//!   parameter whose name contains none of `bias`, `LayerNorm.bias`, `LayerNorm.weight`, and 0 on
//!   those; parameters that received no gradient (e.g. the unused pooler) are left alone;
//! * `clip_grad_norm_(max_norm=1.0)` on the global L2 norm before each step;
//! * `get_linear_schedule_with_warmup`: linear rise over the warmup steps, then linear decay to 0.
//!
//! candle-nn's `AdamW` applies one weight decay to every variable, hence this implementation. On
//! the CPU the update is one fused in-place pass per parameter (`adamw_span`): written with tensor
//! ops it allocated a dozen parameter-sized temporaries per tensor per step (a quarter of a training
//! step went to page faults and memsets), and gradient clipping is folded into the same pass.

use std::cell::RefCell;

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, DType, Layout, Result, Tensor, Var};

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

/// The per-step scalars of an update (what a replayed step needs).
#[derive(Clone, Copy, Debug)]
struct Coef {
    decay: f32,
    step_size: f32,
    bc2_sqrt: f32,
}

/// First and second moments.
enum Moments {
    /// Host vectors, updated in place on the CPU.
    Host(Vec<f32>, Vec<f32>),
    /// Host vectors of a row-sparse parameter (the word embeddings): only the rows a batch touches
    /// are stepped; the others lag and are brought up to date by replaying the steps they missed
    /// with a zero gradient — exactly the arithmetic a dense update performs on them, so the result
    /// is identical, but the vocabulary-sized pass (and gradient) happens only when needed.
    Rows {
        m: Vec<f32>,
        v: Vec<f32>,
        /// Steps already applied to each row.
        done: Vec<u32>,
        /// Coefficients of every step so far (`history[t]` for step `t + 1`).
        history: Vec<Coef>,
        width: usize,
    },
    /// Tensors, for other devices.
    Tensors(Tensor, Tensor),
}

struct Slot {
    var: Var,
    decay: bool,
    /// Moments, created at the parameter's first gradient (torch's lazy state).
    moments: Option<Moments>,
    /// Steps this parameter has taken (torch keeps the count per parameter).
    steps: i32,
}

/// Gradients for some rows of a 2-D parameter: row `rows[i]` of `var` gets the sum over shards of
/// row `i` of each tensor in `grads` (each `[rows.len(), width]`).
pub struct RowGrads<'a> {
    /// The parameter (e.g. the word-embedding table).
    pub var: &'a Var,
    /// Rows touched by the batch, without repeats.
    pub rows: &'a [u32],
    /// One gradient per shard.
    pub grads: Vec<Tensor>,
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
        self.step_scaled(&[grads], None, lr, 1.0)
    }

    /// One update from gradients split over several stores (shards of a batch, summed here) and
    /// optionally row-sparse gradients, all multiplied by `grad_scale` (the clipping coefficient)
    /// without materialising the sum or the scaled gradients.
    pub fn step_scaled(
        &mut self,
        grads: &[&GradStore],
        rows: Option<&RowGrads>,
        lr: f64,
        grad_scale: f64,
    ) -> Result<()> {
        let c = self.cfg;
        // Parameters are independent: natively they are split over the cores (balanced by size),
        // which matters because the update is memory-bound and otherwise leaves a core idle.
        let threads = crate::parallel::data_threads().min(self.slots.len()).max(1);
        let mut groups: Vec<Vec<&mut Slot>> = (0..threads).map(|_| Vec::new()).collect();
        let mut load = vec![0usize; threads];
        let mut slots: Vec<&mut Slot> = self.slots.iter_mut().collect();
        // Work per parameter: its size, or for the row-sparse table only the rows stepped.
        let cost = |s: &Slot| match rows {
            Some(r) if r.var.id() == s.var.id() => {
                r.rows.len() * s.var.elem_count() / s.var.dim(0).unwrap_or(1).max(1)
            }
            _ => s.var.elem_count(),
        };
        slots.sort_by_key(|s| std::cmp::Reverse(cost(s)));
        for slot in slots {
            let k = (0..threads).min_by_key(|&k| load[k]).expect("threads >= 1");
            load[k] += cost(slot);
            groups[k].push(slot);
        }
        let run = |group: &mut Vec<&mut Slot>| -> Result<()> {
            for slot in group.iter_mut() {
                step_slot(slot, grads, rows, lr, grad_scale, &c)?;
            }
            Ok(())
        };
        crate::parallel::map_mut(&mut groups, run)
            .into_iter()
            .collect::<Result<Vec<()>>>()
            .map(|_| ())
    }
    /// Bring `rows` of a row-sparse parameter up to date (replay the steps they missed); all rows
    /// when `rows` is `None`. Call before reading them: before a forward pass uses them, and before
    /// evaluating or saving the model. A no-op for dense parameters.
    pub fn catch_up(&mut self, var: &Var, rows: Option<&[u32]>) -> Result<()> {
        let c = self.cfg;
        for slot in &mut self.slots {
            if slot.var.id() != var.id() {
                continue;
            }
            if let Some(Moments::Rows {
                m,
                v,
                done,
                history,
                width,
            }) = slot.moments.as_mut()
            {
                let w = *width;
                let all: Vec<u32>;
                let rows = match rows {
                    Some(r) => r,
                    None => {
                        all = (0..done.len() as u32).collect();
                        &all
                    }
                };
                update_in_place(slot.var.as_tensor(), |p| {
                    for &r in rows {
                        let r = r as usize;
                        let span = r * w..(r + 1) * w;
                        replay(
                            &mut p[span.clone()],
                            &mut m[span.clone()],
                            &mut v[span],
                            &mut done[r],
                            history,
                            &c,
                        );
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    /// Bring every row-sparse parameter fully up to date.
    pub fn sync(&mut self) -> Result<()> {
        let vars: Vec<Var> = self
            .slots
            .iter()
            .filter(|s| matches!(s.moments, Some(Moments::Rows { .. })))
            .map(|s| s.var.clone())
            .collect();
        for var in &vars {
            self.catch_up(var, None)?;
        }
        Ok(())
    }
}

/// One parameter's AdamW update (see [`AdamW::step_scaled`]).
fn step_slot(
    slot: &mut Slot,
    grads: &[&GradStore],
    rows: Option<&RowGrads>,
    lr: f64,
    grad_scale: f64,
    c: &AdamWConfig,
) -> Result<()> {
    let c = *c;
    let sparse = rows.filter(|r| r.var.id() == slot.var.id());
    let gs: Vec<&Tensor> = grads.iter().filter_map(|g| g.get(&slot.var)).collect();
    if gs.is_empty() && sparse.is_none() {
        return Ok(());
    }
    slot.steps += 1;
    let bc1 = 1.0 - c.beta1.powi(slot.steps);
    let bc2 = 1.0 - c.beta2.powi(slot.steps);
    let coef = Coef {
        decay: if slot.decay {
            (1.0 - lr * c.weight_decay) as f32
        } else {
            1.0
        },
        step_size: (lr / bc1) as f32,
        bc2_sqrt: bc2.sqrt() as f32,
    };
    let t = slot.var.as_tensor();
    let host = t.device().is_cpu() && t.dtype() == DType::F32;
    if slot.moments.is_none() {
        let n = t.elem_count();
        slot.moments = Some(match (host, sparse) {
            (true, Some(_)) => Moments::Rows {
                m: vec![0.0; n],
                v: vec![0.0; n],
                done: vec![0; t.dim(0)?],
                history: Vec::new(),
                width: n / t.dim(0)?.max(1),
            },
            (true, None) => Moments::Host(vec![0.0; n], vec![0.0; n]),
            (false, _) => Moments::Tensors(t.zeros_like()?, t.zeros_like()?),
        });
    }
    let scale = grad_scale as f32;
    match slot.moments.as_mut().expect("initialised above") {
        Moments::Host(m, v) => {
            let gs = gs
                .iter()
                .map(|g| g.contiguous())
                .collect::<Result<Vec<_>>>()?;
            with_f32_slices(&gs, |g| {
                update_in_place(t, |p| {
                    adamw_span(p, m, v, g, 0, scale, &c, coef);
                    Ok(())
                })
            })?;
        }
        Moments::Rows {
            m,
            v,
            done,
            history,
            width,
        } => {
            let Some(sparse) = sparse else {
                candle_core::bail!("row-sparse parameter stepped without row gradients");
            };
            if !gs.is_empty() {
                candle_core::bail!("row-sparse parameter also has a dense gradient");
            }
            history.push(coef);
            let gs = sparse
                .grads
                .iter()
                .map(|g| g.contiguous())
                .collect::<Result<Vec<_>>>()?;
            let w = *width;
            with_f32_slices(&gs, |g| {
                update_in_place(t, |p| {
                    for (i, &r) in sparse.rows.iter().enumerate() {
                        let r = r as usize;
                        let span = r * w..(r + 1) * w;
                        let (p, m, v) = (&mut p[span.clone()], &mut m[span.clone()], &mut v[span]);
                        replay(p, m, v, &mut done[r], &history[..history.len() - 1], &c);
                        let g: Vec<&[f32]> = g.iter().map(|g| &g[i * w..(i + 1) * w]).collect();
                        adamw_span(p, m, v, &g, 0, scale, &c, coef);
                        done[r] += 1;
                    }
                    Ok(())
                })
            })?;
        }
        Moments::Tensors(m, v) => {
            let mut g = gs[0].clone();
            for other in &gs[1..] {
                g = (g + *other)?;
            }
            let g = if grad_scale == 1.0 {
                g
            } else {
                (g * grad_scale)?
            };
            let m_new = ((&*m * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
            let v_new = ((&*v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let theta = if slot.decay {
                (t * (1.0 - lr * c.weight_decay))?
            } else {
                t.clone()
            };
            let denom = ((v_new.sqrt()? / bc2.sqrt())? + c.eps)?;
            let update = ((&m_new / denom)? * (lr / bc1))?;
            slot.var.set(&(theta - update)?)?;
            *m = m_new;
            *v = v_new;
        }
    }
    Ok(())
}

/// Apply the steps in `history[*done..]` to one row with a zero gradient.
fn replay(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    done: &mut u32,
    history: &[Coef],
    c: &AdamWConfig,
) {
    while (*done as usize) < history.len() {
        adamw_span(p, m, v, &[], 0, 1.0, c, history[*done as usize]);
        *done += 1;
    }
}

/// One AdamW update of a span, in torch's f32 arithmetic and order:
/// `p *= decay; m = lerp(m, g, 1 - b1); v = v * b2 + (1 - b2) g^2;
/// p -= step_size * m / (sqrt(v) / sqrt(bc2) + eps)`, where `g` is the sum of `grads` (read from
/// `offset`) times `scale`, or 0 when `grads` is empty.
#[allow(clippy::too_many_arguments)]
fn adamw_span(
    p: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grads: &[&[f32]],
    offset: usize,
    scale: f32,
    c: &AdamWConfig,
    k: Coef,
) {
    let (omb1, b2, omb2, eps) = (
        (1.0 - c.beta1) as f32,
        c.beta2 as f32,
        (1.0 - c.beta2) as f32,
        c.eps as f32,
    );
    for i in 0..p.len() {
        let mut g = 0f32;
        for gs in grads {
            g += gs[offset + i];
        }
        let g = g * scale;
        p[i] *= k.decay;
        // torch's lerp for weight < 0.5: m + w (g - m).
        m[i] += omb1 * (g - m[i]);
        v[i] = v[i] * b2 + omb2 * g * g;
        let denom = v[i].sqrt() / k.bc2_sqrt + eps;
        p[i] -= k.step_size * (m[i] / denom);
    }
}

/// Run `f` on the f32 data of contiguous CPU tensors.
fn with_f32_slices<R>(ts: &[Tensor], f: impl FnOnce(&[&[f32]]) -> Result<R>) -> Result<R> {
    let guards: Vec<_> = ts.iter().map(|t| t.storage_and_layout()).collect();
    let mut slices = Vec::with_capacity(ts.len());
    for (storage, layout) in &guards {
        match (&**storage, layout.contiguous_offsets()) {
            (candle_core::Storage::Cpu(CpuStorage::F32(d)), Some((a, b))) => slices.push(&d[a..b]),
            _ => candle_core::bail!("expected a contiguous f32 CPU tensor"),
        }
    }
    f(&slices)
}

/// Mutate a contiguous f32 CPU tensor's data in place (the optimiser owns the parameters'
/// storage between forward passes; candle's `Var::set` would need a full-size source tensor).
fn update_in_place(t: &Tensor, f: impl FnOnce(&mut [f32]) -> Result<()>) -> Result<()> {
    struct Op<F>(RefCell<Option<F>>);
    impl<F: FnOnce(&mut [f32]) -> Result<()>> candle_core::InplaceOp1 for Op<F> {
        fn name(&self) -> &'static str {
            "adamw-update"
        }
        fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> Result<()> {
            let (CpuStorage::F32(d), Some((a, b))) = (s, l.contiguous_offsets()) else {
                candle_core::bail!("adamw: contiguous f32 parameters only");
            };
            let f = self.0.borrow_mut().take().expect("called once");
            f(&mut d[a..b])
        }
    }
    t.inplace_op1(&Op(RefCell::new(Some(f))))
}

/// A sum of squares: read on the host, or a 0-dim f64 tensor left on its device so that all of a
/// step's are added there and read in one transfer (one synchronising read per parameter tensor
/// would stall a GPU ~200 times a step).
enum SqSum {
    Host(f64),
    Device(Tensor),
}

/// Sum of squares of a tensor in f64 (one pass over CPU f32 storage; tensor ops elsewhere).
fn sum_sq(t: &Tensor) -> Result<SqSum> {
    if t.device().is_cpu() && t.dtype() == DType::F32 {
        return with_f32_slices(&[t.contiguous()?], |s| {
            // Four f64 lanes keep the loop vectorisable and the sum order fixed.
            let mut acc = [0f64; 4];
            let chunks = s[0].chunks_exact(4);
            let rest = chunks.remainder();
            for c in chunks {
                for i in 0..4 {
                    acc[i] += (c[i] as f64) * (c[i] as f64);
                }
            }
            let tail: f64 = rest.iter().map(|&x| (x as f64) * (x as f64)).sum();
            Ok(SqSum::Host(acc.iter().sum::<f64>() + tail))
        });
    }
    Ok(SqSum::Device(t.to_dtype(DType::F64)?.sqr()?.sum_all()?))
}

/// Sum of squares of the elementwise sum of same-shaped tensors (f64 accumulation).
fn sum_sq_of_sum(ts: &[&Tensor]) -> Result<SqSum> {
    match ts {
        [] => Ok(SqSum::Host(0.0)),
        [t] => sum_sq(t),
        _ if ts
            .iter()
            .all(|t| t.device().is_cpu() && t.dtype() == DType::F32) =>
        {
            let ts = ts
                .iter()
                .map(|t| t.contiguous())
                .collect::<Result<Vec<_>>>()?;
            with_f32_slices(&ts, |s| {
                let mut acc = 0f64;
                for i in 0..s[0].len() {
                    // The same f32 sum the optimiser forms.
                    let mut g = 0f32;
                    for x in s {
                        g += x[i];
                    }
                    acc += (g as f64) * (g as f64);
                }
                Ok(SqSum::Host(acc))
            })
        }
        _ => {
            let mut sum = ts[0].clone();
            for t in &ts[1..] {
                sum = (sum + *t)?;
            }
            sum_sq(&sum)
        }
    }
}

/// Global L2 norm of gradients split over shards (summed per parameter) plus row-sparse ones.
pub fn grad_norm_sum(grads: &[&GradStore], vars: &[Var], rows: Option<&RowGrads>) -> Result<f64> {
    let mut sums = Vec::with_capacity(vars.len() + 1);
    for var in vars {
        let gs: Vec<&Tensor> = grads.iter().filter_map(|g| g.get(var)).collect();
        sums.push(sum_sq_of_sum(&gs)?);
    }
    if let Some(r) = rows {
        sums.push(sum_sq_of_sum(&r.grads.iter().collect::<Vec<_>>())?);
    }
    let mut sum = 0f64;
    let mut on_device = Vec::new();
    for s in sums {
        match s {
            SqSum::Host(v) => sum += v,
            SqSum::Device(t) => on_device.push(t),
        }
    }
    if !on_device.is_empty() {
        sum += Tensor::stack(&on_device, 0)?
            .sum_all()?
            .to_scalar::<f64>()?;
    }
    Ok(sum.sqrt())
}

/// Global L2 norm of the gradients of `vars` (f64 accumulation).
pub fn grad_norm(grads: &GradStore, vars: &[Var]) -> Result<f64> {
    grad_norm_sum(&[grads], vars, None)
}

/// `torch.nn.utils.clip_grad_norm_`'s coefficient for a gradient norm: `max_norm / (norm + 1e-6)`,
/// clamped to at most 1. Pass it to [`AdamW::step_scaled`] to clip without rewriting gradients.
pub fn clip_coefficient(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

/// `torch.nn.utils.clip_grad_norm_`: scale all gradients by `max_norm / (norm + 1e-6)` when that is
/// below 1. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max_norm: f64) -> Result<f64> {
    let norm = grad_norm(grads, vars)?;
    let coef = clip_coefficient(norm, max_norm);
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
    /// The tensor-op update (what runs on a GPU) against the host loop the CPU uses: an f64 copy
    /// of the weights takes the tensor path on the CPU too. Three steps with changing gradients,
    /// weight decay on the weight, none on the bias.
    #[test]
    fn tensor_path_matches_host_path() -> Result<()> {
        let w0: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.1).collect();
        let run = |dtype: DType| -> Result<Vec<f64>> {
            let dev = Device::Cpu;
            let w = Var::from_tensor(&Tensor::new(w0.as_slice(), &dev)?.to_dtype(dtype)?)?;
            let b = Var::from_tensor(&Tensor::new(&w0[..4], &dev)?.to_dtype(dtype)?)?;
            let mut opt = AdamW::new(
                vec![("l.weight".into(), w.clone()), ("l.bias".into(), b.clone())],
                AdamWConfig::default(),
            );
            for step in 0..3 {
                // A loss whose gradient changes with the weights and the step.
                let k = (step + 1) as f64;
                let loss = ((w.as_tensor().sqr()? * k)?.sum_all()?
                    + (b.as_tensor() * w.as_tensor().narrow(0, 0, 4)?)?.sum_all()?)?;
                opt.step(&loss.backward()?, 0.05)?;
            }
            let out = w.as_tensor().to_dtype(DType::F64)?.to_vec1::<f64>()?;
            Ok([out, b.as_tensor().to_dtype(DType::F64)?.to_vec1::<f64>()?].concat())
        };
        let host = run(DType::F32)?;
        let tensors = run(DType::F64)?;
        let moved = host
            .iter()
            .zip(&w0)
            .filter(|(a, b)| (**a - **b as f64).abs() > 1e-3);
        assert!(moved.count() > 20, "the steps moved the weights");
        for (i, (a, b)) in host.iter().zip(&tensors).enumerate() {
            assert!(
                (a - b).abs() < 1e-6,
                "weight {i}: host {a} vs tensor path {b}"
            );
        }
        Ok(())
    }

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

    /// Lazy row-sparse updates must equal dense AdamW bit for bit: rows a step does not touch get a
    /// zero gradient in the dense run and are replayed later in the sparse one.
    #[test]
    fn sparse_rows_equal_dense_updates() -> Result<()> {
        let dev = Device::Cpu;
        let (n, w) = (6, 5);
        let mut rng = crate::rng::Rng::new(9);
        let init: Vec<f32> = (0..n * w).map(|_| rng.normal() as f32).collect();
        let dense = Var::from_vec(init.clone(), (n, w), &dev)?;
        let sparse = Var::from_vec(init, (n, w), &dev)?;
        let mut opt_d = AdamW::new(
            vec![("emb.weight".into(), dense.clone())],
            AdamWConfig::default(),
        );
        let mut opt_s = AdamW::new(
            vec![("emb.weight".into(), sparse.clone())],
            AdamWConfig::default(),
        );
        let steps: [&[u32]; 5] = [&[0, 2], &[2, 3], &[5], &[0, 1, 4], &[3]];
        for (t, rows) in steps.iter().enumerate() {
            // Two shards' gradients for the touched rows, zero elsewhere in the dense run.
            let shard = |k: usize| -> Vec<f32> {
                (0..rows.len() * w)
                    .map(|i| ((i + 3 * k + 7 * t) as f32 * 0.37).sin())
                    .collect()
            };
            let (g1, g2) = (shard(1), shard(2));
            let dense_grad = |g: &[f32]| -> Result<Tensor> {
                let mut full = vec![0f32; n * w];
                for (i, &r) in rows.iter().enumerate() {
                    full[r as usize * w..(r as usize + 1) * w]
                        .copy_from_slice(&g[i * w..(i + 1) * w]);
                }
                Tensor::from_vec(full, (n, w), &dev)
            };
            let mut s1 = GradStore::default();
            s1.insert(&dense, dense_grad(&g1)?);
            let mut s2 = GradStore::default();
            s2.insert(&dense, dense_grad(&g2)?);
            let lr = 1e-2 * (t + 1) as f64;
            opt_d.step_scaled(&[&s1, &s2], None, lr, 0.75)?;
            opt_s.catch_up(&sparse, Some(rows))?;
            let row_grads = RowGrads {
                var: &sparse,
                rows,
                grads: vec![
                    Tensor::from_vec(g1, (rows.len(), w), &dev)?,
                    Tensor::from_vec(g2, (rows.len(), w), &dev)?,
                ],
            };
            opt_s.step_scaled(&[], Some(&row_grads), lr, 0.75)?;
        }
        opt_s.sync()?;
        let a = dense.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let b = sparse.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(a, b, "lazy sparse AdamW must be bit-identical to dense");
        Ok(())
    }
}
