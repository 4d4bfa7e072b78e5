//! The memory a fine-tuning run needs at its peak, before it starts: what the browser worker checks
//! against its 4 GiB wasm32 address space (a run that cannot fit is refused with what would fit,
//! instead of dying in the middle with an allocation failure), and what the README's memory budget
//! is computed from.
//!
//! The peak is a training step's: the model's weights (the copy being trained, and in the browser
//! the base model kept for the side-by-side comparisons), AdamW's two moments, the batch's gradient
//! sum plus the gradients of each shard running, and the activations those shards keep for
//! backward. Everything else a run holds (eval embeddings, a checkpoint being written, tokenised
//! data) is small next to it or not held at the same time, and goes into a fixed overhead.
//!
//! The activation figures are measured, not derived: a counting allocator around training steps
//! on CPU whose shards are one pair of texts of exactly 64, 128 and 256 tokens (all-MiniLM-L6-v2
//! and all-mpnet-base-v2), the step's peak less AdamW's moments and the gradients, fits
//! [`activation_bytes`] within 3%. The planner's own estimate ([`super::plan::activation_bytes`])
//! is less than half of it; it stays as it is because it decides the shards, and so the run's
//! numbers.
//!
//! Imports: the encoder (architecture, tokenizer), the recipe's objectives and the shard planner.

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::plan::{self, ShardPlanner};
use super::recipe::Objective;
use crate::encoder::SentenceEncoder;
use crate::error::Result;
use crate::model::ArchConfig;

/// What a wasm32 module can address: the browser worker's whole memory.
pub const WASM_MEMORY: u64 = 4 << 30;

/// The share of [`WASM_MEMORY`] a browser run may plan to use. The rest is room for what the
/// estimate does not see: the allocator's fragmentation and the page's own requests (encodes for
/// the demo) while a run goes.
pub const WASM_PLANNED_SHARE: f64 = 0.85;

/// Memory besides weights, optimiser, gradients and activations: code and static data, tokenizer,
/// tokenised pairs, eval embeddings, messages to and from the page.
pub const OVERHEAD: u64 = 160 << 20;

/// Bytes a training step's forward and backward hold at their peak for one sequence of `len`
/// tokens (measured, see the module doc): what the forward keeps for backward and the backward's
/// own gradients of it — per layer about four copies of a dozen hidden-size and three
/// intermediate-size vectors per token, and 22 attention maps per head (scores, position bias,
/// mask, the softmax's steps, dropout, and their gradients).
pub fn activation_bytes(arch: &ArchConfig, len: usize) -> u64 {
    let (len, h, i, heads) = (
        len as f64,
        arch.hidden_size() as f64,
        arch.intermediate_size() as f64,
        arch.num_heads() as f64,
    );
    let per_layer = 3.98 * len * (12.0 * h + 3.0 * i) + 22.0 * heads * len * len;
    (arch.num_layers() as f64 * 4.0 * per_layer) as u64
}

/// A run's peak memory, by what holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryBudget {
    /// The model's parameters.
    pub parameters: usize,
    /// Copies of the weights held: the one trained, and in the browser the base model.
    pub models: usize,
    /// Bytes of the weights held ([`MemoryBudget::models`] copies, f32).
    pub weights: u64,
    /// AdamW's first and second moments.
    pub optimizer: u64,
    /// The batch's gradient sum and one gradient store per shard running.
    pub gradients: u64,
    /// What the shards running at once keep for backward, at the heaviest batch the data can make.
    pub activations: u64,
    /// Everything else ([`OVERHEAD`]).
    pub overhead: u64,
    /// Shards running at once (the threads).
    pub threads: usize,
    /// The longest tokenised text of the data at this max_seq_length.
    pub longest_tokens: usize,
    /// The max_seq_length planned for.
    pub max_seq_length: usize,
    /// What the run may use ([`WASM_PLANNED_SHARE`] of the wasm memory in the browser).
    pub limit: u64,
}

