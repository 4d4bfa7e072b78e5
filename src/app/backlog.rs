//! The Evaluate step's ticket view for an incident file: retrieval ("which other tickets are this
//! one?" — recall@k, MRR, MAP of BM25, the base and the fine-tuned model), the duplicate groups and
//! a map of the tickets with their titles on hover. The worker computes it all
//! ([`crate::eval::backlog::analyse`], the same code as `ticketsim retrieve` / `group`); this page
//! only draws. Ticket text is always text nodes, never HTML.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chart::Chart;
use super::state::Ctx;
use crate::data::detect::Dataset;
use crate::data::incidents::Incident;
use crate::eval::backlog::BacklogAnalysis;
use crate::eval::groups::DEFAULT_THRESHOLD;
use crate::protocol::{Request, Response};

/// Groups listed per model.
const GROUPS_SHOWN: usize = 10;
/// A pointer within this many canvas pixels of a ticket's dot shows it.
const HOVER_PX: f64 = 8.0;

/// The loaded incident files: name and incidents.
fn incident_files(ctx: Ctx) -> Vec<(String, Arc<Dataset>)> {
    ctx.files.with(|fs| {
        fs.iter()
            .filter(|f| matches!(*f.dataset, Dataset::Incidents(_)))
            .map(|f| (f.name.clone(), f.dataset.clone()))
            .collect()
    })
}

