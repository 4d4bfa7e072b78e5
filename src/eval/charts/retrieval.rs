//! Retrieval: recall@k against k, one line per method (BM25, each model's cosine and hybrid).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axes, frame, item, message_chart, Drawn, Swatch, Ticks, PALETTE};
use crate::error::Result;

/// recall@k for k = 1..=K of each `(method, curve)` (`curve[k - 1]` is recall@k), lines with a
/// marker at every k. Methods with an empty curve are left out.
pub fn recall_at_k_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[(&str, &[f64])],
    title: &str,
) -> Result<()> {
    let present: Vec<(&str, &[f64])> = series
        .iter()
        .copied()
        .filter(|(_, c)| c.iter().any(|v| v.is_finite()))
        .collect();
    if present.is_empty() {
        return message_chart(area, title, "No queries to evaluate.");
    }
    let legend: Vec<_> = present
        .iter()
        .enumerate()
        .map(|(i, (name, _))| item(*name, Swatch::Line(PALETTE[i % PALETTE.len()], 3)))
        .collect();
    let (plot, l) = frame(area, title, &legend)?;
    let max_k = present
        .iter()
        .map(|(_, c)| c.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mut chart = axes(
        &plot,
        l,
        (0.6, max_k as f64 + 0.4),
        (0.0, 1.02),
        "k (tickets shown)",
        "recall@k",
        Ticks::Whole,
        Ticks::Plain,
    )?;
    for (i, (_, curve)) in present.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = curve
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(k, &v)| ((k + 1) as f64, v))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(3)))
            .drawn()?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .drawn()?;
    }
    Ok(())
}