impl MemoryBudget {
    /// The estimated peak: the sum of the parts.
    pub fn peak(&self) -> u64 {
        self.weights + self.optimizer + self.gradients + self.activations + self.overhead
    }

    /// Whether the peak is within the limit.
    pub fn fits(&self) -> bool {
        self.peak() <= self.limit
    }

    /// One line: the peak and its parts.
    pub fn describe(&self) -> String {
        format!(
            "about {} at its peak (weights {}: {} × {:.1}M parameters; optimiser {}; gradients {}; \
             activations {}: {} at once, texts up to {} tokens; other {})",
            mib(self.peak()),
            mib(self.weights),
            self.models,
            self.parameters as f64 / 1e6,
            mib(self.optimizer),
            mib(self.gradients),
            mib(self.activations),
            if self.threads == 1 {
                "one shard".to_string()
            } else {
                format!("{} shards", self.threads)
            },
            self.longest_tokens,
            mib(self.overhead),
        )
    }
}

/// `n` bytes in MiB or GiB, for messages.
pub fn mib(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", n as f64 / (1u64 << 20) as f64)
    }
}

/// Token lengths of every text of each objective's rows at one max_seq_length, and the batches a
/// run makes of them; shorter max_seq_lengths are these lengths capped ([`Lengths::capped`]),
/// since truncation keeps the first tokens.
pub struct Lengths {
    /// Per objective: rows of per-column lengths.
    objectives: Vec<Vec<Vec<usize>>>,
    /// Per objective: every epoch's batches of row indices, as the trainer draws them.
    batches: Vec<Vec<Vec<usize>>>,
    max_seq_length: usize,
}

impl Lengths {
    /// Tokenise the objectives' texts the way a run of `cfg` on `enc` would (at
    /// `cfg.max_seq_length`, whatever `enc`'s own), and draw its batches.
    pub fn of(enc: &SentenceEncoder, objectives: &[Objective], cfg: &TrainConfig) -> Result<Self> {
        let tokenizer = enc.tokenizer_at(cfg.max_seq_length)?;
        let mut lengths = Vec::with_capacity(objectives.len());
        let mut batches = Vec::with_capacity(objectives.len());
        for o in objectives {
            lengths.push(
                o.rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|t| tokenizer.encode(t).map(|ids| ids.len()))
                            .collect()
                    })
                    .collect::<Result<Vec<Vec<usize>>>>()?,
            );
            // The trainer's draw: the same batches the run will step through.
            batches.push(
                o.epoch_batches(cfg.epochs, cfg.batch_size, cfg.seed)
                    .into_iter()
                    .flatten()
                    .collect(),
            );
        }
        Ok(Lengths {
            objectives: lengths,
            batches,
            max_seq_length: cfg.max_seq_length,
        })
    }

    /// These lengths at a shorter max_seq_length.
    pub fn capped(&self, max_seq_length: usize) -> Lengths {
        let n = max_seq_length.min(self.max_seq_length);
        Lengths {
            objectives: self
                .objectives
                .iter()
                .map(|rows| {
                    rows.iter()
                        .map(|r| r.iter().map(|&l| l.min(n)).collect())
                        .collect()
                })
                .collect(),
            batches: self.batches.clone(),
            max_seq_length: n,
        }
    }

    /// The longest text, in tokens.
    pub fn longest(&self) -> usize {
        self.objectives
            .iter()
            .flatten()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Bytes of the heaviest group of `threads` shards running at once over the run: every batch
    /// planned into rounds and shards by the trainer's own planner (on the CPU), each shard's texts
    /// padded to its longest (as they run), `threads` shards at a time, with the run's shard budget
    /// ([`TrainConfig::shard_memory_mib`]).
    pub fn peak_activations(
        &self,
        arch: &ArchConfig,
        threads: usize,
        shard_memory_mib: usize,
    ) -> u64 {
        let planner = ShardPlanner::for_run(&Device::Cpu, shard_memory_mib);
        let mut peak = 0;
        for (rows, batches) in self.objectives.iter().zip(&self.batches) {
            let planned = |i: usize| -> u64 {
                rows[i]
                    .iter()
                    .map(|&l| plan::activation_bytes(arch, l))
                    .sum()
            };
            for batch in batches {
                for round in planner.plan(batch, planned, false) {
                    for group in round.chunks(threads.max(1)) {
                        let bytes: u64 = group
                            .iter()
                            .map(|shard| {
                                let texts = shard.iter().map(|&i| rows[i].len()).sum::<usize>();
                                let longest = shard.iter().flat_map(|&i| rows[i].iter()).max();
                                texts as u64 * activation_bytes(arch, longest.copied().unwrap_or(0))
                            })
                            .sum();
                        peak = peak.max(bytes);
                    }
                }
            }
        }
        peak
    }
}

