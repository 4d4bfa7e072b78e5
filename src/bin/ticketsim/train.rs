//! `ticketsim train`: the fine-tuning run with progress on stderr, the best checkpoint kept in the
//! output folder as it is found, `training_metadata.json` rewritten after every evaluation (so a
//! killed run still says what it did), and a JSON summary on stdout.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use ticketsim::data::load::Mode;
use ticketsim::data::pairs::{load_training_pairs, TrainPair};
use ticketsim::device::DeviceChoice;
use ticketsim::eval::retrieval::{retrieval_report, NO_LINKS_HELP};
use ticketsim::eval::similarity::evaluate;
use ticketsim::model::Precision;
use ticketsim::native::{
    encoder_from_files, load_encoder, read_file, read_model_dir, resolve_model, save_files_atomic,
};
use ticketsim::provenance::{sha256_hex, DataRecord};
use ticketsim::train::config::validate_pairs;
use ticketsim::train::config::TrainConfig;
use ticketsim::train::loss::LossKind;
use ticketsim::train::metadata::{BaseModel, EpochRecord, StopReason, TrainingMetadata};
use ticketsim::train::recipe::{Preset, Recipe};
use ticketsim::train::session::{select_data, Event, RunInfo, Session};

use crate::common::Native;

/// Arguments of `ticketsim train`. Every hyper-parameter flag overrides the config file, which
/// overrides the defaults (the seeds' v3 recipe).
#[derive(ClapArgs, Debug)]
pub struct TrainArgs {
    /// Training pairs: training_pairs.json, a JSON/JSONL list of labelled pairs, or an STS TSV.
    #[arg(long)]
    data: PathBuf,
    /// Separate evaluation pairs (otherwise --eval-split of --data is held out).
    #[arg(long)]
    eval_data: Option<PathBuf>,
    /// Held-out test pairs: evaluated with the base model and with the kept checkpoint, never used
    /// to choose anything.
    #[arg(long)]
    test_data: Option<PathBuf>,
    /// Held-out retrieval test: an incident file with duplicate_of / caused_by links. Retrieval
    /// (recall@k, MRR, MAP; BM25 alongside) is measured with the base model and the kept
    /// checkpoint on the queries whose texts appear in no train or eval pair.
    #[arg(long)]
    test_incidents: Option<PathBuf>,
    /// Extra duplicate links for --test-incidents (id_a, id_b[, label]); repeatable.
    #[arg(long = "test-links", requires = "test_incidents")]
    test_links: Vec<PathBuf>,
    /// Base model: a sentence-transformers folder, or minilm / mpnet from the cache.
    #[arg(long, default_value = "minilm")]
    model: String,
    /// Output folder for the fine-tuned model and training_metadata.json.
    #[arg(long)]
    output: PathBuf,
    /// Replace an existing non-empty output folder's model files.
    #[arg(long)]
    overwrite: bool,
    /// Fail on the first bad record of a data file instead of skipping bad records.
    #[arg(long)]
    strict: bool,
    /// Config file (JSON or TOML) with any TrainConfig keys.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Epochs [default: 12].
    #[arg(long)]
    epochs: Option<usize>,
    /// Pairs per step [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate [default: 2e-5].
    #[arg(long)]
    lr: Option<f64>,
    /// Linear warmup steps [default: 100 for v3; the other recipes warm up over 10 % of the steps].
    #[arg(long)]
    warmup_steps: Option<usize>,
    /// Warmup as a share of all steps (replaces --warmup-steps).
    #[arg(long)]
    warmup_ratio: Option<f64>,
    /// Share held out for evaluation when --eval-data is absent [default: 0.2].
    #[arg(long)]
    eval_split: Option<f64>,
    /// Truncation length in tokens [default: 256].
    #[arg(long)]
    max_seq_length: Option<usize>,
    /// Seed for the split, shuffling and dropout [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// What to train on and with which loss: v3 (the seeds: CosineSimilarityLoss on the 0/1
    /// labels), cosent (CoSENT on the same labels), mnrl (duplicates ranked above the batch and a
    /// hard negative), graded (CoSENT on duplicate > same fix > causal > negative), combined (mnrl +
    /// graded), duplicates (CoSENT on duplicates vs negatives) [default: the config's, else mnrl —
    /// the recipe the held-out quality benchmark recommends; README "Which recipe"].
    #[arg(long, value_enum)]
    recipe: Option<Preset>,
    /// Train this loss on the labels as given: cosine (CosineSimilarityLoss), mnrl
    /// (MultipleNegativesRankingLoss on the positives) or cosent (CoSENTLoss).
    #[arg(long, value_enum)]
    loss: Option<LossKind>,
    /// Evaluations without improvement before stopping; 0 never stops early [default: 3].
    #[arg(long)]
    patience: Option<usize>,
    /// Matrix products in f32, or bf16 / f16 autocast with f32 master weights (for GPUs; evaluation
    /// stays f32) [default: f32].
    #[arg(long)]
    precision: Option<Precision>,
    /// Activation memory a shard of a batch may plan for on the CPU, in MiB: lower runs a batch in
    /// more, smaller shards (slower, less memory; the dropout draws change with it) [default: 128].
    #[arg(long)]
    shard_memory_mib: Option<usize>,
}

