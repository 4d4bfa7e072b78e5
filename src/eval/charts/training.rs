//! Training charts: loss per step and evaluation metrics per epoch.

use super::*;

/// Value range of `values` padded by 5% (at least ±0.05), for an axis.
fn padded(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })?;
    let pad = ((hi - lo) * 0.05).max(0.05);
    Some((lo - pad, hi + pad))
}

/// Training loss per optimiser step (`(step, loss)`), with the mean of the last steps on top: one
/// batch's loss is noisy, the running mean shows the trend. Non-finite losses are left out.
pub fn loss_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    losses: &[(usize, f64)],
    title: &str,
) -> Result<()> {
    let points: Vec<(f64, f64)> = losses
        .iter()
        .filter(|(_, l)| l.is_finite())
        .map(|&(s, l)| (s as f64, l))
        .collect();
    if points.is_empty() {
        return message_chart(area, title, "No training steps yet.");
    }
    let window = (points.len() / 20).clamp(1, 50);
    let mut legend = vec![item("loss of each batch", Swatch::Line(PALETTE[5], 1))];
    if window > 1 {
        legend.push(item(
            format!("mean of the last {window} steps"),
            Swatch::Line(PALETTE[0], 3),
        ));
    }
    let (plot, l) = frame(area, title, &legend)?;
    let (s0, s1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let (y0, y1) = padded(points.iter().map(|p| p.1)).unwrap_or((0.0, 1.0));
    let y0 = if points.iter().all(|p| p.1 >= 0.0) {
        y0.max(0.0)
    } else {
        y0
    };
    let mut chart = axes(
        &plot,
        l,
        (s0, s1.max(s0 + 1.0)),
        (y0, y1),
        "optimiser step",
        "loss",
        Ticks::Whole,
        Ticks::Plain,
    )?;
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            PALETTE[5].stroke_width(1),
        ))
        .drawn()?;
    // A line needs two points: while a run is young, mark each step so the first one shows.
    if points.len() < 50 {
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 2, PALETTE[5].filled())),
            )
            .drawn()?;
    }
    if window > 1 {
        let mut sum = 0.0;
        let mut smooth = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            sum += p.1;
            if i >= window {
                sum -= points[i - window].1;
            }
            smooth.push((p.0, sum / (i + 1).min(window) as f64));
        }
        chart
            .draw_series(LineSeries::new(smooth, PALETTE[0].stroke_width(3)))
            .drawn()?;
    }
    Ok(())
}

/// Evaluation metrics per epoch (epoch 0 is the base model): Spearman (the metric that picks the
/// checkpoint), Pearson, and ROC-AUC when the eval labels are binary. Undefined values are gaps.
pub fn epoch_metrics_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    epochs: &[(usize, &EvalMetrics)],
    title: &str,
) -> Result<()> {
    type Get = fn(&EvalMetrics) -> Option<f64>;
    let metrics: [(&str, Get, RGBColor); 3] = [
        ("Spearman", |m| m.spearman, PALETTE[0]),
        ("Pearson", |m| m.pearson, PALETTE[1]),
        ("ROC-AUC", |m| m.roc_auc, PALETTE[2]),
    ];
    type Line<'n> = (&'n str, Vec<(f64, f64)>, RGBColor);
    let present: Vec<Line> = metrics
        .iter()
        .map(|&(name, get, colour)| {
            let pts = epochs
                .iter()
                .filter_map(|&(epoch, m)| {
                    get(m).filter(|v| v.is_finite()).map(|v| (epoch as f64, v))
                })
                .collect::<Vec<_>>();
            (name, pts, colour)
        })
        .filter(|(_, pts, _)| !pts.is_empty())
        .collect();
    if present.is_empty() {
        return message_chart(area, title, "No evaluations yet.");
    }
    let legend: Vec<LegendItem> = present
        .iter()
        .map(|(name, _, colour)| item(*name, Swatch::Line(*colour, 3)))
        .collect();
    let (plot, l) = frame(area, title, &legend)?;
    let last = epochs
        .iter()
        .map(|&(epoch, _)| epoch)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (y0, y1) = padded(
        present
            .iter()
            .flat_map(|(_, pts, _)| pts.iter().map(|p| p.1)),
    )
    .unwrap_or((0.0, 1.0));
    let mut chart = axes(
        &plot,
        l,
        (-0.2, last + 0.2),
        (y0.max(-1.0), y1.min(1.0)),
        "epoch (0 = before training)",
        "eval metric",
        Ticks::Whole,
        Ticks::Plain,
    )?;
    for (_, pts, colour) in &present {
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(3)))
            .drawn()?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
            .drawn()?;
    }
    Ok(())
}
