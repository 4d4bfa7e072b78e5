//! The evaluation report of a model on labelled pairs: every figure computed from the gold labels and
//! the cosine scores ([`evaluate_scores`]), the charts ([`report_charts`]) and one self-contained HTML
//! page ([`report_html`]: inline CSS and SVG, no script, no request leaves the file).
//!
//! A pair is a **positive** when its label is ≥ [`POSITIVE_LABEL_MIN`] (0.5): with 0/1 labels that is
//! the label itself, with graded similarity labels it is "more similar than not". Correlations use
//! the labels as they are; ROC, PR, thresholds and the confusion matrix use positive/negative.

use serde::{Deserialize, Serialize};

use super::charts::{self, PrSeries, RocSeries, ScoreHistogram};
use super::metrics::{self, ThresholdMetrics};
use crate::data::pairs::is_positive;
use crate::error::{Error, Result};

pub use crate::data::pairs::POSITIVE_LABEL_MIN;

/// Size in pixels of each chart of the report.
pub const CHART_SIZE: (u32, u32) = (760, 500);

/// The ROC curve, with the threshold of each point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RocPoints {
    /// False-positive rate (negatives flagged) at each threshold.
    pub fpr: Vec<f64>,
    /// True-positive rate (positives flagged) at each threshold.
    pub tpr: Vec<f64>,
    /// Threshold of each point, highest first; `null` for the first point (+∞: nothing flagged),
    /// since JSON has no infinity.
    pub thresholds: Vec<Option<f64>>,
}

/// The precision–recall curve (as [`metrics::precision_recall_curve`]: lowest threshold first, then
/// the point recall 0 / precision 1 that has no threshold).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrPoints {
    /// Precision at each point.
    pub precision: Vec<f64>,
    /// Recall at each point.
    pub recall: Vec<f64>,
    /// Threshold of each point but the last.
    pub thresholds: Vec<f64>,
}

/// Where the threshold of the confusion matrix came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    /// Given by the user.
    Given,
    /// The best-F1 threshold on the 0.01 grid.
    BestF1,
}

/// Confusion matrix at one threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    /// Pairs with cosine ≥ this are predicted positive.
    pub threshold: f64,
    /// Whether the user gave the threshold or it is the best-F1 one.
    pub source: ThresholdSource,
    /// Class names, in matrix order: negative, positive.
    pub labels: Vec<String>,
    /// `matrix[true][predicted]`: `[[TN, FP], [FN, TP]]`.
    pub matrix: Vec<Vec<usize>>,
}

/// Everything measured on one set of labelled pairs. Figures that are undefined for the data (a
/// correlation with constant labels, ROC without negatives, ...) are `None` (`null` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairEvalReport {
    /// Pairs evaluated.
    pub pairs: usize,
    /// Pairs with label ≥ `positive_label_min`.
    pub positives: usize,
    /// The other pairs.
    pub negatives: usize,
    /// The label from which a pair counts as positive ([`POSITIVE_LABEL_MIN`]).
    pub positive_label_min: f64,
    /// Every label is exactly 0 or 1 (otherwise positives were found by thresholding graded labels).
    pub binary_labels: bool,
    /// Pearson correlation of cosine and label.
    pub pearson: Option<f64>,
    /// Spearman correlation of cosine and label (sentence-transformers' primary metric).
    pub spearman: Option<f64>,
    /// ROC-AUC of the cosine for positive vs negative: the chance that a random positive pair
    /// scores above a random negative one.
    pub roc_auc: Option<f64>,
    /// Average precision (area under the precision–recall steps).
    pub average_precision: Option<f64>,
    /// Mean cosine over all pairs.
    pub mean_cosine: f64,
    /// Mean cosine of the positive pairs.
    pub mean_cosine_positives: Option<f64>,
    /// Mean cosine of the negative pairs.
    pub mean_cosine_negatives: Option<f64>,
    /// The threshold with the best F1 on the grid 0.00, 0.01, …, 1.00 (lowest on ties) and its
    /// figures; `None` without positives (every F1 would be 0).
    pub best_f1: Option<ThresholdMetrics>,
    /// The figures at the threshold the caller gave, if any.
    pub at_threshold: Option<ThresholdMetrics>,
    /// Confusion matrix at the given threshold, else at the best-F1 one (`None` when neither exists).
    pub confusion: Option<Confusion>,
    /// ROC curve (`None` unless both classes are present).
    pub roc: Option<RocPoints>,
    /// Precision–recall curve (`None` without positives).
    pub pr: Option<PrPoints>,
    /// Figures at each threshold of the grid 0.00, 0.01, …, 1.00.
    pub threshold_grid: Vec<ThresholdMetrics>,
    /// Cosines of positive and negative pairs in 0.05-wide bins.
    pub histogram: ScoreHistogram,
}

