//! Step 3: labelling. A queue of candidate pairs — from incidents, each ticket with its nearest
//! neighbours under the current model; else the loaded pairs — most uncertain first (cosine
//! closest to the decision threshold). Keyboard first: 1 duplicate, 2 causal, 3 related, 4 none,
//! s similar, d different, u undo, ← → move. Every label is written to IndexedDB before the next
//! is taken, so a reload or a killed tab loses nothing.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use super::glue::{self, Store};
use super::state::{Ctx, Label, Panel};
use super::Needs;
use crate::data::generate::{relationship_pairs_json, training_pairs_json};
use crate::data::relationships::Relation;

/// Neighbours per incident in the queue.
const NEIGHBOURS: usize = 3;

/// A pair waiting for a label.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// First text.
    pub a: String,
    /// Second text.
    pub b: String,
    /// Cosine under the model the queue was built with.
    pub score: f32,
}

/// Read the labels saved by earlier visits.
pub async fn restore(ctx: Ctx) {
    match glue::idb_entries(Store::Labels).await {
        Ok(entries) => {
            let mut labels: Vec<Label> = entries
                .into_iter()
                .filter_map(|(_, v)| v.as_string())
                .filter_map(|s| serde_json::from_str(&s).ok())
                .collect();
            labels.sort_by(|x, y| x.at.total_cmp(&y.at));
            ctx.labels.set(labels);
        }
        Err(e) => ctx
            .worker_error
            .set(Some(format!("saved labels could not be read: {e}"))),
    }
}

/// Save a label (replacing an earlier one of the same pair).
async fn save(ctx: Ctx, label: Label) -> Result<(), String> {
    let key = Label::key(&label.a, &label.b);
    let json = serde_json::to_string(&label).map_err(|e| e.to_string())?;
    glue::idb_put(Store::Labels, &key, &JsValue::from_str(&json))
        .await
        .map_err(|e| e.to_string())?;
    ctx.labels.update(|ls| {
        ls.retain(|l| !(l.a == label.a && l.b == label.b));
        ls.push(label);
    });
    Ok(())
}

/// Build the queue with the current model (the fine-tuned one when there is one). Also says, for
/// an incident file, how many of its tickets the model encoded (the rest came from the cache).
async fn build_queue(
    ctx: Ctx,
    threshold: f32,
) -> Result<(Vec<Candidate>, Option<(usize, usize)>), String> {
    let w = ctx.client().ok_or("the worker is not running")?;
    let slot = ctx.current_slot();
    let labelled: std::collections::HashSet<(String, String)> = ctx
        .labels
        .with_untracked(|ls| ls.iter().map(|l| (l.a.clone(), l.b.clone())).collect());
    let mut cands: Vec<Candidate> = Vec::new();
    let mut encoded = None;
    let mut texts = ctx.incident_texts();
    if !texts.is_empty() {
        texts.sort();
        texts.dedup();
        // In the worker: encoding thousands of tickets and searching every pair of them would
        // freeze this page for seconds (issue 19); the worker answers only the k best of each.
        let (rows, n) = w.neighbours(slot, texts.clone(), NEIGHBOURS).await?;
        encoded = Some((n, texts.len()));
        let mut seen = std::collections::HashSet::new();
        for (i, near) in rows.into_iter().enumerate() {
            for (j, score) in near {
                let j = j as usize;
                if seen.insert((i.min(j), i.max(j))) {
                    cands.push(Candidate {
                        a: texts[i.min(j)].clone(),
                        b: texts[i.max(j)].clone(),
                        score,
                    });
                }
            }
        }
    } else {
        let mut pairs: Vec<(String, String)> = ctx
            .training_pairs(None)
            .into_iter()
            .map(|p| (p.a, p.b))
            .chain(ctx.relationship_pairs().into_iter().map(|p| (p.a, p.b)))
            .collect();
        pairs.sort();
        pairs.dedup();
        if pairs.is_empty() {
            return Ok((Vec::new(), None));
        }
        let texts: Vec<String> = pairs
            .iter()
            .flat_map(|(a, b)| [a.clone(), b.clone()])
            .collect();
        let (vectors, ..) = w.encode(slot, texts).await?;
        for (k, (a, b)) in pairs.into_iter().enumerate() {
            let score = crate::cosine(&vectors[2 * k], &vectors[2 * k + 1]);
            cands.push(Candidate { a, b, score });
        }
    }
    cands.retain(|c| !labelled.contains(&(c.a.clone(), c.b.clone())));
    // Most uncertain first: closest to the threshold; ties in text order (a stable queue).
    cands.sort_by(|x, y| {
        (x.score - threshold)
            .abs()
            .total_cmp(&(y.score - threshold).abs())
            .then_with(|| x.a.cmp(&y.a))
            .then_with(|| x.b.cmp(&y.b))
    });
    Ok((cands, encoded))
}

