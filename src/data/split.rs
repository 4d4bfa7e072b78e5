//! Train / eval splits over item indices: a seeded shuffle split, a stratified split that never
//! leaves a class out of the eval side, repeated stratified k-fold, and a group split that keeps
//! each group (a cluster of linked incidents) wholly on one side.
//!
//! Every function takes indices or class / group labels and returns sorted index lists, so callers
//! keep their records in file order and the same seed gives the same split everywhere (native,
//! wasm, rerun).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// One fold of [`repeated_stratified_kfold`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Which repetition (0-based); each repetition reshuffles.
    pub repeat: usize,
    /// Which fold of the repetition (0-based).
    pub fold: usize,
    /// Indices trained on (every item not in `eval`), ascending.
    pub train: Vec<usize>,
    /// Indices evaluated on, ascending.
    pub eval: Vec<usize>,
}

fn check_fraction(eval_split: f64) -> Result<()> {
    if eval_split > 0.0 && eval_split < 1.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "eval_split must be between 0 and 1 (exclusive), got {eval_split}"
        )))
    }
}

fn check_nonempty(n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::Invalid("cannot split an empty input".into()))
    } else {
        Ok(())
    }
}

/// The eval side's target size: `eval_split` of `n`, rounded to the nearest item.
fn target(n: usize, eval_split: f64) -> usize {
    ((n as f64 * eval_split).round() as usize).min(n)
}

/// Both sides from an "is eval" mask, each ascending.
fn sides(is_eval: &[bool]) -> (Vec<usize>, Vec<usize>) {
    (0..is_eval.len()).partition(|&i| !is_eval[i])
}

/// Members of each class, in class order (a `BTreeMap` so the seeded shuffles always run in the
/// same order whatever the labels' values).
fn by_class(classes: &[usize]) -> BTreeMap<usize, Vec<usize>> {
    let mut m: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &c) in classes.iter().enumerate() {
        m.entry(c).or_default().push(i);
    }
    m
}

/// Seeded shuffle split of `0..n`: `round(n × eval_split)` indices go to eval (possibly none for a
/// tiny `n` — callers that need a non-empty side check it). Returns `(train, eval)`, each ascending.
pub fn shuffle_split(n: usize, eval_split: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    check_nonempty(n)?;
    check_fraction(eval_split)?;
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut is_eval = vec![false; n];
    for &i in &order[..target(n, eval_split)] {
        is_eval[i] = true;
    }
    Ok(sides(&is_eval))
}

/// Stratified split: `classes[i]` is item `i`'s class. Every class with two or more members gets at
/// least one member in eval **and** at least one in train (a class absent from validation cannot be
/// measured — the users' relationship classifier once had no duplicate or causal example in its
/// validation set); a singleton class stays in train. Within those bounds each class's eval share is
/// proportional to its size, rounded by largest remainder so the eval side has `round(n ×
/// eval_split)` items when the bounds allow (more when many small classes each need one). Returns
/// `(train, eval)`, each ascending.
pub fn stratified_split(
    classes: &[usize],
    eval_split: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_nonempty(classes.len())?;
    check_fraction(eval_split)?;
    let t = target(classes.len(), eval_split);
    let is_eval = stratified_pick(
        classes,
        t,
        |len| usize::from(len >= 2),
        |len| len.saturating_sub(1),
        seed,
    );
    Ok(sides(&is_eval))
}

/// A seeded stratified sample of `k` of the items (`classes[i]` is item `i`'s class; `k` at most
/// their number): each class gives its share, rounded by largest remainder, and at least `floor`
/// members (all it has, when fewer) wherever those minimums fit in `k`. Returns the chosen indices,
/// ascending.
pub fn stratified_sample(classes: &[usize], k: usize, floor: usize, seed: u64) -> Vec<usize> {
    let k = k.min(classes.len());
    let floors: usize = by_class(classes).values().map(|g| g.len().min(floor)).sum();
    let floor = if floors <= k { floor } else { 0 };
    let is_eval = stratified_pick(classes, k, |len| len.min(floor), |len| len, seed);
    sides(&is_eval).1
}

