//! `ticketsim retrieve` and `ticketsim group` on hand-built incidents: the tables, the honest
//! split, the files written, the groups scored against known clusters, and one-line errors for
//! files that cannot be used.

use std::path::Path;

use candle_core::Device;
use serde_json::Value;
use ticketsim::native::save_model_dir;
use ticketsim::SentenceEncoder;

use crate::bad_input::fails_with;
use crate::{cli, cli_json, temp_dir};

/// Eight incidents: two duplicate pairs (1–2, 3–4), one causal link (6 caused by 5), two loners
/// (one of them a title that is HTML).
const INCIDENTS: &str = "number,short_description,description,duplicate_of,caused_by
INC1,Outlook crashes when opening the calendar,,,
INC2,Calendar in Outlook crashes on open,,INC1,
INC3,Printer on floor 3 is offline,Nobody can print.,,
INC4,Floor 3 printer offline again,,INC3,
INC5,Core switch failure in building A,,,
INC6,Network outage in building A,,,INC5
INC7,Password reset needed for SAP,,,
INC8,<img src=x onerror=alert(1)>,,,
";

fn tiny_model(dir: &Path) -> String {
    let m = dir.join("tiny");
    save_model_dir(&SentenceEncoder::tiny_random(7, &Device::Cpu).unwrap(), &m).unwrap();
    m.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn table<'v>(summary: &'v Value, kind: &str) -> &'v Value {
    summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} table in {summary}"))
}

