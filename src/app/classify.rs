//! Step 6: the relationship classifier (duplicate / causal / related / none) on the model's
//! embeddings: repeated stratified k-fold with the baselines in the same table, the stratified
//! holdout, and the confusion matrix summed over folds. The final classifier goes into the export.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chart::Chart;
use super::state::{Ctx, Panel};
use super::Needs;
use crate::classify::cv::{CvConfig, CvReport};
use crate::classify::mlp::MlpConfig;
use crate::data::detect::Dataset;
use crate::data::relationships::Relation;
use crate::protocol::{Request, Response};
use crate::provenance::DataRecord;

/// The classifier panel.
#[component]
pub fn ClassifyPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let folds = RwSignal::new(5usize);
    // One repetition by default: the browser runs the folds on one thread.
    let repeats = RwSignal::new(1usize);
    let c_grid = RwSignal::new("0.01,0.1".to_string());
    let mlp = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    let run = move |_| {
        let pairs = ctx.relationship_pairs();
        if pairs.is_empty() {
            return status.set("No relationship pairs: load a relationship-pairs file, generate pairs from incidents, or label pairs with 1–4.".into());
        }
        let grid: Result<Vec<f64>, _> = c_grid
            .get_untracked()
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect();
        let grid = match grid {
            Ok(g) if !g.is_empty() && g.iter().all(|c| c.is_finite() && *c > 0.0) => g,
            _ => return status.set("C values: positive numbers separated by commas".into()),
        };
        let mut cfg = CvConfig {
            folds: folds.get_untracked().max(2),
            repeats: repeats.get_untracked().max(1),
            mlp: mlp.get_untracked().then(MlpConfig::default),
            ..CvConfig::default()
        };
        cfg.head.c_grid = grid;
        let slot = ctx.current_slot();
        let data: Vec<DataRecord> = ctx.files.with_untracked(|fs| {
            fs.iter()
                .filter(|f| matches!(&*f.dataset, Dataset::RelationshipPairs(_)))
                .map(|f| f.record("train"))
                .collect()
        });
        let Some(w) = ctx.client() else { return };
        busy.set(true);
        status.set(format!(
            "Cross-validating on {} pairs with the {} model ({} folds × {} repeats)…",
            pairs.len(),
            slot.name(),
            cfg.folds,
            cfg.repeats
        ));
        spawn_local(async move {
            let t0 = crate::web::now_ms();
            match w
                .call(|id| Request::Classify {
                    id,
                    slot,
                    pairs,
                    config: cfg,
                    data,
                })
                .await
            {
                Ok(Response::Classified { report, c, .. }) => {
                    status.set(format!(
                        "Done in {:.1} s; the final classifier (C = {c}) is part of the export.",
                        (crate::web::now_ms() - t0) / 1000.0
                    ));
                    ctx.classifier.set(Some((*report, c)));
                }
                Ok(_) => status.set("unexpected answer".into()),
                Err(e) => status.set(e),
            }
            busy.set(false);
        });
    };

    let report = move || ctx.classifier.get().map(|(r, _)| report_view(&r));
    view! {
        <h2>"Relationship classifier"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        <Show when=move || ctx.relationship_pair_count() == 0>
            <Needs what="relationship pairs" go=Panel::Data />
        </Show>
        <p>
            "Logistic regression on pair features ([u, v], |u − v|, u ∘ v, cosine), standardised, C by inner "
            "cross-validation, minority classes oversampled inside the training folds only. Baselines: "
            "majority class and cosine thresholds."
        </p>
        <form class="grid" on:submit=|e| e.prevent_default()>
            <label class="field"><span>"folds"</span>
                <input type="number" min="2" data-testid="cls-folds" prop:value=move || folds.get().to_string()
                    on:change=move |e| { if let Ok(v) = event_target_value(&e).parse() { folds.set(v) } } /></label>
            <label class="field"><span>"repeats"</span>
                <input type="number" min="1" data-testid="cls-repeats" prop:value=move || repeats.get().to_string()
                    on:change=move |e| { if let Ok(v) = event_target_value(&e).parse() { repeats.set(v) } } /></label>
            <label class="field"><span>"C values"</span>
                <input type="text" data-testid="cls-c" prop:value=move || c_grid.get()
                    on:change=move |e| c_grid.set(event_target_value(&e)) /></label>
            <label class="field"><span>"also an MLP for comparison"</span>
                <input type="checkbox" data-testid="cls-mlp" prop:checked=move || mlp.get()
                    on:change=move |e| mlp.set(event_target_checked(&e)) /></label>
        </form>
        <p data-testid="cls-data">{move || format!("{} relationship pairs (files and labels)", ctx.relationship_pair_count())}</p>
        <button data-testid="cls-run" disabled=move || busy.get() || ctx.base.with(|b| b.is_none()) on:click=run>
            "Train and cross-validate"
        </button>
        <p data-testid="cls-status" class="status">{move || status.get()}</p>
        {report}
        <Show when=move || ctx.classifier.with(|c| c.is_some())>
            <Chart testid="cls-confusion" width=640 height=440 draw=move |area| {
                ctx.classifier.with(|c| match c {
                    Some((r, _)) => {
                        let labels: Vec<&str> = Relation::ALL.iter().map(|r| r.name()).collect();
                        crate::eval::charts::confusion_matrix_chart(area, &r.models[0].confusion, &labels,
                            &format!("{}: confusion summed over {} folds", r.models[0].name, r.config.folds * r.config.repeats))
                    }
                    None => Ok(()),
                })
            } />
        </Show>
    }
}

fn report_view(r: &CvReport) -> impl IntoView {
    let ms = |m: crate::classify::cv::MeanStd| format!("{:.3} ± {:.3}", m.mean, m.std);
    let warnings = r.warnings.clone();
    view! {
        <p data-testid="cls-summary">
            {format!("{} examples, {} folds × {} repeats; {} folds missing a class they should hold", r.examples, r.config.folds, r.config.repeats, r.folds_missing_a_class)}
        </p>
        <ul class="notes">{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
        <table class="metrics" data-testid="cls-table">
            <tr><th>"model"</th><th>"macro-F1"</th><th>"micro-F1"</th><th>"weighted-F1"</th>
                {Relation::ALL.iter().map(|r| view! { <th>{format!("F1 {}", r.name())}</th> }).collect_view()}</tr>
            {r.models.iter().map(|m| view! {
                <tr data-testid="cls-row">
                    <td>{m.name.clone()}</td>
                    <td data-testid="cls-macro">{ms(m.macro_f1)}</td>
                    <td>{ms(m.micro_f1)}</td>
                    <td>{ms(m.weighted_f1)}</td>
                    {m.classes.iter().map(|c| view! { <td>{format!("{} (n={})", ms(c.f1), c.support)}</td> }).collect_view()}
                </tr>
            }).collect_view()}
        </table>
        {r.holdout.as_ref().map(|h| view! {
            <p data-testid="cls-holdout">
                {format!("Stratified holdout ({} train / {} validation, every class in validation): {}",
                    h.train, h.eval,
                    h.models.iter().map(|m| format!("{} macro-F1 {:.3}", m.name, m.report.macro_f1)).collect::<Vec<_>>().join(" · "))}
            </p>
        })}
    }
}
