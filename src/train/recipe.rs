//! Recipes: what a run trains on and with which loss — the training pairs turned into one or more
//! *objectives* (a loss and the rows it trains on), as sentence-transformers' multi-dataset
//! training takes a dict of datasets and a dict of losses.
//!
//! Why recipes and not just a loss: the seeds' v3 pairs give label 1 to duplicates, to a cause and
//! its effect and to incidents with the same fix alike, and CosineSimilarityLoss pulls all of them
//! to cosine 1 — the model learns "related" and loses "the same", and duplicate retrieval on unseen
//! tickets gets worse (issue 18). A recipe can use what a pair *is* ([`PairKind`]): rank
//! duplicates above causal links above negatives (graded CoSENT), or rank a ticket's duplicate
//! above every other ticket of the batch and above a hard negative (MNRL with explicit negatives).
//! Which recipe is the default was decided by held-out measurement (`ticketsim bench quality`; the
//! rule and the figures are in the README).
//!
//! Imports: the losses of [`super::loss`], the data layer's pairs and kinds, the seeded RNG and
//! the crate's error type.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::loss::{Loss, LossKind};
use crate::data::pairs::{PairKind, TrainPair};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// How the training pairs become objectives. Its name in configs (`"graded"`); the command line
/// and the app offer named presets ([`Preset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// The pairs as labelled, with the config's `loss` (CosineSimilarityLoss: the seeds' v3).
    #[default]
    Labels,
    /// MultipleNegativesRankingLoss on duplicate pairs, each with a hard negative of its anchor as
    /// an explicit negative where the pairs have one.
    Mnrl,
    /// CoSENT on labels graded by kind ([`grade`]): duplicate above same fix above causal above
    /// negatives.
    Graded,
    /// [`Recipe::Mnrl`]'s objectives and [`Recipe::Graded`]'s together, batches interleaved in
    /// proportion to their sizes (sentence-transformers' proportional multi-dataset sampler).
    Combined,
    /// CoSENT with duplicates as the only positives (1) against the negatives (0); same-fix and
    /// causal pairs are left out, neither pulled together nor pushed apart.
    Duplicates,
}

impl Recipe {
    /// The name in configs.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Labels => "labels",
            Recipe::Mnrl => "mnrl",
            Recipe::Graded => "graded",
            Recipe::Combined => "combined",
            Recipe::Duplicates => "duplicates",
        }
    }
}

/// A named recipe as users choose it (`--recipe`, the app's form): a [`Recipe`] and, for
/// [`Recipe::Labels`], the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The seeds: CosineSimilarityLoss on the 0 / 1 labels, every v3 setting.
    V3,
    /// CoSENT on the same 0 / 1 labels.
    Cosent,
    /// MNRL on duplicates with hard negatives.
    Mnrl,
    /// CoSENT on graded labels.
    Graded,
    /// MNRL on duplicates + CoSENT on graded labels.
    Combined,
    /// CoSENT on duplicates against negatives, other positives left out.
    Duplicates,
}

