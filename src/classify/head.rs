//! Training the relationship classifier's head on labelled pair embeddings: pair features in the
//! right orders, class balancing inside the training data only, standardisation, and the
//! regularisation strength C chosen by inner cross-validation on macro-F1.

use serde::{Deserialize, Serialize};

use super::features::{training_orders, FeatureConfig};
use super::logistic::{LogisticModel, Standardizer};
use crate::data::relationships::Relation;
use crate::data::split::repeated_stratified_kfold;
use crate::error::{Error, Result};
use crate::eval::metrics::class_report;
use crate::rng::Rng;

/// Number of relationship classes (duplicate, causal, related, none).
pub const N_CLASSES: usize = 4;

/// How the head copes with rare classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Train on the data as it is.
    None,
    /// Random oversampling: draw extra copies (seeded, with replacement) of each smaller class's
    /// training rows until every class has as many rows as the largest.
    #[default]
    Oversample,
    /// Class weights n_max / n_c, applied as exact integer multiplicities of every row (rounded),
    /// which is the weighted loss linfa's logistic regression cannot take directly.
    #[cfg_attr(not(target_arch = "wasm32"), value(name = "class_weight"))]
    ClassWeight,
}

/// Settings of the head.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadConfig {
    /// Which pair features to use.
    pub features: FeatureConfig,
    /// Imbalance handling, inside the training data only.
    pub balance: Balance,
    /// Candidate values of C (inverse L2 strength); one value skips the inner cross-validation.
    pub c_grid: Vec<f64>,
    /// Folds of the inner cross-validation that picks C.
    pub inner_folds: usize,
    /// L-BFGS iterations per fit.
    pub max_iterations: u64,
    /// Seed of the oversampling and the inner folds.
    pub seed: u64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        HeadConfig {
            features: FeatureConfig::default(),
            balance: Balance::Oversample,
            c_grid: vec![0.01, 0.1, 1.0],
            inner_folds: 3,
            max_iterations: 50,
            seed: 42,
        }
    }
}

/// One labelled pair's embeddings: `u` of ticket a, `v` of ticket b.
#[derive(Clone, Copy, Debug)]
pub struct Example<'a> {
    /// Embedding of the first ticket (the cause, for causal pairs).
    pub u: &'a [f32],
    /// Embedding of the second ticket.
    pub v: &'a [f32],
    /// The label.
    pub relation: Relation,
}

/// A fitted head: features → standardiser → logistic regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// The features it was trained on.
    pub features: FeatureConfig,
    /// The training rows' mean and scale.
    pub standardizer: Standardizer,
    /// The regression.
    pub model: LogisticModel,
    /// The C it was fitted with.
    pub c: f64,
    /// The balancing it was trained with.
    pub balance: Balance,
}

impl Head {
    /// Probabilities of duplicate, causal, related, none (in [`Relation::ALL`] order) for the
    /// ordered pair (u, v).
    pub fn probabilities(&self, u: &[f32], v: &[f32]) -> Vec<f64> {
        self.model.probabilities(&self.row(u, v), N_CLASSES)
    }

    /// The most probable relationship.
    pub fn predict(&self, u: &[f32], v: &[f32]) -> Relation {
        Relation::ALL[self.model.predict(&self.row(u, v), N_CLASSES)]
    }

    /// The standardised feature row of the ordered pair (u, v).
    fn row(&self, u: &[f32], v: &[f32]) -> Vec<f64> {
        let mut row = Vec::with_capacity(self.model.dim);
        self.features.extend(u, v, &mut row);
        self.standardizer.apply(&mut row);
        row
    }
}

/// Feature rows of `idx` in their training orders (symmetric relations both ways).
fn rows(examples: &[Example], idx: &[usize], features: FeatureConfig) -> (Vec<f64>, Vec<usize>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for &i in idx {
        let e = &examples[i];
        for &swap in training_orders(e.relation) {
            let (a, b) = if swap { (e.v, e.u) } else { (e.u, e.v) };
            features.extend(a, b, &mut x);
            y.push(e.relation.index());
        }
    }
    (x, y)
}

