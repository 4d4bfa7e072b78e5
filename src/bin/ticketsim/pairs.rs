//! `ticketsim pairs`: generate training and relationship pairs from an incident export, split by
//! cluster into a train and an eval side, and write them next to a report of what was made and what
//! could not be.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;

use ticketsim::data::generate::{
    generate_pairs, pair_files, GeneratedPairs, PairGenConfig, SideCounts, PAIR_FILES,
};
use ticketsim::data::incidents::load_incidents;
use ticketsim::native::read_file;

/// Arguments of `ticketsim pairs`. Unset options take [`PairGenConfig`]'s defaults.
#[derive(ClapArgs, Debug)]
pub struct PairsArgs {
    /// Incident export: CSV/TSV with a header, a JSON list or JSON Lines.
    #[arg(long)]
    incidents: PathBuf,
    /// Output folder (created when missing; the five files in it are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the split, the sampling and the augmentation [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// Share of the incidents (whole clusters) held out for the eval files [default: 0.2].
    #[arg(long)]
    eval_split: Option<f64>,
    /// Augmented copies per training positive, train side only; 0: none [default: 1].
    #[arg(long)]
    augment: Option<usize>,
    /// Augmentation: probability of dropping each word [default: 0.1].
    #[arg(long)]
    word_drop: Option<f64>,
    /// Augmentation: probability of swapping each pair of adjacent words [default: 0.1].
    #[arg(long)]
    word_swap: Option<f64>,
    /// Negatives per positive; per incident on a side without positives [default: 1.0].
    #[arg(long)]
    negatives_per_positive: Option<f64>,
    /// Share of the negatives that are hard (same category, different problem) [default: 0.5].
    #[arg(long)]
    hard_fraction: Option<f64>,
    /// Fewest incidents a category needs on a side to give hard negatives [default: 3].
    #[arg(long)]
    min_category_size: Option<usize>,
    /// Most positives from one same-category + same-resolution group [default: 25].
    #[arg(long)]
    max_group_positives: Option<usize>,
    /// Fail on the first bad incident row instead of skipping and counting it.
    #[arg(long)]
    strict: bool,
}

impl PairsArgs {
    fn config(&self) -> PairGenConfig {
        let d = PairGenConfig::default();
        PairGenConfig {
            seed: self.seed.unwrap_or(d.seed),
            eval_split: self.eval_split.unwrap_or(d.eval_split),
            augment_copies: self.augment.unwrap_or(d.augment_copies),
            word_drop: self.word_drop.unwrap_or(d.word_drop),
            word_swap: self.word_swap.unwrap_or(d.word_swap),
            negatives_per_positive: self
                .negatives_per_positive
                .unwrap_or(d.negatives_per_positive),
            hard_negative_fraction: self.hard_fraction.unwrap_or(d.hard_negative_fraction),
            min_category_size: self.min_category_size.unwrap_or(d.min_category_size),
            max_group_positives: self.max_group_positives.unwrap_or(d.max_group_positives),
        }
    }
}

/// The report written next to the [`PAIR_FILES`].
const REPORT_FILE: &str = "pairs_report.json";

/// Run the command.
pub fn run(args: PairsArgs) -> Result<()> {
    let cfg = args.config();
    // Checked before reading, so a bad option fails fast on a large export.
    cfg.validate()?;
    let name = args.incidents.display().to_string();
    let mode = crate::common::mode(args.strict);
    let loaded = load_incidents(&read_file(&args.incidents)?, &name, mode)?;
    let n = loaded.records.len();
    if n < 2 {
        bail!("{name}: pairs need at least 2 incidents with text, found {n}");
    }
    let generated = generate_pairs(&loaded.records, &cfg)?;
    if generated.train.training.len() + generated.eval.training.len() == 0 {
        bail!(
            "{name}: no pairs could be generated from {n} incidents ({})",
            generated.notes.join("; ")
        );
    }
    // Progress goes to stderr only once the run is known to succeed, so a refused run prints one
    // error line and nothing else.
    eprintln!("{}", loaded.report.summary());
    for ex in &loaded.report.examples {
        eprintln!("  skipped: {}", ex.message);
    }

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let report = json!({
        "config": cfg,
        "load": loaded.report,
        "counts": { "train": generated.train.counts, "eval": generated.eval.counts },
        "notes": generated.notes,
    });
    for (file, value) in pair_files(&generated) {
        write_json(&args.out.join(file), &value)?;
    }
    write_json(&args.out.join(REPORT_FILE), &report)?;

    eprint!("{}", table(&generated));
    // The loader's notes describe the file (what columns it lacks); the generator's say what that
    // meant for the pairs. Both are kept apart so neither reads as a repeat of the other.
    for note in &loaded.report.notes {
        eprintln!("load note: {note}");
    }
    for note in &generated.notes {
        eprintln!("note: {note}");
    }
    let files: Vec<String> = PAIR_FILES
        .iter()
        .chain([&REPORT_FILE])
        .map(|f| args.out.join(f).display().to_string())
        .collect();
    println!(
        "{}",
        json!({
            "incidents": loaded.records.len(),
            "train": generated.train.counts,
            "eval": generated.eval.counts,
            "notes": generated.notes,
            "files": files,
        })
    );
    Ok(())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A row of the count table: its label and how to read it from a side's counts.
type Row = (&'static str, fn(&SideCounts) -> usize);

/// The per-class counts of both sides as an aligned text table.
fn table(g: &GeneratedPairs) -> String {
    let rows: [Row; 13] = [
        ("incidents", |c| c.incidents),
        ("clusters", |c| c.clusters),
        ("training pairs", |c| c.positives + c.negatives),
        ("  positive (label 1)", |c| c.positives),
        ("    of which augmented", |c| c.augmented),
        ("  negative (label 0)", |c| c.negatives),
        ("    hard", |c| c.hard_negatives),
        ("    random", |c| c.random_negatives),
        ("relationship pairs", |c| {
            c.duplicate + c.causal + c.related + c.none
        }),
        ("  duplicate", |c| c.duplicate),
        ("  causal", |c| c.causal),
        ("  related", |c| c.related),
        ("  none", |c| c.none),
    ];
    let mut out = format!("{:<24}{:>8}{:>8}\n", "class", "train", "eval");
    for (label, f) in rows {
        out.push_str(&format!(
            "{label:<24}{:>8}{:>8}\n",
            f(&g.train.counts),
            f(&g.eval.counts)
        ));
    }
    out
}
