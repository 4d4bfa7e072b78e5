//! Step 4: fine-tuning in the Web Worker. A form with the training recipe's defaults (the seeds'
//! v3: 12 epochs, batch 32, lr 2e-5, warmup 100, eval_split 0.2, max_seq_length 256), the data
//! it will use, a progress bar with ETA, the live loss curve and the per-epoch Pearson / Spearman
//! chart, and Cancel, which keeps the best checkpoint so far.

use leptos::prelude::*;

use super::chart::Chart;
use super::state::{duration, plural, Ctx, Panel, TrainState};
use super::Needs;
use crate::data::detect::Dataset;
use crate::data::pairs::TrainPair;
use crate::protocol::{Request, Response};
use crate::provenance::DataRecord;
use crate::train::config::validate_pairs;
use crate::train::config::TrainConfig;
use crate::train::estimate::Estimate;
use crate::train::memory::{mib, Preflight};
use crate::train::metadata::StopReason;
use crate::train::recipe::Preset;
use crate::train::session::select_data;

/// What the user chose in the form.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// The recipe.
    pub config: TrainConfig,
    /// Train on at most this many pairs (a seeded sample; 0 = all) — for a quick first run.
    pub max_pairs: usize,
    /// The training-pair file to evaluate on; `None`: hold out `eval_split` of the training pairs.
    pub eval_file: Option<String>,
    /// The user typed warmup steps: a recipe chosen afterwards keeps them instead of bringing its
    /// own share (as `--warmup-steps` wins over `--recipe` on the command line).
    pub warmup_typed: bool,
}

/// The run's data: training pairs, eval pairs, and the records for the metadata.
pub struct Selection {
    /// Pairs to train on.
    pub train: Vec<TrainPair>,
    /// Pairs to evaluate on.
    pub eval: Vec<TrainPair>,
    /// Where they came from.
    pub records: Vec<DataRecord>,
    /// One line for people.
    pub describe: String,
}

/// The default eval file: a loaded training-pair file with "eval" in its name.
pub fn default_eval_file(ctx: Ctx) -> Option<String> {
    ctx.files.with(|fs| {
        fs.iter()
            .find(|f| {
                matches!(&*f.dataset, Dataset::TrainingPairs(_))
                    && f.name.to_lowercase().contains("eval")
            })
            .map(|f| f.name.clone())
    })
}

/// Put the settings' data together: every training pair (files and labels) except the eval file,
/// sampled down to `max_pairs`, and the eval pairs.
pub fn select(ctx: Ctx, s: &TrainSettings) -> Result<Selection, String> {
    let eval_file = s.eval_file.as_deref();
    let train = ctx.training_pairs(eval_file);
    if train.is_empty() {
        return Err("no training pairs: load a training-pairs file (or generate pairs from incidents, or label some pairs)".into());
    }
    let mut records: Vec<DataRecord> = ctx.files.with_untracked(|fs| {
        fs.iter()
            .filter(|f| matches!(&*f.dataset, Dataset::TrainingPairs(_)))
            .map(|f| {
                f.record(if Some(f.name.as_str()) == eval_file {
                    "eval"
                } else {
                    "train"
                })
            })
            .collect()
    });
    let labelled = ctx
        .labels
        .with_untracked(|ls| ls.iter().filter(|l| l.training_pair().is_some()).count());
    let eval = match eval_file {
        Some(name) => Some(
            ctx.files
                .with_untracked(|fs| {
                    fs.iter()
                        .find(|f| f.name == name)
                        .and_then(|f| match &*f.dataset {
                            Dataset::TrainingPairs(l) => Some(l.records.clone()),
                            _ => None,
                        })
                })
                .ok_or_else(|| format!("{name} is not loaded"))?,
        ),
        None => None,
    };
    let (train, eval) = select_data(train, eval, &s.config, s.max_pairs, "training pairs")
        .map_err(|e| e.to_string())?;
    if labelled > 0 {
        records.push(DataRecord {
            role: "train".into(),
            file: "labels (this browser)".into(),
            sha256: String::new(),
            bytes: 0,
            pairs: labelled,
            used: labelled,
            skipped: 0,
        });
    }
    let describe = format!(
        "{} training pairs{}, {} eval pairs ({})",
        train.len(),
        if s.max_pairs > 0 {
            format!(" (sample of at most {})", s.max_pairs)
        } else {
            String::new()
        },
        eval.len(),
        match eval_file {
            Some(n) => format!("from {n}"),
            None => format!("{} of the training pairs held out", s.config.eval_split),
        }
    );
    Ok(Selection {
        train,
        eval,
        records,
        describe,
    })
}

