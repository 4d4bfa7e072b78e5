//! The map of the tickets: one dot per ticket at its 2-D projection, coloured by class (category or
//! duplicate group). Returns where each dot was drawn, so the web app can find the ticket under the
//! pointer and show its title.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axes, frame, item, message_chart, Drawn, Swatch, Ticks, PALETTE};
use crate::error::Result;

/// Classes with a colour of their own; the rest share grey (the palette's last colour).
pub const MAP_CLASSES: usize = PALETTE.len() - 1;

/// Draw `points` (x, y per ticket) coloured by `classes[i]` (an index into `class_names`; indices
/// from [`MAP_CLASSES`] on are grey). Returns each point's pixel position in the backend's
/// coordinates (empty when there is nothing to draw).
pub fn ticket_map_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[[f32; 2]],
    classes: &[usize],
    class_names: &[String],
    title: &str,
) -> Result<Vec<(i32, i32)>> {
    if points.is_empty() || points.len() != classes.len() {
        message_chart(area, title, "No tickets to place.")?;
        return Ok(Vec::new());
    }
    let colour = |c: usize| PALETTE[c.min(MAP_CLASSES)];
    let legend: Vec<_> = class_names
        .iter()
        .enumerate()
        .filter(|(c, _)| classes.contains(c))
        .take(MAP_CLASSES + 1)
        .map(|(c, name)| item(name.clone(), Swatch::Marker(colour(c))))
        .collect();
    let (plot, l) = frame(area, title, &legend)?;
    let range = |axis: usize| {
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p[axis] as f64), hi.max(p[axis] as f64))
            });
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo - pad, hi + pad)
    };
    let mut chart = axes(
        &plot,
        l,
        range(0),
        range(1),
        "first principal component",
        "second principal component",
        Ticks::Plain,
        Ticks::Plain,
    )?;
    // Grey first, so coloured dots are drawn on top of the crowd.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(classes[i].min(MAP_CLASSES)));
    let radius = if points.len() > 2000 { 2 } else { 3 };
    chart
        .draw_series(order.iter().map(|&i| {
            let p = points[i];
            Circle::new(
                (p[0] as f64, p[1] as f64),
                radius,
                colour(classes[i]).filled(),
            )
        }))
        .drawn()?;
    Ok(points
        .iter()
        .map(|p| chart.backend_coord(&(p[0] as f64, p[1] as f64)))
        .collect())
}
