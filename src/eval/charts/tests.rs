//! Every chart drawn to SVG from known inputs: layout, legends, odd data.

use super::curves::pr_steps;
use super::*;
use crate::eval::metrics::{at_threshold, best_f1_threshold, precision_recall_curve, roc_curve};

/// The sklearn example of the metrics tests: 4 positives, 6 negatives.
const SCORES: [f64; 10] = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5, 0.1, 0.7, 0.65, 0.2];
const IS_POS: [bool; 10] = [
    true, false, true, false, true, false, false, true, false, false,
];

/// The contents of the SVG's `<text>` elements, in drawing order.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

fn has_text(svg: &str, want: &str) -> bool {
    texts(svg).iter().any(|t| t == want)
}

/// Elements of a colour (fill or stroke), e.g. the bars of one class.
fn count_coloured(svg: &str, tag: &str, colour: RGBColor) -> usize {
    let hex = format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2);
    svg.lines()
        .filter(|l| l.starts_with(&format!("<{tag} ")) && l.contains(&hex))
        .count()
}

fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>) -> String {
    to_svg(760, 500, draw).unwrap()
}

#[test]
fn histogram_bins_cover_the_data_in_whole_bins() {
    let h = ScoreHistogram::new(&SCORES, &IS_POS).unwrap();
    // 0.1 .. 0.9 in 0.05 bins: 16 bins; 0.9 (the maximum) falls in the last.
    assert_eq!(h.edges.len(), 17);
    assert!((h.edges[0] - 0.1).abs() < 1e-12 && (h.edges[16] - 0.9).abs() < 1e-12);
    assert_eq!((h.total_positives(), h.total_negatives()), (4, 6));
    let bin = |x: f64| ((x - 0.1) / 0.05).round() as usize;
    // Scores written as an edge go to the bin that starts there: 0.7 in [0.70, 0.75).
    assert_eq!(h.positives[bin(0.7)], 1);
    assert_eq!(h.positives[bin(0.8)], 1);
    assert_eq!(h.negatives[bin(0.8)], 1);
    assert_eq!(h.positives[bin(0.5)], 1);
    assert_eq!(h.negatives[bin(0.5)], 1);
    assert_eq!(h.negatives[bin(0.65)], 1);
    assert_eq!(h.positives[15], 1, "0.9 is in the last bin");

    let one = ScoreHistogram::new(&[0.42], &[true]).unwrap();
    assert_eq!(one.positives, vec![1]);
    assert!((one.edges[0] - 0.4).abs() < 1e-12 && (one.edges[1] - 0.45).abs() < 1e-12);
    let neg = ScoreHistogram::new(&[-1.0, 1.0], &[false, true]).unwrap();
    assert_eq!(neg.edges.len(), 41, "the whole cosine range is 40 bins");

    assert!(ScoreHistogram::new(&[], &[]).unwrap().edges.is_empty());
    let e = ScoreHistogram::new(&[0.1, f64::NAN], &[true, false]).unwrap_err();
    assert!(e.to_string().contains("pair 1"), "{e}");
    assert!(ScoreHistogram::new(&[0.1], &[true, false]).is_err());
    assert!(ScoreHistogram::new(&[0.0, 1e6], &[true, false]).is_err());
}

