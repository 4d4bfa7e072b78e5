//! Step 5: evaluation on the eval pairs — base and fine-tuned side by side: Spearman / Pearson /
//! ROC-AUC / AP / best F1, the similarity histogram, ROC and PR curves of both, F1 against the
//! threshold, and a threshold slider that shows precision, recall and the share of pairs flagged;
//! below, for an incident file, retrieval, duplicate groups and the map ([`super::backlog`]).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::chart::Chart;
use super::state::{Ctx, Panel};
use super::train::{default_eval_file, select, TrainSettings};
use super::Needs;
use crate::data::pairs::TrainPair;
use crate::eval::charts::{PrSeries, RocSeries};
use crate::eval::metrics::at_threshold;
use crate::eval::report::{evaluate_scores, PairEvalReport};
use crate::protocol::Slot;
use crate::train::config::TrainConfig;

/// One model's figures on the eval pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelEval {
    /// "base" or "fine-tuned".
    pub name: &'static str,
    /// Cosine per pair.
    pub scores: Vec<f64>,
    /// The report.
    pub report: PairEvalReport,
}

/// The eval pairs: the last run's, else the default selection's.
fn eval_pairs(ctx: Ctx) -> Result<(String, Vec<TrainPair>), String> {
    if let Some(e) = ctx.eval_pairs.get() {
        return Ok(e);
    }
    let s = TrainSettings {
        config: TrainConfig::default(),
        max_pairs: 0,
        eval_file: default_eval_file(ctx),
        warmup_typed: false,
    };
    select(ctx, &s).map(|sel| (sel.describe, sel.eval))
}

async fn score(ctx: Ctx, slot: Slot, pairs: &[TrainPair]) -> Result<Vec<f64>, String> {
    let w = ctx.client().ok_or("the worker is not running")?;
    let texts: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    let (vectors, ms, encoded) = w.encode(slot, texts).await?;
    // Cached texts and repeats cost nothing: the rate is over the texts the model encoded, and only
    // an encode long enough to time says how fast encoding is.
    if encoded > 0 && ms > 50.0 {
        ctx.embed_rate
            .set(Some((encoded as f64 / (ms / 1000.0), encoded)));
    }
    Ok((0..pairs.len())
        .map(|k| crate::cosine(&vectors[2 * k], &vectors[2 * k + 1]) as f64)
        .collect())
}

