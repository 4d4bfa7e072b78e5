//! The browser-vs-native workload: the same encode and fine-tuning steps, run by the same code in
//! wasm (tests/web_bench.rs, in a Web Worker in headless Chromium) and natively on one core
//! (`ticketsim bench workload`), so `make bench-web` can print their ratio from one run.
//!
//! Encode: the first [`SENTENCES`] sentences of STS-B test (both columns), batch 32, after one
//! untimed warm-up batch. Train: the first [`PAIRS`] pairs of STS-B train (label = score / 5),
//! CosineSimilarityLoss, batch 32, max_seq_length 128, the first step untimed (it allocates the
//! optimiser state and warms the allocator).
//!
//! Imports: the training step machine and configuration, the encoder, the data layer's pairs (STS-B),
//! the device, the seeded RNG, the thread pool's size, provenance's hash and the model's matrix
//! product ([`Autocast`]). [`quality`], the recipe benchmark, also imports the training session and
//! recipes, the evaluation module and the relationship classifier.

pub mod quality;

use serde::{Deserialize, Serialize};

use crate::data::pairs::parse_sts;
use crate::data::pairs::TrainPair;
use crate::encoder::{ModelFiles, SentenceEncoder};
use crate::error::Result;
use crate::model::Autocast;
use crate::train::config::TrainConfig;
use crate::train::trainer::Trainer;

/// Sentences encoded.
pub const SENTENCES: usize = 512;
/// Training pairs (8 steps of 32).
pub const PAIRS: usize = 256;

/// What one run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadFigures {
    /// Where it ran: `wasm` or `native`.
    pub platform: String,
    /// Sentences encoded (timed).
    pub sentences: usize,
    /// Encode throughput.
    pub sentences_per_second: f64,
    /// Optimiser steps timed.
    pub timed_steps: usize,
    /// Pairs in the timed steps.
    pub timed_pairs: usize,
    /// Training throughput.
    pub pairs_per_second: f64,
    /// Loss of the last step (the same on both platforms, up to float summation order).
    pub final_loss: f64,
    /// Single-precision matrix-product throughput (GFLOP/s) on the shape of a training step's
    /// feed-forward input (see [`GEMM_SHAPE`]): GEMM is 75–80% of a step, so this ratio bounds
    /// the training ratio.
    #[serde(default)]
    pub gemm_gflops: f64,
    /// candle's plain `Tensor::matmul` on the same shape in the same run: the baseline of
    /// [`Self::gemm_gflops`], which measures the model's path (our `wasm_gemm` kernel in wasm,
    /// candle's matmul natively, where the two figures measure the same code).
    #[serde(default)]
    pub gemm_gflops_candle: f64,
    /// Loss of every step, the untimed first one included.
    #[serde(default)]
    pub step_losses: Vec<f64>,
    /// Threads the work ran on ([`crate::parallel::data_threads`]).
    #[serde(default)]
    pub threads: usize,
    /// sha256 of `model.safetensors` after the training steps: equal for any thread count (the
    /// shards and the order their gradients are summed in do not depend on it).
    #[serde(default)]
    pub trained_sha256: String,
}

/// `[m, k] × [k, n]`: 1024 packed tokens of MiniLM through its feed-forward layer (384 → 1536).
pub const GEMM_SHAPE: (usize, usize, usize) = (1024, 384, 1536);

/// The workload's inputs from the STS-B files' bytes.
pub fn inputs(sts_test: &[u8], sts_train: &[u8]) -> Result<(Vec<String>, Vec<TrainPair>)> {
    let test = parse_sts(sts_test, "sts-test.csv")?;
    let sentences: Vec<String> = test
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .take(SENTENCES)
        .collect();
    let pairs: Vec<TrainPair> = parse_sts(sts_train, "sts-train.csv")?
        .into_iter()
        .take(PAIRS)
        .collect();
    Ok((sentences, pairs))
}

