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

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use super::metrics::ThresholdMetrics;
use super::similarity::EvalMetrics;
use crate::error::{Error, Result};

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

/// Counts of positive and negative pairs' scores in equal bins: the data of
/// [`similarity_histogram`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreHistogram {
    /// Bin edges, ascending, [`ScoreHistogram::BIN_WIDTH`] apart: bin `i` holds scores in
    /// `[edges[i], edges[i + 1])`, the last bin also its right edge. Empty when there are no scores.
    pub edges: Vec<f64>,
    /// Positive pairs per bin.
    pub positives: Vec<usize>,
    /// Negative pairs per bin.
    pub negatives: Vec<usize>,
}

impl ScoreHistogram {
    /// Width of a bin. Edges are multiples of it, so a threshold on the 0.01 grid never splits a
    /// bin's meaning between two readings.
    pub const BIN_WIDTH: f64 = 0.05;
    /// Most bins allowed: cosines span at most 40 bins; far more means the scores are not cosines.
    pub const MAX_BINS: usize = 400;

    /// Bin `scores` (one per pair; `positive[i]` says whether pair `i` is a positive) over the range
    /// the data covers, rounded out to whole bins. A non-finite score is an error naming the pair.
    pub fn new(scores: &[f64], positive: &[bool]) -> Result<Self> {
        if scores.len() != positive.len() {
            return Err(Error::Invalid(format!(
                "histogram: {} scores but {} labels",
                scores.len(),
                positive.len()
            )));
        }
        if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
            return Err(Error::Invalid(format!(
                "histogram: the score of pair {i} is {}, not a finite number",
                scores[i]
            )));
        }
        let empty = ScoreHistogram {
            edges: Vec::new(),
            positives: Vec::new(),
            negatives: Vec::new(),
        };
        let Some((min, max)) = scores
            .iter()
            .fold(None, |acc: Option<(f64, f64)>, &s| match acc {
                None => Some((s, s)),
                Some((lo, hi)) => Some((lo.min(s), hi.max(s))),
            })
        else {
            return Ok(empty);
        };
        let per_unit = 1.0 / Self::BIN_WIDTH;
        // The nudge puts a score written as a bin edge (0.35) into the bin that starts there, despite
        // 0.35 × 20 landing a hair below 7 in binary.
        let bin_of = |s: f64| (s * per_unit + 1e-9).floor();
        let lo = bin_of(min);
        let hi = (max * per_unit - 1e-9).ceil().max(lo + 1.0);
        if hi - lo > Self::MAX_BINS as f64 {
            return Err(Error::Invalid(format!(
                "histogram: scores span {min} to {max}, more than {} bins of {}: not similarity scores",
                Self::MAX_BINS,
                Self::BIN_WIDTH
            )));
        }
        let bins = (hi - lo) as usize;
        let mut h = ScoreHistogram {
            edges: (0..=bins).map(|k| (lo + k as f64) / per_unit).collect(),
            positives: vec![0; bins],
            negatives: vec![0; bins],
        };
        for (&s, &p) in scores.iter().zip(positive) {
            let i = ((bin_of(s) - lo).max(0.0) as usize).min(bins - 1);
            if p {
                h.positives[i] += 1;
            } else {
                h.negatives[i] += 1;
            }
        }
        Ok(h)
    }

    /// Positive pairs counted.
    pub fn total_positives(&self) -> usize {
        self.positives.iter().sum()
    }

    /// Negative pairs counted.
    pub fn total_negatives(&self) -> usize {
        self.negatives.iter().sum()
    }
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

