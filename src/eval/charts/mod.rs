//! Charts of evaluation and training results, drawn on any plotters backend: the CLI renders them to
//! SVG ([`to_svg`]), the web app onto a `<canvas>` through plotters-canvas — the same functions, so
//! both show the same pictures.
//!
//! Every chart takes plot-ready values (slices, [`ScoreHistogram`], [`ThresholdMetrics`]) rather than
//! a report, so the web app can draw a live result or compare several models on one chart. Nothing
//! here panics on odd data: an empty or undefined input draws the chart's title with a message in
//! place of the plot, and an area too small to lay out is an [`Error::Invalid`].
//!
//! Text is drawn as text (SVG `<text>`, canvas `fillText`), so no font is bundled; layout uses
//! plotters' width estimates, which is why labels are kept short and legends sit in their own row
//! above the plot instead of on top of the data. In the browser, draw on the main thread: plotters
//! measures canvas text through the DOM, which a Web Worker does not have.
//!
//! This file holds what every chart shares (palette, type sizes, layout, legend row, axes, the
//! message chart, SVG rendering); one file per kind of chart: [`histogram`], [`curves`] (ROC, PR,
//! metrics by threshold), [`matrix`] (confusion matrix), [`retrieval`] (recall@k), [`map`] (tickets in 2-D) and [`training`] (loss and per-epoch
//! metrics).
//!
//! Imports: plotters, the evaluation module's metrics types and the crate's error type.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use super::metrics::ThresholdMetrics;
use super::similarity::EvalMetrics;
use crate::error::{Error, Result};

pub mod curves;
pub mod histogram;
pub mod map;
pub mod matrix;
pub mod retrieval;
pub mod training;

pub use curves::{pr_chart, roc_chart, threshold_chart, PrSeries, RocSeries};
pub use histogram::{similarity_histogram, ScoreHistogram};
pub use map::{ticket_map_chart, MAP_CLASSES};
pub use matrix::confusion_matrix_chart;
pub use retrieval::recall_at_k_chart;
pub use training::{epoch_metrics_chart, loss_chart};

/// The smallest drawing area (pixels) a chart accepts; below this the axes and labels cannot be laid
/// out without overlapping.
pub const MIN_SIZE: (u32, u32) = (320, 240);

/// Series colours: the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 120, 120), // grey
];

const NEGATIVE: RGBColor = PALETTE[0];
const POSITIVE: RGBColor = PALETTE[1];
const REFERENCE: RGBColor = RGBColor(110, 110, 110);
const INK: RGBColor = RGBColor(30, 30, 30);
const FAINT_GRID: RGBColor = RGBColor(238, 238, 238);
const GRID: RGBColor = RGBColor(215, 215, 215);

// Font sizes in plotters' units (the SVG backend writes size / 1.24 as the CSS font-size) for a
// chart of the report's size; smaller areas scale them down (see `Layout`).
const TITLE_SIZE: f64 = 22.0;
const LABEL_SIZE: f64 = 17.0;
const TICK_SIZE: f64 = 15.0;
const FULL_SIZE: (f64, f64) = (760.0, 500.0);

/// Sizes of text and spacing for one chart: full size at 760 × 500 px and up, shrinking with the
/// area down to 70% so that a small canvas keeps the proportions of the large chart.
#[derive(Clone, Copy)]
struct Layout {
    scale: f64,
}

impl Layout {
    fn of<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Self {
        let (w, h) = area.dim_in_pixel();
        Layout {
            scale: (w as f64 / FULL_SIZE.0)
                .min(h as f64 / FULL_SIZE.1)
                .clamp(0.7, 1.0),
        }
    }

    fn font(self, size: f64) -> TextStyle<'static> {
        text(size * self.scale)
    }

    fn px(self, size: f64) -> i32 {
        (size * self.scale).round() as i32
    }
}