/// Run the workload on a model loaded from `files` onto `dev`; `now_ms` is the platform's clock.
pub fn run(
    files: &ModelFiles,
    sentences: &[String],
    pairs: &[TrainPair],
    dev: &candle_core::Device,
    now_ms: impl Fn() -> f64,
) -> Result<WorkloadFigures> {
    let enc = SentenceEncoder::load(files, dev)?;
    enc.encode(&sentences[..32.min(sentences.len())], 32)?;
    let t = now_ms();
    enc.encode(sentences, 32)?;
    let encode_s = (now_ms() - t) / 1000.0;

    let mut enc = SentenceEncoder::load(files, dev)?;
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 32,
        warmup_steps: 2,
        max_seq_length: 128,
        ..TrainConfig::v3()
    };
    enc.set_max_seq_length(cfg.max_seq_length)?;
    let mut trainer = Trainer::new(&enc, pairs, cfg, "sts-train.csv")?;
    let mut last = trainer.step()?;
    let mut step_losses = vec![last.loss];
    let (mut timed_pairs, mut timed_steps) = (0, 0);
    let t = now_ms();
    while !trainer.finished() {
        last = trainer.step()?;
        step_losses.push(last.loss);
        timed_pairs += last.pairs;
        timed_steps += 1;
    }
    let train_s = (now_ms() - t) / 1000.0;
    trainer.sync()?;
    drop(trainer);
    let trained_sha256 = enc
        .to_files()?
        .iter()
        .find(|(path, _)| path == "model.safetensors")
        .map(|(_, bytes)| crate::provenance::sha256_hex(bytes))
        .unwrap_or_default();
    let (gemm_gflops, gemm_gflops_candle) = gemm_figures(dev, &now_ms)?;
    Ok(WorkloadFigures {
        platform: if cfg!(target_arch = "wasm32") {
            "wasm".into()
        } else {
            "native".into()
        },
        sentences: sentences.len(),
        sentences_per_second: sentences.len() as f64 / encode_s,
        timed_steps,
        timed_pairs,
        pairs_per_second: timed_pairs as f64 / train_s,
        final_loss: last.loss,
        gemm_gflops,
        gemm_gflops_candle,
        step_losses,
        threads: crate::parallel::data_threads(),
        trained_sha256,
    })
}

/// GFLOP/s on [`GEMM_SHAPE`] (weights transposed, as the linear layers use them) of the model's
/// matrix product ([`Autocast::matmul`] in f32) and of candle's `Tensor::matmul`, measured in
/// alternating rounds of the same run (best round of each, so a busy machine hurts both alike).
pub fn gemm_figures(dev: &candle_core::Device, now_ms: &impl Fn() -> f64) -> Result<(f64, f64)> {
    let (m, k, n) = GEMM_SHAPE;
    let mut rng = crate::rng::Rng::new(7);
    let mut fill = |len: usize| (0..len).map(|_| rng.next_f32() - 0.5).collect::<Vec<f32>>();
    let a = candle_core::Tensor::from_vec(fill(m * k), (m, k), dev)?;
    let w = candle_core::Tensor::from_vec(fill(n * k), (n, k), dev)?;
    let wt = w.t()?;
    let model = Autocast::default();
    // Warm-up: first-touch allocations.
    model.matmul(&a, &wt)?;
    a.matmul(&wt)?;
    let reps = 4;
    let time = |f: &dyn Fn() -> candle_core::Result<candle_core::Tensor>| -> Result<f64> {
        let t = now_ms();
        for _ in 0..reps {
            std::hint::black_box(f()?);
        }
        crate::device::synchronize(dev)?;
        let secs = (now_ms() - t) / 1000.0;
        // In f64: m·k·n·reps overflows wasm32's 32-bit usize.
        Ok(2.0 * (m * k * n) as f64 * reps as f64 / secs / 1e9)
    };
    let (mut ours, mut candle) = (0f64, 0f64);
    for _ in 0..3 {
        ours = ours.max(time(&|| model.matmul(&a, &wt))?);
        candle = candle.max(time(&|| a.matmul(&wt))?);
    }
    Ok((ours, candle))
}
