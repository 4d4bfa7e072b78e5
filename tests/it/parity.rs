//! The encoder against the real sentence-transformers library (shared/reference).

use ticketsim::native::{load_encoder, read_file};
use ticketsim::reference::{check_parity, EmbeddingReference};

use crate::{cli, cli_json, datasets_dir, model_dir, reference_dir};

fn parity(model: &str, reference_file: &str) {
    let enc = load_encoder(&model_dir(model), &crate::test_device()).unwrap();
    let path = reference_dir().join(reference_file);
    let reference =
        EmbeddingReference::from_json(&read_file(&path).unwrap(), reference_file).unwrap();
    assert_eq!(reference.max_seq_length, enc.tokenizer().max_len());
    let r = check_parity(&enc, &reference).unwrap();
    eprintln!(
        "{model}: {} sentences, max |diff| {:.3e} (sentence {})",
        r.sentences, r.max_abs_diff, r.worst_sentence
    );
    assert_eq!(r.sentences, 40);
    assert!(
        r.token_mismatches.is_empty(),
        "token ids differ for sentences {:?}",
        r.token_mismatches
    );
    assert!(
        r.max_abs_diff <= 1e-4,
        "max |diff| {} at sentence {}",
        r.max_abs_diff,
        r.worst_sentence
    );
}

#[test]
fn minilm_matches_sentence_transformers() {
    parity("minilm", "embeddings-all-MiniLM-L6-v2.json");
}

#[test]
fn mpnet_matches_sentence_transformers() {
    parity("mpnet", "embeddings-all-mpnet-base-v2.json");
}

/// `ticketsim sts` on sts-test against the library's zero-shot Spearman (±0.0005).
fn sts(model: &str, reference_name: &str) {
    let data = datasets_dir().join("stsbenchmark/sts-test.csv");
    let got = cli_json(
        cli()
            .args(["sts", "--model"])
            .arg(model_dir(model))
            .arg("--data")
            .arg(&data),
    );
    let reference: serde_json::Value =
        serde_json::from_slice(&read_file(&reference_dir().join("stsb-zero-shot.json")).unwrap())
            .unwrap();
    let want = reference["models"][reference_name]["test"]["cosine_spearman_x100"]
        .as_f64()
        .unwrap()
        / 100.0;
    let spearman = got["spearman"].as_f64().unwrap();
    eprintln!("{model}: sts-test spearman {spearman:.6} vs reference {want:.6}");
    assert_eq!(got["pairs"], 1379);
    assert!(
        (spearman - want).abs() <= 5e-4,
        "spearman {spearman} vs {want}"
    );
}

#[test]
fn minilm_sts_test_spearman() {
    sts("minilm", "all-MiniLM-L6-v2");
}

#[test]
fn mpnet_sts_test_spearman() {
    sts("mpnet", "all-mpnet-base-v2");
}
