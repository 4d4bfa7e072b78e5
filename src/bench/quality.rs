//! The quality benchmark (`ticketsim bench quality`): fine-tuning recipes judged on tickets the
//! model never trained on.
//!
//! For each seed, the incidents are split by [`generate_pairs`] — whole clusters of linked,
//! same-fix or identical tickets go to one side — and every recipe trains on the training side
//! (its checkpoint chosen on a split of the training side's own pairs, as `ticketsim train` does).
//! Only the held-out side is measured:
//! - pair ROC-AUC and average precision of the cosine on the held-out side's pairs;
//! - duplicate retrieval (recall@1/5/10, MRR) for each held-out ticket with a duplicate link,
//!   ranked against every incident of the file (both sides: the past tickets a desk searches);
//! - causal retrieval MRR (a symptom finding its cause, and back);
//! - the relationship classifier's macro-F1 (over the classes present) on the held-out side's
//!   relationship pairs, the head fitted on the training side's pairs with the same embeddings;
//! - the run's time.
//!
//! The base model and BM25 are reference rows, measured on the same held-out side. Everything is
//! seeded; the summary gives mean ± std over the seeds, and [`recommend`] applies the rule that
//! chooses the default recipe — written down before any result was seen.
//!
//! Imports: the data layer (incidents, pair generation), the training session and recipes, the
//! evaluation module (retrieval, metrics), the relationship classifier, and the encoder. No files,
//! threads or clocks of its own: the caller passes the model files, a [`Host`] and a progress sink.

use std::collections::HashMap;

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::classify::cv::MeanStd;
use crate::classify::head::{fit_head, HeadConfig};
use crate::classify::PairEmbeddings;
use crate::data::generate::{generate_pairs, PairGenConfig, PairSide};
use crate::data::incidents::Incident;
use crate::data::relationships::{Relation, RelationshipPair};
use crate::encoder::ModelFiles;
use crate::error::{Error, Result};
use crate::eval::metrics::{average_precision, class_report, roc_auc};
use crate::eval::retrieval::{retrieval_report, retrieval_set, LinkKind, RetrievalSet};
use crate::train::config::TrainConfig;
use crate::train::recipe::Preset;
use crate::train::session::{select_data, Host, RunInfo, Session};
use crate::SentenceEncoder;

/// What to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityConfig {
    /// The recipes, in table order.
    pub presets: Vec<Preset>,
    /// One full round (split, every recipe) per seed.
    pub seeds: Vec<u64>,
    /// Training settings shared by every recipe (the preset sets recipe and loss, the round its
    /// seed).
    pub train: TrainConfig,
    /// Pair generation (the round sets its seed).
    pub pairs: PairGenConfig,
    /// Texts per forward pass when encoding.
    pub encode_batch: usize,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            presets: Preset::ALL.to_vec(),
            seeds: vec![42, 43, 44],
            train: TrainConfig::default(),
            pairs: PairGenConfig::default(),
            encode_batch: 32,
        }
    }
}

impl QualityConfig {
    /// Whether `earlier`'s rounds can stand for this run's: the same training and pair settings.
    /// The seeds and the recipes may differ — a round is one seed, and a round that lacks a recipe
    /// can have it added (the base model, BM25 and the other recipes do not depend on it).
    ///
    /// The training config's recipe, loss and warmup share do not count either: every recipe
    /// sets its own ([`TrainConfig::set_preset`]), so they are whatever the default recipe was
    /// when the report was written, and changing the default must not orphan a report.
    pub fn same_run(&self, earlier: &QualityConfig) -> bool {
        let bare = |c: &QualityConfig| {
            let mut train = c.train.clone();
            train.set_preset(Preset::V3);
            QualityConfig {
                seeds: Vec::new(),
                presets: Vec::new(),
                train,
                ..c.clone()
            }
        };
        bare(self) == bare(earlier)
    }
}

