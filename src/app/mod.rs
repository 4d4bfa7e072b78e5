//! The web app (Leptos, client-side rendered): eight steps in tabs — model, data, labelling,
//! fine-tuning, evaluation, relationship classifier, similarity demo, export. The page holds the
//! state in signals ([`state::Ctx`]) and draws the charts; every computation with a model runs
//! in the Web Worker ([`crate::worker`]). Every value a test reads carries a `data-testid`; ticket
//! text is always rendered as text, never as HTML.
//!
//! Imports: everything below it — the protocol (to talk to the worker), the data layer (parsing and
//! labelling run on the page), the evaluation module's charts and reports, the training module's
//! configuration, session data selection and metadata, the classifier's result types, provenance and
//! the browser edge ([`crate::web`]). Never the worker's code itself, only its messages.

mod backlog;
mod chart;
mod classify;
mod data;
mod demo;
mod dropzone;
mod evaluate;
mod export;
pub mod glue;
mod label;
mod model;
pub mod state;
mod train;
pub mod worker_client;

use leptos::prelude::*;
use leptos::task::spawn_local;

use state::{Ctx, Panel};

/// Where the app serves the default model from (copied into the bundle by Trunk).
pub const DEFAULT_MODEL_URL: &str = "./models/minilm";
/// Where the sample data is served from (data/ of the repository, copied by Trunk).
pub const SAMPLE_DATA_URL: &str = "./data";

/// Mount the app on `<body>`.
pub fn main() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}

/// Root component: the step tabs and the panel shown.
#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    ctx.start_worker(model::reload);
    // Labels and dropped files survive a reload (IndexedDB); the default model comes from the
    // browser's cache after the first visit.
    spawn_local(async move {
        label::restore(ctx).await;
        data::restore(ctx).await;
    });
    model::load_default(ctx);
    test_hooks(ctx);
    // The service worker (www/sw.js): a newer build that waits, and whether this one opens offline.
    let update_ready = RwSignal::new(None::<String>);
    let offline_ready = RwSignal::new(false);
    glue::on_update_ready(move |build| update_ready.set(Some(build)));
    glue::on_offline_ready(move || offline_ready.set(true));
    let build = glue::build_version().unwrap_or_else(|| "dev".into());

    let tab = move |p: Panel| {
        let done = move || match p {
            Panel::Model => ctx.base.with(|b| b.is_some()),
            Panel::Data => ctx.files.with(|f| !f.is_empty()),
            Panel::Label => ctx.labels.with(|l| !l.is_empty()),
            Panel::Train => ctx.tuned.with(|t| t.is_some()),
            Panel::Classify => ctx.classifier.with(|c| c.is_some()),
            _ => false,
        };
        view! {
            <button
                class="tab"
                class:active=move || ctx.panel.get() == p
                class:done=done
                data-testid=format!("tab-{}", p.id())
                on:click=move |_| ctx.panel.set(p)
            >
                {p.title()}
            </button>
        }
    };
    view! {
        <header>
            <h1>"ticketsim"</h1>
            <p class="tagline">
                "Fine-tune and evaluate ticket-similarity models in your browser. Nothing leaves this machine."
            </p>
            <nav>{Panel::ALL.iter().map(|&p| tab(p)).collect_view()}</nav>
        </header>
        <Show when=move || update_ready.with(|u| u.is_some())>
            <p class="update" data-testid="update-ready">
                {move || format!(
                    "A newer version of ticketsim (build {}) is ready. Reload to use it (a fine-tuning run that is going would stop: let it end first). ",
                    update_ready.get().unwrap_or_default()
                )}
                <button data-testid="update-apply" on:click=move |_| glue::apply_update()>"Reload to update"</button>
            </p>
        </Show>
        <Show when=move || ctx.worker_error.with(|e| e.is_some())>
            <p class="error" data-testid="worker-error">
                {move || ctx.worker_error.get().unwrap_or_default()}
                <button on:click=move |_| ctx.worker_error.set(None)>"dismiss"</button>
            </p>
        </Show>
        <main>
            // Every panel stays mounted (hidden when not shown) so a running step — a fine-tuning
            // run, a half-typed demo — survives switching tabs.
            {Panel::ALL.iter().map(|&p| view! {
                <section class="panel" data-testid=format!("panel-{}", p.id()) hidden=move || ctx.panel.get() != p>
                    {panel_body(p)}
                </section>
            }).collect_view()}
        </main>
        <footer>
            <span data-testid="build">{format!("ticketsim {} · build {build}", env!("CARGO_PKG_VERSION"))}</span>
            <span data-testid="offline-ready">
                {move || if offline_ready.get() { " · available offline: this version is kept in the browser" } else { "" }}
            </span>
        </footer>
    }
}

/// With `?test-hooks` in the address, `window.ticketsimTest.crashWorker(pool)` makes the worker
/// run out of memory ([`crate::protocol::Request::Crash`]: a real allocation failure) so the
/// browser tests can check what a user sees then, and that the run's best checkpoint survives. No control of the page
/// sends it, and without the parameter it does not exist.
fn test_hooks(ctx: Ctx) {
    use wasm_bindgen::prelude::*;
    let Some(window) = web_sys::window() else {
        return;
    };
    if !window
        .location()
        .search()
        .is_ok_and(|q| q.contains("test-hooks"))
    {
        return;
    }
    let crash = Closure::<dyn Fn(bool)>::new(move |pool: bool| {
        if let Some(w) = ctx.client() {
            w.send(&crate::protocol::Request::Crash { pool });
        }
    });
    let hooks = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&hooks, &"crashWorker".into(), crash.as_ref());
    let _ = js_sys::Reflect::set(&window, &"ticketsimTest".into(), &hooks);
    // The page lives as long as the hook.
    crash.forget();
}

/// The component of a step.
fn panel_body(p: Panel) -> AnyView {
    match p {
        Panel::Model => view! { <model::ModelPanel /> }.into_any(),
        Panel::Data => view! { <data::DataPanel /> }.into_any(),
        Panel::Label => view! { <label::LabelPanel /> }.into_any(),
        Panel::Train => view! { <train::TrainPanel /> }.into_any(),
        Panel::Evaluate => view! { <evaluate::EvaluatePanel /> }.into_any(),
        Panel::Classify => view! { <classify::ClassifyPanel /> }.into_any(),
        Panel::Demo => view! { <demo::DemoPanel /> }.into_any(),
        Panel::Export => view! { <export::ExportPanel /> }.into_any(),
    }
}

/// A "this step needs X first" line with a button that goes there.
#[component]
fn Needs(
    /// What is missing, e.g. "a model".
    what: &'static str,
    /// The panel that provides it.
    go: Panel,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <p class="needs" data-testid=format!("needs-{}", go.id())>
            {format!("This step needs {what}. ")}
            <button on:click=move |_| ctx.panel.set(go)>{format!("Go to {}", go.title())}</button>
        </p>
    }
}
