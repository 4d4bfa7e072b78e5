//! `ticketsim classify` on a tiny random model: the classifier folder is written, loads back and
//! predicts exactly what the library computes, reruns reproduce it byte for byte, and bad options
//! and data give one-line errors.

use std::path::Path;

use candle_core::Device;
use serde_json::{json, Value};
use ticketsim::classify::artifact::{ClassifierArtifact, DIR, FILE};
use ticketsim::native::{load_encoder, save_model_dir};
use ticketsim::SentenceEncoder;

use crate::bad_input::fails_with;
use crate::{cli, cli_json, temp_dir};

fn tiny_model(dir: &Path) -> String {
    let m = dir.join("tiny");
    save_model_dir(&SentenceEncoder::tiny_random(5, &Device::Cpu).unwrap(), &m).unwrap();
    m.display().to_string()
}

/// 48 pairs over the four relations, every class with ≥ 8 examples.
fn pairs_file(dir: &Path) -> String {
    let words = [
        "vpn", "printer", "outlook", "sap", "wifi", "disk", "badge", "teams",
    ];
    let mut pairs = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let other = words[(i + 3) % words.len()];
        pairs.push(json!({"ticket_a": format!("{w} is down"), "ticket_b": format!("{w} not working"), "relationship": "duplicate"}));
        pairs.push(json!({"ticket_a": format!("{w} server crashed"), "ticket_b": format!("{other} errors for users"), "relationship": "causal"}));
        pairs.push(json!({"ticket_a": format!("{w} slow"), "ticket_b": format!("{w} licence request"), "relationship": "related"}));
        for k in 0..3 {
            pairs.push(json!({"ticket_a": format!("{w} question {k}"), "ticket_b": format!("{other} password reset {k}"), "relationship": "none"}));
        }
    }
    let p = dir.join("rel.json");
    std::fs::write(&p, serde_json::to_vec(&pairs).unwrap()).unwrap();
    p.display().to_string()
}

fn train(model: &str, data: &str, out: &Path) -> Value {
    cli_json(
        cli()
            .args([
                "classify",
                "train",
                "--model",
                model,
                "--data",
                data,
                "--folds",
                "2",
                "--repeats",
                "1",
                "--c",
                "0.1,1",
                "--inner-folds",
                "2",
                "--max-iterations",
                "30",
                "--min-class-count",
                "2",
                "--seed",
                "9",
                "--out",
            ])
            .arg(out),
    )
}

#[test]
fn train_save_load_predict_round_trip() {
    let dir = temp_dir("classify");
    let model = tiny_model(&dir);
    let data = pairs_file(&dir);
    let out = dir.join("out");
    let summary = train(&model, &data, &out);
    assert_eq!(summary["examples"], 48);
    assert_eq!(summary["folds_missing_a_class"], 0);
    let names: Vec<&str> = summary["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "logistic regression",
            "majority class",
            "cosine thresholds",
            "MLP (1 hidden layer)"
        ]
    );
    // The stratified holdout (20% of 48): every class in validation.
    assert_eq!(summary["holdout"]["eval"], 10);
    assert_eq!(summary["holdout"]["classes_missing"], json!([]));
    assert_eq!(summary["holdout"]["models"].as_array().unwrap().len(), 4);
    let folder = out.join(DIR);
    for f in [FILE, "metrics.json", "confusion_matrix.svg"] {
        assert!(folder.join(f).is_file(), "{f} missing");
    }
    let bytes = std::fs::read(folder.join(FILE)).unwrap();
    let art = ClassifierArtifact::from_json(&bytes, FILE).unwrap();
    assert_eq!(art.class_counts, [8, 8, 8, 24]);
    assert_eq!(art.data[0].pairs, 48);

    // The CLI's prediction equals the library's on the reloaded artifact. Not bit for bit: the CLI
    // encodes with single-threaded kernels on batch threads, this process with candle's threaded
    // GEMM, and the summation order moves the last bits of the embeddings.
    let (a, b) = ("vpn server crashed", "outlook errors for users");
    let p = cli_json(
        cli()
            .args([
                "classify",
                "predict",
                "--model",
                &model,
                "--a",
                a,
                "--b",
                b,
                "--classifier",
            ])
            .arg(&folder),
    );
    let enc = load_encoder(Path::new(&model), &Device::Cpu).unwrap();
    let e = enc.encode(&[a, b], 2).unwrap();
    let probs = art.head.probabilities(&e[0], &e[1]);
    for (label, want) in art.labels.iter().zip(&probs) {
        assert_eq!(
            p["probabilities"][label].as_f64().unwrap(),
            *want,
            "{label}"
        );
    }
    assert_eq!(p["label"], art.head.predict(&e[0], &e[1]).name());
    assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-9);

    // Same seed, same data: the same classifier file, byte for byte.
    let out2 = dir.join("out2");
    train(&model, &data, &out2);
    assert!(std::fs::read(out2.join(DIR).join(FILE)).unwrap() == bytes);
}

#[test]
fn classify_refuses_bad_options_and_data() {
    let dir = temp_dir("classify-bad");
    let model = tiny_model(&dir);
    let data = pairs_file(&dir);
    let out = dir.join("out").display().to_string();
    let base = ["classify", "eval", "--model", &model, "--data", &data];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>, needle: &str| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&a, needle);
    };
    run(
        with(&["--balance", "smote"]),
        "invalid value 'smote' for '--balance <BALANCE>'",
    );
    run(
        with(&["--features", "concat,cos"]),
        "invalid value 'cos' for '--features <FEATURES>'",
    );
    run(with(&["--c", "0,1"]), "--c: every value must be positive");
    run(
        with(&["--holdout-split", "1"]),
        "--holdout-split must be in [0, 1), got 1",
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"[{"a": "x", "b": "y", "relationship": "sibling"}]"#).unwrap();
    let bad = bad.display().to_string();
    fails_with(
        &[
            "classify", "train", "--model", &model, "--data", &bad, "--out", &out, "--strict",
        ],
        "bad.json: record 0: relationship: unknown relationship `sibling`",
    );
    assert!(!Path::new(&out).exists(), "nothing written on refusal");
    let _ = cli;
}
