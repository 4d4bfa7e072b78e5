//! `ticketsim`: the native command-line tool. JSON results go to stdout, progress and logs to stderr;
//! on error it prints one line naming the cause and exits with status 1.
//!
//! One file per subcommand (`train.rs`, `eval.rs`, …); `cli.rs` holds the clap definitions and the
//! dispatch, `common.rs` what several subcommands share (loading a model, printing a load report).
//! Imports: the library's public API and `ticketsim::native` for files; no subcommand imports
//! another.

#[cfg(not(target_arch = "wasm32"))]
mod bench;
#[cfg(not(target_arch = "wasm32"))]
mod classify;
#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod common;
#[cfg(not(target_arch = "wasm32"))]
mod embed;
#[cfg(not(target_arch = "wasm32"))]
mod eval;
#[cfg(not(target_arch = "wasm32"))]
mod group;
#[cfg(not(target_arch = "wasm32"))]
mod model;
#[cfg(not(target_arch = "wasm32"))]
mod pairs;
#[cfg(not(target_arch = "wasm32"))]
mod quality;
#[cfg(not(target_arch = "wasm32"))]
mod retrieve;
#[cfg(not(target_arch = "wasm32"))]
mod sts;
#[cfg(not(target_arch = "wasm32"))]
mod train;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = cli::run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

// The web app's wasm build compiles every bin target; the CLI has nothing to do there.
#[cfg(target_arch = "wasm32")]
fn main() {}
