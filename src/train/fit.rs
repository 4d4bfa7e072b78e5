//! A whole fine-tuning run as a step machine: evaluate before training, train epoch by epoch,
//! evaluate after each epoch, track the best checkpoint by the primary metric, stop early when it
//! stops improving. [`Fit::advance`] does one unit of work and says what happened; the caller (CLI,
//! browser worker, test) saves a checkpoint when told it improved, reports progress, and may simply
//! stop calling — the best checkpoint it saved stays the result.

use serde::{Deserialize, Serialize};

use super::eval::{evaluate, EvalMetrics};
use super::trainer::{StepReport, TrainConfig, TrainPair, Trainer};
use crate::data::split::stratified_split;
use crate::error::{Error, Result};
use crate::SentenceEncoder;

/// Split pairs into (train, eval) with `eval_split` of them held out, seeded. The split is
/// stratified on "similar" (label ≥ 0.5) so both parts keep the file's balance — with few positives
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
    let classes: Vec<usize> = pairs.iter().map(|p| usize::from(p.label >= 0.5)).collect();
    let (train_idx, eval_idx) = stratified_split(&classes, eval_split, seed ^ 0x5eed_e5a1)?;
    let pick = |idx: &[usize]| idx.iter().map(|&i| pairs[i].clone()).collect::<Vec<_>>();
    Ok((pick(&train_idx), pick(&eval_idx)))
}

/// Metrics after an epoch (epoch 0: before training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epochs trained so far (0 = the base model).
    pub epoch: usize,
    /// Optimiser steps so far.
    pub step: usize,
    /// Mean training loss over the epoch's steps (none before training).
    pub train_loss: Option<f64>,
    /// Metrics on the eval pairs.
    pub eval: EvalMetrics,
}

/// What one call of [`Fit::advance`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum FitEvent {
    /// One optimiser step (`epoch_finished` on the last step of an epoch: an evaluation is next).
    Step(StepReport),
    /// An evaluation: of the base model first, then after every epoch. `improved`: this is the best
    /// model so far — save it now.
    Evaluated {
        /// The metrics.
        metrics: EpochMetrics,
        /// Best so far by the primary metric.
        improved: bool,
    },
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every epoch ran.
    Completed,
    /// The primary metric did not improve for `early_stopping_patience` evaluations.
    EarlyStopping,
    /// The caller stopped it (Ctrl-C, cancel button).
    Interrupted,
}

/// A fine-tuning run with evaluation, best-checkpoint tracking and early stopping.
pub struct Fit<'a> {
    enc: &'a SentenceEncoder,
    trainer: Trainer<'a>,
    eval: Vec<TrainPair>,
    history: Vec<EpochMetrics>,
    best: Option<usize>,
    since_best: usize,
    stopped_early: bool,
    /// An epoch has ended and its evaluation is the next unit of work.
    pending_eval: bool,
    epochs_done: usize,
    loss_sum: f64,
    loss_steps: usize,
}

impl<'a> Fit<'a> {
    /// Set up a run: `train` is trained on, `eval` evaluated each epoch (it must not be empty).
    pub fn new(
        enc: &'a SentenceEncoder,
        train: &[TrainPair],
        eval: Vec<TrainPair>,
        cfg: TrainConfig,
        source: &str,
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
        Ok(Fit {
            enc,
            trainer: Trainer::new(enc, train, cfg, source)?,
            eval,
            history: Vec::new(),
            best: None,
            since_best: 0,
            stopped_early: false,
            pending_eval: false,
            epochs_done: 0,
            loss_sum: 0.0,
            loss_steps: 0,
        })
    }

    /// Whether the run is over (all epochs done, or stopped early).
    pub fn finished(&self) -> bool {
        !self.history.is_empty()
            && !self.pending_eval
            && (self.trainer.finished() || self.stopped_early)
    }

    /// Why the run ended, or would end if stopped now.
    pub fn stop_reason(&self) -> StopReason {
        if self.stopped_early {
            StopReason::EarlyStopping
        } else if self.trainer.finished() {
            StopReason::Completed
        } else {
            StopReason::Interrupted
        }
    }

