//! The messages between the web app's page and its Web Worker, as typed serde enums. The page
//! never computes with a model: loading, encoding, fine-tuning, evaluation and the classifier all
//! run in the worker, so the page stays responsive. Platform-independent so the round trips are
//! tested natively; in the browser they travel through `serde-wasm-bindgen` (byte buffers as
//! `Uint8Array`, not arrays of numbers).
//!
//! Imports: the types the messages carry — the training configuration and metadata, the classifier's
//! cross-validation results, the data layer's pairs and relationship records, the encoder's model
//! description, provenance and the benchmark's figures. No behaviour but [`ReadFile`]'s: a data
//! file read (or pairs generated) into the message that carries it, and back.

use serde::{Deserialize, Serialize};

use crate::bench::WorkloadFigures;
use crate::classify::cv::{CvConfig, CvReport};
use crate::data::pairs::TrainPair;
use crate::data::relationships::RelationshipPair;
use crate::encoder::ModelInfo;
use crate::provenance::DataRecord;
use crate::train::config::TrainConfig;
use crate::train::estimate::Estimate;
use crate::train::memory::{mib, Preflight};
use crate::train::metadata::TrainingMetadata;
use crate::train::metadata::{EpochMetrics, StopReason};

/// Which model a request is about: the one the user loaded, or the fine-tuned one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The loaded (base) model.
    Base,
    /// The best checkpoint of the last fine-tuning run.
    Tuned,
}

impl Slot {
    /// How the page and the reports name the model in the slot: "base" or "fine-tuned".
    pub fn name(self) -> &'static str {
        match self {
            Slot::Base => "base",
            Slot::Tuned => "fine-tuned",
        }
    }
}

/// Per ticket, its nearest others as `(index, cosine)`, best first ([`Response::Neighbours`]).
pub type NeighbourRows = Vec<Vec<(u32, f32)>>;

/// A file as `(path, bytes)`; the bytes cross as a `Uint8Array`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireFile {
    /// Path inside the model folder (`config.json`, `1_Pooling/config.json`, …).
    pub path: String,
    /// Contents.
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// A data file read in a worker ([`Request::answer_data`]): the files of
/// [`Response::PairsGenerated`] cross to the page whole; a dropped file's [`Response::FileRead`]
/// carries only the dataset (the page has the bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadFile {
    /// The file's name.
    pub name: String,
    /// Its contents (the page keeps them in IndexedDB, so a reload reads the file again).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// What it was read as: the [`crate::data::detect::Dataset`] as JSON. As one byte buffer it
    /// crosses as a copy of memory; as a JS object tree it would cost the page a walk over every
    /// record, as much as parsing the file again.
    #[serde(with = "serde_bytes")]
    pub dataset: Vec<u8>,
}

impl ReadFile {
    /// Read `bytes` as file `name` of whichever kind it is
    /// ([`crate::data::detect::detect_and_load`]).
    pub fn read(name: String, bytes: Vec<u8>) -> crate::error::Result<Self> {
        let dataset = crate::data::detect::detect_and_load(&bytes, &name)?;
        let dataset = serde_json::to_vec(&dataset).map_err(|e| {
            crate::error::Error::Invalid(format!("{name}: cannot serialise what was read: {e}"))
        })?;
        Ok(ReadFile {
            name,
            bytes,
            dataset,
        })
    }

    /// Read incident export `name` and generate its four pair files with the default settings
    /// ([`crate::data::generate::pair_files`]), each read as [`ReadFile::read`] reads a dropped
    /// file (so a reload, which reads them from storage, gets the same); named `{prefix} → {file}`.
    /// Also returns the generator's notes, and why a file is missing when one could not be read
    /// (a side with no pairs: a handful of incidents can leave the eval side empty).
    pub fn generate_pairs(
        name: &str,
        bytes: &[u8],
        prefix: &str,
    ) -> crate::error::Result<(Vec<Self>, Vec<String>)> {
        use crate::data::detect::{detect_and_load, Dataset};
        use crate::data::generate::{generate_pairs, pair_files, PairGenConfig};
        let Dataset::Incidents(loaded) = detect_and_load(bytes, name)? else {
            return Err(crate::error::Error::Invalid(format!(
                "{name}: pairs are generated from an incident export, and this file is not one"
            )));
        };
        let generated = generate_pairs(&loaded.records, &PairGenConfig::default())?;
        let mut notes = generated.notes.clone();
        let mut files = Vec::new();
        for (file, value) in pair_files(&generated) {
            let bytes = serde_json::to_vec_pretty(&value).map_err(|e| {
                crate::error::Error::Invalid(format!("{file}: cannot serialise: {e}"))
            })?;
            match Self::read(format!("{prefix} → {file}"), bytes) {
                Ok(f) => files.push(f),
                Err(e) => notes.push(e.to_string()),
            }
        }
        Ok((files, notes))
    }

