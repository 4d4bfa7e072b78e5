//! A drop area with a file (or folder) picker: both deliver `(path, bytes)` of every file, folders
//! walked, to one callback — or the error of reading them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::glue;

/// What the drop zone hands over.
pub type Dropped = Result<Vec<(String, Vec<u8>)>, String>;

/// The drop zone; `testid` names the zone (`{testid}`) and its input (`{testid}-input`).
#[component]
pub fn DropZone<F>(
    /// `data-testid` prefix.
    testid: &'static str,
    /// The text in the zone.
    text: &'static str,
    /// The picker's label.
    pick: &'static str,
    /// The picker chooses a folder (`webkitdirectory`) instead of files.
    #[prop(default = false)]
    folder: bool,
    /// Receives the files.
    on_files: F,
) -> impl IntoView
where
    F: Fn(Dropped) + Copy + 'static,
{
    let over = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    // `webkitdirectory` is not among Leptos' typed attributes.
    Effect::new(move |_| {
        if let (true, Some(el)) = (folder, input.get()) {
            let _ = el.set_attribute("webkitdirectory", "");
        }
    });
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        over.set(false);
        let Some(dt) = ev.data_transfer() else { return };
        spawn_local(async move {
            on_files(glue::dropped_files(&dt).await.map_err(|e| e.to_string()));
        });
    };
    let on_pick = move |ev: web_sys::Event| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = el.files() else { return };
        spawn_local(async move {
            on_files(glue::input_files(&list).await.map_err(|e| e.to_string()));
            // The same file chosen again must fire `change` again.
            el.set_value("");
        });
    };
    view! {
        <div
            class="dropzone"
            class:over=move || over.get()
            data-testid=testid
            on:dragover=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                over.set(true);
            }
            on:dragleave=move |_| over.set(false)
            on:drop=on_drop
        >
            {text}
            <label class="button">
                {pick}
                <input type="file" node_ref=input multiple=true data-testid=format!("{testid}-input") on:change=on_pick />
            </label>
        </div>
    }
}
