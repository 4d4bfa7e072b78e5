//! `ticketsim pairs`: writes the five files, prints the per-class table, never lets a text appear in
//! both the train and the eval files, reruns byte-identically under the same seed; on GitBugs (no
//! links, no categories) it says that only random negatives are possible and still succeeds.

use std::collections::BTreeSet;
use std::path::Path;

use ticketsim::data::load::Mode;
use ticketsim::data::pairs::parse_training_pairs;
use ticketsim::data::relationships::load_relationship_pairs;

use crate::bad_input::fails_with;
use crate::{cli, datasets_dir, temp_dir};

/// Fifteen problems (category, resolution, three reports each), with duplicate links inside each
/// problem, two causal links and one related link between problems, plus one row without text.
fn incidents_csv() -> String {
    let problems = [
        (
            "Network",
            "replaced switch sw-3",
            [
                "vpn drops every hour in building 3",
                "vpn disconnects often from building 3",
                "remote access unstable for building 3 users",
            ],
        ),
        (
            "Network",
            "renewed dhcp scope",
            [
                "laptops get no ip address on floor 2",
                "wifi connected but no ip on floor 2",
                "dhcp lease failure for new laptops",
            ],
        ),
        (
            "Email",
            "repaired office install",
            [
                "outlook crashes when opening calendar",
                "email client closes right after start",
                "mail app crashing since last update",
            ],
        ),
        (
            "Email",
            "raised mailbox quota",
            [
                "mailbox full cannot send mail",
                "quota exceeded warning in outlook",
                "emails bounce back mailbox over limit",
            ],
        ),
        (
            "Hardware",
            "restarted print spooler",
            [
                "printer offline on floor 4",
                "cannot print to floor 4 printer",
                "print jobs stuck in the queue",
            ],
        ),
        (
            "Hardware",
            "replaced battery",
            [
                "laptop battery drains in one hour",
                "notebook shuts down when unplugged",
                "battery swollen on dell laptop",
            ],
        ),
        (
            "Access",
            "reset password",
            [
                "password expired cannot log in",
                "account locked after password change",
                "login fails with correct password",
            ],
        ),
        (
            "Access",
            "granted group membership",
            [
                "no access to finance share",
                "permission denied on shared drive",
                "cannot open team folder access denied",
            ],
        ),
        (
            "Software",
            "reinstalled client",
            [
                "teams does not start on windows",
                "teams stuck on loading screen",
                "chat client will not launch",
            ],
        ),
        (
            "Software",
            "cleared browser cache",
            [
                "browser very slow on intranet",
                "intranet pages load forever",
                "web portal hangs on login page",
            ],
        ),
        (
            "Network",
            "updated firewall rule",
            [
                "sftp transfers to partner time out",
                "partner file upload blocked at firewall",
                "outbound port 22 closed since weekend",
            ],
        ),
        (
            "Email",
            "restored shared mailbox",
            [
                "shared helpdesk mailbox disappeared",
                "support inbox missing from folder list",
                "team mailbox deleted by mistake",
            ],
        ),
        (
            "Hardware",
            "replaced docking station",
            [
                "second monitor stays black when docked",
                "usb ports on dock stopped working",
                "docking station does not charge laptop",
            ],
        ),
        (
            "Access",
            "enabled mfa token",
            [
                "authenticator app not receiving prompts",
                "new phone needs mfa setup",
                "two factor code always rejected",
            ],
        ),
        (
            "Software",
            "updated license server",
            [
                "cad software says license expired",
                "no floating licenses available for autocad",
                "design tool opens in viewer mode only",
            ],
        ),
    ];
    let mut csv = String::from(
        "number,short_description,category,resolution,duplicate_of,caused_by,related_to\n",
    );
    for (p, (category, resolution, titles)) in problems.iter().enumerate() {
        for (k, title) in titles.iter().enumerate() {
            let id = format!("INC{p:02}{k}");
            let duplicate_of = if k > 0 {
                format!("INC{p:02}0")
            } else {
                String::new()
            };
            let caused_by = match (p, k) {
                (1, 2) => "INC000",
                (7, 0) => "INC062",
                _ => "",
            };
            let related_to = if (p, k) == (9, 0) { "INC080" } else { "" };
            csv.push_str(&format!(
                "{id},{title},{category},{resolution},{duplicate_of},{caused_by},{related_to}\n"
            ));
        }
    }
    csv.push_str("INC999,,Network,,,,\n");
    csv
}

fn run_pairs(input: &Path, out: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let output = cli()
        .args(["pairs", "--incidents"])
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    (serde_json::from_slice(&output.stdout).unwrap(), stderr)
}

const FILES: [&str; 5] = [
    "training_pairs.json",
    "eval_pairs.json",
    "relationship_pairs.json",
    "relationship_eval_pairs.json",
    "pairs_report.json",
];

