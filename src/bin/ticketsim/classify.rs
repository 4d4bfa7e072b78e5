//! `ticketsim classify train | eval | predict`: the relationship classifier (duplicate / causal /
//! related / none) on the encoder's embeddings of both tickets.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args as ClapArgs, Subcommand};
use serde_json::json;

use ticketsim::classify::artifact::{self, ClassifierArtifact};
use ticketsim::classify::cv::{cross_validate, CvConfig, CvReport};
use ticketsim::classify::features::{Feature, FeatureConfig};
use ticketsim::classify::head::Balance;
use ticketsim::classify::PairEmbeddings;
use ticketsim::data::load::Mode;
use ticketsim::data::relationships::{load_relationship_pairs, Relation, RelationshipPair};
use ticketsim::device::DeviceChoice;
use ticketsim::native::{encoder_from_files, read_file, read_model_dir, resolve_model};
use ticketsim::provenance::{sha256_hex, DataRecord};
use ticketsim::SentenceEncoder;

/// The classifier commands.
#[derive(Subcommand, Debug)]
pub enum ClassifyCmd {
    /// Fit the classifier on all the data (C by inner cross-validation), write
    /// OUT/relationship_classifier/ with the k-fold report of the same settings.
    Train {
        #[command(flatten)]
        common: Common,
        /// Folder to write relationship_classifier/ into (e.g. the fine-tuned model's folder).
        #[arg(long)]
        out: PathBuf,
        /// Skip the k-fold report (faster; the classifier is the same).
        #[arg(long)]
        no_cv: bool,
    },
    /// Repeated stratified k-fold report of the classifier and the baselines (nothing is saved
    /// unless --out is given, which receives cv_report.json).
    Eval {
        #[command(flatten)]
        common: Common,
        /// Folder for cv_report.json.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Classify one pair: prints {"label", "probabilities"} as JSON.
    Predict {
        /// Model folder or cached name (the encoder the classifier was trained with).
        #[arg(long)]
        model: String,
        /// The first ticket (the cause, for "causal").
        #[arg(long)]
        a: String,
        /// The second ticket.
        #[arg(long)]
        b: String,
        /// Classifier folder [default: MODEL/relationship_classifier].
        #[arg(long)]
        classifier: Option<PathBuf>,
    },
}

/// Options shared by train and eval.
#[derive(ClapArgs, Debug)]
pub struct Common {
    /// Model folder or cached name whose embeddings the classifier reads.
    #[arg(long)]
    model: String,
    /// Relationship pairs (repeat to combine files, e.g. relationship_pairs.json and
    /// relationship_eval_pairs.json).
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Pair features, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "concat,diff,product,cosine"
    )]
    features: Vec<Feature>,
    /// Imbalance handling.
    #[arg(long, value_enum, default_value = "oversample")]
    balance: Balance,
    /// Candidate C values (inverse L2 strength), comma-separated; one value skips the inner CV.
    #[arg(long, default_value = "0.01,0.1,1")]
    c: String,
    /// Folds of the inner cross-validation that picks C.
    #[arg(long, default_value_t = 3)]
    inner_folds: usize,
    /// L-BFGS iterations per fit (on the sample data 30 iterations scored macro-F1 0.515 and 100
    /// scored 0.498: running to convergence overfits the rare classes, and costs time).
    #[arg(long, default_value_t = 50)]
    max_iterations: u64,
    /// Folds of the k-fold report.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Repetitions of the k-fold report.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Share of the data in the single stratified holdout split reported after the k-fold table
    /// (every class in validation); 0 leaves it out.
    #[arg(long, default_value_t = 0.2)]
    holdout_split: f64,
    /// Leave the MLP comparison head out of the reports (faster).
    #[arg(long)]
    no_mlp: bool,
    /// Classes with fewer examples are dropped (with a warning).
    #[arg(long, default_value_t = 5)]
    min_class_count: usize,
    /// Seed of the folds and the oversampling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Texts per forward pass of the encoder.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Fail on the first bad record instead of skipping bad records.
    #[arg(long)]
    strict: bool,
}