/// Texts the models were (or will be) trained on: both sides of every loaded training pair and
/// every labelled pair. Queries that contain them are not measured.
fn trained_texts(ctx: Ctx) -> Vec<String> {
    let mut out: Vec<String> = ctx.files.with(|fs| {
        fs.iter()
            .filter_map(|f| match &*f.dataset {
                Dataset::TrainingPairs(l) => Some(
                    l.records
                        .iter()
                        .flat_map(|p| [p.a.clone(), p.b.clone()])
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .flatten()
            .collect()
    });
    ctx.labels.with(|ls| {
        out.extend(ls.iter().flat_map(|l| [l.a.clone(), l.b.clone()]));
    });
    out
}

/// The ticket section of the Evaluate step.
#[component]
pub fn BacklogSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let analysis: RwSignal<Option<Arc<BacklogAnalysis>>> = RwSignal::new(None);
    let status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let threshold = RwSignal::new(DEFAULT_THRESHOLD);
    let chosen: RwSignal<Option<String>> = RwSignal::new(None);
    let files = move || incident_files(ctx);

    let run = move |_| {
        let all = files();
        let pick = chosen.get_untracked();
        let Some((name, data)) = all
            .iter()
            .find(|(n, _)| Some(n) == pick.as_ref())
            .or(all.last())
            .cloned()
        else {
            return status.set("Load an incident file first (Data step).".into());
        };
        let Dataset::Incidents(loaded) = &*data else {
            return;
        };
        let incidents: Vec<Incident> = loaded.records.clone();
        let trained = trained_texts(ctx);
        let Some(w) = ctx.client() else { return };
        busy.set(true);
        ctx.progress.set(None);
        status.set(format!("Analysing {} tickets of {name}…", incidents.len()));
        let t = threshold.get_untracked();
        spawn_local(async move {
            match w
                .call(|id| Request::Backlog {
                    id,
                    incidents,
                    trained,
                    threshold: t,
                })
                .await
            {
                Ok(Response::Backlog {
                    analysis: a, ms, ..
                }) => {
                    status.set(format!(
                        "{} tickets of {name} analysed in {:.1} s",
                        a.ids.len(),
                        ms / 1000.0
                    ));
                    analysis.set(Some(Arc::from(a)));
                }
                Ok(_) => {}
                Err(e) if e == "cancelled" => {
                    status.set("Stopped. The tickets encoded so far are kept.".into())
                }
                Err(e) => status.set(e),
            }
            busy.set(false);
        });
    };

    view! {
        <h3>"Tickets: which are the same problem?"</h3>
        <p class="hint">
            "Ranks every ticket of an incident file for each ticket that has known links "
            "(duplicate_of, caused_by) and measures whether the linked ones come first — for BM25 "
            "keyword search, the base and the fine-tuned model — then groups likely duplicates and "
            "draws a map of the tickets."
        </p>
        <Show
            when=move || !files().is_empty()
            fallback=|| view! {
                <p data-testid="backlog-needs">"Load an incident file (CSV or JSON export) in the Data step."</p>
            }
        >
            <label>"Incident file "
                <select data-testid="backlog-file" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                    {move || {
                        let all = files();
                        let last = all.len().saturating_sub(1);
                        all.into_iter().enumerate().map(|(i, (n, _))| view! {
                            <option value=n.clone() selected=i == last>{n.clone()}</option>
                        }).collect_view()
                    }}
                </select>
            </label>
            <label>" group threshold "
                <input type="number" min="-1" max="1" step="0.01" data-testid="backlog-threshold"
                    prop:value=move || format!("{:.2}", threshold.get())
                    on:change=move |e| { if let Ok(v) = event_target_value(&e).parse::<f32>() { threshold.set(v.clamp(-1.0, 1.0)) } } />
            </label>
            <button data-testid="backlog-run" on:click=run
                disabled=move || busy.get() || ctx.base.with(|m| m.is_none())>
                "Analyse tickets"
            </button>
        </Show>
        <p data-testid="backlog-status" class="status">{move || status.get()}</p>
        <Show when=move || busy.get()>
            <p data-testid="backlog-progress" class="status">{move || ctx.progress_line()}</p>
            <button data-testid="backlog-stop" on:click=move |_| ctx.stop_progress()>"Stop"</button>
        </Show>
        {move || analysis.get().map(|a| view! { <BacklogView a=a /> })}
    }
}

/// One analysis: notes, the retrieval table, the groups, the maps.
#[component]
fn BacklogView(a: Arc<BacklogAnalysis>) -> impl IntoView {
    let notes = a.retrieval.notes.clone();
    let tables = a.retrieval.tables.clone();
    let dropped = a.retrieval.dropped_as_trained.clone();
    let groups = {
        let a = a.clone();
        move || {
            a.models
                .iter()
                .map(|m| {
                    let shown: Vec<(usize, String, String)> = m
                        .grouping
                        .groups
                        .iter()
                        .take(GROUPS_SHOWN)
                        .map(|g| (g.members.len(), a.ids[g.central].clone(), a.titles[g.central].clone()))
                        .collect();
                    let score = m.scores.as_ref().map(|s| {
                        format!(
                            "against the known duplicates: pairwise precision {:.3}, recall {:.3}, F1 {:.3}, adjusted Rand index {:.3}",
                            s.pairwise_precision, s.pairwise_recall, s.pairwise_f1, s.adjusted_rand_index
                        )
                    });
                    view! {
                        <div class="groups" data-testid=format!("groups-{}", m.name.replace(' ', "-"))>
                            <h4>{format!(
                                "{}: {} groups of two or more ({} of {} tickets) at cosine ≥ {:.2}",
                                m.name, m.grouping.groups.len(), m.grouping.grouped(), a.ids.len(), m.threshold
                            )}</h4>
                            <p class="hint">{score}</p>
                            <ol>
                                {shown.into_iter().map(|(size, id, title)| view! {
                                    <li data-testid="group">{format!("{size} tickets — {id}: ")}{title}</li>
                                }).collect_view()}
                            </ol>
                        </div>
                    }
                })
                .collect_view()
        }
    };
    let maps = {
        let a = a.clone();
        move || {
            a.models
                .iter()
                .enumerate()
                .map(|(m, _)| view! { <TicketMap a=a.clone() model=m /> })
                .collect_view()
        }
    };
    view! {
        <ul class="notes" data-testid="retrieval-notes">
            {notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            {dropped.into_iter().filter(|(_, d)| *d > 0).map(|(k, d)| view! {
                <li>{format!("{d} {} queries left out: their tickets are in the training pairs or labels", k.name())}</li>
            }).collect_view()}
        </ul>
        {tables.into_iter().map(|t| view! {
            <table class="metrics" data-testid="retrieval-table">
                <caption>{format!("{} links: {} queries, {} tickets ranked", t.kind.name(), t.queries, t.corpus)}</caption>
                <tr><th>"method"</th><th>"recall@1"</th><th>"recall@5"</th><th>"recall@10"</th><th>"MRR"</th><th>"MAP"</th></tr>
                {t.rows.into_iter().map(|r| {
                    let cell = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
                    let method = match r.hybrid_weights {
                        Some([x, y]) => format!("{} (w {x:.1} / {y:.1})", r.method),
                        None => r.method.clone(),
                    };
                    view! {
                        <tr data-testid="retrieval-row">
                            <td>{method}</td>
                            <td>{cell(r.metrics.recall(1))}</td>
                            <td>{cell(r.metrics.recall(5))}</td>
                            <td>{cell(r.metrics.recall(10))}</td>
                            <td>{format!("{:.3}", r.metrics.mrr)}</td>
                            <td>{format!("{:.3}", r.metrics.map)}</td>
                        </tr>
                    }
                }).collect_view()}
            </table>
        }).collect_view()}
        {groups}
        <div class="maps">{maps}</div>
    }
}

/// One model's map with the ticket under the pointer named in a tooltip.
#[component]
fn TicketMap(a: Arc<BacklogAnalysis>, model: usize) -> impl IntoView {
    let positions: StoredValue<Vec<(i32, i32)>> = StoredValue::new(Vec::new());
    let hover: RwSignal<Option<(f64, f64, usize)>> = RwSignal::new(None);
    let name = a.models[model].name.clone();
    let testid: &'static str = if model == 0 {
        "ticket-map-base"
    } else {
        "ticket-map-fine-tuned"
    };
    let draw = {
        let a = a.clone();
        move |area: &plotters::drawing::DrawingArea<
            plotters_canvas::CanvasBackend,
            plotters::coord::Shift,
        >| {
            let m = &a.models[model];
            let [x, y] = m.map.explained_variance_ratio;
            let title = format!(
                "{}: by {} ({:.0}% of variance)",
                m.name,
                a.coloured_by,
                100.0 * (x + y)
            );
            let p = crate::eval::charts::ticket_map_chart(
                area,
                &m.map.points,
                &a.classes,
                &a.class_names,
                &title,
            )?;
            positions.set_value(p);
            Ok(())
        }
    };
    let titles = a.clone();
    let on_move = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(canvas) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        // The canvas may be drawn smaller than its pixel size (CSS max-width).
        let scale = canvas.width() as f64 / (canvas.client_width().max(1) as f64);
        let (x, y) = (ev.offset_x() as f64 * scale, ev.offset_y() as f64 * scale);
        let nearest = positions.with_value(|ps| {
            ps.iter()
                .enumerate()
                .map(|(i, &(px, py))| (i, (px as f64 - x).hypot(py as f64 - y)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
        });
        hover.set(
            nearest
                .filter(|&(_, d)| d <= HOVER_PX * scale.max(1.0))
                .map(|(i, _)| (ev.offset_x() as f64, ev.offset_y() as f64, i)),
        );
    };
    register_test_hook(model, a.clone(), positions);
    view! {
        <div class="map">
            <div on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                <Chart testid=testid width=560 height=440 draw=draw />
            </div>
            {move || hover.get().map(|(x, y, i)| view! {
                <div class="map-tooltip" data-testid="map-tooltip"
                    style=format!("left: {}px; top: {}px", x + 12.0, y + 12.0)>
                    <b>{titles.ids[i].clone()}</b>": "{titles.titles[i].clone()}
                </div>
            })}
            <p class="hint" data-testid=format!("{testid}-caption")>{format!(
                "{name}: each dot is a ticket; hover for its title"
            )}</p>
        </div>
    }
}

/// With `?test-hooks`: `window.ticketsimTest.mapPoint(model, id)` gives the CSS offset of a
/// ticket's dot on a map, so the browser test can hover it.
fn register_test_hook(
    model: usize,
    a: Arc<BacklogAnalysis>,
    positions: StoredValue<Vec<(i32, i32)>>,
) {
    use wasm_bindgen::prelude::*;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(hooks) = js_sys::Reflect::get(&window, &"ticketsimTest".into()) else {
        return;
    };
    if !hooks.is_object() {
        return;
    }
    let points: js_sys::Array = js_sys::Reflect::get(&hooks, &"mapPoints".into())
        .ok()
        .filter(|p| p.is_object())
        .map(|p| p.unchecked_into())
        .unwrap_or_default();
    let f = Closure::<dyn Fn(String) -> JsValue>::new(move |id: String| {
        let Some(i) = a.ids.iter().position(|x| *x == id) else {
            return JsValue::NULL;
        };
        positions
            .with_value(|ps| ps.get(i).copied())
            .map_or(JsValue::NULL, |(x, y)| {
                let arr = js_sys::Array::new();
                arr.push(&x.into());
                arr.push(&y.into());
                arr.into()
            })
    });
    points.set(model as u32, f.as_ref().clone());
    let _ = js_sys::Reflect::set(&hooks, &"mapPoints".into(), &points);
    // Lives as long as the page: a test page is short.
    f.forget();
}
