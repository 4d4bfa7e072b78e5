//! `ticketsim bench`: encode throughput and fine-tuning throughput against the Python library's
//! reference figures, and the native half of the browser workload (`make bench-web`).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

use ticketsim::data::pairs::parse_sts;
use ticketsim::data::pairs::TrainPair;
use ticketsim::device::DeviceChoice;
use ticketsim::native::{read_file, resolve_model, KNOWN_MODELS};
use ticketsim::train::config::TrainConfig;
use ticketsim::train::trainer::Trainer;
use ticketsim::SentenceEncoder;

use crate::common::{load_on, open_device};
use crate::sts::sts_eval;

/// `bench workload`: the browser-vs-native workload of `src/bench.rs` on this machine, one JSON line.
pub fn workload(model: &str, sts: &Path, device: DeviceChoice) -> Result<()> {
    let files = ticketsim::native::read_model_dir(&resolve_model(model))?;
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

pub fn bench_embed(
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

/// `bench train`: the reference recipe's throughput and dev quality. On a GPU it also reports the
/// peak memory tensors held during training (the pool's high-water mark, comparable to PyTorch's
/// `max_memory_allocated`).
pub fn bench_train(
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
        let m = sts_eval(enc, &dev, 32)?;
        Ok(Some((
            m.pearson.unwrap_or(f64::NAN),
            m.spearman.unwrap_or(f64::NAN),
        )))
    };
    let train: Vec<TrainPair> = all.into_iter().take(n).collect();
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

/// `bench group`: group `n` synthetic embeddings of `dim` dimensions (planted clusters of 2–6
/// near-copies of a random direction, 40% of the points, the rest unrelated) and print the time,
/// the peak memory and the scores against the planted clusters, one JSON line.
pub fn bench_group(n: usize, dim: usize, threshold: f32, seed: u64) -> Result<()> {
    use ticketsim::eval::groups::{group, score_groups, GroupConfig};
    use ticketsim::rng::Rng;
    if n < 2 || dim < 2 {
        bail!("--n and --dim must be at least 2");
    }
    let mut rng = Rng::new(seed);
    let direction =
        |rng: &mut Rng| -> Vec<f32> { (0..dim).map(|_| rng.normal() as f32).collect::<Vec<f32>>() };
    let (mut emb, mut truth) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut cluster = 0usize;
    while emb.len() < n {
        if rng.next_f64() < 0.4 {
            // A duplicate cluster: copies with noise of norm about 0.3 of the centre's.
            let centre = direction(&mut rng);
            let noise = 0.3;
            for _ in 0..(2 + rng.below(5)).min(n - emb.len()) {
                let e: Vec<f32> = centre
                    .iter()
                    .map(|&c| c + (noise * rng.normal()) as f32)
                    .collect();
                emb.push(e);
                truth.push(cluster);
            }
        } else {
            emb.push(direction(&mut rng));
            truth.push(cluster);
        }
        cluster += 1;
    }
    let cfg = GroupConfig {
        threshold,
        ..GroupConfig::default()
    };
    let before = ticketsim::native::peak_memory_bytes();
    let t = Instant::now();
    let g = group(&emb, &cfg, &mut |_, _| ())?;
    let seconds = t.elapsed().as_secs_f64();
    let s = score_groups(&g.assignment, &truth)?;
    let mut sizes = std::collections::HashMap::new();
    for &c in &truth {
        *sizes.entry(c).or_insert(0usize) += 1;
    }
    let planted = sizes.values().filter(|&&s| s >= 2).count();
    println!(
        "{}",
        json!({
            "n": n,
            "dim": dim,
            "threshold": threshold,
            "group_seconds": seconds,
            "threads": ticketsim::parallel::data_threads(),
            "peak_memory_mb_before": before.map(|b| b as f64 / 1048576.0),
            "peak_memory_mb": ticketsim::native::peak_memory_bytes().map(|b| b as f64 / 1048576.0),
            "embeddings_mb": (n * dim * 4) as f64 / 1048576.0,
            "groups": g.groups.len(),
            "grouped": g.grouped(),
            "planted_clusters_of_2_plus": planted,
            "scores": s,
        })
    );
    Ok(())
}