/// One method's figures on one round's held-out side; `None` where the method or the data has
/// no such figure (BM25 has no pair cosine; no causal link was held out).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// ROC-AUC of the pair cosine, positives vs negatives.
    pub pair_roc_auc: Option<f64>,
    /// Average precision of the same.
    pub pair_ap: Option<f64>,
    /// Duplicate retrieval recall@1.
    pub dup_recall_1: Option<f64>,
    /// Recall@5.
    pub dup_recall_5: Option<f64>,
    /// Recall@10.
    pub dup_recall_10: Option<f64>,
    /// Duplicate retrieval MRR.
    pub dup_mrr: Option<f64>,
    /// Causal retrieval MRR.
    pub causal_mrr: Option<f64>,
    /// Relationship classifier macro-F1 over the classes present in the held-out pairs.
    pub classifier_macro_f1: Option<f64>,
    /// Seconds of the fine-tuning run (evaluations included).
    pub train_seconds: Option<f64>,
    /// The epoch whose checkpoint was kept (0: the base model).
    pub best_epoch: Option<usize>,
    /// The checkpoint-selection metric (Spearman on the run's eval split of the training side)
    /// after each epoch, the base model's first: why `best_epoch` is what it is.
    pub selection: Vec<Option<f64>>,
}

impl Figures {
    /// The figures by name, in table order (the JSON's keys).
    pub fn named(&self) -> [(&'static str, Option<f64>); 9] {
        [
            ("pair_roc_auc", self.pair_roc_auc),
            ("pair_ap", self.pair_ap),
            ("dup_recall_1", self.dup_recall_1),
            ("dup_recall_5", self.dup_recall_5),
            ("dup_recall_10", self.dup_recall_10),
            ("dup_mrr", self.dup_mrr),
            ("causal_mrr", self.causal_mrr),
            ("classifier_macro_f1", self.classifier_macro_f1),
            ("train_seconds", self.train_seconds),
        ]
    }
}

/// One round: its split and every method's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// The seed of the split and of every run.
    pub seed: u64,
    /// Incidents on the held-out side.
    pub held_out_incidents: usize,
    /// Held-out pairs behind the pair figures.
    pub held_out_pairs: usize,
    /// Held-out duplicate queries.
    pub dup_queries: usize,
    /// Held-out causal queries.
    pub causal_queries: usize,
    /// Held-out relationship pairs.
    pub relationship_pairs: usize,
    /// Per method (`base`, `bm25`, then each preset's name).
    pub methods: Vec<(String, Figures)>,
    /// What a recipe could not use, and other notes.
    pub notes: Vec<String>,
}

/// A method's figures over the rounds: mean ± std per figure (absent where no round had it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `base`, `bm25` or a preset's name.
    pub method: String,
    /// Figure name → mean ± std over the rounds that have it.
    pub figures: Vec<(String, Option<MeanStd>)>,
}

impl Summary {
    /// The mean of a figure, if any round had it.
    pub fn mean(&self, figure: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(n, _)| n == figure)
            .and_then(|(_, m)| m.as_ref().map(|m| m.mean))
    }
}

/// The benchmark's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Incidents in the file.
    pub incidents: usize,
    /// What ran.
    pub config: QualityConfig,
    /// Each round.
    pub rounds: Vec<Round>,
    /// Mean ± std per method.
    pub summary: Vec<Summary>,
}