/// The evaluation panel.
#[component]
pub fn EvaluatePanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let results: RwSignal<Vec<ModelEval>> = RwSignal::new(Vec::new());
    let labels: RwSignal<Vec<f32>> = RwSignal::new(Vec::new());
    let status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let threshold = RwSignal::new(0.5f64);

    let run = move |_| {
        let (what, pairs) = match eval_pairs(ctx) {
            Ok(p) => p,
            Err(e) => return status.set(e),
        };
        busy.set(true);
        status.set(format!("Scoring {} eval pairs…", pairs.len()));
        spawn_local(async move {
            let ls: Vec<f32> = pairs.iter().map(|p| p.label).collect();
            let mut out = Vec::new();
            for (slot, name) in ctx.compared_slots() {
                match score(ctx, slot, &pairs).await {
                    Ok(scores) => match evaluate_scores(&ls, &scores, None) {
                        Ok(report) => out.push(ModelEval {
                            name,
                            scores,
                            report,
                        }),
                        Err(e) => {
                            status.set(e.to_string());
                            busy.set(false);
                            return;
                        }
                    },
                    Err(e) => {
                        status.set(e);
                        busy.set(false);
                        return;
                    }
                }
            }
            if let Some(best) = out.last().and_then(|m| m.report.best_f1.as_ref()) {
                threshold.set(best.threshold);
            }
            status.set(format!("{what}."));
            labels.set(ls);
            results.set(out);
            busy.set(false);
        });
    };

    let fmt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.4}"));
    let table = move || {
        let rs = results.get();
        (!rs.is_empty()).then(|| {
            view! {
                <table class="metrics" data-testid="eval-table">
                    <tr>
                        <th>"model"</th><th>"Spearman"</th><th>"Pearson"</th><th>"ROC-AUC"</th>
                        <th>"average precision"</th><th>"best F1 (threshold)"</th>
                    </tr>
                    {rs.into_iter().map(|m| {
                        let r = m.report;
                        view! {
                            <tr data-testid=format!("eval-row-{}", m.name.replace(' ', "-"))>
                                <td>{m.name}</td>
                                <td>{fmt(r.spearman)}</td>
                                <td>{fmt(r.pearson)}</td>
                                <td data-testid="eval-roc-auc">{fmt(r.roc_auc)}</td>
                                <td>{fmt(r.average_precision)}</td>
                                <td>{r.best_f1.map_or("–".to_string(), |b| format!("{:.3} ({:.2})", b.f1, b.threshold))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </table>
            }
        })
    };
    let at_t = move || {
        let t = threshold.get();
        let ls = labels.get();
        let positive: Vec<bool> = ls
            .iter()
            .map(|&l| l as f64 >= crate::eval::report::POSITIVE_LABEL_MIN)
            .collect();
        results
            .get()
            .into_iter()
            .map(|m| {
                let a = at_threshold(&m.scores, &positive, t);
                view! {
                    <li data-testid=format!("threshold-readout-{}", m.name.replace(' ', "-"))>
                        {format!(
                            "{}: precision {:.3}, recall {:.3}, F1 {:.3}, flags {:.1}% of pairs",
                            m.name, a.precision, a.recall, a.f1, a.flagged * 100.0
                        )}
                    </li>
                }
            })
            .collect_view()
    };
    let shown = move || !results.with(|r| r.is_empty());
    view! {
        <h2>"Evaluate"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        // Only while this panel is shown: choosing the eval pairs copies and splits every pair,
        // too much to redo for every label given on another panel (issue 19).
        <Show when=move || ctx.panel.get() == Panel::Evaluate && eval_pairs(ctx).is_err()>
            <Needs what="eval pairs (a training-pairs file)" go=Panel::Data />
        </Show>
        <p>"Compares the loaded model with the fine-tuned one (when there is one) on the eval pairs of the last fine-tuning run."</p>
        <button data-testid="eval-run" disabled=move || busy.get() || ctx.base.with(|b| b.is_none()) on:click=run>
            "Evaluate"
        </button>
        <p data-testid="eval-status" class="status">{move || status.get()}</p>
        <p data-testid="embed-rate">
            {move || ctx.embed_rate.get().map(|(r, n)| format!("measured encode throughput: {r:.1} sentences/s ({n} sentences, {})", ctx.compute.with(|c| c.cores())))}
        </p>
        {table}
        <Show when=shown>
            <div class="slider">
                <label>
                    "threshold "
                    <input
                        type="range" min="0" max="1" step="0.01"
                        data-testid="threshold-slider"
                        prop:value=move || format!("{:.2}", threshold.get())
                        on:input=move |e| { if let Ok(v) = event_target_value(&e).parse::<f64>() { threshold.set(v) } }
                    />
                    <output data-testid="threshold-value">{move || format!("{:.2}", threshold.get())}</output>
                </label>
                <ul>{at_t}</ul>
            </div>
            <div class="charts">
                <Chart testid="eval-histogram" draw=move |area| {
                    let t = threshold.get();
                    results.with(|rs| match rs.last() {
                        Some(m) => crate::eval::charts::similarity_histogram(area, &m.report.histogram, Some(t), &format!("Cosine of similar and different pairs ({})", m.name)),
                        None => Ok(()),
                    })
                } />
                <Chart testid="eval-roc" draw=move |area| {
                    results.with(|rs| {
                        let series: Vec<RocSeries> = rs.iter().filter_map(|m| m.report.roc.as_ref().map(|r| RocSeries { name: m.name, fpr: &r.fpr, tpr: &r.tpr, auc: m.report.roc_auc })).collect();
                        crate::eval::charts::roc_chart(area, &series, "ROC curve")
                    })
                } />
                <Chart testid="eval-pr" draw=move |area| {
                    results.with(|rs| {
                        let series: Vec<PrSeries> = rs.iter().filter_map(|m| m.report.pr.as_ref().map(|p| PrSeries { name: m.name, recall: &p.recall, precision: &p.precision, average_precision: m.report.average_precision, positive_rate: m.report.positive_rate() })).collect();
                        crate::eval::charts::pr_chart(area, &series, "Precision–recall curve")
                    })
                } />
                <Chart testid="eval-threshold" draw=move |area| {
                    let t = threshold.get();
                    results.with(|rs| match rs.last() {
                        Some(m) => crate::eval::charts::threshold_chart(area, &m.report.threshold_grid, m.report.best_f1.as_ref(), Some(t), &format!("Precision, recall, F1 against the threshold ({})", m.name)),
                        None => Ok(()),
                    })
                } />
            </div>
        </Show>
        <super::backlog::BacklogSection />
    }
}
