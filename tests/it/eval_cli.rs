//! `ticketsim eval`: the report folder (metrics.json equal to the library's figures on the same
//! cosines, one SVG per chart, a self-contained report.html), and one-line errors for bad input.

use std::path::Path;

use candle_core::Device;
use serde_json::{json, Value};
use ticketsim::eval::report::{evaluate_scores, PairEvalReport};
use ticketsim::eval::similarity::pair_cosines;
use ticketsim::native::{load_encoder, save_model_dir};
use ticketsim::SentenceEncoder;

use crate::bad_input::fails_with;
use crate::{cli, cli_json, temp_dir};

const CHARTS: [&str; 5] = [
    "histogram.svg",
    "roc.svg",
    "pr.svg",
    "f1_threshold.svg",
    "confusion_matrix.svg",
];

/// Ticket pairs with 0/1 and graded labels (0.8 counts as positive, 0.3 as negative).
fn pairs() -> Value {
    let topics = [
        ("vpn drops every hour", "vpn disconnects often"),
        (
            "printer offline on floor 3",
            "cannot print, printer offline",
        ),
        ("outlook crashes at start", "email client crash on launch"),
        ("password expired", "cannot log in, password reset needed"),
        ("disk full on db01", "database server out of space"),
        ("wifi slow in room 4", "wireless network very slow"),
    ];
    let mut out = Vec::new();
    for (i, (a, b)) in topics.iter().enumerate() {
        let other = topics[(i + 2) % topics.len()].1;
        out.push(json!({"ticket_a": a, "ticket_b": b, "label": 1}));
        out.push(json!({"ticket_a": a, "ticket_b": other, "label": 0}));
        out.push(
            json!({"ticket_a": b, "ticket_b": other, "label": if i % 2 == 0 { 0.8 } else { 0.3 }}),
        );
    }
    Value::Array(out)
}

fn tiny_model(dir: &Path) -> String {
    let m = dir.join("tiny");
    save_model_dir(&SentenceEncoder::tiny_random(3, &Device::Cpu).unwrap(), &m).unwrap();
    m.display().to_string()
}

