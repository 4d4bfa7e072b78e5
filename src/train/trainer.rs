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
use super::recipe::Objective;
use crate::data::pairs::TrainPair;
use crate::error::{Error, Result};
use crate::model::{Precision, WordRows};
use crate::rng::Rng;
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
    /// The recipe's objectives, tokenised.
    tasks: Vec<Task>,
    /// What the recipe could not use.
    notes: Vec<String>,
    /// Batches (objective, row indices), per epoch (seeded, computed up front so the total is
    /// known).
    epochs: Vec<Vec<(usize, Vec<usize>)>>,
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

/// One objective, tokenised.
struct Task {
    loss: Box<dyn Loss>,
    /// Token ids by column, then row.
    cols: Vec<Vec<Vec<u32>>>,
    labels: Vec<f32>,
}

impl<'a> Trainer<'a> {
    /// Validate the data and the config, turn the pairs into the recipe's objectives
    /// ([`super::recipe`]), tokenise, and set up the optimiser. `source` names the data in error
    /// messages.
    pub fn new(
        enc: &'a SentenceEncoder,
        pairs: &[TrainPair],
        cfg: TrainConfig,
        source: &str,
    ) -> Result<Self> {
        validate_pairs(pairs, &cfg, source)?;
        let (objectives, notes) = cfg.objectives(pairs, source)?;
        Self::with_objectives(enc, objectives, notes, cfg, source)
    }