/// How a browser run is set up, as far as its memory goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Threads (shards running at once).
    pub threads: usize,
    /// [`TrainConfig::shard_memory_mib`].
    pub shard_memory_mib: usize,
    /// Truncation length.
    pub max_seq_length: usize,
    /// Copies of the weights held: the one trained, and in the browser the base model.
    pub models: usize,
}

/// The peak of a CPU run of `arch` with `parameters` (of which `sparse` are the word-embedding
/// table's, stepped row by row: its gradient is only the batch's rows) over data of these
/// `lengths` (capped at `setup.max_seq_length`), set up as `setup`, against `limit`.
pub fn budget(
    arch: &ArchConfig,
    parameters: usize,
    sparse: usize,
    lengths: &Lengths,
    setup: Setup,
    limit: u64,
) -> MemoryBudget {
    let weights = parameters as u64 * 4;
    let dense = parameters.saturating_sub(sparse) as u64 * 4;
    let threads = setup.threads.max(1);
    let capped;
    let lengths = if setup.max_seq_length < lengths.max_seq_length {
        capped = lengths.capped(setup.max_seq_length);
        &capped
    } else {
        lengths
    };
    MemoryBudget {
        parameters,
        models: setup.models,
        weights: weights * setup.models as u64,
        optimizer: 2 * weights,
        gradients: dense * (1 + threads as u64),
        activations: lengths.peak_activations(arch, threads, setup.shard_memory_mib),
        overhead: OVERHEAD,
        threads,
        longest_tokens: lengths.longest(),
        max_seq_length: lengths.max_seq_length,
        limit,
    }
}

/// Shard budgets tried, in MiB, when the asked one does not fit (see [`Preflight`]).
const SMALLER_SHARDS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// A browser run's budget, and when it does not fit what would. In order: as asked; with the base
/// model set aside (written to the browser's storage while the run goes, so one copy of the
/// weights fewer: the comparisons with the base model wait until the run ends); in smaller shards
/// (only slower; the page applies it by itself and says so). Else it is refused, with what would
/// fit: fewer threads or a shorter max_seq_length. The batch size does not change the peak: a batch
/// runs in rounds of shards of about the same size whatever its size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preflight {
    /// The run with the config's shards: holding every model asked for when that fits, else with
    /// the base model set aside.
    pub budget: MemoryBudget,
    /// The run fits only with the base model set aside.
    pub set_aside_base: bool,
    /// When the run does not fit with the config's shards either way but does in smaller ones:
    /// the largest shard budget that fits ([`TrainConfig::shard_memory_mib`]), and the budget then.
    pub smaller_shards: Option<(usize, MemoryBudget)>,
    /// The peak in the smallest shards with the base model set aside, everything else as asked.
    pub smallest_shards_peak: u64,
    /// When nothing of the above fits: what to change, most useful first.
    pub suggestions: Vec<String>,
}

