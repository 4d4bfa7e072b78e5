//! Helpers every subcommand shares: opening the `--device`, loading a model onto it with a line on
//! stderr, and printing a loader's skip report. Imports only the library.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use ticketsim::device::{DeviceChoice, Selected};
use ticketsim::native::{load_encoder, resolve_model};
use ticketsim::SentenceEncoder;

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

/// Open the device `--device` names; `auto` says on stderr which one it picked.
pub fn open_device(choice: DeviceChoice) -> Result<Selected> {
    let selected = ticketsim::device::select(choice)?;
    if let Some(note) = &selected.note {
        eprintln!("{note}");
    }
    Ok(selected)
}

pub fn load(model: &str, device: DeviceChoice) -> Result<SentenceEncoder> {
    Ok(load_on(model, &open_device(device)?)?.0)
}

/// Load a model onto an opened device; also returns the folder it came from.
pub fn load_on(model: &str, dev: &Selected) -> Result<(SentenceEncoder, PathBuf)> {
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
