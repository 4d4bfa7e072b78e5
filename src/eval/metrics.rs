//! Evaluation metrics on plain slices.

/// Pearson correlation coefficient; `NaN` when either input is constant or shorter than 2.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "pearson: inputs differ in length");
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy / (sxx.sqrt() * syy.sqrt())
}

/// Ranks starting at 1, ties get the average of the ranks they span (scipy's `rankdata`).
pub fn rank_average(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman rank correlation (Pearson of average ranks, so ties are handled as scipy does).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&rank_average(x), &rank_average(y))
}

/// Area under the ROC curve of `scores` for the positives in `positive`: the probability that a
/// random positive scores above a random negative, ties counting one half (the Mann–Whitney U
/// statistic, equal to sklearn's `roc_auc_score`). `NaN` when either class is absent.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> f64 {
    assert_eq!(
        scores.len(),
        positive.len(),
        "roc_auc: inputs differ in length"
    );
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return f64::NAN;
    }
    let ranks = rank_average(scores);
    let rank_sum: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, &p)| p)
        .map(|(r, _)| r)
        .sum();
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    u / (n_pos as f64 * n_neg as f64)
}

/// Points of a ROC curve, highest threshold first, as sklearn's `roc_curve(drop_intermediate=False)`:
/// the first point is (0, 0) at threshold +∞, then one point per distinct score.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RocCurve {
    /// False-positive rate at each threshold.
    pub fpr: Vec<f64>,
    /// True-positive rate at each threshold.
    pub tpr: Vec<f64>,
    /// Thresholds (a pair is flagged when its score ≥ the threshold).
    pub thresholds: Vec<f64>,
}

/// Cumulative (true positives, false positives) at each distinct score, highest first.
fn cumulative_counts(scores: &[f64], positive: &[bool]) -> Vec<(f64, usize, usize)> {
    assert_eq!(scores.len(), positive.len(), "inputs differ in length");
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0, 0);
    let mut out: Vec<(f64, usize, usize)> = Vec::new();
    for (k, &i) in idx.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Emit after the last of a run of equal scores.
        if idx.get(k + 1).is_none_or(|&j| scores[j] != scores[i]) {
            out.push((scores[i], tp, fp));
        }
    }
    out
}

/// ROC curve of `scores` for the positives in `positive` (rates are `NaN` for an absent class).
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> RocCurve {
    let counts = cumulative_counts(scores, positive);
    let p = positive.iter().filter(|&&x| x).count() as f64;
    let n = positive.len() as f64 - p;
    let mut c = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    for (t, tp, fp) in counts {
        c.fpr.push(fp as f64 / n);
        c.tpr.push(tp as f64 / p);
        c.thresholds.push(t);
    }
    c
}

/// Points of a precision–recall curve, as sklearn's (1.9) `precision_recall_curve`: one point per
/// distinct score, lowest threshold first, ending with the point (recall 0, precision 1) that has no threshold.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PrCurve {
    /// Precision at each threshold (then 1).
    pub precision: Vec<f64>,
    /// Recall at each threshold (then 0).
    pub recall: Vec<f64>,
    /// Thresholds, ascending.
    pub thresholds: Vec<f64>,
}

/// Precision–recall curve of `scores` for the positives in `positive`.
pub fn precision_recall_curve(scores: &[f64], positive: &[bool]) -> PrCurve {
    let counts = cumulative_counts(scores, positive);
    let p = positive.iter().filter(|&&x| x).count() as f64;
    let mut c = PrCurve {
        precision: Vec::new(),
        recall: Vec::new(),
        thresholds: Vec::new(),
    };
    for &(t, tp, fp) in counts.iter().rev() {
        c.precision.push(tp as f64 / (tp + fp) as f64);
        c.recall.push(tp as f64 / p);
        c.thresholds.push(t);
    }
    c.precision.push(1.0);
    c.recall.push(0.0);
    c
}

/// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the PR curve (sklearn's `average_precision_score`,
/// no interpolation). `NaN` without positives.
pub fn average_precision(scores: &[f64], positive: &[bool]) -> f64 {
    let c = precision_recall_curve(scores, positive);
    let mut ap = 0.0;
    // The curve runs from high to low recall; walk it backwards.
    for i in (0..c.recall.len() - 1).rev() {
        ap += (c.recall[i] - c.recall[i + 1]) * c.precision[i];
    }
    ap
}

/// Binary classification figures at one threshold.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThresholdMetrics {
    /// Pairs with score ≥ threshold are flagged positive.
    pub threshold: f64,
    /// Precision (0 when nothing is flagged).
    pub precision: f64,
    /// Recall (0 without positives).
    pub recall: f64,
    /// F1 (0 when precision + recall is 0).
    pub f1: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// Share of all pairs flagged.
    pub flagged: f64,
}

/// Figures when pairs scoring ≥ `threshold` are flagged.
pub fn at_threshold(scores: &[f64], positive: &[bool], threshold: f64) -> ThresholdMetrics {
    assert_eq!(scores.len(), positive.len(), "inputs differ in length");
    let (mut tp, mut fp, mut tn, mut fn_) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &p) in scores.iter().zip(positive) {
        match (s >= threshold, p) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = div(tp, tp + fp);
    let recall = div(tp, tp + fn_);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ThresholdMetrics {
        threshold,
        precision,
        recall,
        f1,
        accuracy: div(tp + tn, scores.len()),
        flagged: div(tp + fp, scores.len()),
    }
}

/// The threshold with the best F1 on the seeds' grid 0.00, 0.01, …, 1.00 (the lowest on ties), with
/// its figures.
pub fn best_f1_threshold(scores: &[f64], positive: &[bool]) -> ThresholdMetrics {
    (0..=100)
        .map(|i| at_threshold(scores, positive, i as f64 / 100.0))
        .fold(None::<ThresholdMetrics>, |best, m| match best {
            Some(b) if b.f1 >= m.f1 => Some(b),
            _ => Some(m),
        })
        .expect("the grid is not empty")
}

/// Confusion matrix over explicit classes `0..n`: `m[true][predicted]`. A class that never occurs
/// is a row and column of zeros, never an error.
pub fn confusion_matrix(truth: &[usize], predicted: &[usize], n: usize) -> Vec<Vec<usize>> {
    assert_eq!(truth.len(), predicted.len(), "inputs differ in length");
    let mut m = vec![vec![0; n]; n];
    for (&t, &p) in truth.iter().zip(predicted) {
        assert!(t < n && p < n, "class index out of range");
        m[t][p] += 1;
    }
    m
}

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassMetrics {
    /// Precision (0 when the class is never predicted).
    pub precision: f64,
    /// Recall (0 when the class never occurs).
    pub recall: f64,
    /// F1 (0 when both are 0).
    pub f1: f64,
    /// Occurrences in the truth.
    pub support: usize,
}

/// Per-class figures and the F1 averages, over explicit classes (sklearn's `labels=`, with
/// `zero_division=0`): an absent class gets zero support and zeros, and counts in the macro mean.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassReport {
    /// One entry per class, in class order.
    pub classes: Vec<ClassMetrics>,
    /// Micro-averaged F1 (equals accuracy when every prediction is one of the classes).
    pub micro_f1: f64,
    /// Unweighted mean of the per-class F1.
    pub macro_f1: f64,
    /// Support-weighted mean of the per-class F1.
    pub weighted_f1: f64,
    /// Share of correct predictions.
    pub accuracy: f64,
}

