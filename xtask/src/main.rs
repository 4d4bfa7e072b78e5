//! `xtask`: developer tasks of the repository that are not part of the shipped `ticketsim` binary.
//! Run from anywhere in the workspace as `cargo run --release -p xtask -- <task>` (or
//! `cargo xtask <task>`, an alias in `.cargo/config.toml`). JSON results go to stdout; on error it
//! prints one line naming the cause and exits with status 1.

mod catalogue;
mod sample_data;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Command line of `xtask`.
#[derive(Parser, Debug)]
#[command(name = "xtask", about = "Developer tasks of the ticketsim repository")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

/// The tasks.
#[derive(Subcommand, Debug)]
enum Task {
    /// Write the synthetic ITSM sample incidents (data/incidents.csv) from their seed.
    SampleData(sample_data::SampleDataArgs),
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Task::SampleData(args) => sample_data::run(args),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
