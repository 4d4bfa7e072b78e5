//! `ticketsim eval`: a model's cosine similarity on labelled pairs, as metrics.json, one SVG per
//! chart and a self-contained report.html, all in the `--out` folder; a JSON summary on stdout.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde::Serialize;
use serde_json::json;

use ticketsim::data::load::LoadReport;
use ticketsim::data::pairs::load_training_pairs;
use ticketsim::device::DeviceChoice;
use ticketsim::eval::report::{
    evaluate_scores, report_charts, report_html, PairEvalReport, ReportContext,
};
use ticketsim::eval::similarity::pair_cosines;
use ticketsim::native::{load_encoder, read_file, resolve_model};

/// Arguments of `ticketsim eval`.
#[derive(ClapArgs, Debug)]
pub struct EvalArgs {
    /// Model folder (sentence-transformers format) or a cached name: minilm, mpnet.
    #[arg(long)]
    model: String,
    /// Labelled pairs in any training-pair format (training_pairs.json, a JSON/JSONL list, CSV/TSV
    /// with a header, an STS TSV); labels in [0, 1], a pair is positive when its label is ≥ 0.5.
    #[arg(long)]
    data: PathBuf,
    /// Folder for metrics.json, the SVG charts and report.html (created if missing; files in it
    /// with those names are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Also report the figures at this cosine threshold, and draw the confusion matrix at it
    /// (default: the best-F1 threshold).
    #[arg(long)]
    threshold: Option<f64>,
    /// Truncation length in tokens (default: the model's own).
    #[arg(long)]
    max_seq_length: Option<usize>,
    /// Fail on the first bad record of the data file instead of skipping bad records.
    #[arg(long)]
    strict: bool,
}

/// metrics.json: the report with what produced it.
#[derive(Serialize)]
struct MetricsFile<'a> {
    ticketsim_version: &'static str,
    model: &'a str,
    data: &'a str,
    max_seq_length: usize,
    /// What the loader read, kept and skipped.
    load: &'a LoadReport,
    #[serde(flatten)]
    report: &'a PairEvalReport,
    /// The cosine of each pair, in file order: enough to redraw or recompute everything.
    cosines: &'a [f64],
}

/// Run the command.
pub fn run(args: EvalArgs, device: DeviceChoice) -> Result<()> {
    let t_total = Instant::now();
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if let Some(t) = args.threshold {
        if !(-1.0..=1.0).contains(&t) {
            bail!("--threshold {t} is outside [-1, 1], the range of a cosine");
        }
    }
    let out = &args.out;
    crate::common::check_out_dir(out)?;
    // The data is checked before the (slower) model load.
    let data_name = args.data.display().to_string();
    let mode = crate::common::mode(args.strict);
    let loaded = load_training_pairs(&read_file(&args.data)?, &data_name, mode)?;
    crate::common::print_load_report(&loaded.report);
    let pairs = loaded.records;

    let model_dir = resolve_model(&args.model);
    let t = Instant::now();
    let mut enc = load_encoder(&model_dir, &crate::common::open_device(device)?.device)?;
    if let Some(n) = args.max_seq_length {
        enc.set_max_seq_length(n)?;
    }
    let max_seq_length = enc.info().max_seq_length;
    // The load summary comes after the model, so that a refused run prints its one error line only.
    eprintln!(
        "loaded {} in {:.2}s; {}",
        model_dir.display(),
        t.elapsed().as_secs_f64(),
        loaded.report.summary()
    );

    let t = Instant::now();
    let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
    let cosines = pair_cosines(&enc, &texts, args.batch_size)?;
    eprintln!(
        "encoded {} texts in {:.2}s",
        2 * pairs.len(),
        t.elapsed().as_secs_f64()
    );
    let labels: Vec<f32> = pairs.iter().map(|p| p.label).collect();
    let report =
        evaluate_scores(&labels, &cosines, args.threshold).with_context(|| data_name.clone())?;

    let charts = report_charts(&report, &args.model)?;
    let context = ReportContext {
        model: args.model.clone(),
        data: data_name.clone(),
        details: vec![
            ("model folder".into(), model_dir.display().to_string()),
            ("max_seq_length".into(), max_seq_length.to_string()),
            ("records".into(), loaded.report.summary()),
            ("ticketsim".into(), env!("CARGO_PKG_VERSION").into()),
        ],
    };
    let html = report_html(&report, &context, &charts);
    let metrics = MetricsFile {
        ticketsim_version: env!("CARGO_PKG_VERSION"),
        model: &args.model,
        data: &data_name,
        max_seq_length,
        load: &loaded.report,
        report: &report,
        cosines: &cosines,
    };

    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out.join(name);
        crate::common::write_file(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    write("metrics.json", &serde_json::to_vec_pretty(&metrics)?)?;
    for c in &charts {
        write(c.file, c.svg.as_bytes())?;
    }
    write("report.html", html.as_bytes())?;
    eprintln!(
        "wrote {} files to {} in {:.2}s",
        files.len(),
        out.display(),
        t_total.elapsed().as_secs_f64()
    );

    let best = report.best_f1.as_ref();
    println!(
        "{}",
        json!({
            "out": out,
            "pairs": report.pairs,
            "skipped": loaded.report.skipped_total(),
            "positives": report.positives,
            "negatives": report.negatives,
            "spearman": report.spearman,
            "pearson": report.pearson,
            "roc_auc": report.roc_auc,
            "average_precision": report.average_precision,
            "best_f1": best.map(|b| json!({"threshold": b.threshold, "f1": b.f1,
                "precision": b.precision, "recall": b.recall})),
            "at_threshold": report.at_threshold,
            "files": files,
            "seconds": t_total.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