impl Preflight {
    /// Plan `cfg` over `objectives` on `enc` with `threads` threads, holding `models` copies of the
    /// weights (one fewer when the base model is set aside), against `limit`.
    pub fn plan(
        enc: &SentenceEncoder,
        objectives: &[Objective],
        cfg: &TrainConfig,
        threads: usize,
        models: usize,
        limit: u64,
    ) -> Result<Self> {
        let lengths = Lengths::of(enc, objectives, cfg)?;
        let arch = enc.arch();
        let parameters = enc.info().parameters;
        let sparse = enc.word_embeddings().map_or(0, |(_, v)| v.elem_count());
        let at = |setup| budget(arch, parameters, sparse, &lengths, setup, limit);
        let asked = Setup {
            threads,
            shard_memory_mib: cfg.shard_memory_mib,
            max_seq_length: cfg.max_seq_length,
            models,
        };
        // The base model set aside: the copy being trained is the one model held.
        let aside = Setup {
            models: models.min(1),
            ..asked
        };
        let smallest = Setup {
            shard_memory_mib: 1,
            ..aside
        };
        let (budget_run, set_aside_base) = match at(asked) {
            b if b.fits() || models <= 1 => (b, false),
            b => match at(aside) {
                a if a.fits() => (a, true),
                _ => (b, false),
            },
        };
        let mut smaller_shards = None;
        let mut suggestions = Vec::new();
        if !budget_run.fits() {
            smaller_shards = SMALLER_SHARDS
                .into_iter()
                .filter(|&m| m < cfg.shard_memory_mib)
                .map(|m| {
                    (
                        m,
                        at(Setup {
                            shard_memory_mib: m,
                            ..aside
                        }),
                    )
                })
                .find(|(_, b)| b.fits());
        }
        if !budget_run.fits() && smaller_shards.is_none() {
            let fewer = (1..threads)
                .rev()
                .map(|t| {
                    at(Setup {
                        threads: t,
                        ..smallest
                    })
                })
                .find(MemoryBudget::fits);
            if let Some(b) = fewer {
                suggestions.push(format!(
                    "{} (Cores), in the smallest shards: {}",
                    plural(b.threads, "core"),
                    mib(b.peak())
                ));
            }
            for t in [threads, 1] {
                let fits = [384, 256, 192, 128, 96, 64, 32]
                    .into_iter()
                    .filter(|&n| n < cfg.max_seq_length)
                    .map(|n| {
                        (
                            n,
                            at(Setup {
                                threads: t,
                                max_seq_length: n,
                                ..smallest
                            }),
                        )
                    })
                    .find(|(_, b)| b.fits());
                if let Some((n, b)) = fits {
                    suggestions.push(format!(
                        "max_seq_length {n}{}, in the smallest shards: {}",
                        if t == threads {
                            String::new()
                        } else {
                            format!(" on {}", plural(t, "core"))
                        },
                        mib(b.peak())
                    ));
                    break;
                }
                if threads == 1 {
                    break;
                }
            }
            if suggestions.is_empty() {
                suggestions
                    .push("a smaller model, or the ticketsim command line (no 4 GiB limit)".into());
            }
        }
        Ok(Preflight {
            budget: budget_run,
            set_aside_base,
            smaller_shards,
            smallest_shards_peak: at(smallest).peak(),
            suggestions,
        })
    }

    /// The refusal the page shows: None when the run fits, with the base model set aside or in
    /// smaller shards if need be.
    pub fn refusal(&self) -> Option<String> {
        (!self.budget.fits() && self.smaller_shards.is_none()).then(|| {
            format!(
                "This run does not fit in the browser's memory: it needs {}, {} even with the \
                 base model set aside and in the smallest shards, and the worker may use {} (4 GiB \
                 is all a browser gives a WebAssembly worker). The batch size does not change \
                 this. What fits: {}.",
                self.budget.describe(),
                mib(self.smallest_shards_peak),
                mib(self.budget.limit),
                self.suggestions.join("; or "),
            )
        })
    }
}

