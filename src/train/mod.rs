//! Training: the run configuration ([`config`]), losses as types ([`loss`]), recipes — the pairs
//! turned into one or more objectives ([`recipe`]) — batching ([`batch`]),
//! AdamW and its schedule ([`optim`]), how a batch is cut into shards and rounds ([`plan`]), the
//! step machine ([`trainer::Trainer`]), the duration estimate before a run ([`estimate`]), the peak memory it will need ([`memory`]) and the
//! whole run with evaluation, best checkpoint, early
//! stopping, cancellation and metadata ([`session::Session`]). Plain computation — no threads of
//! its own, timers or I/O: the clock and the cancel flag are the caller's — so the CLI, the browser
//! worker and the tests share it.
//!
//! Imports: the model and encoder, the evaluation module, the data layer's pairs and splits,
//! provenance, and the crate's error type. Nothing here knows about files, the CLI or the browser.

pub mod batch;
pub mod config;
pub mod estimate;
pub mod loss;
pub mod memory;
pub mod metadata;
pub mod optim;
pub mod plan;
pub mod recipe;
pub mod session;
pub mod trainer;