/// The labelling panel.
#[component]
pub fn LabelPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let queue: RwSignal<Vec<Candidate>> = RwSignal::new(Vec::new());
    let pos = RwSignal::new(0usize);
    let status = RwSignal::new(String::new());
    let building = RwSignal::new(false);
    let threshold = RwSignal::new(0.5f32);

    let build = move || {
        building.set(true);
        ctx.progress.set(None);
        status.set("Embedding the tickets and ranking the pairs…".into());
        spawn_local(async move {
            match build_queue(ctx, threshold.get_untracked()).await {
                Ok((q, encoded)) => {
                    let cache = encoded
                        .map(|(n, total)| {
                            format!(
                                " {n} of {total} tickets encoded, {} read from this browser's cache.",
                                total - n
                            )
                        })
                        .unwrap_or_default();
                    status.set(if q.is_empty() {
                        "Nothing to label: load incidents or pairs first.".into()
                    } else {
                        format!("{} pairs to label, most uncertain first.{cache}", q.len())
                    });
                    queue.set(q);
                    pos.set(0);
                }
                Err(e) if e == "cancelled" => status.set(
                    "Stopped: no queue. The tickets encoded so far are kept, so building again \
                     starts where this stopped."
                        .into(),
                ),
                Err(e) => status.set(format!("Could not build the queue: {e}")),
            }
            building.set(false);
        });
    };

    let give = move |relation: Option<Relation>, similar: Option<bool>| {
        let Some(c) = queue.with_untracked(|q| q.get(pos.get_untracked()).cloned()) else {
            return;
        };
        // A second key on the same pair adds to its label (e.g. 1 then s).
        let earlier = ctx
            .labels
            .with_untracked(|ls| ls.iter().find(|l| l.a == c.a && l.b == c.b).cloned());
        let label = Label {
            a: c.a.clone(),
            b: c.b.clone(),
            relation: relation.or(earlier.as_ref().and_then(|l| l.relation)),
            similar: similar.or(earlier.as_ref().and_then(|l| l.similar)),
            at: js_sys::Date::now(),
        };
        spawn_local(async move {
            match save(ctx, label).await {
                Ok(()) => pos.update(|p| {
                    *p = (*p + 1).min(queue.with_untracked(|q| q.len()));
                }),
                Err(e) => status.set(format!("The label was not saved: {e}")),
            }
        });
    };
    let undo = move || {
        let Some(last) = ctx.labels.with_untracked(|ls| ls.last().cloned()) else {
            return;
        };
        spawn_local(async move {
            let key = Label::key(&last.a, &last.b);
            if let Err(e) = glue::idb_delete(Store::Labels, &key).await {
                status.set(format!("Undo failed: {e}"));
                return;
            }
            ctx.labels.update(|ls| {
                ls.pop();
            });
            if let Some(i) =
                queue.with_untracked(|q| q.iter().position(|c| c.a == last.a && c.b == last.b))
            {
                pos.set(i);
            }
            status.set("Undone.".into());
        });
    };

    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        if ctx.panel.get_untracked() != Panel::Label || e.ctrl_key() || e.meta_key() || e.alt_key()
        {
            return;
        }
        // Typing in a text box is not labelling.
        let typing = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
            .unwrap_or(false);
        if typing {
            return;
        }
        let mut handled = true;
        match e.key().as_str() {
            "1" => give(Some(Relation::Duplicate), None),
            "2" => give(Some(Relation::Causal), None),
            "3" => give(Some(Relation::Related), None),
            "4" => give(Some(Relation::None), None),
            "s" | "S" => give(None, Some(true)),
            "d" | "D" => give(None, Some(false)),
            "u" | "U" => undo(),
            "ArrowRight" => pos.update(|p| *p = (*p + 1).min(queue.with_untracked(|q| q.len()))),
            "ArrowLeft" => pos.update(|p| *p = p.saturating_sub(1)),
            _ => handled = false,
        }
        if handled {
            e.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());

    let export = move |which: &'static str| {
        let labels = ctx.labels.get_untracked();
        let json = if which == "training_pairs.json" {
            let pairs: Vec<_> = labels.iter().filter_map(Label::training_pair).collect();
            training_pairs_json(&pairs)
        } else {
            let pairs: Vec<_> = labels.iter().filter_map(Label::relationship_pair).collect();
            relationship_pairs_json(&pairs)
        };
        glue::save_as(
            &serde_json::to_vec_pretty(&json).unwrap_or_default(),
            which,
            "application/json",
        );
    };

    let current = move || {
        let q = queue.get();
        let p = pos.get();
        match q.get(p) {
            None if q.is_empty() => None,
            None => Some(view! { <p data-testid="label-done">"Queue done. Build it again to rank with the latest model."</p> }.into_any()),
            Some(c) => {
                let lab = ctx.labels.with(|ls| ls.iter().find(|l| l.a == c.a && l.b == c.b).cloned());
                Some(view! {
                    <div class="pair" data-testid="label-pair">
                        <div class="ticket" data-testid="label-a">{c.a.clone()}</div>
                        <div class="ticket" data-testid="label-b">{c.b.clone()}</div>
                    </div>
                    <p data-testid="label-position">
                        {format!("pair {} of {} · cosine {:.3}", p + 1, q.len(), c.score)}
                        {lab.map(|l| format!(" · labelled {}", describe(&l)))}
                    </p>
                }.into_any())
            }
        }
    };
    let button =
        move |key: &'static str, text: &'static str, rel: Option<Relation>, sim: Option<bool>| {
            view! {
                <button data-testid=format!("label-key-{key}") on:click=move |_| give(rel, sim)>
                    <kbd>{key}</kbd>" "{text}
                </button>
            }
        };
    view! {
        <h2>"Label pairs"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        <Show when=move || ctx.files.with(|f| f.is_empty())>
            <Needs what="incidents or pairs" go=Panel::Data />
        </Show>
        <p>
            "Keys: " <kbd>"1"</kbd>" duplicate, " <kbd>"2"</kbd>" causal (left caused right), "
            <kbd>"3"</kbd>" related, " <kbd>"4"</kbd>" none, " <kbd>"s"</kbd>" similar, "
            <kbd>"d"</kbd>" different, " <kbd>"u"</kbd>" undo, " <kbd>"←"</kbd>" " <kbd>"→"</kbd>" move."
        </p>
        <label>
            "Uncertainty around cosine "
            <input type="number" min="0" max="1" step="0.05" prop:value=move || threshold.get().to_string()
                on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f32>() { threshold.set(v.clamp(0.0, 1.0)) } } />
        </label>
        <button
            data-testid="build-queue"
            disabled=move || building.get() || ctx.base.with(|b| b.is_none())
            on:click=move |_| build()
        >
            "Build the queue"
        </button>
        <Show when=move || building.get()>
            <button data-testid="label-stop" on:click=move |_| ctx.stop_progress()>"Stop"</button>
        </Show>
        // While the worker encodes and searches, its progress (n of N, ETA); the outcome after.
        <p data-testid="label-status" class="status">{move || {
            let progress = building
                .get()
                .then(|| ctx.progress_line())
                .flatten()
                .map(|p| format!(" {p}."));
            format!("{}{}", status.get(), progress.unwrap_or_default())
        }}</p>
        {current}
        <div class="keys">
            {button("1", "duplicate", Some(Relation::Duplicate), None)}
            {button("2", "causal", Some(Relation::Causal), None)}
            {button("3", "related", Some(Relation::Related), None)}
            {button("4", "none", Some(Relation::None), None)}
            {button("s", "similar", None, Some(true))}
            {button("d", "different", None, Some(false))}
            <button data-testid="label-undo" on:click=move |_| undo()><kbd>"u"</kbd>" undo"</button>
        </div>
        <h3>
            <span data-testid="label-count">{move || ctx.labels.with(|l| l.len())}</span>
            " labels saved in this browser"
        </h3>
        <button data-testid="export-training-labels" on:click=move |_| export("training_pairs.json")>"Download training_pairs.json"</button>
        <button data-testid="export-relationship-labels" on:click=move |_| export("relationship_pairs.json")>"Download relationship_pairs.json"</button>
        <button class="secondary" data-testid="clear-labels" on:click=move |_| {
            if web_sys::window().and_then(|w| w.confirm_with_message("Delete every saved label?").ok()).unwrap_or(false) {
                spawn_local(async move {
                    let _ = glue::idb_clear(Store::Labels).await;
                    ctx.labels.set(Vec::new());
                });
            }
        }>"Delete all labels"</button>
        <table class="labels">
            <tr><th>"ticket a"</th><th>"ticket b"</th><th>"label"</th></tr>
            {move || ctx.labels.get().into_iter().rev().take(50).map(|l| view! {
                <tr data-testid="label-row"><td>{l.a.clone()}</td><td>{l.b.clone()}</td><td>{describe(&l)}</td></tr>
            }).collect_view()}
        </table>
    }
}

fn describe(l: &Label) -> String {
    let mut parts = Vec::new();
    if let Some(r) = l.relation {
        parts.push(r.name());
    }
    match l.similar {
        Some(true) => parts.push("similar"),
        Some(false) => parts.push("different"),
        None => {}
    }
    parts.join(", ")
}