fn texts_of(dir: &Path, training: &str, relationships: &str) -> BTreeSet<String> {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let mut texts: BTreeSet<String> = parse_training_pairs(&read(training), training)
        .unwrap()
        .into_iter()
        .flat_map(|p| [p.a, p.b])
        .collect();
    let rels = load_relationship_pairs(&read(relationships), relationships, Mode::Strict).unwrap();
    texts.extend(rels.records.into_iter().flat_map(|p| [p.a, p.b]));
    texts
}

#[test]
fn pairs_from_linked_incidents() {
    let dir = temp_dir("pairs-cli");
    let input = dir.join("incidents.csv");
    std::fs::write(&input, incidents_csv()).unwrap();
    let out = dir.join("out");
    let (summary, stderr) = run_pairs(&input, &out, &[]);
    for f in FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(
        stderr.contains("kept 45 of 46 records; skipped 1 (1 empty text)"),
        "{stderr}"
    );

    // The per-class table on stderr carries the summary's counts.
    let (tr, ev) = (&summary["train"], &summary["eval"]);
    for (row, key) in [
        ("  positive (label 1)", "positives"),
        ("  negative (label 0)", "negatives"),
        ("  duplicate", "duplicate"),
        ("  causal", "causal"),
        ("  related", "related"),
        ("  none", "none"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(row) && l[row.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no `{row}` row in {stderr}"));
        let nums: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(
            nums,
            vec![tr[key].as_u64().unwrap(), ev[key].as_u64().unwrap()],
            "{line}"
        );
    }
    assert!(tr["duplicate"].as_u64().unwrap() > 0 && tr["causal"].as_u64().unwrap() > 0);
    assert!(tr["hard_negatives"].as_u64().unwrap() > 0, "{summary}");
    assert!(tr["augmented"].as_u64().unwrap() > 0, "{summary}");
    assert!(ev["positives"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(ev["augmented"].as_u64(), Some(0));

    // training_pairs.json reads back through the trainer's loader with the same counts.
    let train = parse_training_pairs(
        &std::fs::read(out.join("training_pairs.json")).unwrap(),
        "training_pairs.json",
    )
    .unwrap();
    let positives = train.iter().filter(|p| p.label == 1.0).count() as u64;
    assert_eq!(positives, tr["positives"].as_u64().unwrap());
    assert_eq!(
        train.len() as u64 - positives,
        tr["negatives"].as_u64().unwrap()
    );

    // No incident text on both sides.
    let train_texts = texts_of(&out, "training_pairs.json", "relationship_pairs.json");
    let eval_texts = texts_of(&out, "eval_pairs.json", "relationship_eval_pairs.json");
    let leaked: Vec<&String> = train_texts.intersection(&eval_texts).collect();
    assert!(leaked.is_empty(), "in both train and eval: {leaked:?}");
    assert!(!eval_texts.is_empty());

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("pairs_report.json")).unwrap()).unwrap();
    assert_eq!(report["config"]["seed"], 42);
    assert_eq!(report["load"]["kept"], 45);
    assert_eq!(report["counts"]["train"], *tr);

    // Same seed: byte-identical files; another seed: other pairs.
    let again = dir.join("again");
    run_pairs(&input, &again, &[]);
    for f in FILES.iter().take(4) {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f} differs on rerun"
        );
    }
    let other = dir.join("other");
    run_pairs(&input, &other, &["--seed", "7"]);
    assert_ne!(
        std::fs::read(out.join("training_pairs.json")).unwrap(),
        std::fs::read(other.join("training_pairs.json")).unwrap()
    );
    // Options reach the generator: no augmentation, no hard negatives.
    let (plain, _) = run_pairs(
        &input,
        &dir.join("plain"),
        &["--augment", "0", "--hard-fraction", "0"],
    );
    assert_eq!(plain["train"]["augmented"], 0);
    assert_eq!(plain["train"]["hard_negatives"], 0);

    let bad = dir.join("bad").display().to_string();
    let input = input.display().to_string();
    fails_with(
        &[
            "pairs",
            "--incidents",
            &input,
            "--out",
            &bad,
            "--eval-split",
            "1.5",
        ],
        "eval_split must be between 0 and 1",
    );
    fails_with(
        &["pairs", "--incidents", &input, "--out", &bad, "--strict"],
        "incidents.csv: line 47: short_description: empty text",
    );
    assert!(!Path::new(&bad).exists(), "a refused run writes nothing");
}

