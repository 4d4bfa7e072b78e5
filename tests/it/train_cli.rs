//! `ticketsim train`: refuses bad data with one clear line, writes a loadable model folder with
//! training_metadata.json, reruns identically under the same seed; a saved and reloaded model embeds
//! exactly as the one in memory.

use std::path::{Path, PathBuf};

use candle_core::Device;
use ticketsim::data::pairs::TrainPair;
use ticketsim::native::{load_encoder, save_model_dir};
use ticketsim::train::config::TrainConfig;
use ticketsim::train::trainer::Trainer;
use ticketsim::SentenceEncoder;

use crate::bad_input::fails_with;
use crate::{cli, cli_json, model_dir, temp_dir};

/// Labelled ticket pairs (label 1: same problem).
fn pairs(n: usize) -> Vec<serde_json::Value> {
    let topics = [
        ("vpn drops every hour", "vpn disconnects often"),
        (
            "printer offline on floor 3",
            "cannot print, printer offline",
        ),
        ("outlook crashes at start", "email client crash on launch"),
        ("password expired", "cannot log in, password reset needed"),
        ("disk full on db01", "database server out of space"),
    ];
    (0..n)
        .map(|i| {
            let (a, b) = topics[i % topics.len()];
            let (_, other) = topics[(i + 2) % topics.len()];
            let similar = i % 2 == 0;
            serde_json::json!({
                "text_a": format!("{a} #{i}"),
                "text_b": if similar { b } else { other },
                "label": if similar { 1.0 } else { 0.0 },
            })
        })
        .collect()
}

fn write_json(dir: &Path, name: &str, v: &serde_json::Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.display().to_string()
}

fn tiny_model(dir: &Path) -> String {
    let m = dir.join("tiny");
    save_model_dir(&SentenceEncoder::tiny_random(3, &Device::Cpu).unwrap(), &m).unwrap();
    m.display().to_string()
}

#[test]
fn bad_training_data_is_refused_with_one_line() {
    let dir = temp_dir("train-bad");
    let model = tiny_model(&dir);
    let out = dir.join("out").display().to_string();
    let run = |data: &str, extra: &[&str], needle: &str| {
        let mut args = vec!["train", "--model", &model, "--output", &out, "--data", data];
        args.extend_from_slice(extra);
        fails_with(&args, needle);
        assert!(
            !Path::new(&out).exists(),
            "a refused run must not create the output"
        );
    };
    let one = write_json(&dir, "one.json", &serde_json::json!(pairs(1)));
    run(
        &one,
        &[],
        "one.json: record 0: pairs: training needs at least 2 pairs, found 1",
    );
    let mut p = pairs(10);
    p[7]["label"] = serde_json::json!(4.0);
    let out_of_range = write_json(&dir, "range.json", &serde_json::json!(p));
    run(
        &out_of_range,
        &["--strict"],
        "range.json: record 7: label: 4 is outside [0, 1]",
    );
    // Skip mode (the default) drops bad records and counts them; with none left it says why.
    let all_bad = write_json(
        &dir,
        "bad.json",
        &serde_json::json!([{"a": " ", "b": "x", "label": 1}, {"a": "y", "b": "z"}]),
    );
    run(
        &all_bad,
        &[],
        "bad.json: record 0: pairs: no usable pairs: kept 0 of 2 records; skipped 2 (1 empty \
         text, 1 missing label); first: ",
    );
    let few = write_json(&dir, "few.json", &serde_json::json!(pairs(4)));
    run(
        &few,
        &["--eval-split", "0.1"],
        "few.json: record 0: pairs: eval split is empty",
    );
    // The default recipe (mnrl) needs 2 duplicates — refused before the model loads, saying
    // what to do; v3 trains on the same file.
    let mut p = pairs(6);
    p[2]["label"] = serde_json::json!(0.0);
    p[4]["label"] = serde_json::json!(0.0);
    let one_positive = write_json(&dir, "one-positive.json", &serde_json::json!(p));
    run(
        &one_positive,
        &[],
        "one-positive.json: record 0: label: the mnrl recipe needs at least 2 duplicate pairs \
         (positives when the pairs have no kinds), found 1: label more duplicates, or choose a \
         recipe that trains on every labelled pair (v3, cosent)",
    );
    let empty_eval = write_json(&dir, "empty.json", &serde_json::json!([]));
    run(
        &few,
        &["--eval-data", &empty_eval],
        "empty.json: record 0: pairs: no pairs",
    );
    run(
        &few,
        &["--loss", "triplet"],
        "invalid value 'triplet' for '--loss <LOSS>' [possible values: cosine, mnrl, cosent]",
    );
    run(
        &few,
        &["--eval-split", "1.5"],
        "eval_split must be between 0 and 1",
    );
    let cfg = dir.join("cfg.toml");
    std::fs::write(&cfg, "epochs = 2\nlearning_rat = 1e-4\n").unwrap();
    run(
        &few,
        &["--config", &cfg.display().to_string()],
        "cfg.toml: line 2: config: unknown field `learning_rat`",
    );
    // A model that cannot take the default 256 tokens says so before training.
    let out2 = cli()
        .args(["train", "--model", &model, "--output", &out, "--data", &few])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out2.stderr);
    assert!(!out2.status.success() && !err.contains("panicked"), "{err}");
    assert!(
        err.contains("max_seq_length 256 must be in 1..=64"),
        "{err}"
    );
}

