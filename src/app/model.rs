//! Step 1: the model. The default all-MiniLM-L6-v2 is served by the app and kept in the browser's
//! Cache API, so a reload does not download it again; or the user drops a sentence-transformers
//! folder (or its files). The files go to the worker, which loads them.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::dropzone::{DropZone, Dropped};
use super::glue;
use super::state::{Ctx, ModelSource};
use crate::encoder::ModelFiles;
use crate::protocol::{Request, WireFile};

/// Above this the browser app refuses a model: wasm32 has 4 GiB of memory and fine-tuning holds
/// the weights about five times (model, gradients, two AdamW moments, best checkpoint).
pub const MAX_MODEL_BYTES: usize = 600 << 20;

/// Files fetched for the served model.
const SERVED_FILES: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
];

/// Check a model's files and hand them to the worker; `source` is remembered so the page can load
/// the model again into a new worker after a crash.
/// Whether it was sent (else the model status says why not).
fn send_model(ctx: Ctx, name: String, files: Vec<(String, Vec<u8>)>, source: ModelSource) -> bool {
    let checked = ModelFiles::from_named(&files, &name).map(|f| f.total_bytes());
    match checked {
        Err(e) => {
            ctx.model_status
                .set(format!("Could not load the model: {e}"));
            return false;
        }
        Ok(n) if n > MAX_MODEL_BYTES => {
            ctx.model_status.set(format!(
                "{name} is {} MB: the browser app handles models up to {} MB (fine-tuning holds the weights five times in the 4 GiB a browser tab gets). Use the native `ticketsim` CLI for it.",
                n >> 20,
                MAX_MODEL_BYTES >> 20
            ));
            return false;
        }
        Ok(_) => {}
    }
    let Some(w) = ctx.client() else { return false };
    ctx.model_source.set_value(Some(source));
    ctx.model_loading.set(true);
    ctx.model_status.set(format!("Loading {name}…"));
    w.send(&Request::LoadModel {
        name,
        files: files
            .into_iter()
            .map(|(path, bytes)| WireFile { path, bytes })
            .collect(),
    });
    true
}

/// Fetch the served all-MiniLM-L6-v2 (from the browser cache after the first time) and load it.
pub fn load_default(ctx: Ctx) {
    ctx.model_loading.set(true);
    ctx.model_status
        .set("Loading all-MiniLM-L6-v2…".to_string());
    spawn_local(async move {
        let mut files = Vec::new();
        let mut cached = 0;
        for name in SERVED_FILES {
            let url = format!("{}/{name}", super::DEFAULT_MODEL_URL);
            match glue::cached_fetch(&url).await {
                Ok((bytes, hit)) => {
                    cached += usize::from(hit);
                    files.push((name.to_string(), bytes));
                }
                Err(e) => {
                    ctx.model_loading.set(false);
                    ctx.model_status
                        .set(format!("Could not load all-MiniLM-L6-v2: {e}"));
                    return;
                }
            }
        }
        if !send_model(ctx, "all-MiniLM-L6-v2".into(), files, ModelSource::Served) {
            return;
        }
        if cached == SERVED_FILES.len() {
            ctx.model_status
                .set("Loading all-MiniLM-L6-v2 (from the browser cache)…".into());
        }
    });
}

/// Load the model of `source` again (after the worker crashed): the served one through
/// [`load_default`], a dropped one from where [`glue::cache_dropped_model`] kept it.
pub fn reload(ctx: Ctx, source: ModelSource) {
    match source {
        ModelSource::Served => load_default(ctx),
        ModelSource::Dropped { name, paths } => {
            ctx.model_loading.set(true);
            ctx.model_status.set(format!("Loading {name} again…"));
            spawn_local(async move {
                match glue::dropped_model(&paths).await {
                    Ok(files) => {
                        send_model(
                            ctx,
                            name.clone(),
                            files,
                            ModelSource::Dropped { name, paths },
                        );
                    }
                    Err(e) => {
                        ctx.model_loading.set(false);
                        ctx.model_status.set(format!(
                            "Could not load {name} again: {e}. Drop its folder again."
                        ));
                    }
                }
            });
        }
    }
}

/// The model panel.
#[component]
pub fn ModelPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let on_files = move |files: Dropped| match files {
        Ok(files) => {
            let name = folder_name(&files);
            // Kept in the Cache API (the served model is there already): a new worker that
            // replaces a crashed one gets the model from there, without asking for the drop again.
            let keep: Vec<(String, js_sys::Uint8Array)> = files
                .iter()
                .map(|(p, b)| (p.clone(), js_sys::Uint8Array::from(&b[..])))
                .collect();
            let paths = files.iter().map(|(p, _)| p.clone()).collect();
            if !send_model(
                ctx,
                name.clone(),
                files,
                ModelSource::Dropped { name, paths },
            ) {
                return;
            }
            spawn_local(async move {
                if let Err(e) = glue::cache_dropped_model(&keep).await {
                    web_sys::console::warn_1(&format!("the dropped model is not kept: {e}").into());
                }
            });
        }
        Err(e) => ctx.model_status.set(e),
    };
    let info = move || {
        ctx.base.get().map(|m| {
            let i = m.info;
            view! {
                <table class="kv" data-testid="model-info">
                    <tr><th>"model"</th><td data-testid="model-name">{m.name}</td></tr>
                    <tr><th>"architecture"</th><td>{format!("{} with {} layers, hidden size {}", i.model_type, i.layers, i.hidden_size)}</td></tr>
                    <tr><th>"embedding dimension"</th><td data-testid="model-dim">{i.embedding_dim}</td></tr>
                    <tr><th>"parameters"</th><td>{format!("{:.1} M", i.parameters as f64 / 1e6)}</td></tr>
                    <tr><th>"max_seq_length"</th><td>{i.max_seq_length}</td></tr>
                    <tr><th>"normalised"</th><td>{if i.normalize { "yes" } else { "no" }}</td></tr>
                    <tr><th>"load time"</th><td data-testid="model-load-ms">{format!("{:.0} ms", m.load_ms)}</td></tr>
                </table>
            }
        })
    };
    view! {
        <h2>"Model"</h2>
        <p>
            "The default is all-MiniLM-L6-v2, served with this app and kept in your browser's cache. "
            "To use another sentence-transformers model, drop its folder (or its files) below."
        </p>
        <p data-testid="model-status" class="status">{move || ctx.model_status.get()}</p>
        {info}
        <DropZone
            testid="model-drop"
            text="Drop a model folder or its files here (config.json, model.safetensors, tokenizer.json, …)"
            pick="or choose a folder"
            folder=true
            on_files=on_files
        />
        <button
            data-testid="model-default"
            disabled=move || ctx.model_loading.get()
            on:click=move |_| load_default(ctx)
        >
            "Load all-MiniLM-L6-v2 again"
        </button>
    }
}

/// The dropped folder's name (its top folder), else "dropped model".
fn folder_name(files: &[(String, Vec<u8>)]) -> String {
    files
        .iter()
        .find_map(|(p, _)| p.split_once('/').map(|(top, _)| top.to_string()))
        .unwrap_or_else(|| "dropped model".into())
}
