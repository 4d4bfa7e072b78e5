//! `ticketsim pairs` (in progress).

use anyhow::{bail, Result};
use clap::Args as ClapArgs;

/// Arguments of `ticketsim pairs`.
#[derive(ClapArgs, Debug)]
pub struct PairsArgs {}

/// Run the command.
pub fn run(_args: PairsArgs) -> Result<()> {
    bail!("not implemented yet")
}