/// Run the benchmark on `incidents` (their own links; see [`crate::data::links::apply_links`])
/// with the base model `base` on `device`. `progress` hears what is running; `partial` gets the
/// report of the rounds done so far after each round (a long run that is stopped keeps them).
/// `done` holds rounds of an earlier run of the same settings (see [`QualityConfig::same_run`]):
/// a round whose held-out side is today's is kept, and only the recipes of `cfg` it lacks run
/// (a benchmark of hours can be resumed, or a recipe added); one on another split runs again.
#[allow(clippy::too_many_arguments)]
pub fn run_quality(
    incidents: &[Incident],
    done: &[Round],
    base: &ModelFiles,
    device: &Device,
    cfg: &QualityConfig,
    info: &RunInfo,
    host: &dyn Host,
    progress: &mut dyn FnMut(&str),
    partial: &mut dyn FnMut(&QualityReport),
) -> Result<QualityReport> {
    if cfg.seeds.is_empty() || cfg.presets.is_empty() {
        return Err(Error::Invalid(
            "the quality benchmark needs at least one seed and one recipe".into(),
        ));
    }
    let set = retrieval_set(incidents, &[])?;
    if set.queries(LinkKind::Duplicate).is_empty() {
        return Err(Error::Invalid(
            "the quality benchmark measures duplicate retrieval: the incidents need duplicate_of \
             links (or a link file)"
                .into(),
        ));
    }
    let load = || -> Result<SentenceEncoder> {
        let mut enc = SentenceEncoder::load(base, device)?;
        enc.set_max_seq_length(cfg.train.max_seq_length)?;
        Ok(enc)
    };
    let mut rounds = Vec::new();
    for &seed in &cfg.seeds {
        let pairs = generate_pairs(
            incidents,
            &PairGenConfig {
                seed,
                ..cfg.pairs.clone()
            },
        )?;
        let held = Held::new(&set, &pairs.train, &pairs.eval);
        let mut kept = None;
        if let Some(r) = done.iter().find(|r| r.seed == seed) {
            // The split is cheap to redo, and a round measured on another split (the pair
            // generator changed since) must not be averaged with today's.
            let now = (
                pairs.eval.counts.incidents,
                pairs.eval.training.len(),
                held.queries(LinkKind::Duplicate),
                held.queries(LinkKind::Causal),
            );
            let then = (
                r.held_out_incidents,
                r.held_out_pairs,
                r.dup_queries,
                r.causal_queries,
            );
            if now != then {
                progress(&format!(
                    "seed {seed}: the earlier round held out another split (incidents, pairs, \
                     duplicate and causal queries {then:?}, today {now:?}): run again"
                ));
            } else if cfg
                .presets
                .iter()
                .all(|p| r.methods.iter().any(|(m, _)| m == p.name()))
            {
                progress(&format!("seed {seed}: done in an earlier run, kept"));
                rounds.push(r.clone());
                continue;
            } else {
                kept = Some(r);
            }
        }
        progress(&format!(
            "seed {seed}: {} held-out incidents, {} duplicate and {} causal queries, {} pairs",
            pairs.eval.counts.incidents,
            held.queries(LinkKind::Duplicate),
            held.queries(LinkKind::Causal),
            pairs.eval.training.len()
        ));
        // A kept round that lacks some recipes keeps its base, BM25 and recipe figures and runs
        // only the recipes it lacks.
        let (mut methods, mut notes) = match kept {
            Some(r) => (r.methods.clone(), r.notes.clone()),
            None => (Vec::new(), pairs.notes.clone()),
        };
        let todo: Vec<Preset> = cfg
            .presets
            .iter()
            .copied()
            .filter(|p| !methods.iter().any(|(m, _)| m == p.name()))
            .collect();
        if kept.is_some() {
            progress(&format!(
                "seed {seed}: kept from an earlier run, adding {}",
                todo.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
            ));
        }
        let mut corpus: Vec<(String, Vec<Vec<f32>>)> = Vec::new();
        if kept.is_none() {
            let base_enc = load()?;
            let (figures, rows) = held.figures(&base_enc, cfg.encode_batch, seed)?;
            drop(base_enc);
            methods.push(("base".into(), figures));
            corpus.push(("base".into(), rows));
        }
        for &preset in &todo {
            let mut tc = cfg.train.clone();
            tc.set_preset(preset);
            tc.seed = seed;
            let source = format!("held-in pairs (seed {seed})");
            let (train, eval) = select_data(pairs.train.training.clone(), None, &tc, 0, &source)?;
            let enc = load()?;
            let started = host.now_seconds();
            let run_info = RunInfo {
                started,
                ..info.clone()
            };
            let mut session =
                Session::new(&enc, &train, eval, tc, &source, run_info, host, || false)?;
            notes.extend(
                session
                    .trainer()
                    .notes()
                    .iter()
                    .map(|n| format!("{preset}: {n}")),
            );
            progress(&format!(
                "seed {seed}: {preset}: {} steps",
                session.trainer().total_steps()
            ));
            while session.advance()?.is_some() {}
            let seconds = host.now_seconds() - started;
            let best_epoch = session.best().map(|b| b.metrics.epoch);
            let selection: Vec<Option<f64>> = session
                .history()
                .iter()
                .map(|r| r.metrics.eval.primary())
                .collect();
            let files = session
                .take_best_checkpoint()
                .ok_or_else(|| Error::Invalid(format!("{preset}: no checkpoint was kept")))?;
            drop(session);
            drop(enc);
            let mut tuned =
                SentenceEncoder::load(&ModelFiles::from_named(&files, preset.name())?, device)?;
            tuned.set_max_seq_length(cfg.train.max_seq_length)?;
            let (mut figures, rows) = held.figures(&tuned, cfg.encode_batch, seed)?;
            figures.train_seconds = Some(seconds);
            figures.best_epoch = best_epoch;
            progress(&format!(
                "seed {seed}: {preset}: {seconds:.0} s, best epoch {} (selection {}), held-out \
                 pair AUC {}",
                best_epoch.map_or("-".into(), |e| e.to_string()),
                selection
                    .iter()
                    .map(|v| v.map_or("-".into(), |v| format!("{v:.4}")))
                    .collect::<Vec<_>>()
                    .join(" → "),
                figures
                    .pair_roc_auc
                    .map_or("-".into(), |m| format!("{m:.4}"))
            ));
            figures.selection = selection;
            methods.push((preset.name().into(), figures));
            corpus.push((preset.name().into(), rows));
        }
        // Retrieval for every model at once, BM25 alongside.
        let models: Vec<(&str, &[Vec<f32>])> = corpus
            .iter()
            .map(|(n, r)| (n.as_str(), r.as_slice()))
            .collect();
        let report = retrieval_report(&set, Some(&held.seen_refs()), &models, 10, seed);
        let mut bm25 = Figures::default();
        for table in &report.tables {
            for row in &table.rows {
                let target = if row.method == "bm25" {
                    Some(&mut bm25)
                } else {
                    row.method.strip_prefix("cosine: ").and_then(|name| {
                        methods.iter_mut().find(|(n, _)| n == name).map(|(_, f)| f)
                    })
                };
                let Some(f) = target else { continue };
                let m = &row.metrics;
                match table.kind {
                    LinkKind::Duplicate => {
                        f.dup_recall_1 = m.recall(1);
                        f.dup_recall_5 = m.recall(5);
                        f.dup_recall_10 = m.recall(10);
                        f.dup_mrr = Some(m.mrr);
                    }
                    LinkKind::Causal => f.causal_mrr = Some(m.mrr),
                }
            }
        }
        if kept.is_none() {
            methods.insert(1, ("bm25".into(), bm25));
        }
        // The reference rows first, then the recipes in the config's order.
        let rank = |m: &str| match m {
            "base" => 0,
            "bm25" => 1,
            _ => {
                2 + cfg
                    .presets
                    .iter()
                    .position(|p| p.name() == m)
                    .unwrap_or(usize::MAX - 2)
            }
        };
        methods.sort_by_key(|(m, _)| rank(m));
        for n in &report.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
        rounds.push(Round {
            seed,
            held_out_incidents: pairs.eval.counts.incidents,
            held_out_pairs: pairs.eval.training.len(),
            dup_queries: held.queries(LinkKind::Duplicate),
            causal_queries: held.queries(LinkKind::Causal),
            relationship_pairs: pairs.eval.relationships.len(),
            methods,
            notes,
        });
        // The kept rounds of seeds not reached yet go along: a run stopped here must not lose
        // them from the file it rewrites.
        let mut so_far = rounds.clone();
        so_far.extend(
            done.iter()
                .filter(|d| !rounds.iter().any(|r| r.seed == d.seed))
                .cloned(),
        );
        partial(&QualityReport {
            incidents: incidents.len(),
            config: cfg.clone(),
            summary: summarise(&so_far),
            rounds: so_far,
        });
    }
    let summary = summarise(&rounds);
    Ok(QualityReport {
        incidents: incidents.len(),
        config: cfg.clone(),
        rounds,
        summary,
    })
}

