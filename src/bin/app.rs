//! The web app's entry point (built by Trunk for wasm32).
//!
//! Imports: `ticketsim::app` only.

#[cfg(target_arch = "wasm32")]
fn main() {
    ticketsim::app::main();
}

// Native builds compile every bin target; the app only exists in the browser.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
