//! The run configuration: every hyper-parameter of a fine-tuning run with the seeds' v3 recipe as
//! defaults, read from JSON or TOML, checked with the training pairs before any work
//! ([`validate_pairs`]). Saved into `training_metadata.json` next to the model it produced.
//!
//! Imports: the loss choice ([`super::loss`]), the model's number format, the data layer's pair
//! type, UTF-8 decoding and the crate's error type.

use serde::{Deserialize, Serialize};

use super::loss::LossKind;
use super::recipe::{Preset, Recipe};
use crate::data::pairs::{TrainPair, POSITIVE_LABEL_MIN};
use crate::error::{Error, Result};
use crate::model::Precision;

/// Training hyper-parameters; the defaults are the seeds' v3 recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Pairs per optimiser step.
    pub batch_size: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Linear warmup steps (then linear decay to 0).
    pub warmup_steps: usize,
    /// Warmup as a share of all steps; when set it replaces `warmup_steps`.
    pub warmup_ratio: Option<f64>,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// AdamW weight decay (not applied to biases and LayerNorm weights).
    pub weight_decay: f64,
    /// Seed for shuffling and dropout.
    pub seed: u64,
    /// How the pairs become objectives ([`super::recipe`]).
    pub recipe: Recipe,
    /// Loss function of [`Recipe::Labels`] (the other recipes choose their own losses).
    pub loss: LossKind,
    /// Similarity scale of the losses that have one (MNRL, CoSENT).
    pub mnrl_scale: f64,
    /// Share of the training file held out for evaluation when no separate eval file is given
    /// (see [`super::session::select_data`]).
    pub eval_split: f64,
    /// Truncation length in tokens (sentence-transformers' `max_seq_length`).
    pub max_seq_length: usize,
    /// Stop after this many evaluations without a better primary metric (0: never stop early).
    pub early_stopping_patience: usize,
    /// Number format of the matrix products in training steps (autocast with f32 master
    /// weights); evaluation always runs in f32.
    pub precision: Precision,
    /// Activation memory one shard of a batch may plan for on the CPU, in MiB of the planner's
    /// estimate ([`super::plan::SHARD_MEMORY_BUDGET`] by default): lower, a batch runs in more,
    /// smaller shards — slower, in less memory. The browser lowers it when a big model would not
    /// fit otherwise ([`super::memory`]). A setting of the run, not of the machine, because the
    /// shards decide the dropout draws: the same value gives the same run everywhere.
    pub shard_memory_mib: usize,
}

impl Default for TrainConfig {
    /// The recommended recipe's settings: what `ticketsim train` and the app use when nothing is
    /// chosen (the README's quality benchmark says which recipe and why).
    fn default() -> Self {
        let mut c = TrainConfig::v3();
        c.set_preset(Preset::Mnrl);
        c
    }
}

impl TrainConfig {
    /// The seeds' v3 recipe, every setting as the notebooks had it (12 epochs, batch 32, lr 2e-5,
    /// 100 warmup steps, CosineSimilarityLoss on the 0 / 1 labels, …). The reference runs —
    /// parity with sentence-transformers, `bench train`, the GPU check — use it whatever the
    /// default recipe is.
    pub fn v3() -> Self {
        TrainConfig {
            epochs: 12,
            batch_size: 32,
            learning_rate: 2e-5,
            warmup_steps: 100,
            warmup_ratio: None,
            max_grad_norm: 1.0,
            weight_decay: 0.01,
            seed: 42,
            recipe: Recipe::Labels,
            loss: LossKind::Cosine,
            mnrl_scale: 20.0,
            eval_split: 0.2,
            max_seq_length: 256,
            early_stopping_patience: 3,
            precision: Precision::F32,
            shard_memory_mib: (super::plan::SHARD_MEMORY_BUDGET >> 20) as usize,
        }
    }

    /// The named preset this config's recipe and loss are, if any (`v3`, `graded`, …).
    pub fn preset(&self) -> Option<Preset> {
        Preset::of(self.recipe, self.loss)
    }

