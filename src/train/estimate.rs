//! How long a run will take on this machine, said before it starts: a short calibration — a few
//! optimiser steps of the run itself (its pairs, its recipe, its first batches) on a throwaway
//! copy of the model, and one encode of a sample of its eval texts — scaled to the run's steps and
//! evaluations with the arithmetic of [`super::session::Session`]'s live ETA (seconds per step ×
//! steps left + seconds per evaluation × evaluations left). Early stopping can only make the run
//! shorter.
//!
//! Imports: the trainer, the run configuration, the encoder and the data layer's pairs.

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::trainer::Trainer;
use crate::data::pairs::TrainPair;
use crate::encoder::{ModelFiles, SentenceEncoder};
use crate::error::Result;

/// Optimiser steps timed by [`calibrate`], after one untimed step (the first allocates the
/// optimiser's state and is slower than the rest).
pub const TIMED_STEPS: usize = 2;

/// Eval texts encoded to time an evaluation.
pub const SAMPLE_TEXTS: usize = 64;

/// A run's cost as measured before it starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Seconds per optimiser step.
    pub step_seconds: f64,
    /// Seconds per evaluation (both sides of every eval pair encoded).
    pub eval_seconds: f64,
    /// Optimiser steps of the run.
    pub steps: usize,
    /// Evaluations of the run: the base model and one per epoch.
    pub evaluations: usize,
    /// The whole run: steps and evaluations.
    pub total_seconds: f64,
    /// Training throughput measured.
    pub pairs_per_second: f64,
    /// Encode throughput measured.
    pub sentences_per_second: f64,
    /// Threads the calibration ran on.
    pub threads: usize,
    /// Seconds the calibration itself took.
    pub calibration_seconds: f64,
}

/// Time [`TIMED_STEPS`] steps of the run (after one untimed) and an encode of up to
/// [`SAMPLE_TEXTS`] eval texts on a fresh copy of the model from `files`; `now_seconds` is the
/// platform's clock.
pub fn calibrate(
    files: &ModelFiles,
    train: &[TrainPair],
    eval: &[TrainPair],
    cfg: &TrainConfig,
    source: &str,
    now_seconds: impl Fn() -> f64,
) -> Result<Estimate> {
    let t0 = now_seconds();
    let device = candle_core::Device::Cpu;
    let mut enc = SentenceEncoder::load(files, &device)?;
    enc.set_max_seq_length(cfg.max_seq_length)?;
    let texts: Vec<&str> = eval
        .iter()
        .flat_map(|p| [p.a.as_str(), p.b.as_str()])
        .take(SAMPLE_TEXTS)
        .collect();
    let t = now_seconds();
    enc.encode(&texts, 32)?;
    let sentences_per_second = texts.len() as f64 / (now_seconds() - t).max(1e-9);
    let eval_seconds = (2 * eval.len()) as f64 / sentences_per_second;

    let mut trainer = Trainer::new(&enc, train, cfg.clone(), source)?;
    let steps = trainer.total_steps();
    trainer.step()?;
    let (mut timed, mut pairs) = (0, 0);
    let t = now_seconds();
    while timed < TIMED_STEPS && !trainer.finished() {
        pairs += trainer.step()?.pairs;
        timed += 1;
    }
    let train_seconds = (now_seconds() - t).max(1e-9);
    // A run of one step has nothing left to time: its untimed step is the estimate.
    let step_seconds = if timed == 0 {
        now_seconds() - t0
    } else {
        train_seconds / timed as f64
    };
    let evaluations = cfg.epochs + 1;
    Ok(Estimate {
        step_seconds,
        eval_seconds,
        steps,
        evaluations,
        total_seconds: step_seconds * steps as f64 + eval_seconds * evaluations as f64,
        pairs_per_second: if timed == 0 {
            0.0
        } else {
            pairs as f64 / train_seconds
        },
        sentences_per_second,
        threads: crate::parallel::data_threads(),
        calibration_seconds: now_seconds() - t0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate is the run's steps and evaluations at the measured rates, on the tiny model.
    #[test]
    fn estimate_scales_the_measured_step_to_the_run() {
        let tiny = SentenceEncoder::tiny_random(1, &candle_core::Device::Cpu).unwrap();
        let files = ModelFiles::from_named(&tiny.to_files().unwrap(), "tiny").unwrap();
        let pairs: Vec<TrainPair> = (0..40)
            .map(|i| TrainPair {
                a: format!("printer {i} offline"),
                b: format!("vpn drops {i}"),
                label: (i % 2) as f32,
                kind: None,
            })
            .collect();
        let cfg = TrainConfig {
            epochs: 3,
            batch_size: 8,
            warmup_steps: 1,
            max_seq_length: 32,
            ..TrainConfig::v3()
        };
        let clock = std::cell::Cell::new(0.0);
        let now = || {
            clock.set(clock.get() + 0.5);
            clock.get()
        };
        let e = calibrate(&files, &pairs[..32], &pairs[32..], &cfg, "pairs", now).unwrap();
        assert_eq!(e.steps, 3 * 4, "3 epochs of 32 pairs in batches of 8");
        assert_eq!(e.evaluations, 4);
        let want = e.step_seconds * 12.0 + e.eval_seconds * 4.0;
        assert!((e.total_seconds - want).abs() < 1e-9);
        assert!(e.step_seconds > 0.0 && e.eval_seconds > 0.0 && e.sentences_per_second > 0.0);
    }
}
