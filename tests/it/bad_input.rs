//! Bad input gives a one-line error naming the cause, a non-zero exit, and never a panic.

use std::path::Path;

use candle_core::Device;
use ticketsim::SentenceEncoder;

use crate::{cli, cli_json, temp_dir};

/// Run the CLI; assert failure with exactly one stderr line that contains `needle`.
pub(crate) fn fails_with(args: &[&str], needle: &str) {
    let out = cli().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: expected one line, got: {err}"
    );
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: `{needle}` not in: {err}"
    );
}

/// A valid tiny model folder plus a one-line input file.
fn tiny_model(tag: &str) -> (std::path::PathBuf, String) {
    let dir = temp_dir(tag);
    let model = dir.join("model");
    ticketsim::native::save_model_dir(
        &SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap(),
        &model,
    )
    .unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, "printer offline\n").unwrap();
    (model, input.display().to_string())
}

fn embed(model: &Path, input: &str, needle: &str) {
    fails_with(
        &[
            "embed",
            "--model",
            &model.display().to_string(),
            "--input",
            input,
        ],
        needle,
    );
}

#[test]
fn valid_tiny_model_embeds() {
    let (model, input) = tiny_model("ok");
    let line = cli_json(cli().args([
        "embed",
        "--model",
        &model.display().to_string(),
        "--input",
        &input,
    ]));
    assert_eq!(line["text"], "printer offline");
    assert_eq!(line["embedding"].as_array().unwrap().len(), 32);
}

/// `--device`: cpu and auto run here; cuda on a CPU-only build says how to get a CUDA build; a
/// misspelt device is refused by the argument parser with the accepted spellings.
#[test]
fn device_choice() {
    let (model, input) = tiny_model("device");
    let model = model.display().to_string();
    let embed = |device: &str| {
        cli_json(cli().args([
            "--device", device, "embed", "--model", &model, "--input", &input,
        ]))
    };
    assert_eq!(embed("cpu")["embedding"], embed("auto")["embedding"]);
    if !ticketsim::device::CUDA_BUILT {
        // Global flag: after the subcommand too.
        fails_with(
            &[
                "embed", "--model", &model, "--input", &input, "--device", "cuda:1",
            ],
            "built without CUDA",
        );
    }
    let out = cli()
        .args(["--device", "metal", "embed", "--model", &model])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected cpu, cuda"));
}

#[test]
fn missing_model_dir() {
    let (_, input) = tiny_model("missing");
    embed(
        Path::new("/nonexistent/ticketsim-model"),
        &input,
        "/nonexistent/ticketsim-model: model folder not found",
    );
}

#[test]
fn folder_without_safetensors() {
    let (model, input) = tiny_model("nosafetensors");
    std::fs::remove_file(model.join("model.safetensors")).unwrap();
    embed(&model, &input, "model.safetensors: missing");
}

#[test]
fn truncated_safetensors() {
    let (model, input) = tiny_model("truncated");
    let p = model.join("model.safetensors");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    embed(
        &model,
        &input,
        "model.safetensors: not a readable safetensors file",
    );
}

#[test]
fn corrupt_safetensors() {
    let (model, input) = tiny_model("corrupt");
    let p = model.join("model.safetensors");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[8..40].copy_from_slice(&[b'#'; 32]); // garbage in the JSON header
    std::fs::write(&p, &bytes).unwrap();
    embed(
        &model,
        &input,
        "model.safetensors: not a readable safetensors file",
    );
    std::fs::write(&p, b"").unwrap();
    embed(
        &model,
        &input,
        "model.safetensors: not a readable safetensors file",
    );
}

#[test]
fn weights_missing_a_tensor() {
    let (model, input) = tiny_model("missingtensor");
    let cfg = model.join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    v["num_hidden_layers"] = 3.into(); // the file only has 2 layers
    std::fs::write(&cfg, v.to_string()).unwrap();
    embed(&model, &input, "missing tensor `encoder.layer.2.");
}

#[test]
fn unknown_model_type() {
    let (model, input) = tiny_model("modeltype");
    let cfg = model.join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    v["model_type"] = "gpt2".into();
    std::fs::write(&cfg, v.to_string()).unwrap();
    embed(&model, &input, "config.json: unknown model_type `gpt2`");
}

#[test]
fn empty_input() {
    let (model, _) = tiny_model("empty");
    let input = model.parent().unwrap().join("empty.txt");
    std::fs::write(&input, "\n  \n").unwrap();
    embed(&model, &input.display().to_string(), "no texts in input");
    std::fs::write(&input, "[]").unwrap();
    embed(&model, &input.display().to_string(), "no texts in input");
}

#[test]
fn non_utf8_input() {
    let (model, _) = tiny_model("utf8");
    let input = model.parent().unwrap().join("latin1.txt");
    std::fs::write(&input, b"ok line\ncaf\xe9 au lait\n").unwrap();
    embed(
        &model,
        &input.display().to_string(),
        "latin1.txt: line 2: text: not valid UTF-8",
    );
}

#[test]
fn bad_sts_file() {
    let (model, _) = tiny_model("sts");
    let data = model.parent().unwrap().join("bad.tsv");
    std::fs::write(&data, "g\tf\t2012\t1\tfive\ta\tb\n").unwrap();
    fails_with(
        &[
            "sts",
            "--model",
            &model.display().to_string(),
            "--data",
            &data.display().to_string(),
        ],
        "bad.tsv: line 1: score (column 5)",
    );
}

/// The real files users start from load without a skipped record: GitBugs incidents (an export
/// without categories or links, so the loader notes it) and pairs, and the STS-B TSVs.
#[test]
fn real_files_load_cleanly() {
    use ticketsim::data::incidents::load_incidents;
    use ticketsim::data::load::Mode;
    use ticketsim::data::pairs::load_training_pairs;
    let d = crate::datasets_dir();
    let read = |p: &str| std::fs::read(d.join(p)).unwrap();
    let inc = load_incidents(
        &read("gitbugs/incidents.csv"),
        "incidents.csv",
        Mode::Strict,
    )
    .unwrap();
    assert!(inc.records.len() > 100, "{}", inc.report.summary());
    assert!(inc
        .records
        .iter()
        .all(|i| i.category.is_none() && i.caused_by.is_empty()));
    assert!(
        inc.report
            .notes
            .iter()
            .any(|n| n.starts_with("no categories")),
        "{:?}",
        inc.report.notes
    );
    for f in ["gitbugs/pairs-train.json", "gitbugs/pairs-test.json"] {
        let l = load_training_pairs(&read(f), f, Mode::Strict).unwrap();
        assert_eq!(l.report.skipped_total(), 0, "{}", l.report.summary());
    }
    // STS-B repeats a few rows verbatim: skip mode drops exactly those, strict mode refuses.
    let f = "stsbenchmark/sts-dev.csv";
    let l = load_training_pairs(&read(f), f, Mode::Skip).unwrap();
    let dups = l
        .report
        .skipped
        .get(&ticketsim::data::load::SkipReason::DuplicateRow);
    assert_eq!(l.report.skipped_total(), dups.copied().unwrap_or(0));
    assert!(l.records.len() > 1400, "{}", l.report.summary());
    assert!(load_training_pairs(&read(f), f, Mode::Strict).is_err());
    eprintln!("{}", l.report.summary());
}