fn num_input<T>(
    label: &'static str,
    testid: &'static str,
    get: impl Fn() -> T + Send + Sync + 'static,
    set: impl Fn(T) + 'static,
) -> impl IntoView
where
    T: std::str::FromStr + std::fmt::Display + 'static,
{
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                inputmode="decimal"
                data-testid=testid
                prop:value=move || get().to_string()
                on:change=move |e| {
                    if let Ok(v) = event_target_value(&e).trim().parse::<T>() {
                        set(v)
                    }
                }
            />
        </label>
    }
}

/// How long the settings must rest before their duration is measured: fields set in one go (a
/// form filled in by a script, a recipe that changes several values) become one request.
const ESTIMATE_SETTLE_MS: u32 = 300;

/// The duration estimate shown before Start.
#[derive(Clone, Debug, PartialEq)]
enum EstimateState {
    /// Nothing to estimate (no model or no valid data).
    None,
    /// The worker is timing a few steps.
    Measuring,
    /// The worker's answer: the run's memory against the worker's, and the measured duration
    /// (`None`: the run does not fit, nothing was measured).
    Done(Box<Preflight>, Option<Estimate>),
    /// Why there is none.
    Failed(String),
}

/// One line: the whole run's duration and what it is made of.
fn describe_estimate(e: &Estimate) -> String {
    format!(
        "Estimated duration on this machine: about {} ({} at {:.1} s, {} at {}; measured {:.1} pairs/s and {:.0} sentences/s on {}).",
        duration(e.total_seconds * 1000.0),
        plural(e.steps, "step"),
        e.step_seconds,
        plural(e.evaluations, "evaluation"),
        duration(e.eval_seconds * 1000.0),
        e.pairs_per_second,
        e.sentences_per_second,
        plural(e.threads.max(1), "core"),
    )
}

