//! The web app's Web Worker entry point (built by Trunk as a worker for wasm32).
//!
//! Imports: `ticketsim::worker` only.

#[cfg(target_arch = "wasm32")]
fn main() {
    ticketsim::worker::main();
}

// Native builds compile every bin target; the worker only exists in the browser.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