    /// The [`crate::data::detect::Dataset`] it was read as.
    pub fn decode(&self) -> crate::error::Result<crate::data::detect::Dataset> {
        serde_json::from_slice(&self.dataset).map_err(|e| {
            crate::error::Error::Invalid(format!(
                "{}: what the worker read is unreadable: {e}",
                self.name
            ))
        })
    }
}

/// Most threads the worker's pool gets: the page's default is the browser's core count up to this.
/// Beyond it the shards of a batch and the encode batches are too few to keep more threads busy,
/// and each thread holds its own activations.
pub const MAX_THREADS: usize = 16;

impl Request {
    /// The answer to a data request ([`Request::ReadFile`], [`Request::GeneratePairs`]), computed
    /// on this thread, a failure as [`Response::Error`]; `None` for any other request. The reader
    /// worker answers with it, and the page too where no worker can start: one way to read a file.
    pub fn answer_data(self) -> Option<Response> {
        let (id, answer) = match self {
            Request::ReadFile { id, name, bytes } => (
                id,
                ReadFile::read(name, bytes).map(|f| Response::FileRead {
                    id,
                    dataset: f.dataset,
                }),
            ),
            Request::GeneratePairs {
                id,
                name,
                bytes,
                prefix,
            } => (
                id,
                ReadFile::generate_pairs(&name, &bytes, &prefix)
                    .map(|(files, notes)| Response::PairsGenerated { id, files, notes }),
            ),
            _ => return None,
        };
        Some(answer.unwrap_or_else(|e| Response::Error {
            id: Some(id),
            message: e.to_string(),
        }))
    }
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Load a sentence-transformers folder into the base slot (clears the tuned model).
    LoadModel {
        /// Shown in messages and recorded in the metadata (e.g. `all-MiniLM-L6-v2`).
        name: String,
        /// The folder's files.
        files: Vec<WireFile>,
    },
    /// Embed texts with one of the models; answered by [`Response::Embeddings`] with the same id.
    Encode {
        /// Matches the answer to the question.
        id: u64,
        /// Which model.
        slot: Slot,
        /// The texts.
        texts: Vec<String>,
    },
    /// Fine-tune a copy of the base model; progress comes as [`Response::Step`] and
    /// [`Response::Evaluated`], the end as [`Response::TrainFinished`].
    Train {
        /// Training pairs.
        train: Vec<TrainPair>,
        /// Pairs evaluated before training and after each epoch (the best checkpoint is kept).
        eval: Vec<TrainPair>,
        /// Hyper-parameters.
        config: TrainConfig,
        /// The data files, for `training_metadata.json`.
        data: Vec<DataRecord>,
    },
    /// Stop the running fine-tuning after the current step; the best checkpoint so far is kept.
    Cancel,
    /// Stop the long request `id` (the labelling queue's [`Request::Neighbours`], a
    /// [`Request::Backlog`]) at its next chunk; it is answered with an error saying "cancelled".
    /// What it encoded so far stays cached.
    Stop {
        /// The request to stop.
        id: u64,
    },
    /// Forget every cached embedding, in memory and in the browser's storage (the page's incident
    /// file was removed or replaced).
    ClearEmbeddings,
    /// Cross-validate and fit the relationship classifier on one model's embeddings.
    Classify {
        /// Matches the answer.
        id: u64,
        /// Which model's embeddings.
        slot: Slot,
        /// Labelled pairs.
        pairs: Vec<RelationshipPair>,
        /// Folds, repeats, head settings.
        config: CvConfig,
        /// The data files, for the classifier's record.
        data: Vec<DataRecord>,
    },
    /// Rank `candidates` by cosine similarity to `query` with one model; answered by
    /// [`Response::Similar`]. With a classifier trained on that model, each hit also gets its
    /// predicted relationship (query as ticket a).
    FindSimilar {
        /// Matches the answer.
        id: u64,
        /// Which model.
        slot: Slot,
        /// The ticket to match.
        query: String,
        /// The tickets to search.
        candidates: Vec<String>,
        /// How many hits.
        k: usize,
    },
    /// Each of `texts`' `k` nearest others under one model (the labelling queue), with progress
    /// while it encodes and searches; answered by [`Response::Neighbours`]. The search is
    /// [`crate::eval::neighbours::within`]: blocked, O(n·k) memory, off the page's thread.
    Neighbours {
        /// Matches the answer.
        id: u64,
        /// Which model.
        slot: Slot,
        /// The tickets.
        texts: Vec<String>,
        /// Neighbours per ticket.
        k: usize,
    },
    /// Analyse an incident file with the base model and, when there is one, the fine-tuned one:
    /// retrieval on its links, duplicate groups and the map ([`crate::eval::backlog::analyse`]);
    /// answered by [`Response::Backlog`].
    Backlog {
        /// Matches the answer.
        id: u64,
        /// The incidents, as loaded.
        incidents: Vec<crate::data::incidents::Incident>,
        /// Texts trained on (training pairs, labels): queries that contain them are not measured.
        trained: Vec<String>,
        /// Cosine threshold of the groups.
        threshold: f32,
    },
    /// The tuned model (or the base one when nothing was trained) as a sentence-transformers folder
    /// with `training_metadata.json` and `relationship_classifier/`, zipped.
    Export {
        /// Matches the answer.
        id: u64,
    },
    /// Run encoding and training on `threads` threads from now on (the threaded build; the
    /// single-threaded one stays at one); answered by [`Response::Threads`]. Refused while a
    /// fine-tuning run is going.
    SetThreads {
        /// Threads wanted (the page's core setting).
        threads: usize,
    },
    /// Measure how long a [`Request::Train`] with these pairs and this recipe would take on this
    /// machine (a few steps on a copy of the base model, [`crate::train::estimate`]); answered by
    /// [`Response::Estimated`].
    Estimate {
        /// Matches the answer.
        id: u64,
        /// Training pairs, as Train would get them.
        train: Vec<TrainPair>,
        /// Eval pairs, as Train would get them.
        eval: Vec<TrainPair>,
        /// The recipe.
        config: TrainConfig,
    },
    /// Load the best checkpoint the last run saved in this browser ([`Response::CheckpointSaved`])
    /// into the tuned slot, on top of the base model loaded now: after a worker stopped in the
    /// middle of a run, the page starts a fresh one, loads the base model again and sends this.
    /// Answered by [`Response::Restored`]. Refused when the checkpoint was trained from another base
    /// model.
    RestoreCheckpoint,
    /// Run out of memory on purpose (allocate until an allocation fails, then trap as every
    /// allocation failure does): in a thread of the threaded build's pool when `pool` (the worker
    /// is then left waiting for its job), else in the worker itself. The browser
    /// tests use it to check that the page recovers; no control of the page sends it.
    Crash {
        /// Trap in a pool thread rather than in the worker.
        pool: bool,
    },
    /// Read a data file of any kind ([`crate::data::detect::detect_and_load`]); answered by
    /// [`Response::FileRead`]. The page sends every file it is given here, to a worker of its own
    /// (no model loaded, not blocked by a training step): parsing a 10,000-incident export took
    /// 350 ms of the page's thread.
    ReadFile {
        /// Matches the answer.
        id: u64,
        /// The file's name, for the messages that name it.
        name: String,
        /// Its contents.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// Read an incident export and generate the four pair files from it
    /// ([`crate::data::generate::pair_files`]); answered by [`Response::PairsGenerated`].
    GeneratePairs {
        /// Matches the answer.
        id: u64,
        /// The export's name, for the messages that name it.
        name: String,
        /// Its contents.
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
        /// What the generated files' names start with (`{prefix} → training_pairs.json`, …).
        prefix: String,
    },
    /// Measure this machine on the browser-vs-native workload ([`crate::bench`]) with the base
    /// model; answered by [`Response::Benched`]. `make bench-web` sends it.
    Bench {
        /// Matches the answer.
        id: u64,
        /// STS-B's `sts-test.csv` (the sentences encoded).
        #[serde(with = "serde_bytes")]
        sts_test: Vec<u8>,
        /// STS-B's `sts-train.csv` (the pairs trained on).
        #[serde(with = "serde_bytes")]
        sts_train: Vec<u8>,
    },
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The worker's module is running.
    Ready,
    /// A model is loaded.
    ModelLoaded {
        /// Which slot.
        slot: Slot,
        /// Name as given.
        name: String,
        /// Architecture and size.
        info: ModelInfo,
        /// Milliseconds to parse and load it.
        load_ms: f64,
    },
    /// Answer to [`Request::Encode`].
    Embeddings {
        /// The request's id.
        id: u64,
        /// One vector per text.
        vectors: Vec<Vec<f32>>,
        /// Milliseconds spent encoding.
        ms: f64,
        /// Texts the model actually encoded in those milliseconds: the others were repeats or came
        /// from the worker's embedding cache, so a throughput is `encoded / ms`, not `vectors / ms`.
        encoded: usize,
    },
    /// One optimiser step done.
    Step {
        /// Steps done.
        step: usize,
        /// Steps in the whole run.
        total: usize,
        /// Epoch of this step (0-based).
        epoch: usize,
        /// Batch loss.
        loss: f64,
        /// Learning rate used.
        lr: f64,
        /// Milliseconds since training started (evaluations included).
        elapsed_ms: f64,
        /// Estimated milliseconds left (steps and the evaluations still to come).
        eta_ms: f64,
        /// Training pairs per second over the steps so far (evaluations excluded).
        pairs_per_s: f64,
        /// Bytes of the worker's wasm memory now: it never shrinks, so this is the run's peak so
        /// far (with whatever the worker held before it).
        memory_bytes: u64,
    },
    /// What the run's recipe could not use (an objective with too few rows, pairs without kinds),
    /// sent once before the first step when there is anything to say.
    TrainNotes {
        /// One line each.
        notes: Vec<String>,
    },
    /// An evaluation (the base model first, then after each epoch).
    Evaluated {
        /// The figures.
        metrics: EpochMetrics,
        /// Best so far: this checkpoint is the one kept.
        improved: bool,
    },
    /// Fine-tuning ended; the best checkpoint is now in the tuned slot.
    TrainFinished {
        /// Why it ended.
        reason: StopReason,
        /// What `training_metadata.json` will say.
        metadata: Box<TrainingMetadata>,
        /// Bytes of the worker's wasm memory at the end: the run's peak.
        memory_bytes: u64,
    },
    /// An allocation failed in the worker (its memory could not grow): sent by the allocator
    /// itself (`src/web.rs` `ReportingAllocator`) just before the worker traps, so the page can say
    /// the worker ran out of memory instead of "unreachable" ([`out_of_memory_message`]).
    OutOfMemory {
        /// Bytes the failed allocation asked for.
        requested: f64,
        /// Bytes of wasm memory the worker had then.
        memory: f64,
    },
    /// A run's new best checkpoint was written to the browser's storage (IndexedDB), so that it
    /// survives the worker: sent after each evaluation that improved on the best, from the first
    /// epoch on (the base model needs no saving).
    CheckpointSaved {
        /// The epoch it is the model of.
        epoch: usize,
        /// Bytes written (its model.safetensors).
        bytes: u64,
        /// Milliseconds the write took.
        ms: f64,
        /// Why it could not be saved, when it could not (the run goes on; only a crash would lose
        /// it).
        error: Option<String>,
    },
    /// Answer to [`Request::RestoreCheckpoint`]: the metadata of the run whose best checkpoint is
    /// now the tuned model (its stop reason [`StopReason::Crashed`]), or `None` when the run had not
    /// saved one.
    Restored {
        /// The run, as `training_metadata.json` will say.
        metadata: Option<Box<TrainingMetadata>>,
    },
    /// Answer to [`Request::Classify`].
    Classified {
        /// The request's id.
        id: u64,
        /// The k-fold report (and holdout).
        report: Box<CvReport>,
        /// Regularisation chosen for the final classifier.
        c: f64,
    },
    /// Answer to [`Request::FindSimilar`], best first.
    Similar {
        /// The request's id.
        id: u64,
        /// The hits.
        hits: Vec<SimilarHit>,
        /// Milliseconds spent.
        ms: f64,
    },
    /// Answer to [`Request::Neighbours`].
    Neighbours {
        /// The request's id.
        id: u64,
        /// Per text: `(index into texts, cosine)`, best first.
        rows: NeighbourRows,
        /// Texts the model encoded (the rest came from the embedding cache).
        encoded: usize,
        /// Milliseconds spent.
        ms: f64,
    },
    /// How far a long request has got (sent while [`Request::Backlog`] and
    /// [`Request::Neighbours`] encode, search and group).
    Progress {
        /// The request's id.
        id: u64,
        /// What is being done, e.g. "encoding with the base model".
        what: String,
        /// Items done.
        done: usize,
        /// Items in all.
        total: usize,
    },
    /// Answer to [`Request::Backlog`].
    Backlog {
        /// The request's id.
        id: u64,
        /// Retrieval, groups and maps.
        analysis: Box<crate::eval::backlog::BacklogAnalysis>,
        /// Milliseconds spent (encoding included).
        ms: f64,
    },
    /// Answer to [`Request::Export`].
    Exported {
        /// The request's id.
        id: u64,
        /// The zip archive.
        #[serde(with = "serde_bytes")]
        zip: Vec<u8>,
        /// Its entries.
        files: Vec<String>,
    },
    /// Answer to [`Request::ReadFile`]: what the file was read as (the page has its bytes).
    FileRead {
        /// The request's id.
        id: u64,
        /// A [`crate::data::detect::Dataset`], as JSON ([`ReadFile::dataset`]).
        #[serde(with = "serde_bytes")]
        dataset: Vec<u8>,
    },
    /// Answer to [`Request::GeneratePairs`].
    PairsGenerated {
        /// The request's id.
        id: u64,
        /// The files, in [`crate::data::generate::PAIR_FILES`] order.
        files: Vec<ReadFile>,
        /// What could not be generated and why.
        notes: Vec<String>,
    },
    /// Answer to [`Request::SetThreads`] (and sent once at start): what the worker runs on now.
    Threads {
        /// Threads encoding and training use.
        threads: usize,
        /// Whether this is the threaded build (shared memory); the single-threaded one is used
        /// where the page is not cross-origin isolated.
        threaded: bool,
    },
    /// Answer to [`Request::Estimate`].
    Estimated {
        /// The request's id.
        id: u64,
        /// The run's peak memory against what the worker may use, and what would fit when it
        /// does not.
        memory: Preflight,
        /// The run's measured cost; `None` when it does not fit (nothing is measured then).
        estimate: Option<Estimate>,
    },
    /// Answer to [`Request::Bench`].
    Benched {
        /// The request's id.
        id: u64,
        /// What was measured.
        figures: WorkloadFigures,
        /// Bytes of the worker's wasm memory after the workload. A wasm memory never shrinks, so
        /// this is the peak; in the threaded build all threads share it, so it is the total.
        wasm_memory_bytes: u64,
    },
    /// A request failed (`id` when it had one); the message names file, record and field where the
    /// data is at fault.
    Error {
        /// The failed request's id.
        id: Option<u64>,
        /// What went wrong.
        message: String,
    },
}

/// One hit of [`Request::FindSimilar`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarHit {
    /// Index into the candidates.
    pub index: usize,
    /// Cosine similarity.
    pub score: f32,
    /// Predicted relationship, when a classifier for the model exists.
    pub relation: Option<String>,
    /// Its probability.
    pub probability: Option<f64>,
}

