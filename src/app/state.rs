//! The app's state: one set of signals shared by every panel through the context, and the events
//! from the worker that update them. Nothing is hidden in cells a panel cannot see: each panel
//! derives what it shows from these signals and states what it still needs.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::worker_client::WorkerClient;
use crate::classify::cv::CvReport;
use crate::data::detect::Dataset;
use crate::data::pairs::{PairKind, TrainPair};
use crate::data::relationships::{Relation, RelationshipPair};
use crate::encoder::ModelInfo;
use crate::protocol::{Request, Response, Slot};
use crate::provenance::DataRecord;
use crate::train::metadata::TrainingMetadata;
use crate::train::metadata::{EpochMetrics, StopReason};

/// A loaded model as the page knows it (the weights live in the worker).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
    /// Name shown and recorded.
    pub name: String,
    /// Architecture and size.
    pub info: ModelInfo,
    /// Milliseconds to load.
    pub load_ms: f64,
}

/// A loaded data file.
#[derive(Clone, Debug)]
pub struct DataFile {
    /// The file name (or "generated from X").
    pub name: String,
    /// What it holds.
    pub dataset: Arc<Dataset>,
    /// Its bytes' sha256 (for the metadata).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// The file's contents, kept for an incident export only: pairs are generated from it by the
    /// reader worker, which gets these bytes (sending the records would cost the page a walk over
    /// each of them).
    pub source: Option<Arc<Vec<u8>>>,
}

impl DataFile {
    /// The file as `training_metadata.json` / `classifier.json` record it, in `role`.
    pub fn record(&self, role: &str) -> DataRecord {
        let r = self.dataset.report();
        DataRecord {
            role: role.into(),
            file: self.name.clone(),
            sha256: self.sha256.clone(),
            bytes: self.bytes,
            pairs: r.kept,
            used: r.kept,
            skipped: r.skipped_total(),
        }
    }
}

/// One human label. A pair may get a relationship (1–4 keys), a similar/different verdict (s/d),
/// or both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// First ticket (the cause, for causal).
    pub a: String,
    /// Second ticket.
    pub b: String,
    /// Relationship, when given.
    pub relation: Option<Relation>,
    /// Similar (true) / different (false), when given.
    pub similar: Option<bool>,
    /// When it was given (ms since the Unix epoch): the order of the list and of undo.
    pub at: f64,
}

impl Label {
    /// The IndexedDB key of a pair.
    pub fn key(a: &str, b: &str) -> String {
        let h = crate::provenance::sha256_hex(format!("{a}\u{1f}{b}").as_bytes());
        h[..24].to_string()
    }

    /// As a training pair: similar/different when given, else duplicate = 1 and none = 0
    /// (causal and related say nothing about paraphrase similarity).
    pub fn training_pair(&self) -> Option<TrainPair> {
        let label = match (self.similar, self.relation) {
            (Some(s), _) => f32::from(u8::from(s)),
            (None, Some(Relation::Duplicate)) => 1.0,
            (None, Some(Relation::None)) => 0.0,
            _ => return None,
        };
        // A person's "duplicate" is a duplicate; their "none" on a pair the queue put close
        // together is a hard negative.
        let kind = match self.relation {
            Some(Relation::Duplicate) => Some(PairKind::Duplicate),
            Some(Relation::None) => Some(PairKind::HardNegative),
            _ => None,
        }
        // A kind that disagrees with the verdict (s/d overrides the relationship) is dropped.
        .filter(|k| k.is_positive() == (label >= 0.5));
        Some(TrainPair {
            a: self.a.clone(),
            b: self.b.clone(),
            label,
            kind,
        })
    }

    /// As a relationship pair, when a relationship was given.
    pub fn relationship_pair(&self) -> Option<RelationshipPair> {
        self.relation.map(|relation| RelationshipPair {
            a: self.a.clone(),
            b: self.b.clone(),
            relation,
            id_a: None,
            id_b: None,
        })
    }
}