    /// The objectives this config's recipe makes of `pairs`, and notes on what it could not use
    /// ([`super::recipe::objectives`] with this config's recipe, loss, scale and seed).
    pub fn objectives(
        &self,
        pairs: &[TrainPair],
        source: &str,
    ) -> Result<(Vec<super::recipe::Objective>, Vec<String>)> {
        super::recipe::objectives(
            self.recipe,
            self.loss,
            self.mnrl_scale,
            self.seed,
            pairs,
            source,
        )
    }

    /// Set the recipe, loss and warmup of a preset ([`Preset::warmup_ratio`]: v3 keeps
    /// `warmup_steps`, the others warm up over 10 % of the steps).
    pub fn set_preset(&mut self, preset: Preset) {
        (self.recipe, self.loss) = preset.recipe();
        self.warmup_ratio = preset.warmup_ratio();
    }

    /// Read a config file: JSON when it starts with `{`, TOML otherwise. Absent keys keep their
    /// defaults; an unknown key is an error naming it (a typo must not silently train with a default).
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<Self> {
        let text = crate::data::decode_utf8(bytes, file)?;
        let text = text.trim_start_matches('\u{feff}');
        let json = text.trim_start().starts_with('{');
        let mut cfg: TrainConfig = if json {
            serde_json::from_str(text).map_err(|e| {
                Error::data(file, format!("line {}", e.line()), "config", e.to_string())
            })?
        } else {
            toml::from_str(text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start].matches('\n').count() + 1)
                    .unwrap_or(1);
                Error::data(
                    file,
                    format!("line {line}"),
                    "config",
                    e.message().to_string(),
                )
            })?
        };
        // The file parsed, so its keys do too.
        let keys: Vec<String> = if json {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        } else {
            toml::from_str::<toml::Table>(text)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default()
        };
        cfg.warmup_from_keys(&keys);
        cfg.validate()?;
        Ok(cfg)
    }

    /// The warmup a config file means, as the command line's flags do: a recipe it names brings
    /// its warmup ([`Preset::warmup_ratio`]; one loss on the labels, the seeds' steps); warmup
    /// steps it gives replace any share; a `warmup_ratio` it gives wins. Without this a file
    /// saying `recipe = "labels"` would keep the default recipe's share, and v3 could not be
    /// written down as a file.
    fn warmup_from_keys(&mut self, keys: &[String]) {
        let has = |k: &str| keys.iter().any(|x| x == k);
        if has("warmup_ratio") {
            return;
        }
        if has("warmup_steps") {
            self.warmup_ratio = None;
        } else if has("recipe") || has("loss") {
            self.warmup_ratio = self.preset().and_then(Preset::warmup_ratio);
        }
    }

    /// Check the values a user can get wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        if self.epochs == 0 || self.batch_size == 0 {
            return bad("epochs and batch_size must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(format!(
                "learning rate must be positive, got {}",
                self.learning_rate
            ));
        }
        if let Some(r) = self.warmup_ratio {
            if !(0.0..=1.0).contains(&r) {
                return bad(format!("warmup_ratio must be in [0, 1], got {r}"));
            }
        }
        if !(self.eval_split > 0.0 && self.eval_split < 1.0) {
            return bad(format!(
                "eval_split must be between 0 and 1 (exclusive), got {}",
                self.eval_split
            ));
        }
        if self.shard_memory_mib == 0 {
            return bad("shard_memory_mib must be at least 1".into());
        }
        if self.max_seq_length < 2 {
            return bad(format!(
                "max_seq_length must be at least 2, got {}",
                self.max_seq_length
            ));
        }
        if !(self.max_grad_norm.is_finite() && self.max_grad_norm > 0.0 && self.weight_decay >= 0.0)
        {
            return bad("max_grad_norm must be positive and weight_decay non-negative".into());
        }
        if self.recipe != Recipe::Labels && self.loss != LossKind::Cosine {
            return bad(format!(
                "loss {} applies to the labels recipe only; the {} recipe chooses its own losses \
                 (set recipe = \"labels\" to train {} on the labels)",
                self.loss,
                self.recipe.name(),
                self.loss
            ));
        }
        let loss = match self.recipe {
            Recipe::Labels => self.loss,
            // The in-batch losses of the other recipes both need 2.
            _ => LossKind::Cosent,
        }
        .build(self.mnrl_scale);
        if self.batch_size < loss.min_batch() {
            return bad(format!(
                "{} needs batch_size ≥ {} (it compares the pairs of a batch)",
                loss.name(),
                loss.min_batch()
            ));
        }
        Ok(())
    }
}