/// Similarity histogram: the share of positive and of negative pairs in each score bin, side by
/// side, with an optional vertical line at the decision `threshold` (pairs at or right of it are
/// flagged similar). Shares rather than counts, so a rare class is as visible as a common one; the
/// legend gives each class's count.
pub fn similarity_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    hist: &ScoreHistogram,
    threshold: Option<f64>,
    title: &str,
) -> Result<()> {
    let bins = hist.edges.len().saturating_sub(1);
    if bins == 0 || hist.positives.len() != bins || hist.negatives.len() != bins {
        let what = if hist.edges.is_empty() {
            "No scores to plot."
        } else {
            "Malformed histogram: the counts do not match the bins."
        };
        return message_chart(area, title, what);
    }
    if let Some(t) = threshold.filter(|t| !t.is_finite()) {
        return Err(Error::Invalid(format!(
            "histogram threshold {t} is not a number"
        )));
    }
    let (n_pos, n_neg) = (hist.total_positives(), hist.total_negatives());
    let share = |count: usize, total: usize| {
        if total == 0 {
            0.0
        } else {
            100.0 * count as f64 / total as f64
        }
    };
    let mut legend = vec![
        item(
            format!("negative pairs (n = {n_neg})"),
            Swatch::Bar(NEGATIVE),
        ),
        item(
            format!("positive pairs (n = {n_pos})"),
            Swatch::Bar(POSITIVE),
        ),
    ];
    if let Some(t) = threshold {
        legend.push(item(format!("threshold {}", tick(t)), Swatch::Dashed(INK)));
    }
    let (plot, l) = frame(area, title, &legend)?;
    let top = (0..bins)
        .map(|i| share(hist.positives[i], n_pos).max(share(hist.negatives[i], n_neg)))
        .fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.08 } else { 1.0 };
    let mut x0 = hist.edges[0];
    let mut x1 = hist.edges[bins];
    if let Some(t) = threshold {
        x0 = x0.min(t - ScoreHistogram::BIN_WIDTH);
        x1 = x1.max(t + ScoreHistogram::BIN_WIDTH);
    }
    let mut chart = axes(
        &plot,
        l,
        (x0, x1),
        (0.0, y_max),
        "cosine similarity",
        "share of the pairs of each class",
        Ticks::Plain,
        Ticks::Percent,
    )?;
    // Negatives in the left half of each bin, positives in the right, with a hairline gap.
    let bars = |counts: &[usize], total: usize, left: bool, colour: RGBColor| {
        (0..bins)
            .filter(|&i| counts[i] > 0)
            .map(|i| {
                let (a, b) = (hist.edges[i], hist.edges[i + 1]);
                let mid = (a + b) / 2.0;
                let pad = (b - a) * 0.04;
                let (l, r) = if left { (a + pad, mid) } else { (mid, b - pad) };
                Rectangle::new([(l, 0.0), (r, share(counts[i], total))], colour.filled())
            })
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(bars(&hist.negatives, n_neg, true, NEGATIVE))
        .drawn()?;
    chart
        .draw_series(bars(&hist.positives, n_pos, false, POSITIVE))
        .drawn()?;
    if let Some(t) = threshold {
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                [(t, 0.0), (t, y_max)],
                6,
                4,
                INK.stroke_width(2),
            )))
            .drawn()?;
    }
    Ok(())
}

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
fn pr_steps(recall: &[f64], precision: &[f64]) -> Vec<(f64, f64)> {
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

/// Confusion matrix as a heatmap: rows are the true classes, columns the predicted ones, each cell
/// the count and its share of the row (so a cell's shade reads as "of the pairs that really are
/// X, this share was called Y"). Works for any n × n with `labels` naming the classes in order; a
/// class with no pairs is a row of zeros marked n = 0.
pub fn confusion_matrix_chart<DB: DrawingBackend, S: AsRef<str>>(
    area: &DrawingArea<DB, Shift>,
    matrix: &[Vec<usize>],
    labels: &[S],
    title: &str,
) -> Result<()> {
    let n = labels.len();
    if n == 0 {
        return Err(Error::Invalid(
            "confusion matrix: no classes to label".into(),
        ));
    }
    if matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
        return Err(Error::Invalid(format!(
            "confusion matrix: expected {n}×{n} counts for {n} class labels, found {} rows of {}",
            matrix.len(),
            matrix
                .iter()
                .map(|r| r.len().to_string())
                .collect::<Vec<_>>()
                .join("/")
        )));
    }
    let (plot, l) = frame(area, title, &[])?;
    let (w, h) = plot.dim_in_pixel();
    let label_style = l.font(LABEL_SIZE);
    let tick_style = l.font(TICK_SIZE);
    // Row labels get at most 28% of the width; longer names are shortened with an ellipsis.
    let max_label_w = w as i32 * 28 / 100;
    let mut row_labels = Vec::with_capacity(n);
    let mut label_w = 0;
    for name in labels {
        let fitted = fit_text(&plot, name.as_ref(), &label_style, max_label_w)?;
        label_w = label_w.max(plot.estimate_text_size(&fitted, &label_style).drawn()?.0 as i32);
        row_labels.push(fitted);
    }
    let support_w = plot.estimate_text_size("n = 00000", &tick_style).drawn()?.0 as i32;
    let label_h = l.px(LABEL_SIZE);
    // Left: the rotated "true class" title and the row labels; right: each row's support; bottom:
    // column labels and the "predicted class" title.
    let left = l.px(12.0) + label_h + l.px(10.0) + label_w + l.px(10.0);
    let right = support_w + l.px(16.0);
    let bottom = 2 * label_h + l.px(26.0);
    let side = (w as i32 - left - right).min(h as i32 - bottom - 6);
    if side < 24 * n as i32 {
        return Err(Error::Invalid(format!(
            "chart area {}×{} px is too small for a {n}×{n} confusion matrix",
            w, h
        )));
    }
    let cell = side / n as i32;
    let x0 = left + (w as i32 - left - right - cell * n as i32) / 2;
    let y0 = 4;
    let count_size = (cell as f64 / 4.0).clamp(TICK_SIZE * l.scale, 30.0);
    // Small cells show the count alone; the row share needs room for "100.0%".
    let show_share = plot.estimate_text_size("100.0%", &tick_style).drawn()?.0 as i32 <= cell - 8;
    for (r, row) in matrix.iter().enumerate() {
        let support: usize = row.iter().sum();
        for (c, &count) in row.iter().enumerate() {
            let share = if support == 0 {
                0.0
            } else {
                count as f64 / support as f64
            };
            // White → blue by the row share; an empty row stays white with grey text.
            let mix = |full: u8| (255.0 - (255.0 - full as f64) * share).round() as u8;
            let fill = RGBColor(mix(NEGATIVE.0), mix(NEGATIVE.1), mix(NEGATIVE.2));
            let (cx, cy) = (x0 + c as i32 * cell, y0 + r as i32 * cell);
            plot.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                fill.filled(),
            ))
            .drawn()?;
            plot.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                GRID.stroke_width(1),
            ))
            .drawn()?;
            let ink = if share > 0.55 {
                WHITE
            } else if support == 0 {
                REFERENCE
            } else {
                INK
            };
            let centre = (cx + cell / 2, cy + cell / 2);
            let big = TextStyle::from(("sans-serif", count_size, FontStyle::Bold).into_font())
                .color(&ink);
            if !show_share {
                plot.draw_text(
                    &count.to_string(),
                    &big.pos(Pos::new(HPos::Center, VPos::Center)),
                    centre,
                )
                .drawn()?;
                continue;
            }
            plot.draw_text(
                &count.to_string(),
                &big.pos(Pos::new(HPos::Center, VPos::Bottom)),
                (centre.0, centre.1 + 2),
            )
            .drawn()?;
            let pct = if support == 0 {
                "–".to_string()
            } else {
                format!("{:.1}%", 100.0 * share)
            };
            plot.draw_text(
                &pct,
                &tick_style
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
                (centre.0, centre.1 + 6),
            )
            .drawn()?;
        }
        let cy = y0 + r as i32 * cell + cell / 2;
        plot.draw_text(
            &row_labels[r],
            &label_style.pos(Pos::new(HPos::Right, VPos::Center)),
            (x0 - l.px(10.0), cy),
        )
        .drawn()?;
        plot.draw_text(
            &format!("n = {support}"),
            &tick_style
                .color(&REFERENCE)
                .pos(Pos::new(HPos::Left, VPos::Center)),
            (x0 + n as i32 * cell + l.px(8.0), cy),
        )
        .drawn()?;
    }
    let grid_bottom = y0 + n as i32 * cell;
    for (c, name) in labels.iter().enumerate() {
        let fitted = fit_text(&plot, name.as_ref(), &label_style, cell - 6)?;
        plot.draw_text(
            &fitted,
            &label_style.pos(Pos::new(HPos::Center, VPos::Top)),
            (x0 + c as i32 * cell + cell / 2, grid_bottom + l.px(8.0)),
        )
        .drawn()?;
    }
    plot.draw_text(
        "predicted class",
        &label_style.pos(Pos::new(HPos::Center, VPos::Top)),
        (x0 + n as i32 * cell / 2, grid_bottom + l.px(14.0) + label_h),
    )
    .drawn()?;
    plot.draw_text(
        "true class",
        &label_style
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (l.px(12.0), y0 + n as i32 * cell / 2),
    )
    .drawn()
}

/// `text` as it fits in `max_width` pixels: whole, or cut with an ellipsis ("dupl…").
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_width: i32,
) -> Result<String> {
    let width =
        |t: &str| -> Result<i32> { Ok(area.estimate_text_size(t, style).drawn()?.0 as i32) };
    if width(text)? <= max_width {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let cut: String = chars[..keep].iter().chain(['…'].iter()).collect();
        if width(&cut)? <= max_width {
            return Ok(cut);
        }
    }
    Ok("…".to_string())
}

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
mod tests {
    use super::*;
    use crate::eval::metrics::{
        at_threshold, best_f1_threshold, precision_recall_curve, roc_curve,
    };

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
        assert!(
            s.contains("&lt;b&gt;a&amp;b&lt;/b&gt;") && !s.contains("<b>") && !s.contains("<i>")
        );
    }
}