impl Common {
    fn config(&self) -> Result<CvConfig> {
        let features = FeatureConfig::from_parts(&self.features);
        let balance = self.balance;
        let c_grid = self
            .c
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|_| {
                anyhow::anyhow!(
                    "--c: expected numbers separated by commas, got `{}`",
                    self.c
                )
            })?;
        if c_grid.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
            bail!("--c: every value must be positive, got `{}`", self.c);
        }
        if self.folds < 2 {
            bail!("--folds must be at least 2");
        }
        if !(0.0..1.0).contains(&self.holdout_split) {
            bail!(
                "--holdout-split must be in [0, 1), got {}",
                self.holdout_split
            );
        }
        let mut cfg = CvConfig {
            folds: self.folds,
            repeats: self.repeats.max(1),
            min_class_count: self.min_class_count,
            seed: self.seed,
            holdout_split: self.holdout_split,
            ..CvConfig::default()
        };
        if self.no_mlp {
            cfg.mlp = None;
        }
        cfg.head.features = features;
        cfg.head.balance = balance;
        cfg.head.c_grid = c_grid;
        cfg.head.inner_folds = self.inner_folds;
        cfg.head.max_iterations = self.max_iterations;
        cfg.head.seed = self.seed;
        Ok(cfg)
    }

    /// Load every data file (before the model: data errors come first).
    fn load(&self) -> Result<(Vec<RelationshipPair>, Vec<DataRecord>)> {
        let mode = if self.strict {
            Mode::Strict
        } else {
            Mode::Skip
        };
        let mut pairs = Vec::new();
        let mut records = Vec::new();
        for path in &self.data {
            let bytes = read_file(path)?;
            let name = path.display().to_string();
            let loaded = load_relationship_pairs(&bytes, &name, mode)?;
            crate::common::print_load_report(&loaded.report);
            for n in &loaded.report.notes {
                eprintln!("note: {name}: {n}");
            }
            let n = loaded.records.len();
            records.push(
                DataRecord::new("train", &name, &bytes, n, n)
                    .with_skipped(loaded.report.skipped_total()),
            );
            pairs.extend(loaded.records);
        }
        Ok((pairs, records))
    }
}

/// The encoder and the sha256 of its weights, hashed from the bytes it was loaded from. The
/// encoder runs on `device`; the classifier itself (a few thousand rows) always fits on the CPU.
fn encoder(model: &str, device: DeviceChoice) -> Result<(SentenceEncoder, String)> {
    let dir = resolve_model(model);
    let files = read_model_dir(&dir)?;
    let enc = encoder_from_files(&dir, &files, &crate::common::open_device(device)?.device)?;
    Ok((enc, sha256_hex(&files.weights)))
}