/// Mean ± std of every figure of every method over the rounds.
fn summarise(rounds: &[Round]) -> Vec<Summary> {
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    first
        .methods
        .iter()
        .map(|(method, f0)| Summary {
            method: method.clone(),
            figures: f0
                .named()
                .iter()
                .map(|(name, _)| {
                    let values: Vec<f64> = rounds
                        .iter()
                        .filter_map(|r| r.methods.iter().find(|(m, _)| m == method))
                        .filter_map(|(_, f)| {
                            f.named()
                                .into_iter()
                                .find(|(n, _)| n == name)
                                .and_then(|(_, v)| v)
                        })
                        .collect();
                    (
                        name.to_string(),
                        (!values.is_empty()).then(|| MeanStd::of(values.into_iter())),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Smallest mean duplicate-MRR gain over the base model that counts as an improvement.
pub const MIN_MRR_GAIN: f64 = 0.01;

/// The rule that chooses the recommended recipe. Fixed before any result was seen: on every data
/// set, a candidate must not lower the mean pair ROC-AUC below the base model's and must raise the
/// mean duplicate MRR above it; among the candidates that pass on every data set, the highest mean
/// duplicate MRR gain (averaged over the data sets) wins. Made stricter after the first result (the
/// mnrl recipe on the sample incidents passed with a gain of 0.0001, training 12 steps inside its
/// 100-step warmup): the mean gain must be at least [`MIN_MRR_GAIN`] and positive in every round
/// (the base model and the recipe are measured on the same split, so the per-round gain is the
/// paired comparison). `None` when no recipe passes: then fine-tuning does not help duplicate
/// retrieval on this evidence.
pub fn recommend(reports: &[&QualityReport]) -> Option<(Preset, f64)> {
    let base = |r: &QualityReport, fig: &str| {
        r.summary
            .iter()
            .find(|s| s.method == "base")
            .and_then(|s| s.mean(fig))
    };
    // Per round: the recipe's duplicate MRR minus the base model's.
    let round_gains = |r: &QualityReport, preset: Preset| -> Vec<Option<f64>> {
        r.rounds
            .iter()
            .map(|round| {
                let mrr = |m: &str| {
                    round
                        .methods
                        .iter()
                        .find(|(n, _)| n == m)
                        .and_then(|(_, f)| f.dup_mrr)
                };
                Some(mrr(preset.name())? - mrr("base")?)
            })
            .collect()
    };
    let mut best: Option<(Preset, f64)> = None;
    for preset in Preset::ALL {
        let mut gains = Vec::new();
        for r in reports {
            let Some(s) = r.summary.iter().find(|s| s.method == preset.name()) else {
                gains.clear();
                break;
            };
            let (Some(mrr), Some(base_mrr)) = (s.mean("dup_mrr"), base(r, "dup_mrr")) else {
                gains.clear();
                break;
            };
            let auc_ok = match (s.mean("pair_roc_auc"), base(r, "pair_roc_auc")) {
                (Some(a), Some(b)) => a >= b,
                _ => false,
            };
            let every_round = round_gains(r, preset)
                .into_iter()
                .all(|g| g.is_none_or(|g| g > 0.0));
            if !auc_ok || !every_round || mrr - base_mrr < MIN_MRR_GAIN {
                gains.clear();
                break;
            }
            gains.push(mrr - base_mrr);
        }
        if gains.len() == reports.len() && !gains.is_empty() {
            let gain = gains.iter().sum::<f64>() / gains.len() as f64;
            if best.is_none_or(|(_, g)| gain > g) {
                best = Some((preset, gain));
            }
        }
    }
    best
}

impl QualityReport {
    /// The summary as a Markdown table: one row per method, mean ± std.
    pub fn markdown(&self) -> String {
        let cols = [
            ("pair_roc_auc", "pair AUC"),
            ("pair_ap", "pair AP"),
            ("dup_recall_1", "dup R@1"),
            ("dup_recall_5", "dup R@5"),
            ("dup_recall_10", "dup R@10"),
            ("dup_mrr", "dup MRR"),
            ("causal_mrr", "causal MRR"),
            ("classifier_macro_f1", "classifier macro-F1"),
            ("train_seconds", "train s"),
        ];
        let mut s = format!(
            "| method | {} |\n|---|{}\n",
            cols.map(|c| c.1).join(" | "),
            "---|".repeat(cols.len())
        );
        for m in &self.summary {
            let cells: Vec<String> = cols
                .iter()
                .map(|(key, _)| {
                    match m
                        .figures
                        .iter()
                        .find(|(n, _)| n == key)
                        .and_then(|(_, v)| v.as_ref())
                    {
                        Some(v) if *key == "train_seconds" => {
                            format!("{:.0} ± {:.0}", v.mean, v.std)
                        }
                        Some(v) => format!("{:.3} ± {:.3}", v.mean, v.std),
                        None => "–".into(),
                    }
                })
                .collect();
            s.push_str(&format!("| {} | {} |\n", m.method, cells.join(" | ")));
        }
        s
    }
}

/// One round's held-out side: the texts to embed and how to measure a model on them.
struct Held<'a> {
    set: &'a RetrievalSet,
    /// Texts of the training side (pairs, augmented copies, relationship pairs).
    seen: Vec<String>,
    /// Held-out pairs (cosine → positive?).
    pairs: Vec<(String, String, bool)>,
    /// Relationship pairs of both sides, and how many are the training side's (the first ones).
    relationships: Vec<RelationshipPair>,
    train_relationships: usize,
    /// Held-out queries per kind.
    query_counts: std::collections::BTreeMap<LinkKind, usize>,
}

impl<'a> Held<'a> {
    fn new(set: &'a RetrievalSet, train: &PairSide, eval: &PairSide) -> Self {
        let mut seen: Vec<String> = train
            .training
            .iter()
            .flat_map(|p| [p.a.clone(), p.b.clone()])
            .chain(
                train
                    .relationships
                    .iter()
                    .flat_map(|p| [p.a.clone(), p.b.clone()]),
            )
            .collect();
        seen.sort_unstable();
        seen.dedup();
        let mut held = Held {
            set,
            seen,
            pairs: eval
                .training
                .iter()
                .map(|p| (p.a.clone(), p.b.clone(), p.is_positive()))
                .collect(),
            relationships: train
                .relationships
                .iter()
                .chain(&eval.relationships)
                .cloned()
                .collect(),
            train_relationships: train.relationships.len(),
            query_counts: std::collections::BTreeMap::new(),
        };
        for kind in LinkKind::ALL {
            let all = set.queries(kind);
            let (kept, _) =
                crate::eval::retrieval::held_out(set, all, held.seen.iter().map(String::as_str));
            held.query_counts.insert(kind, kept.len());
        }
        held
    }

    fn seen_refs(&self) -> Vec<&str> {
        self.seen.iter().map(String::as_str).collect()
    }

    fn queries(&self, kind: LinkKind) -> usize {
        self.query_counts.get(&kind).copied().unwrap_or(0)
    }

    /// The pair and classifier figures of `enc`, and its embeddings of the retrieval corpus (for
    /// the retrieval figures, computed for every model at once).
    fn figures(
        &self,
        enc: &SentenceEncoder,
        batch: usize,
        seed: u64,
    ) -> Result<(Figures, Vec<Vec<f32>>)> {
        // Each distinct text once: corpus, held-out pairs, relationship pairs.
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut texts: Vec<&str> = Vec::new();
        let all = self.set.texts.iter().map(String::as_str).chain(
            self.pairs
                .iter()
                .flat_map(|(a, b, _)| [a.as_str(), b.as_str()]),
        );
        for t in all.chain(
            self.relationships
                .iter()
                .flat_map(|p| [p.a.as_str(), p.b.as_str()]),
        ) {
            index.entry(t).or_insert_with(|| {
                texts.push(t);
                texts.len() - 1
            });
        }
        let emb = enc.encode(&texts, batch)?;
        let row = |t: &str| &emb[index[t]];
        let mut f = Figures::default();
        if !self.pairs.is_empty() {
            let scores: Vec<f64> = self
                .pairs
                .iter()
                .map(|(a, b, _)| crate::encoder::cosine(row(a), row(b)) as f64)
                .collect();
            let positive: Vec<bool> = self.pairs.iter().map(|p| p.2).collect();
            if positive.iter().any(|&p| p) && positive.iter().any(|&p| !p) {
                f.pair_roc_auc = Some(roc_auc(&scores, &positive));
                f.pair_ap = Some(average_precision(&scores, &positive));
            }
        }
        f.classifier_macro_f1 = self.classifier(|t| row(t).clone(), seed)?;
        let corpus = self.set.texts.iter().map(|t| row(t).clone()).collect();
        Ok((f, corpus))
    }

    /// Fit the relationship head on the training side's relationship pairs, score the held-out
    /// side's: macro-F1 over the classes present there. `None` when either side has no pairs or the
    /// training side has a single class.
    fn classifier(&self, embed: impl Fn(&str) -> Vec<f32>, seed: u64) -> Result<Option<f64>> {
        let n = self.relationships.len();
        let k = self.train_relationships;
        if k == 0 || k == n {
            return Ok(None);
        }
        let train_classes: std::collections::BTreeSet<Relation> =
            self.relationships[..k].iter().map(|p| p.relation).collect();
        if train_classes.len() < 2 {
            return Ok(None);
        }
        let pe = PairEmbeddings::with(&self.relationships, |texts| {
            Ok(texts.iter().map(|t| embed(t)).collect())
        })?;
        let examples = pe.examples(&self.relationships);
        let train: Vec<usize> = (0..k).collect();
        let head = fit_head(
            &examples,
            &train,
            &HeadConfig {
                seed,
                ..HeadConfig::default()
            },
        )?;
        let truth: Vec<usize> = examples[k..].iter().map(|e| e.relation.index()).collect();
        let pred: Vec<usize> = examples[k..]
            .iter()
            .map(|e| head.predict(e.u, e.v).index())
            .collect();
        let report = class_report(&truth, &pred, Relation::ALL.len());
        let present: Vec<f64> = report
            .classes
            .iter()
            .filter(|c| c.support > 0)
            .map(|c| c.f1)
            .collect();
        Ok((!present.is_empty()).then(|| present.iter().sum::<f64>() / present.len() as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rows: &[(&str, f64, f64)]) -> QualityReport {
        QualityReport {
            incidents: 0,
            config: QualityConfig::default(),
            // One round with the means' values (the per-round check then agrees with the means).
            rounds: vec![Round {
                seed: 1,
                held_out_incidents: 0,
                held_out_pairs: 0,
                dup_queries: 0,
                causal_queries: 0,
                relationship_pairs: 0,
                methods: rows
                    .iter()
                    .map(|&(m, _, mrr)| {
                        (
                            m.to_string(),
                            Figures {
                                dup_mrr: Some(mrr),
                                ..Figures::default()
                            },
                        )
                    })
                    .collect(),
                notes: Vec::new(),
            }],
            summary: rows
                .iter()
                .map(|&(m, auc, mrr)| Summary {
                    method: m.into(),
                    figures: vec![
                        (
                            "pair_roc_auc".into(),
                            Some(MeanStd {
                                mean: auc,
                                std: 0.0,
                            }),
                        ),
                        (
                            "dup_mrr".into(),
                            Some(MeanStd {
                                mean: mrr,
                                std: 0.0,
                            }),
                        ),
                    ],
                })
                .collect(),
        }
    }

    #[test]
    fn a_report_outlives_a_change_of_the_default_recipe() {
        let now = QualityConfig::default();
        let mut written_under_v3 = QualityConfig::default();
        written_under_v3.train.set_preset(Preset::V3);
        written_under_v3.seeds = vec![42];
        assert!(now.same_run(&written_under_v3));
        // What does change the runs still counts.
        let mut longer = written_under_v3.clone();
        longer.train.epochs += 1;
        assert!(!now.same_run(&longer));
        let mut steps = written_under_v3;
        steps.train.warmup_steps = 7;
        assert!(!now.same_run(&steps));
    }

    #[test]
    fn the_rule_needs_both_data_sets_and_no_auc_loss() {
        let a = report(&[
            ("base", 0.80, 0.50),
            ("v3", 0.90, 0.45),     // better AUC, worse retrieval
            ("mnrl", 0.79, 0.70),   // best retrieval, lowers AUC
            ("graded", 0.85, 0.55), // passes
            ("combined", 0.86, 0.60),
        ]);
        let b = report(&[
            ("base", 0.70, 0.60),
            ("v3", 0.75, 0.50),
            ("mnrl", 0.80, 0.90),
            ("graded", 0.72, 0.70),   // +0.10 here, +0.05 on a: mean 0.075
            ("combined", 0.71, 0.59), // fails here
        ]);
        let (p, gain) = recommend(&[&a, &b]).unwrap();
        assert_eq!(p, Preset::Graded);
        assert!((gain - 0.075).abs() < 1e-12);
        assert_eq!(recommend(&[&a]).unwrap().0, Preset::Combined);
        let none = report(&[("base", 0.8, 0.9), ("v3", 0.9, 0.8)]);
        assert_eq!(recommend(&[&none]), None);
        // A gain below MIN_MRR_GAIN is no improvement.
        let tiny = report(&[
            ("base", 0.8, 0.5),
            ("graded", 0.8, 0.5 + MIN_MRR_GAIN / 2.0),
        ]);
        assert_eq!(recommend(&[&tiny]), None);
        // A mean gain made of one good round and one worse round is not enough.
        let mut mixed = report(&[("base", 0.8, 0.5), ("graded", 0.8, 0.6)]);
        let mut worse = mixed.rounds[0].clone();
        worse.methods[1].1.dup_mrr = Some(0.49);
        mixed.rounds.push(worse);
        assert_eq!(
            recommend(&[&mixed]),
            None,
            "the summary says +0.1, one round says −0.01"
        );
    }
}
