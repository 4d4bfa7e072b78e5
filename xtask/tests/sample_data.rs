//! `xtask sample-data`: the committed data/incidents.csv is exactly what the generator writes for
//! its seed, and the set has what the pair generator and 5-fold cross-validation need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use ticketsim::data::incidents::INCIDENT_COLUMNS;

/// A fresh empty temporary folder for one test.
fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xtask-it-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run `xtask sample-data --out <tag dir>` with extra arguments, assert that it succeeded (showing
/// its stderr if not); returns the CSV bytes and the summary it printed.
fn generate(tag: &str, extra: &[&str]) -> (Vec<u8>, serde_json::Value) {
    let dir = temp_dir(tag);
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("sample-data")
        .arg("--out")
        .arg(&dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = serde_json::from_slice(&out.stdout).unwrap();
    let bytes = std::fs::read(dir.join("incidents.csv")).unwrap();
    (bytes, summary)
}

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/incidents.csv")
}

/// Rows as column → value maps, in file order.
fn parse(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, INCIDENT_COLUMNS);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn links<'a>(row: &'a BTreeMap<String, String>, col: &str) -> Vec<&'a str> {
    row[col].split(';').filter(|s| !s.is_empty()).collect()
}

#[test]
fn committed_sample_data_matches_the_generator() {
    let (bytes, summary) = generate("sample-42", &[]);
    let on_disk = std::fs::read(committed()).expect("data/incidents.csv is committed");
    // Byte for byte: data and generator never drift (regenerate with the command in data/README.md).
    assert!(
        bytes == on_disk,
        "data/incidents.csv differs from `cargo run --release -p xtask -- sample-data --out data` (seed 42)"
    );
    assert_eq!(summary["incidents"], 400);
    assert_eq!(summary["seed"], 42);
}

#[test]
fn sample_data_has_what_pairs_and_cross_validation_need() {
    let bytes = std::fs::read(committed()).unwrap();
    let rows = parse(&bytes);
    assert!(rows.len() >= 300, "{} incidents", rows.len());
    let categories: BTreeSet<&str> = rows.iter().map(|r| r["category"].as_str()).collect();
    assert!(categories.len() >= 12, "{categories:?}");

    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        assert!(
            index.insert(&r["number"], i).is_none(),
            "{} twice",
            r["number"]
        );
        // Every column but the three link columns (the last three) is always filled.
        for &col in &INCIDENT_COLUMNS[..INCIDENT_COLUMNS.len() - 3] {
            assert!(!r[col].trim().is_empty(), "{}: empty {col}", r["number"]);
        }
    }
    // Numbers follow time, so "earlier number" means "opened earlier".
    assert!(rows
        .windows(2)
        .all(|w| w[0]["opened_at"] <= w[1]["opened_at"]));

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        for col in ["duplicate_of", "caused_by", "related_to"] {
            for target in links(r, col) {
                let &j = index
                    .get(target)
                    .unwrap_or_else(|| panic!("{}: {col} {target} does not exist", r["number"]));
                assert_ne!(i, j, "{}: links to itself", r["number"]);
                assert!(j < i, "{}: {col} {target} is not earlier", r["number"]);
                *counts.entry(col).or_default() += 1;
                let t = &rows[j];
                match col {
                    // A duplicate is the same problem: the pair generator's "same category + same
                    // resolution" rule must agree, and it points at its cluster's first report.
                    "duplicate_of" => {
                        assert_eq!(
                            (&r["category"], &r["resolution"]),
                            (&t["category"], &t["resolution"]),
                            "{}",
                            r["number"]
                        );
                        assert!(
                            links(t, "duplicate_of").is_empty(),
                            "{target} is not a cluster's first"
                        );
                    }
                    // Effects and related tickets are other problems.
                    _ => assert_ne!(
                        r["resolution"], t["resolution"],
                        "{} {col} {target}",
                        r["number"]
                    ),
                }
            }
        }
        assert!(links(r, "duplicate_of").len() <= 1);
    }
    for col in ["duplicate_of", "caused_by", "related_to"] {
        assert!(
            counts.get(col).copied().unwrap_or(0) >= 25,
            "{col}: {counts:?}"
        );
    }
    // Real data is imbalanced: most tickets stand alone, duplicates outnumber the other links.
    assert!(counts["duplicate_of"] > counts["caused_by"]);
    let linked: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| {
            let own = r["number"].as_str();
            ["duplicate_of", "caused_by", "related_to"]
                .into_iter()
                .flat_map(move |c| links(r, c))
                .flat_map(move |t| [t, own])
        })
        .collect();
    let standalone = rows.len() - linked.len();
    assert!(
        2 * standalone > rows.len(),
        "only {standalone} tickets stand alone"
    );

    // caused_by has no cycles: follow every chain to its root (at most 3 deep by design).
    for r in &rows {
        let mut seen = BTreeSet::new();
        let mut cur = r;
        while let Some(&c) = links(cur, "caused_by").first() {
            assert!(seen.insert(c), "cycle through {c}");
            assert!(seen.len() <= 2, "{}: chain longer than 3", r["number"]);
            cur = &rows[index[c]];
        }
    }
    // Chains of three exist (cause -> effect -> effect).
    assert!(rows
        .iter()
        .any(|r| links(r, "caused_by")
            .iter()
            .any(|c| !links(&rows[index[c]], "caused_by").is_empty())));
}

#[test]
fn another_seed_or_count_gives_other_data() {
    let (a, _) = generate("sample-7", &["--seed", "7"]);
    let committed = std::fs::read(committed()).unwrap();
    assert_ne!(a, committed, "--seed must change the data");
    let (b, _) = generate("sample-7b", &["--seed", "7"]);
    assert_eq!(a, b, "same seed, same bytes");
    let (small, summary) = generate("sample-small", &["--count", "60", "--seed", "3"]);
    assert_eq!(parse(&small).len(), 60);
    assert_eq!(summary["incidents"], 60);
}
