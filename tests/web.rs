//! In-browser tests (wasm-bindgen-test in headless Chromium): the encoder compiled to wasm32 with
//! SIMD must give the same token ids and embeddings as the Python library.
//!
//! The models and the reference files are served by `scripts/test-server.py` (started by
//! `make test-wasm`) at `TICKETSIM_TEST_SERVER` (default http://127.0.0.1:8765), with `/models/…` the
//! model cache and `/reference/…` shared/reference.
#![cfg(target_arch = "wasm32")]

use ticketsim::reference::{check_parity, EmbeddingReference};
use ticketsim::web::{fetch_bytes, load_encoder, now_ms};
use wasm_bindgen_test::*;

// In a dedicated worker, as the app trains: a long computation must not block the page's main
// thread (ChromeDriver gives up on a renderer that does not answer for 30 s).
wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn server() -> &'static str {
    option_env!("TICKETSIM_TEST_SERVER").unwrap_or("http://127.0.0.1:8765")
}

async fn parity(model: &str, reference_file: &str) {
    let t0 = now_ms();
    let enc = load_encoder(&format!("{}/models/{model}", server()))
        .await
        .expect("model loads");
    let url = format!("{}/reference/{reference_file}", server());
    let bytes = fetch_bytes(&url)
        .await
        .expect("reference fetch")
        .expect("reference exists");
    let reference = EmbeddingReference::from_json(&bytes, reference_file).unwrap();
    let t1 = now_ms();
    let r = check_parity(&enc, &reference).unwrap();
    web_sys::console::log_1(
        &format!(
            "wasm parity {model}: {} sentences, max |diff| {:.3e} (sentence {}), load {:.0} ms, encode {:.0} ms",
            r.sentences,
            r.max_abs_diff,
            r.worst_sentence,
            t1 - t0,
            now_ms() - t1
        )
        .into(),
    );
    assert_eq!(r.sentences, 40);
    assert!(
        r.token_mismatches.is_empty(),
        "token ids differ for {:?}",
        r.token_mismatches
    );
    assert!(
        r.max_abs_diff <= 1e-4,
        "max |diff| {} at sentence {}",
        r.max_abs_diff,
        r.worst_sentence
    );
}

#[wasm_bindgen_test]
async fn minilm_matches_sentence_transformers_in_wasm() {
    parity("minilm", "embeddings-all-MiniLM-L6-v2.json").await;
}

#[wasm_bindgen_test]
async fn mpnet_matches_sentence_transformers_in_wasm() {
    parity("mpnet", "embeddings-all-mpnet-base-v2.json").await;
}