/// The stratified choice behind [`stratified_split`] and [`stratified_sample`]: about `t` items
/// (clamped to what the bounds allow), each class between `lo(size)` and `hi(size)` of its members
/// and otherwise in proportion to its size, rounded by largest remainder; the members seeded.
fn stratified_pick(
    classes: &[usize],
    t: usize,
    lo: impl Fn(usize) -> usize,
    hi: impl Fn(usize) -> usize,
    seed: u64,
) -> Vec<bool> {
    let n = classes.len();
    let groups: Vec<Vec<usize>> = by_class(classes).into_values().collect();
    let lo: Vec<usize> = groups.iter().map(|g| lo(g.len())).collect();
    let hi: Vec<usize> = groups.iter().map(|g| hi(g.len())).collect();
    let t = t.clamp(lo.iter().sum(), hi.iter().sum());
    let quota: Vec<f64> = groups
        .iter()
        .map(|g| t as f64 * g.len() as f64 / n as f64)
        .collect();
    let mut take: Vec<usize> = (0..groups.len())
        .map(|c| (quota[c].floor() as usize).clamp(lo[c], hi[c]))
        .collect();
    // Largest remainder, within the bounds: hand out the missing items to the classes furthest
    // below their quota, or take the surplus (created by the ≥ 1 floor) from the classes furthest
    // above it. `t` lies between the bounds' sums, so every pass moves at least one item and the
    // loops end. Equal remainders favour the smaller class: one more eval example matters most to
    // the class that has the fewest.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&x, &y| {
        (quota[y] - take[y] as f64)
            .total_cmp(&(quota[x] - take[x] as f64))
            .then(groups[x].len().cmp(&groups[y].len()))
            .then(x.cmp(&y))
    });
    let mut total: usize = take.iter().sum();
    while total < t {
        for &c in &order {
            if total < t && take[c] < hi[c] {
                take[c] += 1;
                total += 1;
            }
        }
    }
    while total > t {
        for &c in order.iter().rev() {
            if total > t && take[c] > lo[c] {
                take[c] -= 1;
                total -= 1;
            }
        }
    }
    let mut rng = Rng::new(seed);
    let mut is_eval = vec![false; n];
    for (g, &k) in groups.iter().zip(&take) {
        let mut g = g.clone();
        rng.shuffle(&mut g);
        for &i in &g[..k] {
            is_eval[i] = true;
        }
    }
    is_eval
}

/// Repeated stratified k-fold, like scikit-learn's `RepeatedStratifiedKFold`: per repetition each
/// class's members are shuffled and the classes, one after the other, are dealt round-robin into
/// the `k` folds. So every fold holds each class's share to within one item, fold sizes differ by at
/// most one, and a class with at least `k` members is in every fold's eval part. Each repetition
/// reshuffles. Returns `repeats × k` folds, repetition-major.
pub fn repeated_stratified_kfold(
    classes: &[usize],
    k: usize,
    repeats: usize,
    seed: u64,
) -> Result<Vec<Fold>> {
    let n = classes.len();
    check_nonempty(n)?;
    if k < 2 {
        return Err(Error::Invalid(format!(
            "k-fold needs at least 2 folds, got {k}"
        )));
    }
    if k > n {
        return Err(Error::Invalid(format!(
            "k-fold with {k} folds needs at least {k} items, got {n}"
        )));
    }
    if repeats == 0 {
        return Err(Error::Invalid(
            "repeated k-fold needs at least 1 repetition".into(),
        ));
    }
    let groups: Vec<Vec<usize>> = by_class(classes).into_values().collect();
    let mut rng = Rng::new(seed);
    let mut folds = Vec::with_capacity(repeats * k);
    for repeat in 0..repeats {
        let mut fold_of = vec![0usize; n];
        let mut dealt = 0usize;
        for g in &groups {
            let mut g = g.clone();
            rng.shuffle(&mut g);
            for i in g {
                fold_of[i] = dealt % k;
                dealt += 1;
            }
        }
        for fold in 0..k {
            let is_eval: Vec<bool> = fold_of.iter().map(|&f| f == fold).collect();
            let (train, eval) = sides(&is_eval);
            folds.push(Fold {
                repeat,
                fold,
                train,
                eval,
            });
        }
    }
    Ok(folds)
}

