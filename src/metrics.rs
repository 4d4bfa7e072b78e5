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
}