/// Train the tiny model for 3 epochs; returns the summary and the output folder.
fn tiny_run(dir: &Path, model: &str, data: &str, tag: &str) -> (serde_json::Value, PathBuf) {
    tiny_run_with(dir, model, data, tag, &[])
}

/// [`tiny_run`] with more flags.
fn tiny_run_with(
    dir: &Path,
    model: &str,
    data: &str,
    tag: &str,
    extra: &[&str],
) -> (serde_json::Value, PathBuf) {
    let out = dir.join(tag);
    let v = cli_json(
        cli()
            .args(["train", "--model", model, "--data", data, "--output"])
            .arg(&out)
            .args([
                "--epochs",
                "3",
                "--batch-size",
                "4",
                "--lr",
                "1e-3",
                "--warmup-steps",
                "2",
                "--max-seq-length",
                "48",
                "--patience",
                "0",
                "--seed",
                "5",
            ])
            .args(extra),
    );
    (v, out)
}

/// The epochs of a run summary without their timings.
fn untimed(v: &serde_json::Value) -> serde_json::Value {
    let mut e = v["epochs"].clone();
    for x in e.as_array_mut().unwrap() {
        x.as_object_mut().unwrap().remove("train_seconds");
    }
    e
}

/// Every recipe trains on a training_pairs.json with kinds and is recorded in the metadata;
/// `--recipe v3` is the seeds' recipe — CosineSimilarityLoss on the labels as given, the run
/// `--loss cosine` and a config with `recipe = "labels"` give, epoch for epoch.
#[test]
fn recipes_train_and_v3_is_the_seeds_recipe() {
    let dir = temp_dir("train-recipes");
    let model = tiny_model(&dir);
    let all = pairs(24);
    let side = |label: f64| -> Vec<&serde_json::Value> {
        all.iter().filter(|p| p["label"] == label).collect()
    };
    let (pos, neg) = (side(1.0), side(0.0));
    let texts = |ps: &[&serde_json::Value]| -> Vec<[serde_json::Value; 2]> {
        ps.iter()
            .map(|p| [p["text_a"].clone(), p["text_b"].clone()])
            .collect()
    };
    let data = write_json(
        &dir,
        "training_pairs.json",
        &serde_json::json!({
            "positive_pairs": texts(&pos),
            "negative_pairs": texts(&neg),
            "positive_kinds": (0..pos.len())
                .map(|i| ["duplicate", "causal", "same_fix"][i % 3]).collect::<Vec<_>>(),
            "negative_kinds": (0..neg.len())
                .map(|i| ["hard_negative", "random_negative"][i % 2]).collect::<Vec<_>>(),
        }),
    );
    let config = dir.join("labels.toml");
    std::fs::write(&config, "recipe = \"labels\"\nloss = \"cosine\"\n").unwrap();
    let (v3, out) = tiny_run_with(&dir, &model, &data, "v3", &["--recipe", "v3"]);
    let (loss, _) = tiny_run_with(&dir, &model, &data, "loss", &["--loss", "cosine"]);
    let (file, _) = tiny_run_with(
        &dir,
        &model,
        &data,
        "config",
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(untimed(&v3), untimed(&loss));
    assert_eq!(untimed(&v3), untimed(&file));
    assert_eq!(v3["recipe"], "v3");
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("training_metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["recipe"], "v3");
    assert_eq!(
        (&meta["config"]["recipe"], &meta["config"]["loss"]),
        (&serde_json::json!("labels"), &serde_json::json!("cosine"))
    );
    let mut runs = vec![untimed(&v3)];
    for recipe in ["cosent", "mnrl", "graded", "combined", "duplicates"] {
        let (r, out) = tiny_run_with(&dir, &model, &data, recipe, &["--recipe", recipe]);
        assert_eq!(r["recipe"], recipe);
        assert!(r["steps"].as_u64().unwrap() > 0, "{recipe}: {r}");
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("training_metadata.json")).unwrap())
                .unwrap();
        assert_eq!(meta["recipe"], recipe);
        runs.push(untimed(&r));
    }
    // Each recipe trains differently (the base evaluation aside).
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            assert_ne!(a[1], b[1], "two recipes gave the same first epoch");
        }
    }
    // The default is the recommended recipe, recorded by name.
    let (default, _) = tiny_run_with(&dir, &model, &data, "default", &[]);
    assert_eq!(
        default["recipe"],
        serde_json::to_value(TrainConfig::default().preset()).unwrap()
    );
    // A loss and a recipe together are refused: which one would win is not obvious.
    fails_with(
        &[
            "train",
            "--model",
            &model,
            "--data",
            &data,
            "--output",
            &dir.join("both").display().to_string(),
            "--recipe",
            "graded",
            "--loss",
            "mnrl",
        ],
        "cannot be used together",
    );
}