/// Fine-tuning progress as the worker reports it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainState {
    /// A run is going.
    pub running: bool,
    /// Cancel was pressed; the run ends after the current step.
    pub cancelling: bool,
    /// (step, loss) of every step.
    pub losses: Vec<(usize, f64)>,
    /// Evaluations, the base model's first.
    pub epochs: Vec<EpochMetrics>,
    /// Steps done / in all.
    pub step: usize,
    /// Steps in the run.
    pub total: usize,
    /// Estimated milliseconds left.
    pub eta_ms: f64,
    /// Milliseconds since the start.
    pub elapsed_ms: f64,
    /// Training pairs per second.
    pub pairs_per_s: f64,
    /// Why the last run ended.
    pub finished: Option<StopReason>,
    /// The metadata of the last run.
    pub metadata: Option<Box<TrainingMetadata>>,
    /// The last error.
    pub error: Option<String>,
    /// What the run's recipe could not use.
    pub notes: Vec<String>,
    /// The last run's best checkpoint as saved in the browser's storage (so a crashed worker does
    /// not lose it), or why it could not be saved.
    pub checkpoint: Option<Result<SavedCheckpoint, String>>,
    /// The worker's wasm memory as of the last step or the end (it never shrinks: the peak).
    pub memory_bytes: u64,
}

/// A best checkpoint the worker wrote to IndexedDB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SavedCheckpoint {
    /// Its epoch.
    pub epoch: usize,
    /// Bytes of its weights.
    pub bytes: u64,
    /// Milliseconds the write took.
    pub ms: f64,
}

/// Where the loaded model came from, so the page can load it again into a new worker after a
/// crash: the served default (from the Cache API), or a dropped folder, which the page also puts in
/// the Cache API under [`DROPPED_MODEL_URL`].
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSource {
    /// The served all-MiniLM-L6-v2.
    Served,
    /// A dropped folder: its name and its files' paths.
    Dropped {
        /// The name shown.
        name: String,
        /// Paths inside the folder.
        paths: Vec<String>,
    },
}

/// Where a dropped model's files are kept in the Cache API (one dropped model at a time).
pub const DROPPED_MODEL_URL: &str = "./dropped-model";

/// The page is bringing a new worker to where the crashed one was.
#[derive(Clone, Debug, PartialEq)]
struct Recovery {
    /// Load the last run's best checkpoint once the model is back.
    checkpoint: bool,
}

/// What the worker computes on.
#[derive(Clone, Debug, PartialEq)]
pub struct ComputeState {
    /// Cores the user asked for (default: the browser's count, capped).
    pub wanted: usize,
    /// Threads the worker said it uses (0 until it has answered).
    pub threads: usize,
    /// The threaded build runs.
    pub threaded: bool,
    /// Why the page is not in its fastest mode, when it is not.
    pub slower_because: Option<String>,
}

