//! `ticketsim eval` (in progress).

use anyhow::{bail, Result};
use clap::Args as ClapArgs;

/// Arguments of `ticketsim eval`.
#[derive(ClapArgs, Debug)]
pub struct EvalArgs {}

/// Run the command.
pub fn run(_args: EvalArgs) -> Result<()> {
    bail!("not implemented yet")
}
