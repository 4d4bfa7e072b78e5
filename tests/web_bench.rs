//! The in-browser half of `make bench-web`: the workload of `ticketsim::bench` in a dedicated Web
//! Worker (as the app trains), printing its figures as one `BENCH_WASM {json}` line for
//! scripts/bench-web.sh to compare with the native run. Not part of `make test` (it measures, it
//! does not check).
#![cfg(target_arch = "wasm32")]

use ticketsim::web::{fetch_bytes, fetch_model_files, now_ms};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn server() -> &'static str {
    option_env!("TICKETSIM_TEST_SERVER").unwrap_or("http://127.0.0.1:8765")
}

async fn get(path: &str) -> Vec<u8> {
    let url = format!("{}/{path}", server());
    fetch_bytes(&url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .unwrap_or_else(|| panic!("{url}: not found"))
}

#[wasm_bindgen_test]
async fn workload() {
    let files = fetch_model_files(&format!("{}/models/minilm", server()))
        .await
        .expect("model");
    let (sentences, pairs) = ticketsim::bench::inputs(
        &get("datasets/stsbenchmark/sts-test.csv").await,
        &get("datasets/stsbenchmark/sts-train.csv").await,
    )
    .unwrap();
    let f = ticketsim::bench::run(
        &files,
        &sentences,
        &pairs,
        &candle_core::Device::Cpu,
        now_ms,
    )
    .unwrap();
    let line = format!("BENCH_WASM {}", serde_json::to_string(&f).unwrap());
    web_sys::console::log_1(&line.into());
    assert!(f.pairs_per_second > 0.0 && f.sentences_per_second > 0.0 && f.gemm_gflops > 0.0);
}

/// Only the matrix product: our `wasm_gemm` kernel (the model's path) against candle's matmul on
/// `bench::GEMM_SHAPE` in the same run, as one `BENCH_GEMM {"kernel":…,"candle":…}` line.
#[wasm_bindgen_test]
fn gemm() {
    let (kernel, candle) =
        ticketsim::bench::gemm_figures(&candle_core::Device::Cpu, &now_ms).unwrap();
    let line = format!(
        "BENCH_GEMM {}",
        serde_json::json!({ "kernel": kernel, "candle": candle })
    );
    web_sys::console::log_1(&line.into());
    assert!(kernel > 0.0 && candle > 0.0);
}