#[test]
fn pairs_from_gitbugs_are_random_negatives_only() {
    let input = datasets_dir().join("gitbugs/incidents.csv");
    let dir = temp_dir("pairs-gitbugs");
    let (summary, stderr) = run_pairs(&input, &dir, &[]);
    assert!(
        stderr.contains("no positive pairs can be generated — only random negatives"),
        "{stderr}"
    );
    assert!(stderr.contains("no categories: hard negatives"), "{stderr}");
    for side in ["train", "eval"] {
        let c = &summary[side];
        assert_eq!(c["positives"], 0);
        assert_eq!(c["hard_negatives"], 0);
        assert!(c["random_negatives"].as_u64().unwrap() > 0, "{summary}");
    }
    let incidents = summary["incidents"].as_u64().unwrap();
    assert_eq!(
        summary["train"]["incidents"].as_u64().unwrap()
            + summary["eval"]["incidents"].as_u64().unwrap(),
        incidents
    );
    let train_texts = texts_of(&dir, "training_pairs.json", "relationship_pairs.json");
    let eval_texts = texts_of(&dir, "eval_pairs.json", "relationship_eval_pairs.json");
    assert!(train_texts.is_disjoint(&eval_texts));
}

#[test]
fn pairs_needs_two_incidents() {
    let dir = temp_dir("pairs-one");
    let input = dir.join("one.csv");
    std::fs::write(&input, "id,title\n1,printer is offline again\n").unwrap();
    let input = input.display().to_string();
    let out = dir.join("out").display().to_string();
    fails_with(
        &["pairs", "--incidents", &input, "--out", &out],
        "one.csv: pairs need at least 2 incidents with text, found 1",
    );
    // Two incidents but no negatives asked for and nothing to pair as positives: nothing to write.
    let two = dir.join("two.csv");
    std::fs::write(
        &two,
        "id,title\n1,printer is offline again\n2,vpn drops every hour\n",
    )
    .unwrap();
    let two = two.display().to_string();
    fails_with(
        &[
            "pairs",
            "--incidents",
            &two,
            "--out",
            &out,
            "--negatives-per-positive",
            "0",
        ],
        "two.csv: no pairs could be generated from 2 incidents (",
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn pairs_from_the_sample_incidents() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("pairs-sample");
    // Run as data/README.md says the committed files were made, from the repository root, so the
    // report names the input the same way.
    let output = cli()
        .current_dir(repo)
        .args(["pairs", "--incidents", "data/incidents.csv", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // The pairs shipped in data/ are exactly what the generator makes from the shipped incidents.
    for f in FILES {
        let fresh = std::fs::read(dir.join(f)).unwrap();
        let committed = std::fs::read(repo.join("data").join(f)).unwrap();
        assert!(
            fresh == committed,
            "data/{f} differs from `ticketsim pairs --incidents data/incidents.csv --out data`: \
             regenerate it"
        );
    }
    assert!(stderr.contains("kept 400 of 400 records"), "{stderr}");
    // Every class on both sides: a split that would leave one out of eval is redrawn (at most 10
    // draws), and this export has enough clusters of each class.
    for side in ["train", "eval"] {
        for class in [
            "positives",
            "hard_negatives",
            "random_negatives",
            "duplicate",
            "causal",
            "related",
            "none",
        ] {
            assert!(
                summary[side][class].as_u64().unwrap() > 0,
                "{side} {class}: {summary}"
            );
        }
    }
    let train_texts = texts_of(&dir, "training_pairs.json", "relationship_pairs.json");
    let eval_texts = texts_of(&dir, "eval_pairs.json", "relationship_eval_pairs.json");
    let leaked: Vec<&String> = train_texts.intersection(&eval_texts).collect();
    assert!(leaked.is_empty(), "in both train and eval: {leaked:?}");
    // Each seed holds out its own incidents. Seed 42 needs a redraw on this export; redraws once
    // used seed + 1, so seeds 42 and 43 (and 44 and 45) held out the same incidents and a
    // "3 seeds" benchmark measured one split twice.
    let held_out = |seed: &str| -> BTreeSet<String> {
        let out = dir.join(format!("seed-{seed}"));
        let output = cli()
            .current_dir(repo)
            .args([
                "pairs",
                "--incidents",
                "data/incidents.csv",
                "--seed",
                seed,
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success());
        let read = std::fs::read(out.join("relationship_eval_pairs.json")).unwrap();
        load_relationship_pairs(&read, "relationship_eval_pairs.json", Mode::Strict)
            .unwrap()
            .records
            .into_iter()
            .flat_map(|p| [p.a, p.b])
            .collect()
    };
    let seeds = ["42", "43", "44", "45"];
    let sides: Vec<BTreeSet<String>> = seeds.iter().map(|s| held_out(s)).collect();
    for i in 0..sides.len() {
        for j in i + 1..sides.len() {
            let shared = sides[i].intersection(&sides[j]).count();
            assert!(
                // Large clusters make chance overlaps big (seeds 44 and 45 share 40 of 79
                // texts); the same split shares all of them.
                shared * 10 < sides[i].len() * 9,
                "seeds {} and {} hold out {shared} of the same {} texts",
                seeds[i],
                seeds[j],
                sides[i].len()
            );
        }
    }
}
