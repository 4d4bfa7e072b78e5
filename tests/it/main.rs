//! Native integration tests (one binary, as ripgrep does). Real-model tests need the cached models
//! (`make models`) and `../shared/reference`; `make test` provides both.
#![cfg(not(target_arch = "wasm32"))]

mod bad_input;
mod classify_cli;
mod determinism;
mod eval_cli;
mod gradients;
mod pairs_cli;
mod parity;
mod quality_cli;
mod retrieval_cli;
mod train_cli;
mod train_step;

use std::path::PathBuf;
use std::process::Command;

/// Folder of the Python library's reference outputs (`$TICKETSIM_REFERENCE` or `../shared/reference`).
pub fn reference_dir() -> PathBuf {
    std::env::var_os("TICKETSIM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"))
}

/// Folder of the shared datasets.
pub fn datasets_dir() -> PathBuf {
    reference_dir().join("../datasets")
}

/// A cached pretrained model; panics with the fix when it is missing.
pub fn model_dir(name: &str) -> PathBuf {
    let dir = ticketsim::native::models_root().join(name);
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run `make models`",
        dir.display()
    );
    dir
}

/// Device of the in-process model tests (parity, one training step, gradients):
/// `TICKETSIM_TEST_DEVICE` = cpu (default), cuda or cuda:N. scripts/gpu-check.sh runs this test
/// binary on a GPU with it set, with the CPU's tolerances.
pub fn test_device() -> candle_core::Device {
    let choice = match std::env::var("TICKETSIM_TEST_DEVICE") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("TICKETSIM_TEST_DEVICE: {e}")),
        Err(_) => ticketsim::device::DeviceChoice::Cpu,
    };
    ticketsim::device::select(choice)
        .unwrap_or_else(|e| panic!("TICKETSIM_TEST_DEVICE: {e}"))
        .device
}

/// A fresh empty temporary folder for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticketsim-it-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The CLI binary, ready for arguments.
pub fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ticketsim"))
}

/// Run a CLI command, assert that it succeeded (showing its stderr if not), and parse its stdout as
/// JSON.
pub fn cli_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
