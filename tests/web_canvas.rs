//! The report's charts drawn on a real `<canvas>` in headless Chromium through plotters-canvas: the
//! web app's path to the same chart functions the CLI renders as SVG. On the page's main thread,
//! because plotters measures canvas text through the DOM.
#![cfg(target_arch = "wasm32")]

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use ticketsim::eval::charts::{self, PrSeries, RocSeries};
use ticketsim::eval::report::evaluate_scores;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

const W: u32 = 640;
const H: u32 = 420;

fn canvas() -> HtmlCanvasElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let c: HtmlCanvasElement = doc.create_element("canvas").unwrap().dyn_into().unwrap();
    c.set_width(W);
    c.set_height(H);
    doc.body().unwrap().append_child(&c).unwrap();
    c
}

/// Pixels that are neither white nor transparent.
fn inked(c: &HtmlCanvasElement) -> usize {
    let ctx: CanvasRenderingContext2d = c.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let data = ctx
        .get_image_data(0.0, 0.0, W as f64, H as f64)
        .unwrap()
        .data();
    data.chunks(4)
        .filter(|p| p[3] > 0 && !(p[0] > 250 && p[1] > 250 && p[2] > 250))
        .count()
}

/// Draw one chart on a fresh canvas; returns how many pixels it inked.
fn draw(
    name: &str,
    f: impl FnOnce(&DrawingArea<CanvasBackend, Shift>) -> ticketsim::Result<()>,
) -> usize {
    let c = canvas();
    let area = CanvasBackend::with_canvas_object(c.clone())
        .expect("a 2d context")
        .into_drawing_area();
    area.fill(&WHITE).unwrap();
    f(&area).unwrap_or_else(|e| panic!("{name}: {e}"));
    area.present().unwrap();
    let n = inked(&c);
    web_sys::console::log_1(&format!("canvas chart {name}: {n} inked pixels").into());
    n
}

#[wasm_bindgen_test]
fn every_report_chart_draws_on_a_canvas() {
    // 60 pairs: positives score higher on average, with overlap.
    let labels: Vec<f32> = (0..60).map(|i| (i % 3 == 0) as u8 as f32).collect();
    let scores: Vec<f64> = (0..60)
        .map(|i| {
            let base = if i % 3 == 0 { 0.65 } else { 0.3 };
            base + ((i * 37 % 23) as f64 - 11.0) / 40.0
        })
        .collect();
    let r = evaluate_scores(&labels, &scores, None).unwrap();
    let best = r.best_f1.as_ref().map(|m| m.threshold);
    // A chart is axes, text and data: far more than the ~1% a bare frame would ink.
    let min = (W * H / 50) as usize;
    let roc = r.roc.as_ref().unwrap();
    let pr = r.pr.as_ref().unwrap();
    let confusion = r.confusion.as_ref().unwrap();
    let counts = [
        draw("histogram", |a| {
            charts::similarity_histogram(a, &r.histogram, best, "histogram")
        }),
        draw("roc", |a| {
            let s = [RocSeries {
                name: "base",
                fpr: &roc.fpr,
                tpr: &roc.tpr,
                auc: r.roc_auc,
            }];
            charts::roc_chart(a, &s, "ROC")
        }),
        draw("pr", |a| {
            let s = [PrSeries {
                name: "base",
                recall: &pr.recall,
                precision: &pr.precision,
                average_precision: r.average_precision,
                positive_rate: r.positive_rate(),
            }];
            charts::pr_chart(a, &s, "PR")
        }),
        draw("f1_threshold", |a| {
            charts::threshold_chart(a, &r.threshold_grid, r.best_f1.as_ref(), None, "F1")
        }),
        draw("confusion", |a| {
            charts::confusion_matrix_chart(
                a,
                &confusion.matrix,
                &["negative", "positive"],
                "confusion",
            )
        }),
        // The relationship classes, with one absent (zero support).
        draw("confusion-4", |a| {
            let m = vec![
                vec![5, 1, 0, 2],
                vec![0, 0, 0, 0],
                vec![1, 0, 3, 1],
                vec![2, 0, 1, 40],
            ];
            charts::confusion_matrix_chart(a, &m, &["duplicate", "causal", "related", "none"], "4")
        }),
        draw("loss", |a| {
            let pts: Vec<(usize, f64)> = (0..50).map(|s| (s, 1.0 / (1.0 + s as f64))).collect();
            charts::loss_chart(a, &pts, "loss")
        }),
    ];
    for (i, n) in counts.iter().enumerate() {
        assert!(*n > min, "chart {i} inked only {n} pixels");
    }
}