/// The fine-tuning panel.
#[component]
pub fn TrainPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let settings = RwSignal::new(TrainSettings {
        config: TrainConfig::default(),
        max_pairs: 0,
        eval_file: None,
        warmup_typed: false,
    });
    // Follow the loaded files until the user picks an eval file.
    let eval_chosen = RwSignal::new(false);
    Effect::new(move |_| {
        let d = default_eval_file(ctx);
        if !eval_chosen.get_untracked() {
            settings.update(|s| s.eval_file = d);
        }
    });
    let problem = RwSignal::new(Option::<String>::None);
    let selection_text = RwSignal::new(String::new());
    let estimate = RwSignal::new(EstimateState::None);
    // (from, to) when the page lowered the shard memory so the run fits.
    let shards_lowered = RwSignal::new(None::<(usize, usize)>);
    // Measure the run's cost whenever what it depends on changes (and nothing is running): the
    // user sees the duration before pressing Start. Only while this panel is shown: choosing the
    // pairs copies, splits and checks every one of them, and the estimate sends them all to the
    // worker — for tens of thousands of pairs too much to redo for every label given on the
    // labelling panel (issue 19). Opening the panel does it once.
    let estimated_for = StoredValue::new(String::new());
    // The settings still to measure, and whether a task is measuring (see below).
    let wanted = StoredValue::new(None::<(String, Vec<TrainPair>, Vec<TrainPair>, TrainConfig)>);
    let measuring = StoredValue::new(false);
    Effect::new(move |_| {
        if ctx.panel.get() != Panel::Train {
            return;
        }
        let s = settings.get();
        let sel = select(ctx, &s);
        selection_text.set(match &sel {
            Ok(s) => s.describe.clone(),
            Err(e) => e.clone(),
        });
        let threads = ctx.compute.with(|c| c.threads);
        let model = ctx.base.with(|b| b.as_ref().map(|b| b.name.clone()));
        if ctx.train.with(|t| t.running) || threads == 0 {
            return;
        }
        let (Some(model), Ok(sel)) = (model, sel) else {
            estimate.set(EstimateState::None);
            return;
        };
        if validate_pairs(&sel.train, &s.config, "training pairs").is_err() {
            estimate.set(EstimateState::None);
            return;
        }
        let key = format!(
            "{model} {threads} {:?} {} {}",
            s.config,
            sel.train.len(),
            sel.eval.len()
        );
        if estimated_for.get_value() == key {
            return;
        }
        estimated_for.set_value(key.clone());
        estimate.set(EstimateState::Measuring);
        wanted.set_value(Some((key, sel.train, sel.eval, s.config.clone())));
        if measuring.get_value() {
            return;
        }
        // One estimate at a time, for the latest settings: the worker measures for seconds to a
        // minute and handles requests in order, so one per typed field would queue minutes of
        // estimates ahead of Start. The short wait lets a burst of edits become one request.
        measuring.set_value(true);
        leptos::task::spawn_local(async move {
            loop {
                crate::web::sleep_ms(ESTIMATE_SETTLE_MS).await;
                let next = wanted.try_update_value(Option::take).flatten();
                // A run started meanwhile: measuring now would hold its steps up.
                let Some((key, train, eval, config)) =
                    next.filter(|_| !ctx.train.with_untracked(|t| t.running))
                else {
                    break;
                };
                let Some(w) = ctx.client() else { break };
                let answer = w
                    .call(|id| Request::Estimate {
                        id,
                        train,
                        eval,
                        config,
                    })
                    .await;
                // The settings changed while the worker measured: a newer request owns the display.
                if estimated_for.get_value() != key {
                    continue;
                }
                // A run that fits only in smaller shards gets them (only slower; the user is told
                // below): its settings change, and the new ones are measured in turn.
                if let Ok(Response::Estimated { memory, .. }) = &answer {
                    if let Some((shard_mib, _)) = memory.smaller_shards {
                        let from = settings.with_untracked(|s| s.config.shard_memory_mib);
                        shards_lowered.set(Some((from, shard_mib)));
                        settings.update(|s| s.config.shard_memory_mib = shard_mib);
                        continue;
                    }
                }
                estimate.set(match answer {
                    Ok(Response::Estimated {
                        memory, estimate, ..
                    }) => EstimateState::Done(Box::new(memory), estimate),
                    Ok(other) => EstimateState::Failed(format!("unexpected answer: {other:?}")),
                    Err(e) => EstimateState::Failed(e),
                });
            }
            measuring.set_value(false);
        });
    });

    let start = move |_| {
        problem.set(None);
        let s = settings.get_untracked();
        let sel = match select(ctx, &s) {
            Ok(sel) => sel,
            Err(e) => return problem.set(Some(e)),
        };
        if let Err(e) = validate_pairs(&sel.train, &s.config, "training pairs") {
            return problem.set(Some(e.to_string()));
        }
        let Some(w) = ctx.client() else { return };
        ctx.train.set(TrainState {
            running: true,
            ..TrainState::default()
        });
        // The worker lets the previous run's model go before this one starts (the memory budget
        // has room for the base model and the copy being trained, not a third).
        ctx.tuned.set(None);
        ctx.classifier.set(None);
        ctx.eval_pairs
            .set(Some((sel.describe.clone(), sel.eval.clone())));
        w.send(&Request::Train {
            train: sel.train,
            eval: sel.eval,
            config: s.config,
            data: sel.records,
        });
    };
    let cancel = move |_| {
        if let Some(w) = ctx.client() {
            ctx.train.update(|t| t.cancelling = true);
            w.send(&Request::Cancel);
        }
    };
    let eval_options = move || {
        ctx.files.with(|fs| {
            fs.iter()
                .filter(|f| matches!(&*f.dataset, Dataset::TrainingPairs(_)))
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let progress = move || {
        ctx.train.with(|t| {
            if t.total == 0 {
                return String::new();
            }
            if t.finished.is_some() {
                return format!(
                    "{} of {} steps in {} · {:.1} pairs/s",
                    t.step,
                    t.total,
                    duration(t.elapsed_ms),
                    t.pairs_per_s
                );
            }
            format!(
                "step {} of {} · {} elapsed · about {} left · {:.1} pairs/s on {}",
                t.step,
                t.total,
                duration(t.elapsed_ms),
                duration(t.eta_ms),
                t.pairs_per_s,
                ctx.compute.with(|c| c.cores())
            )
        })
    };
    let outcome = move || {
        ctx.train.with(|t| {
            let best = t.metadata.as_ref().and_then(|m| m.best_epoch);
            t.finished.map(|r| {
                let why = match r {
                    StopReason::Completed => "finished",
                    StopReason::EarlyStopping => "stopped early (no improvement)",
                    StopReason::Interrupted => "cancelled",
                    StopReason::Crashed => "ended when the worker stopped",
                };
                format!(
                    "Fine-tuning {why}; kept the checkpoint of epoch {} (epoch 0 is the base model).",
                    best.unwrap_or(0)
                )
            })
        })
    };
    // Where the best checkpoint is while the run goes on: it survives a worker that stops.
    let checkpoint = move || {
        ctx.train.with(|t| match &t.checkpoint {
            None => String::new(),
            Some(Ok(c)) => format!(
                "Best checkpoint so far (epoch {}, {} MB) saved in this browser in {:.1} s: a crash of the worker will not lose it.",
                c.epoch,
                c.bytes >> 20,
                c.ms / 1000.0
            ),
            Some(Err(e)) => format!(
                "The best checkpoint could not be saved in this browser ({e}): if the worker stops, the run is lost."
            ),
        })
    };
    view! {
        <h2>"Fine-tune"</h2>
        <Show when=move || ctx.base.with(|b| b.is_none())>
            <Needs what="a model" go=Panel::Model />
        </Show>
        <Show when=move || ctx.training_pair_count() == 0>
            <Needs what="training pairs (a file, pairs generated from incidents, or labels)" go=Panel::Data />
        </Show>
        <form class="grid" on:submit=|e| e.prevent_default()>
            <label class="field">
                <span>"recipe"</span>
                <select data-testid="cfg-recipe" on:change=move |e| {
                    if let Some(p) = Preset::parse(&event_target_value(&e)) {
                        settings.update(|s| {
                            s.config.set_preset(p);
                            if s.warmup_typed {
                                s.config.warmup_ratio = None;
                            }
                        });
                    }
                }>
                    {Preset::ALL.into_iter().map(|p| {
                        // The default is the recipe the held-out benchmark recommends: say so.
                        let label = if TrainConfig::default().preset() == Some(p) {
                            format!("{} (recommended)", p.name())
                        } else {
                            p.name().to_string()
                        };
                        view! {
                            <option value=p.name() selected=move || settings.with(|s| s.config.preset() == Some(p))>{label}</option>
                        }
                    }).collect_view()}
                </select>
                <small data-testid="cfg-recipe-summary">
                    {move || settings.with(|s| s.config.preset().map_or_else(
                        || format!("{} on the labels as given", s.config.loss),
                        |p| p.summary().to_string(),
                    ))}
                </small>
            </label>
            {num_input("epochs", "cfg-epochs", move || settings.with(|s| s.config.epochs), move |v| settings.update(|s| s.config.epochs = v))}
            {num_input("batch size", "cfg-batch", move || settings.with(|s| s.config.batch_size), move |v| settings.update(|s| s.config.batch_size = v))}
            {num_input("learning rate", "cfg-lr", move || settings.with(|s| s.config.learning_rate), move |v| settings.update(|s| s.config.learning_rate = v))}
            // Steps typed here replace the recipe's share (as --warmup-steps does on the CLI).
            {num_input("warmup steps", "cfg-warmup", move || settings.with(|s| s.config.warmup_steps), move |v| settings.update(|s| { s.config.warmup_steps = v; s.config.warmup_ratio = None; s.warmup_typed = true; }))}
            <Show when=move || settings.with(|s| s.config.warmup_ratio.is_some())>
                <small class="field" data-testid="cfg-warmup-ratio">
                    {move || settings.with(|s| format!("warmup: {:.0} % of the steps (the recipe's; type steps to replace it)", 100.0 * s.config.warmup_ratio.unwrap_or(0.0)))}
                </small>
            </Show>
            {num_input("max_seq_length", "cfg-max-seq", move || settings.with(|s| s.config.max_seq_length), move |v| settings.update(|s| s.config.max_seq_length = v))}
            {num_input("seed", "cfg-seed", move || settings.with(|s| s.config.seed), move |v| settings.update(|s| s.config.seed = v))}
            {num_input("early stopping patience (0: off)", "cfg-patience", move || settings.with(|s| s.config.early_stopping_patience), move |v| settings.update(|s| s.config.early_stopping_patience = v))}
            {num_input("shard memory (MiB; lower: slower, less memory)", "cfg-shard-memory", move || settings.with(|s| s.config.shard_memory_mib), move |v| { shards_lowered.set(None); settings.update(|s| s.config.shard_memory_mib = v) })}
            {num_input("train on at most N pairs (0: all)", "cfg-max-pairs", move || settings.with(|s| s.max_pairs), move |v| settings.update(|s| s.max_pairs = v))}
            <label class="field">
                <span>"cores"</span>
                <input
                    type="number"
                    min="1"
                    max=crate::protocol::MAX_THREADS
                    data-testid="cfg-cores"
                    disabled=move || ctx.train.with(|t| t.running) || ctx.compute.with(|c| c.slower_because.is_some())
                    prop:value=move || ctx.compute.with(|c| c.wanted)
                    on:change=move |e| {
                        if let Ok(v) = event_target_value(&e).trim().parse::<usize>() {
                            let v = v.clamp(1, crate::protocol::MAX_THREADS);
                            ctx.compute.update(|c| c.wanted = v);
                            if let Some(w) = ctx.client() {
                                w.send(&Request::SetThreads { threads: v });
                            }
                        }
                    }
                />
            </label>
            {num_input("eval split (when no eval file)", "cfg-eval-split", move || settings.with(|s| s.config.eval_split), move |v| settings.update(|s| s.config.eval_split = v))}
            <label class="field">
                <span>"evaluate on"</span>
                <select data-testid="cfg-eval-file" on:change=move |e| {
                    let v = event_target_value(&e);
                    eval_chosen.set(true);
                    settings.update(|s| s.eval_file = (!v.is_empty()).then_some(v));
                }>
                    <option value="" selected=move || settings.with(|s| s.eval_file.is_none())>"a held-out split of the training pairs"</option>
                    {move || eval_options().into_iter().map(|n| {
                        let (n2, value) = (n.clone(), n.clone());
                        view! { <option value=value selected=move || settings.with(|s| s.eval_file.as_deref() == Some(n2.as_str()))>{n}</option> }
                    }).collect_view()}
                </select>
            </label>
        </form>
        <p data-testid="compute-mode">
            {move || ctx.compute.with(|c| {
                if c.threads == 0 {
                    return "Starting the worker…".to_string();
                }
                match &c.slower_because {
                    None => format!("Computing on {} of this machine's {} (threads sharing one memory: the fastest mode).", c.cores(), plural(super::worker_client::hardware_threads(), "core")),
                    Some(why) => format!("Computing on {}, not in the fastest mode: {why}.", c.cores()),
                }
            })}
        </p>
        <p data-testid="train-selection">
            {move || selection_text.get()}
        </p>
        <p data-testid="train-estimate">
            {move || match estimate.get() {
                EstimateState::None => String::new(),
                EstimateState::Measuring => "Measuring this machine on your pairs (a few training steps)…".to_string(),
                EstimateState::Failed(e) => format!("Could not estimate the duration: {e}"),
                EstimateState::Done(_, Some(e)) => describe_estimate(&e),
                EstimateState::Done(m, None) if m.budget.fits() => "Duration not measured: measuring trains a copy beside the base model, and only the run without it fits.".to_string(),
                EstimateState::Done(_, None) => String::new(),
            }}
        </p>
        <p data-testid="train-memory">
            {move || match estimate.get() {
                EstimateState::Done(m, _) if m.refusal().is_none() => {
                    let lowered = shards_lowered.get().map_or(String::new(), |(from, to)| format!(
                        " Shard memory lowered from {from} to {to} MiB so that it fits: slower steps, and a run of its own (the shards decide the dropout draws; training_metadata.json records it)."
                    ));
                    let aside = if m.set_aside_base {
                        " It fits with the base model set aside: the worker writes it to this browser's storage when the run starts and loads it back when it ends (the demo and comparisons with the base model wait until then)."
                    } else {
                        ""
                    };
                    format!("Memory: {}, of the {} the worker may use.{aside}{lowered}", m.budget.describe(), mib(m.budget.limit))
                }
                _ => String::new(),
            }}
        </p>
        <p class="error" data-testid="train-refusal">
            {move || match estimate.get() {
                EstimateState::Done(m, _) => m.refusal(),
                _ => None,
            }}
        </p>
        <button
            data-testid="train-start"
            disabled=move || ctx.train.with(|t| t.running) || ctx.base.with(|b| b.is_none())
                || matches!(estimate.get(), EstimateState::Done(ref m, _) if m.refusal().is_some())
            on:click=start
        >
            "Start fine-tuning"
        </button>
        <button
            data-testid="train-cancel"
            disabled=move || !ctx.train.with(|t| t.running) || ctx.train.with(|t| t.cancelling)
            on:click=cancel
        >
            {move || if ctx.train.with(|t| t.cancelling) { "Cancelling after this step…" } else { "Cancel (keep the best checkpoint)" }}
        </button>
        <p class="error" data-testid="train-problem">{move || problem.get().or_else(|| ctx.train.with(|t| t.error.clone()))}</p>
        <progress
            data-testid="train-progress"
            max=move || ctx.train.with(|t| t.total.max(1))
            value=move || ctx.train.with(|t| t.step)
        ></progress>
        <p data-testid="train-status">{progress}</p>
        <p data-testid="worker-memory" data-bytes=move || ctx.train.with(|t| t.memory_bytes)>
            {move || ctx.train.with(|t| (t.memory_bytes > 0).then(|| format!(
                "The worker's memory: {} of at most 4 GiB (its peak so far: WebAssembly memory does not shrink).",
                mib(t.memory_bytes)
            )))}
        </p>
        <ul data-testid="train-notes">
            {move || ctx.train.with(|t| t.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view())}
        </ul>
        <p data-testid="train-outcome">{outcome}</p>
        <p data-testid="train-checkpoint">{checkpoint}</p>
        <div class="charts">
            <Chart testid="loss-chart" draw=move |area| {
                ctx.train.with(|t| crate::eval::charts::loss_chart(area, &t.losses, "Training loss per step"))
            } />
            <Chart testid="epoch-chart" draw=move |area| {
                ctx.train.with(|t| crate::eval::charts::epoch_metrics_chart(area, &t.epochs.iter().map(|m| (m.epoch, &m.eval)).collect::<Vec<_>>(), "Eval Pearson / Spearman per epoch"))
            } />
        </div>
        <table class="metrics" data-testid="epoch-table">
            <tr><th>"epoch"</th><th>"train loss"</th><th>"Spearman"</th><th>"Pearson"</th><th>"ROC-AUC"</th></tr>
            {move || ctx.train.with(|t| t.epochs.iter().map(|m| {
                let f = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.4}"));
                view! {
                    <tr data-testid="epoch-row">
                        <td>{m.epoch}</td>
                        <td>{f(m.train_loss)}</td>
                        <td>{f(m.eval.spearman)}</td>
                        <td>{f(m.eval.pearson)}</td>
                        <td>{f(m.eval.roc_auc)}</td>
                    </tr>
                }
            }).collect_view())}
        </table>
    }
}
