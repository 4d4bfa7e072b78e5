//! `ticketsim bench quality`: every recipe trained on the seeded training side of an incident file
//! and measured on its held-out side, next to the base model and BM25 (`ticketsim::bench::quality`
//! does the work; this reads the files, writes the JSON and prints the table).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;

use ticketsim::bench::quality::{
    recommend, run_quality, QualityConfig, QualityReport, Round, MIN_MRR_GAIN,
};
use ticketsim::data::incidents::load_incidents;
use ticketsim::data::links::{apply_links, load_links};
use ticketsim::device::DeviceChoice;
use ticketsim::native::{read_file, read_model_dir, resolve_model};
use ticketsim::provenance::sha256_hex;
use ticketsim::train::config::TrainConfig;
use ticketsim::train::metadata::BaseModel;
use ticketsim::train::recipe::Preset;
use ticketsim::train::session::RunInfo;

use crate::common::{print_load_report, write_file, Native};

/// Arguments of `ticketsim bench quality`.
#[derive(ClapArgs, Debug)]
pub struct QualityArgs {
    /// Incident export with duplicate_of / caused_by links (CSV/TSV, JSON, JSON Lines).
    #[arg(long)]
    incidents: PathBuf,
    /// Extra duplicate links by id (id_a, id_b[, label]; e.g. GitBugs' pairs-*.json); repeatable.
    #[arg(long = "links")]
    links: Vec<PathBuf>,
    /// Base model: a sentence-transformers folder, or minilm / mpnet from the cache.
    #[arg(long, default_value = "minilm")]
    model: String,
    /// Recipes to compare; repeatable [default: all].
    #[arg(long = "recipe", value_enum)]
    recipes: Vec<Preset>,
    /// Seeds: one split and one run of every recipe per seed.
    #[arg(long, value_delimiter = ',', default_value = "42,43,44")]
    seeds: Vec<u64>,
    /// Config file (JSON or TOML) with TrainConfig keys shared by every recipe.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Epochs [default: the config's, 12].
    #[arg(long)]
    epochs: Option<usize>,
    /// Truncation length in tokens [default: the config's, 256].
    #[arg(long)]
    max_seq_length: Option<usize>,
    /// Evaluations without improvement before stopping [default: the config's, 3].
    #[arg(long)]
    patience: Option<usize>,
    /// The report (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Keep the rounds already in `--out` (a stopped or shorter run of the same settings, model
    /// and incidents) and run only the seeds it lacks.
    #[arg(long)]
    resume: bool,
    /// Fail on the first bad record instead of skipping bad records.
    #[arg(long)]
    strict: bool,
}

/// The rounds of an earlier report at `out` that this run can keep, and its recipes: same
/// incidents file, model, training and pair settings (seeds and recipes aside). A report that
/// does not match is an error, not silently overwritten.
fn earlier_rounds(
    out: &Path,
    name: &str,
    model: &str,
    cfg: &QualityConfig,
) -> Result<(Vec<Round>, Vec<Preset>)> {
    if !out.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let v: serde_json::Value = serde_json::from_slice(&read_file(out)?)
        .with_context(|| format!("{}: not JSON (--resume reads it)", out.display()))?;
    let report: QualityReport = serde_json::from_value(v["report"].clone())
        .with_context(|| format!("{}: not a bench quality report", out.display()))?;
    if v["incidents_file"].as_str() != Some(name) {
        bail!(
            "{}: a report on {} — --resume needs the same --incidents ({name})",
            out.display(),
            v["incidents_file"]
        );
    }
    // Reports written before partial ones named their model say nothing of it: not a mismatch.
    if let Some(m) = v["model"].as_str().filter(|m| *m != model) {
        bail!("{}: a report of model {m}, not {model}", out.display());
    }
    if !cfg.same_run(&report.config) {
        bail!(
            "{}: made with other settings (training or pair config) — --resume keeps rounds of \
             the same settings only; use another --out",
            out.display()
        );
    }
    Ok((report.rounds, report.config.presets))
}