/// Everything the panels share. `Copy`: signals are handles.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The worker.
    pub worker: StoredValue<Option<Rc<WorkerClient>>, LocalStorage>,
    /// The worker that reads data files ([`Ctx::reader`]); started on first use.
    reader: StoredValue<Option<Rc<WorkerClient>>, LocalStorage>,
    /// The loaded model.
    pub base: RwSignal<Option<ModelState>>,
    /// The fine-tuned model (best checkpoint of the last run).
    pub tuned: RwSignal<Option<ModelState>>,
    /// What the model panel says (loading, errors).
    pub model_status: RwSignal<String>,
    /// A model is being loaded.
    pub model_loading: RwSignal<bool>,
    /// Loaded data files.
    pub files: RwSignal<Vec<DataFile>>,
    /// Human labels, oldest first.
    pub labels: RwSignal<Vec<Label>>,
    /// Fine-tuning.
    pub train: RwSignal<TrainState>,
    /// The eval pairs of the last fine-tuning run (with a description), which the evaluation
    /// panel uses so base and fine-tuned are compared on what the run selected by.
    pub eval_pairs: RwSignal<Option<(String, Vec<TrainPair>)>>,
    /// The last classifier report.
    pub classifier: RwSignal<Option<(CvReport, f64)>>,
    /// Last measured encode throughput (sentences/s) and its size.
    pub embed_rate: RwSignal<Option<(f64, usize)>>,
    /// The last progress message of a long request: (request id, what, done, total).
    pub progress: RwSignal<Option<(u64, String, usize, usize)>>,
    /// When the current stage of [`Ctx::progress`] began: (request id, what, ms, done then) —
    /// what its ETA is measured from.
    pub progress_since: StoredValue<Option<(u64, String, f64, usize)>>,
    /// Errors from the worker that belong to no request.
    pub worker_error: RwSignal<Option<String>>,
    /// The panel shown.
    pub panel: RwSignal<Panel>,
    /// Cores and build in use.
    pub compute: RwSignal<ComputeState>,
    /// Where the loaded model came from.
    pub model_source: StoredValue<Option<ModelSource>>,
    /// Set while a new worker replaces one that crashed.
    recovery: StoredValue<Option<Recovery>>,
    /// The worker's last allocation failure (bytes asked for, bytes it had), reported just
    /// before it stops ([`Response::OutOfMemory`]).
    out_of_memory: StoredValue<Option<(f64, f64)>>,
    /// How a new worker gets the model again after a crash (the model panel's loader, handed
    /// in by [`Ctx::start_worker`] so this module does not depend on the panel's).
    reload_model: StoredValue<Option<ReloadModel>>,
}

/// Loads a model into a new worker (see [`Ctx::start_worker`]).
pub type ReloadModel = fn(Ctx, ModelSource);

/// The app's steps, in the order a user takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    /// Load a model.
    Model,
    /// Load data.
    Data,
    /// Label pairs.
    Label,
    /// Fine-tune.
    Train,
    /// Evaluate base vs fine-tuned.
    Evaluate,
    /// Relationship classifier.
    Classify,
    /// Similarity demo.
    Demo,
    /// Download the model.
    Export,
}

impl Panel {
    /// All, in order.
    pub const ALL: [Panel; 8] = [
        Panel::Model,
        Panel::Data,
        Panel::Label,
        Panel::Train,
        Panel::Evaluate,
        Panel::Classify,
        Panel::Demo,
        Panel::Export,
    ];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            Panel::Model => "1 Model",
            Panel::Data => "2 Data",
            Panel::Label => "3 Label",
            Panel::Train => "4 Fine-tune",
            Panel::Evaluate => "5 Evaluate",
            Panel::Classify => "6 Classifier",
            Panel::Demo => "7 Demo",
            Panel::Export => "8 Export",
        }
    }

    /// `data-testid` suffix.
    pub fn id(self) -> &'static str {
        match self {
            Panel::Model => "model",
            Panel::Data => "data",
            Panel::Label => "label",
            Panel::Train => "train",
            Panel::Evaluate => "evaluate",
            Panel::Classify => "classify",
            Panel::Demo => "demo",
            Panel::Export => "export",
        }
    }
}

impl Ctx {
    /// Fresh state (the worker is attached by [`Ctx::start_worker`]).
    pub fn new() -> Self {
        Ctx {
            worker: StoredValue::new_local(None),
            reader: StoredValue::new_local(None),
            base: RwSignal::new(None),
            tuned: RwSignal::new(None),
            model_status: RwSignal::new(String::new()),
            model_loading: RwSignal::new(false),
            files: RwSignal::new(Vec::new()),
            labels: RwSignal::new(Vec::new()),
            train: RwSignal::new(TrainState::default()),
            eval_pairs: RwSignal::new(None),
            classifier: RwSignal::new(None),
            embed_rate: RwSignal::new(None),
            progress: RwSignal::new(None),
            progress_since: StoredValue::new(None),
            worker_error: RwSignal::new(None),
            panel: RwSignal::new(Panel::Model),
            compute: RwSignal::new(ComputeState {
                wanted: super::worker_client::default_threads(),
                threads: 0,
                threaded: false,
                slower_because: super::worker_client::fastest_mode().err(),
            }),
            model_source: StoredValue::new(None),
            recovery: StoredValue::new(None),
            out_of_memory: StoredValue::new(None),
            reload_model: StoredValue::new(None),
        }
    }

