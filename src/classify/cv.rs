//! Honest figures under class imbalance: repeated stratified k-fold of the learnt head next to two
//! baselines — the majority class, and cosine-threshold rules (duplicate above t1, related above
//! t2, else none) tuned on the training folds — with per-class precision / recall / F1 and the F1
//! averages as mean ± std over folds, and confusion matrices summed over folds. Classes are always
//! the four explicit relations, so a class absent from a fold gives zero support, never a crash.

use serde::{Deserialize, Serialize};

use super::head::{eval_rows, fit_head, training_rows, Example, HeadConfig, N_CLASSES};
use super::mlp::{Mlp, MlpConfig};
use crate::data::relationships::Relation;
use crate::data::split::{repeated_stratified_kfold, stratified_split};
use crate::error::{Error, Result};
use crate::eval::metrics::{class_report, confusion_matrix, ClassReport};

/// Settings of a cross-validation run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CvConfig {
    /// Folds per repetition.
    pub folds: usize,
    /// Repetitions (each reshuffled).
    pub repeats: usize,
    /// A class with fewer examples than this is dropped, with a warning naming it and its count.
    pub min_class_count: usize,
    /// Seed of the folds (the head has its own in `head`).
    pub seed: u64,
    /// The learnt head's settings.
    pub head: HeadConfig,
    /// The comparison head (a one-hidden-layer MLP on the same rows); `None` leaves it out.
    pub mlp: Option<MlpConfig>,
    /// Share of the examples in the single stratified holdout split reported next to the k-fold
    /// (every kept class of ≥ 2 examples has ≥ 1 in validation); 0 leaves the holdout out.
    pub holdout_split: f64,
}

impl Default for CvConfig {
    fn default() -> Self {
        CvConfig {
            folds: 5,
            repeats: 3,
            min_class_count: 5,
            seed: 42,
            head: HeadConfig::default(),
            mlp: Some(MlpConfig::default()),
            holdout_split: 0.2,
        }
    }
}

/// Mean and standard deviation over folds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
}

impl MeanStd {
    /// Mean and population standard deviation of `xs` (0 and 0 when empty).
    pub fn of(xs: impl Iterator<Item = f64>) -> Self {
        let v: Vec<f64> = xs.collect();
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
        MeanStd { mean, std }
    }
}

/// One class's figures over folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassCv {
    /// The class.
    pub relation: Relation,
    /// Precision over folds.
    pub precision: MeanStd,
    /// Recall over folds.
    pub recall: MeanStd,
    /// F1 over folds.
    pub f1: MeanStd,
    /// Examples of the class in the whole data.
    pub support: usize,
}

/// One model's cross-validated figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCv {
    /// "logistic regression", "majority class", "cosine thresholds".
    pub name: String,
    /// Per class, in [`Relation::ALL`] order.
    pub classes: Vec<ClassCv>,
    /// Micro-F1 (= accuracy) over folds.
    pub micro_f1: MeanStd,
    /// Macro-F1 over folds — the figure that shows whether rare classes are learnt.
    pub macro_f1: MeanStd,
    /// Support-weighted F1 over folds.
    pub weighted_f1: MeanStd,
    /// Confusion matrix summed over every fold (rows: truth; columns: prediction).
    pub confusion: Vec<Vec<usize>>,
}

/// The whole cross-validation report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// The settings.
    pub config: CvConfig,
    /// Examples used (after the rare-class filter).
    pub examples: usize,
    /// Classes dropped by the rare-class filter, with their counts.
    pub dropped: Vec<(Relation, usize)>,
    /// Warnings for the user (dropped classes, classes too small to be in every fold).
    pub warnings: Vec<String>,
    /// Folds in which a class with at least `folds` examples had no example in validation (0 by
    /// construction of the stratified folds; reported so it is checked, not assumed).
    pub folds_missing_a_class: usize,
    /// The learnt head first, then the baselines, then the MLP comparison head when configured.
    pub models: Vec<ModelCv>,
    /// One stratified train / validation split, the seeds' `eval_split` view (`None` when
    /// `holdout_split` is 0).
    pub holdout: Option<HoldoutReport>,
}