/// Classification report over classes `0..n`.
pub fn class_report(truth: &[usize], predicted: &[usize], n: usize) -> ClassReport {
    let m = confusion_matrix(truth, predicted, n);
    let f1 = |p: f64, r: f64| {
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    };
    let div = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassMetrics> = (0..n)
        .map(|c| {
            let tp = m[c][c];
            let predicted_c: usize = (0..n).map(|t| m[t][c]).sum();
            let support: usize = m[c].iter().sum();
            let (p, r) = (div(tp, predicted_c), div(tp, support));
            ClassMetrics {
                precision: p,
                recall: r,
                f1: f1(p, r),
                support,
            }
        })
        .collect();
    let correct: usize = (0..n).map(|c| m[c][c]).sum();
    let total = truth.len();
    let micro = div(correct, total);
    let macro_f1 = if n == 0 {
        0.0
    } else {
        classes.iter().map(|c| c.f1).sum::<f64>() / n as f64
    };
    let weighted = if total == 0 {
        0.0
    } else {
        classes.iter().map(|c| c.f1 * c.support as f64).sum::<f64>() / total as f64
    };
    ClassReport {
        classes,
        micro_f1: f1(micro, micro),
        macro_f1,
        weighted_f1: weighted,
        accuracy: micro,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from scipy 1.17:
    /// ```python
    /// x=[1,2,2,3,5,8]; y=[2,1,4,3,9,7]
    /// scipy.stats.pearsonr(x,y)[0]  -> 0.7784948528172417
    /// scipy.stats.spearmanr(x,y)[0] -> 0.753702346348183
    /// ```
    #[test]
    fn matches_scipy() {
        let x = [1.0, 2.0, 2.0, 3.0, 5.0, 8.0];
        let y = [2.0, 1.0, 4.0, 3.0, 9.0, 7.0];
        assert!(
            (pearson(&x, &y) - 0.7784948528172417).abs() < 1e-12,
            "{}",
            pearson(&x, &y)
        );
        assert!(
            (spearman(&x, &y) - 0.753702346348183).abs() < 1e-12,
            "{}",
            spearman(&x, &y)
        );
        assert_eq!(rank_average(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
    }

    /// Positives 0.9, 0.8, 0.5 against negatives 0.8, 0.3, 0.5: of the 9 (positive, negative) pairs
    /// 6 are ordered right, 1 wrong and 2 tie (one half each), so AUC = 7 / 9 — the rank formula
    /// must agree with this pair-by-pair count.
    #[test]
    fn roc_auc_counts_ties_as_half() {
        let s = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5];
        let y = [true, false, true, false, true, false];
        // positives 0.9, 0.8, 0.5 against negatives 0.8, 0.3, 0.5
        let mut wins = 0.0;
        for (&sp, _) in s.iter().zip(&y).filter(|(_, &p)| p) {
            for (&sn, _) in s.iter().zip(&y).filter(|(_, &p)| !p) {
                wins += if sp > sn {
                    1.0
                } else if sp == sn {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert_eq!(wins, 7.0);
        assert!((roc_auc(&s, &y) - 7.0 / 9.0).abs() < 1e-15);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, true]), 1.0);
        assert!(roc_auc(&[0.1, 0.2], &[true, true]).is_nan());
    }

    /// The sklearn 1.9.1 values below come from:
    /// ```python
    /// y=[1,0,1,0,1,0,0,1,0,0]; s=[0.9,0.8,0.8,0.3,0.5,0.5,0.1,0.7,0.65,0.2]
    /// roc_curve(y, s, drop_intermediate=False); roc_auc_score(y, s)   # 0.8333333333333334
    /// precision_recall_curve(y, s); average_precision_score(y, s)      # 0.7470238095238095
    /// yt=[0,0,1,2,2,2,0,1,2,0]; yp=[0,1,1,2,0,2,0,2,2,0]
    /// confusion_matrix(yt, yp, labels=[0,1,2,3])
    /// precision_recall_fscore_support(yt, yp, labels=[0,1,2,3], zero_division=0)
    /// f1_score(yt, yp, labels=[0,1,2,3], average=micro|macro|weighted, zero_division=0)
    /// ```
    #[test]
    fn curves_and_reports_match_sklearn() {
        let close = |a: &[f64], b: &[f64]| {
            assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
            for (x, y) in a.iter().zip(b) {
                assert!(x == y || (x - y).abs() < 1e-9, "{a:?} vs {b:?}");
            }
        };
        let y: Vec<bool> = [1, 0, 1, 0, 1, 0, 0, 1, 0, 0]
            .iter()
            .map(|&v| v == 1)
            .collect();
        let s = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5, 0.1, 0.7, 0.65, 0.2];
        let roc = roc_curve(&s, &y);
        close(
            &roc.fpr,
            &[
                0.0,
                0.0,
                1.0 / 6.0,
                1.0 / 6.0,
                1.0 / 3.0,
                0.5,
                2.0 / 3.0,
                5.0 / 6.0,
                1.0,
            ],
        );
        close(&roc.tpr, &[0.0, 0.25, 0.5, 0.75, 0.75, 1.0, 1.0, 1.0, 1.0]);
        close(
            &roc.thresholds,
            &[f64::INFINITY, 0.9, 0.8, 0.7, 0.65, 0.5, 0.3, 0.2, 0.1],
        );
        assert!((roc_auc(&s, &y) - 0.8333333333333334).abs() < 1e-9);
        let pr = precision_recall_curve(&s, &y);
        close(
            &pr.precision,
            &[
                0.4,
                0.4444444444444444,
                0.5,
                0.5714285714285714,
                0.6,
                0.75,
                0.6666666666666666,
                1.0,
                1.0,
            ],
        );
        close(
            &pr.recall,
            &[1.0, 1.0, 1.0, 1.0, 0.75, 0.75, 0.5, 0.25, 0.0],
        );
        close(&pr.thresholds, &[0.1, 0.2, 0.3, 0.5, 0.65, 0.7, 0.8, 0.9]);
        assert!((average_precision(&s, &y) - 0.7470238095238095).abs() < 1e-9);

        let yt = [0, 0, 1, 2, 2, 2, 0, 1, 2, 0];
        let yp = [0, 1, 1, 2, 0, 2, 0, 2, 2, 0];
        assert_eq!(
            confusion_matrix(&yt, &yp, 4),
            vec![
                vec![3, 1, 0, 0],
                vec![0, 1, 1, 0],
                vec![1, 0, 3, 0],
                vec![0, 0, 0, 0]
            ]
        );
        let r = class_report(&yt, &yp, 4);
        close(
            &r.classes.iter().map(|c| c.precision).collect::<Vec<_>>(),
            &[0.75, 0.5, 0.75, 0.0],
        );
        close(
            &r.classes.iter().map(|c| c.recall).collect::<Vec<_>>(),
            &[0.75, 0.5, 0.75, 0.0],
        );
        close(
            &r.classes.iter().map(|c| c.f1).collect::<Vec<_>>(),
            &[0.75, 0.5, 0.75, 0.0],
        );
        assert_eq!(
            r.classes.iter().map(|c| c.support).collect::<Vec<_>>(),
            vec![4, 2, 4, 0]
        );
        close(&[r.micro_f1, r.macro_f1, r.weighted_f1], &[0.7, 0.5, 0.7]);
    }

    /// Best F1 on the 0.01 grid, checked against a brute-force scan written out here.
    #[test]
    fn best_f1_threshold_on_the_grid() {
        let y: Vec<bool> = [1, 0, 1, 0, 1, 0, 0, 1, 0, 0]
            .iter()
            .map(|&v| v == 1)
            .collect();
        let s = [0.9, 0.8, 0.8, 0.3, 0.5, 0.5, 0.1, 0.7, 0.65, 0.2];
        let b = best_f1_threshold(&s, &y);
        // Flag ≥ 0.66..0.70: tp 3 (0.9, 0.8, 0.7), fp 1 (0.8): P 0.75, R 0.75, F1 0.75 — first
        // reached at 0.66; ≥ 0.51..0.65 adds the 0.65 negative (F1 0.667), ≥ 0.5 gives P 4/7 R 1
        // (F1 0.727).
        assert_eq!(b.threshold, 0.66);
        assert!((b.f1 - 0.75).abs() < 1e-12 && (b.precision - 0.75).abs() < 1e-12);
        assert!((b.accuracy - 0.8).abs() < 1e-12 && (b.flagged - 0.4).abs() < 1e-12);
        let none = at_threshold(&s, &y, 1.0);
        assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
    }
}
