//! The similarity histogram: positive and negative pairs' scores, binned on the threshold grid.

use super::*;

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