/// The figures of one stratified holdout split: the seeds' single validation set, done so that
/// every class is in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldoutReport {
    /// Training examples.
    pub train: usize,
    /// Validation examples.
    pub eval: usize,
    /// Validation examples per class, in [`Relation::ALL`] order.
    pub eval_support: Vec<usize>,
    /// Kept classes with no validation example (empty by construction; reported so it is
    /// checked, not assumed).
    pub classes_missing: Vec<Relation>,
    /// The same models as the k-fold table, in the same order.
    pub models: Vec<ModelHoldout>,
}

/// One model on the holdout split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelHoldout {
    /// The model's name, as in [`ModelCv::name`].
    pub name: String,
    /// Per-class precision / recall / F1 and the averages, over the four explicit classes.
    pub report: ClassReport,
    /// Confusion matrix (rows: truth; columns: prediction).
    pub confusion: Vec<Vec<usize>>,
}

/// Cosine-threshold rule: duplicate when cos ≥ t1, related when t2 ≤ cos < t1, none below.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CosineRule {
    t1: f64,
    t2: f64,
}

impl CosineRule {
    fn predict(&self, cos: f64) -> usize {
        if cos >= self.t1 {
            Relation::Duplicate.index()
        } else if cos >= self.t2 {
            Relation::Related.index()
        } else {
            Relation::None.index()
        }
    }

    /// The thresholds on the 0.01 grid with the best macro-F1 on (cosine, class) pairs.
    fn tune(cos: &[f64], truth: &[usize]) -> CosineRule {
        let mut best = (f64::NEG_INFINITY, CosineRule { t1: 1.0, t2: 1.0 });
        let mut pred = vec![0; cos.len()];
        for i1 in 0..=100 {
            let t1 = i1 as f64 / 100.0;
            for i2 in 0..=i1 {
                let rule = CosineRule {
                    t1,
                    t2: i2 as f64 / 100.0,
                };
                for (p, &c) in pred.iter_mut().zip(cos) {
                    *p = rule.predict(c);
                }
                let f = class_report(truth, &pred, N_CLASSES).macro_f1;
                if f > best.0 {
                    best = (f, rule);
                }
            }
        }
        best.1
    }
}

fn summarise(
    name: &str,
    reports: &[ClassReport],
    confusion: Vec<Vec<usize>>,
    support: &[usize],
) -> ModelCv {
    ModelCv {
        name: name.into(),
        classes: Relation::ALL
            .iter()
            .enumerate()
            .map(|(k, &relation)| ClassCv {
                relation,
                precision: MeanStd::of(reports.iter().map(|r| r.classes[k].precision)),
                recall: MeanStd::of(reports.iter().map(|r| r.classes[k].recall)),
                f1: MeanStd::of(reports.iter().map(|r| r.classes[k].f1)),
                support: support[k],
            })
            .collect(),
        micro_f1: MeanStd::of(reports.iter().map(|r| r.micro_f1)),
        macro_f1: MeanStd::of(reports.iter().map(|r| r.macro_f1)),
        weighted_f1: MeanStd::of(reports.iter().map(|r| r.weighted_f1)),
        confusion,
    }
}

/// The rare-class filter: examples per class (in [`Relation::ALL`] order), the classes with fewer
/// than `min_class_count` examples (with their counts), and the indices of the examples kept.
pub fn rare_class_filter(
    examples: &[Example],
    min_class_count: usize,
) -> ([usize; N_CLASSES], Vec<(Relation, usize)>, Vec<usize>) {
    let mut support = [0usize; N_CLASSES];
    for e in examples {
        support[e.relation.index()] += 1;
    }
    let dropped: Vec<(Relation, usize)> = Relation::ALL
        .iter()
        .zip(support)
        .filter(|&(_, n)| n > 0 && n < min_class_count)
        .map(|(&r, n)| (r, n))
        .collect();
    let kept = (0..examples.len())
        .filter(|&i| !dropped.iter().any(|(r, _)| *r == examples[i].relation))
        .collect();
    (support, dropped, kept)
}