/// What the page says when the worker stopped after `failure` (an [`Response::OutOfMemory`]:
/// bytes asked for, bytes the worker had): that it ran out of memory, with the sizes, what most
/// likely held it, and what to change.
pub fn out_of_memory_message(requested: f64, memory: f64) -> String {
    format!(
        "The worker ran out of memory: allocating {} failed with {} of WebAssembly memory in use \
         (a browser gives a worker at most 4 GiB). A fine-tuning run holds the model twice, AdamW's \
         two moments, gradients and activations: use fewer cores, a shorter max_seq_length or a \
         smaller model, or run it with the ticketsim command line",
        mib(requested.max(0.0) as u64),
        mib(memory.max(0.0) as u64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_a_worker_is_what_the_page_would_have_read() {
        use crate::data::detect::{detect_and_load, Dataset};
        // One incident without text: the skipped-record report crosses too.
        let csv = b"number,short_description,description,category\nINC1,VPN down,,Network\n\
                    INC2,,,Network\nINC3,Printer jam,paper stuck,Hardware\n";
        let file = ReadFile::read("incidents.csv".into(), csv.to_vec()).unwrap();
        assert_eq!(file.bytes, csv);
        let ask = Request::ReadFile {
            id: 3,
            name: "incidents.csv".into(),
            bytes: csv.to_vec(),
        };
        let answer = ask.answer_data().unwrap();
        assert_eq!(
            answer,
            Response::FileRead {
                id: 3,
                dataset: file.dataset.clone()
            }
        );
        let j = serde_json::to_string(&answer).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&j).unwrap(), answer);
        let read = file.decode().unwrap();
        let here = detect_and_load(csv, "incidents.csv").unwrap();
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(&here).unwrap()
        );
        let Dataset::Incidents(l) = read else {
            panic!("read as {:?}", read.kind())
        };
        assert_eq!((l.records.len(), l.report.skipped_total()), (2, 1));

        let bad = ReadFile::read("notes.txt".into(), b"\x00\x01".to_vec()).unwrap_err();
        assert!(bad.to_string().contains("notes.txt"), "{bad}");
        // Answered as the worker answers a failed request: an error with the request's id.
        let refused = Request::ReadFile {
            id: 4,
            name: "notes.txt".into(),
            bytes: b"\x00\x01".to_vec(),
        }
        .answer_data();
        assert_eq!(
            refused,
            Some(Response::Error {
                id: Some(4),
                message: bad.to_string()
            })
        );
        assert_eq!(Request::Cancel.answer_data(), None, "not a data request");
    }

    #[test]
    fn pairs_generated_in_a_worker_are_the_four_files_a_reload_reads_back() {
        use crate::data::detect::{detect_and_load, DataKind};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let export = std::fs::read(root.join("incidents.csv")).unwrap();
        let (files, _notes) =
            ReadFile::generate_pairs("incidents.csv", &export, "incidents").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            crate::data::generate::PAIR_FILES
                .map(|f| format!("incidents → {f}"))
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        let kinds = [
            DataKind::TrainingPairs,
            DataKind::TrainingPairs,
            DataKind::RelationshipPairs,
            DataKind::RelationshipPairs,
        ];
        for (f, kind) in files.iter().zip(kinds) {
            let read = f.decode().unwrap();
            assert_eq!(read.kind(), kind, "{}", f.name);
            assert!(read.report().kept > 0, "{}", f.name);
            let reloaded = detect_and_load(&f.bytes, &f.name).unwrap();
            assert_eq!(
                serde_json::to_value(&read).unwrap(),
                serde_json::to_value(&reloaded).unwrap(),
                "{}",
                f.name
            );
        }
        // Three incidents: no eval side, so that file is missing and a note says why.
        let few = b"number,short_description,duplicate_of\nA,VPN drops,\nB,VPN keeps dropping,A\nC,Printer offline,\n";
        let (files, notes) = ReadFile::generate_pairs("few.csv", few, "few").unwrap();
        assert!(
            files.iter().any(|f| f.name == "few → training_pairs.json"),
            "{notes:?}"
        );
        assert!(
            files.len() < 4 && notes.iter().any(|n| n.starts_with("few → ")),
            "{notes:?}"
        );
        let pairs = std::fs::read(root.join("training_pairs.json")).unwrap();
        let refused = ReadFile::generate_pairs("training_pairs.json", &pairs, "x").unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("training_pairs.json: pairs are generated from an incident export"),
            "{refused}"
        );
    }

    #[test]
    fn requests_and_responses_round_trip_as_json() {
        let reqs = vec![
            Request::LoadModel {
                name: "m".into(),
                files: vec![WireFile {
                    path: "config.json".into(),
                    bytes: b"{}".to_vec(),
                }],
            },
            Request::Encode {
                id: 7,
                slot: Slot::Tuned,
                texts: vec!["vpn down".into()],
            },
            Request::Cancel,
            Request::Stop { id: 4 },
            Request::ClearEmbeddings,
            Request::Export { id: 3 },
        ];
        for r in reqs {
            let j = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Request>(&j).unwrap(), r, "{j}");
        }
        let j = serde_json::to_string(&Request::Cancel).unwrap();
        assert_eq!(j, r#"{"type":"cancel"}"#);
        let resp = Response::Error {
            id: Some(1),
            message: "x".into(),
        };
        let j = serde_json::to_string(&resp).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&j).unwrap(), resp);
    }

    /// The allocator builds its report by hand (serde would allocate): the page must read that
    /// shape as [`Response::OutOfMemory`], and say memory with the sizes.
    #[test]
    fn an_allocation_failure_report_reads_as_out_of_memory() {
        let hand_built = r#"{"type":"out_of_memory","requested":536870912,"memory":3758096384}"#;
        let r: Response = serde_json::from_str(hand_built).unwrap();
        let Response::OutOfMemory { requested, memory } = r else {
            panic!("{r:?}")
        };
        let m = out_of_memory_message(requested, memory);
        assert!(
            m.starts_with("The worker ran out of memory: allocating 512 MiB failed with 3.50 GiB"),
            "{m}"
        );
        assert!(m.contains("shorter max_seq_length"), "{m}");
    }
}