    /// Set up training on `objectives` (each row a pair or a triplet of texts). `notes` are kept for
    /// [`Trainer::notes`].
    pub fn with_objectives(
        enc: &'a SentenceEncoder,
        objectives: Vec<Objective>,
        notes: Vec<String>,
        cfg: TrainConfig,
        source: &str,
    ) -> Result<Self> {
        cfg.validate()?;
        let mut tasks = Vec::with_capacity(objectives.len());
        let mut per_task_batches = Vec::with_capacity(objectives.len());
        for o in objectives {
            let columns = o.rows.first().map_or(2, Vec::len);
            if !(2..=o.loss.max_columns()).contains(&columns)
                || o.rows.iter().any(|r| r.len() != columns)
                || o.labels.len() != o.rows.len()
            {
                return Err(Error::Invalid(format!(
                    "{}: {} takes rows of 2 to {} texts, all the same length, one label each",
                    o.name,
                    o.loss.name(),
                    o.loss.max_columns()
                )));
            }
            let cols = (0..columns)
                .map(|c| {
                    o.rows
                        .iter()
                        .map(|r| enc.tokenize(&r[c]))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?;
            per_task_batches.push(o.epoch_batches(cfg.epochs, cfg.batch_size, cfg.seed));
            tasks.push(Task {
                loss: o.loss,
                cols,
                labels: o.labels,
            });
        }
        // Each epoch: every objective's batches; with several, interleaved at random in proportion
        // to their sizes (sentence-transformers' PROPORTIONAL multi-dataset sampler). One
        // objective keeps its own order, so a single-loss run is what it always was.
        let epochs: Vec<Vec<(usize, Vec<usize>)>> = (0..cfg.epochs)
            .map(|e| {
                let mut all: Vec<(usize, Vec<usize>)> = per_task_batches
                    .iter_mut()
                    .enumerate()
                    .flat_map(|(t, b)| std::mem::take(&mut b[e]).into_iter().map(move |x| (t, x)))
                    .collect();
                if tasks.len() > 1 {
                    Rng::new(cfg.seed.wrapping_add(e as u64) ^ 0x6d75_6c74_6974_6173)
                        .shuffle(&mut all);
                }
                all
            })
            .collect();
        let total = epochs.iter().map(|e| e.len()).sum();
        if total == 0 {
            let what = tasks
                .iter()
                .map(|t| format!("{} (min {})", t.loss.name(), t.loss.min_batch()))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::data(
                source,
                "record 0",
                "pairs",
                format!("no batch of enough distinct pairs for {what}"),
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
            planner: ShardPlanner::for_run(enc.device(), cfg.shard_memory_mib),
            enc,
            tasks,
            notes,
            cfg,
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

    /// Rows trained on per epoch, over all objectives (for MNRL: the positives).
    pub fn pairs(&self) -> usize {
        self.tasks.iter().map(|t| t.labels.len()).sum()
    }

    /// What the recipe could not use (empty when it used everything).
    pub fn notes(&self) -> &[String] {
        &self.notes
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

    /// The batch's rounds of shards, costed by the tokenised lengths of every text of each row.
    /// Every loss is planned as splittable: a coupled loss (in-batch negatives, rankings) runs its
    /// shards through the gradient cache ([`Trainer::cached_gradients`]).
    fn plan(&self, task: &Task, idx: &[usize]) -> Vec<Vec<Vec<usize>>> {
        let arch = self.enc.arch();
        let cost = |i: usize| {
            task.cols
                .iter()
                .map(|c| activation_bytes(arch, c[i].len()))
                .sum()
        };
        self.planner.plan(idx, cost, false)
    }

    /// The embeddings of every column of `shard`'s rows, `[n, d]` each, from one training forward
    /// (every column in one forward: more rows per GEMM).
    fn shard_forward(
        &self,
        task: &Task,
        shard: &[usize],
        rows: Option<(&Var, &Tensor)>,
    ) -> Result<Vec<Tensor>> {
        let seqs: Vec<&[u32]> = task
            .cols
            .iter()
            .flat_map(|c| shard.iter().map(|&i| c[i].as_slice()))
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
        Ok((0..task.cols.len())
            .map(|c| emb.narrow(0, c * n, n))
            .collect::<candle_core::Result<Vec<_>>>()?)
    }

    /// Forward and backward of one shard. Per-pair loss (`cached` is `None`): returns its share of
    /// the batch loss and its gradients. Coupled loss: `cached` holds the batch loss's gradient with
    /// respect to this shard's embeddings (one tensor per column), and the backward of
    /// `Σ embeddings · gradient` gives the shard's exact share of the weights' gradient (GradCache);
    /// the loss value was taken when the cache was made, so 0 is returned.
    fn shard_step(
        &self,
        task: &Task,
        shard: &[usize],
        batch_size: usize,
        rows: Option<(&Var, &Tensor)>,
        cached: Option<&[Tensor]>,
    ) -> Result<(f64, GradStore)> {
        let columns = self.shard_forward(task, shard, rows)?;
        if let Some(grads) = cached {
            let mut surrogate: Option<Tensor> = None;
            for (e, g) in columns.iter().zip(grads) {
                let term = (e * g.to_dtype(e.dtype())?)?.sum_all()?;
                surrogate = Some(match surrogate {
                    Some(s) => (s + term)?,
                    None => term,
                });
            }
            let surrogate = surrogate.expect("at least two columns");
            return Ok((0.0, surrogate.backward()?));
        }
        let n = shard.len();
        let labels: Vec<f32> = shard.iter().map(|&i| task.labels[i]).collect();
        let labels = Tensor::from_vec(labels, n, self.enc.device())?;
        let loss = task.loss.forward(&columns, &labels)?;
        let loss = if task.loss.per_pair() {
            // The batch loss is the mean over all its pairs: this shard contributes n / batch.
            (loss * (n as f64 / batch_size as f64))?
        } else {
            loss
        };
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        Ok((value, loss.backward()?))
    }

    /// The dropout seed of shard `k` of step `step` (the same in both passes of the gradient
    /// cache, so the two forwards of a shard draw the same masks).
    fn shard_seed(seed: u64, step: u64, k: usize) -> u64 {
        seed ^ (step + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (k as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03)
    }

    /// Run `f` for every shard of `plan` (round by round, a round's shards in parallel on as many
    /// threads as there are), each under its own dropout seed, and hand the results to `sink` in
    /// shard order as soon as each group of threads ends — so gradient stores are added up and
    /// freed before the next group runs, and memory holds one result per thread whatever the
    /// number of rounds (all-mpnet-base-v2: 344 MB of gradients each; a whole round on one
    /// thread held them all).
    fn for_shards<T: Send>(
        &self,
        plan: &[Vec<Vec<usize>>],
        f: impl Fn(usize, &[usize]) -> Result<T> + Sync,
        mut sink: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let seed = self.cfg.seed;
        let step = self.step as u64;
        let mut first = 0;
        let threads = crate::parallel::data_threads().max(1);
        for round in plan {
            let jobs: Vec<(usize, &Vec<usize>)> = round
                .iter()
                .enumerate()
                .map(|(k, shard)| (first + k, shard))
                .collect();
            for group in jobs.chunks(threads) {
                let results = crate::parallel::map(group, |(k, shard)| {
                    let shard_seed = Self::shard_seed(seed, step, *k);
                    if !self.enc.device().is_cpu() {
                        // GPU dropout draws on the device's generator (one shard at a time).
                        self.enc.device().set_seed(shard_seed)?;
                    }
                    crate::model::nn::with_dropout_seed(shard_seed, || f(*k, shard))
                });
                for r in results {
                    sink(r?)?;
                }
            }
            first += round.len();
        }
        Ok(())
    }

    /// GradCache (Gao et al. 2021; sentence-transformers' Cached* losses) for a coupled loss cut
    /// into shards: embed every shard without keeping its graph, compute the batch loss and its
    /// gradient with respect to the embeddings, and return that gradient split by shard, with the
    /// loss value. The second forward of each shard ([`Trainer::shard_step`]) replays the same
    /// dropout, so the weights' gradient is the whole batch's exactly, with the memory of one shard.
    fn cached_gradients(
        &self,
        task: &Task,
        plan: &[Vec<Vec<usize>>],
        rows: Option<(&Var, &Tensor)>,
    ) -> Result<(f64, Vec<Vec<Tensor>>)> {
        let mut embedded: Vec<Vec<Tensor>> = Vec::new();
        self.for_shards(
            plan,
            |_, shard| {
                Ok(self
                    .shard_forward(task, shard, rows)?
                    .into_iter()
                    .map(|t| t.detach())
                    .collect::<Vec<_>>())
            },
            |e| {
                embedded.push(e);
                Ok(())
            },
        )?;
        let order: Vec<usize> = plan.iter().flatten().flatten().copied().collect();
        let columns = (0..task.cols.len())
            .map(|c| {
                let parts: Vec<&Tensor> = embedded.iter().map(|s| &s[c]).collect();
                Ok(Var::from_tensor(&Tensor::cat(&parts, 0)?)?)
            })
            .collect::<Result<Vec<Var>>>()?;
        let labels: Vec<f32> = order.iter().map(|&i| task.labels[i]).collect();
        let labels = Tensor::from_vec(labels, order.len(), self.enc.device())?;
        let tensors: Vec<Tensor> = columns.iter().map(|v| v.as_tensor().clone()).collect();
        let loss = task.loss.forward(&tensors, &labels)?;
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        let grads = loss.backward()?;
        let mut by_shard = Vec::with_capacity(embedded.len());
        let mut at = 0;
        for shard in plan.iter().flatten() {
            let n = shard.len();
            by_shard.push(
                columns
                    .iter()
                    .map(|v| match grads.get(v.as_tensor()) {
                        Some(g) => Ok(g.narrow(0, at, n)?),
                        // A column the loss does not depend on: no gradient flows through it.
                        None => Ok(v.as_tensor().narrow(0, at, n)?.zeros_like()?),
                    })
                    .collect::<Result<Vec<_>>>()?,
            );
            at += n;
        }
        Ok((value, by_shard))
    }

    /// One optimiser step on the next batch. A non-finite loss stops with an error naming the step.
    pub fn step(&mut self) -> Result<StepReport> {
        if self.finished() {
            return Err(Error::Invalid("training has finished".into()));
        }
        let (t, idx) = self.epochs[self.epoch][self.pos].clone();
        let _precision = PrecisionScope::new(self.enc, self.cfg.precision);
        // Sparse word embeddings: the rows this batch reads become a small leaf of their own.
        let mut uniq: Vec<u32> = Vec::new();
        let sub = match self.word.clone() {
            Some(word) => {
                uniq = self.tasks[t]
                    .cols
                    .iter()
                    .flat_map(|c| idx.iter().flat_map(move |&i| c[i].iter()))
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
        let plan = self.plan(&self.tasks[t], &idx);
        let batch = idx.len();
        // One gradient store for the whole batch: every shard's gradients are added in, in shard
        // order (so the sum is the same on any number of threads), and freed at once — memory
        // holds the sum plus the gradients of the shards running, whatever the number of rounds.
        let mut stores: Vec<GradStore> = Vec::new();
        // The tensors whose gradients later rounds add in: every weight, and the sparse sub-table.
        let mut keys: Vec<&Tensor> = self.vars.iter().map(|v| v.as_tensor()).collect();
        if let Some((_, table, _)) = &sub {
            keys.push(table.as_tensor());
        }
        let rows = sub.as_ref().map(|(_, t, r)| (t, r));
        let task = &self.tasks[t];
        let shards: usize = plan.iter().map(Vec::len).sum();
        // A coupled loss over more than one shard goes through the gradient cache; in one shard
        // it is computed directly, as a per-pair loss is.
        let cache = if !task.loss.per_pair() && shards > 1 {
            Some(self.cached_gradients(task, &plan, rows)?)
        } else {
            None
        };
        let mut value = cache.as_ref().map_or(0.0, |(v, _)| *v);
        self.for_shards(
            &plan,
            |k, shard| {
                let cached = cache.as_ref().map(|(_, g)| g[k].as_slice());
                self.shard_step(task, shard, batch, rows, cached)
            },
            |(v, g)| {
                value += v;
                match stores.first_mut() {
                    None => stores.push(g),
                    Some(acc) => accumulate(acc, &g, &keys)?,
                }
                Ok(())
            },
        )?;
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
            kind: None,
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
            ..TrainConfig::v3()
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
                ..TrainConfig::v3()
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
            ..TrainConfig::v3()
        };
        let mut t = Trainer::new(&enc, &pairs(), cfg, "mem").unwrap();
        setup(&mut t);
        let (task, idx) = &t.epochs[0][0];
        let rounds = t.plan(&t.tasks[*task], idx).len();
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
        let after = |budget: u64| {
            let (rounds, loss, named) = one_step(Precision::F32, |t| t.planner.budget = budget);
            let flat: Vec<f32> = named.into_iter().flat_map(|(_, w)| w).collect();
            (rounds, loss, flat)
        };
        let (r1, l1, w1) = after(u64::MAX / 4);
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

    /// A coupled loss cut into shards and rounds goes through the gradient cache and takes the
    /// step the whole batch in one shard takes (dropout off), for every in-batch loss and for a
    /// recipe of several objectives (MNRL triplets + graded CoSENT).
    #[test]
    fn gradient_cache_gives_the_whole_batch_step() {
        use crate::data::pairs::PairKind;
        use crate::train::recipe::Recipe;
        let kinds = [
            PairKind::Duplicate,
            PairKind::Duplicate,
            PairKind::HardNegative,
            PairKind::RandomNegative,
            PairKind::SameFix,
            PairKind::RandomNegative,
        ];
        let with_kinds: Vec<TrainPair> = pairs()
            .into_iter()
            .zip(kinds)
            .map(|(p, k)| TrainPair {
                label: if k.is_positive() { 1.0 } else { 0.0 },
                kind: Some(k),
                ..p
            })
            .collect();
        for (recipe, loss) in [
            (Recipe::Labels, LossKind::Mnrl),
            (Recipe::Labels, LossKind::Cosent),
            (Recipe::Combined, LossKind::Cosine),
        ] {
            let step = |setup: &dyn Fn(&mut Trainer)| {
                let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
                enc.set_dropout(false);
                let cfg = TrainConfig {
                    batch_size: 6,
                    learning_rate: 1e-2,
                    warmup_steps: 0,
                    recipe,
                    loss,
                    ..TrainConfig::v3()
                };
                let mut t = Trainer::new(&enc, &with_kinds, cfg, "mem").unwrap();
                setup(&mut t);
                let mut shards = 0;
                let mut losses = Vec::new();
                // Every batch of the first epoch (Combined: both objectives).
                let batches = t.epochs[0].len();
                for b in 0..batches {
                    let (task, idx) = &t.epochs[0][b];
                    shards += t
                        .plan(&t.tasks[*task], idx)
                        .iter()
                        .map(Vec::len)
                        .sum::<usize>();
                    // The loss, and the gradient norm: AdamW's update hardly depends on the
                    // gradient's scale, the norm does.
                    let r = t.step().unwrap();
                    losses.extend([r.loss, r.grad_norm]);
                }
                t.sync().unwrap();
                let flat: Vec<f32> = flat_params(&enc).into_iter().flat_map(|(_, w)| w).collect();
                (shards, losses, flat)
            };
            let (s1, l1, w1) = step(&|t: &mut Trainer| {
                t.planner.shards = 1;
                t.planner.budget = u64::MAX / 4;
            });
            let (s2, l2, w2) = step(&|t: &mut Trainer| t.planner.budget = 1);
            assert!(s2 > s1, "{recipe:?}/{loss}: {s2} shards vs {s1}");
            for (a, b) in l1.iter().zip(&l2) {
                assert!(
                    (a - b).abs() < 1e-5 * a.abs().max(1.0),
                    "{recipe:?}/{loss}: {a} vs {b}"
                );
            }
            let d = w1
                .iter()
                .zip(&w2)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(d < 1e-4, "{recipe:?}/{loss}: weights differ by {d}");
        }
    }

    /// Results reach the sink as each group of threads ends: at most one gradient store per thread
    /// is alive (holding every round's stores at once took 14 GB on GitBugs at 128 tokens), one at
    /// a time on one thread.
    #[test]
    fn rounds_are_handed_over_one_at_a_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Live(Arc<AtomicUsize>);
        impl Drop for Live {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig {
            batch_size: 6,
            ..TrainConfig::v3()
        };
        let mut t = Trainer::new(&enc, &pairs(), cfg, "mem").unwrap();
        t.planner.budget = 1;
        let (task, idx) = t.epochs[0][0].clone();
        let plan = t.plan(&t.tasks[task], &idx);
        assert_eq!(plan.len(), 3, "three rounds of two shards");
        for threads in [1, 2] {
            let live = Arc::new(AtomicUsize::new(0));
            let (mut most, mut seen) = (0, 0);
            crate::parallel::at_most(threads, || {
                t.for_shards(
                    &plan,
                    |_, _| {
                        let n = live.fetch_add(1, Ordering::SeqCst) + 1;
                        Ok((n, Live(live.clone())))
                    },
                    |(n, guard)| {
                        most = most.max(n);
                        seen += 1;
                        drop(guard);
                        Ok(())
                    },
                )
            })
            .unwrap();
            assert_eq!(seen, plan.iter().map(Vec::len).sum::<usize>());
            let alive = threads.min(crate::parallel::data_threads().max(1));
            assert!(
                most <= alive,
                "{most} shard results alive at once on {threads} thread(s)"
            );
            assert_eq!(live.load(Ordering::SeqCst), 0);
        }
    }

    #[test]
    fn bad_data_is_refused_before_the_first_step() {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig::v3;
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