/// The models' names, in the order of [`evaluate_split`]'s predictions.
const MODEL_NAMES: [&str; 4] = [
    "logistic regression",
    "majority class",
    "cosine thresholds",
    "MLP (1 hidden layer)",
];

/// Fit every model on `train` and predict `eval` (indices into `examples`): the truth, and the
/// predictions of the head, the majority class, the cosine rule and the MLP (empty when the MLP is
/// off). `tag` distinguishes the seeds of different splits. Nothing of `eval` but its embeddings
/// at prediction time reaches a model: balancing, standardisation, C and the thresholds are all
/// chosen on `train`.
fn evaluate_split(
    examples: &[Example],
    cosines: &[f64],
    train: &[usize],
    eval: &[usize],
    cfg: &CvConfig,
    tag: u64,
) -> Result<(Vec<usize>, [Vec<usize>; 4])> {
    let truth: Vec<usize> = eval.iter().map(|&i| examples[i].relation.index()).collect();

    let head = fit_head(
        examples,
        train,
        &HeadConfig {
            seed: cfg.head.seed ^ tag,
            ..cfg.head.clone()
        },
    )?;
    let pred_head: Vec<usize> = eval
        .iter()
        .map(|&i| head.predict(examples[i].u, examples[i].v).index())
        .collect();

    let mut counts = [0usize; N_CLASSES];
    for &i in train {
        counts[examples[i].relation.index()] += 1;
    }
    let majority = (0..N_CLASSES)
        .max_by_key(|&k| (counts[k], N_CLASSES - k))
        .unwrap_or(0);
    let pred_majority = vec![majority; eval.len()];

    let train_cos: Vec<f64> = train.iter().map(|&i| cosines[i]).collect();
    let train_truth: Vec<usize> = train
        .iter()
        .map(|&i| examples[i].relation.index())
        .collect();
    let rule = CosineRule::tune(&train_cos, &train_truth);
    let pred_rule: Vec<usize> = eval.iter().map(|&i| rule.predict(cosines[i])).collect();

    // The MLP trains on the same kind of rows (orders, balancing, standardisation) as the head.
    let pred_mlp = match &cfg.mlp {
        None => Vec::new(),
        Some(mc) => {
            let seed = cfg.head.seed ^ tag ^ 0x3a1f;
            let mut rng = crate::rng::Rng::new(seed);
            let (st, x, y, dim) = training_rows(examples, train, &cfg.head, &mut rng)?;
            let mlp = Mlp::fit(&x, dim, &y, N_CLASSES, mc, seed)?;
            mlp.predict(&eval_rows(examples, eval, cfg.head.features, &st), dim)?
        }
    };
    Ok((truth, [pred_head, pred_majority, pred_rule, pred_mlp]))
}

/// The single stratified holdout split of the kept examples, scored like one fold.
fn holdout(
    examples: &[Example],
    cosines: &[f64],
    kept: &[usize],
    classes: &[usize],
    cfg: &CvConfig,
) -> Result<HoldoutReport> {
    let (tr, ev) = stratified_split(classes, cfg.holdout_split, cfg.seed)?;
    let train: Vec<usize> = tr.iter().map(|&j| kept[j]).collect();
    let eval: Vec<usize> = ev.iter().map(|&j| kept[j]).collect();
    // A tag no fold uses (folds are numbered from 0 up).
    let (truth, preds) = evaluate_split(examples, cosines, &train, &eval, cfg, u64::MAX)?;
    let mut eval_support = vec![0usize; N_CLASSES];
    let mut kept_support = [0usize; N_CLASSES];
    for &t in &truth {
        eval_support[t] += 1;
    }
    for &c in classes {
        kept_support[c] += 1;
    }
    let classes_missing = Relation::ALL
        .iter()
        .filter(|r| kept_support[r.index()] > 0 && eval_support[r.index()] == 0)
        .copied()
        .collect();
    Ok(HoldoutReport {
        train: train.len(),
        eval: eval.len(),
        eval_support,
        classes_missing,
        models: preds
            .iter()
            .zip(MODEL_NAMES)
            .filter(|(p, _)| p.len() == truth.len())
            .map(|(p, name)| ModelHoldout {
                name: name.into(),
                report: class_report(&truth, p, N_CLASSES),
                confusion: confusion_matrix(&truth, p, N_CLASSES),
            })
            .collect(),
    })
}