/// Run the benchmark; the table goes to stderr, the report to `--out`.
pub fn run(args: QualityArgs, device: DeviceChoice) -> Result<()> {
    let mode = crate::common::mode(args.strict);
    let name = args.incidents.display().to_string();
    let loaded = load_incidents(&read_file(&args.incidents)?, &name, mode)?;
    print_load_report(&loaded.report);
    let mut incidents = loaded.records;
    for path in &args.links {
        let l = load_links(&read_file(path)?, &path.display().to_string(), mode)?;
        print_load_report(&l.report);
        let added = apply_links(&mut incidents, &l.records);
        eprintln!(
            "{}: {added} of {} links added as duplicate_of",
            path.display(),
            l.records.len()
        );
    }
    let mut train = match &args.config {
        Some(p) => TrainConfig::from_bytes(&read_file(p)?, &p.display().to_string())?,
        None => TrainConfig::default(),
    };
    if let Some(e) = args.epochs {
        train.epochs = e;
    }
    if let Some(n) = args.max_seq_length {
        train.max_seq_length = n;
    }
    if let Some(p) = args.patience {
        train.early_stopping_patience = p;
    }
    train.validate()?;
    let cfg = QualityConfig {
        presets: if args.recipes.is_empty() {
            Preset::ALL.to_vec()
        } else {
            args.recipes.clone()
        },
        seeds: args.seeds.clone(),
        train,
        ..QualityConfig::default()
    };
    let model_dir = resolve_model(&args.model);
    let files = read_model_dir(&model_dir)?;
    let dev = crate::common::open_device(device)?;
    let base = ticketsim::SentenceEncoder::load(&files, &dev.device)?;
    let mut platform = ticketsim::provenance::platform(
        std::thread::available_parallelism().map_or(1, |n| n.get()),
    );
    platform.insert("device".into(), dev.label.clone());
    let info = RunInfo {
        platform,
        base_model: BaseModel {
            source: args.model.clone(),
            weights_sha256: sha256_hex(&files.weights),
            info: base.info(),
        },
        data: Vec::new(),
        started: 0.0,
    };
    drop(base);
    let host = Native(Instant::now());
    let mut cfg = cfg;
    let done = if args.resume {
        let (rounds, presets) = earlier_rounds(&args.out, &name, &args.model, &cfg)?;
        eprintln!(
            "{}: {} earlier round(s) kept (seeds {:?})",
            args.out.display(),
            rounds.len(),
            rounds.iter().map(|r| r.seed).collect::<Vec<_>>()
        );
        // The report keeps every recipe and every seed it had; the ones asked for now are added.
        let asked = std::mem::replace(&mut cfg.presets, presets);
        for p in asked {
            if !cfg.presets.contains(&p) {
                cfg.presets.push(p);
            }
        }
        for r in &rounds {
            if !cfg.seeds.contains(&r.seed) {
                cfg.seeds.push(r.seed);
            }
        }
        rounds
    } else {
        Vec::new()
    };
    let report = run_quality(
        &incidents,
        &done,
        &files,
        &dev.device,
        &cfg,
        &info,
        &host,
        &mut |m: &str| eprintln!("[{:>6.0}s] {m}", host.0.elapsed().as_secs_f64()),
        &mut |so_far| {
            // The rounds done so far, so a long run that is stopped keeps them.
            let v = json!({
                "incidents_file": name, "model": args.model, "partial": true, "report": so_far,
            });
            if let Err(e) = write_file(&args.out, v.to_string().as_bytes()) {
                eprintln!("warning: {e:#}");
            }
        },
    )
    .with_context(|| name.clone())?;
    eprintln!(
        "\n{name}: held-out side, mean ± std over seeds {:?}\n",
        cfg.seeds
    );
    eprintln!("{}", report.markdown());
    let recommended = recommend(&[&report]);
    match recommended {
        Some((p, gain)) => eprintln!(
            "by the rule on this data (no lower pair AUC; duplicate MRR higher than base's by at \
             least {MIN_MRR_GAIN}, and in every round): {p} (+{gain:.3} MRR)"
        ),
        None => eprintln!(
            "by the rule on this data: no recipe beats the base model's duplicate MRR (by at least \
             {MIN_MRR_GAIN}, in every round) without lowering pair AUC"
        ),
    }
    let out = json!({
        "incidents_file": name,
        "links": args.links,
        "model": args.model,
        "device": dev.label,
        "report": report,
        "recommended_on_this_data": recommended.map(|(p, g)| json!({"recipe": p, "mrr_gain": g})),
    });
    write_file(&args.out, serde_json::to_string_pretty(&out)?.as_bytes())?;
    Ok(())
}

/// `ticketsim bench recommend`: the rule of [`recommend`] over the reports of `bench quality` on
/// several data sets (the default recipe is chosen on all of them at once).
pub fn recommend_from(reports: &[PathBuf]) -> Result<()> {
    let loaded = reports
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&read_file(p)?)
                .with_context(|| format!("{}: not JSON", p.display()))?;
            if v["partial"].as_bool() == Some(true) {
                eprintln!("{}: a partial report (a run that was stopped)", p.display());
            }
            serde_json::from_value::<QualityReport>(v["report"].clone())
                .with_context(|| format!("{}: not a bench quality report", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    // Each data set's table, as the README shows them.
    for (p, r) in reports.iter().zip(&loaded) {
        eprintln!(
            "{}: {} incidents, mean ± std over seeds {:?}\n\n{}",
            p.display(),
            r.incidents,
            r.rounds.iter().map(|r| r.seed).collect::<Vec<_>>(),
            r.markdown()
        );
    }
    let refs: Vec<&_> = loaded.iter().collect();
    let pick = recommend(&refs);
    println!(
        "{}",
        json!({
            "reports": reports,
            "recommended": pick.map(|(p, g)| json!({"recipe": p, "mean_mrr_gain": g})),
        })
    );
    Ok(())
}
