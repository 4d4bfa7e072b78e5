//! `training_metadata.json`: everything needed to know how a fine-tuned model was made and to make it
//! again — config and seed, the exact crate versions, hashes of the data, per-epoch metrics, timings,
//! peak memory. The CLI and the web app both write it next to the exported model; the run driver
//! ([`super::session`]) fills it. Hashes, data records and versions come from [`crate::provenance`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::recipe::Preset;
use crate::eval::similarity::EvalMetrics;
use crate::provenance::DataRecord;
use crate::ModelInfo;

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
    /// The process running it stopped (in the browser: the worker trapped, most likely out of
    /// memory); the model kept is the best checkpoint saved before it.
    Crashed,
}

/// The base model a run started from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseModel {
    /// Name or folder as given.
    pub source: String,
    /// SHA-256 of its model.safetensors.
    pub weights_sha256: String,
    /// Architecture and size.
    pub info: ModelInfo,
}

/// One evaluation with the wall time of the epoch before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The metrics.
    #[serde(flatten)]
    pub metrics: EpochMetrics,
    /// Seconds spent training this epoch (0 for the base evaluation).
    pub train_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
}

/// Contents of `training_metadata.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingMetadata {
    /// This crate's version.
    pub ticketsim_version: String,
    /// Versions of the dependencies that shape the results.
    pub dependencies: BTreeMap<String, String>,
    /// Where it ran: `native` / `native-cuda` / `wasm`, OS, architecture, threads (see
    /// [`crate::provenance::platform`]).
    pub platform: BTreeMap<String, String>,
    /// The model trained from.
    pub base_model: BaseModel,
    /// The named recipe of `config` (`v3`, `graded`, …; absent for a loss on the labels that no
    /// preset names, and in files written before recipes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Preset>,
    /// Hyper-parameters (the seed, recipe and loss among them).
    pub config: TrainConfig,
    /// Data files with hashes and counts.
    pub data: Vec<DataRecord>,
    /// Every evaluation, the base model's first.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose checkpoint was kept (0: the base model was never beaten).
    pub best_epoch: Option<usize>,
    /// Optimiser steps run.
    pub steps: usize,
    /// Why training ended.
    pub stop_reason: StopReason,
    /// Wall seconds of the whole run (loading through the last save).
    pub total_seconds: f64,
    /// Peak resident memory of the process, in bytes, where the platform tells.
    pub peak_memory_bytes: Option<u64>,
    /// Seconds since the Unix epoch when the run ended.
    pub finished_unix: u64,
}

impl TrainingMetadata {
    /// The best-F1 cosine threshold of the kept checkpoint on the run's eval pairs (when they were
    /// binary): the duplicate threshold this model was tuned to.
    pub fn best_f1_threshold(&self) -> Option<f64> {
        let best = self.best_epoch?;
        self.epochs
            .iter()
            .find(|e| e.metrics.epoch == best)
            .and_then(|e| e.metrics.eval.best_f1_threshold)
    }
}
