//! The fine-tuning run, driven once for every front end: evaluate the base model, train epoch by
//! epoch, evaluate after each epoch, keep the best checkpoint's bytes by the primary metric, stop
//! early when it stops improving, stop between two steps when the caller cancels, time every part
//! and fill `training_metadata.json`. [`Session::advance`] does one unit of work and says what
//! happened; the CLI only writes files and prints, the browser worker only posts messages, and both
//! choose their data with [`select_data`].
//!
//! Time and cancellation come from the caller ([`Host`], a cancel flag), so the driver runs the
//! same natively, in a Web Worker and in tests. Imports: the trainer, the run configuration,
//! metadata and provenance, the evaluation module and the data layer's pairs and splits.

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::metadata::{BaseModel, EpochMetrics, EpochRecord, StopReason, TrainingMetadata};
use super::trainer::{StepReport, Trainer};
use crate::data::pairs::TrainPair;
use crate::data::split::{stratified_sample, stratified_split};
use crate::error::{Error, Result};
use crate::eval::similarity::evaluate;
use crate::provenance::{dependency_versions, DataRecord};
use crate::SentenceEncoder;

/// Model files by path inside a sentence-transformers folder (a checkpoint).
pub type Checkpoint = Vec<(String, Vec<u8>)>;

/// Choose a run's training and eval pairs, the one way for every front end: the eval file's pairs
/// when there is one, else `cfg.eval_split` of `pairs` held out ([`split_eval`]); then, when
/// `max_train_pairs` is not 0, a seeded sample of at most that many training pairs that keeps the
/// mix of kinds (each kind its share, at least 2 where present; a quick first run in the
/// browser). `source` names the data in errors.
pub fn select_data(
    pairs: Vec<TrainPair>,
    eval: Option<Vec<TrainPair>>,
    cfg: &TrainConfig,
    max_train_pairs: usize,
    source: &str,
) -> Result<(Vec<TrainPair>, Vec<TrainPair>)> {
    let (mut train, eval) = match eval {
        Some(eval) => (pairs, eval),
        None => split_eval(&pairs, cfg.eval_split, cfg.seed, source)?,
    };
    if max_train_pairs > 0 && train.len() > max_train_pairs {
        train = sample_by_kind(train, max_train_pairs, cfg.seed);
    }
    Ok((train, eval))
}

/// A seeded sample of `max` of `pairs` that keeps the file's mix: pairs are grouped by what they
/// are (their kind; positive / negative where they have none), each group gives its share of `max`
/// (largest remainders), and every group gets at least 2 pairs where it has them and `max` allows.
///
/// Why not a plain shuffle and cut: the recipes train on particular kinds — MNRL on duplicates
/// only, and it needs 2 of them — and duplicates are a few percent of generated pairs, so a plain
/// sample of 64 holds fewer than 2 in about a third of seeds and the quick first run fails.
fn sample_by_kind(pairs: Vec<TrainPair>, max: usize, seed: u64) -> Vec<TrainPair> {
    // Class ids in first-appearance order, so the sample depends on the file and the seed only.
    let mut keys: Vec<(Option<crate::data::pairs::PairKind>, bool)> = Vec::new();
    let classes: Vec<usize> = pairs
        .iter()
        .map(|p| {
            let key = (p.kind, p.is_positive());
            keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                keys.push(key);
                keys.len() - 1
            })
        })
        .collect();
    // Ascending indices: the chosen pairs in file order.
    let mut chosen = stratified_sample(&classes, max, 2, seed ^ 0x5a3b)
        .into_iter()
        .peekable();
    pairs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| chosen.next_if_eq(i).is_some())
        .map(|(_, p)| p)
        .collect()
}

