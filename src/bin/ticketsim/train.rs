//! `ticketsim train`: the fine-tuning run with progress on stderr, the best checkpoint kept in the
//! output folder as it is found, `training_metadata.json` rewritten after every evaluation (so a
//! killed run still says what it did), and a JSON summary on stdout.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;

use ticketsim::data::load::Mode;
use ticketsim::data::pairs::load_training_pairs;
use ticketsim::device::DeviceChoice;
use ticketsim::model::Precision;
use ticketsim::native::{
    encoder_from_files, load_encoder, peak_memory_bytes, read_file, read_model_dir, resolve_model,
    save_model_dir_atomic,
};
use ticketsim::train::eval::evaluate;
use ticketsim::train::fit::{split_eval, EpochMetrics, Fit, FitEvent, StopReason};
use ticketsim::train::metadata::{
    sha256_hex, BaseModel, DataRecord, EpochRecord, TrainingMetadata,
};
use ticketsim::train::trainer::{validate_pairs, LossKind, TrainConfig, TrainPair};

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
    /// Linear warmup steps [default: 100].
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
    /// cosine (CosineSimilarityLoss on labelled pairs) or mnrl (MultipleNegativesRankingLoss on the
    /// positives) [default: cosine].
    #[arg(long)]
    loss: Option<String>,
    /// Evaluations without improvement before stopping; 0 never stops early [default: 3].
    #[arg(long)]
    patience: Option<usize>,
    /// Matrix products in f32, or bf16 / f16 autocast with f32 master weights (for GPUs; evaluation
    /// stays f32) [default: f32].
    #[arg(long)]
    precision: Option<Precision>,
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
             precision => precision);
        if let Some(r) = self.warmup_ratio {
            cfg.warmup_ratio = Some(r);
        }
        if let Some(l) = &self.loss {
            cfg.loss = match l.as_str() {
                "cosine" => LossKind::Cosine,
                "mnrl" => LossKind::Mnrl,
                other => bail!("--loss: unknown loss `{other}` (cosine or mnrl)"),
            };
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

/// A one-line progress bar with ETA on a terminal; a line every ~5% otherwise (logs, CI).
struct Progress {
    total: usize,
    start: Instant,
    tty: bool,
    last_draw: Option<Instant>,
    last_line_step: usize,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            last_draw: None,
            last_line_step: 0,
        }
    }

    fn step(&mut self, step: usize, epoch: usize, epochs: usize, loss: f64) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = elapsed / step.max(1) as f64 * (self.total - step.min(self.total)) as f64;
        let line = format!(
            "epoch {}/{epochs} step {step}/{} loss {loss:.4} {:.1} steps/min ETA {}",
            epoch + 1,
            self.total,
            step as f64 / elapsed.max(1e-9) * 60.0,
            clock(eta)
        );
        if self.tty {
            if self
                .last_draw
                .is_some_and(|t| t.elapsed().as_millis() < 100 && step < self.total)
            {
                return;
            }
            self.last_draw = Some(Instant::now());
            let width = 30;
            let done = width * step / self.total.max(1);
            eprint!(
                "\r[{}{}] {line}\x1b[K",
                "#".repeat(done),
                "-".repeat(width - done)
            );
            let _ = std::io::stderr().flush();
        } else if step == self.total || step >= self.last_line_step + (self.total / 20).max(1) {
            self.last_line_step = step;
            eprintln!("{line}");
        }
    }

    /// Print a message on its own line (after the bar, if one is drawn).
    fn say(&self, msg: &str) {
        if self.tty && self.last_draw.is_some() {
            eprint!("\r\x1b[K");
        }
        eprintln!("{msg}");
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
    crate::cli::print_load_report(&loaded.report);
    let skipped = loaded.report.skipped_total();
    Ok((bytes, loaded.records, skipped))
}

