//! The training step machine. [`Trainer::step`] runs one optimiser step and returns what happened;
//! the caller (CLI loop, browser worker, test) decides when to evaluate, save, report or stop. No
//! threads, timers or I/O in here.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use super::batch::{no_duplicate_batches, shuffled_batches};
use super::loss::{cosine_similarity_loss, multiple_negatives_ranking_loss};
use super::optim::{clip_coefficient, grad_norm_sum, AdamW, AdamWConfig, RowGrads, WarmupLinear};
use crate::error::{Error, Result};
use crate::model::WordRows;
use crate::SentenceEncoder;

/// A training pair. `label` is the target similarity in [0, 1] for the cosine loss; MNRL treats
/// every pair as a positive and ignores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainPair {
    /// First text.
    pub a: String,
    /// Second text.
    pub b: String,
    /// Target similarity.
    pub label: f32,
}

/// Which loss to train with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// CosineSimilarityLoss (labelled pairs, the seeds' loss).
    #[default]
    Cosine,
    /// MultipleNegativesRankingLoss (positive pairs only, e.g. duplicate links).
    Mnrl,
}

/// Training hyper-parameters; the defaults are the seeds' v3 recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Pairs per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Linear warmup steps (then linear decay to 0).
    pub warmup_steps: usize,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// AdamW weight decay (not applied to biases and LayerNorm weights).
    pub weight_decay: f64,
    /// Seed for shuffling and dropout.
    pub seed: u64,
    /// Loss function.
    pub loss: LossKind,
    /// MNRL's similarity scale.
    pub mnrl_scale: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            batch_size: 32,
            learning_rate: 2e-5,
            warmup_steps: 100,
            max_grad_norm: 1.0,
            weight_decay: 0.01,
            seed: 42,
            loss: LossKind::Cosine,
            mnrl_scale: 20.0,
        }
    }
}

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

/// Shards a cosine-loss batch is split into. The loss is a sum over pairs, so the shards' gradients
/// add up to the batch's; the shards run on separate threads natively (one single-threaded GEMM per
/// core beats two cores sharing small GEMMs) and one after the other in wasm. The count is fixed,
/// not the machine's core count, so a seed gives the same run everywhere.
const SHARDS: usize = 2;

/// Drives training of an encoder, one optimiser step at a time.
///
/// Word-embedding rows are updated lazily (see [`AdamW::catch_up`]): the table is brought fully up
/// to date at the end of every epoch and by [`Trainer::sync`]; call that before reading the model
/// mid-epoch.
pub struct Trainer<'a> {
    enc: &'a SentenceEncoder,
    cfg: TrainConfig,
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
        if pairs.len() < 2 {
            return Err(Error::data(
                source,
                "record 0",
                "pairs",
                format!("training needs at least 2 pairs, found {}", pairs.len()),
            ));
        }
        if cfg.epochs == 0 || cfg.batch_size == 0 {
            return Err(Error::Invalid(
                "epochs and batch_size must be at least 1".into(),
            ));
        }
        if !(cfg.learning_rate.is_finite() && cfg.learning_rate > 0.0) {
            return Err(Error::Invalid(format!(
                "learning rate must be positive, got {}",
                cfg.learning_rate
            )));
        }
        if cfg.loss == LossKind::Mnrl && cfg.batch_size < 2 {
            return Err(Error::Invalid(
                "MNRL needs batch_size ≥ 2 (in-batch negatives)".into(),
            ));
        }
        for (i, p) in pairs.iter().enumerate() {
            for (field, text) in [("a", &p.a), ("b", &p.b)] {
                if text.trim().is_empty() {
                    return Err(Error::data(
                        source,
                        format!("record {i}"),
                        field,
                        "empty text",
                    ));
                }
            }
            if cfg.loss == LossKind::Cosine
                && !(p.label.is_finite() && (0.0..=1.0).contains(&p.label))
            {
                return Err(Error::data(
                    source,
                    format!("record {i}"),
                    "label",
                    format!(
                        "{} is outside [0, 1] (CosineSimilarityLoss compares it with a cosine)",
                        p.label
                    ),
                ));
            }
        }
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
            .map(|e| {
                let seed = cfg.seed.wrapping_add(e as u64);
                match cfg.loss {
                    LossKind::Cosine => shuffled_batches(pairs.len(), cfg.batch_size, seed),
                    LossKind::Mnrl => no_duplicate_batches(&texts, cfg.batch_size, seed)
                        .into_iter()
                        .filter(|batch| batch.len() >= 2)
                        .collect(),
                }
            })
            .collect();
        let total = epochs.iter().map(|e| e.len()).sum();
        if total == 0 {
            return Err(Error::data(
                source,
                "record 0",
                "pairs",
                "no batch of at least 2 distinct pairs for MNRL",
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
            warmup: cfg.warmup_steps,
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
            enc,
            labels: pairs.iter().map(|p| p.label).collect(),
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

    /// Split a batch into shards of about equal token counts (longest pairs first, each to the
    /// lighter shard): deterministic, and balanced so neither thread waits long for the other.
    fn shards(&self, idx: &[usize]) -> Vec<Vec<usize>> {
        let n = if self.cfg.loss == LossKind::Cosine {
            SHARDS.min(idx.len())
        } else {
            1 // MNRL's in-batch negatives couple every pair of the batch.
        };
        let mut order = idx.to_vec();
        let cost = |i: usize| self.a[i].len() + self.b[i].len();
        order.sort_by_key(|&i| std::cmp::Reverse(cost(i)));
        let mut shards = vec![Vec::new(); n];
        let mut load = vec![0usize; n];
        for i in order {
            let k = (0..n).min_by_key(|&k| load[k]).expect("n >= 1");
            load[k] += cost(i);
            shards[k].push(i);
        }
        shards
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
        let loss = match self.cfg.loss {
            LossKind::Cosine => {
                let labels: Vec<f32> = shard.iter().map(|&i| self.labels[i]).collect();
                let labels = Tensor::from_vec(labels, n, self.enc.device())?;
                // The batch loss is the mean over all its pairs: this shard contributes n / batch.
                (cosine_similarity_loss(&u, &v, &labels)? * (n as f64 / batch_size as f64))?
            }
            LossKind::Mnrl => multiple_negatives_ranking_loss(&u, &v, self.cfg.mnrl_scale)?,
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
        let shards = self.shards(&idx);
        let seed = self.cfg.seed;
        let step = self.step as u64;
        let results = {
            let this = &*self;
            let rows = sub.as_ref().map(|(_, t, r)| (t, r));
            crate::parallel::map(
                &shards.iter().enumerate().collect::<Vec<_>>(),
                |(k, shard)| {
                    let shard_seed = seed
                        ^ (step + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                        ^ (*k as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03);
                    crate::model::nn::with_dropout_seed(shard_seed, || {
                        this.shard_step(shard, idx.len(), rows)
                    })
                },
            )
        };
        let mut value = 0f64;
        let mut stores = Vec::with_capacity(results.len());
        for r in results {
            let (v, g) = r?;
            value += v;
            stores.push(g);
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
