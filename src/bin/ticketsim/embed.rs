//! `ticketsim embed`: one JSON line `{"text", "embedding"}` per input text.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;

use ticketsim::data::parse_text_list;
use ticketsim::device::DeviceChoice;
use ticketsim::native::read_file;

use crate::common::load;

/// Run `ticketsim embed`.
pub fn embed(
    model: &str,
    input: Option<&Path>,
    batch_size: usize,
    device: DeviceChoice,
) -> Result<()> {
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
