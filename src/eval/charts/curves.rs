//! Threshold curves: ROC, precision–recall and the metrics-by-threshold chart.

use super::*;

/// One model's ROC curve for [`roc_chart`]: rates from [`crate::eval::metrics::roc_curve`].
#[derive(Clone, Copy, Debug)]
pub struct RocSeries<'a> {
    /// Legend name, e.g. "base" or "fine-tuned".
    pub name: &'a str,
    /// False-positive rates, one per threshold.
    pub fpr: &'a [f64],
    /// True-positive rates, one per threshold.
    pub tpr: &'a [f64],
    /// Area under the curve, shown in the legend.
    pub auc: Option<f64>,
}

/// Rates that can be drawn: same length, at least two points, all finite. ROC rates are `NaN` when
/// a class is absent.
fn drawable(xs: &[f64], ys: &[f64]) -> bool {
    xs.len() == ys.len() && xs.len() >= 2 && xs.iter().chain(ys).all(|v| v.is_finite())
}

fn score_label(name: &str, what: &str, value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite()) {
        Some(v) => format!("{name} ({what} {v:.3})"),
        None => format!("{name} ({what} undefined)"),
    }
}

/// ROC curves of one or more models on one chart, with the chance diagonal: each point is (share
/// of negatives flagged, share of positives flagged) at one threshold. A series that cannot be drawn
/// (one class only, so the rates are `NaN`) keeps its legend entry, marked undefined.
pub fn roc_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[RocSeries],
    title: &str,
) -> Result<()> {
    if !series.iter().any(|s| drawable(s.fpr, s.tpr)) {
        return message_chart(
            area,
            title,
            "No ROC curve: it needs both positive and negative pairs.",
        );
    }
    let mut legend: Vec<LegendItem> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let auc = if drawable(s.fpr, s.tpr) { s.auc } else { None };
            item(
                score_label(s.name, "AUC", auc),
                Swatch::Line(PALETTE[i % PALETTE.len()], 3),
            )
        })
        .collect();
    legend.push(item("chance (AUC 0.5)", Swatch::Dashed(REFERENCE)));
    let (plot, l) = frame(area, title, &legend)?;
    let mut chart = axes(
        &plot,
        l,
        (0.0, 1.0),
        (0.0, 1.005),
        "false-positive rate (negatives flagged)",
        "true-positive rate (recall)",
        Ticks::Plain,
        Ticks::Plain,
    )?;
    chart
        .draw_series(std::iter::once(DashedPathElement::new(
            [(0.0, 0.0), (1.0, 1.0)],
            6,
            4,
            REFERENCE.stroke_width(2),
        )))
        .drawn()?;
    for (i, s) in series.iter().enumerate() {
        if drawable(s.fpr, s.tpr) {
            let colour = PALETTE[i % PALETTE.len()];
            let points: Vec<(f64, f64)> =
                s.fpr.iter().copied().zip(s.tpr.iter().copied()).collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(3)))
                .drawn()?;
        }
    }
    Ok(())
}

/// One model's precision–recall curve for [`pr_chart`], from
/// [`crate::eval::metrics::precision_recall_curve`].
#[derive(Clone, Copy, Debug)]
pub struct PrSeries<'a> {
    /// Legend name.
    pub name: &'a str,
    /// Recall at each point (descending, as the metrics module returns it).
    pub recall: &'a [f64],
    /// Precision at each point.
    pub precision: &'a [f64],
    /// Average precision, shown in the legend.
    pub average_precision: Option<f64>,
    /// Share of positives in the data: the precision of flagging at random, drawn as a baseline.
    pub positive_rate: f64,
}

/// Precision–recall curves of one or more models, drawn as steps (the precision that holds until
/// recall reaches the next point — the area under these steps is the average precision), with the
/// chance baseline at each distinct positive rate.
pub fn pr_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[PrSeries],
    title: &str,
) -> Result<()> {
    if !series.iter().any(|s| drawable(s.recall, s.precision)) {
        return message_chart(
            area,
            title,
            "No precision–recall curve: it needs positive pairs.",
        );
    }
    let mut rates: Vec<f64> = Vec::new();
    for s in series {
        if s.positive_rate.is_finite() && !rates.iter().any(|r| (r - s.positive_rate).abs() < 1e-9)
        {
            rates.push(s.positive_rate);
        }
    }
    let mut legend: Vec<LegendItem> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ap = if drawable(s.recall, s.precision) {
                s.average_precision
            } else {
                None
            };
            item(
                score_label(s.name, "AP", ap),
                Swatch::Line(PALETTE[i % PALETTE.len()], 3),
            )
        })
        .collect();
    for r in &rates {
        legend.push(item(
            format!("chance (positive rate {r:.3})"),
            Swatch::Dashed(REFERENCE),
        ));
    }
    let (plot, l) = frame(area, title, &legend)?;
    let mut chart = axes(
        &plot,
        l,
        (0.0, 1.0),
        (0.0, 1.02),
        "recall (positives flagged)",
        "precision (flagged that are positive)",
        Ticks::Plain,
        Ticks::Plain,
    )?;
    for r in &rates {
        let r = r.clamp(0.0, 1.0);
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                [(0.0, r), (1.0, r)],
                6,
                4,
                REFERENCE.stroke_width(2),
            )))
            .drawn()?;
    }
    for (i, s) in series.iter().enumerate() {
        if !drawable(s.recall, s.precision) {
            continue;
        }
        let points = pr_steps(s.recall, s.precision);
        chart
            .draw_series(LineSeries::new(
                points,
                PALETTE[i % PALETTE.len()].stroke_width(3),
            ))
            .drawn()?;
    }
    Ok(())
}

