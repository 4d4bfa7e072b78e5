//! # ticketsim
//!
//! Fine-tune and evaluate sentence-embedding models for IT-ticket similarity. The library is the
//! pipeline — tickets → pairs → batches → encoder → pooling → loss/metrics → classifier — and runs
//! unchanged natively (the `ticketsim` CLI, optionally on CUDA) and in the browser (the web app and
//! its Web Worker). It never touches the filesystem: inputs are bytes, outputs are values.
//!
//! The encoder reproduces the Python sentence-transformers library: the same tokenisation (truncation
//! at `max_seq_length`), the same BERT / MPNet transformer, the same pooling and normalisation, the
//! same folder format — checked against reference outputs of the real library in the tests.
//!
//! Layers, bottom to top; a module imports only from layers below it (`make lint` checks this with
//! `scripts/module-graph.py`): foundations (`error`, `rng`, `parallel`, `provenance`) → data and text
//! (`data`, `tokenize`, `pooling`, `archive`, `device`) → `model` → `encoder` → evaluation and the
//! edges (`eval`, `native`, `web`, `reference`) → `train`, `classify` → `bench` (the measured
//! workloads: the browser-vs-native one, whose figures the protocol carries, and the recipe
//! quality benchmark) → `protocol` → the programs' halves (`app`,
//! `worker`) → the binaries. A file inside a folder module may import its
//! siblings and whatever its folder's `Imports:` paragraph allows.

pub mod archive;
pub mod bench;
pub mod classify;
pub mod data;
pub mod device;
pub mod encoder;
pub mod error;
pub mod eval;
pub mod model;
pub mod parallel;
pub mod pooling;
pub mod protocol;
pub mod provenance;
pub mod reference;
pub mod rng;
pub mod tokenize;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod web;
#[cfg(target_arch = "wasm32")]
pub mod worker;

pub use encoder::{cosine, ModelFiles, ModelInfo, SentenceEncoder};
pub use error::{Error, Result};
