//! `ticketsim bench quality` on a tiny random model (the smoke run of `make test`; the real
//! benchmark is `make bench-quality`): every recipe trains on the training side of the sample
//! incidents and is measured on the held-out side next to the base model and BM25, with mean ± std
//! over the seeds; the rounds are reproducible.

use candle_core::Device;
use ticketsim::native::save_model_dir;
use ticketsim::SentenceEncoder;

use crate::{cli, temp_dir};

fn quality(
    dir: &std::path::Path,
    model: &str,
    tag: &str,
    seeds: &str,
    extra: &[&str],
) -> std::process::Output {
    cli()
        .args(["bench", "quality", "--model", model])
        .args(extra)
        .args(["--incidents", "data/incidents.csv", "--seeds", seeds])
        .args(["--epochs", "1", "--max-seq-length", "24", "--out"])
        .arg(dir.join(format!("{tag}.json")))
        .output()
        .unwrap()
}

fn run(dir: &std::path::Path, model: &str, tag: &str, extra: &[&str]) -> serde_json::Value {
    run_seeds(dir, model, tag, "3,4", extra).0
}

fn run_seeds(
    dir: &std::path::Path,
    model: &str,
    tag: &str,
    seeds: &str,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let o = quality(dir, model, tag, seeds, extra);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("| method |"),
        "the table goes to stderr: {err}"
    );
    let out = dir.join(format!("{tag}.json"));
    (
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap(),
        err,
    )
}