/// Group split: `groups[i]` is item `i`'s group, and a group is never divided — all its items go to
/// one side, so nothing inside a group (a cluster of linked or identical incidents) can leak from
/// train into eval. Groups are shuffled and taken into eval while that brings the eval size closer
/// to `round(n × eval_split)` items. With two or more groups each side gets at least one group; a
/// single group all goes to train (eval is then empty). Returns `(train, eval)`, each ascending.
pub fn group_split(
    groups: &[usize],
    eval_split: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_nonempty(groups.len())?;
    check_fraction(eval_split)?;
    let n = groups.len();
    let t = target(n, eval_split);
    let members: Vec<Vec<usize>> = by_class(groups).into_values().collect();
    let mut order: Vec<usize> = (0..members.len()).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut in_eval = vec![false; members.len()];
    let (mut size, mut chosen) = (0usize, 0usize);
    for &g in &order {
        let s = members[g].len();
        // Keep at least one group for train.
        if chosen + 1 < members.len() && (size + s).abs_diff(t) < size.abs_diff(t) {
            in_eval[g] = true;
            size += s;
            chosen += 1;
        }
    }
    if chosen == 0 && members.len() >= 2 {
        // Every group was too big to bring eval closer to its target: the smallest one (first in
        // the shuffled order among equals) still goes, since an empty eval side measures nothing.
        let g = *order
            .iter()
            .min_by_key(|&&g| members[g].len())
            .expect("at least two groups");
        in_eval[g] = true;
    }
    let mut is_eval = vec![false; n];
    for (g, m) in members.iter().enumerate() {
        if in_eval[g] {
            for &i in m {
                is_eval[i] = true;
            }
        }
    }
    Ok(sides(&is_eval))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random class vectors: sizes 1..60, 1..8 classes with skewed frequencies (some classes rare,
    /// some singletons), labels not contiguous.
    fn random_classes(rng: &mut Rng) -> Vec<usize> {
        let n = 1 + rng.below(60);
        let c = 1 + rng.below(8);
        (0..n)
            .map(|_| {
                // Squaring skews towards class 0, so later classes are rare.
                let u = rng.next_f64();
                ((u * u * c as f64) as usize) * 7 + 3
            })
            .collect()
    }

    fn assert_partition(n: usize, train: &[usize], eval: &[usize]) {
        let mut all: Vec<usize> = train.iter().chain(eval).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "disjoint and covering");
        assert!(train.windows(2).all(|w| w[0] < w[1]));
        assert!(eval.windows(2).all(|w| w[0] < w[1]));
    }

    fn count(classes: &[usize], side: &[usize], c: usize) -> usize {
        side.iter().filter(|&&i| classes[i] == c).count()
    }

    #[test]
    fn shuffle_split_sizes_and_seeds() {
        let (tr, ev) = shuffle_split(10, 0.3, 1).unwrap();
        assert_partition(10, &tr, &ev);
        assert_eq!(ev.len(), 3);
        assert_eq!(shuffle_split(10, 0.3, 1).unwrap(), (tr.clone(), ev.clone()));
        let others: Vec<_> = (2..10)
            .map(|s| shuffle_split(10, 0.3, s).unwrap().1)
            .collect();
        assert!(others.iter().any(|e| *e != ev), "seed changes the split");
        assert_eq!(shuffle_split(1, 0.2, 0).unwrap(), (vec![0], vec![]));
        let e = |r: Result<(Vec<usize>, Vec<usize>)>| r.unwrap_err().to_string();
        assert!(e(shuffle_split(0, 0.2, 0)).contains("empty input"));
        for bad in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            assert!(e(shuffle_split(5, bad, 0)).contains("between 0 and 1"));
        }
    }

    #[test]
    fn stratified_split_properties() {
        let mut rng = Rng::new(11);
        for case in 0..500 {
            let classes = random_classes(&mut rng);
            let split = [0.1, 0.2, 0.5, 0.8][case % 4];
            let seed = rng.next_u64();
            let (tr, ev) = stratified_split(&classes, split, seed).unwrap();
            assert_partition(classes.len(), &tr, &ev);
            assert_eq!(
                stratified_split(&classes, split, seed).unwrap(),
                (tr.clone(), ev.clone())
            );
            let mut eligible_sum = 0;
            let mut sizes = BTreeMap::new();
            for &c in &classes {
                *sizes.entry(c).or_insert(0usize) += 1;
            }
            for (&c, &m) in &sizes {
                let (a, b) = (count(&classes, &tr, c), count(&classes, &ev, c));
                if m >= 2 {
                    assert!(a >= 1 && b >= 1, "class {c} of {m}: {a} train, {b} eval");
                    eligible_sum += m - 1;
                } else {
                    assert_eq!((a, b), (1, 0), "singletons stay in train");
                }
            }
            // The total is the target whenever the bounds allow it.
            let lo = sizes.values().filter(|&&m| m >= 2).count();
            let t = ((classes.len() as f64 * split).round() as usize).clamp(lo, eligible_sum);
            assert_eq!(ev.len(), t, "{classes:?} at {split}");
        }
    }

    #[test]
    fn stratified_split_is_proportional() {
        // 80 / 15 / 5 at 0.2: 16 / 3 / 1 in eval.
        let classes: Vec<usize> = (0..100)
            .map(|i| match i % 20 {
                0 => 2,
                1..=3 => 1,
                _ => 0,
            })
            .collect();
        let (tr, ev) = stratified_split(&classes, 0.2, 5).unwrap();
        assert_eq!((tr.len(), ev.len()), (80, 20));
        let per: Vec<usize> = (0..3).map(|c| count(&classes, &ev, c)).collect();
        assert_eq!(per, vec![16, 3, 1]);
        // The rare class still gets one even when its quota rounds to 0: 0.05 × 5 = 0.25.
        let (_, ev) = stratified_split(&classes, 0.05, 5).unwrap();
        assert_eq!(count(&classes, &ev, 2), 1);
        // A tie of remainders (6 of 24 at 0.25: quotas 1.5 and 4.5) goes to the smaller class.
        let tie: Vec<usize> = (0..24).map(|i| usize::from(i % 4 == 0)).collect();
        let (_, ev) = stratified_split(&tie, 0.25, 1).unwrap();
        assert_eq!((count(&tie, &ev, 1), count(&tie, &ev, 0)), (2, 4));
        assert_ne!(
            stratified_split(&classes, 0.2, 5).unwrap().1,
            stratified_split(&classes, 0.2, 6).unwrap().1
        );
    }

    #[test]
    fn kfold_properties() {
        let mut rng = Rng::new(12);
        let mut tested = 0;
        while tested < 300 {
            let classes = random_classes(&mut rng);
            let n = classes.len();
            if n < 2 {
                continue;
            }
            tested += 1;
            let k = 2 + rng.below(n.min(10) - 1);
            let repeats = 1 + rng.below(3);
            let seed = rng.next_u64();
            let folds = repeated_stratified_kfold(&classes, k, repeats, seed).unwrap();
            assert_eq!(folds.len(), k * repeats);
            assert_eq!(
                repeated_stratified_kfold(&classes, k, repeats, seed).unwrap(),
                folds
            );
            let mut sizes = BTreeMap::new();
            for &c in &classes {
                *sizes.entry(c).or_insert(0usize) += 1;
            }
            for r in 0..repeats {
                let rf: Vec<&Fold> = folds.iter().filter(|f| f.repeat == r).collect();
                assert_eq!(
                    rf.iter().map(|f| f.fold).collect::<Vec<_>>(),
                    (0..k).collect::<Vec<_>>()
                );
                // The eval parts partition the items.
                let mut all: Vec<usize> = rf.iter().flat_map(|f| f.eval.clone()).collect();
                all.sort_unstable();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
                for f in &rf {
                    assert_partition(n, &f.train, &f.eval);
                }
                let lens: Vec<usize> = rf.iter().map(|f| f.eval.len()).collect();
                assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1);
                for (&c, &m) in &sizes {
                    let per: Vec<usize> = rf.iter().map(|f| count(&classes, &f.eval, c)).collect();
                    assert!(per.iter().max().unwrap() - per.iter().min().unwrap() <= 1);
                    if m >= k {
                        assert!(per.iter().all(|&x| x >= 1), "class {c} ({m}) in every fold");
                    }
                }
            }
        }
        let classes: Vec<usize> = (0..40).map(|i| i % 3).collect();
        let f = repeated_stratified_kfold(&classes, 4, 2, 1).unwrap();
        assert_ne!(f[0].eval, f[4].eval, "each repetition reshuffles");
        let e = |k, r| {
            repeated_stratified_kfold(&classes[..5], k, r, 0)
                .unwrap_err()
                .to_string()
        };
        assert!(e(1, 1).contains("at least 2 folds"));
        assert!(e(6, 1).contains("needs at least 6 items, got 5"));
        assert!(e(2, 0).contains("at least 1 repetition"));
        assert!(repeated_stratified_kfold(&[], 2, 1, 0)
            .unwrap_err()
            .to_string()
            .contains("empty input"));
    }

    #[test]
    fn group_split_keeps_groups_whole() {
        let mut rng = Rng::new(13);
        for case in 0..500 {
            let groups = random_classes(&mut rng);
            let split = [0.1, 0.2, 0.5, 0.8][case % 4];
            let seed = rng.next_u64();
            let (tr, ev) = group_split(&groups, split, seed).unwrap();
            assert_partition(groups.len(), &tr, &ev);
            assert_eq!(
                group_split(&groups, split, seed).unwrap(),
                (tr.clone(), ev.clone())
            );
            for &i in &tr {
                assert!(ev.iter().all(|&j| groups[j] != groups[i]), "group divided");
            }
            let distinct = by_class(&groups).len();
            if distinct >= 2 {
                assert!(!tr.is_empty() && !ev.is_empty());
            } else {
                assert!(ev.is_empty());
            }
        }
        // Singletons: the target is met exactly.
        let singles: Vec<usize> = (0..50).collect();
        assert_eq!(group_split(&singles, 0.2, 3).unwrap().1.len(), 10);
        // One giant group and small ones: the giant one stays in train.
        let mut g = vec![0usize; 90];
        g.extend(1..=10);
        let (tr, ev) = group_split(&g, 0.2, 3).unwrap();
        assert!(tr.len() >= 90 && ev.iter().all(|&i| g[i] != 0));
        assert!(group_split(&[], 0.2, 0).is_err());
        assert!(group_split(&[1, 2], 1.0, 0).is_err());
    }
}