impl TrainArgs {
    /// Defaults ← config file ← flags.
    fn config(&self) -> Result<TrainConfig> {
        let mut cfg = match &self.config {
            Some(p) => TrainConfig::from_bytes(&read_file(p)?, &p.display().to_string())?,
            None => TrainConfig::default(),
        };
        macro_rules! set {
            ($($flag:ident => $field:ident),*) => {$(
                if let Some(v) = self.$flag.clone() { cfg.$field = v; }
            )*};
        }
        set!(epochs => epochs, batch_size => batch_size, lr => learning_rate,
             warmup_steps => warmup_steps, eval_split => eval_split,
             max_seq_length => max_seq_length, seed => seed, patience => early_stopping_patience,
             precision => precision, shard_memory_mib => shard_memory_mib);
        if self.loss.is_some() && self.recipe.is_some() {
            bail!(
                "--recipe and --loss cannot be used together: a recipe chooses its losses; --loss \
                 trains one loss on the labels as given"
            );
        }
        if let Some(loss) = self.loss {
            // One loss on the labels as given: the seeds' setup with another loss, their warmup.
            cfg.recipe = Recipe::Labels;
            cfg.loss = loss;
            cfg.warmup_ratio = None;
        }
        if let Some(p) = self.recipe {
            cfg.set_preset(p);
        }
        // A warmup given in steps on the command line is what the user wants, whatever the
        // recipe's share would be; a share given too still wins (as in the config).
        if self.warmup_steps.is_some() {
            cfg.warmup_ratio = None;
        }
        if let Some(r) = self.warmup_ratio {
            cfg.warmup_ratio = Some(r);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Set by the Ctrl-C handler: 1 = stop after the current step, 2 = the user insists, quit now.
static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

fn install_interrupt_handler() {
    let res = ctrlc::set_handler(|| {
        if INTERRUPTS.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!(
                "\ninterrupted again: exiting without waiting (the best checkpoint is on disk)"
            );
            std::process::exit(130);
        }
        eprintln!("\ninterrupt: stopping after this step; the best checkpoint so far is kept (Ctrl-C again to quit now)");
    });
    if let Err(e) = res {
        eprintln!("warning: cannot install the Ctrl-C handler ({e}); Ctrl-C will kill the run");
    }
}

/// The progress bar: drawn in place with ETA on a terminal; on a pipe (logs, CI) indicatif draws
/// nothing, so a line is printed every ~5% of the steps instead.
struct Progress {
    bar: ProgressBar,
    tty: bool,
    last_line_step: usize,
}

impl Progress {
    fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("[{bar:30}] {msg}")
                .expect("a valid template")
                .progress_chars("#-"),
        );
        Progress {
            tty: !bar.is_hidden(),
            bar,
            last_line_step: 0,
        }
    }

    fn step(
        &mut self,
        r: &ticketsim::train::trainer::StepReport,
        epochs: usize,
        p: &ticketsim::train::session::Progress,
    ) {
        let line = format!(
            "epoch {}/{epochs} step {}/{} loss {:.4} {:.1} steps/min ETA {}",
            r.epoch + 1,
            r.step,
            r.total_steps,
            r.loss,
            r.step as f64 / p.elapsed_seconds.max(1e-9) * 60.0,
            clock(p.eta_seconds)
        );
        if self.tty {
            self.bar.set_position(r.step as u64);
            self.bar.set_message(line);
        } else if r.step == r.total_steps
            || r.step >= self.last_line_step + (r.total_steps / 20).max(1)
        {
            self.last_line_step = r.step;
            eprintln!("{line}");
        }
    }