    /// Start the worker and route its events into the signals; `reload_model` loads a model
    /// into a worker that replaces a crashed one.
    pub fn start_worker(self, reload_model: ReloadModel) {
        self.reload_model.set_value(Some(reload_model));
        self.spawn_worker();
    }

    fn spawn_worker(self) {
        match WorkerClient::spawn(move |r| self.on_event(r), move |what| self.on_crash(what)) {
            Ok(w) => self.worker.set_value(Some(w)),
            Err(e) => self.worker_error.set(Some(e)),
        }
    }

    /// The worker (`None` only when it could not start, which the page says).
    pub fn client(self) -> Option<Rc<WorkerClient>> {
        self.worker.get_value()
    }

    /// The worker that reads data files (see [`WorkerClient::spawn_reader`]), started on first
    /// use and again after it stopped (its calls then fail, naming the likely cause). `None` when
    /// the browser cannot start one: the page then reads files itself.
    pub fn reader(self) -> Option<Rc<WorkerClient>> {
        if let Some(r) = self.reader.get_value() {
            return Some(r);
        }
        let started = WorkerClient::spawn_reader(move |what| {
            web_sys::console::warn_1(&format!("the file reader stopped: {what}").into());
            if let Some(r) = self.reader.get_value() {
                r.terminate();
            }
            self.reader.set_value(None);
        });
        match started {
            Ok(r) => {
                self.reader.set_value(Some(r.clone()));
                Some(r)
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("no file reader ({e}): reading here").into());
                None
            }
        }
    }

    /// The worker stopped (a trap: in wasm, most often an allocation failure). A stopped worker
    /// cannot answer, so a new one replaces it; the model is loaded into it again and, when a run
    /// was going or had finished, the run's best checkpoint saved in IndexedDB becomes the
    /// fine-tuned model again. The user is told what happened and what to change.
    fn on_crash(self, what: String) {
        if let Some(w) = self.client() {
            w.terminate();
        }
        let running = self.train.with_untracked(|t| t.running);
        let had_tuned = self.tuned.get_untracked().is_some();
        let loading = self.model_loading.get_untracked();
        let source = self
            .model_source
            .get_value()
            .filter(|_| !loading && self.base.get_untracked().is_some());
        // The allocator's own report names the sizes; a pool thread's says "out of memory" in
        // `what`; any other trap is most likely memory too, but say what the browser said.
        let mut message = match self.out_of_memory.get_value() {
            Some((requested, memory)) => format!(
                "{}. A new worker was started",
                crate::protocol::out_of_memory_message(requested, memory)
            ),
            None if what.contains("out of memory") => format!(
                "The worker ran out of memory ({what}; a browser gives a worker at most 4 GiB): \
                 use fewer cores, a shorter max_seq_length or a smaller model. A new worker was \
                 started"
            ),
            None => format!(
                "The worker stopped ({what}). Most likely it ran out of memory (a browser gives a \
                 worker at most 4 GiB): use fewer cores, a shorter max_seq_length or a smaller \
                 model. A new worker was started"
            ),
        };
        self.out_of_memory.set_value(None);
        if running {
            self.train.update(|t| {
                t.running = false;
                t.cancelling = false;
                t.error = Some("the worker stopped during the run (see the message above)".into());
            });
        }
        self.tuned.set(None);
        self.classifier.set(None);
        self.spawn_worker();
        let reload = self.reload_model.get_value();
        match source.zip(reload) {
            Some((source, reload)) => {
                message.push_str("; the model is being loaded again");
                if running || had_tuned {
                    message.push_str(" with the run's best checkpoint");
                }
                message.push('.');
                self.recovery.set_value(Some(Recovery {
                    checkpoint: running || had_tuned,
                }));
                reload(self, source);
            }
            None => {
                message.push_str(": load the model again.");
                self.model_loading.set(false);
                self.model_status.set(String::new());
                self.base.set(None);
            }
        }
        self.worker_error.set(Some(message));
    }

    /// Say how the recovery after a crash ended (appended to the crash message).
    fn recovered(self, outcome: &str) {
        self.recovery.set_value(None);
        self.worker_error.update(|m| {
            let m = m.get_or_insert_with(String::new);
            if !m.is_empty() {
                m.push(' ');
            }
            m.push_str(outcome);
        });
    }

    fn on_event(self, r: Response) {
        match r {
            Response::Progress {
                id,
                what,
                done,
                total,
            } => {
                let same = self
                    .progress_since
                    .with_value(|s| s.as_ref().is_some_and(|(i, w, ..)| *i == id && *w == what));
                if !same {
                    self.progress_since.set_value(Some((
                        id,
                        what.clone(),
                        crate::web::now_ms(),
                        done,
                    )));
                }
                self.progress.set(Some((id, what, done, total)));
            }
            Response::Ready => {
                let threads = self.compute.with_untracked(|c| c.wanted);
                if let Some(w) = self.client() {
                    w.send(&Request::SetThreads { threads });
                }
            }
            Response::Threads { threads, threaded } => self.compute.update(|c| {
                c.threads = threads;
                c.threaded = threaded;
            }),
            Response::ModelLoaded {
                slot: _,
                name,
                info,
                load_ms,
            } => {
                self.model_status.set(String::new());
                self.model_loading.set(false);
                self.base.set(Some(ModelState {
                    name,
                    info,
                    load_ms,
                }));
                self.tuned.set(None);
                self.classifier.set(None);
                match self.recovery.get_value() {
                    // The run's story (losses, evaluations, the error) stays on the page.
                    Some(Recovery { checkpoint: true }) => {
                        if let Some(w) = self.client() {
                            w.send(&Request::RestoreCheckpoint);
                        }
                    }
                    Some(Recovery { checkpoint: false }) => {
                        self.recovered("The model is loaded again.")
                    }
                    None => self.train.set(TrainState::default()),
                }
            }
            Response::CheckpointSaved {
                epoch,
                bytes,
                ms,
                error,
            } => self.train.update(|t| {
                t.checkpoint = Some(match error {
                    None => Ok(SavedCheckpoint { epoch, bytes, ms }),
                    Some(e) => Err(e),
                })
            }),
            Response::Restored { metadata } => match metadata {
                Some(metadata) => {
                    let epoch = metadata.best_epoch.unwrap_or(0);
                    self.finish_run(metadata.stop_reason, metadata);
                    self.recovered(&format!(
                        "The model is loaded again and the run's best checkpoint (epoch {epoch}) is \
                         the fine-tuned model: evaluate or export it."
                    ));
                }
                None => self.recovered(
                    "The model is loaded again; the run had saved no checkpoint yet (the worker \
                     stopped before the first epoch ended), so nothing of it is left.",
                ),
            },
            Response::Step {
                step,
                total,
                loss,
                elapsed_ms,
                eta_ms,
                pairs_per_s,
                memory_bytes,
                ..
            } => self.train.update(|t| {
                t.memory_bytes = memory_bytes;
                t.step = step;
                t.total = total;
                t.losses.push((step, loss));
                t.eta_ms = eta_ms;
                t.elapsed_ms = elapsed_ms;
                t.pairs_per_s = pairs_per_s;
            }),
            Response::Evaluated { metrics, .. } => self.train.update(|t| t.epochs.push(metrics)),
            Response::TrainNotes { notes } => self.train.update(|t| t.notes = notes),
            Response::TrainFinished {
                reason,
                metadata,
                memory_bytes,
            } => {
                self.train.update(|t| t.memory_bytes = memory_bytes);
                self.finish_run(reason, metadata)
            }
            Response::OutOfMemory { requested, memory } => {
                self.out_of_memory.set_value(Some((requested, memory)))
            }
            Response::Error { message, .. } => {
                if self.recovery.get_value().is_some() && !self.model_loading.get_untracked() {
                    self.recovered(&format!(
                        "The run's checkpoint could not be loaded: {message}"
                    ));
                } else if self.model_loading.get_untracked() {
                    self.model_loading.set(false);
                    self.model_status
                        .set(format!("Could not load the model: {message}"));
                    if self.recovery.get_value().is_some() {
                        self.recovered("The model could not be loaded again (see the Model step).");
                    }
                } else if self.train.with_untracked(|t| t.running) {
                    self.train.update(|t| {
                        t.running = false;
                        t.cancelling = false;
                        t.error = Some(message);
                    });
                } else {
                    self.worker_error.set(Some(message));
                }
            }
            // Answers to calls never reach here.
            Response::Embeddings { .. }
            | Response::Classified { .. }
            | Response::Similar { .. }
            | Response::Neighbours { .. }
            | Response::Backlog { .. }
            | Response::Exported { .. }
            | Response::Estimated { .. }
            | Response::Benched { .. }
            | Response::FileRead { .. }
            | Response::PairsGenerated { .. } => {}
        }
    }

    /// A run ended (or its checkpoint came back after a crash): its best checkpoint is the tuned
    /// model.
    fn finish_run(self, reason: StopReason, metadata: Box<TrainingMetadata>) {
        if let Some(base) = self.base.get_untracked() {
            self.tuned.set(Some(ModelState {
                name: format!("{} (fine-tuned)", base.name),
                info: metadata.base_model.info.clone(),
                load_ms: 0.0,
            }));
        }
        // A classifier of the previous tuned model no longer applies.
        self.classifier.set(None);
        self.train.update(|t| {
            t.running = false;
            t.cancelling = false;
            t.finished = Some(reason);
            t.metadata = Some(metadata);
        });
    }

    /// The model new work uses: the fine-tuned one when there is one.
    pub fn current_slot(self) -> Slot {
        if self.tuned.get_untracked().is_some() {
            Slot::Tuned
        } else {
            Slot::Base
        }
    }

    /// The models compared side by side: the base, then the fine-tuned one when there is one.
    pub fn compared_slots(self) -> Vec<(Slot, &'static str)> {
        let mut s = vec![(Slot::Base, Slot::Base.name())];
        if self.tuned.get_untracked().is_some() {
            s.push((Slot::Tuned, Slot::Tuned.name()));
        }
        s
    }

    /// The texts of every loaded incident (empty when no incidents are loaded).
    pub fn incident_texts(self) -> Vec<String> {
        self.files.with_untracked(|fs| {
            fs.iter()
                .filter_map(|f| match &*f.dataset {
                    Dataset::Incidents(l) => Some(l.records.iter().map(|i| i.text())),
                    _ => None,
                })
                .flatten()
                .collect()
        })
    }

    /// How many pairs [`Ctx::training_pairs`] would give, without copying them: the counts and
    /// "is there any" of the panels re-run on every label and file, and copying tens of thousands
    /// of pairs each time froze the page (issue 19).
    pub fn training_pair_count(self) -> usize {
        self.pair_count(
            |d| match d {
                Dataset::TrainingPairs(l) => l.records.len(),
                _ => 0,
            },
            |l| l.training_pair().is_some(),
        )
    }

    /// How many pairs [`Ctx::relationship_pairs`] would give, without copying them.
    pub fn relationship_pair_count(self) -> usize {
        self.pair_count(
            |d| match d {
                Dataset::RelationshipPairs(l) => l.records.len(),
                _ => 0,
            },
            |l| l.relationship_pair().is_some(),
        )
    }

    /// The files' records of one kind (`in_file`) plus the labels that are one (`is_one`).
    fn pair_count(
        self,
        in_file: impl Fn(&Dataset) -> usize,
        is_one: impl Fn(&Label) -> bool,
    ) -> usize {
        let files: usize = self
            .files
            .with(|fs| fs.iter().map(|f| in_file(&f.dataset)).sum());
        files
            + self
                .labels
                .with(|ls| ls.iter().filter(|l| is_one(l)).count())
    }

    /// Every training pair: the loaded training-pair files and the labels that say similar or
    /// different (or duplicate / none).
    pub fn training_pairs(self, exclude: Option<&str>) -> Vec<TrainPair> {
        let mut out: Vec<TrainPair> = self.files.with(|fs| {
            fs.iter()
                .filter(|f| Some(f.name.as_str()) != exclude)
                .filter_map(|f| match &*f.dataset {
                    Dataset::TrainingPairs(l) => Some(l.records.clone()),
                    _ => None,
                })
                .flatten()
                .collect()
        });
        out.extend(self.labels.with(|ls| {
            ls.iter()
                .filter_map(Label::training_pair)
                .collect::<Vec<_>>()
        }));
        out
    }

    /// Every relationship pair: the loaded relationship files and the labelled relationships.
    pub fn relationship_pairs(self) -> Vec<RelationshipPair> {
        let mut out: Vec<RelationshipPair> = self.files.with(|fs| {
            fs.iter()
                .filter_map(|f| match &*f.dataset {
                    Dataset::RelationshipPairs(l) => Some(l.records.clone()),
                    _ => None,
                })
                .flatten()
                .collect()
        });
        out.extend(self.labels.with(|ls| {
            ls.iter()
                .filter_map(Label::relationship_pair)
                .collect::<Vec<_>>()
        }));
        out
    }

    /// The progress of the running long request, as the Label and Backlog steps show it:
    /// "encoding with the base model: 2304 of 10000, about 3 min 10 s left" (the ETA from the
    /// stage's own rate, once it has run 2 s). Reactive in [`Ctx::progress`].
    pub fn progress_line(self) -> Option<String> {
        let (id, what, done, total) = self.progress.get()?;
        let eta = self
            .progress_since
            .with_value(|s| s.clone())
            .filter(|(i, w, ..)| *i == id && *w == what)
            .and_then(|(_, _, t0, done0)| {
                let ms = crate::web::now_ms() - t0;
                let rate = (done.saturating_sub(done0)) as f64 / ms;
                (ms >= 2000.0 && rate > 0.0 && done < total)
                    .then(|| duration((total - done) as f64 / rate))
            });
        Some(match eta {
            Some(left) => format!("{what}: {done} of {total}, about {left} left"),
            None => format!("{what}: {done} of {total}"),
        })
    }

    /// Ask the worker to stop the request whose progress is shown (its answer is then an error
    /// saying "cancelled"; what it encoded stays cached).
    pub fn stop_progress(self) {
        if let (Some((id, ..)), Some(w)) = (self.progress.get_untracked(), self.client()) {
            w.send(&Request::Stop { id });
        }
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new()
    }
}

impl ComputeState {
    /// "2 cores" / "1 core": what the panels say the work runs on.
    pub fn cores(&self) -> String {
        plural(self.threads.max(1), "core")
    }
}

/// "1 step" / "816 steps".
pub fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// "1 h 05 min" / "1 min 05 s" / "12 s".
pub fn duration(ms: f64) -> String {
    let s = (ms / 1000.0).round() as u64;
    if s >= 3600 {
        // Round to whole minutes first, so 1 h 59 min 40 s reads "2 h 00 min", not "1 h 60 min".
        let m = (s + 30) / 60;
        format!("{} h {:02} min", m / 60, m % 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}