fn embed(
    enc: &SentenceEncoder,
    pairs: &[RelationshipPair],
    batch: usize,
) -> Result<PairEmbeddings> {
    let t = Instant::now();
    let e = PairEmbeddings::encode(enc, pairs, batch)?;
    eprintln!(
        "encoded {} distinct texts of {} pairs in {:.1}s",
        e.embeddings.len(),
        pairs.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(e)
}

/// The k-fold table on stderr: mean ± std per class and the F1 averages, one block per model.
fn print_report(r: &CvReport) {
    let cfg = &r.config;
    eprintln!(
        "{} examples, {} folds × {} repeats (stratified); {} folds missing a class they should hold",
        r.examples,
        cfg.folds,
        cfg.repeats,
        r.folds_missing_a_class
    );
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    let ms = |m: ticketsim::classify::cv::MeanStd| format!("{:.3} ± {:.3}", m.mean, m.std);
    for m in &r.models {
        eprintln!("\n{}", m.name);
        eprintln!(
            "  {:<10} {:>15} {:>15} {:>15} {:>8}",
            "class", "precision", "recall", "F1", "support"
        );
        for c in &m.classes {
            eprintln!(
                "  {:<10} {:>15} {:>15} {:>15} {:>8}",
                c.relation.name(),
                ms(c.precision),
                ms(c.recall),
                ms(c.f1),
                c.support
            );
        }
        eprintln!(
            "  micro-F1 {}   macro-F1 {}   weighted-F1 {}",
            ms(m.micro_f1),
            ms(m.macro_f1),
            ms(m.weighted_f1)
        );
    }
    if let Some(h) = &r.holdout {
        eprintln!(
            "\nstratified holdout: {} train / {} validation (validation per class: {}); {} classes missing from validation",
            h.train,
            h.eval,
            Relation::ALL
                .iter()
                .zip(&h.eval_support)
                .map(|(r, n)| format!("{} {n}", r.name()))
                .collect::<Vec<_>>()
                .join(", "),
            h.classes_missing.len()
        );
        eprintln!(
            "  {:<22} {:>8} {:>8} {:>8}   F1: {}",
            "model",
            "micro",
            "macro",
            "weighted",
            Relation::ALL
                .iter()
                .map(|r| format!("{:>9}", r.name()))
                .collect::<String>()
        );
        for m in &h.models {
            eprintln!(
                "  {:<22} {:>8.3} {:>8.3} {:>8.3}       {}",
                m.name,
                m.report.micro_f1,
                m.report.macro_f1,
                m.report.weighted_f1,
                m.report
                    .classes
                    .iter()
                    .map(|c| format!("{:>9.3}", c.f1))
                    .collect::<String>()
            );
        }
    }
}

fn summary(r: &CvReport) -> serde_json::Value {
    json!({
        "examples": r.examples,
        "dropped": r.dropped,
        "folds_missing_a_class": r.folds_missing_a_class,
        "models": r.models.iter().map(|m| json!({
            "name": m.name,
            "macro_f1": m.macro_f1,
            "micro_f1": m.micro_f1,
            "weighted_f1": m.weighted_f1,
        })).collect::<Vec<_>>(),
        "holdout": r.holdout.as_ref().map(|h| json!({
            "train": h.train,
            "eval": h.eval,
            "classes_missing": h.classes_missing,
            "models": h.models.iter().map(|m| json!({
                "name": m.name,
                "macro_f1": m.report.macro_f1,
                "micro_f1": m.report.micro_f1,
            })).collect::<Vec<_>>(),
        })),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

fn confusion_svg(r: &CvReport) -> Result<String> {
    let labels: Vec<&str> = Relation::ALL.iter().map(|r| r.name()).collect();
    let m = &r.models[0];
    Ok(ticketsim::eval::charts::to_svg(760, 500, |area| {
        ticketsim::eval::charts::confusion_matrix_chart(
            area,
            &m.confusion,
            &labels,
            &format!(
                "{}: confusion summed over {} folds",
                m.name,
                r.config.folds * r.config.repeats
            ),
        )
    })?)
}

/// Run a classify command.
pub fn run(cmd: ClassifyCmd, device: DeviceChoice) -> Result<()> {
    match cmd {
        ClassifyCmd::Eval { common, out } => {
            let cfg = common.config()?;
            let (pairs, _) = common.load()?;
            let (enc, _) = encoder(&common.model, device)?;
            let emb = embed(&enc, &pairs, common.batch_size)?;
            let t = Instant::now();
            let report = cross_validate(&emb.examples(&pairs), &cfg)?;
            eprintln!("cross-validated in {:.1}s", t.elapsed().as_secs_f64());
            print_report(&report);
            if let Some(out) = out {
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("{}: cannot create", out.display()))?;
                write(
                    &out.join("cv_report.json"),
                    &serde_json::to_vec_pretty(&report)?,
                )?;
                write(
                    &out.join("confusion_matrix.svg"),
                    confusion_svg(&report)?.as_bytes(),
                )?;
            }
            println!("{}", summary(&report));
            Ok(())
        }
        ClassifyCmd::Train { common, out, no_cv } => {
            let cfg = common.config()?;
            let (pairs, data) = common.load()?;
            if out.is_file() {
                bail!("{}: --out is a file, not a folder", out.display());
            }
            let (enc, sha) = encoder(&common.model, device)?;
            let emb = embed(&enc, &pairs, common.batch_size)?;
            let examples = emb.examples(&pairs);
            let report = if no_cv {
                None
            } else {
                let t = Instant::now();
                let r = cross_validate(&examples, &cfg)?;
                eprintln!("cross-validated in {:.1}s", t.elapsed().as_secs_f64());
                print_report(&r);
                Some(r)
            };
            // The final head: every example of the kept classes.
            let t = Instant::now();
            let art = ClassifierArtifact::train(&examples, &cfg, &common.model, &sha, data)?;
            for (r, n) in &art.dropped {
                eprintln!(
                    "warning: class {} dropped: {n} example(s), fewer than --min-class-count {}",
                    r.name(),
                    cfg.min_class_count
                );
            }
            eprintln!(
                "fitted the classifier (C = {}) in {:.1}s",
                art.head.c,
                t.elapsed().as_secs_f64()
            );
            let dir = out.join(artifact::DIR);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
            write(&dir.join(artifact::FILE), &art.to_json()?)?;
            if let Some(r) = &report {
                write(&dir.join("metrics.json"), &serde_json::to_vec_pretty(r)?)?;
                write(
                    &dir.join("confusion_matrix.svg"),
                    confusion_svg(r)?.as_bytes(),
                )?;
            }
            let mut s = report.as_ref().map(summary).unwrap_or_else(|| json!({}));
            s["classifier"] = json!(dir.join(artifact::FILE).display().to_string());
            s["c"] = json!(art.head.c);
            println!("{s}");
            Ok(())
        }
        ClassifyCmd::Predict {
            model,
            a,
            b,
            classifier,
        } => {
            let dir = classifier.unwrap_or_else(|| resolve_model(&model).join(artifact::DIR));
            let file = dir.join(artifact::FILE);
            let art =
                ClassifierArtifact::from_json(&read_file(&file)?, &file.display().to_string())?;
            let (enc, sha) = encoder(&model, device)?;
            if sha != art.encoder_sha256 {
                eprintln!(
                    "warning: {} was trained on another encoder ({}); its predictions on this one's embeddings are not meaningful",
                    file.display(),
                    art.encoder
                );
            }
            let e = enc.encode(&[a.as_str(), b.as_str()], 2)?;
            let p = art.head.probabilities(&e[0], &e[1]);
            let best = art.head.predict(&e[0], &e[1]);
            let probs: serde_json::Map<String, serde_json::Value> = art
                .labels
                .iter()
                .zip(&p)
                .map(|(l, v)| (l.clone(), json!(v)))
                .collect();
            let out = json!({"label": best.name(), "probabilities": probs, "cosine": ticketsim::cosine(&e[0], &e[1])});
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{out}")?;
            Ok(())
        }
    }
}