/// Balance training rows as `balance` says; only ever called on training data, so no copy of a
/// row can reach the rows it is evaluated on.
pub(crate) fn balanced(
    x: Vec<f64>,
    y: Vec<usize>,
    dim: usize,
    balance: Balance,
    rng: &mut Rng,
) -> (Vec<f64>, Vec<usize>) {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); N_CLASSES];
    for (i, &c) in y.iter().enumerate() {
        members[c].push(i);
    }
    let largest = members.iter().map(Vec::len).max().unwrap_or(0);
    let (mut bx, mut by) = (x.clone(), y.clone());
    let push = |i: usize, bx: &mut Vec<f64>, by: &mut Vec<usize>| {
        bx.extend_from_slice(&x[i * dim..(i + 1) * dim]);
        by.push(y[i]);
    };
    match balance {
        Balance::None => {}
        Balance::Oversample => {
            for m in members.iter().filter(|m| !m.is_empty()) {
                for _ in m.len()..largest {
                    push(m[rng.below(m.len())], &mut bx, &mut by);
                }
            }
        }
        Balance::ClassWeight => {
            for m in members.iter().filter(|m| !m.is_empty()) {
                let times = (largest as f64 / m.len() as f64).round() as usize;
                for _ in 1..times {
                    for &i in m {
                        push(i, &mut bx, &mut by);
                    }
                }
            }
        }
    }
    (bx, by)
}

/// The training rows of `train`: features in their training orders, balanced, standardised (the
/// standardiser is returned to apply to other rows). Only `train` is read.
pub(crate) fn training_rows(
    examples: &[Example],
    train: &[usize],
    cfg: &HeadConfig,
    rng: &mut Rng,
) -> Result<(Standardizer, Vec<f64>, Vec<usize>, usize)> {
    let dim = cfg.features.len(examples[0].u.len());
    let (x, y) = rows(examples, train, cfg.features);
    let (mut x, y) = balanced(x, y, dim, cfg.balance, rng);
    let standardizer = Standardizer::fit(&x, dim)?;
    standardizer.apply(&mut x);
    Ok((standardizer, x, y, dim))
}

/// Standardised feature rows of `idx` in their given order (for prediction).
pub(crate) fn eval_rows(
    examples: &[Example],
    idx: &[usize],
    features: FeatureConfig,
    standardizer: &Standardizer,
) -> Vec<f64> {
    let mut x = Vec::new();
    for &i in idx {
        features.extend(examples[i].u, examples[i].v, &mut x);
    }
    standardizer.apply(&mut x);
    x
}

/// Fit with one C on the training examples `train`.
fn fit_with(
    examples: &[Example],
    train: &[usize],
    cfg: &HeadConfig,
    c: f64,
    rng: &mut Rng,
) -> Result<Head> {
    let (standardizer, x, y, dim) = training_rows(examples, train, cfg, rng)?;
    let model = LogisticModel::fit(&x, dim, &y, c, cfg.max_iterations)?;
    Ok(Head {
        features: cfg.features,
        standardizer,
        model,
        c,
        balance: cfg.balance,
    })
}

/// Macro-F1 of `head` on the examples `idx` (each in its given order).
pub(crate) fn macro_f1(head: &Head, examples: &[Example], idx: &[usize]) -> f64 {
    let truth: Vec<usize> = idx.iter().map(|&i| examples[i].relation.index()).collect();
    let pred: Vec<usize> = idx
        .iter()
        .map(|&i| head.predict(examples[i].u, examples[i].v).index())
        .collect();
    class_report(&truth, &pred, N_CLASSES).macro_f1
}