#[test]
fn every_recipe_is_measured_on_the_held_out_side() {
    let dir = temp_dir("quality");
    let model = dir.join("tiny");
    save_model_dir(
        &SentenceEncoder::tiny_random(5, &Device::Cpu).unwrap(),
        &model,
    )
    .unwrap();
    let model = model.display().to_string();
    let v = run(&dir, &model, "a", &[]);
    let report = &v["report"];
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    for r in rounds {
        // The held-out side of the sample data: duplicate and causal queries, pairs, relationships.
        for k in [
            "dup_queries",
            "causal_queries",
            "held_out_pairs",
            "relationship_pairs",
        ] {
            assert!(r[k].as_u64().unwrap() > 0, "{k}: {r}");
        }
        let methods: Vec<&str> = r["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[0].as_str().unwrap())
            .collect();
        assert_eq!(
            methods,
            [
                "base",
                "bm25",
                "v3",
                "cosent",
                "mnrl",
                "graded",
                "combined",
                "duplicates"
            ]
        );
        for m in r["methods"].as_array().unwrap() {
            let (name, f) = (m[0].as_str().unwrap(), &m[1]);
            let mrr = f["dup_mrr"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&mrr), "{name}: {f}");
            assert!(f["dup_recall_1"].as_f64().unwrap() <= f["dup_recall_10"].as_f64().unwrap());
            if name == "bm25" {
                assert!(f["pair_roc_auc"].is_null() && f["train_seconds"].is_null());
            } else {
                assert!(f["pair_roc_auc"].as_f64().is_some(), "{name}: {f}");
                assert!(f["classifier_macro_f1"].as_f64().is_some(), "{name}: {f}");
            }
            if name != "base" && name != "bm25" {
                assert!(f["train_seconds"].as_f64().unwrap() > 0.0);
                assert_eq!(
                    f["selection"].as_array().unwrap().len(),
                    2,
                    "base + 1 epoch"
                );
            }
        }
    }
    // The seeds split differently, and the summary is their mean.
    assert_ne!(rounds[0]["dup_queries"], rounds[1]["dup_queries"]);
    let mean_of = |method: &str, fig: &str| -> f64 {
        let s = report["summary"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["method"] == method)
            .unwrap();
        let f = s["figures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f[0] == fig)
            .unwrap();
        f[1]["mean"].as_f64().unwrap()
    };
    let per_round = |method: &str| -> Vec<f64> {
        rounds
            .iter()
            .map(|r| {
                let m = r["methods"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m[0] == method)
                    .unwrap();
                m[1]["dup_mrr"].as_f64().unwrap()
            })
            .collect()
    };
    let base = per_round("base");
    assert!((mean_of("base", "dup_mrr") - (base[0] + base[1]) / 2.0).abs() < 1e-12);
    // Deterministic, and each recipe starts from the base model whatever else runs: the mnrl
    // recipe alone gives the same rounds (timings aside), BM25 and the base model too.
    // Run as a benchmark of hours is: one seed, stopped, resumed with the rest.
    run_seeds(&dir, &model, "b", "3", &["--recipe", "mnrl"]);
    let (again, err) = run_seeds(&dir, &model, "b", "3,4", &["--recipe", "mnrl", "--resume"]);
    assert!(err.contains("1 earlier round(s) kept (seeds [3])"), "{err}");
    assert!(
        err.contains("seed 3: done in an earlier run, kept"),
        "{err}"
    );
    // Other settings cannot be resumed into the same report.
    let o = quality(
        &dir,
        &model,
        "b",
        "3,4",
        &["--recipe", "mnrl", "--patience", "1", "--resume"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("made with other settings"),
        "{err}"
    );
    for i in 0..2 {
        assert_eq!(
            measured(&again["report"]["rounds"][i], KEPT),
            measured(&rounds[i], KEPT)
        );
    }
    // A kept round whose split is not today's (the pair generator changed since) runs again.
    let path = dir.join("b.json");
    let mut stale = again.clone();
    stale["report"]["rounds"][0]["held_out_incidents"] = serde_json::json!(1);
    std::fs::write(&path, stale.to_string()).unwrap();
    let (mended, err) = run_seeds(&dir, &model, "b", "3,4", &["--recipe", "mnrl", "--resume"]);
    assert!(
        err.contains("seed 3: the earlier round held out another split")
            && err.contains("seed 4: done in an earlier run, kept"),
        "{err}"
    );
    for i in 0..2 {
        assert_eq!(
            measured(&mended["report"]["rounds"][i], KEPT),
            measured(&rounds[i], KEPT)
        );
    }
    // Another recipe is added to the kept rounds: only it runs, and it measures what it measured
    // in the full run; the report keeps mnrl.
    let (added, err) = run_seeds(
        &dir,
        &model,
        "b",
        "3,4",
        &["--recipe", "cosent", "--resume"],
    );
    assert!(
        err.contains("seed 3: kept from an earlier run, adding cosent")
            && !err.contains("seed 3: mnrl:"),
        "{err}"
    );
    assert_eq!(
        added["report"]["config"]["presets"],
        serde_json::json!(["mnrl", "cosent"])
    );
    // By name: the full run lists cosent before mnrl, the resumed report after it.
    for i in 0..2 {
        let r = &added["report"]["rounds"][i];
        let names: Vec<&str> = r["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[0].as_str().unwrap())
            .collect();
        assert_eq!(names, ["base", "bm25", "mnrl", "cosent"]);
        let all = ["base", "bm25", "mnrl", "cosent"];
        assert_eq!(measured(r, &all), measured(&rounds[i], &all));
    }
    // Resuming with fewer seeds keeps the others' rounds (nothing measured is dropped).
    let (fewer, err) = run_seeds(&dir, &model, "b", "4", &["--recipe", "mnrl", "--resume"]);
    assert!(!err.contains("steps"), "nothing trains: {err}");
    let seeds: Vec<u64> = fewer["report"]["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, [4, 3]);
    assert_eq!(
        fewer["report"]["config"]["seeds"],
        serde_json::json!([4, 3])
    );
}

/// The default recipe is the one the committed benchmark reports recommend (issue 18): a change
/// of either without the other fails here.
#[test]
fn the_default_recipe_is_the_one_the_committed_reports_recommend() {
    let out = crate::cli_json(cli().args([
        "bench",
        "recommend",
        "--report",
        "results/quality/gitbugs.json",
        "--report",
        "results/quality/sample.json",
    ]));
    let picked = out["recommended"]["recipe"].clone();
    assert!(picked.is_string(), "the reports recommend a recipe: {out}");
    assert_eq!(
        serde_json::to_value(ticketsim::train::config::TrainConfig::default().preset()).unwrap(),
        picked
    );
}

/// The methods of a quality round named in `keep`, by name, with what each measured except its
/// training time (which differs from run to run).
fn measured(
    round: &serde_json::Value,
    keep: &[&str],
) -> std::collections::BTreeMap<String, serde_json::Value> {
    round["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| keep.contains(&m[0].as_str().unwrap()))
        .map(|m| {
            let mut f = m[1].clone();
            f.as_object_mut().unwrap().remove("train_seconds");
            (m[0].as_str().unwrap().to_string(), f)
        })
        .collect()
}

/// What a resumed mnrl report must keep of the full run.
const KEPT: &[&str] = &["base", "bm25", "mnrl"];
