//! `ticketsim sts`: zero-shot STS evaluation — Pearson and Spearman of the cosine against the gold
//! score (sentence-transformers' EmbeddingSimilarityEvaluator, [`ticketsim::eval::similarity`]).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use ticketsim::data::pairs::parse_sts;
use ticketsim::data::pairs::TrainPair;
use ticketsim::device::DeviceChoice;
use ticketsim::eval::similarity::{pair_cosines, similarity_metrics, EvalMetrics};
use ticketsim::native::read_file;
use ticketsim::SentenceEncoder;

use crate::common::load;

/// Run `ticketsim sts`.
pub fn sts(model: &str, data: &Path, batch_size: usize, device: DeviceChoice) -> Result<()> {
    let pairs = parse_sts(&read_file(data)?, &data.display().to_string())?;
    let enc = load(model, device)?;
    let t = Instant::now();
    let m = sts_eval(&enc, &pairs, batch_size)?;
    eprintln!(
        "encoded {} sentences in {:.2}s",
        2 * pairs.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "{}",
        json!({ "pairs": pairs.len(), "pearson": m.pearson, "spearman": m.spearman })
    );
    Ok(())
}

/// The similarity figures of an encoder on STS pairs (labels = score / 5; Pearson and Spearman do
/// not change under that scaling).
pub fn sts_eval(
    enc: &SentenceEncoder,
    pairs: &[TrainPair],
    batch_size: usize,
) -> Result<EvalMetrics> {
    let texts: Vec<(&str, &str)> = pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
    let sims = pair_cosines(enc, &texts, batch_size)?;
    let gold: Vec<f64> = pairs.iter().map(|p| p.label as f64).collect();
    Ok(similarity_metrics(&gold, &sims)?)
}