/// Split pairs into (train, eval) with `eval_split` of them held out, seeded. The split is
/// stratified on positive / negative ([`TrainPair::is_positive`]) so both parts keep the file's balance — with few positives
/// a plain shuffle can leave the eval part without any. Errors when either part would be too small.
pub fn split_eval(
    pairs: &[TrainPair],
    eval_split: f64,
    seed: u64,
    source: &str,
) -> Result<(Vec<TrainPair>, Vec<TrainPair>)> {
    if !(eval_split > 0.0 && eval_split < 1.0) {
        return Err(Error::Invalid(format!(
            "eval_split must be between 0 and 1 (exclusive), got {eval_split}"
        )));
    }
    let n_eval = (pairs.len() as f64 * eval_split).round() as usize;
    if n_eval == 0 {
        return Err(Error::data(
            source,
            "record 0",
            "pairs",
            format!(
                "eval split is empty: {eval_split} of {} pairs rounds to 0; add pairs, raise \
                 eval_split, or give a separate eval file",
                pairs.len()
            ),
        ));
    }
    if pairs.len() - n_eval < 2 {
        return Err(Error::data(
            source,
            "record 0",
            "pairs",
            format!(
                "after holding out {n_eval} of {} pairs for evaluation fewer than 2 are left to \
                 train on",
                pairs.len()
            ),
        ));
    }
    // Class 1: similar (label ≥ 0.5), class 0: not. The stratified split keeps at least one of
    // each class on both sides whenever the class has two members, so the eval Spearman / ROC-AUC
    // always sees both kinds (so eval may exceed `n_eval` by one; train keeps ≥ 2 because each
    // class of two or more keeps a member there). The seed is mixed so the split does not replay
    // the trainer's shuffle.
    let classes: Vec<usize> = pairs.iter().map(|p| usize::from(p.is_positive())).collect();
    let (train_idx, eval_idx) = stratified_split(&classes, eval_split, seed ^ 0x5eed_e5a1)?;
    let pick = |idx: &[usize]| idx.iter().map(|&i| pairs[i].clone()).collect::<Vec<_>>();
    Ok((pick(&train_idx), pick(&eval_idx)))
}

/// What one call of [`Session::advance`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// One optimiser step (`epoch_finished` on the last step of an epoch: an evaluation is next),
    /// with the run's progress after it.
    Step {
        /// The step.
        report: StepReport,
        /// Elapsed time, ETA and throughput after it.
        progress: Progress,
    },
    /// An evaluation: of the base model first, then after every epoch. `improved`: this is the best
    /// model so far — its files are now [`Session::best_checkpoint`].
    Evaluated {
        /// The metrics with the epoch's timings.
        record: EpochRecord,
        /// Best so far by the primary metric.
        improved: bool,
    },
}

/// How far a run has got, in time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Seconds since the session started.
    pub elapsed_seconds: f64,
    /// Estimated seconds to the end: the remaining steps at the mean step time so far, plus the
    /// remaining evaluations at the mean evaluation time so far.
    pub eta_seconds: f64,
    /// Training pairs per second of training time (evaluations excluded).
    pub pairs_per_second: f64,
}

/// What a session needs from where it runs.
pub trait Host {
    /// A monotonic clock in seconds (any origin).
    fn now_seconds(&self) -> f64;
    /// Seconds since the Unix epoch (the metadata's `finished_unix`).
    fn unix_seconds(&self) -> u64;
    /// Peak memory of the process so far, where the platform tells.
    fn peak_memory_bytes(&self) -> Option<u64> {
        None
    }
}

/// What the metadata says about a run besides its results.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// Where it runs ([`crate::provenance::platform`] plus the device).
    pub platform: std::collections::BTreeMap<String, String>,
    /// The model it starts from.
    pub base_model: BaseModel,
    /// The data files and how they were used.
    pub data: Vec<DataRecord>,
    /// [`Host::now_seconds`] when the run began (before loading, if the caller loads): the origin
    /// of the metadata's `total_seconds` and of [`Progress::elapsed_seconds`].
    pub started: f64,
}

/// A fine-tuning run: the trainer plus evaluation, best-checkpoint keeping, early stopping,
/// cancellation, timing and metadata.
pub struct Session<'a> {
    enc: &'a SentenceEncoder,
    trainer: Trainer<'a>,
    eval: Vec<TrainPair>,
    host: &'a dyn Host,
    cancel: Box<dyn Fn() -> bool + 'a>,
    info: RunInfo,
    history: Vec<EpochRecord>,
    best: Option<usize>,
    best_files: Option<Checkpoint>,
    /// Whether the best model's files are kept here ([`Session::without_checkpoint_copies`]).
    keep_files: bool,
    since_best: usize,
    stopped_early: bool,
    cancelled: bool,
    /// An epoch has ended and its evaluation is the next unit of work.
    pending_eval: bool,
    epochs_done: usize,
    loss_sum: f64,
    loss_steps: usize,
    started: f64,
    train_seconds: f64,
    epoch_train_seconds: f64,
    eval_seconds: f64,
    pairs_trained: usize,
}