/// Equal JSON trees, numbers within `tol` (relative to magnitude 1).
fn assert_json_close(a: &Value, b: &Value, tol: f64, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= tol * x.abs().max(1.0), "{at}: {x} vs {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_json_close(p, q, tol, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}: keys"
            );
            for (k, p) in x {
                assert_json_close(p, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn eval_writes_metrics_charts_and_a_self_contained_report() {
    let dir = temp_dir("eval-ok");
    let model = tiny_model(&dir);
    let data = dir.join("pairs.json");
    std::fs::write(&data, serde_json::to_vec(&pairs()).unwrap()).unwrap();
    let out = dir.join("report");
    let summary = cli_json(
        cli()
            .args(["eval", "--model", &model, "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .args(["--batch-size", "4", "--threshold", "0.3"]),
    );
    for f in CHARTS.iter().chain(&["metrics.json", "report.html"]) {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert_eq!(summary["pairs"], 18);
    assert_eq!(summary["positives"], 9, "six 1s and three 0.8s");
    assert_eq!(summary["files"].as_array().unwrap().len(), 7);

    // The figures are the library's on the same cosines, computed here through the library.
    let metrics: Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let parsed =
        ticketsim::data::pairs::parse_training_pairs(&std::fs::read(&data).unwrap(), "pairs.json")
            .unwrap();
    let texts: Vec<(&str, &str)> = parsed
        .iter()
        .map(|p| (p.a.as_str(), p.b.as_str()))
        .collect();
    let labels: Vec<f32> = parsed.iter().map(|p| p.label).collect();
    let enc = load_encoder(Path::new(&model), &Device::Cpu).unwrap();
    let cosines = pair_cosines(&enc, &texts, 4).unwrap();
    let written: Vec<f64> = serde_json::from_value(metrics["cosines"].clone()).unwrap();
    assert_eq!(written.len(), cosines.len());
    for (w, c) in written.iter().zip(&cosines) {
        assert!((w - c).abs() < 1e-6, "cosine {w} vs {c}");
    }
    let expected = evaluate_scores(&labels, &cosines, Some(0.3)).unwrap();
    let report: PairEvalReport = serde_json::from_value(metrics.clone()).unwrap();
    assert_json_close(
        &serde_json::to_value(&report).unwrap(),
        &serde_json::to_value(&expected).unwrap(),
        1e-6,
        "metrics.json",
    );
    assert_eq!(report.confusion, expected.confusion);
    assert_eq!(report.at_threshold.as_ref().unwrap().threshold, 0.3);
    assert_eq!(summary["roc_auc"].as_f64(), report.roc_auc);
    assert_eq!(metrics["model"], model.as_str());
    assert_eq!(metrics["max_seq_length"], enc.info().max_seq_length);

    // report.html holds every chart inline and asks for nothing outside itself.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for f in CHARTS {
        let svg = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(svg.starts_with("<svg"), "{f}");
        assert!(
            html.contains(svg.trim()),
            "{f} is not inline in report.html"
        );
    }
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches("http://www.w3.org/2000/svg").count(),
        "a URL other than the SVG namespace"
    );
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    assert!(html.contains("pairs.json"));

    // A rerun into the same folder replaces the files.
    cli_json(
        cli()
            .args(["eval", "--model", &model, "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out),
    );
    let again: Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert!(again["at_threshold"].is_null(), "no --threshold this time");
}

#[test]
fn eval_refuses_bad_input_with_one_line() {
    let dir = temp_dir("eval-bad");
    let model = tiny_model(&dir);
    let out = dir.join("out").display().to_string();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let good = write("good.json", &pairs().to_string());
    let run = |data: &str, extra: &[&str], needle: &str| {
        let mut args = vec!["eval", "--model", &model, "--data", data, "--out", &out];
        args.extend_from_slice(extra);
        fails_with(&args, needle);
        assert!(
            !Path::new(&out).exists(),
            "a refused run must not create the output"
        );
    };
    let missing = dir.join("missing.json").display().to_string();
    run(&missing, &[], "missing.json: cannot read");
    let no_label = write("nolabel.json", r#"[{"a": "x", "b": "y"}]"#);
    run(
        &no_label,
        &[],
        "nolabel.json: record 0: pairs: no usable pairs",
    );
    let range = write(
        "range.json",
        r#"[{"a": "x", "b": "y", "label": 1}, {"a": "x", "b": "z", "label": 4}]"#,
    );
    run(
        &range,
        &["--strict"],
        "range.json: record 1: label: 4 is outside [0, 1]",
    );
    let garbage = write("garbage.txt", "just some text\n");
    run(
        &garbage,
        &[],
        "garbage.txt: line 1: header: not a recognised pairs file",
    );
    run(
        &good,
        &["--threshold", "1.5"],
        "--threshold 1.5 is outside [-1, 1]",
    );
    run(
        &good,
        &["--batch-size", "0"],
        "--batch-size must be at least 1",
    );
    let no_model = dir.join("nomodel").display().to_string();
    fails_with(
        &["eval", "--model", &no_model, "--data", &good, "--out", &out],
        "nomodel: model folder not found",
    );
    let file_out = write("out.txt", "");
    fails_with(
        &[
            "eval", "--model", &model, "--data", &good, "--out", &file_out,
        ],
        "--out must be a folder",
    );

    // Without --strict a bad record is skipped, said on stderr and counted in metrics.json.
    let res = cli()
        .args(["eval", "--model", &model, "--data", &range, "--out", &out])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{err}");
    assert!(
        err.contains("range.json: kept 1 of 2 records; skipped 1 (1 label out of range)"),
        "{err}"
    );
    let summary: Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(summary["pairs"], 1);
    assert_eq!(summary["skipped"], 1);
    let metrics: Value =
        serde_json::from_slice(&std::fs::read(Path::new(&out).join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["load"]["kept"], 1);
    assert_eq!(metrics["load"]["skipped"]["label_out_of_range"], 1);
}