/// Draw into `area`, turning plotters' error into the library's.
trait Drawn<T> {
    fn drawn(self) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync> Drawn<T>
    for std::result::Result<T, DrawingAreaErrorKind<E>>
{
    fn drawn(self) -> Result<T> {
        self.map_err(|e| Error::Invalid(format!("cannot draw the chart: {e}")))
    }
}

fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", size).into_font()).color(&INK)
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Bar(RGBColor),
    Marker(RGBColor),
}

struct LegendItem {
    label: String,
    swatch: Swatch,
}

fn item(label: impl Into<String>, swatch: Swatch) -> LegendItem {
    LegendItem {
        label: label.into(),
        swatch,
    }
}

const SWATCH_WIDTH: f64 = 28.0;
const LEGEND_ROW: f64 = 24.0;
const LEGEND_GAP: f64 = 22.0;

/// Fill the area, draw the title and the legend rows under it, and return the area left for the
/// plot with the layout to draw it in. Checks the size first, so no chart lays out into negative
/// space.
fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendItem],
) -> Result<(DrawingArea<DB, Shift>, Layout)> {
    let (w, h) = area.dim_in_pixel();
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 {
        return Err(Error::Invalid(format!(
            "chart area {w}×{h} px is too small (at least {}×{})",
            MIN_SIZE.0, MIN_SIZE.1
        )));
    }
    let l = Layout::of(area);
    area.fill(&WHITE).drawn()?;
    let title_style = l.font(TITLE_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(title, &title_style, (w as i32 / 2, l.px(10.0)))
        .drawn()?;
    let mut y = l.px(10.0 + TITLE_SIZE + 10.0);

    // Greedy rows: as many entries as fit the width, each row centred.
    let label_style = l.font(LABEL_SIZE);
    let (swatch, gap) = (l.px(SWATCH_WIDTH), l.px(LEGEND_GAP));
    let mut rows: Vec<Vec<(&LegendItem, i32)>> = Vec::new();
    let mut row_width = 0;
    let avail = w as i32 - l.px(40.0);
    for it in legend {
        let (tw, _) = area.estimate_text_size(&it.label, &label_style).drawn()?;
        let iw = swatch + 6 + tw as i32;
        let gap = if rows.last().is_some_and(|r| !r.is_empty()) {
            gap
        } else {
            0
        };
        match rows.last_mut() {
            Some(r) if row_width + gap + iw <= avail => {
                r.push((it, iw));
                row_width += gap + iw;
            }
            _ => {
                rows.push(vec![(it, iw)]);
                row_width = iw;
            }
        }
    }
    for row in &rows {
        let total: i32 = row.iter().map(|(_, iw)| iw).sum::<i32>() + gap * (row.len() as i32 - 1);
        let mut x = (w as i32 - total).max(0) / 2;
        let mid = y + l.px(LEGEND_ROW) / 2;
        for (it, iw) in row {
            draw_swatch(area, it.swatch, x, mid, swatch)?;
            area.draw_text(
                &it.label,
                &label_style.pos(Pos::new(HPos::Left, VPos::Center)),
                (x + swatch + 6, mid),
            )
            .drawn()?;
            x += iw + gap;
        }
        y += l.px(LEGEND_ROW);
    }
    Ok((area.split_vertically(y + 6).1, l))
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    mid: i32,
    width: i32,
) -> Result<()> {
    let ends = [(x, mid), (x + width, mid)];
    match swatch {
        Swatch::Line(c, width) => area
            .draw(&PathElement::new(ends, c.stroke_width(width)))
            .drawn(),
        Swatch::Dashed(c) => area
            .draw(&DashedPathElement::new(ends, 6, 4, c.stroke_width(2)))
            .drawn(),
        Swatch::Bar(c) => area
            .draw(&Rectangle::new(
                [(x + 4, mid - width / 4), (x + width - 4, mid + width / 4)],
                c.filled(),
            ))
            .drawn(),
        Swatch::Marker(c) => area
            .draw(&Circle::new((x + width / 2, mid), width / 5, c.filled()))
            .drawn(),
    }
}

/// A chart without data: the title and `message`, word-wrapped to the width, in a frame where the
/// plot would be. The charts use it for empty or undefined inputs; callers can use it for a chart
/// that has nothing to show yet.
pub fn message_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> Result<()> {
    let (plot, l) = frame(area, title, &[])?;
    let (w, h) = plot.dim_in_pixel();
    let style = l.font(LABEL_SIZE).color(&REFERENCE);
    let mut lines: Vec<String> = Vec::new();
    for word in message.split_whitespace() {
        let candidate = match lines.last() {
            Some(l) => format!("{l} {word}"),
            None => word.to_string(),
        };
        let (tw, _) = plot.estimate_text_size(&candidate, &style).drawn()?;
        match lines.last_mut() {
            Some(l) if tw as i32 <= w as i32 - 40 => *l = candidate,
            Some(_) => lines.push(word.to_string()),
            None => lines.push(candidate),
        }
    }
    let line_h = l.px(LABEL_SIZE + 6.0);
    let top = h as i32 / 2 - line_h * lines.len() as i32 / 2;
    for (i, l) in lines.iter().enumerate() {
        plot.draw_text(
            l,
            &style.pos(Pos::new(HPos::Center, VPos::Top)),
            (w as i32 / 2, top + i as i32 * line_h),
        )
        .drawn()?;
    }
    plot.draw(&Rectangle::new(
        [(10, 4), (w as i32 - 10, h as i32 - 10)],
        GRID.stroke_width(1),
    ))
    .drawn()
}

type F64Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes over `x` × `y` with light grid lines and labelled axes.
#[allow(clippy::too_many_arguments)]
fn axes<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    l: Layout,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: &str,
    y_desc: &str,
    x_format: Ticks,
    y_format: Ticks,
) -> Result<F64Chart<'a, DB>> {
    let (w, h) = plot.dim_in_pixel();
    let mut chart = ChartBuilder::on(plot)
        .margin_left(l.px(8.0))
        .margin_right(l.px(26.0))
        .margin_top(4)
        .margin_bottom(4)
        .x_label_area_size(l.px(52.0))
        .y_label_area_size(l.px(70.0))
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .drawn()?;
    // Room for each tick label: about 70 px across, 32 px up.
    let (x_ticks, y_ticks) = (
        (w as usize / 70).clamp(3, 11),
        (h as usize / 32).clamp(3, 11),
    );
    let x_fmt = |v: &f64| x_format.label(*v);
    let y_fmt = |v: &f64| y_format.label(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(l.font(TICK_SIZE))
        .axis_desc_style(l.font(LABEL_SIZE))
        .light_line_style(FAINT_GRID)
        .bold_line_style(GRID)
        .axis_style(INK.stroke_width(1))
        .x_labels(x_ticks)
        .y_labels(y_ticks)
        .max_light_lines(1)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .drawn()?;
    Ok(chart)
}

/// How an axis labels its ticks.
#[derive(Clone, Copy)]
enum Ticks {
    Plain,
    Percent,
    /// Counts (epochs, steps): a tick between two whole numbers stays unlabelled.
    Whole,
}

impl Ticks {
    fn label(self, v: f64) -> String {
        match self {
            Ticks::Plain => tick(v),
            Ticks::Percent => format!("{}%", tick(v)),
            Ticks::Whole if (v - v.round()).abs() < 1e-9 => format!("{}", v.round()),
            Ticks::Whole => String::new(),
        }
    }
}

/// A tick label with no more digits than it needs (0, 0.25, 1.5, 120).
fn tick(v: f64) -> String {
    let s = format!("{:.3}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Render a chart to an SVG document of `width` × `height` pixels.
pub fn to_svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().drawn()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests;