/// Repeated stratified k-fold of the learnt head and the baselines on `examples`, and the
/// stratified holdout split when `cfg.holdout_split` > 0.
pub fn cross_validate(examples: &[Example], cfg: &CvConfig) -> Result<CvReport> {
    let (support, dropped, kept) = rare_class_filter(examples, cfg.min_class_count);
    let mut warnings: Vec<String> = dropped
        .iter()
        .map(|(r, n)| {
            format!(
                "class {} dropped: {n} example(s), fewer than min_class_count {}",
                r.name(),
                cfg.min_class_count
            )
        })
        .collect();
    let classes: Vec<usize> = kept.iter().map(|&i| examples[i].relation.index()).collect();
    if classes
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        < 2
    {
        return Err(Error::Invalid(
            "classifier: cross-validation needs at least 2 classes with enough examples".into(),
        ));
    }
    for (k, &n) in support.iter().enumerate() {
        if n >= cfg.min_class_count && n < cfg.folds {
            warnings.push(format!(
                "class {} has {n} examples, fewer than {} folds: some folds validate without it",
                Relation::ALL[k].name(),
                cfg.folds
            ));
        }
    }
    let folds = repeated_stratified_kfold(&classes, cfg.folds, cfg.repeats, cfg.seed)?;
    let cosines: Vec<f64> = examples
        .iter()
        .map(|e| crate::cosine(e.u, e.v) as f64)
        .collect();
    // Folds are independent (each has its own seed), so they run on all cores natively (see
    // parallel.rs) and one after the other in wasm — with identical results.
    let per_fold = crate::parallel::map(&folds, |f| {
        let train: Vec<usize> = f.train.iter().map(|&j| kept[j]).collect();
        let eval: Vec<usize> = f.eval.iter().map(|&j| kept[j]).collect();
        evaluate_split(
            examples,
            &cosines,
            &train,
            &eval,
            cfg,
            (f.repeat * cfg.folds + f.fold) as u64,
        )
    });
    let mut reports: [Vec<ClassReport>; 4] = Default::default();
    let mut confusions = vec![vec![vec![0usize; N_CLASSES]; N_CLASSES]; 4];
    let mut folds_missing_a_class = 0;
    for result in per_fold {
        let (truth, preds) = result?;
        folds_missing_a_class += (0..N_CLASSES)
            .filter(|&k| support[k] >= cfg.folds.max(cfg.min_class_count) && !truth.contains(&k))
            .count();
        for (m, pred) in preds
            .iter()
            .enumerate()
            .filter(|(_, p)| p.len() == truth.len())
        {
            reports[m].push(class_report(&truth, pred, N_CLASSES));
            let c = confusion_matrix(&truth, pred, N_CLASSES);
            for (row, add) in confusions[m].iter_mut().zip(c) {
                for (x, a) in row.iter_mut().zip(add) {
                    *x += a;
                }
            }
        }
    }
    let mut kept_support = [0usize; N_CLASSES];
    for &c in &classes {
        kept_support[c] += 1;
    }
    let holdout = if cfg.holdout_split > 0.0 {
        Some(holdout(examples, &cosines, &kept, &classes, cfg)?)
    } else {
        None
    };
    let models = reports
        .iter()
        .zip(confusions)
        .zip(MODEL_NAMES)
        .filter(|((r, _), _)| !r.is_empty())
        .map(|((r, c), name)| summarise(name, r, c, &kept_support))
        .collect();
    Ok(CvReport {
        config: cfg.clone(),
        examples: kept.len(),
        dropped,
        warnings,
        folds_missing_a_class,
        models,
        holdout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::head::tests::{examples, toy};

    fn small_cfg() -> CvConfig {
        CvConfig {
            folds: 3,
            repeats: 2,
            head: HeadConfig {
                c_grid: vec![0.1],
                ..HeadConfig::default()
            },
            ..CvConfig::default()
        }
    }

    #[test]
    fn learnt_head_beats_both_baselines_and_reruns_exactly() {
        let (us, vs, ys) = toy([20, 12, 20, 90], 3);
        let ex = examples(&us, &vs, &ys);
        let r = cross_validate(&ex, &small_cfg()).unwrap();
        assert_eq!(r.models.len(), 4);
        assert_eq!(r.models[3].name, "MLP (1 hidden layer)");
        assert_eq!(r.folds_missing_a_class, 0);
        let macro_of = |i: usize| r.models[i].macro_f1.mean;
        assert!(
            macro_of(0) > macro_of(1) && macro_of(0) > macro_of(2),
            "{:?}",
            r.models
                .iter()
                .map(|m| (&m.name, m.macro_f1))
                .collect::<Vec<_>>()
        );
        // The summed confusion matrix counts every validation example once per repetition.
        let total: usize = r.models[0].confusion.iter().flatten().sum();
        assert_eq!(total, ex.len() * 2);
        // The holdout: 20% of the examples, every class in validation, the same models.
        let h = r.holdout.as_ref().unwrap();
        assert_eq!((h.train, h.eval), (114, 28));
        assert!(
            h.eval_support.iter().all(|&n| n >= 1),
            "{:?}",
            h.eval_support
        );
        assert!(h.classes_missing.is_empty());
        let names: Vec<&str> = h.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            r.models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>()
        );
        assert!(h.models[0].report.macro_f1 > h.models[1].report.macro_f1);
        assert_eq!(cross_validate(&ex, &small_cfg()).unwrap(), r);
    }

    #[test]
    fn rare_and_absent_classes_do_not_crash_the_report() {
        // No related examples at all, and only 3 causal ones: dropped with a warning.
        let (us, vs, ys) = toy([12, 3, 0, 30], 4);
        let ex = examples(&us, &vs, &ys);
        let r = cross_validate(&ex, &small_cfg()).unwrap();
        assert_eq!(r.dropped, vec![(Relation::Causal, 3)]);
        assert!(
            r.warnings[0].contains("causal dropped: 3 example(s)"),
            "{:?}",
            r.warnings
        );
        let related = &r.models[0].classes[Relation::Related.index()];
        assert_eq!(related.support, 0);
        assert_eq!(related.f1.mean, 0.0);
        assert_eq!(r.examples, 42);
        let h = r.holdout.as_ref().unwrap();
        assert_eq!(h.eval_support[Relation::Related.index()], 0);
        assert_eq!(h.eval_support[Relation::Causal.index()], 0);
        assert!(h.classes_missing.is_empty());
        assert_eq!(
            h.models[0].report.classes[Relation::Related.index()].f1,
            0.0
        );
        // Without the MLP and the holdout, both are left out of the report.
        let bare = cross_validate(
            &ex,
            &CvConfig {
                mlp: None,
                holdout_split: 0.0,
                ..small_cfg()
            },
        )
        .unwrap();
        assert_eq!(bare.models.len(), 3);
        assert!(bare.holdout.is_none());
        // One class left is not a classification problem.
        let (us, vs, ys) = toy([0, 0, 0, 10], 5);
        assert!(cross_validate(&examples(&us, &vs, &ys), &small_cfg()).is_err());
    }
}