/// Fit the head on `examples[train]`, choosing C from `cfg.c_grid` by inner stratified
/// cross-validation on macro-F1 (ties: the smaller C, the stronger regularisation).
pub fn fit_head(examples: &[Example], train: &[usize], cfg: &HeadConfig) -> Result<Head> {
    if train.is_empty() {
        return Err(Error::Invalid("classifier: no training pairs".into()));
    }
    if cfg.features.is_empty() {
        return Err(Error::Invalid(
            "classifier: every pair feature is switched off".into(),
        ));
    }
    if cfg.c_grid.is_empty() || cfg.c_grid.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(Error::Invalid(format!(
            "classifier: c_grid must hold positive values, got {:?}",
            cfg.c_grid
        )));
    }
    let dim = examples[0].u.len();
    if let Some(e) = examples
        .iter()
        .find(|e| e.u.len() != dim || e.v.len() != dim)
    {
        return Err(Error::Invalid(format!(
            "classifier: embeddings of {} and {} values next to {dim}",
            e.u.len(),
            e.v.len()
        )));
    }
    let mut rng = Rng::new(cfg.seed);
    let mut c = cfg.c_grid[0];
    if cfg.c_grid.len() > 1 && train.len() >= cfg.inner_folds.max(2) {
        let classes: Vec<usize> = train
            .iter()
            .map(|&i| examples[i].relation.index())
            .collect();
        let folds = repeated_stratified_kfold(&classes, cfg.inner_folds.max(2), 1, cfg.seed)?;
        let mut best = f64::NEG_INFINITY;
        for &candidate in &cfg.c_grid {
            let mut sum = 0.0;
            for f in &folds {
                let tr: Vec<usize> = f.train.iter().map(|&j| train[j]).collect();
                let ev: Vec<usize> = f.eval.iter().map(|&j| train[j]).collect();
                let head = fit_with(examples, &tr, cfg, candidate, &mut rng)?;
                sum += macro_f1(&head, examples, &ev);
            }
            let score = sum / folds.len() as f64;
            if score > best + 1e-12 || (score >= best - 1e-12 && candidate < c) {
                best = score.max(best);
                c = candidate;
            }
        }
    }
    fit_with(examples, train, cfg, c, &mut rng)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Embeddings where the relation is readable: duplicates nearly equal, causal pairs share a
    /// direction shifted one way (a → b), related ones overlap half-way, none are unrelated.
    pub(crate) fn toy(
        n_per: [usize; 4],
        seed: u64,
    ) -> (Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Relation>) {
        let mut rng = Rng::new(seed);
        let dim = 8;
        let rand_vec =
            |rng: &mut Rng| -> Vec<f32> { (0..dim).map(|_| rng.normal() as f32).collect() };
        let (mut us, mut vs, mut ys) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &n) in n_per.iter().enumerate() {
            for _ in 0..n {
                let u = rand_vec(&mut rng);
                let noise = rand_vec(&mut rng);
                let v: Vec<f32> = match Relation::ALL[k] {
                    Relation::Duplicate => u.iter().zip(&noise).map(|(a, n)| a + 0.1 * n).collect(),
                    Relation::Causal => u
                        .iter()
                        .zip(&noise)
                        .enumerate()
                        .map(|(d, (a, n))| a * 0.6 + 0.3 * n + if d == 0 { 2.0 } else { 0.0 })
                        .collect(),
                    Relation::Related => u
                        .iter()
                        .zip(&noise)
                        .map(|(a, n)| 0.5 * a + 0.6 * n)
                        .collect(),
                    Relation::None => noise,
                };
                us.push(u);
                vs.push(v);
                ys.push(Relation::ALL[k]);
            }
        }
        (us, vs, ys)
    }

    pub(crate) fn examples<'a>(
        us: &'a [Vec<f32>],
        vs: &'a [Vec<f32>],
        ys: &[Relation],
    ) -> Vec<Example<'a>> {
        us.iter()
            .zip(vs)
            .zip(ys)
            .map(|((u, v), &relation)| Example { u, v, relation })
            .collect()
    }

    #[test]
    fn learns_the_toy_relations_and_picks_c() {
        let (us, vs, ys) = toy([30, 20, 30, 120], 1);
        let ex = examples(&us, &vs, &ys);
        let (test_us, test_vs, test_ys) = toy([10, 10, 10, 40], 2);
        let test = examples(&test_us, &test_vs, &test_ys);
        let all: Vec<usize> = (0..ex.len()).collect();
        let head = fit_head(&ex, &all, &HeadConfig::default()).unwrap();
        assert!(HeadConfig::default().c_grid.contains(&head.c));
        let idx: Vec<usize> = (0..test.len()).collect();
        let f1 = macro_f1(&head, &test, &idx);
        assert!(f1 > 0.8, "macro-F1 {f1}");
        // Causal is directed: the swapped pair is not read as causal.
        let causal: Vec<&Example> = test
            .iter()
            .filter(|e| e.relation == Relation::Causal)
            .collect();
        let forward = causal
            .iter()
            .filter(|e| head.predict(e.u, e.v) == Relation::Causal)
            .count();
        let backward = causal
            .iter()
            .filter(|e| head.predict(e.v, e.u) == Relation::Causal)
            .count();
        assert!(
            forward >= 9 && backward < forward,
            "forward {forward}, backward {backward}"
        );
        // Same data, same seed: the same head.
        assert_eq!(fit_head(&ex, &all, &HeadConfig::default()).unwrap(), head);
        // A JSON round trip gives the same bits, so the same predictions.
        let back: Head = serde_json::from_str(&serde_json::to_string(&head).unwrap()).unwrap();
        assert_eq!(back, head);
        let p = |h: &Head| h.probabilities(test[0].u, test[0].v);
        assert_eq!(p(&back), p(&head));
    }

    /// By construction nothing outside the training indices reaches the fit: poisoning every other
    /// example (NaN embeddings) leaves the head — inner CV, oversampling, standardiser, weights —
    /// bit-identical, so no copy of a validation pair can be in its training rows.
    #[test]
    fn examples_outside_the_training_fold_never_reach_the_fit() {
        let (us, vs, ys) = toy([12, 9, 12, 40], 6);
        let train: Vec<usize> = (0..us.len()).filter(|i| i % 4 != 0).collect();
        let clean = fit_head(&examples(&us, &vs, &ys), &train, &HeadConfig::default()).unwrap();
        let nan = vec![f32::NAN; us[0].len()];
        let (mut pu, mut pv) = (us.clone(), vs.clone());
        for i in (0..us.len()).filter(|i| i % 4 == 0) {
            pu[i] = nan.clone();
            pv[i] = nan.clone();
        }
        let poisoned = fit_head(&examples(&pu, &pv, &ys), &train, &HeadConfig::default()).unwrap();
        assert_eq!(poisoned, clean);
        assert!(clean.model.weights.iter().all(|w| w.is_finite()));
    }

    #[test]
    fn balancing_copies_training_rows_only() {
        let x: Vec<f64> = (0..6).map(|i| i as f64).collect();
        let y = vec![3, 3, 3, 3, 0, 1];
        let mut rng = Rng::new(1);
        let (bx, by) = balanced(x.clone(), y.clone(), 1, Balance::Oversample, &mut rng);
        assert_eq!(by.iter().filter(|&&c| c == 0).count(), 4);
        assert_eq!(by.iter().filter(|&&c| c == 1).count(), 4);
        // Every added row is a copy of a row of its own class.
        for (v, c) in bx.iter().zip(&by) {
            let i = *v as usize;
            assert_eq!(y[i], *c);
        }
        let (_, wy) = balanced(x, y, 1, Balance::ClassWeight, &mut rng);
        assert_eq!(wy.iter().filter(|&&c| c == 0).count(), 4);
        assert_eq!(wy.len(), 12);
    }
}
