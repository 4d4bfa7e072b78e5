//! The training step machine. [`Trainer::step`] runs one optimiser step and returns what happened;
//! the caller ([`super::session::Session`], a test) decides when to evaluate, save, report or stop.
//! A step: gather the sparse word-embedding rows, plan the batch ([`super::plan`]), forward and
//! backward each shard under its own dropout seed, add the gradients, clip, and update (AdamW).
//!
//! Imports: the run configuration, the loss, the optimiser and the planner of this module, the
//! encoder and model, the data layer's pairs and the crate's error type. No threads of its own
//! (shards go through [`crate::parallel`]), timers or I/O.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use serde::Serialize;

use super::config::validate_pairs;
use super::config::TrainConfig;
use super::loss::Loss;
use super::optim::{clip_coefficient, grad_norm_sum, AdamW, AdamWConfig, RowGrads, WarmupLinear};
use super::plan::{activation_bytes, ShardPlanner};
use crate::data::pairs::TrainPair;
use crate::error::{Error, Result};
use crate::model::{Precision, WordRows};
use crate::SentenceEncoder;

/// What one step did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// Epoch of this step (0-based).
    pub epoch: usize,
    /// Optimiser steps done, this one included.
    pub step: usize,
    /// Optimiser steps of the whole run.
    pub total_steps: usize,
    /// Loss of the batch (before the update).
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Pairs in the batch.
    pub pairs: usize,
    /// This step ended an epoch.
    pub epoch_finished: bool,
}

/// Sets a model's matrix-product precision for one training step and restores the previous one
/// when dropped, also on an early return with an error.
struct PrecisionScope<'e> {
    enc: &'e SentenceEncoder,
    previous: Precision,
}

impl<'e> PrecisionScope<'e> {
    fn new(enc: &'e SentenceEncoder, p: Precision) -> Self {
        PrecisionScope {
            enc,
            previous: enc.set_precision(p),
        }
    }
}

impl Drop for PrecisionScope<'_> {
    fn drop(&mut self) {
        self.enc.set_precision(self.previous);
    }
}

/// Add `more`'s gradients of `keys` into `acc`.
fn accumulate(acc: &mut GradStore, more: &GradStore, keys: &[&Tensor]) -> Result<()> {
    for &t in keys {
        if let Some(g) = more.get(t) {
            let sum = match acc.get(t) {
                Some(a) => (a + g)?,
                None => g.clone(),
            };
            acc.insert(t, sum);
        }
    }
    Ok(())
}

/// Drives training of an encoder, one optimiser step at a time.
///
/// Word-embedding rows are updated lazily (see [`AdamW::catch_up`]): the table is brought fully up
/// to date at the end of every epoch and by [`Trainer::sync`]; call that before reading the model
/// mid-epoch.
pub struct Trainer<'a> {
    enc: &'a SentenceEncoder,
    cfg: TrainConfig,
    /// The loss object of `cfg.loss`.
    loss: Box<dyn Loss>,
    a: Vec<Vec<u32>>,
    b: Vec<Vec<u32>>,
    labels: Vec<f32>,
    /// Batches of pair indices, per epoch (seeded, computed up front so the total is known).
    epochs: Vec<Vec<Vec<usize>>>,
    vars: Vec<Var>,
    opt: AdamW,
    schedule: WarmupLinear,
    epoch: usize,
    pos: usize,
    step: usize,
    /// The word-embedding table when it is updated sparsely (CPU), and a reusable id → row map.
    word: Option<Var>,
    row_of: Vec<u32>,
    /// How a batch is cut into shards and rounds (per device kind; a field so tests can force
    /// one shard or several rounds).
    planner: ShardPlanner,
}

