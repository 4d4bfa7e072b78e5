//! `ticketsim model`: fetch the pretrained models into the cache, describe a model folder.

use anyhow::{bail, Context, Result};
use serde_json::json;

use ticketsim::device::DeviceChoice;
use ticketsim::native::{resolve_model, KNOWN_MODELS};

use crate::common::load;

/// The fetch script is embedded so the installed binary needs no checkout.
const FETCH_SCRIPT: &str = include_str!("../../../scripts/fetch-model.sh");

pub fn fetch(name: &str) -> Result<()> {
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

/// `model info`: the model's architecture, dimensions and parameter count as JSON.
pub fn info(model: &str, device: DeviceChoice) -> Result<()> {
    let enc = load(model, device)?;
    println!("{}", serde_json::to_string(&enc.info())?);
    Ok(())
}