#[test]
fn similarity_histogram_draws_one_bar_per_non_empty_bin() {
    let h = ScoreHistogram::new(&SCORES, &IS_POS).unwrap();
    let s = svg(|a| similarity_histogram(a, &h, Some(0.66), "Scores"));
    for t in [
        "Scores",
        "negative pairs (n = 6)",
        "positive pairs (n = 4)",
        "threshold 0.66",
        "cosine similarity",
        "share of the pairs of each class",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    let bins_with = |c: &[usize]| c.iter().filter(|&&n| n > 0).count();
    // One legend swatch plus one bar per non-empty bin of each class.
    assert_eq!(
        count_coloured(&s, "rect", NEGATIVE),
        1 + bins_with(&h.negatives)
    );
    assert_eq!(
        count_coloured(&s, "rect", super::POSITIVE),
        1 + bins_with(&h.positives)
    );

    let empty = ScoreHistogram::new(&[], &[]).unwrap();
    let s = svg(|a| similarity_histogram(a, &empty, None, "Nothing"));
    assert!(has_text(&s, "Nothing") && has_text(&s, "No scores to plot."));
    // One class only still draws (the other's legend says n = 0).
    let pos = ScoreHistogram::new(&[0.2, 0.9], &[true, true]).unwrap();
    let s = svg(|a| similarity_histogram(a, &pos, None, "Only positives"));
    assert!(has_text(&s, "negative pairs (n = 0)"));
    assert_eq!(count_coloured(&s, "rect", NEGATIVE), 1);
    let bad = to_svg(760, 500, |a| {
        similarity_histogram(a, &h, Some(f64::NAN), "x")
    });
    assert!(bad.is_err());
}

#[test]
fn roc_chart_compares_named_models() {
    let base = roc_curve(&SCORES, &IS_POS);
    let better: Vec<f64> = SCORES
        .iter()
        .zip(IS_POS)
        .map(|(s, p)| if p { s + 0.3 } else { *s })
        .collect();
    let tuned = roc_curve(&better, &IS_POS);
    let series = [
        RocSeries {
            name: "base",
            fpr: &base.fpr,
            tpr: &base.tpr,
            auc: Some(0.8333333),
        },
        RocSeries {
            name: "fine-tuned",
            fpr: &tuned.fpr,
            tpr: &tuned.tpr,
            auc: Some(0.9583333),
        },
    ];
    let s = svg(|a| roc_chart(a, &series, "ROC"));
    for t in [
        "ROC",
        "base (AUC 0.833)",
        "fine-tuned (AUC 0.958)",
        "chance (AUC 0.5)",
        "false-positive rate (negatives flagged)",
        "true-positive rate (recall)",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    // Each model's curve is one polyline in its colour (plus its legend swatch).
    assert_eq!(count_coloured(&s, "polyline", PALETTE[0]), 2);
    assert_eq!(count_coloured(&s, "polyline", PALETTE[1]), 2);

    // One class only: the rates are NaN; the series stays in the legend as undefined.
    let one = roc_curve(&[0.1, 0.2], &[true, true]);
    let mixed = [
        series[0],
        RocSeries {
            name: "other",
            fpr: &one.fpr,
            tpr: &one.tpr,
            auc: None,
        },
    ];
    let s = svg(|a| roc_chart(a, &mixed, "ROC"));
    assert!(has_text(&s, "other (AUC undefined)"));
    assert_eq!(count_coloured(&s, "polyline", PALETTE[1]), 1);
    let s = svg(|a| roc_chart(a, &mixed[1..], "ROC"));
    assert!(texts(&s).iter().any(|t| t.starts_with("No ROC curve")));
    let s = svg(|a| roc_chart(a, &[], "ROC"));
    assert!(texts(&s).iter().any(|t| t.starts_with("No ROC curve")));
}

#[test]
fn pr_chart_draws_steps_and_the_chance_line() {
    let c = precision_recall_curve(&SCORES, &IS_POS);
    let series = [PrSeries {
        name: "minilm",
        recall: &c.recall,
        precision: &c.precision,
        average_precision: Some(0.7470238),
        positive_rate: 0.4,
    }];
    let s = svg(|a| pr_chart(a, &series, "PR"));
    for t in [
        "minilm (AP 0.747)",
        "chance (positive rate 0.400)",
        "recall (positives flagged)",
        "precision (flagged that are positive)",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    // The steps: one point per distinct recall (the sklearn curve has 9 points at 5 recalls,
    // 1 four times and 0.75 twice), each but the first adding a corner: 2 × 5 − 1 vertices.
    let line = s
        .lines()
        .find(|l| {
            l.starts_with("<polyline")
                && l.contains("#0072B2")
                && l.contains("stroke-width=\"3\"")
                && l.matches(',').count() > 2
        })
        .unwrap();
    assert_eq!(line.matches(',').count(), 9);

    // The area under the steps is the average precision.
    let steps = pr_steps(&c.recall, &c.precision);
    let area: f64 = steps.windows(2).map(|w| (w[0].0 - w[1].0) * w[0].1).sum();
    assert!((area - crate::eval::metrics::average_precision(&SCORES, &IS_POS)).abs() < 1e-12);

    let none = precision_recall_curve(&[0.1, 0.2], &[false, false]);
    let s = svg(|a| {
        pr_chart(
            a,
            &[PrSeries {
                name: "m",
                recall: &none.recall,
                precision: &none.precision,
                average_precision: None,
                positive_rate: 0.0,
            }],
            "PR",
        )
    });
    assert!(texts(&s)
        .iter()
        .any(|t| t.starts_with("No precision–recall curve")));
}

#[test]
fn threshold_chart_marks_the_best_f1() {
    let grid: Vec<ThresholdMetrics> = (0..=100)
        .map(|i| at_threshold(&SCORES, &IS_POS, i as f64 / 100.0))
        .collect();
    let best = best_f1_threshold(&SCORES, &IS_POS);
    let s = svg(|a| threshold_chart(a, &grid, Some(&best), Some(0.8), "F1"));
    for t in [
        "precision",
        "recall",
        "F1",
        "best F1 0.750 at 0.66",
        "chosen 0.8",
        "threshold (flag pairs with cosine ≥ threshold)",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    // The marker: one circle in the legend and one on the curve.
    assert_eq!(count_coloured(&s, "circle", PALETTE[3]), 2);
    let s = svg(|a| threshold_chart(a, &[], None, None, "F1"));
    assert!(has_text(&s, "No thresholds to plot."));
}

#[test]
fn confusion_matrix_shows_counts_labels_and_empty_classes() {
    let m = vec![vec![5, 1], vec![1, 3]];
    let s = svg(|a| confusion_matrix_chart(a, &m, &["negative", "positive"], "CM"));
    for t in [
        "CM",
        "negative",
        "positive",
        "5",
        "1",
        "3",
        "n = 6",
        "n = 4",
        "83.3%",
        "true class",
        "predicted class",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    // The four relationship classes, `related` never occurring.
    let labels = ["duplicate", "causal", "related", "none"];
    let m4 = vec![
        vec![7, 1, 0, 2],
        vec![0, 4, 0, 1],
        vec![0, 0, 0, 0],
        vec![1, 0, 2, 30],
    ];
    let s = svg(|a| confusion_matrix_chart(a, &m4, &labels, "Relations"));
    for t in labels.iter().copied().chain(["30", "n = 0", "n = 33", "–"]) {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    // 16 cells, each a fill and an outline.
    assert_eq!(s.matches("<rect").count(), 1 + 2 * 16);
    for bad in [vec![vec![1, 2]], vec![vec![1, 2], vec![3]], vec![]] {
        let e = to_svg(760, 500, |a| {
            confusion_matrix_chart(a, &bad, &["a", "b"], "x")
        });
        assert!(e.unwrap_err().to_string().contains("2×2"));
    }
    let no_labels: [&str; 0] = [];
    assert!(to_svg(760, 500, |a| confusion_matrix_chart(
        a,
        &[],
        &no_labels,
        "x"
    ))
    .is_err());
}

#[test]
fn training_curves() {
    let losses: Vec<(usize, f64)> = (1..=200)
        .map(|s| (s, 1.0 / s as f64 + if s % 2 == 0 { 0.05 } else { 0.0 }))
        .chain([(201, f64::NAN)])
        .collect();
    let s = svg(|a| loss_chart(a, &losses, "Loss"));
    for t in [
        "Loss",
        "loss of each batch",
        "mean of the last 10 steps",
        "optimiser step",
        "loss",
    ] {
        assert!(has_text(&s, t), "`{t}` missing: {:?}", texts(&s));
    }
    let s = svg(|a| loss_chart(a, &[(1, f64::NAN)], "Loss"));
    assert!(has_text(&s, "No training steps yet."));
    let s = svg(|a| loss_chart(a, &[(1, 0.2)], "Loss"));
    assert!(s.contains("<circle"), "a single step is drawn as a point");

    let metrics = |sp: Option<f64>, auc: Option<f64>| EvalMetrics {
        pairs: 20,
        pearson: sp.map(|v| v - 0.05),
        spearman: sp,
        roc_auc: auc,
        mean_cosine: 0.5,
        best_f1_threshold: None,
    };
    let epochs = [
        metrics(Some(0.61), None),
        metrics(Some(0.66), None),
        metrics(Some(0.64), None),
    ];
    let epochs: Vec<(usize, &EvalMetrics)> = epochs.iter().enumerate().collect();
    let s = svg(|a| epoch_metrics_chart(a, &epochs, "Eval"));
    assert!(has_text(&s, "Spearman") && has_text(&s, "Pearson"));
    assert!(!has_text(&s, "ROC-AUC"), "no AUC was measured");
    assert!(has_text(&s, "epoch (0 = before training)"));
    // Whole epochs only on the axis.
    assert!(has_text(&s, "2") && !has_text(&s, "0.5"));
    let (m0, m1) = (metrics(Some(0.6), Some(0.9)), metrics(None, Some(0.95)));
    let with_auc = [(0, &m0), (1, &m1)];
    let s = svg(|a| epoch_metrics_chart(a, &with_auc, "Eval"));
    assert!(has_text(&s, "ROC-AUC"));
    let empty = metrics(None, None);
    let s = svg(|a| epoch_metrics_chart(a, &[(0, &empty)], "Eval"));
    assert!(has_text(&s, "No evaluations yet."));
}

#[test]
fn small_areas_and_names_are_handled() {
    let e = to_svg(100, 80, |a| message_chart(a, "t", "m")).unwrap_err();
    assert!(e.to_string().contains("too small"), "{e}");
    // Every chart lays out at the minimum size (or says it cannot), without panicking.
    let (w, h) = MIN_SIZE;
    let hist = ScoreHistogram::new(&SCORES, &IS_POS).unwrap();
    let roc = roc_curve(&SCORES, &IS_POS);
    let grid: Vec<ThresholdMetrics> = (0..=100)
        .map(|i| at_threshold(&SCORES, &IS_POS, i as f64 / 100.0))
        .collect();
    to_svg(w, h, |a| {
        similarity_histogram(a, &hist, Some(0.5), "Histogram")
    })
    .unwrap();
    to_svg(w, h, |a| {
        roc_chart(
            a,
            &[RocSeries {
                name: "m",
                fpr: &roc.fpr,
                tpr: &roc.tpr,
                auc: Some(0.8),
            }],
            "ROC",
        )
    })
    .unwrap();
    to_svg(w, h, |a| threshold_chart(a, &grid, None, None, "F1")).unwrap();
    to_svg(w, h, |a| {
        confusion_matrix_chart(a, &[vec![1, 2], vec![3, 4]], &["a", "b"], "CM")
    })
    .unwrap();
    to_svg(w, h, |a| loss_chart(a, &[(1, 0.5), (2, 0.4)], "Loss")).unwrap();
    // Class names wider than a small cell are shortened, never drawn over each other.
    let labels = ["duplicate", "causal", "related", "none"];
    let m4 = vec![vec![1, 0, 0, 0]; 4];
    let s = to_svg(w, h, |a| confusion_matrix_chart(a, &m4, &labels, "CM")).unwrap();
    assert!(
        texts(&s).iter().any(|t| t.ends_with('…')),
        "{:?}",
        texts(&s)
    );
    assert!(
        has_text(&s, "none") && has_text(&s, "duplicate"),
        "row labels fit"
    );
    // Names are text, never markup.
    let s = svg(|a| {
        roc_chart(
            a,
            &[RocSeries {
                name: "<b>a&b</b>",
                fpr: &roc.fpr,
                tpr: &roc.tpr,
                auc: None,
            }],
            "<i>",
        )
    });
    assert!(s.contains("&lt;b&gt;a&amp;b&lt;/b&gt;") && !s.contains("<b>") && !s.contains("<i>"));
}