/// Check the config and the training pairs before any work: at least 2, no empty text, every label
/// one the loss accepts, and (for the labels recipe) at least the loss's minimum batch of pairs it
/// trains on — the other recipes check their objectives ([`super::recipe::objectives`]). Errors
/// name `source`, the record (its index in the file) and the field.
pub fn validate_pairs(pairs: &[TrainPair], cfg: &TrainConfig, source: &str) -> Result<()> {
    cfg.validate()?;
    // Graded recipes read labels in [0, 1] as CoSENT does.
    let loss = match cfg.recipe {
        Recipe::Labels => cfg.loss,
        _ => LossKind::Cosent,
    }
    .build(cfg.mnrl_scale);
    if pairs.len() < 2 {
        return Err(Error::data(
            source,
            "record 0",
            "pairs",
            format!("training needs at least 2 pairs, found {}", pairs.len()),
        ));
    }
    for (i, p) in pairs.iter().enumerate() {
        for (field, text) in [("a", &p.a), ("b", &p.b)] {
            if text.trim().is_empty() {
                return Err(Error::data(
                    source,
                    format!("record {i}"),
                    field,
                    "empty text",
                ));
            }
        }
        if let Err(why) = loss.check_label(p.label) {
            return Err(Error::data(source, format!("record {i}"), "label", why));
        }
    }
    if cfg.recipe != Recipe::Labels {
        // The recipe's own minimum (MNRL: 2 duplicates) before the slower model load.
        cfg.objectives(pairs, source)?;
    }
    let kept = pairs.iter().filter(|p| loss.trains_on(p.label)).count();
    if cfg.recipe == Recipe::Labels && kept < loss.min_batch() {
        return Err(Error::data(
            source,
            "record 0",
            "label",
            format!(
                "{} needs at least {} positive pairs (label ≥ {}), found {kept}",
                loss.name(),
                loss.min_batch(),
                POSITIVE_LABEL_MIN
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> TrainConfig {
        TrainConfig::from_bytes(text.as_bytes(), "c.toml").unwrap()
    }

    #[test]
    fn a_config_file_means_the_warmup_the_flags_would() {
        // v3 written down: the seeds' 100 steps whatever the default recipe's warmup is.
        for text in [
            "recipe = \"labels\"\nloss = \"cosine\"\n",
            "{\"recipe\": \"labels\", \"loss\": \"cosine\"}",
        ] {
            let c = read(text);
            assert_eq!((c.preset(), c.warmup_ratio), (Some(Preset::V3), None));
        }
        // Another recipe brings its share; steps given replace it; a share given wins.
        assert_eq!(read("recipe = \"graded\"\n").warmup_ratio, Some(0.1));
        assert_eq!(
            read("recipe = \"graded\"\nwarmup_steps = 7\n").warmup_ratio,
            None
        );
        assert_eq!(
            read("recipe = \"graded\"\nwarmup_steps = 7\nwarmup_ratio = 0.3\n").warmup_ratio,
            Some(0.3)
        );
        // A file that names neither keeps the default's.
        assert_eq!(
            read("epochs = 2\n").warmup_ratio,
            TrainConfig::default().warmup_ratio
        );
        // Typos are still errors naming the key.
        let err = TrainConfig::from_bytes(b"warmup_ration = 0.1\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.toml") && err.contains("warmup_ration"),
            "{err}"
        );
    }
}
