//! The web app (Leptos, client-side rendered). For now: load the bundled all-MiniLM-L6-v2 in wasm
//! and compare two texts. Every value a test reads carries a `data-testid`.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::web::{load_encoder, now_ms};
use crate::{cosine, SentenceEncoder};

/// Where the app serves the default model from (copied into the bundle by Trunk).
pub const DEFAULT_MODEL_URL: &str = "./models/minilm";

/// Mount the app on `<body>`.
pub fn main() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}

/// Root component.
#[component]
pub fn App() -> impl IntoView {
    let model: RwSignal<Option<Rc<SentenceEncoder>>, LocalStorage> = RwSignal::new_local(None);
    let (status, set_status) = signal(String::from("Loading all-MiniLM-L6-v2…"));
    spawn_local(async move {
        let t0 = now_ms();
        match load_encoder(DEFAULT_MODEL_URL).await {
            Ok(enc) => {
                let i = enc.info();
                set_status.set(format!(
                    "all-MiniLM-L6-v2 ready: {} with {} layers, dimension {}, {:.1}M parameters, max {} tokens, loaded in {:.0} ms",
                    i.model_type,
                    i.layers,
                    i.embedding_dim,
                    i.parameters as f64 / 1e6,
                    i.max_seq_length,
                    now_ms() - t0
                ));
                model.set(Some(Rc::new(enc)));
            }
            Err(e) => set_status.set(format!("Could not load the model: {e}")),
        }
    });
    view! {
        <main>
            <h1>"ticketsim"</h1>
            <p data-testid="model-status">{status}</p>
            <SimilarityDemo model=model.read_only() />
        </main>
    }
}

/// Two text boxes and their cosine similarity.
#[component]
fn SimilarityDemo(model: ReadSignal<Option<Rc<SentenceEncoder>>, LocalStorage>) -> impl IntoView {
    let (a, set_a) = signal(String::from("Outlook keeps crashing when I open it"));
    let (b, set_b) = signal(String::from("Email client crashes on startup"));
    let (result, set_result) = signal(String::new());
    let compare = move |_| {
        let Some(enc) = model.get() else { return };
        let t0 = now_ms();
        let texts = [a.get(), b.get()];
        match enc.encode(&texts, 2) {
            Ok(e) => set_result.set(format!(
                "cosine similarity {:.4} ({:.0} ms)",
                cosine(&e[0], &e[1]),
                now_ms() - t0
            )),
            Err(e) => set_result.set(format!("error: {e}")),
        }
    };
    view! {
        <section>
            <h2>"Similarity"</h2>
            <textarea data-testid="text-a" prop:value=a on:input=move |ev| set_a.set(event_target_value(&ev)) />
            <textarea data-testid="text-b" prop:value=b on:input=move |ev| set_b.set(event_target_value(&ev)) />
            <button data-testid="compare" on:click=compare disabled=move || model.with(|m| m.is_none())>
                "Compare"
            </button>
            <p data-testid="similarity">{result}</p>
        </section>
    }
}