    /// Every evaluation so far, the base model's first.
    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    /// The best evaluation so far (the checkpoint to keep).
    pub fn best(&self) -> Option<&EpochMetrics> {
        self.best.map(|i| &self.history[i])
    }

    /// The trainer (steps, config).
    pub fn trainer(&self) -> &Trainer<'a> {
        &self.trainer
    }

    /// The eval pairs.
    pub fn eval_pairs(&self) -> &[TrainPair] {
        &self.eval
    }

    /// Do the next unit of work: the base evaluation first, then optimiser steps, with an
    /// evaluation after the step that ends each epoch.
    pub fn advance(&mut self) -> Result<FitEvent> {
        if self.finished() {
            return Err(Error::Invalid("the run has finished".into()));
        }
        if self.history.is_empty() || self.pending_eval {
            self.pending_eval = false;
            let (metrics, improved) = self.record()?;
            let patience = self.trainer.config().early_stopping_patience;
            if patience > 0 && self.since_best >= patience && !self.trainer.finished() {
                self.stopped_early = true;
            }
            return Ok(FitEvent::Evaluated { metrics, improved });
        }
        let report = self.trainer.step()?;
        self.loss_sum += report.loss;
        self.loss_steps += 1;
        self.epochs_done = report.epoch + usize::from(report.epoch_finished);
        self.pending_eval = report.epoch_finished;
        Ok(FitEvent::Step(report))
    }

    /// Evaluate now and update the best checkpoint. A checkpoint improves on the best when its
    /// primary metric is higher; when the metric is undefined (constant eval labels, e.g.
    /// positive-only data) there is nothing to select by and the latest model is kept.
    fn record(&mut self) -> Result<(EpochMetrics, bool)> {
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
            (Some(best), Some(now)) => best.eval.primary().is_none_or(|b| now > b),
            (Some(best), None) => best.eval.primary().is_none(),
        };
        self.history.push(metrics.clone());
        if improved {
            self.best = Some(self.history.len() - 1);
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        Ok((metrics, improved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn pairs(n: usize) -> Vec<TrainPair> {
        (0..n)
            .map(|i| TrainPair {
                a: format!("ticket {i} vpn drops"),
                b: format!("issue {} printer {}", i % 3, i % 5),
                label: if i % 4 == 0 { 1.0 } else { 0.0 },
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
            ..Default::default()
        };
        let (tr, ev) = split_eval(&pairs(24), 0.25, 3, "mem").unwrap();
        let assert_err = Fit::new(&enc, &tr, Vec::new(), cfg.clone(), "mem").err();
        assert!(assert_err
            .unwrap()
            .to_string()
            .contains("eval set is empty"));
        let mut fit = Fit::new(&enc, &tr, ev, cfg, "mem").unwrap();
        match fit.advance().unwrap() {
            FitEvent::Evaluated {
                metrics,
                improved: true,
            } => assert_eq!((metrics.epoch, metrics.step), (0, 0)),
            other => panic!("first event must be the base evaluation, got {other:?}"),
        }
        let mut evals = 0;
        let mut epoch_ended = false;
        while !fit.finished() {
            match fit.advance().unwrap() {
                FitEvent::Evaluated { metrics, .. } => {
                    assert!(
                        epoch_ended,
                        "evaluations follow the step that ends an epoch"
                    );
                    evals += 1;
                    assert_eq!(metrics.epoch, evals);
                    assert!(metrics.train_loss.is_some());
                    epoch_ended = false;
                }
                FitEvent::Step(r) => {
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
        let best = fit.best().unwrap().eval.spearman.unwrap();
        assert!(h.iter().all(|m| m.eval.spearman.is_none_or(|s| s <= best)));
        match fit.stop_reason() {
            StopReason::EarlyStopping => {
                // Patience 1: the last evaluation was not an improvement.
                assert!(h.last().unwrap().eval.spearman.is_none_or(|s| s <= best));
                assert!(evals < 6);
            }
            StopReason::Completed => assert_eq!(evals, 6),
            StopReason::Interrupted => panic!("a finished run is not interrupted"),
        }
        assert!(fit.advance().is_err());
    }
}