impl PairEvalReport {
    /// Share of positive pairs (the precision of flagging at random).
    pub fn positive_rate(&self) -> f64 {
        if self.pairs == 0 {
            0.0
        } else {
            self.positives as f64 / self.pairs as f64
        }
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Evaluate cosine `scores` against gold `labels` in [0, 1] (one of each per pair), with the figures
/// at `threshold` when one is given. Errors: no pairs, lengths that differ, a label outside [0, 1]
/// or a score or threshold that is not a finite number (each naming the pair).
pub fn evaluate_scores(
    labels: &[f32],
    scores: &[f64],
    threshold: Option<f64>,
) -> Result<PairEvalReport> {
    if labels.len() != scores.len() {
        return Err(Error::Invalid(format!(
            "{} labels but {} scores",
            labels.len(),
            scores.len()
        )));
    }
    if labels.is_empty() {
        return Err(Error::Invalid("no pairs to evaluate".into()));
    }
    if let Some(i) = labels
        .iter()
        .position(|l| !(l.is_finite() && (0.0..=1.0).contains(l)))
    {
        return Err(Error::Invalid(format!(
            "pair {i}: label {} is outside [0, 1]",
            labels[i]
        )));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::Invalid(format!(
            "pair {i}: cosine {} is not a finite number",
            scores[i]
        )));
    }
    if let Some(t) = threshold.filter(|t| !t.is_finite()) {
        return Err(Error::Invalid(format!(
            "threshold {t} is not a finite number"
        )));
    }
    let gold: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    let positive: Vec<bool> = gold.iter().map(|&l| is_positive(l)).collect();
    let positives = positive.iter().filter(|&&p| p).count();
    let negatives = positive.len() - positives;
    let both = positives > 0 && negatives > 0;

    let roc = both.then(|| {
        let c = metrics::roc_curve(scores, &positive);
        RocPoints {
            fpr: c.fpr,
            tpr: c.tpr,
            thresholds: c.thresholds.into_iter().map(finite).collect(),
        }
    });
    let pr = (positives > 0).then(|| {
        let c = metrics::precision_recall_curve(scores, &positive);
        PrPoints {
            precision: c.precision,
            recall: c.recall,
            thresholds: c.thresholds,
        }
    });
    let best_f1 = (positives > 0).then(|| metrics::best_f1_threshold(scores, &positive));
    let at_threshold = threshold.map(|t| metrics::at_threshold(scores, &positive, t));
    let chosen = match (threshold, &best_f1) {
        (Some(t), _) => Some((t, ThresholdSource::Given)),
        (None, Some(b)) => Some((b.threshold, ThresholdSource::BestF1)),
        (None, None) => None,
    };
    let confusion = chosen.map(|(t, source)| {
        let predicted: Vec<usize> = scores.iter().map(|&s| usize::from(s >= t)).collect();
        let truth: Vec<usize> = positive.iter().map(|&p| usize::from(p)).collect();
        Confusion {
            threshold: t,
            source,
            labels: vec!["negative".into(), "positive".into()],
            matrix: metrics::confusion_matrix(&truth, &predicted, 2),
        }
    });
    let of_class = |want: bool| {
        mean(
            scores
                .iter()
                .zip(&positive)
                .filter(move |(_, &p)| p == want)
                .map(|(&s, _)| s),
        )
    };
    Ok(PairEvalReport {
        pairs: labels.len(),
        positives,
        negatives,
        positive_label_min: POSITIVE_LABEL_MIN,
        binary_labels: gold.iter().all(|&l| l == 0.0 || l == 1.0),
        pearson: finite(metrics::pearson(scores, &gold)),
        spearman: finite(metrics::spearman(scores, &gold)),
        roc_auc: if both {
            finite(metrics::roc_auc(scores, &positive))
        } else {
            None
        },
        average_precision: if positives > 0 {
            finite(metrics::average_precision(scores, &positive))
        } else {
            None
        },
        mean_cosine: mean(scores.iter().copied()).unwrap_or(0.0),
        mean_cosine_positives: of_class(true),
        mean_cosine_negatives: of_class(false),
        best_f1,
        at_threshold,
        confusion,
        roc,
        pr,
        threshold_grid: (0..=100)
            .map(|i| metrics::at_threshold(scores, &positive, i as f64 / 100.0))
            .collect(),
        histogram: ScoreHistogram::new(scores, &positive)?,
    })
}

/// One chart of the report, rendered.
#[derive(Clone, Debug)]
pub struct ReportChart {
    /// File name the CLI writes it to, e.g. `roc.svg`; its stem is the HTML anchor.
    pub file: &'static str,
    /// Heading.
    pub title: String,
    /// How to read it.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

const HISTOGRAM_CAPTION: &str = "Each bar is the share of one class's pairs whose cosine falls in \
that 0.05-wide bin: negative pairs in the left half of the bin, positive pairs in the right half. \
The less the two colours overlap, the better the cosine alone separates similar pairs from the \
rest. The dashed line is the decision threshold: pairs on it or to its right are flagged similar.";

const ROC_CAPTION: &str = "Each point of the curve is one threshold: across, the share of negative \
pairs wrongly flagged; up, the share of positive pairs caught. A curve that hugs the top-left corner \
separates well; the dashed diagonal is guessing. The AUC is the chance that a random positive pair \
scores above a random negative pair (0.5: guessing, 1: perfect).";

const PR_CAPTION: &str = "Each step is one threshold: across, recall (the share of positive pairs \
caught); up, precision (the share of flagged pairs that really are positive). The dashed line is the \
precision of flagging pairs at random, the share of positives in the data. Average precision (AP) is \
the area under the steps; unlike ROC it ignores the true negatives, so it is the harder figure when \
positives are rare.";

const F1_CAPTION: &str = "Precision, recall and F1 (their harmonic mean) when pairs with cosine ≥ \
threshold are flagged, on the grid 0.00, 0.01, …, 1.00. Raising the threshold trades recall for \
precision. The marker is the threshold with the best F1 (the lowest one on ties); the black dashed \
line, when present, is the threshold you chose.";

/// The report's charts: similarity histogram, ROC, PR, F1 vs threshold, confusion matrix, in that
/// order. `model` names the curves in the legends.
pub fn report_charts(report: &PairEvalReport, model: &str) -> Result<Vec<ReportChart>> {
    let (w, h) = CHART_SIZE;
    let chosen = report.confusion.as_ref().map(|c| c.threshold);
    let mut out = Vec::new();
    let mut add = |file: &'static str,
                   title: String,
                   caption: String,
                   draw: &dyn Fn(
        &plotters::drawing::DrawingArea<plotters::prelude::SVGBackend, plotters::coord::Shift>,
    ) -> Result<()>|
     -> Result<()> {
        let svg = charts::to_svg(w, h, |area| draw(area))?;
        out.push(ReportChart {
            file,
            title,
            caption,
            svg,
        });
        Ok(())
    };

    let title = "Cosine similarity of positive and negative pairs".to_string();
    add(
        "histogram.svg",
        title.clone(),
        HISTOGRAM_CAPTION.into(),
        &|area| charts::similarity_histogram(area, &report.histogram, chosen, &title),
    )?;

    let title = "ROC curve".to_string();
    let roc = report.roc.clone();
    add("roc.svg", title.clone(), ROC_CAPTION.into(), &|area| {
        let series: Vec<RocSeries> = roc
            .iter()
            .map(|r| RocSeries {
                name: model,
                fpr: &r.fpr,
                tpr: &r.tpr,
                auc: report.roc_auc,
            })
            .collect();
        charts::roc_chart(area, &series, &title)
    })?;

    let title = "Precision–recall curve".to_string();
    add("pr.svg", title.clone(), PR_CAPTION.into(), &|area| {
        let series: Vec<PrSeries> = report
            .pr
            .iter()
            .map(|p| PrSeries {
                name: model,
                recall: &p.recall,
                precision: &p.precision,
                average_precision: report.average_precision,
                positive_rate: report.positive_rate(),
            })
            .collect();
        charts::pr_chart(area, &series, &title)
    })?;

    let title = "Precision, recall and F1 against the threshold".to_string();
    let given = report.at_threshold.as_ref().map(|m| m.threshold);
    add(
        "f1_threshold.svg",
        title.clone(),
        F1_CAPTION.into(),
        &|area| {
            charts::threshold_chart(
                area,
                &report.threshold_grid,
                report.best_f1.as_ref(),
                given,
                &title,
            )
        },
    )?;

    let (title, caption) = match &report.confusion {
        Some(c) => (
            format!("Confusion matrix at threshold {}", c.threshold),
            format!(
                "Pairs by true class (rows) and predicted class (columns) when pairs with cosine ≥ {} \
                 ({}) are predicted positive. The diagonal is right; top right are false positives \
                 (unrelated pairs flagged), bottom left missed positives. Shades show each cell's \
                 share of its row; n is the row's number of pairs.",
                c.threshold,
                match c.source {
                    ThresholdSource::Given => "the threshold you gave",
                    ThresholdSource::BestF1 => "the best-F1 threshold",
                }
            ),
        ),
        None => (
            "Confusion matrix".to_string(),
            "No threshold: there are no positive pairs to choose one by F1, and none was given."
                .to_string(),
        ),
    };
    add(
        "confusion_matrix.svg",
        title.clone(),
        caption,
        &|area| match &report.confusion {
            Some(c) => charts::confusion_matrix_chart(area, &c.matrix, &c.labels, &title),
            None => charts::message_chart(
                area,
                &title,
                "No threshold to predict with: no positive pairs, and none was given.",
            ),
        },
    )?;
    Ok(out)
}

/// Names and settings shown at the top of the HTML report.
#[derive(Clone, Debug, Default)]
pub struct ReportContext {
    /// The model, as the user named it.
    pub model: String,
    /// The data file, as the user named it.
    pub data: String,
    /// Further rows for the settings table (e.g. "max_seq_length", "256").
    pub details: Vec<(String, String)>,
}

/// Escape text for HTML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{v:.4}"))
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1e1e1e;
       background: #f6f6f4; margin: 0; line-height: 1.45; }
main { max-width: 860px; margin: 0 auto; padding: 24px 20px 48px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #666; font-size: 0.9em; }
table.metrics td:first-child { width: 30%; }
table.metrics td.num { width: 22%; }
table.settings th { width: 30%; }
code { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 0.92em;
       background: #f3f3f3; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
figure { margin: 24px 0 0; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #e4e4e4; }
figcaption { color: #444; font-size: 0.93em; margin-top: 6px; }
nav a { margin-right: 12px; }
";

/// One self-contained HTML page: inline CSS, the charts as inline SVG, no script and no external
/// request. Every text that comes from the user (model, data, details) is escaped; the SVGs come
/// from plotters, which escapes the text it draws.
pub fn report_html(
    report: &PairEvalReport,
    context: &ReportContext,
    charts: &[ReportChart],
) -> String {
    let mut h = String::new();
    let model = escape_html(&context.model);
    let data = escape_html(&context.data);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // The policy makes the promise checkable: the page may load nothing and run nothing.
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>ticketsim eval: {model} on {data}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    h.push_str(&format!(
        "<h1>Similarity report</h1>\n<p class=\"lead\">Model <code>{model}</code> on \
         <code>{data}</code>: {} pairs, {} positive, {} negative.</p>\n",
        report.pairs, report.positives, report.negatives
    ));
    h.push_str("<nav>");
    for c in charts {
        let id = c.file.trim_end_matches(".svg");
        h.push_str(&format!("<a href=\"#{id}\">{}</a>", escape_html(&c.title)));
    }
    h.push_str("</nav>\n");

    h.push_str("<h2>Settings</h2>\n<table class=\"settings\">\n");
    let mut settings = vec![
        ("model".to_string(), context.model.clone()),
        ("data".to_string(), context.data.clone()),
    ];
    settings.extend(context.details.iter().cloned());
    for (k, v) in &settings {
        h.push_str(&format!(
            "<tr><th>{}</th><td><code>{}</code></td></tr>\n",
            escape_html(k),
            escape_html(v)
        ));
    }
    h.push_str("</table>\n");

    h.push_str(
        "<h2>Metrics</h2>\n<table class=\"metrics\">\n<tr><th>figure</th><th>value</th><th>what it says</th></tr>\n",
    );
    let mut row = |name: &str, value: String, note: &str| {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"note\">{}</td></tr>\n",
            escape_html(name),
            escape_html(&value),
            escape_html(note)
        ));
    };
    let positive_rule = format!(
        "positive = label ≥ {}{}",
        report.positive_label_min,
        if report.binary_labels {
            " (the labels are 0/1)"
        } else {
            " (graded labels, thresholded)"
        }
    );
    row(
        "pairs",
        report.pairs.to_string(),
        "labelled pairs evaluated",
    );
    row(
        "positives / negatives",
        format!("{} / {}", report.positives, report.negatives),
        &positive_rule,
    );
    row(
        "Spearman",
        num(report.spearman),
        "rank correlation of cosine and label (undefined when the labels are constant)",
    );
    row(
        "Pearson",
        num(report.pearson),
        "linear correlation of cosine and label",
    );
    row(
        "ROC-AUC",
        num(report.roc_auc),
        "chance that a random positive pair scores above a random negative one (needs both classes)",
    );
    row(
        "average precision",
        num(report.average_precision),
        "area under the precision–recall steps (needs positives)",
    );
    row(
        "mean cosine of positives",
        num(report.mean_cosine_positives),
        "average similarity of the positive pairs",
    );
    row(
        "mean cosine of negatives",
        num(report.mean_cosine_negatives),
        "average similarity of the negative pairs",
    );
    if let Some(c) = &report.confusion {
        if let ([tn, fp], [fn_, tp]) = (&c.matrix[0][..], &c.matrix[1][..]) {
            row(
                &format!("counts at threshold {}", c.threshold),
                format!("TP {tp} · FP {fp} · FN {fn_} · TN {tn}"),
                "true positives, false positives (flagged, not similar), false negatives (missed), true negatives",
            );
        }
    }
    h.push_str("</table>\n");

    h.push_str(
        "<h2>Decision thresholds</h2>\n<p>A pair is flagged similar when its cosine is ≥ the threshold.</p>\n\
         <table class=\"thresholds\">\n<tr><th>threshold</th><th>precision</th><th>recall</th>\
         <th>F1</th><th>accuracy</th><th>flagged</th></tr>\n",
    );
    let threshold_row = |what: &str, m: &ThresholdMetrics| {
        format!(
            "<tr><td>{} <span class=\"note\">({})</span></td><td class=\"num\">{:.3}</td>\
             <td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td>\
             <td class=\"num\">{}</td></tr>\n",
            m.threshold,
            escape_html(what),
            m.precision,
            m.recall,
            m.f1,
            m.accuracy,
            pct(m.flagged)
        )
    };
    match &report.best_f1 {
        Some(b) => h.push_str(&threshold_row(
            "best F1 on the 0.01 grid, lowest on ties",
            b,
        )),
        None => h.push_str(
            "<tr><td colspan=\"6\">No best-F1 threshold: there are no positive pairs.</td></tr>\n",
        ),
    }
    if let Some(m) = &report.at_threshold {
        h.push_str(&threshold_row("the threshold you gave", m));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Charts</h2>\n");
    for c in charts {
        let id = c.file.trim_end_matches(".svg");
        h.push_str(&format!(
            "<figure id=\"{id}\">\n{}\n<figcaption><strong>{}.</strong> {}</figcaption>\n</figure>\n",
            c.svg.trim(),
            escape_html(&c.title),
            escape_html(&c.caption)
        ));
    }
    h.push_str(&format!(
        "<p class=\"lead\" style=\"margin-top:32px\">Written by ticketsim {}. Every figure is in \
         metrics.json next to this file.</p>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sklearn example of the metrics tests (roc_auc 0.8333333333333334, average precision
    /// 0.7470238095238095, best F1 0.75 at 0.66), with graded labels: 0.7 and 0.6 count as positive,
    /// 0.3 and 0.2 as negative.
    const SCORES: [f64; 10] = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5, 0.1, 0.7, 0.65, 0.2];
    const GRADED: [f32; 10] = [1.0, 0.0, 0.7, 0.3, 1.0, 0.0, 0.0, 0.6, 0.2, 0.0];

    fn close(a: Option<f64>, b: f64, tol: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn figures_of_a_labelled_set() {
        let r = evaluate_scores(&GRADED, &SCORES, None).unwrap();
        assert_eq!((r.pairs, r.positives, r.negatives), (10, 4, 6));
        assert!(!r.binary_labels);
        assert_eq!(r.positive_label_min, 0.5);
        close(r.roc_auc, 0.8333333333333334, 1e-12);
        close(r.average_precision, 0.7470238095238095, 1e-12);
        // Pure-Python Pearson / Spearman (average ranks) on the labels as written; the labels
        // pass through f32 here, hence the tolerance.
        close(r.pearson, 0.520588606195866, 1e-6);
        close(r.spearman, 0.5080912522175849, 1e-6);
        close(
            r.mean_cosine_positives,
            (0.9 + 0.8 + 0.5 + 0.7) / 4.0,
            1e-12,
        );
        close(
            r.mean_cosine_negatives,
            (0.8 + 0.3 + 0.5 + 0.1 + 0.65 + 0.2) / 6.0,
            1e-12,
        );
        let b = r.best_f1.as_ref().unwrap();
        assert_eq!(b.threshold, 0.66);
        assert!((b.f1 - 0.75).abs() < 1e-12);
        assert!(r.at_threshold.is_none());
        // At 0.66: flagged 0.9 (P), 0.8 (N), 0.8 (P), 0.7 (P); missed 0.5 (P).
        let c = r.confusion.as_ref().unwrap();
        assert_eq!((c.threshold, c.source), (0.66, ThresholdSource::BestF1));
        assert_eq!(c.matrix, vec![vec![5, 1], vec![1, 3]]);
        assert_eq!(c.labels, vec!["negative", "positive"]);
        let roc = r.roc.as_ref().unwrap();
        assert_eq!(roc.thresholds[0], None, "+∞ is null");
        assert_eq!(roc.thresholds[1], Some(0.9));
        assert_eq!((roc.fpr.len(), roc.tpr.len()), (9, 9));
        let pr = r.pr.as_ref().unwrap();
        assert_eq!(pr.recall.len(), pr.thresholds.len() + 1);
        assert_eq!(r.threshold_grid.len(), 101);
        assert_eq!(r.threshold_grid[66], *b);
        assert_eq!(r.histogram.total_positives(), 4);
        assert_eq!(r.histogram.total_negatives(), 6);

        // A given threshold: its figures, and the confusion matrix moves to it.
        let r = evaluate_scores(&GRADED, &SCORES, Some(0.8)).unwrap();
        let m = r.at_threshold.as_ref().unwrap();
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12 && (m.recall - 0.5).abs() < 1e-12);
        let c = r.confusion.as_ref().unwrap();
        assert_eq!((c.threshold, c.source), (0.8, ThresholdSource::Given));
        assert_eq!(c.matrix, vec![vec![5, 1], vec![2, 2]]);
        assert_eq!(r.best_f1.as_ref().unwrap().threshold, 0.66);

        let binary: Vec<f32> = GRADED
            .iter()
            .map(|&l| if l >= 0.5 { 1.0 } else { 0.0 })
            .collect();
        assert!(
            evaluate_scores(&binary, &SCORES, None)
                .unwrap()
                .binary_labels
        );
    }

    #[test]
    fn undefined_figures_are_none_and_bad_input_is_an_error() {
        // Negatives only: no ROC, no PR, no best threshold, no confusion matrix without a threshold.
        let r = evaluate_scores(&[0.0, 0.0, 0.2], &[0.1, 0.5, 0.3], None).unwrap();
        assert_eq!((r.positives, r.negatives), (0, 3));
        assert!(r.roc.is_none() && r.roc_auc.is_none());
        assert!(r.pr.is_none() && r.average_precision.is_none());
        assert!(r.best_f1.is_none() && r.confusion.is_none());
        assert!(r.mean_cosine_positives.is_none());
        assert!(r.spearman.is_some(), "the labels are not constant");
        let with_t = evaluate_scores(&[0.0, 0.0, 0.2], &[0.1, 0.5, 0.3], Some(0.4)).unwrap();
        assert_eq!(
            with_t.confusion.unwrap().matrix,
            vec![vec![2, 1], vec![0, 0]]
        );
        // Positives only: PR and best F1 exist, ROC does not; constant labels: no correlation.
        let r = evaluate_scores(&[1.0, 1.0], &[0.2, 0.9], None).unwrap();
        assert!(r.roc.is_none() && r.pr.is_some() && r.best_f1.is_some());
        assert!(r.pearson.is_none() && r.spearman.is_none());
        // One pair.
        let r = evaluate_scores(&[1.0], &[0.7], None).unwrap();
        assert!(r.pearson.is_none() && r.roc_auc.is_none());

        let err = |l: &[f32], s: &[f64], t: Option<f64>| {
            evaluate_scores(l, s, t).unwrap_err().to_string()
        };
        assert!(err(&[], &[], None).contains("no pairs"));
        assert!(err(&[1.0], &[0.1, 0.2], None).contains("1 labels but 2 scores"));
        assert!(err(&[1.0, 0.0], &[0.1, f64::NAN], None).contains("pair 1: cosine NaN"));
        assert!(err(&[1.5], &[0.1], None).contains("pair 0: label 1.5 is outside [0, 1]"));
        assert!(err(&[f32::NAN], &[0.1], None).contains("pair 0"));
        assert!(err(&[1.0], &[0.1], Some(f64::INFINITY)).contains("threshold inf"));
    }

    #[test]
    fn report_round_trips_through_json() {
        let r = evaluate_scores(&GRADED, &SCORES, Some(0.5)).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"thresholds\":[null,0.9,"), "{json}");
        let back: PairEvalReport = serde_json::from_str(&json).unwrap();
        // serde_json parses floats to within one unit in the last place, not always exactly.
        assert_json_close(
            &serde_json::to_value(&back).unwrap(),
            &serde_json::to_value(&r).unwrap(),
            "",
        );
        assert_eq!(back.confusion, r.confusion);
        assert_eq!(
            back.roc.as_ref().map(|c| &c.thresholds),
            r.roc.as_ref().map(|c| &c.thresholds)
        );
    }

    /// Equal JSON trees, numbers within 1e-12 (relative).
    fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                    "{at}: {x} vs {y}"
                );
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{at}");
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    assert_json_close(p, q, &format!("{at}[{i}]"));
                }
            }
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>(),
                    "{at}"
                );
                for (k, p) in x {
                    assert_json_close(p, &y[k], &format!("{at}.{k}"));
                }
            }
            _ => assert_eq!(a, b, "{at}"),
        }
    }

    fn charts_of(r: &PairEvalReport) -> Vec<ReportChart> {
        report_charts(r, "minilm").unwrap()
    }

    #[test]
    fn charts_and_html() {
        let r = evaluate_scores(&GRADED, &SCORES, Some(0.5)).unwrap();
        let charts = charts_of(&r);
        let files: Vec<&str> = charts.iter().map(|c| c.file).collect();
        assert_eq!(
            files,
            [
                "histogram.svg",
                "roc.svg",
                "pr.svg",
                "f1_threshold.svg",
                "confusion_matrix.svg"
            ]
        );
        assert!(charts[1].svg.contains("minilm (AUC 0.833)"));
        assert!(charts[2].svg.contains("minilm (AP 0.747)"));
        assert!(charts[3].svg.contains("best F1 0.750 at 0.66"));
        assert!(charts[4].title.contains("threshold 0.5"));

        let ctx = ReportContext {
            model: "<script>alert('m')</script>".into(),
            data: "pairs & more \"x\".json".into(),
            details: vec![("note".into(), "<b>bold</b>".into())],
        };
        let html = report_html(&r, &ctx, &charts);
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        for c in &charts {
            assert!(html.contains(c.svg.trim()), "{} is not inline", c.file);
            assert!(html.contains(&format!("id=\"{}\"", c.file.trim_end_matches(".svg"))));
            assert!(html.contains(&escape_html(&c.caption)));
        }
        assert_eq!(html.matches("<svg").count(), 5);
        assert!(!html.contains("<script") && !html.contains("<b>bold"));
        assert!(html.contains("&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;"));
        assert!(html.contains("pairs &amp; more &quot;x&quot;.json"));
        // No request leaves the file: the only URL is the SVG namespace.
        let urls = html.matches("http://").count() + html.matches("https://").count();
        assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
        assert!(html.contains("0.8333") && html.contains("0.7470"));
        assert!(html.contains("TP 4 · FP 3 · FN 0 · TN 3"));
        assert!(html.contains("the threshold you gave"));

        // Degenerate data still gives five charts, each saying why it is empty.
        let none = evaluate_scores(&[0.0, 0.0], &[0.1, 0.4], None).unwrap();
        let charts = charts_of(&none);
        assert_eq!(charts.len(), 5);
        assert!(charts[1].svg.contains("No ROC curve"));
        assert!(charts[2].svg.contains("No precision–recall curve"));
        assert!(charts[4].svg.contains("No threshold to predict with"));
        let html = report_html(&none, &ReportContext::default(), &charts);
        assert!(html.contains("No best-F1 threshold"));
    }
}