fn metrics_line(m: &EpochMetrics) -> String {
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

/// Run `ticketsim train`.
pub fn train(args: TrainArgs, device: DeviceChoice) -> Result<()> {
    let t_total = Instant::now();
    let cfg = args.config()?;
    let data_name = args.data.display().to_string();
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Skip
    };
    let (data_bytes, all, data_skipped) = load_pairs(&args.data, mode)?;
    // Data errors before the (slower) model load, with record numbers of the whole file.
    validate_pairs(&all, &cfg, &data_name)?;
    let (train, eval, eval_record) = match &args.eval_data {
        Some(p) => {
            let (bytes, eval, skipped) = load_pairs(p, mode)?;
            let rec = DataRecord::new(
                "eval",
                &p.display().to_string(),
                &bytes,
                eval.len(),
                eval.len(),
            )
            .with_skipped(skipped);
            (all.clone(), eval, rec)
        }
        None => {
            let (train, eval) = split_eval(&all, cfg.eval_split, cfg.seed, &data_name)?;
            let rec = DataRecord::new("eval", &data_name, &data_bytes, all.len(), eval.len())
                .with_skipped(data_skipped);
            (train, eval, rec)
        }
    };
    let test = match &args.test_data {
        Some(p) => {
            let (bytes, pairs, skipped) = load_pairs(p, mode)?;
            Some((p.display().to_string(), (bytes, pairs), skipped))
        }
        None => None,
    };
    let mut data = vec![
        DataRecord::new("train", &data_name, &data_bytes, all.len(), train.len())
            .with_skipped(data_skipped),
        eval_record,
    ];
    if let Some((name, (bytes, pairs), skipped)) = &test {
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
    let dev = crate::cli::open_device(device)?;
    let t = Instant::now();
    let files = read_model_dir(&model_dir)?;
    let weights_sha256 = sha256_hex(&files.weights);
    let mut enc = encoder_from_files(&model_dir, &files, &dev.device)?;
    drop(files);
    enc.set_max_seq_length(cfg.max_seq_length)?;
    let base = BaseModel {
        source: args.model.clone(),
        weights_sha256,
        info: enc.info(),
    };
    eprintln!(
        "loaded {} on {} in {:.2}s; {} train / {} eval pairs{}",
        model_dir.display(),
        dev.label,
        t.elapsed().as_secs_f64(),
        train.len(),
        eval.len(),
        test.as_ref()
            .map_or(String::new(), |(_, (_, p), _)| format!(
                " / {} test pairs",
                p.len()
            ))
    );
    let test_before = match &test {
        Some((_, (_, pairs), _)) => Some(evaluate(&enc, pairs)?),
        None => None,
    };

    let mut fit = Fit::new(&enc, &train, eval, cfg.clone(), &data_name)?;
    // Only a run that has passed every check creates the output folder.
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    install_interrupt_handler();
    let total_steps = fit.trainer().total_steps();
    let mut progress = Progress::new(total_steps);
    let mut records: Vec<EpochRecord> = Vec::new();
    let mut train_seconds = 0.0;
    let mut epoch_train = 0.0;
    let mut platform = TrainingMetadata::platform(threads());
    platform.insert("device".into(), dev.label.clone());
    ticketsim::device::reset_peak_memory(&dev.device);
    let write_metadata = |records: &[EpochRecord], fit: &Fit, reason: StopReason| -> Result<()> {
        let meta = TrainingMetadata {
            ticketsim_version: env!("CARGO_PKG_VERSION").to_string(),
            dependencies: ticketsim::train::metadata::dependency_versions(),
            platform: platform.clone(),
            base_model: base.clone(),
            config: cfg.clone(),
            data: data.clone(),
            epochs: records.to_vec(),
            best_epoch: fit.best().map(|b| b.epoch),
            steps: fit.trainer().steps_done(),
            stop_reason: reason,
            total_seconds: t_total.elapsed().as_secs_f64(),
            peak_memory_bytes: peak_memory_bytes(),
            finished_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let path = out.join("training_metadata.json");
        let tmp = out.join(".training_metadata.json.partial");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&meta)?)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .with_context(|| format!("{}: cannot write", path.display()))
    };
    while !fit.finished() {
        if INTERRUPTS.load(Ordering::SeqCst) > 0 {
            break;
        }
        let t_event = Instant::now();
        match fit.advance()? {
            FitEvent::Step(r) => {
                epoch_train += t_event.elapsed().as_secs_f64();
                progress.step(r.step, r.epoch, cfg.epochs, r.loss);
            }
            FitEvent::Evaluated { metrics, improved } => {
                let eval_seconds = t_event.elapsed().as_secs_f64();
                progress.say(&format!(
                    "{}{}",
                    metrics_line(&metrics),
                    if improved { " *best" } else { "" }
                ));
                if improved {
                    save_model_dir_atomic(&enc, out)?;
                }
                train_seconds += epoch_train;
                records.push(EpochRecord {
                    metrics,
                    train_seconds: std::mem::take(&mut epoch_train),
                    eval_seconds,
                });
                write_metadata(&records, &fit, fit.stop_reason())?;
            }
        }
    }
    let reason = if INTERRUPTS.load(Ordering::SeqCst) > 0 && !fit.finished() {
        StopReason::Interrupted
    } else {
        fit.stop_reason()
    };
    if reason == StopReason::EarlyStopping {
        progress.say(&format!(
            "early stopping: no improvement in {} evaluations",
            cfg.early_stopping_patience
        ));
    }
    // The test figure is measured on the model as saved, reloaded from disk: what a user gets.
    let test_after = match &test {
        Some((_, (_, pairs), _)) => {
            let saved = load_encoder(out, &dev.device)?;
            Some(evaluate(&saved, pairs)?)
        }
        None => None,
    };
    write_metadata(&records, &fit, reason)?;
    let best = fit.best().cloned();
    let steps = fit.trainer().steps_done();
    let pairs_per_second = if train_seconds > 0.0 {
        // Steps × batch size overstates the last partial batch; count the pairs each epoch holds.
        let epochs_done = steps as f64 / (total_steps as f64 / cfg.epochs as f64);
        fit.trainer().pairs() as f64 * epochs_done / train_seconds
    } else {
        0.0
    };
    let summary = json!({
        "output": out,
        "stop_reason": reason,
        "best_epoch": best.as_ref().map(|b| b.epoch),
        "best_eval": best.as_ref().map(|b| &b.eval),
        "epochs": records.iter().map(|r| json!({
            "epoch": r.metrics.epoch, "spearman": r.metrics.eval.spearman,
            "pearson": r.metrics.eval.pearson, "roc_auc": r.metrics.eval.roc_auc,
            "train_loss": r.metrics.train_loss, "train_seconds": r.train_seconds,
        })).collect::<Vec<_>>(),
        "steps": steps,
        "train_pairs": train.len(),
        "eval_pairs": fit.eval_pairs().len(),
        "train_seconds": train_seconds,
        "pairs_per_second": pairs_per_second,
        "test_before": test_before,
        "test_after": test_after,
        "seconds": t_total.elapsed().as_secs_f64(),
        "config": cfg,
    });
    println!("{summary}");
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