#[test]
fn tiny_run_writes_a_model_folder_and_reruns_identically() {
    let dir = temp_dir("train-ok");
    let model = tiny_model(&dir);
    let data = write_json(
        &dir,
        "pairs.json",
        &serde_json::json!({
            "positive_pairs": pairs(20).iter().filter(|p| p["label"] == 1.0)
                .map(|p| [p["text_a"].clone(), p["text_b"].clone()]).collect::<Vec<_>>(),
            "negative_pairs": pairs(20).iter().filter(|p| p["label"] == 0.0)
                .map(|p| [p["text_a"].clone(), p["text_b"].clone()]).collect::<Vec<_>>(),
        }),
    );
    let (a, out) = tiny_run(&dir, &model, &data, "a");
    assert_eq!(a["train_pairs"], 16);
    assert_eq!(a["eval_pairs"], 4);
    // The default recipe (mnrl) trains on the 8 positives of the 16 training pairs: 3 epochs of
    // 2 batches of 4 (v3 would train on all 16: 12 steps).
    assert_eq!(a["recipe"], "mnrl");
    assert_eq!(a["steps"], 6, "3 epochs of 2 batches");
    assert_eq!(a["stop_reason"], "completed");
    let epochs = a["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 4, "base model + 3 epochs");
    assert!(epochs[1]["train_loss"].as_f64().unwrap() > 0.0);
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "training_metadata.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(!out.join(".partial").exists());
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("training_metadata.json")).unwrap())
            .unwrap();
    assert_eq!(meta["config"]["seed"], 5);
    assert_eq!(meta["config"]["max_seq_length"], 48);
    assert_eq!(meta["dependencies"]["candle-core"], "0.11.1");
    assert_eq!(meta["data"][0]["role"], "train");
    assert_eq!(meta["data"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(meta["epochs"].as_array().unwrap().len(), 4);
    assert_eq!(meta["best_epoch"], a["best_epoch"]);
    assert!(meta["peak_memory_bytes"].as_u64().unwrap() > 0);
    let sbert: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sentence_bert_config.json")).unwrap())
            .unwrap();
    assert_eq!(sbert["max_seq_length"], 48);
    // The kept checkpoint is the best evaluation's.
    let best = a["best_eval"]["spearman"].as_f64().unwrap();
    assert!(epochs
        .iter()
        .all(|e| e["spearman"].as_f64().unwrap() <= best));

    // Same seed, same data: the same metrics, epoch by epoch, bit for bit.
    let (b, _) = tiny_run(&dir, &model, &data, "b");
    assert_eq!(untimed(&a), untimed(&b));
    assert_eq!(a["best_eval"], b["best_eval"]);

    // An existing output folder is not overwritten without --overwrite.
    fails_with(
        &[
            "train",
            "--model",
            &model,
            "--data",
            &data,
            "--output",
            &out.display().to_string(),
            "--max-seq-length",
            "48",
        ],
        "output folder is not empty",
    );
}

/// The real MiniLM after two training steps, saved and loaded back: identical embeddings, and the
/// weights file keeps the original tensor names.
#[test]
fn saved_model_reloads_to_identical_embeddings() {
    let dir = temp_dir("train-reload");
    let enc = load_encoder(&model_dir("minilm"), &Device::Cpu).unwrap();
    let train: Vec<TrainPair> = pairs(8)
        .iter()
        .map(|p| TrainPair {
            a: p["text_a"].as_str().unwrap().into(),
            b: p["text_b"].as_str().unwrap().into(),
            label: p["label"].as_f64().unwrap() as f32,
            kind: None,
        })
        .collect();
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 4,
        warmup_steps: 0,
        learning_rate: 1e-4,
        ..TrainConfig::v3()
    };
    let mut t = Trainer::new(&enc, &train, cfg, "mem").unwrap();
    while !t.finished() {
        t.step().unwrap();
    }
    let texts = [
        "VPN drops every hour",
        "printer offline",
        "a longer ticket about disk space",
    ];
    let before = enc.encode(&texts, 2).unwrap();
    let out = dir.join("model");
    save_model_dir(&enc, &out).unwrap();
    let reloaded = load_encoder(&out, &Device::Cpu).unwrap();
    assert_eq!(reloaded.encode(&texts, 2).unwrap(), before);
    let original = load_encoder(&model_dir("minilm"), &Device::Cpu).unwrap();
    assert_ne!(
        original.encode(&texts, 2).unwrap(),
        before,
        "training changed nothing"
    );
    let names = |p: &Path| {
        let bytes = std::fs::read(p.join("model.safetensors")).unwrap();
        let mut n: Vec<String> = safetensors::SafeTensors::deserialize(&bytes)
            .unwrap()
            .names()
            .into_iter()
            .map(String::from)
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&out), names(&model_dir("minilm")));
}

