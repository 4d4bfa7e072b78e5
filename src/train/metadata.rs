//! `training_metadata.json`: everything needed to know how a fine-tuned model was made and to make it
//! again — config and seed, the exact crate versions, hashes of the data, per-epoch metrics, timings,
//! peak memory. The CLI and the web app both write it next to the exported model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fit::{EpochMetrics, StopReason};
use super::trainer::TrainConfig;
use crate::ModelInfo;

/// The lock file this build was made from: the dependency versions come from here, so they are the
/// versions actually compiled in, not the ranges Cargo.toml allows.
const CARGO_LOCK: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"));

/// Dependencies whose versions decide the numbers a run produces.
const RECORDED: [&str; 10] = [
    "candle-core",
    "candle-nn",
    "candle-transformers",
    "tokenizers",
    "safetensors",
    "gemm",
    "serde_json",
    "linfa-logistic",
    "leptos",
    "wasm-bindgen",
];

/// Versions of the dependencies that matter for results, from the build's Cargo.lock.
pub fn dependency_versions() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut name: Option<&str> = None;
    for line in CARGO_LOCK.lines() {
        if line.starts_with("[[package]]") {
            name = None;
        } else if let Some(rest) = line.strip_prefix("name = ") {
            name = value_of(rest);
        } else if let (Some(n), Some(rest)) = (name, line.strip_prefix("version = ")) {
            if RECORDED.contains(&n) {
                if let Some(v) = value_of(rest) {
                    // Several versions of one crate can be locked; keep them all.
                    out.entry(n.to_string())
                        .and_modify(|e: &mut String| {
                            if !e.split(", ").any(|x| x == v) {
                                *e = format!("{e}, {v}");
                            }
                        })
                        .or_insert_with(|| v.to_string());
                }
            }
        }
    }
    out
}

fn value_of(quoted: &str) -> Option<&str> {
    quoted.split('"').nth(1)
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A data file as used by a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Role: `train`, `eval` or `test`.
    pub role: String,
    /// The file as the user named it.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Pairs read from it.
    pub pairs: usize,
    /// Pairs of it used in this role (after an eval split).
    pub used: usize,
    /// Bad records skipped while loading it (the CLI prints which and why).
    #[serde(default)]
    pub skipped: usize,
}

impl DataRecord {
    /// Describe `bytes` read from `file`.
    pub fn new(role: &str, file: &str, bytes: &[u8], pairs: usize, used: usize) -> Self {
        DataRecord {
            role: role.into(),
            file: file.into(),
            sha256: sha256_hex(bytes),
            bytes: bytes.len(),
            pairs,
            used,
            skipped: 0,
        }
    }

    /// The same record, noting `skipped` bad records.
    pub fn with_skipped(mut self, skipped: usize) -> Self {
        self.skipped = skipped;
        self
    }
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
    /// Where it ran: `native` / `native-cuda` / `wasm`, OS, architecture, threads.
    pub platform: BTreeMap<String, String>,
    /// The model trained from.
    pub base_model: BaseModel,
    /// Hyper-parameters (the seed among them).
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
    /// Platform entries for this build.
    pub fn platform(threads: usize) -> BTreeMap<String, String> {
        let kind = if cfg!(target_arch = "wasm32") {
            "wasm"
        } else if cfg!(feature = "cuda") {
            "native-cuda"
        } else {
            "native"
        };
        BTreeMap::from([
            ("build".to_string(), kind.to_string()),
            ("os".to_string(), std::env::consts::OS.to_string()),
            ("arch".to_string(), std::env::consts::ARCH.to_string()),
            ("threads".to_string(), threads.to_string()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lock_file() {
        let v = dependency_versions();
        assert_eq!(v["candle-core"], "0.11.1");
        assert_eq!(v["tokenizers"], "0.23.2");
        assert!(v.contains_key("linfa-logistic"));
    }

    #[test]
    fn sha256_of_known_input() {
        // printf abc | sha256sum
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