#[wasm_bindgen_test]
fn tiny_model_trains_one_step_in_wasm() {
    use candle_core::Device;
    use candle_nn::{AdamW, Optimizer, ParamsAdamW};
    let enc = ticketsim::SentenceEncoder::tiny_random(3, &Device::Cpu).unwrap();
    enc.seed_dropout(1);
    let seqs: Vec<Vec<u32>> = ["printer offline", "vpn down"]
        .iter()
        .map(|s| enc.tokenize(s).unwrap())
        .collect();
    let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
    let (ids, mask) = enc.pad_batch(&refs).unwrap();
    let e = enc.forward_t(&ids, &mask, true).unwrap();
    let loss = e
        .narrow(0, 0, 1)
        .unwrap()
        .mul(&e.narrow(0, 1, 1).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    let vars = enc.params().named_vars();
    let before: Vec<Vec<f32>> = vars
        .iter()
        .map(|(_, v)| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
        .collect();
    let mut opt = AdamW::new(
        vars.iter().map(|(_, v)| v.clone()).collect(),
        ParamsAdamW::default(),
    )
    .unwrap();
    opt.step(&grads).unwrap();
    for ((name, v), b) in vars.iter().zip(before) {
        let after: Vec<f32> = v.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        assert_ne!(after, b, "{name} did not move");
    }
}

/// One step of the trainer the app's worker runs (CosineSimilarityLoss, AdamW with the
/// schedule, dropout, shards run one after the other) moves every parameter in wasm. Lazy
/// word-embedding updates touch only the rows a batch uses until read, so the check reads every
/// value through the optimiser's sync first.
#[wasm_bindgen_test]
fn trainer_step_moves_every_parameter_in_wasm() {
    use candle_core::Device;
    use ticketsim::data::pairs::TrainPair;
    use ticketsim::train::config::TrainConfig;
    use ticketsim::train::trainer::Trainer;
    let enc = ticketsim::SentenceEncoder::tiny_random(4, &Device::Cpu).unwrap();
    let vars = enc.params().named_vars();
    let before: Vec<Vec<f32>> = vars
        .iter()
        .map(|(_, v)| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
        .collect();
    let pairs: Vec<TrainPair> = [
        ("printer offline", "printer not printing", 0.9),
        ("vpn down", "cannot connect to vpn", 0.8),
        ("outlook crashes", "payroll question", 0.1),
        ("disk full on server", "badge does not open door", 0.0),
    ]
    .iter()
    .map(|&(a, b, label)| TrainPair {
        a: a.into(),
        b: b.into(),
        label,
        kind: None,
    })
    .collect();
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 4,
        warmup_steps: 0,
        learning_rate: 1e-3,
        ..TrainConfig::v3()
    };
    let mut trainer = Trainer::new(&enc, &pairs, cfg, "pairs").unwrap();
    let r = trainer.step().unwrap();
    assert!(r.loss.is_finite() && r.grad_norm > 0.0, "{r:?}");
    trainer.sync().unwrap();
    let mut frozen = Vec::new();
    for ((name, v), b) in vars.iter().zip(before) {
        let after: Vec<f32> = v.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        if after == b {
            frozen.push(name.clone());
        }
    }
    assert!(
        frozen.is_empty(),
        "parameters that did not move: {frozen:?}"
    );
}

/// The relationship classifier trains, cross-validates and predicts in wasm (what the app's worker
/// runs): duplicates are near copies, none are unrelated vectors; a saved head predicts the same
/// after a JSON round trip.
#[wasm_bindgen_test]
fn classifier_trains_and_predicts_in_wasm() {
    use ticketsim::classify::cv::{cross_validate, CvConfig};
    use ticketsim::classify::head::{fit_head, Example, Head, HeadConfig};
    use ticketsim::data::relationships::Relation;
    use ticketsim::rng::Rng;

    let mut rng = Rng::new(11);
    let dim = 8;
    let vec = |rng: &mut Rng| -> Vec<f32> { (0..dim).map(|_| rng.normal() as f32).collect() };
    let (mut us, mut vs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..60 {
        let relation = [Relation::Duplicate, Relation::Related, Relation::None][i % 3];
        let u = vec(&mut rng);
        let noise = vec(&mut rng);
        let v: Vec<f32> = match relation {
            Relation::Duplicate => u.iter().zip(&noise).map(|(a, n)| a + 0.1 * n).collect(),
            Relation::Related => u
                .iter()
                .zip(&noise)
                .map(|(a, n)| 0.5 * a + 0.6 * n)
                .collect(),
            _ => noise,
        };
        us.push(u);
        vs.push(v);
        ys.push(relation);
    }
    let ex: Vec<Example> = (0..us.len())
        .map(|i| Example {
            u: &us[i],
            v: &vs[i],
            relation: ys[i],
        })
        .collect();
    let cfg = HeadConfig {
        c_grid: vec![0.1, 1.0],
        inner_folds: 2,
        max_iterations: 30,
        ..HeadConfig::default()
    };
    let t0 = now_ms();
    let all: Vec<usize> = (0..ex.len()).collect();
    let head = fit_head(&ex, &all, &cfg).unwrap();
    let right = ex
        .iter()
        .filter(|e| head.predict(e.u, e.v) == e.relation)
        .count();
    assert!(right >= 54, "{right} of 60 on the training pairs");
    let back: Head = serde_json::from_str(&serde_json::to_string(&head).unwrap()).unwrap();
    assert_eq!(
        back.probabilities(ex[0].u, ex[0].v),
        head.probabilities(ex[0].u, ex[0].v)
    );
    let report = cross_validate(
        &ex,
        &CvConfig {
            folds: 3,
            repeats: 1,
            head: cfg,
            ..CvConfig::default()
        },
    )
    .unwrap();
    assert_eq!(report.folds_missing_a_class, 0);
    assert!(report.models[0].macro_f1.mean > report.models[1].macro_f1.mean);
    web_sys::console::log_1(
        &format!(
            "wasm classifier: train accuracy {right}/60, k-fold macro-F1 {:.3}, {:.0} ms",
            report.models[0].macro_f1.mean,
            now_ms() - t0
        )
        .into(),
    );
}

/// Our wasm SGEMM (`model::wasm_gemm`, the model's matmul in the browser) against candle's matmul
/// on odd shapes (not multiples of the 4×8 tile), transposed operands and batch dimensions:
/// values and both gradients through `backward()`, max |diff| / max |candle| ≤ 1e-5.
#[wasm_bindgen_test]
fn wasm_gemm_matches_candle_matmul() {
    use ticketsim::model::wasm_gemm::{error_against_candle, Case};
    // (batch dims, m, k, n, a transposed, b transposed)
    let cases: Vec<Case> = vec![
        (vec![], 1, 1, 1, false, false),
        (vec![], 3, 5, 17, false, true),
        (vec![], 33, 385, 17, true, false),
        (vec![], 385, 33, 130, false, true),
        (vec![], 130, 260, 1030, false, true),
        (vec![2, 3], 5, 17, 9, false, true),
        (vec![4, 3], 17, 33, 17, false, false),
        (vec![3], 33, 5, 1, true, true),
    ];
    let (worst, case) = error_against_candle(&cases, 21).unwrap();
    assert!(worst <= 1e-5, "{case}: relative error {worst}");
    web_sys::console::log_1(
        &format!("wasm gemm vs candle matmul: max relative error {worst:.3e}").into(),
    );
}

/// The page's durations: seconds, minutes, hours rounded to the minute without a "60 min".
#[wasm_bindgen_test]
fn durations_read_as_people_write_them() {
    use ticketsim::app::state::duration;
    assert_eq!(duration(12_000.0), "12 s");
    assert_eq!(duration(65_000.0), "1 min 05 s");
    assert_eq!(duration(3_600_000.0), "1 h 00 min");
    assert_eq!(duration(3_546_000.0 + 3_600_000.0), "1 h 59 min");
    assert_eq!(duration(7_170_000.0), "2 h 00 min");
    assert_eq!(duration(16_920_000.0), "4 h 42 min");
}