impl Preset {
    /// Every preset, in the order the benchmark and the form list them.
    pub const ALL: [Preset; 6] = [
        Preset::V3,
        Preset::Cosent,
        Preset::Mnrl,
        Preset::Graded,
        Preset::Combined,
        Preset::Duplicates,
    ];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Preset::V3 => "v3",
            Preset::Cosent => "cosent",
            Preset::Mnrl => "mnrl",
            Preset::Graded => "graded",
            Preset::Combined => "combined",
            Preset::Duplicates => "duplicates",
        }
    }

    /// The preset named `s`, or `None`.
    pub fn parse(s: &str) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s.trim().to_ascii_lowercase())
    }

    /// One line saying what the preset optimises (the app's form shows it).
    pub fn summary(self) -> &'static str {
        match self {
            Preset::V3 => {
                "the notebooks' recipe: cosine of every linked or same-fix pair pulled to 1, \
                 negatives to 0"
            }
            Preset::Cosent => "the same pairs, ranked: linked pairs above negatives (CoSENT)",
            Preset::Mnrl => {
                "find the duplicate: each ticket's duplicate ranked above the other tickets of \
                 the batch and a hard negative"
            }
            Preset::Graded => {
                "grades, ranked: duplicate above same fix above cause/effect above unrelated"
            }
            Preset::Combined => "find the duplicate and keep the grades: mnrl and graded together",
            Preset::Duplicates => {
                "duplicates only: each duplicate pair ranked above the negatives (CoSENT); same-fix \
                 and cause/effect pairs left out"
            }
        }
    }

    /// The recipe and loss the preset sets.
    pub fn recipe(self) -> (Recipe, LossKind) {
        match self {
            Preset::V3 => (Recipe::Labels, LossKind::Cosine),
            Preset::Cosent => (Recipe::Labels, LossKind::Cosent),
            Preset::Mnrl => (Recipe::Mnrl, LossKind::Cosine),
            Preset::Graded => (Recipe::Graded, LossKind::Cosine),
            Preset::Combined => (Recipe::Combined, LossKind::Cosine),
            Preset::Duplicates => (Recipe::Duplicates, LossKind::Cosine),
        }
    }

    /// The warmup the preset trains with, as a share of all steps; `None` for v3, which keeps the
    /// seeds' fixed 100 steps ([`super::config::TrainConfig::warmup_steps`]).
    ///
    /// Why a share for the others: a run on a team's own labels is short — MNRL on the 88
    /// duplicates of the sample's training side is 3 steps an epoch — and a fixed 100-step warmup
    /// then never reaches the learning rate it was given (12 steps of 100: lr ≤ 2.4e-6). 10 % is
    /// what sentence-transformers' training examples use (`warmup_ratio=0.1`).
    pub fn warmup_ratio(self) -> Option<f64> {
        match self {
            Preset::V3 => None,
            _ => Some(RECIPE_WARMUP_RATIO),
        }
    }

    /// The preset of a recipe and loss, when one has them (`Labels` with MNRL has none).
    pub fn of(recipe: Recipe, loss: LossKind) -> Option<Preset> {
        Preset::ALL
            .into_iter()
            .find(|p| p.recipe() == (recipe, loss))
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The warmup share of every preset but v3 ([`Preset::warmup_ratio`]).
pub const RECIPE_WARMUP_RATIO: f64 = 0.1;

/// The graded label of a kind: duplicate 1, same fix 0.7, causal 0.4, negatives 0. CoSENT uses
/// only their order; the gaps say how sure the order is (a same-fix pair is usually, not always,
/// the same problem; a cause and its effect are related, not the same).
pub fn grade(kind: PairKind) -> f32 {
    match kind {
        PairKind::Duplicate => 1.0,
        PairKind::SameFix => 0.7,
        PairKind::Causal => 0.4,
        PairKind::HardNegative | PairKind::RandomNegative => 0.0,
    }
}

/// One loss and the rows it trains on.
pub struct Objective {
    /// What it is, for messages (`"mnrl with negatives"`).
    pub name: String,
    /// The loss.
    pub loss: Box<dyn Loss>,
    /// Rows of texts: two columns (a pair) or three (anchor, positive, negative), the same for
    /// every row.
    pub rows: Vec<Vec<String>>,
    /// One label per row.
    pub labels: Vec<f32>,
}

impl Objective {
    /// Every epoch's batches of row indices, as a run of `epochs` epochs at `batch_size` seeded
    /// with `seed` draws them (epoch `e` with `seed + e`): the trainer's draw, and the memory
    /// preflight's ([`super::memory`]), which must see the same batches.
    pub fn epoch_batches(
        &self,
        epochs: usize,
        batch_size: usize,
        seed: u64,
    ) -> Vec<Vec<Vec<usize>>> {
        let texts: Vec<Vec<&str>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        (0..epochs)
            .map(|e| {
                self.loss
                    .batches(&texts, batch_size, seed.wrapping_add(e as u64))
            })
            .collect()
    }
}

/// The objectives of `recipe` over `pairs`, and notes on what it could not use. `scale` is the
/// similarity scale of MNRL and CoSENT; `loss` the loss of [`Recipe::Labels`]; `seed` chooses each
/// anchor's explicit negative. An objective with fewer rows than its loss's minimum batch is left
/// out (with a note); none left is an error naming `source`.
pub fn objectives(
    recipe: Recipe,
    loss: LossKind,
    scale: f64,
    seed: u64,
    pairs: &[TrainPair],
    source: &str,
) -> Result<(Vec<Objective>, Vec<String>)> {
    let mut notes = Vec::new();
    let has_kinds = pairs.iter().any(|p| p.kind.is_some());
    if !has_kinds && recipe != Recipe::Labels {
        notes.push(format!(
            "{source}: the pairs say nothing of what they are (duplicate, causal, same fix, \
             negative): every positive counts as a duplicate — generate pairs from incidents \
             with links to use the {} recipe fully",
            recipe.name()
        ));
    }
    let mut out = Vec::new();
    match recipe {
        Recipe::Labels => out.push(labelled(loss.build(scale), pairs, "pairs", |p| p.label)),
        Recipe::Mnrl => out.push(mnrl(pairs, scale, seed, has_kinds)),
        Recipe::Graded => out.push(graded(pairs, scale)),
        Recipe::Combined => {
            out.push(mnrl(pairs, scale, seed, has_kinds));
            out.push(graded(pairs, scale));
        }
        Recipe::Duplicates => out.push(duplicates_only(pairs, scale, has_kinds)),
    }
    let (kept, small): (Vec<Objective>, Vec<Objective>) = out
        .into_iter()
        .partition(|o| o.rows.len() >= o.loss.min_batch());
    for o in &small {
        notes.push(format!(
            "{source}: {} left out: {} rows, {} needs at least {}",
            o.name,
            o.rows.len(),
            o.loss.name(),
            o.loss.min_batch()
        ));
    }
    if kept.is_empty() {
        return Err(Error::data(
            source,
            "record 0",
            "label",
            match recipe {
                Recipe::Mnrl => format!(
                    "the mnrl recipe needs at least 2 duplicate pairs (positives when the pairs \
                     have no kinds), found {}: label more duplicates, or choose a recipe that \
                     trains on every labelled pair (v3, cosent)",
                    small.first().map_or(0, |o| o.rows.len())
                ),
                _ => format!(
                    "nothing to train on: {}",
                    small
                        .iter()
                        .map(|o| format!("{} has {} rows", o.name, o.rows.len()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        ));
    }
    Ok((kept, notes))
}

/// One objective over every pair the loss trains on, labelled by `label`.
fn labelled(
    loss: Box<dyn Loss>,
    pairs: &[TrainPair],
    name: &str,
    label: impl Fn(&TrainPair) -> f32,
) -> Objective {
    let kept: Vec<&TrainPair> = pairs.iter().filter(|p| loss.trains_on(label(p))).collect();
    Objective {
        name: name.to_string(),
        rows: kept
            .iter()
            .map(|p| vec![p.a.clone(), p.b.clone()])
            .collect(),
        labels: kept.iter().map(|p| label(p)).collect(),
        loss,
    }
}

/// CoSENT over every pair, labelled by [`grade`] where the pair has a kind (its own label where
/// it has none).
fn graded(pairs: &[TrainPair], scale: f64) -> Objective {
    labelled(LossKind::Cosent.build(scale), pairs, "graded pairs", |p| {
        p.kind.map(grade).unwrap_or(p.label)
    })
}

/// CoSENT over the duplicate pairs (label 1; every positive when the pairs have no kinds) and the
/// negatives (0). Same-fix and causal pairs are left out: "the same fix" and "a cause and its
/// effect" are related, not the same problem, and the v3 labels pull them to 1 (issue 18), while
/// labelling them 0 would teach that they are unrelated.
fn duplicates_only(pairs: &[TrainPair], scale: f64, has_kinds: bool) -> Objective {
    let kept: Vec<TrainPair> = pairs
        .iter()
        .filter(|p| match p.kind {
            Some(k) => k == PairKind::Duplicate || !k.is_positive(),
            None => !has_kinds,
        })
        .cloned()
        .collect();
    labelled(
        LossKind::Cosent.build(scale),
        &kept,
        "duplicate and negative pairs",
        |p| p.label,
    )
}

/// MNRL over the duplicate pairs (every positive when the pairs have no kinds), as triplets
/// (anchor, duplicate, negative): the negative is a partner of the anchor — or, swapped, of the
/// duplicate — in a negative pair (a hard negative preferred), else any text of a negative pair
/// (one more in-batch negative); chosen by `seed`. Without a single negative pair, plain pairs.
fn mnrl(pairs: &[TrainPair], scale: f64, seed: u64, has_kinds: bool) -> Objective {
    let duplicate = |p: &TrainPair| match p.kind {
        Some(k) => k == PairKind::Duplicate,
        None => !has_kinds && p.is_positive(),
    };
    // Each text's negative partners, hard and other, in file order (deterministic).
    let mut partners: HashMap<&str, (Vec<&str>, Vec<&str>)> = HashMap::new();
    let mut negatives: Vec<&str> = Vec::new();
    for p in pairs.iter().filter(|p| !p.is_positive()) {
        let hard = p.kind == Some(PairKind::HardNegative);
        for (x, y) in [(&p.a, &p.b), (&p.b, &p.a)] {
            let e = partners.entry(x.as_str()).or_default();
            if hard { &mut e.0 } else { &mut e.1 }.push(y.as_str());
            negatives.push(x.as_str());
        }
    }
    let mut rng = Rng::new(seed ^ 0x6e65_6761_7469_7665);
    let mut rows = Vec::new();
    for p in pairs.iter().filter(|p| duplicate(p)) {
        let own = |text: &str| {
            partners
                .get(text)
                .map(|(hard, other)| if hard.is_empty() { other } else { hard })
                .filter(|from| !from.is_empty())
        };
        let row = match (own(&p.a), own(&p.b)) {
            (Some(from), _) => vec![p.a.as_str(), &p.b, from[rng.below(from.len())]],
            (None, Some(from)) => vec![p.b.as_str(), &p.a, from[rng.below(from.len())]],
            (None, None) if !negatives.is_empty() => {
                // A bounded number of draws for a text that is neither side of the pair.
                let mut n = None;
                for _ in 0..16 {
                    let t = negatives[rng.below(negatives.len())];
                    if t != p.a && t != p.b {
                        n = Some(t);
                        break;
                    }
                }
                match n {
                    Some(n) => vec![p.a.as_str(), &p.b, n],
                    None => vec![p.a.as_str(), &p.b],
                }
            }
            (None, None) => vec![p.a.as_str(), &p.b],
        };
        rows.push(row.into_iter().map(str::to_string).collect::<Vec<_>>());
    }
    // One column count per objective: rows left without a negative (rare) lose the column.
    if rows.iter().any(|r| r.len() == 2) {
        rows.iter_mut().for_each(|r| r.truncate(2));
    }
    Objective {
        name: if rows.first().is_some_and(|r| r.len() == 3) {
            "duplicates with negatives".into()
        } else {
            "duplicates".into()
        },
        labels: vec![1.0; rows.len()],
        rows,
        loss: LossKind::Mnrl.build(scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: &str, b: &str, kind: PairKind) -> TrainPair {
        TrainPair {
            a: a.into(),
            b: b.into(),
            label: if kind.is_positive() { 1.0 } else { 0.0 },
            kind: Some(kind),
        }
    }

    fn data() -> Vec<TrainPair> {
        vec![
            pair("vpn drops", "vpn disconnects", PairKind::Duplicate),
            pair("printer jam", "paper jam tray 2", PairKind::Duplicate),
            pair("disk full", "db slow", PairKind::Causal),
            pair("outlook crash", "outlook hangs", PairKind::SameFix),
            pair("vpn drops", "wifi slow", PairKind::RandomNegative),
            pair(
                "vpn drops",
                "vpn certificate expired",
                PairKind::HardNegative,
            ),
            pair("laptop broken", "db slow", PairKind::RandomNegative),
        ]
    }

    #[test]
    fn labels_recipe_is_the_pairs_as_they_are() {
        let (o, notes) =
            objectives(Recipe::Labels, LossKind::Cosine, 20.0, 1, &data(), "f").unwrap();
        assert!(notes.is_empty());
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].rows.len(), 7);
        assert_eq!(o[0].labels, [1., 1., 1., 1., 0., 0., 0.]);
        assert_eq!(o[0].loss.name(), "CosineSimilarityLoss");
    }

    #[test]
    fn graded_recipe_orders_kinds() {
        let (o, _) = objectives(Recipe::Graded, LossKind::Cosine, 20.0, 1, &data(), "f").unwrap();
        assert_eq!(o[0].labels, [1., 1., 0.4, 0.7, 0., 0., 0.]);
        assert_eq!(o[0].loss.name(), "CoSENTLoss");
        assert!(grade(PairKind::Duplicate) > grade(PairKind::SameFix));
        assert!(grade(PairKind::SameFix) > grade(PairKind::Causal));
        assert!(grade(PairKind::Causal) > grade(PairKind::HardNegative));
    }

    #[test]
    fn mnrl_recipe_takes_duplicates_with_hard_negatives() {
        let (o, notes) = objectives(Recipe::Mnrl, LossKind::Cosine, 20.0, 1, &data(), "f").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(o.len(), 1);
        // "vpn drops" has a hard negative, preferred over its random one; "printer jam" has no
        // negative partner and gets a text of some negative pair. Causal and same-fix pairs are
        // not duplicates.
        assert_eq!(o[0].rows.len(), 2);
        assert_eq!(
            o[0].rows[0],
            ["vpn drops", "vpn disconnects", "vpn certificate expired"]
        );
        let n = &o[0].rows[1][2];
        assert!(data()
            .iter()
            .any(|p| !p.is_positive() && (&p.a == n || &p.b == n)));
        let (c, _) = objectives(Recipe::Combined, LossKind::Cosine, 20.0, 1, &data(), "f").unwrap();
        assert_eq!(c.len(), 2, "mnrl triplets + graded pairs");
        assert_eq!(c[1].rows.len(), 7);
    }

    #[test]
    fn duplicates_recipe_leaves_out_other_positives() {
        let (o, notes) =
            objectives(Recipe::Duplicates, LossKind::Cosine, 20.0, 1, &data(), "f").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(o[0].loss.name(), "CoSENTLoss");
        // Two duplicates, three negatives; the causal and the same-fix pair are not rows.
        assert_eq!(o[0].labels, [1., 1., 0., 0., 0.]);
        assert!(o[0]
            .rows
            .iter()
            .all(|r| r[0] != "disk full" && r[0] != "outlook crash"));
        // Without kinds every pair is a row, as labelled.
        let plain: Vec<TrainPair> = data()
            .into_iter()
            .map(|p| TrainPair { kind: None, ..p })
            .collect();
        let (o, _) =
            objectives(Recipe::Duplicates, LossKind::Cosine, 20.0, 1, &plain, "f").unwrap();
        assert_eq!(o[0].labels, [1., 1., 1., 1., 0., 0., 0.]);
    }

    #[test]
    fn without_kinds_positives_count_as_duplicates_with_a_note() {
        let plain: Vec<TrainPair> = data()
            .into_iter()
            .map(|p| TrainPair { kind: None, ..p })
            .collect();
        let (o, notes) = objectives(Recipe::Mnrl, LossKind::Cosine, 20.0, 1, &plain, "f").unwrap();
        assert_eq!(o[0].rows.len(), 4, "every positive");
        assert!(notes[0].contains("say nothing of what they are"));
        let err = objectives(
            Recipe::Mnrl,
            LossKind::Cosine,
            20.0,
            1,
            &plain[4..],
            "f.json",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("f.json") && err.contains("at least 2 duplicate"),
            "{err}"
        );
    }

    #[test]
    fn presets_round_trip() {
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()), Some(p));
            let (r, l) = p.recipe();
            assert_eq!(Preset::of(r, l), Some(p));
            assert!(!p.summary().is_empty());
        }
        assert_eq!(Preset::of(Recipe::Labels, LossKind::Mnrl), None);
    }

    #[test]
    fn v3_keeps_the_seeds_warmup_and_the_others_warm_up_over_a_share() {
        use crate::train::config::TrainConfig;
        let mut cfg = TrainConfig {
            warmup_steps: 100,
            ..TrainConfig::default()
        };
        for p in Preset::ALL {
            cfg.set_preset(p);
            assert_eq!(cfg.preset(), Some(p));
            let want = if p == Preset::V3 {
                None
            } else {
                Some(RECIPE_WARMUP_RATIO)
            };
            assert_eq!(cfg.warmup_ratio, want, "{p}");
        }
        // Back to v3 from another recipe: the seeds' 100 steps again, no share left over.
        cfg.set_preset(Preset::V3);
        assert_eq!((cfg.warmup_ratio, cfg.warmup_steps), (None, 100));
    }
}
