//! Helpers every subcommand shares: opening the `--device`, loading a model onto it with a line on
//! stderr, and printing a loader's skip report. Imports only the library.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

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

/// Write through a temporary name and rename, so a reader never sees half a file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Read an incident file and link files (id_a, id_b[, label]) into a retrieval set: the corpus,
/// and the queries of every link kind. Load reports and link notes go to stderr.
pub fn load_retrieval_set(
    incidents: &Path,
    links: &[PathBuf],
    mode: ticketsim::data::load::Mode,
) -> Result<ticketsim::eval::retrieval::RetrievalSet> {
    use ticketsim::native::read_file;
    let name = incidents.display().to_string();
    let loaded = ticketsim::data::incidents::load_incidents(&read_file(incidents)?, &name, mode)?;
    print_load_report(&loaded.report);
    let mut all = Vec::new();
    for path in links {
        let l = ticketsim::data::links::load_links(
            &read_file(path)?,
            &path.display().to_string(),
            mode,
        )?;
        print_load_report(&l.report);
        for n in &l.report.notes {
            eprintln!("{}: {n}", path.display());
        }
        all.extend(l.records);
    }
    ticketsim::eval::retrieval::retrieval_set(&loaded.records, &all).with_context(|| name)
}

/// `--strict` as the loaders' mode.
pub fn mode(strict: bool) -> ticketsim::data::load::Mode {
    if strict {
        ticketsim::data::load::Mode::Strict
    } else {
        ticketsim::data::load::Mode::Skip
    }
}

/// Refuse an `--out` that exists and is not a folder (before anything slow runs).
pub fn check_out_dir(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        anyhow::bail!("{}: --out must be a folder, this is a file", out.display());
    }
    Ok(())
}

/// The inputs `retrieve` and `group` share: the models to compare and an incident file with its
/// links.
#[derive(clap::Args, Debug)]
pub struct IncidentInputs {
    /// Model folder or cached name (minilm, mpnet); repeat to compare, e.g. the base model and a
    /// fine-tuned one.
    #[arg(long = "model", required = true)]
    pub models: Vec<String>,
    /// Incident export (CSV/TSV, JSON, JSON Lines); its duplicate_of / caused_by links say which
    /// incidents are the same problem.
    #[arg(long)]
    pub incidents: PathBuf,
    /// Extra duplicate links by id (id_a, id_b[, label]; e.g. GitBugs' pairs-test.json);
    /// repeatable.
    #[arg(long = "links")]
    pub links: Vec<PathBuf>,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Fail on the first bad record instead of skipping bad records.
    #[arg(long)]
    pub strict: bool,
}

/// The process's clock and memory for the run driver ([`ticketsim::train::session::Host`]).
pub struct Native(pub std::time::Instant);

impl ticketsim::train::session::Host for Native {
    fn now_seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
    fn peak_memory_bytes(&self) -> Option<u64> {
        ticketsim::native::peak_memory_bytes()
    }
}
