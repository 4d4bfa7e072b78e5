//! Step 8: export. The fine-tuned model (or the base one when nothing was trained) as a zipped
//! sentence-transformers folder with `training_metadata.json` and `relationship_classifier/` —
//! which the native `ticketsim` loads and evaluates to the same numbers.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::glue;
use super::state::{Ctx, Panel};
use super::Needs;
use crate::protocol::{Request, Response};

/// The export panel.
#[component]
pub fn ExportPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let files: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let export = move |_| {
        let Some(w) = ctx.client() else { return };
        busy.set(true);
        status.set("Packing the model…".into());
        spawn_local(async move {
            match w.call(|id| Request::Export { id }).await {
                Ok(Response::Exported {
                    zip, files: names, ..
                }) => {
                    glue::save_as(&zip, "ticketsim-model.zip", "application/zip");
                    status.set(format!(
                        "ticketsim-model.zip: {} files, {:.1} MB. Unzip it and run `ticketsim eval --model ticketsim-model --data …`.",
                        names.len(),
                        zip.len() as f64 / (1 << 20) as f64
                    ));
                    files.set(names);
                }
                Ok(_) => status.set("unexpected answer".into()),
                Err(e) => status.set(e),
            }
            busy.set(false);
        });
    };
    view! {
        <h2>"Export"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        <Show when=move || ctx.base.with(|b| b.is_some()) && ctx.tuned.with(|t| t.is_none())>
            <p class="needs">"Nothing is fine-tuned yet: the export holds the loaded model as it is. "
                <button on:click=move |_| ctx.panel.set(Panel::Train)>"Go to 4 Fine-tune"</button></p>
        </Show>
        <p>
            "Downloads a zip of a sentence-transformers folder (config.json, model.safetensors, tokenizer.json, "
            "modules.json, 1_Pooling/, …) with training_metadata.json and relationship_classifier/ when you trained them. "
            "Python's SentenceTransformer(folder) and the ticketsim CLI both load it."
        </p>
        <button data-testid="export-run" disabled=move || busy.get() || ctx.base.with(|b| b.is_none()) on:click=export>
            "Download the model (.zip)"
        </button>
        <p data-testid="export-status" class="status">{move || status.get()}</p>
        <ul data-testid="export-files">
            {move || files.get().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
        </ul>
    }
}