impl<'a> Session<'a> {
    /// Set up a run of `enc` (trained in place): `train` is trained on, `eval` evaluated each epoch
    /// (it must not be empty); `cancel` is asked before every unit of work. `source` names the data
    /// in errors.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        enc: &'a SentenceEncoder,
        train: &[TrainPair],
        eval: Vec<TrainPair>,
        cfg: TrainConfig,
        source: &str,
        info: RunInfo,
        host: &'a dyn Host,
        cancel: impl Fn() -> bool + 'a,
    ) -> Result<Self> {
        if eval.is_empty() {
            return Err(Error::data(
                source,
                "record 0",
                "pairs",
                "the eval set is empty: evaluation and checkpoint selection need at least one pair",
            ));
        }
        for (i, p) in eval.iter().enumerate() {
            if p.a.trim().is_empty() || p.b.trim().is_empty() || !p.label.is_finite() {
                return Err(Error::data(
                    format!("{source} (eval)"),
                    format!("record {i}"),
                    if p.label.is_finite() { "text" } else { "label" },
                    "empty text or non-finite label",
                ));
            }
        }
        let started = info.started;
        Ok(Session {
            enc,
            trainer: Trainer::new(enc, train, cfg, source)?,
            eval,
            host,
            cancel: Box::new(cancel),
            info,
            history: Vec::new(),
            best: None,
            best_files: None,
            keep_files: true,
            since_best: 0,
            stopped_early: false,
            cancelled: false,
            pending_eval: false,
            epochs_done: 0,
            loss_sum: 0.0,
            loss_steps: 0,
            started,
            train_seconds: 0.0,
            epoch_train_seconds: 0.0,
            eval_seconds: 0.0,
            pairs_trained: 0,
        })
    }

    /// Whether the run is over: all epochs done, stopped early, or cancelled.
    pub fn finished(&self) -> bool {
        self.cancelled || self.completed()
    }

    /// Over by its own rules (not by a cancel).
    fn completed(&self) -> bool {
        !self.history.is_empty()
            && !self.pending_eval
            && (self.trainer.finished() || self.stopped_early)
    }

    /// Why the run ended, or would end if stopped now.
    pub fn stop_reason(&self) -> StopReason {
        if self.stopped_early {
            StopReason::EarlyStopping
        } else if self.trainer.finished() && !self.pending_eval && !self.history.is_empty() {
            StopReason::Completed
        } else {
            StopReason::Interrupted
        }
    }

    /// Every evaluation so far, the base model's first.
    pub fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    /// The best evaluation so far (the checkpoint kept).
    pub fn best(&self) -> Option<&EpochRecord> {
        self.best.map(|i| &self.history[i])
    }

    /// Keep no copy of the best model: the caller keeps it when [`Event::Evaluated`] says
    /// `improved` (the model it trains is that model then). The browser worker writes it to
    /// IndexedDB instead: a copy of all-mpnet-base-v2's weights is 438 MB of a 4 GiB address space.
    /// [`Session::best_checkpoint`] is `None` then.
    pub fn without_checkpoint_copies(mut self) -> Self {
        self.keep_files = false;
        self
    }

    /// The files of the best model so far (a sentence-transformers folder).
    pub fn best_checkpoint(&self) -> Option<&Checkpoint> {
        self.best_files.as_ref()
    }

    /// Take the best model's files out of the session (at the end of a run).
    pub fn take_best_checkpoint(&mut self) -> Option<Checkpoint> {
        self.best_files.take()
    }

    /// The trainer (steps, config).
    pub fn trainer(&self) -> &Trainer<'a> {
        &self.trainer
    }

    /// The eval pairs.
    pub fn eval_pairs(&self) -> &[TrainPair] {
        &self.eval
    }

    /// Seconds spent in optimiser steps so far.
    pub fn train_seconds(&self) -> f64 {
        self.train_seconds
    }

    /// Training pairs per second of training time so far (0 before the first step).
    pub fn pairs_per_second(&self) -> f64 {
        if self.train_seconds > 0.0 {
            self.pairs_trained as f64 / self.train_seconds
        } else {
            0.0
        }
    }

    /// Do the next unit of work — the base evaluation first, then optimiser steps, with an
    /// evaluation after the step that ends each epoch. `None` when the run is over (finished,
    /// stopped early, or cancelled: the cancel flag is read here, between two units).
    pub fn advance(&mut self) -> Result<Option<Event>> {
        if self.finished() {
            return Ok(None);
        }
        if (self.cancel)() {
            self.cancelled = true;
            return Ok(None);
        }
        let t = self.host.now_seconds();
        if self.history.is_empty() || self.pending_eval {
            self.pending_eval = false;
            let (record, improved) = self.record(t)?;
            let patience = self.trainer.config().early_stopping_patience;
            if patience > 0 && self.since_best >= patience && !self.trainer.finished() {
                self.stopped_early = true;
            }
            return Ok(Some(Event::Evaluated { record, improved }));
        }
        let report = self.trainer.step()?;
        let now = self.host.now_seconds();
        self.train_seconds += now - t;
        self.epoch_train_seconds += now - t;
        self.pairs_trained += report.pairs;
        self.loss_sum += report.loss;
        self.loss_steps += 1;
        self.epochs_done = report.epoch + usize::from(report.epoch_finished);
        self.pending_eval = report.epoch_finished;
        let per_step = self.train_seconds / report.step as f64;
        let evals = self.history.len();
        let per_eval = if evals > 0 {
            self.eval_seconds / evals as f64
        } else {
            0.0
        };
        // One evaluation ends each epoch not yet evaluated, this one included.
        let evals_left = self.trainer.config().epochs.saturating_sub(report.epoch);
        let progress = Progress {
            elapsed_seconds: now - self.started,
            eta_seconds: per_step * (report.total_steps - report.step) as f64
                + per_eval * evals_left as f64,
            pairs_per_second: self.pairs_per_second(),
        };
        Ok(Some(Event::Step { report, progress }))
    }

    /// Evaluate now (the work started at `t`), keep the checkpoint if it is the best, and record the
    /// evaluation. A checkpoint improves on the best when its primary metric is higher; when the
    /// metric is undefined (constant eval labels, e.g. positive-only data) there is nothing to
    /// select by and the latest model is kept.
    fn record(&mut self, t: f64) -> Result<(EpochRecord, bool)> {
        let eval = evaluate(self.enc, &self.eval)?;
        let metrics = EpochMetrics {
            epoch: self.epochs_done,
            step: self.trainer.steps_done(),
            train_loss: (self.loss_steps > 0).then(|| self.loss_sum / self.loss_steps as f64),
            eval,
        };
        self.loss_sum = 0.0;
        self.loss_steps = 0;
        let improved = match (self.best(), metrics.eval.primary()) {
            (None, _) => true,
            (Some(best), Some(now)) => best.metrics.eval.primary().is_none_or(|b| now > b),
            (Some(best), None) => best.metrics.eval.primary().is_none(),
        };
        if improved && self.keep_files {
            self.best_files = Some(self.enc.to_files()?);
        }
        let eval_seconds = self.host.now_seconds() - t;
        self.eval_seconds += eval_seconds;
        let record = EpochRecord {
            metrics,
            train_seconds: std::mem::take(&mut self.epoch_train_seconds),
            eval_seconds,
        };
        self.history.push(record.clone());
        if improved {
            self.best = Some(self.history.len() - 1);
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        Ok((record, improved))
    }

    /// `training_metadata.json` as of now (the stop reason is [`Session::stop_reason`]).
    pub fn metadata(&self) -> TrainingMetadata {
        TrainingMetadata {
            ticketsim_version: env!("CARGO_PKG_VERSION").to_string(),
            dependencies: dependency_versions(),
            platform: self.info.platform.clone(),
            base_model: self.info.base_model.clone(),
            recipe: self.trainer.config().preset(),
            config: self.trainer.config().clone(),
            data: self.info.data.clone(),
            epochs: self.history.clone(),
            best_epoch: self.best().map(|b| b.metrics.epoch),
            steps: self.trainer.steps_done(),
            stop_reason: self.stop_reason(),
            total_seconds: self.host.now_seconds() - self.started,
            peak_memory_bytes: self.host.peak_memory_bytes(),
            finished_unix: self.host.unix_seconds(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use std::cell::Cell;

    /// A clock that moves one second per reading.
    struct Ticks(Cell<f64>);

    impl Host for Ticks {
        fn now_seconds(&self) -> f64 {
            self.0.set(self.0.get() + 1.0);
            self.0.get()
        }
        fn unix_seconds(&self) -> u64 {
            1_700_000_000
        }
    }

    fn info(enc: &SentenceEncoder) -> RunInfo {
        RunInfo {
            platform: crate::provenance::platform(1),
            base_model: BaseModel {
                source: "tiny".into(),
                weights_sha256: String::new(),
                info: enc.info(),
            },
            data: Vec::new(),
            started: 0.0,
        }
    }

    fn pairs(n: usize) -> Vec<TrainPair> {
        (0..n)
            .map(|i| TrainPair {
                a: format!("ticket {i} vpn drops"),
                b: format!("issue {} printer {}", i % 3, i % 5),
                label: if i % 4 == 0 { 1.0 } else { 0.0 },
                kind: None,
            })
            .collect()
    }

    #[test]
    fn split_is_seeded_stratified_and_guarded() {
        let p = pairs(20);
        let (tr, ev) = split_eval(&p, 0.2, 1, "f").unwrap();
        assert_eq!((tr.len(), ev.len()), (16, 4));
        assert!(ev.iter().any(|x| x.label == 1.0) && ev.iter().any(|x| x.label == 0.0));
        assert_eq!(split_eval(&p, 0.2, 1, "f").unwrap().1, ev);
        assert_ne!(split_eval(&p, 0.2, 2, "f").unwrap().1, ev);
        let e = split_eval(&p[..2], 0.2, 1, "pairs.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pairs.json") && e.contains("eval split is empty"),
            "{e}"
        );
        assert!(split_eval(&p[..3], 0.5, 1, "f")
            .unwrap_err()
            .to_string()
            .contains("fewer than 2"));
        assert!(split_eval(&p, 1.0, 1, "f").is_err());
    }

    #[test]
    fn evaluates_first_then_tracks_best_and_stops_early() {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig {
            epochs: 6,
            batch_size: 8,
            learning_rate: 5e-2,
            warmup_steps: 0,
            early_stopping_patience: 1,
            ..TrainConfig::v3()
        };
        let (tr, ev) = split_eval(&pairs(24), 0.25, 3, "mem").unwrap();
        let host = Ticks(Cell::new(0.0));
        let assert_err = Session::new(
            &enc,
            &tr,
            Vec::new(),
            cfg.clone(),
            "mem",
            info(&enc),
            &host,
            || false,
        )
        .err();
        assert!(assert_err
            .unwrap()
            .to_string()
            .contains("eval set is empty"));
        let mut fit = Session::new(&enc, &tr, ev, cfg, "mem", info(&enc), &host, || false).unwrap();
        match fit.advance().unwrap() {
            Some(Event::Evaluated {
                record,
                improved: true,
            }) => assert_eq!((record.metrics.epoch, record.metrics.step), (0, 0)),
            other => panic!("first event must be the base evaluation, got {other:?}"),
        }
        let mut evals = 0;
        let mut epoch_ended = false;
        while !fit.finished() {
            match fit.advance().unwrap().expect("not finished") {
                Event::Evaluated { record, .. } => {
                    let metrics = record.metrics;
                    assert!(
                        epoch_ended,
                        "evaluations follow the step that ends an epoch"
                    );
                    evals += 1;
                    assert_eq!(metrics.epoch, evals);
                    assert!(metrics.train_loss.is_some());
                    epoch_ended = false;
                }
                Event::Step {
                    report: r,
                    progress,
                } => {
                    assert!(progress.eta_seconds >= 0.0 && progress.pairs_per_second > 0.0);
                    assert!(
                        !epoch_ended,
                        "an epoch's evaluation comes before the next step"
                    );
                    epoch_ended = r.epoch_finished;
                }
            }
        }
        let h = fit.history();
        assert_eq!(h.len(), evals + 1);
        // At this learning rate an epoch can collapse every cosine to one value, leaving Spearman
        // undefined (None): that evaluation is simply not an improvement.
        let best = fit.best().unwrap().metrics.eval.spearman.unwrap();
        assert!(h
            .iter()
            .all(|m| m.metrics.eval.spearman.is_none_or(|s| s <= best)));
        assert!(fit.best_checkpoint().is_some());
        match fit.stop_reason() {
            StopReason::EarlyStopping => {
                // Patience 1: the last evaluation was not an improvement.
                assert!(h
                    .last()
                    .unwrap()
                    .metrics
                    .eval
                    .spearman
                    .is_none_or(|s| s <= best));
                assert!(evals < 6);
            }
            StopReason::Completed => assert_eq!(evals, 6),
            StopReason::Interrupted | StopReason::Crashed => {
                panic!("a finished run is neither interrupted nor crashed")
            }
        }
        assert_eq!(
            fit.advance().unwrap(),
            None,
            "a finished run does nothing more"
        );
        let meta = fit.metadata();
        assert_eq!(meta.epochs.len(), evals + 1);
        assert_eq!(meta.stop_reason, fit.stop_reason());
        assert!(meta.total_seconds > 0.0);
    }

    #[test]
    fn a_cancel_stops_between_steps_and_keeps_the_best_checkpoint() {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig {
            epochs: 2,
            batch_size: 4,
            ..TrainConfig::v3()
        };
        let (tr, ev) = split_eval(&pairs(24), 0.25, 3, "mem").unwrap();
        let host = Ticks(Cell::new(0.0));
        let stop = Cell::new(false);
        let mut run =
            Session::new(&enc, &tr, ev, cfg, "mem", info(&enc), &host, || stop.get()).unwrap();
        assert!(matches!(
            run.advance().unwrap(),
            Some(Event::Evaluated { improved: true, .. })
        ));
        assert!(matches!(run.advance().unwrap(), Some(Event::Step { .. })));
        stop.set(true);
        assert_eq!(run.advance().unwrap(), None);
        assert!(run.finished());
        assert_eq!(run.stop_reason(), StopReason::Interrupted);
        assert_eq!(run.trainer().steps_done(), 1);
        assert_eq!(run.metadata().best_epoch, Some(0));
        assert!(run
            .take_best_checkpoint()
            .is_some_and(|f| f.iter().any(|(p, _)| p == "model.safetensors")));
    }

    #[test]
    fn data_selection_splits_or_takes_the_eval_file_then_samples() {
        let cfg = TrainConfig::default();
        let all = pairs(40);
        let (tr, ev) = select_data(all.clone(), None, &cfg, 0, "f").unwrap();
        assert_eq!((tr.len(), ev.len()), (32, 8));
        assert_eq!(
            (tr.clone(), ev.clone()),
            split_eval(&all, 0.2, 42, "f").unwrap()
        );
        let (tr2, ev2) = select_data(all.clone(), Some(pairs(3)), &cfg, 10, "f").unwrap();
        assert_eq!((tr2.len(), ev2), (10, pairs(3)));
        assert!(tr2.iter().all(|p| all.contains(p)));
        assert_eq!(
            select_data(all, Some(pairs(3)), &cfg, 10, "f").unwrap().0,
            tr2
        );
    }

    #[test]
    fn a_small_sample_keeps_every_kind_the_recipes_train_on() {
        use crate::data::pairs::PairKind;
        // 3 duplicates in 300 pairs, as generated pairs have them: 1 % of a plain 64-pair sample.
        let kinded: Vec<TrainPair> = (0..300)
            .map(|i| {
                let kind = match i {
                    7 | 150 | 290 => PairKind::Duplicate,
                    _ if i % 3 == 0 => PairKind::Causal,
                    _ if i % 2 == 0 => PairKind::HardNegative,
                    _ => PairKind::RandomNegative,
                };
                TrainPair {
                    a: format!("a{i}"),
                    b: format!("b{i}"),
                    label: if kind.is_positive() { 1.0 } else { 0.0 },
                    kind: Some(kind),
                }
            })
            .collect();
        let count = |s: &[TrainPair], k: PairKind| s.iter().filter(|p| p.kind == Some(k)).count();
        for seed in 0..20 {
            let s = sample_by_kind(kinded.clone(), 64, seed);
            assert_eq!(s.len(), 64);
            assert!(count(&s, PairKind::Duplicate) >= 2, "seed {seed}");
            // The rest keeps the file's proportions (100 causal of 300 → 21 of 64).
            assert!((20..=22).contains(&count(&s, PairKind::Causal)));
            // A sample, not a copy: distinct pairs of the file, and seeded.
            let mut texts: Vec<&str> = s.iter().map(|p| p.a.as_str()).collect();
            texts.sort();
            texts.dedup();
            assert_eq!(texts.len(), 64);
            assert_eq!(s, sample_by_kind(kinded.clone(), 64, seed));
        }
        assert_ne!(
            sample_by_kind(kinded.clone(), 64, 1),
            sample_by_kind(kinded.clone(), 64, 2)
        );
        // Without kinds, positives and negatives keep their shares; a max below the floors
        // still gives exactly max.
        let plain = pairs(100);
        let s = sample_by_kind(plain.clone(), 20, 3);
        assert_eq!(s.iter().filter(|p| p.is_positive()).count(), 5);
        assert_eq!(sample_by_kind(kinded, 3, 3).len(), 3);
    }
}