    /// Print a message on its own line (above the bar, if one is drawn).
    fn say(&self, msg: &str) {
        if self.tty {
            self.bar.println(msg);
        } else {
            eprintln!("{msg}");
        }
    }
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// A pairs file's bytes (for the metadata's hash), its pairs and how many bad records were skipped
/// (printed with reasons).
fn load_pairs(path: &Path, mode: Mode) -> Result<(Vec<u8>, Vec<TrainPair>, usize)> {
    let bytes = read_file(path)?;
    let loaded = load_training_pairs(&bytes, &path.display().to_string(), mode)?;
    crate::common::print_load_report(&loaded.report);
    let skipped = loaded.report.skipped_total();
    Ok((bytes, loaded.records, skipped))
}

fn metrics_line(r: &EpochRecord) -> String {
    let m = &r.metrics;
    let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    format!(
        "epoch {} eval: spearman {} pearson {}{} (train loss {})",
        m.epoch,
        f(m.eval.spearman),
        f(m.eval.pearson),
        m.eval
            .roc_auc
            .map_or(String::new(), |a| format!(" roc_auc {a:.4}")),
        f(m.train_loss)
    )
}

/// Write `training_metadata.json` into `out` through a temporary name and a rename.
fn write_metadata(out: &Path, meta: &TrainingMetadata) -> Result<()> {
    let path = out.join("training_metadata.json");
    let tmp = out.join(".training_metadata.json.partial");
    std::fs::write(&tmp, serde_json::to_vec_pretty(meta)?)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Run `ticketsim train`.
pub fn train(args: TrainArgs, device: DeviceChoice) -> Result<()> {
    let host = Native(Instant::now());
    let cfg = args.config()?;
    let data_name = args.data.display().to_string();
    let mode = crate::common::mode(args.strict);
    let (data_bytes, all, data_skipped) = load_pairs(&args.data, mode)?;
    // Data errors before the (slower) model load, with record numbers of the whole file.
    validate_pairs(&all, &cfg, &data_name)?;
    let eval_file = match &args.eval_data {
        Some(p) => Some((p.display().to_string(), load_pairs(p, mode)?)),
        None => None,
    };
    let all_len = all.len();
    let (train, eval) = select_data(
        all,
        eval_file.as_ref().map(|(_, (_, pairs, _))| pairs.clone()),
        &cfg,
        0,
        &data_name,
    )?;
    let eval_record = match &eval_file {
        Some((name, (bytes, pairs, skipped))) => {
            DataRecord::new("eval", name, bytes, pairs.len(), pairs.len()).with_skipped(*skipped)
        }
        None => DataRecord::new("eval", &data_name, &data_bytes, all_len, eval.len())
            .with_skipped(data_skipped),
    };
    let test = match &args.test_data {
        Some(p) => Some((p.display().to_string(), load_pairs(p, mode)?)),
        None => None,
    };
    let retrieval_set = match &args.test_incidents {
        Some(p) => {
            let set = crate::common::load_retrieval_set(p, &args.test_links, mode)?;
            if !set.has_queries() {
                bail!("{}: no links — {NO_LINKS_HELP}", p.display());
            }
            Some(set)
        }
        None => None,
    };
    let mut data = vec![
        DataRecord::new("train", &data_name, &data_bytes, all_len, train.len())
            .with_skipped(data_skipped),
        eval_record,
    ];
    if let Some((name, (bytes, pairs, skipped))) = &test {
        data.push(
            DataRecord::new("test", name, bytes, pairs.len(), pairs.len()).with_skipped(*skipped),
        );
    }

    // The output folder must not silently replace someone's model.
    let out = &args.output;
    if out.is_file() {
        bail!(
            "{}: --output must be a folder, this is a file",
            out.display()
        );
    }
    if out.is_dir()
        && std::fs::read_dir(out)
            .with_context(|| format!("{}: cannot read", out.display()))?
            .next()
            .is_some()
        && !args.overwrite
    {
        bail!(
            "{}: output folder is not empty (pass --overwrite to replace the model in it)",
            out.display()
        );
    }

    let model_dir = resolve_model(&args.model);
    let dev = crate::common::open_device(device)?;
    let t = Instant::now();
    let files = read_model_dir(&model_dir)?;
    let weights_sha256 = sha256_hex(&files.weights);
    let mut enc = encoder_from_files(&model_dir, &files, &dev.device)?;
    drop(files);
    enc.set_max_seq_length(cfg.max_seq_length)?;
    let base_model = BaseModel {
        source: args.model.clone(),
        weights_sha256,
        info: enc.info(),
    };
    eprintln!(
        "loaded {} on {} in {:.2}s; recipe {}; {} train / {} eval pairs{}",
        model_dir.display(),
        dev.label,
        t.elapsed().as_secs_f64(),
        cfg.preset()
            .map_or_else(|| format!("labels with {}", cfg.loss), |p| p.to_string()),
        train.len(),
        eval.len(),
        test.as_ref()
            .map_or(String::new(), |(_, (_, p, _))| format!(
                " / {} test pairs",
                p.len()
            ))
    );
    let test_before = match &test {
        Some((_, (_, pairs, _))) => Some(evaluate(&enc, pairs)?),
        None => None,
    };
    let base_embeddings = match &retrieval_set {
        Some(set) => Some(enc.encode(&set.texts, 32)?),
        None => None,
    };

    let mut platform = ticketsim::provenance::platform(threads());
    platform.insert("device".into(), dev.label.clone());
    let info = RunInfo {
        platform,
        base_model,
        data,
        started: 0.0,
    };
    ticketsim::device::reset_peak_memory(&dev.device);
    let interrupted = || INTERRUPTS.load(Ordering::SeqCst) > 0;
    let mut run = Session::new(
        &enc,
        &train,
        eval,
        cfg.clone(),
        &data_name,
        info,
        &host,
        interrupted,
    )?;
    for n in run.trainer().notes() {
        eprintln!("note: {n}");
    }
    // Only a run that has passed every check creates the output folder.
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    install_interrupt_handler();
    let mut progress = Progress::new(run.trainer().total_steps());
    while let Some(event) = run.advance()? {
        match event {
            Event::Step {
                report,
                progress: p,
            } => progress.step(&report, cfg.epochs, &p),
            Event::Evaluated { record, improved } => {
                progress.say(&format!(
                    "{}{}",
                    metrics_line(&record),
                    if improved { " *best" } else { "" }
                ));
                if improved {
                    let files = run
                        .best_checkpoint()
                        .expect("an improvement keeps its files");
                    save_files_atomic(files, out)?;
                }
                write_metadata(out, &run.metadata())?;
            }
        }
    }
    progress.bar.finish_and_clear();
    let reason = run.stop_reason();
    if reason == StopReason::EarlyStopping {
        progress.say(&format!(
            "early stopping: no improvement in {} evaluations",
            cfg.early_stopping_patience
        ));
    }
    // The test figure is measured on the model as saved, reloaded from disk: what a user gets.
    let test_after = match &test {
        Some((_, (_, pairs, _))) => {
            let saved = load_encoder(out, &dev.device)?;
            Some(evaluate(&saved, pairs)?)
        }
        None => None,
    };
    let retrieval = match (&retrieval_set, &base_embeddings) {
        (Some(set), Some(before)) => {
            let saved = load_encoder(out, &dev.device)?;
            let after = saved.encode(&set.texts, 32)?;
            // Queries whose texts were trained on or chose the checkpoint do not count.
            let seen: Vec<&str> = train
                .iter()
                .chain(run.eval_pairs())
                .flat_map(|p| [p.a.as_str(), p.b.as_str()])
                .collect();
            let report = retrieval_report(
                set,
                Some(&seen),
                &[("base", before), ("fine-tuned", &after)],
                10,
                cfg.seed,
            );
            for n in &report.notes {
                progress.say(&format!("retrieval: {n}"));
            }
            for t in &report.tables {
                progress.say(&t.markdown());
            }
            Some(report)
        }
        _ => None,
    };
    let meta = run.metadata();
    write_metadata(out, &meta)?;
    let best = run.best();
    let summary = json!({
        "output": out,
        "stop_reason": reason,
        "best_epoch": best.map(|b| b.metrics.epoch),
        "best_eval": best.map(|b| &b.metrics.eval),
        "epochs": run.history().iter().map(|r| json!({
            "epoch": r.metrics.epoch, "spearman": r.metrics.eval.spearman,
            "pearson": r.metrics.eval.pearson, "roc_auc": r.metrics.eval.roc_auc,
            "train_loss": r.metrics.train_loss, "train_seconds": r.train_seconds,
        })).collect::<Vec<_>>(),
        "steps": run.trainer().steps_done(),
        "train_pairs": train.len(),
        "eval_pairs": run.eval_pairs().len(),
        "train_seconds": run.train_seconds(),
        "pairs_per_second": run.pairs_per_second(),
        "test_before": test_before,
        "test_after": test_after,
        "retrieval": retrieval,
        "seconds": meta.total_seconds,
        "recipe": cfg.preset(),
        "config": cfg,
    });
    println!("{summary}");
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