/// Ctrl-C (SIGINT) stops after the current step, keeps the best checkpoint so far, and still prints
/// the summary and writes the metadata.
#[test]
fn interrupt_keeps_the_best_checkpoint() {
    let dir = temp_dir("train-int");
    let model = tiny_model(&dir);
    let data = write_json(&dir, "pairs.json", &serde_json::json!(pairs(40)));
    let out = dir.join("out");
    let child = cli()
        .args(["train", "--model", &model, "--data", &data, "--output"])
        .arg(&out)
        .args([
            "--epochs",
            "100000",
            "--batch-size",
            "4",
            "--max-seq-length",
            "48",
            "--patience",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let meta = out.join("training_metadata.json");
    let started = std::time::Instant::now();
    // Wait for two evaluations (base + one epoch) to be on disk.
    loop {
        let epochs = std::fs::read(&meta)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map_or(0, |m| m["epochs"].as_array().map_or(0, |e| e.len()));
        if epochs >= 2 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 120,
            "no epoch finished in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let res = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{err}");
    assert!(err.contains("interrupt: stopping after this step"), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(summary["stop_reason"], "interrupted");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
    assert_eq!(m["stop_reason"], "interrupted");
    assert_eq!(m["best_epoch"], summary["best_epoch"]);
    // The kept folder loads.
    load_encoder(&out, &Device::Cpu).unwrap();
}