#[test]
fn retrieve_ranks_every_method_and_holds_out_trained_links() {
    let dir = temp_dir("retrieve");
    let model = tiny_model(&dir);
    let inc = write(&dir, "incidents.csv", INCIDENTS);
    let out = dir.join("out");
    let s = cli_json(cli().args([
        "retrieve",
        "--model",
        &model,
        "--incidents",
        &inc,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(s["corpus"], 8);
    let dup = table(&s, "duplicate");
    assert_eq!(dup["queries"], 4);
    let methods: Vec<&str> = dup["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    let name = format!("cosine: {model}");
    assert_eq!(methods[0], "bm25");
    assert_eq!(methods[1], name);
    assert!(methods[2].starts_with("hybrid: "));
    // Every duplicate shares its key words with its twin and with no other ticket: BM25 puts it
    // first for all four queries.
    assert_eq!(dup["rows"][0]["mrr"], 1.0);
    assert_eq!(dup["rows"][0]["recall@1"], 1.0);
    assert_eq!(table(&s, "causal")["queries"], 2);
    // The files: metrics.json with the full curves, one chart per kind.
    let m: Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let rows = &m["report"]["tables"][0]["rows"];
    assert_eq!(
        rows[0]["metrics"]["recall_at"].as_array().unwrap().len(),
        10
    );
    assert_eq!(rows[2]["hybrid_weights"].as_array().unwrap().len(), 2);
    for kind in ["duplicate", "causal"] {
        let svg = std::fs::read_to_string(out.join(format!("recall_at_k_{kind}.svg"))).unwrap();
        assert!(svg.contains("recall@k") && svg.contains("bm25"), "{kind}");
    }

    // Links from a separate file, and training pairs that contain ticket INC3's text (written
    // differently): INC3's and INC4's queries are left out.
    let links = write(
        &dir,
        "links.csv",
        "id_a,id_b,label\nINC7,INC8,1\nINC1,INC7,0\n",
    );
    let trained = write(
        &dir,
        "train.json",
        r#"[{"text1": "printer on floor 3 is offline. Nobody can print", "text2": "x", "label": 1}]"#,
    );
    let s = cli_json(cli().args([
        "retrieve",
        "--model",
        &model,
        "--incidents",
        &inc,
        "--links",
        &links,
        "--train-pairs",
        &trained,
    ]));
    assert_eq!(s["dropped_as_trained"]["duplicate"], 2);
    // 4 from the file − 2 trained + INC7 and INC8 from the link file.
    assert_eq!(table(&s, "duplicate")["queries"], 4);
    assert_eq!(
        s["files"].as_array().unwrap().len(),
        0,
        "no --out, no files"
    );
}

#[test]
fn group_writes_one_row_per_incident_and_scores_against_known_clusters() {
    let dir = temp_dir("group");
    let model = tiny_model(&dir);
    let inc = write(&dir, "incidents.csv", INCIDENTS);
    let out = dir.join("out");
    // Threshold −1: every ticket neighbours every other, so one group holds all eight.
    let s = cli_json(cli().args([
        "group",
        "--model",
        &model,
        "--incidents",
        &inc,
        "--threshold",
        "-1",
        "--out",
        out.to_str().unwrap(),
    ]));
    let m = &s["models"][0];
    assert_eq!(
        (m["groups"].clone(), m["grouped_incidents"].clone()),
        (1.into(), 8.into())
    );
    assert_eq!(m["threshold_source"], "given");
    // Known clusters {1,2} and {3,4}: 2 true pairs among the 28 grouped ones.
    let sc = &m["scores"];
    assert_eq!(sc["predicted_pairs"], 28);
    assert_eq!(sc["true_pairs"], 2);
    assert_eq!(sc["pairwise_recall"], 1.0);
    assert!((sc["pairwise_precision"].as_f64().unwrap() - 2.0 / 28.0).abs() < 1e-12);
    let csv = std::fs::read_to_string(out.join("groups-1.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,group,group_size,central_id,group_title,similarity_to_central"
    );
    assert_eq!(lines.len(), 9);
    assert!(lines[1..].iter().all(|l| l.contains(",1,8,")), "{csv}");
    assert!(out.join("groups.json").is_file());
    // The map: one dot per incident, coloured by category when there are categories (here none:
    // by known duplicate cluster), with the axes and the share of variance named.
    let svg = std::fs::read_to_string(out.join("map.svg")).unwrap();
    assert_eq!(
        svg.matches("<circle").count(),
        8 + 3,
        "8 dots + 3 legend markers: {svg}"
    );
    for t in [
        "tickets by known duplicate cluster",
        "first principal component",
        "group 1",
        "other",
    ] {
        assert!(svg.contains(t), "`{t}` missing from map.svg");
    }

    // Without a threshold and without training_metadata.json: the stated default. Threshold 1:
    // no two different tickets are that close — nothing grouped, recall 0.
    let s = cli_json(cli().args(["group", "--model", &model, "--incidents", &inc]));
    assert_eq!(s["models"][0]["threshold_source"], "default");
    assert!((s["models"][0]["threshold"].as_f64().unwrap() - 0.8).abs() < 1e-6);
    let s = cli_json(cli().args([
        "group",
        "--model",
        &model,
        "--incidents",
        &inc,
        "--threshold",
        "1",
    ]));
    assert_eq!(s["models"][0]["groups"], 0);
    assert_eq!(s["models"][0]["scores"]["pairwise_recall"], 0.0);
}

#[test]
fn files_without_links_or_text_are_one_line_errors() {
    let dir = temp_dir("retrieve-bad");
    let model = tiny_model(&dir);
    let no_links = write(
        &dir,
        "nolinks.csv",
        "number,short_description\nINC1,vpn down\nINC2,printer jam\n",
    );
    fails_with(
        &["retrieve", "--model", &model, "--incidents", &no_links],
        "nolinks.csv: no links — retrieval is measured on known links",
    );
    let no_text = write(&dir, "notext.csv", "number,category\nINC1,network\n");
    fails_with(
        &["retrieve", "--model", &model, "--incidents", &no_text],
        "notext.csv: line 1: header: not a recognised incident export",
    );
    fails_with(
        &["group", "--model", &model, "--incidents", &no_text],
        "notext.csv: line 1: header",
    );
    let links = write(&dir, "links.csv", "a,b\n1,2\n");
    fails_with(
        &[
            "retrieve",
            "--model",
            &model,
            "--incidents",
            &no_links,
            "--links",
            &links,
        ],
        "links.csv: line 1: header: not a link file",
    );
    // Group works without links: it just cannot be scored.
    let s = cli_json(cli().args(["group", "--model", &model, "--incidents", &no_links]));
    assert_eq!(s["models"][0]["scores"], Value::Null);
}

#[test]
fn train_reports_retrieval_before_and_after_on_held_out_queries() {
    let dir = temp_dir("train-retrieval");
    let model = tiny_model(&dir);
    let inc = write(&dir, "incidents.csv", INCIDENTS);
    // Ten pairs; one of them holds INC1's text, so INC1's and INC2's duplicate queries do not
    // count (INC2's relevant ticket was trained on).
    let mut pairs = vec![
        serde_json::json!({"text1": "Outlook crashes when opening the calendar",
        "text2": "mail client crash", "label": 1}),
    ];
    for i in 0..9 {
        pairs.push(serde_json::json!({"text1": format!("disk {i} full"),
            "text2": format!("server {i} out of space"), "label": (i % 2) as f64}));
    }
    let data = write(&dir, "pairs.json", &Value::Array(pairs).to_string());
    let out = dir.join("out");
    let s = cli_json(
        cli()
            .args(["train", "--model", &model, "--data", &data, "--output"])
            .arg(&out)
            .args([
                "--epochs",
                "1",
                "--batch-size",
                "4",
                "--max-seq-length",
                "32",
                "--test-incidents",
                &inc,
            ]),
    );
    let r = &s["retrieval"];
    assert_eq!(r["dropped_as_trained"]["duplicate"], 2);
    let t = &r["tables"][0];
    assert_eq!(
        (t["kind"].clone(), t["queries"].clone()),
        ("duplicate".into(), 2.into())
    );
    let methods: Vec<&str> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "bm25",
            "cosine: base",
            "cosine: fine-tuned",
            "hybrid: base",
            "hybrid: fine-tuned"
        ]
    );
}
