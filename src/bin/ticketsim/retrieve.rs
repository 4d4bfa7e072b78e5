//! `ticketsim retrieve`: "which other tickets are this one?" measured over a whole incident file —
//! recall@k, MRR and MAP of each model's cosine, BM25 and their hybrid — as metrics.json and one
//! recall@k chart per link kind in `--out`; the tables on stderr, a JSON summary on stdout.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;

use ticketsim::data::pairs::load_training_pairs;
use ticketsim::device::DeviceChoice;
use ticketsim::eval::charts;
use ticketsim::eval::report::CHART_SIZE;
use ticketsim::eval::retrieval::{retrieval_report, RetrievalReport};
use ticketsim::native::read_file;

/// Arguments of `ticketsim retrieve`.
#[derive(ClapArgs, Debug)]
pub struct RetrieveArgs {
    #[command(flatten)]
    inputs: crate::common::IncidentInputs,
    /// Training pairs the models were fine-tuned on; repeatable. Only queries whose text and links
    /// appear in none of them are measured.
    #[arg(long = "train-pairs")]
    train_pairs: Vec<PathBuf>,
    /// Longest ranking measured (recall@1..k in metrics.json and the chart).
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Folder for metrics.json and the charts (created if missing).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed of the hybrid's two query halves.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Run the command.
pub fn run(args: RetrieveArgs, device: DeviceChoice) -> Result<()> {
    let t_total = Instant::now();
    if args.k == 0 || args.inputs.batch_size == 0 {
        bail!("--k and --batch-size must be at least 1");
    }
    if let Some(out) = &args.out {
        crate::common::check_out_dir(out)?;
    }
    let mode = crate::common::mode(args.inputs.strict);
    // Every input is read and checked before the (slower) model loads.
    let name = args.inputs.incidents.display().to_string();
    let set = crate::common::load_retrieval_set(&args.inputs.incidents, &args.inputs.links, mode)?;
    let mut trained: Vec<String> = Vec::new();
    for path in &args.train_pairs {
        let p = load_training_pairs(&read_file(path)?, &path.display().to_string(), mode)?;
        trained.extend(p.records.into_iter().flat_map(|p| [p.a, p.b]));
    }
    if !set.has_queries() {
        bail!(
            "{name}: no links — {}",
            ticketsim::eval::retrieval::NO_LINKS_HELP
        );
    }

    let dev = crate::common::open_device(device)?;
    let mut embeddings = Vec::new();
    for m in &args.inputs.models {
        let (enc, _) = crate::common::load_on(m, &dev)?;
        let t = Instant::now();
        embeddings.push(enc.encode(&set.texts, args.inputs.batch_size)?);
        eprintln!(
            "{m}: encoded {} incidents in {:.2}s",
            set.texts.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let models: Vec<(&str, &[Vec<f32>])> = args
        .inputs
        .models
        .iter()
        .map(String::as_str)
        .zip(embeddings.iter().map(Vec::as_slice))
        .collect();
    let t = Instant::now();
    let trained_refs: Vec<&str> = trained.iter().map(String::as_str).collect();
    let report = retrieval_report(
        &set,
        (!args.train_pairs.is_empty()).then_some(trained_refs.as_slice()),
        &models,
        args.k,
        args.seed,
    );
    eprintln!("ranked in {:.2}s", t.elapsed().as_secs_f64());
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    for (kind, dropped) in &report.dropped_as_trained {
        eprintln!(
            "{}: {dropped} quer{} left out (trained on)",
            kind.name(),
            if *dropped == 1 { "y" } else { "ies" }
        );
    }
    for t in &report.tables {
        eprintln!("\n{}", t.markdown());
    }
    let files = match &args.out {
        Some(out) => write_outputs(out, &args, &name, &report)?,
        None => Vec::new(),
    };
    println!(
        "{}",
        json!({
            "incidents": name,
            "corpus": report.corpus,
            "tables": report.tables.iter().map(|t| json!({
                "kind": t.kind,
                "queries": t.queries,
                "rows": t.rows.iter().map(|r| json!({
                    "method": r.method,
                    "recall@1": r.metrics.recall(1),
                    "recall@5": r.metrics.recall(5),
                    "recall@10": r.metrics.recall(10),
                    "mrr": r.metrics.mrr,
                    "map": r.metrics.map,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "dropped_as_trained": report.dropped_as_trained,
            "files": files,
            "seconds": t_total.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

fn write_outputs(
    out: &std::path::Path,
    args: &RetrieveArgs,
    name: &str,
    report: &RetrievalReport,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let mut files = Vec::new();
    let metrics = json!({
        "ticketsim_version": env!("CARGO_PKG_VERSION"),
        "incidents": name,
        "links": args.inputs.links,
        "train_pairs": args.train_pairs,
        "models": args.inputs.models,
        "k": args.k,
        "seed": args.seed,
        "report": report,
    });
    let path = out.join("metrics.json");
    crate::common::write_file(&path, &serde_json::to_vec_pretty(&metrics)?)?;
    files.push(path);
    let (w, h) = CHART_SIZE;
    for t in &report.tables {
        let series: Vec<(&str, &[f64])> = t
            .rows
            .iter()
            .map(|r| (r.method.as_str(), r.metrics.recall_at.as_slice()))
            .collect();
        let title = format!("recall@k, {} links ({} queries)", t.kind.name(), t.queries);
        let svg = charts::to_svg(w, h, |area| {
            charts::recall_at_k_chart(area, &series, &title)
        })?;
        let path = out.join(format!("recall_at_k_{}.svg", t.kind.name()));
        crate::common::write_file(&path, svg.as_bytes())?;
        files.push(path);
    }
    Ok(files)
}