impl<'a> Trainer<'a> {
    /// Validate the data and the config, tokenise, and set up the optimiser. `source` names the data
    /// in error messages.
    pub fn new(
        enc: &'a SentenceEncoder,
        pairs: &[TrainPair],
        cfg: TrainConfig,
        source: &str,
    ) -> Result<Self> {
        validate_pairs(pairs, &cfg, source)?;
        let loss = cfg.loss.build(cfg.mnrl_scale);
        // A loss may train on part of the pairs only (MNRL: the positives; the rest of the batch
        // supplies the negatives), so the others are left out rather than taught as duplicates.
        let pairs: Vec<&TrainPair> = pairs.iter().filter(|p| loss.trains_on(p.label)).collect();
        let a = pairs
            .iter()
            .map(|p| enc.tokenize(&p.a))
            .collect::<Result<Vec<_>>>()?;
        let b = pairs
            .iter()
            .map(|p| enc.tokenize(&p.b))
            .collect::<Result<Vec<_>>>()?;
        let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
        let epochs: Vec<Vec<Vec<usize>>> = (0..cfg.epochs)
            .map(|e| loss.batches(&texts, cfg.batch_size, cfg.seed.wrapping_add(e as u64)))
            .collect();
        let total = epochs.iter().map(|e| e.len()).sum();
        if total == 0 {
            return Err(Error::data(
                source,
                "record 0",
                "pairs",
                format!(
                    "no batch of at least {} distinct pairs for {}",
                    loss.min_batch(),
                    loss.name()
                ),
            ));
        }
        let named = enc.params().named_vars();
        let vars = named.iter().map(|(_, v)| v.clone()).collect();
        let opt = AdamW::new(
            named,
            AdamWConfig {
                weight_decay: cfg.weight_decay,
                ..Default::default()
            },
        );
        let schedule = WarmupLinear {
            lr: cfg.learning_rate,
            warmup: match cfg.warmup_ratio {
                Some(r) => (r * total as f64).ceil() as usize,
                None => cfg.warmup_steps,
            },
            total,
        };
        let word = enc
            .word_embeddings()
            .map(|(_, v)| v)
            .filter(|v| v.device().is_cpu() && v.dim(0).is_ok());
        let row_of = match &word {
            Some(w) => vec![u32::MAX; w.dim(0)?],
            None => Vec::new(),
        };
        Ok(Trainer {
            word,
            row_of,
            planner: ShardPlanner::for_device(enc.device()),
            enc,
            labels: pairs.iter().map(|p| p.label).collect(),
            loss,
            cfg,
            a,
            b,
            epochs,
            vars,
            opt,
            schedule,
            epoch: 0,
            pos: 0,
            step: 0,
        })
    }

    /// Optimiser steps of the whole run.
    pub fn total_steps(&self) -> usize {
        self.schedule.total
    }

    /// Pairs trained on per epoch (for MNRL: the positives).
    pub fn pairs(&self) -> usize {
        self.labels.len()
    }

    /// Optimiser steps done.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Whether every epoch has run.
    pub fn finished(&self) -> bool {
        self.epoch >= self.epochs.len()
    }

    /// The configuration in use.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Bring lazily updated weights fully up to date (done automatically at every epoch's end).
    pub fn sync(&mut self) -> Result<()> {
        Ok(self.opt.sync()?)
    }

    /// The batch's rounds of shards, costed by the tokenised lengths of both sides of each pair.
    fn plan(&self, idx: &[usize]) -> Vec<Vec<Vec<usize>>> {
        let arch = self.enc.arch();
        let cost = |i: usize| {
            activation_bytes(arch, self.a[i].len()) + activation_bytes(arch, self.b[i].len())
        };
        self.planner.plan(idx, cost, !self.loss.per_pair())
    }

    /// Forward and backward of one shard: returns its share of the batch loss and its gradients.
    fn shard_step(
        &self,
        shard: &[usize],
        batch_size: usize,
        rows: Option<(&Var, &Tensor)>,
    ) -> Result<(f64, GradStore)> {
        // Both columns in one forward: twice the rows per GEMM.
        let seqs: Vec<&[u32]> = shard
            .iter()
            .map(|&i| self.a[i].as_slice())
            .chain(shard.iter().map(|&i| self.b[i].as_slice()))
            .collect();
        let (ids, mask) = self.enc.pad_batch(&seqs)?;
        let emb = match rows {
            Some((table, _)) => {
                let remapped: Vec<u32> = ids
                    .flatten_all()?
                    .to_vec1::<u32>()?
                    .into_iter()
                    // Padding slots are never looked up (packing skips them); any valid row works.
                    .map(|id| match self.row_of[id as usize] {
                        u32::MAX => 0,
                        r => r,
                    })
                    .collect();
                let remapped = Tensor::from_vec(remapped, ids.shape(), ids.device())?;
                let rows = WordRows {
                    table: table.as_tensor(),
                    ids: &remapped,
                };
                self.enc.forward_rows(&ids, &mask, Some(rows), true)?
            }
            None => self.enc.forward_t(&ids, &mask, true)?,
        };
        let n = shard.len();
        let u = emb.narrow(0, 0, n)?;
        let v = emb.narrow(0, n, n)?;
        let labels: Vec<f32> = shard.iter().map(|&i| self.labels[i]).collect();
        let labels = Tensor::from_vec(labels, n, self.enc.device())?;
        let loss = self.loss.forward(&u, &v, &labels)?;
        let loss = if self.loss.per_pair() {
            // The batch loss is the mean over all its pairs: this shard contributes n / batch.
            (loss * (n as f64 / batch_size as f64))?
        } else {
            loss
        };
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        Ok((value, loss.backward()?))
    }

