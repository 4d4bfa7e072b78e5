//! `ticketsim sample_data` (in progress).

use anyhow::{bail, Result};
use clap::Args as ClapArgs;

/// Arguments of `ticketsim sample_data`.
#[derive(ClapArgs, Debug)]
pub struct SampleDataArgs {}

/// Run the command.
pub fn run(_args: SampleDataArgs) -> Result<()> {
    bail!("not implemented yet")
}