/// The vertices of a precision–recall step line. Of a run of points at the same recall (negatives
/// added, no positive), only the last — the highest threshold — counts in the average precision;
/// the others would draw as downward teeth without area, so they are left out. Each kept point's
/// precision then holds until the next point's recall (matplotlib's steps-post), and the area under
/// the steps is the average precision.
pub(super) fn pr_steps(recall: &[f64], precision: &[f64]) -> Vec<(f64, f64)> {
    let kept: Vec<(f64, f64)> = (0..recall.len().min(precision.len()))
        .filter(|&k| k + 1 == recall.len() || recall[k + 1] != recall[k])
        .map(|k| (recall[k], precision[k]))
        .collect();
    let mut points = Vec::with_capacity(2 * kept.len());
    for (k, &(r, p)) in kept.iter().enumerate() {
        if k > 0 {
            points.push((r, kept[k - 1].1));
        }
        points.push((r, p));
    }
    points
}

/// Precision, recall and F1 against the threshold (flag a pair when its score ≥ the threshold),
/// from [`crate::eval::metrics::at_threshold`] on a grid, with a marker at `best` (the best-F1 threshold)
/// and an optional second line at a `chosen` threshold.
pub fn threshold_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    grid: &[ThresholdMetrics],
    best: Option<&ThresholdMetrics>,
    chosen: Option<f64>,
    title: &str,
) -> Result<()> {
    let finite = |m: &ThresholdMetrics| {
        [m.threshold, m.precision, m.recall, m.f1]
            .iter()
            .all(|v| v.is_finite())
    };
    let points: Vec<&ThresholdMetrics> = grid.iter().filter(|m| finite(m)).collect();
    if points.is_empty() {
        return message_chart(area, title, "No thresholds to plot.");
    }
    let best = best.filter(|b| finite(b));
    let chosen = chosen.filter(|t| t.is_finite());
    let mut legend = vec![
        item("precision", Swatch::Line(PALETTE[0], 2)),
        item("recall", Swatch::Line(PALETTE[1], 2)),
        item("F1", Swatch::Line(PALETTE[2], 3)),
    ];
    if let Some(b) = best {
        legend.push(item(
            format!("best F1 {:.3} at {}", b.f1, tick(b.threshold)),
            Swatch::Marker(PALETTE[3]),
        ));
    }
    if let Some(t) = chosen {
        legend.push(item(format!("chosen {}", tick(t)), Swatch::Dashed(INK)));
    }
    let (plot, l) = frame(area, title, &legend)?;
    let (mut x0, mut x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), m| {
            (lo.min(m.threshold), hi.max(m.threshold))
        });
    for t in best.map(|b| b.threshold).into_iter().chain(chosen) {
        x0 = x0.min(t);
        x1 = x1.max(t);
    }
    if x1 - x0 < 1e-9 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let mut chart = axes(
        &plot,
        l,
        (x0, x1),
        (0.0, 1.02),
        "threshold (flag pairs with cosine ≥ threshold)",
        "precision, recall, F1",
        Ticks::Plain,
        Ticks::Plain,
    )?;
    let line = |f: &dyn Fn(&ThresholdMetrics) -> f64| -> Vec<(f64, f64)> {
        points.iter().map(|m| (m.threshold, f(m))).collect()
    };
    let curves = [
        (line(&|m| m.precision), PALETTE[0], 2),
        (line(&|m| m.recall), PALETTE[1], 2),
        (line(&|m| m.f1), PALETTE[2], 3),
    ];
    for (pts, colour, width) in curves {
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(width)))
            .drawn()?;
    }
    if let Some(t) = chosen {
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                [(t, 0.0), (t, 1.02)],
                6,
                4,
                INK.stroke_width(2),
            )))
            .drawn()?;
    }
    if let Some(b) = best {
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                [(b.threshold, 0.0), (b.threshold, b.f1)],
                3,
                3,
                PALETTE[3].stroke_width(1),
            )))
            .drawn()?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (b.threshold, b.f1),
                6,
                PALETTE[3].filled(),
            )))
            .drawn()?;
    }
    Ok(())
}