/// `n` `what`s, with the plural when it is not one.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::pairs::TrainPair;

    fn pairs(n: usize, words: usize) -> Vec<TrainPair> {
        (0..n)
            .map(|i| TrainPair {
                a: vec![format!("printer{i}"); words + i % 7].join(" "),
                b: vec![format!("spooler{i}"); words].join(" "),
                label: (i % 2) as f32,
                kind: None,
            })
            .collect()
    }

    fn setup() -> (SentenceEncoder, Vec<Objective>, TrainConfig) {
        let enc = SentenceEncoder::tiny_random(1, &Device::Cpu).unwrap();
        let cfg = TrainConfig {
            max_seq_length: 64,
            batch_size: 16,
            epochs: 2,
            // The tiny model's shards are tiny: a budget under one pair makes one-pair shards.
            shard_memory_mib: 4,
            ..TrainConfig::v3()
        };
        let (objectives, _) = cfg.objectives(&pairs(40, 50), "p").unwrap();
        (enc, objectives, cfg)
    }

    #[test]
    fn activations_grow_with_length_threads_and_shards_and_are_capped() {
        let (enc, objectives, cfg) = setup();
        let lengths = Lengths::of(&enc, &objectives, &cfg).unwrap();
        assert_eq!(lengths.longest(), 64, "truncated at max_seq_length");
        assert_eq!(lengths.capped(16).longest(), 16);
        let arch = enc.arch();
        let one = lengths.peak_activations(arch, 1, 4);
        let two = lengths.peak_activations(arch, 2, 4);
        assert!(one > 0 && two > one, "{one} {two}");
        assert!(lengths.capped(16).peak_activations(arch, 1, 4) < one);
        // One shard holds the whole batch when the budget allows it; the smallest, one pair.
        let whole = lengths.peak_activations(arch, 1, 1 << 20);
        let pair = lengths.peak_activations(arch, 1, 1);
        assert!(whole > one && pair <= one, "{whole} {one} {pair}");
        assert_eq!(pair, 2 * activation_bytes(arch, 64));
    }

    #[test]
    fn the_preflight_sets_the_base_aside_then_shrinks_shards_then_refuses() {
        let (enc, objectives, cfg) = setup();
        let plan = |limit| Preflight::plan(&enc, &objectives, &cfg, 2, 2, limit).unwrap();
        let roomy = plan(WASM_MEMORY);
        assert!(roomy.budget.fits() && roomy.refusal().is_none() && !roomy.set_aside_base);
        assert!(roomy.smaller_shards.is_none() && roomy.suggestions.is_empty());
        let b = roomy.budget.clone();
        let one_model = b.weights / 2;
        // One model fewer fits: the base model is set aside, nothing else changes.
        let aside = plan(b.peak() - one_model);
        assert!(aside.set_aside_base && aside.budget.fits() && aside.budget.models == 1);
        assert!(aside.smaller_shards.is_none() && aside.refusal().is_none());
        // Fits with one model in one-pair shards on two threads: the shards shrink too.
        let fixed = one_model + b.optimizer + b.overhead;
        let pair = 2 * activation_bytes(enc.arch(), 64);
        let shrink = plan(fixed + b.gradients + 2 * pair);
        let (mib_fit, fit) = shrink.smaller_shards.clone().expect("smaller shards fit");
        assert!(
            mib_fit < cfg.shard_memory_mib && fit.fits() && fit.models == 1,
            "{mib_fit}"
        );
        assert!(shrink.refusal().is_none());
        // Fits only on one thread: refused, fewer cores suggested first.
        let tight = plan(fixed + b.gradients * 2 / 3 + pair);
        let refusal = tight.refusal().expect("refused");
        assert!(refusal.contains("does not fit"), "{refusal}");
        assert!(
            tight.suggestions[0].starts_with("1 core (Cores)"),
            "{refusal}"
        );
        // Nothing fits under the weights and the overhead alone.
        let none = plan(fixed / 2);
        assert!(
            none.suggestions[0].contains("command line"),
            "{:?}",
            none.suggestions
        );
    }
}
