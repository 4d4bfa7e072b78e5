//! Step 7: the similarity demo. Two text boxes → the cosine from the base and the fine-tuned model
//! side by side; and "find similar": a ticket → the most similar loaded incidents (or pair texts)
//! with their score and, once a classifier is trained, the predicted relationship.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::state::{Ctx, Panel};
use super::Needs;
use crate::protocol::{Request, Response, SimilarHit};

/// Texts to search: incident texts, else every distinct text of the loaded pairs.
fn corpus(ctx: Ctx) -> Vec<String> {
    let mut texts = ctx.incident_texts();
    if texts.is_empty() {
        texts = ctx
            .training_pairs(None)
            .into_iter()
            .flat_map(|p| [p.a, p.b])
            .chain(
                ctx.relationship_pairs()
                    .into_iter()
                    .flat_map(|p| [p.a, p.b]),
            )
            .collect();
    }
    texts.sort();
    texts.dedup();
    texts
}

/// The demo panel.
#[component]
pub fn DemoPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let a = RwSignal::new(String::from("Outlook keeps crashing when I open it"));
    let b = RwSignal::new(String::from("Email client crashes on startup"));
    let scores: RwSignal<Vec<(&'static str, f32)>> = RwSignal::new(Vec::new());
    let status = RwSignal::new(String::new());
    let query = RwSignal::new(String::from("VPN disconnects every few minutes"));
    let k = RwSignal::new(5usize);
    let hits: RwSignal<Vec<(SimilarHit, String)>> = RwSignal::new(Vec::new());

    let compare = move |_| {
        let Some(w) = ctx.client() else { return };
        let texts = vec![a.get_untracked(), b.get_untracked()];
        if texts.iter().any(|t| t.trim().is_empty()) {
            return status.set("Type a ticket in both boxes.".into());
        }
        status.set("Scoring…".into());
        spawn_local(async move {
            let mut out = Vec::new();
            for (slot, name) in ctx.compared_slots() {
                match w.encode(slot, texts.clone()).await {
                    Ok((vectors, ..)) => out.push((name, crate::cosine(&vectors[0], &vectors[1]))),
                    Err(e) => return status.set(e),
                }
            }
            status.set(String::new());
            scores.set(out);
        });
    };
    let find = move |_| {
        let Some(w) = ctx.client() else { return };
        let candidates = corpus(ctx);
        if candidates.is_empty() {
            return status.set("Load incidents or pairs to search in.".into());
        }
        let slot = ctx.current_slot();
        let q = query.get_untracked();
        status.set(format!("Searching {} tickets…", candidates.len()));
        spawn_local(async move {
            let cands = candidates.clone();
            match w
                .call(|id| Request::FindSimilar {
                    id,
                    slot,
                    query: q,
                    candidates: cands,
                    k: k.get_untracked().max(1),
                })
                .await
            {
                Ok(Response::Similar { hits: h, ms, .. }) => {
                    status.set(format!(
                        "{} tickets searched in {:.0} ms",
                        candidates.len(),
                        ms
                    ));
                    hits.set(
                        h.into_iter()
                            .map(|hit| {
                                let text = candidates[hit.index].clone();
                                (hit, text)
                            })
                            .collect(),
                    );
                }
                Ok(_) => {}
                Err(e) => status.set(e),
            }
        });
    };
    view! {
        <h2>"Similarity demo"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        <div class="pair">
            <textarea data-testid="text-a" prop:value=move || a.get() on:input=move |ev| a.set(event_target_value(&ev)) />
            <textarea data-testid="text-b" prop:value=move || b.get() on:input=move |ev| b.set(event_target_value(&ev)) />
        </div>
        <button data-testid="compare" on:click=compare disabled=move || ctx.base.with(|m| m.is_none())>
            "Compare"
        </button>
        <ul data-testid="similarity">
            {move || scores.get().into_iter().map(|(name, s)| view! {
                <li data-testid=format!("similarity-{}", name.replace(' ', "-"))>{format!("{name}: cosine similarity {s:.4}")}</li>
            }).collect_view()}
        </ul>
        <h3>"Find similar tickets"</h3>
        <textarea data-testid="find-query" prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
        <label>" top " <input type="number" min="1" max="50" data-testid="find-k" prop:value=move || k.get().to_string()
            on:change=move |e| { if let Ok(v) = event_target_value(&e).parse() { k.set(v) } } /></label>
        <button data-testid="find-run" on:click=find disabled=move || ctx.base.with(|m| m.is_none())>"Find similar"</button>
        <p data-testid="demo-status" class="status">{move || status.get()}</p>
        <table class="hits" data-testid="find-hits">
            {move || hits.get().into_iter().map(|(h, text)| view! {
                <tr data-testid="find-hit">
                    <td>{format!("{:.3}", h.score)}</td>
                    <td>{text}</td>
                    <td>{h.relation.map(|r| format!("{r} ({:.0}%)", h.probability.unwrap_or(0.0) * 100.0))}</td>
                </tr>
            }).collect_view()}
        </table>
    }
}