    /// One optimiser step on the next batch. A non-finite loss stops with an error naming the step.
    pub fn step(&mut self) -> Result<StepReport> {
        if self.finished() {
            return Err(Error::Invalid("training has finished".into()));
        }
        let idx = self.epochs[self.epoch][self.pos].clone();
        let _precision = PrecisionScope::new(self.enc, self.cfg.precision);
        // Sparse word embeddings: the rows this batch reads become a small leaf of their own.
        let mut uniq: Vec<u32> = Vec::new();
        let sub = match self.word.clone() {
            Some(word) => {
                uniq = idx
                    .iter()
                    .flat_map(|&i| self.a[i].iter().chain(&self.b[i]))
                    .copied()
                    .collect();
                uniq.sort_unstable();
                uniq.dedup();
                if let Some(&max) = uniq.last().filter(|&&m| m as usize >= self.row_of.len()) {
                    return Err(Error::model(
                        "tokenizer.json",
                        format!(
                            "token id {max} is outside the word-embedding table ({} rows)",
                            self.row_of.len()
                        ),
                    ));
                }
                for (r, &id) in uniq.iter().enumerate() {
                    self.row_of[id as usize] = r as u32;
                }
                self.opt.catch_up(&word, Some(&uniq))?;
                let rows = Tensor::from_slice(&uniq, uniq.len(), self.enc.device())?;
                let table = Var::from_tensor(&word.as_tensor().index_select(&rows, 0)?)?;
                Some((word, table, rows))
            }
            None => None,
        };
        let plan = self.plan(&idx);
        let seed = self.cfg.seed;
        let step = self.step as u64;
        let mut value = 0f64;
        // One gradient store per parallel shard slot; later rounds add into them.
        let mut stores: Vec<GradStore> = Vec::new();
        let mut first_shard = 0;
        // The tensors whose gradients later rounds add in: every weight, and the sparse sub-table.
        let mut keys: Vec<&Tensor> = self.vars.iter().map(|v| v.as_tensor()).collect();
        if let Some((_, table, _)) = &sub {
            keys.push(table.as_tensor());
        }
        for round in &plan {
            let results = {
                let this = &*self;
                let rows = sub.as_ref().map(|(_, t, r)| (t, r));
                crate::parallel::map(
                    &round
                        .iter()
                        .enumerate()
                        .map(|(k, shard)| (first_shard + k, shard))
                        .collect::<Vec<_>>(),
                    |(k, shard)| {
                        let shard_seed = seed
                            ^ (step + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                            ^ (*k as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03);
                        if !this.enc.device().is_cpu() {
                            // GPU dropout draws on the device's generator (one shard at a time).
                            this.enc.device().set_seed(shard_seed)?;
                        }
                        crate::model::nn::with_dropout_seed(shard_seed, || {
                            this.shard_step(shard, idx.len(), rows)
                        })
                    },
                )
            };
            first_shard += round.len();
            for (slot, r) in results.into_iter().enumerate() {
                let (v, g) = r?;
                value += v;
                match stores.get_mut(slot) {
                    None => stores.push(g),
                    Some(acc) => accumulate(acc, &g, &keys)?,
                }
            }
        }
        for &id in &uniq {
            self.row_of[id as usize] = u32::MAX;
        }
        if !value.is_finite() {
            return Err(Error::Invalid(format!(
                "loss is {value} at step {} (epoch {}); training stopped",
                self.step + 1,
                self.epoch + 1
            )));
        }
        let refs: Vec<&GradStore> = stores.iter().collect();
        let row_grads = sub.as_ref().map(|(word, table, _)| RowGrads {
            var: word,
            rows: &uniq,
            grads: stores
                .iter()
                .filter_map(|g| g.get(table.as_tensor()).cloned())
                .collect(),
        });
        let grad_norm = grad_norm_sum(&refs, &self.vars, row_grads.as_ref())?;
        let clip = clip_coefficient(grad_norm, self.cfg.max_grad_norm);
        let lr = self.schedule.lr_at(self.step);
        self.opt.step_scaled(&refs, row_grads.as_ref(), lr, clip)?;
        self.step += 1;
        self.pos += 1;
        let report = StepReport {
            epoch: self.epoch,
            step: self.step,
            total_steps: self.schedule.total,
            loss: value,
            lr,
            grad_norm,
            pairs: idx.len(),
            epoch_finished: self.pos == self.epochs[self.epoch].len(),
        };
        if report.epoch_finished {
            self.epoch += 1;
            self.pos = 0;
            self.sync()?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::loss::LossKind;
    use candle_core::Device;

    fn pairs() -> Vec<TrainPair> {
        let p = |a: &str, b: &str, label| TrainPair {
            a: a.into(),
            b: b.into(),
            label,
        };
        vec![
            p("printer offline", "cannot print, printer offline", 0.9),
            p("vpn drops", "vpn disconnects often", 0.9),
            p("password reset", "laptop screen broken", 0.0),
            p("disk full on db01", "outlook crash", 0.1),
            p("outlook crashes", "email client crash", 0.8),
            p("new hire laptop", "vpn drops", 0.0),
        ]
    }

    fn run(seed: u64, loss: LossKind) -> Vec<f64> {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig {
            epochs: 3,
            batch_size: 4,
            learning_rate: 1e-2,
            warmup_steps: 2,
            seed,
            loss,
            ..Default::default()
        };
        let mut t = Trainer::new(&enc, &pairs(), cfg, "mem").unwrap();
        let total = t.total_steps();
        if loss == LossKind::Cosine {
            assert_eq!(total, 6, "3 epochs of ceil(6 / 4) batches");
        }
        let mut losses = Vec::new();
        while !t.finished() {
            losses.push(t.step().unwrap().loss);
        }
        assert_eq!(t.steps_done(), total);
        assert!(t.step().is_err(), "stepping a finished run is an error");
        losses
    }

    #[test]
    fn same_seed_same_run_and_loss_falls() {
        let a = run(7, LossKind::Cosine);
        assert_eq!(
            a,
            run(7, LossKind::Cosine),
            "same seed must reproduce exactly"
        );
        assert_ne!(a, run(8, LossKind::Cosine));
        // Whole passes over the same pairs: the last epoch's mean loss is below the first's.
        let longer = {
            let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
            let cfg = TrainConfig {
                epochs: 20,
                batch_size: 6,
                learning_rate: 1e-2,
                warmup_steps: 0,
                seed: 3,
                ..Default::default()
            };
            let mut t = Trainer::new(&enc, &pairs(), cfg, "mem").unwrap();
            (0..20).map(|_| t.step().unwrap().loss).collect::<Vec<_>>()
        };
        assert!(
            longer[19] < longer[0] * 0.5,
            "loss did not fall: {longer:?}"
        );
        let mnrl = run(7, LossKind::Mnrl);
        assert_eq!(mnrl, run(7, LossKind::Mnrl));
        assert!(mnrl.iter().all(|l| l.is_finite()));
    }

    fn flat_params(enc: &SentenceEncoder) -> Vec<(String, Vec<f32>)> {
        enc.params()
            .named_vars()
            .iter()
            .map(|(n, v)| {
                let t = v.as_tensor().flatten_all().unwrap();
                (n.clone(), t.to_vec1::<f32>().unwrap())
            })
            .collect()
    }

    /// One step (dropout off) under `precision` of a trainer adjusted by `setup`: the rounds the
    /// first batch is planned in, the loss, and the weights after.
    fn one_step(
        precision: Precision,
        setup: impl FnOnce(&mut Trainer),
    ) -> (usize, f64, Vec<(String, Vec<f32>)>) {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        enc.set_dropout(false);
        let cfg = TrainConfig {
            batch_size: 6,
            learning_rate: 1e-2,
            warmup_steps: 0,
            precision,
            ..Default::default()
        };
        let mut t = Trainer::new(&enc, &pairs(), cfg, "mem").unwrap();
        setup(&mut t);
        let rounds = t.plan(&t.epochs[0][0]).len();
        let loss = t.step().unwrap().loss;
        t.sync().unwrap();
        assert_eq!(
            enc.precision(),
            Precision::F32,
            "the step restores f32 for evaluation"
        );
        (rounds, loss, flat_params(&enc))
    }

    /// bf16 / f16 autocast: the loss tracks f32's, every parameter still moves (the casts pass
    /// gradients back to the f32 master weights), and the weights stay f32.
    #[test]
    fn reduced_precision_steps_track_f32() {
        let before = flat_params(&SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap());
        let (_, l32, w32) = one_step(Precision::F32, |_| {});
        for p in [Precision::Bf16, Precision::F16] {
            let (_, l, w) = one_step(p, |_| {});
            assert!(
                (l - l32).abs() < 2e-2 * l32.abs(),
                "{p}: loss {l} vs f32 {l32}"
            );
            for ((name, b), (_, a)) in before.iter().zip(&w) {
                assert!(b != a, "{p}: {name} did not move");
            }
            // Same direction as the f32 step: AdamW's first step moves each weight by ±lr, so
            // most signs of the update agree.
            let (mut same, mut n) = (0usize, 0usize);
            for ((_, b), ((_, a), (_, f))) in before.iter().zip(w.iter().zip(&w32)) {
                for ((x0, x), y) in b.iter().zip(a).zip(f) {
                    if (y - x0).abs() > 1e-4 {
                        n += 1;
                        same += usize::from((x - x0).signum() == (y - x0).signum());
                    }
                }
            }
            assert!(
                same as f64 > 0.9 * n as f64,
                "{p}: {same} of {n} updates agree in sign with f32"
            );
        }
    }

    /// The GPU plan (one shard per round) computes the same step as the CPU's two shards.
    #[test]
    fn one_shard_plan_matches_two() {
        let (_, l2, w2) = one_step(Precision::F32, |_| {});
        let (_, l1, w1) = one_step(Precision::F32, |t| t.planner.shards = 1);
        assert!((l1 - l2).abs() < 1e-6 * l2.abs().max(1.0), "{l1} vs {l2}");
        for ((name, a), (_, b)) in w1.iter().zip(&w2) {
            let d = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            // lr 1e-2: AdamW moves each weight by up to 1e-2, so 1e-4 is summation-order noise
            // (the same bound as the rounds test).
            assert!(d < 1e-4, "{name}: max diff {d}");
        }
    }

    /// Gradient accumulation over rounds gives the step one round gives (dropout off: the shards'
    /// dropout streams differ between plans).
    #[test]
    fn rounds_accumulate_to_the_same_step() {
        let after = |budget: usize| {
            let (rounds, loss, named) = one_step(Precision::F32, |t| t.planner.budget = budget);
            let flat: Vec<f32> = named.into_iter().flat_map(|(_, w)| w).collect();
            (rounds, loss, flat)
        };
        let (r1, l1, w1) = after(usize::MAX / 4);
        let (r3, l3, w3) = after(1);
        assert_eq!(
            (r1, r3),
            (1, 3),
            "6 pairs: one round, or three rounds of two shards"
        );
        assert!((l1 - l3).abs() < 1e-6 * l1.abs().max(1.0), "{l1} vs {l3}");
        let max_diff = w1
            .iter()
            .zip(&w3)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        // AdamW's first step is lr·g/(|g| + eps): about ±lr for every weight whatever the gradient's
        // size, so a lost or doubled round moves weights by ~1e-2; rounding in tiny gradients (summed
        // in another order) moves a few by far less.
        assert!(max_diff < 1e-4, "weights differ by {max_diff}");
        let moved = w1
            .iter()
            .zip(&w3)
            .filter(|(a, b)| (*a - *b).abs() > 1e-6)
            .count();
        assert!(
            moved * 100 < w1.len(),
            "{moved} of {} weights differ",
            w1.len()
        );
    }

    #[test]
    fn bad_data_is_refused_before_the_first_step() {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig::default;
        let err = |p: &[TrainPair], c: TrainConfig| {
            Trainer::new(&enc, p, c, "pairs.json")
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err(&pairs()[..1], cfg()).contains("at least 2 pairs"));
        let mut p = pairs();
        p[3].label = 1.5;
        let e = err(&p, cfg());
        assert!(
            e.contains("pairs.json: record 3: label") && e.contains("outside [0, 1]"),
            "{e}"
        );
        p[3].label = f32::NAN;
        assert!(err(&p, cfg()).contains("record 3: label"));
        let mut p = pairs();
        p[2].b = "  ".into();
        assert!(err(&p, cfg()).contains("record 2: b: empty text"));
        // MNRL ignores labels but needs in-batch negatives.
        let mut p = pairs();
        p[0].label = 7.0;
        assert!(Trainer::new(
            &enc,
            &p,
            TrainConfig {
                loss: LossKind::Mnrl,
                ..cfg()
            },
            "x"
        )
        .is_ok());
        assert!(err(
            &p,
            TrainConfig {
                loss: LossKind::Mnrl,
                batch_size: 1,
                ..cfg()
            }
        )
        .contains("batch_size"));
    }
}
