//! The web app's Web Worker: every computation with a model — loading, encoding, fine-tuning with
//! evaluation and best-checkpoint keeping, the relationship classifier, the export — runs here so
//! the page stays responsive. Requests and answers are [`crate::protocol`] enums.
//!
//! Fine-tuning yields to the event loop after every step, so a `Cancel` (or an `Encode` of the
//! base model for the demo) is handled between two steps; the run then ends with the best
//! checkpoint so far, exactly like Ctrl-C in the CLI.
//!
//! Imports: the protocol, the training session, the classifier, the data layer, the encoder, the
//! export archive, provenance and the browser edge — it is the browser's counterpart of the CLI.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use candle_core::Device;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::classify::artifact::{self, ClassifierArtifact};
use crate::classify::cv::cross_validate;
use crate::classify::PairEmbeddings;
use crate::data::pairs::TrainPair;
use crate::encoder::{ModelFiles, SentenceEncoder};
use crate::error::{Error, Result};
use crate::protocol::{Request, Response, Slot, WireFile, MAX_THREADS};
use crate::provenance::{sha256_hex, DataRecord};
use crate::train::config::TrainConfig;
use crate::train::memory::{self, Preflight};
use crate::train::metadata::{BaseModel, StopReason, TrainingMetadata};
use crate::train::session::{Event, Host, RunInfo, Session};
use crate::web::now_ms;

/// A loaded model and what the export and the metadata need to know of it. Its files are not
/// kept: [`SentenceEncoder::to_files`] writes them again when the export, a copy or an estimate
/// needs them (all-mpnet-base-v2's weights are 438 MB of a 4 GiB address space; see
/// [`crate::train::memory`]).
struct Loaded {
    name: String,
    encoder: Rc<SentenceEncoder>,
    /// sha256 of its model.safetensors.
    sha256: String,
}

impl Loaded {
    /// A separate copy of this model, truncating at `max_seq_length` (what a run trains).
    fn copy(&self, max_seq_length: usize) -> Result<SentenceEncoder> {
        let files = self.encoder.to_files()?;
        let mut enc =
            SentenceEncoder::load(&ModelFiles::from_named(&files, &self.name)?, &Device::Cpu)?;
        drop(files);
        enc.set_max_seq_length(max_seq_length)?;
        Ok(enc)
    }
}

#[derive(Default)]
struct State {
    base: Option<Rc<Loaded>>,
    tuned: Option<Rc<Loaded>>,
    /// Set while a fine-tuning run is going; `Cancel` sets the flag inside.
    cancel: Option<Rc<Cell<bool>>>,
    /// The base model is in IndexedDB for the run going on, not in memory ([`set_base_aside`]).
    base_aside: bool,
    metadata: Option<TrainingMetadata>,
    /// The classifier and the slot whose embeddings it was trained on.
    classifier: Option<(Slot, ClassifierArtifact, crate::classify::cv::CvReport)>,
    /// Embeddings already computed, per model: the demo and the labelling queue ask for the same
    /// texts again and again. Cleared whenever the slot's model changes.
    cache: std::collections::HashMap<(Slot, String), Vec<f32>>,
    /// The long requests going (the labelling queue, find similar, the backlog), each with
    /// whether the page asked it to stop ([`Request::Stop`]); each checks between chunks. A Stop
    /// for a request that has already finished is ignored, so nothing stays here.
    long: std::collections::HashMap<u64, bool>,
    /// The thread pool's Web Workers (threaded build).
    #[cfg(target_feature = "atomics")]
    pool: Vec<web_sys::Worker>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(r: &Response) {
    match serde_wasm_bindgen::to_value(r) {
        Ok(v) => {
            if let Err(e) = scope().post_message(&v) {
                web_sys::console::error_2(&"worker: postMessage failed".into(), &e);
            }
        }
        Err(e) => web_sys::console::error_1(&format!("worker: cannot serialise: {e}").into()),
    }
}

fn fail(id: Option<u64>, e: impl std::fmt::Display) {
    post(&Response::Error {
        id,
        message: e.to_string(),
    });
}

/// Start the worker: answer messages, and say it is ready.
pub fn main() {
    console_error_panic_hook::set_once();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        match serde_wasm_bindgen::from_value::<Request>(ev.data()) {
            Ok(req) => handle(req),
            Err(e) => fail(None, format!("worker: bad request: {e}")),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Response::Ready);
}

fn handle(req: Request) {
    match req {
        Request::LoadModel { name, files } => {
            // The run trains a copy of the base model and compares with it: swapping the base
            // under it would mix two models in one report.
            if STATE.with(|s| s.borrow().cancel.is_some()) {
                fail(
                    None,
                    "a fine-tuning run is going: cancel it or let it finish before loading another model",
                );
                return;
            }
            if let Err(e) = load_model(name, files) {
                fail(None, e);
            }
        }
        Request::Encode { id, slot, texts } => match encode(slot, &texts) {
            Ok(r) => post(&r(id)),
            Err(e) => fail(Some(id), e),
        },
        Request::Train {
            train,
            eval,
            config,
            data,
        } => {
            let busy = STATE.with(|s| s.borrow().cancel.is_some());
            if busy {
                fail(None, "a fine-tuning run is already going");
                return;
            }
            // Refused before anything is dropped or allocated when it cannot fit (the page refuses
            // it first; this guards a page that did not ask).
            let set_aside = match preflight(&train, &config) {
                Ok(p) if p.budget.fits() => p.set_aside_base,
                Ok(p) => {
                    let why = p.refusal().unwrap_or_else(|| match p.smaller_shards {
                        Some((m, _)) => format!(
                            "this run does not fit in the worker's memory with shard memory {} \
                             MiB: set it to {m} MiB or less",
                            config.shard_memory_mib
                        ),
                        None => "this run does not fit in the worker's memory".into(),
                    });
                    fail(None, why);
                    return;
                }
                Err(e) => {
                    fail(None, e);
                    return;
                }
            };
            let cancel = Rc::new(Cell::new(false));
            STATE.with(|s| s.borrow_mut().cancel = Some(cancel.clone()));
            spawn_local(async move {
                if let Err(e) = fine_tune(train, eval, config, data, cancel, set_aside).await {
                    fail(None, e);
                }
                STATE.with(|s| s.borrow_mut().cancel = None);
            });
        }
        Request::Cancel => STATE.with(|s| {
            if let Some(c) = &s.borrow().cancel {
                c.set(true);
            }
        }),
        Request::Classify {
            id,
            slot,
            pairs,
            config,
            data,
        } => match classify(slot, &pairs, &config, data) {
            Ok(r) => post(&Response::Classified {
                id,
                c: r.0,
                report: Box::new(r.1),
            }),
            Err(e) => fail(Some(id), e),
        },
        // The requests over all tickets run as tasks that yield between chunks: the worker
        // keeps answering (a Stop, the demo) while one encodes 10,000 tickets.
        Request::FindSimilar {
            id,
            slot,
            query,
            candidates,
            k,
        } => long(id, async move {
            let t0 = now_ms();
            let hits = find_similar(id, slot, &query, &candidates, k).await?;
            Ok(Response::Similar {
                id,
                hits,
                ms: now_ms() - t0,
            })
        }),
        Request::Neighbours { id, slot, texts, k } => long(id, async move {
            let t0 = now_ms();
            let (rows, encoded) = neighbours(id, slot, &texts, k).await?;
            Ok(Response::Neighbours {
                id,
                rows,
                encoded,
                ms: now_ms() - t0,
            })
        }),
        Request::Backlog {
            id,
            incidents,
            trained,
            threshold,
        } => long(id, async move {
            let t0 = now_ms();
            let analysis = backlog(id, &incidents, &trained, threshold).await?;
            Ok(Response::Backlog {
                id,
                analysis: Box::new(analysis),
                ms: now_ms() - t0,
            })
        }),
        req @ (Request::ReadFile { .. } | Request::GeneratePairs { .. }) => {
            if let Some(answer) = req.answer_data() {
                post(&answer);
            }
        }
        Request::Stop { id } => STATE.with(|s| {
            if let Some(stop) = s.borrow_mut().long.get_mut(&id) {
                *stop = true;
            }
        }),
        Request::ClearEmbeddings => {
            STATE.with(|s| s.borrow_mut().cache.clear());
            spawn_local(async {
                if let Err(e) = crate::web::clear_vectors().await {
                    fail(None, e);
                }
            });
        }
        Request::Export { id } => match export() {
            Ok((zip, files)) => post(&Response::Exported { id, zip, files }),
            Err(e) => fail(Some(id), e),
        },
        Request::SetThreads { threads } => {
            if STATE.with(|s| s.borrow().cancel.is_some()) {
                fail(
                    None,
                    "a fine-tuning run is going: change the cores after it",
                );
                return;
            }
            spawn_local(async move {
                match set_threads(threads).await {
                    Ok(threads) => post(&Response::Threads {
                        threads,
                        threaded: crate::web::THREADED,
                    }),
                    Err(e) => fail(None, e),
                }
            });
        }
        Request::Estimate {
            id,
            train,
            eval,
            config,
        } => {
            if STATE.with(|s| s.borrow().cancel.is_some()) {
                fail(Some(id), "a fine-tuning run is going");
                return;
            }
            // The memory first: a run that cannot fit is not measured (measuring would run its
            // steps, and fail the way the run would).
            let answer = preflight(&train, &config).and_then(|memory| {
                // Measuring trains a copy beside the base model: not when only the run without
                // the base model fits.
                let estimate = match memory.budget.fits() && !memory.set_aside_base {
                    true => Some(estimate(&train, &eval, &config)?),
                    false => None,
                };
                Ok(Response::Estimated {
                    id,
                    memory,
                    estimate,
                })
            });
            match answer {
                Ok(r) => post(&r),
                Err(e) => fail(Some(id), e),
            }
        }
        Request::RestoreCheckpoint => {
            if STATE.with(|s| s.borrow().cancel.is_some()) {
                fail(None, "a fine-tuning run is going");
                return;
            }
            spawn_local(async {
                match restore_checkpoint().await {
                    Ok(metadata) => post(&Response::Restored {
                        metadata: metadata.map(Box::new),
                    }),
                    Err(e) => fail(None, e),
                }
            });
        }
        Request::Crash { pool } => crash(pool),
        Request::Bench {
            id,
            sts_test,
            sts_train,
        } => match bench(&sts_test, &sts_train) {
            Ok(figures) => post(&Response::Benched {
                id,
                figures,
                wasm_memory_bytes: crate::web::memory_bytes(),
            }),
            Err(e) => fail(Some(id), e),
        },
    }
}

/// Run on `threads` threads (at most [`MAX_THREADS`]); the single-threaded build stays at one.
async fn set_threads(threads: usize) -> Result<usize> {
    let threads = threads.clamp(1, MAX_THREADS);
    #[cfg(target_feature = "atomics")]
    {
        // The old pool's workers return from their loop once it is dropped (start_pool clears it)
        // and close themselves; terminating them here could kill one in the middle of a job.
        let workers = crate::web::start_pool(threads, "./pool_worker.js").await?;
        STATE.with(|s| s.borrow_mut().pool = workers);
        Ok(threads)
    }
    #[cfg(not(target_feature = "atomics"))]
    {
        let _ = threads;
        Ok(1)
    }
}

/// The peak memory a run of these pairs with this recipe needs here, on this worker's threads,
/// holding the base model and the copy it trains ([`crate::train::memory`]), against what this
/// worker may use.
fn preflight(train: &[TrainPair], config: &TrainConfig) -> Result<Preflight> {
    let m = model(Slot::Base)?;
    crate::train::config::validate_pairs(train, config, "training pairs")?;
    let (objectives, _) = config.objectives(train, "training pairs")?;
    let limit = (memory::WASM_MEMORY as f64 * memory::WASM_PLANNED_SHARE) as u64;
    Preflight::plan(
        &m.encoder,
        &objectives,
        config,
        crate::parallel::data_threads(),
        2,
        limit,
    )
}

/// What a run of these pairs with this recipe would cost here, measured on a copy of the base model.
fn estimate(
    train: &[TrainPair],
    eval: &[TrainPair],
    config: &TrainConfig,
) -> Result<crate::train::estimate::Estimate> {
    let m = model(Slot::Base)?;
    let files = ModelFiles::from_named(&m.encoder.to_files()?, &m.name)?;
    crate::train::estimate::calibrate(&files, train, eval, config, "training pairs", || {
        now_ms() / 1000.0
    })
}

/// The browser-vs-native workload on the base model (see [`crate::bench`]).
fn bench(sts_test: &[u8], sts_train: &[u8]) -> Result<crate::bench::WorkloadFigures> {
    let (sentences, pairs) = crate::bench::inputs(sts_test, sts_train)?;
    let m = model(Slot::Base)?;
    let files = ModelFiles::from_named(&m.encoder.to_files()?, &m.name)?;
    crate::bench::run(&files, &sentences, &pairs, &Device::Cpu, now_ms)
}

fn load_model(name: String, files: Vec<WireFile>) -> Result<()> {
    let t0 = now_ms();
    let named: Vec<(String, Vec<u8>)> = files.into_iter().map(|f| (f.path, f.bytes)).collect();
    let files = ModelFiles::from_named(&named, &name)?;
    drop(named);
    let encoder = SentenceEncoder::load(&files, &Device::Cpu)?;
    let sha256 = sha256_hex(&files.weights);
    let info = encoder.info();
    drop(files);
    let loaded = Loaded {
        name: name.clone(),
        encoder: Rc::new(encoder),
        sha256,
    };
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.base = Some(Rc::new(loaded));
        s.tuned = None;
        s.metadata = None;
        s.classifier = None;
        s.cache.clear();
    });
    post(&Response::ModelLoaded {
        slot: Slot::Base,
        name,
        info,
        load_ms: now_ms() - t0,
    });
    Ok(())
}

fn model(slot: Slot) -> Result<Rc<Loaded>> {
    STATE
        .with(|s| {
            let s = s.borrow();
            match slot {
                Slot::Base => s.base.clone(),
                Slot::Tuned => s.tuned.clone(),
            }
        })
        .ok_or_else(|| {
            let aside = STATE.with(|s| s.borrow().base_aside);
            Error::Invalid(match slot {
                Slot::Base if aside => "the base model is set aside while the run goes (the \
                    worker's memory holds the model being trained instead): it is back when the \
                    run ends"
                    .into(),
                Slot::Base => "no model is loaded yet".into(),
                Slot::Tuned => "no fine-tuned model yet: fine-tune first".into(),
            })
        })
}

/// Embeddings of `texts` with one model, computing only those not in the cache.
fn embed(slot: Slot, texts: &[String]) -> Result<Vec<Vec<f32>>> {
    embed_counted(slot, texts).map(|(vectors, _)| vectors)
}

/// [`embed`], also returning the texts that went through the model, each once (the rest were in
/// memory or repeats).
fn embed_counted(slot: Slot, texts: &[String]) -> Result<(Vec<Vec<f32>>, Vec<String>)> {
    let m = model(slot)?;
    let missing = not_in_memory(slot, texts);
    if !missing.is_empty() {
        let vectors = m.encoder.encode(&missing, 32)?;
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            for (t, v) in missing.iter().zip(vectors) {
                s.cache.insert((slot, t.clone()), v);
            }
        });
    }
    let vectors = STATE.with(|s| {
        let s = s.borrow();
        texts
            .iter()
            .map(|t| s.cache[&(slot, t.clone())].clone())
            .collect()
    });
    Ok((vectors, missing))
}

fn encode(slot: Slot, texts: &[String]) -> Result<impl FnOnce(u64) -> Response> {
    let t0 = now_ms();
    let (vectors, encoded) = embed_counted(slot, texts)?;
    let ms = now_ms() - t0;
    Ok(move |id| Response::Embeddings {
        id,
        vectors,
        ms,
        encoded: encoded.len(),
    })
}

/// Tell the page how far request `id` has got.
fn progress(id: u64, what: impl Into<String>, done: usize, total: usize) {
    post(&Response::Progress {
        id,
        what: what.into(),
        done,
        total,
    });
}

/// Run long request `id` as a task of its own (it yields between chunks, so the worker keeps
/// answering), noted as going so that a [`Request::Stop`] for it is kept until it answers.
fn long(id: u64, work: impl std::future::Future<Output = Result<Response>> + 'static) {
    STATE.with(|s| s.borrow_mut().long.insert(id, false));
    spawn_local(async move {
        let r = work.await;
        STATE.with(|s| s.borrow_mut().long.remove(&id));
        match r {
            Ok(r) => post(&r),
            Err(e) => fail(Some(id), e),
        }
    });
}

/// An error when the page asked request `id` to stop ([`Request::Stop`]).
fn stopped(id: u64) -> Result<()> {
    if STATE.with(|s| s.borrow().long.get(&id) == Some(&true)) {
        Err(Error::Invalid("cancelled".into()))
    } else {
        Ok(())
    }
}

/// Where `text`'s embedding by model `m` is kept in the browser's storage: the model's weights
/// and truncation length (either changes every vector), and the text, hashed.
fn vector_key(m: &Loaded, max_seq_length: usize, text: &str) -> String {
    format!(
        "{}:{max_seq_length}:{}",
        m.sha256,
        sha256_hex(text.as_bytes())
    )
}

/// The texts of `texts` whose embedding by `slot` is not in memory, each once.
fn not_in_memory(slot: Slot, texts: &[String]) -> Vec<String> {
    STATE.with(|s| {
        let s = s.borrow();
        let mut seen = std::collections::HashSet::new();
        texts
            .iter()
            .filter(|t| !s.cache.contains_key(&(slot, (*t).clone())) && seen.insert(*t))
            .cloned()
            .collect()
    })
}

/// [`embed_counted`] in chunks, through the browser's embedding cache (IndexedDB,
/// [`crate::web::cached_vectors`]): what memory lacks is read from it first, and what the model
/// encodes is written to it, so a reload does not encode the same tickets again. After each chunk,
/// a progress message for request `id`, a check that the page has not stopped it and a yield to
/// the event loop: 10,000 tickets take minutes to encode. Returns the vectors and how many texts
/// the model encoded.
async fn embed_reporting(id: u64, slot: Slot, texts: &[String]) -> Result<(Vec<Vec<f32>>, usize)> {
    let m = model(slot)?;
    let max_len = m.encoder.info().max_seq_length;
    let absent = not_in_memory(slot, texts);
    if !absent.is_empty() {
        progress(id, "reading cached embeddings", 0, absent.len());
        let keys: Vec<String> = absent.iter().map(|t| vector_key(&m, max_len, t)).collect();
        // The cache only saves time: when the browser's storage fails, encode.
        match crate::web::cached_vectors(&keys).await {
            Ok(found) => STATE.with(|s| {
                let mut s = s.borrow_mut();
                for (t, v) in absent.into_iter().zip(found) {
                    if let Some(v) = v {
                        s.cache.insert((slot, t), v);
                    }
                }
            }),
            Err(e) => web_sys::console::warn_1(&format!("embedding cache: {e}").into()),
        }
    }
    let mut out = Vec::with_capacity(texts.len());
    let mut encoded = 0;
    let what = format!("encoding with the {} model", slot.name());
    for chunk in texts.chunks(256) {
        stopped(id)?;
        // A model loaded or trained meanwhile would mix two models' vectors in one answer.
        if !model(slot).is_ok_and(|now| Rc::ptr_eq(&now, &m)) {
            return Err(Error::Invalid(format!(
                "the {} model changed while encoding: ask again",
                slot.name()
            )));
        }
        // On one thread fewer than the pool has: the page keeps a core (parallel::at_most).
        let (v, new) = crate::parallel::at_most(crate::parallel::background_threads(), || {
            embed_counted(slot, chunk)
        })?;
        out.extend(v);
        encoded += new.len();
        let entries: Vec<(String, Vec<f32>)> = STATE.with(|s| {
            let s = s.borrow();
            new.iter()
                .filter_map(|t| {
                    let v = s.cache.get(&(slot, t.clone()))?;
                    Some((vector_key(&m, max_len, t), v.clone()))
                })
                .collect()
        });
        if let Err(e) = crate::web::store_vectors(&entries).await {
            web_sys::console::warn_1(&format!("embedding cache: {e}").into());
        }
        progress(id, what.as_str(), out.len(), texts.len());
        crate::web::yield_now().await;
    }
    Ok((out, encoded))
}

/// [`Request::Neighbours`]: embed (through the cache), then the shared blocked search.
async fn neighbours(
    id: u64,
    slot: Slot,
    texts: &[String],
    k: usize,
) -> Result<(crate::protocol::NeighbourRows, usize)> {
    let (vectors, encoded) = embed_reporting(id, slot, texts).await?;
    stopped(id)?;
    let found = crate::parallel::at_most(crate::parallel::background_threads(), || {
        crate::eval::neighbours::within(
            &vectors,
            crate::eval::neighbours::Search::top(k),
            &mut |done, total| progress(id, "finding each ticket's nearest", done, total),
        )
    })?;
    let rows = found
        .rows
        .into_iter()
        .map(|r| r.into_iter().map(|(j, c)| (j as u32, c)).collect())
        .collect();
    Ok((rows, encoded))
}

/// [`Request::Backlog`]: embed the incidents with each loaded model (through the cache), then the
/// library's analysis.
async fn backlog(
    id: u64,
    incidents: &[crate::data::incidents::Incident],
    trained: &[String],
    threshold: f32,
) -> Result<crate::eval::backlog::BacklogAnalysis> {
    let set = crate::eval::retrieval::retrieval_set(incidents, &[])?;
    let mut names = vec![Slot::Base.name()];
    let mut embeddings = vec![embed_reporting(id, Slot::Base, &set.texts).await?.0];
    if model(Slot::Tuned).is_ok() {
        names.push(Slot::Tuned.name());
        embeddings.push(embed_reporting(id, Slot::Tuned, &set.texts).await?.0);
    }
    stopped(id)?;
    let models: Vec<(&str, &[Vec<f32>])> = names
        .iter()
        .copied()
        .zip(embeddings.iter().map(Vec::as_slice))
        .collect();
    let trained: Vec<&str> = trained.iter().map(String::as_str).collect();
    crate::parallel::at_most(crate::parallel::background_threads(), || {
        crate::eval::backlog::analyse(
            &set,
            (!trained.is_empty()).then_some(trained.as_slice()),
            &models,
            threshold,
            42,
            &mut |done, total| progress(id, "grouping", done, total),
        )
    })
}

async fn find_similar(
    id: u64,
    slot: Slot,
    query: &str,
    candidates: &[String],
    k: usize,
) -> Result<Vec<crate::protocol::SimilarHit>> {
    if query.trim().is_empty() {
        return Err(Error::Invalid("type a ticket to search for".into()));
    }
    let q = embed(slot, &[query.to_string()])?;
    let vs = embed_reporting(id, slot, candidates).await?.0;
    let scored = crate::eval::neighbours::across(
        &q,
        &vs,
        crate::eval::neighbours::Search::top(k),
        &mut |_, _| {},
    )?
    .rows
    .remove(0);
    let q = &q[0];
    STATE.with(|s| {
        let s = s.borrow();
        let head = s
            .classifier
            .as_ref()
            .filter(|(cs, ..)| *cs == slot)
            .map(|(_, art, _)| &art.head);
        Ok(scored
            .into_iter()
            .map(|(index, score)| {
                let (relation, probability) = match head {
                    Some(h) => {
                        let p = h.probabilities(q, &vs[index]);
                        let r = h.predict(q, &vs[index]);
                        (Some(r.name().to_string()), Some(p[r.index()]))
                    }
                    None => (None, None),
                };
                crate::protocol::SimilarHit {
                    index,
                    score,
                    relation,
                    probability,
                }
            })
            .collect())
    })
}

/// The browser's clock for the run driver.
struct Browser;

impl Host for Browser {
    fn now_seconds(&self) -> f64 {
        now_ms() / 1000.0
    }
    fn unix_seconds(&self) -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }
}

async fn fine_tune(
    train: Vec<TrainPair>,
    eval: Vec<TrainPair>,
    config: TrainConfig,
    data: Vec<DataRecord>,
    cancel: Rc<Cell<bool>>,
    set_aside: bool,
) -> Result<()> {
    let base = model(Slot::Base)?;
    let started = Browser.now_seconds();
    // This run's model replaces the previous one: it goes now, not at the end, so the two are
    // never in memory together (the memory budget counts two models: the base and this copy).
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.tuned = None;
        s.metadata = None;
        s.cache.retain(|(slot, _), _| *slot == Slot::Base);
        if matches!(s.classifier, Some((Slot::Tuned, ..))) {
            s.classifier = None;
        }
    });
    // A crash in this run must not bring back the best checkpoint of an earlier one.
    // Once the checkpoint store has failed (no IndexedDB, storage full), the run is not protected:
    // the error is reported with every later checkpoint instead of trying again.
    let unsaved: Option<String> = crate::web::clear_checkpoint()
        .await
        .err()
        .map(|e| e.to_string());
    // A fresh copy: the base model stays as loaded, for the side-by-side comparisons.
    let enc = base.copy(config.max_seq_length)?;
    let info = RunInfo {
        platform: crate::provenance::platform(1),
        base_model: BaseModel {
            source: base.name.clone(),
            weights_sha256: base.sha256.clone(),
            info: enc.info(),
        },
        data,
        started,
    };
    // The preflight found room only without the base model: it waits in IndexedDB.
    let (kept, aside) = match set_aside {
        true => (None, Some(set_base_aside(base).await?)),
        false => (Some(base), None),
    };
    let outcome = run_epochs(enc, &train, eval, config, info, cancel, unsaved)
        .await
        .map(|mut done| {
            // Only the run's last model, when it is the best, is kept: the others go before the
            // base model comes back.
            if !matches!(done.best, Best::Trained { current: true, .. }) {
                done.enc = None;
            }
            done
        });
    // Back whatever happened to the run.
    let base = match (kept, aside) {
        (Some(base), _) => base,
        (None, Some(aside)) => restore_base(aside).await?,
        (None, None) => unreachable!("the base model is kept or set aside"),
    };
    let done = outcome?;
    // A run that saved a checkpoint records how it ended, so a worker that stops later (while
    // encoding, say) brings this model back with the right story. Failing here loses nothing now.
    if done.saved_any {
        if let Ok(json) = serde_json::to_string(&done.metadata) {
            let _ = crate::web::end_checkpoint(&json).await;
        }
    }
    let max_seq_length = done.metadata.config.max_seq_length;
    // The best checkpoint becomes the tuned model (the base one when nothing beat it).
    let tuned = match (done.best, done.enc) {
        (Best::Trained { current: true, .. }, Some(enc)) => enc,
        (
            Best::Trained {
                kept: Some(files), ..
            },
            _,
        ) => SentenceEncoder::load(&ModelFiles::from_named(&files, "checkpoint")?, &Device::Cpu)?,
        (Best::Trained { kept: None, .. }, _) => {
            let saved = crate::web::load_checkpoint().await?.ok_or_else(|| {
                Error::Invalid(
                    "the run's best checkpoint is gone from this browser's storage".into(),
                )
            })?;
            checkpoint_model(&base, saved.weights, max_seq_length)?
        }
        (Best::Base, _) => base.copy(max_seq_length)?,
    };
    install_tuned(&base, tuned, &done.metadata)?;
    post(&Response::TrainFinished {
        reason: done.reason,
        metadata: Box::new(done.metadata),
        memory_bytes: crate::web::memory_bytes(),
    });
    Ok(())
}

/// How a run's epochs ended ([`run_epochs`]).
struct RunDone {
    reason: StopReason,
    metadata: TrainingMetadata,
    best: Best,
    /// A checkpoint of it is in IndexedDB.
    saved_any: bool,
    /// The model trained, as the last step left it.
    enc: Option<SentenceEncoder>,
}

/// Train `enc` (a copy of the base model at the run's max_seq_length): every step and evaluation,
/// each reported to the page, the best checkpoint written to IndexedDB (`unsaved`: why the store
/// already failed).
async fn run_epochs(
    enc: SentenceEncoder,
    train: &[TrainPair],
    eval: Vec<TrainPair>,
    config: TrainConfig,
    info: RunInfo,
    cancel: Rc<Cell<bool>>,
    mut unsaved: Option<String>,
) -> Result<RunDone> {
    let flag = cancel.clone();
    let mut saved_any = false;
    // The best checkpoint lives in IndexedDB, not in this memory (see `Best`).
    let mut run = Session::new(
        &enc,
        train,
        eval,
        config,
        "training pairs",
        info,
        &Browser,
        move || flag.get(),
    )?
    .without_checkpoint_copies();
    if !run.trainer().notes().is_empty() {
        post(&Response::TrainNotes {
            notes: run.trainer().notes().to_vec(),
        });
    }
    let mut best = Best::Base;
    while let Some(event) = run.advance()? {
        match event {
            Event::Step { report, progress } => {
                if let Best::Trained { current, .. } = &mut best {
                    *current = false;
                }
                post(&Response::Step {
                    step: report.step,
                    total: report.total_steps,
                    epoch: report.epoch,
                    loss: report.loss,
                    lr: report.lr,
                    elapsed_ms: progress.elapsed_seconds * 1000.0,
                    eta_ms: progress.eta_seconds * 1000.0,
                    pairs_per_s: progress.pairs_per_second,
                    memory_bytes: crate::web::memory_bytes(),
                })
            }
            Event::Evaluated { record, improved } => {
                let epoch = record.metrics.epoch;
                post(&Response::Evaluated {
                    metrics: record.metrics,
                    improved,
                });
                // The base model's evaluation comes first and is also "the best so far": it needs
                // no saving, the page can load the base model again.
                if improved && epoch > 0 {
                    let t0 = now_ms();
                    let mut bytes = 0;
                    if unsaved.is_none() {
                        match save_best(&enc, &run).await {
                            Ok(n) => {
                                saved_any = true;
                                bytes = n;
                            }
                            Err(e) => unsaved = Some(e.to_string()),
                        }
                    }
                    // Not in IndexedDB: then in memory, or the run could not end with it.
                    let kept = match &unsaved {
                        Some(_) => Some(enc.to_files()?),
                        None => None,
                    };
                    best = Best::Trained {
                        current: true,
                        kept,
                    };
                    post(&Response::CheckpointSaved {
                        epoch,
                        bytes,
                        ms: now_ms() - t0,
                        error: unsaved.clone(),
                    });
                }
            }
        }
        // Let queued messages (Cancel, the demo's encodes) in between two units of work.
        crate::web::yield_now().await;
    }
    let reason = run.stop_reason();
    let metadata = run.metadata();
    drop(run);
    Ok(RunDone {
        reason,
        metadata,
        best,
        saved_any,
        enc: Some(enc),
    })
}

/// The base model while a run goes on without it ([`set_base_aside`]): everything but its weights,
/// which wait in IndexedDB.
struct BaseAside {
    name: String,
    sha256: String,
    /// Its folder without model.safetensors.
    files: Vec<(String, Vec<u8>)>,
}

/// Write the base model's weights to IndexedDB and let it go: the worker's memory then holds one
/// copy of the weights (the one being trained) instead of two. Requests for the base model are
/// refused until [`restore_base`] (the run's end) brings it back.
async fn set_base_aside(base: Rc<Loaded>) -> Result<BaseAside> {
    let (weights, files): (Vec<_>, Vec<_>) = base
        .encoder
        .to_files()?
        .into_iter()
        .partition(|(p, _)| p == "model.safetensors");
    let weights = weights
        .into_iter()
        .next()
        .map(|(_, b)| b)
        .unwrap_or_default();
    crate::web::save_base_weights(&weights).await?;
    drop(weights);
    let aside = BaseAside {
        name: base.name.clone(),
        sha256: base.sha256.clone(),
        files,
    };
    drop(base);
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.base = None;
        s.base_aside = true;
    });
    Ok(aside)
}

/// Load the base model [`set_base_aside`] wrote to IndexedDB back into the worker.
async fn restore_base(aside: BaseAside) -> Result<Rc<Loaded>> {
    let weights = crate::web::take_base_weights().await;
    STATE.with(|s| s.borrow_mut().base_aside = false);
    let mut files = aside.files;
    files.push(("model.safetensors".into(), weights?));
    let encoder =
        SentenceEncoder::load(&ModelFiles::from_named(&files, &aside.name)?, &Device::Cpu)?;
    drop(files);
    let base = Rc::new(Loaded {
        name: aside.name,
        encoder: Rc::new(encoder),
        sha256: aside.sha256,
    });
    STATE.with(|s| s.borrow_mut().base = Some(base.clone()));
    Ok(base)
}

/// Where a browser run's best model is: none has beaten the base model yet, or the run's own model
/// is it (`current`, until the next step) and a copy is in IndexedDB, or in `kept` when it could
/// not be written there.
enum Best {
    Base,
    Trained {
        current: bool,
        kept: Option<Vec<(String, Vec<u8>)>>,
    },
}

/// Write the model `enc` of `run` (its best, just evaluated) to IndexedDB
/// ([`crate::web::save_checkpoint`]) with the run's metadata as of now; the bytes written.
async fn save_best(enc: &SentenceEncoder, run: &Session<'_>) -> Result<u64> {
    let weights = enc.params().to_safetensors()?;
    let meta = serde_json::to_string(&run.metadata()).map_err(|e| Error::Invalid(e.to_string()))?;
    crate::web::save_checkpoint(&weights, &meta).await?;
    Ok(weights.len() as u64)
}

/// The model of a checkpoint's `weights` (model.safetensors) of a run from `base` at
/// `max_seq_length`: the base model's other files with these weights.
fn checkpoint_model(
    base: &Loaded,
    weights: Vec<u8>,
    max_seq_length: usize,
) -> Result<SentenceEncoder> {
    let mut files: Vec<(String, Vec<u8>)> = base
        .encoder
        .to_files()?
        .into_iter()
        .filter(|(p, _)| p != "model.safetensors")
        .collect();
    files.push(("model.safetensors".into(), weights));
    let mut enc =
        SentenceEncoder::load(&ModelFiles::from_named(&files, "checkpoint")?, &Device::Cpu)?;
    drop(files);
    enc.set_max_seq_length(max_seq_length)?;
    Ok(enc)
}

/// Make the best checkpoint the last run saved ([`save_best`]) the tuned model; its metadata (stop
/// reason [`StopReason::Crashed`] when the run never ended), or `None` when none was saved.
async fn restore_checkpoint() -> Result<Option<TrainingMetadata>> {
    let base = model(Slot::Base)?;
    let Some(saved) = crate::web::load_checkpoint().await? else {
        return Ok(None);
    };
    let mut metadata: TrainingMetadata =
        serde_json::from_str(&saved.metadata_json).map_err(|e| {
            Error::Invalid(format!(
                "the saved checkpoint's metadata is unreadable: {e}"
            ))
        })?;
    if metadata.base_model.weights_sha256 != base.sha256 {
        return Err(Error::Invalid(format!(
            "the saved checkpoint was fine-tuned from {} (model.safetensors sha256 {}), not from \
             the model loaded now ({}): load that model to get it back",
            metadata.base_model.source,
            &metadata.base_model.weights_sha256[..12.min(metadata.base_model.weights_sha256.len())],
            base.name
        )));
    }
    if !saved.ended {
        metadata.stop_reason = StopReason::Crashed;
    }
    let enc = checkpoint_model(&base, saved.weights, metadata.config.max_seq_length)?;
    install_tuned(&base, enc, &metadata)?;
    Ok(Some(metadata))
}

/// Run out of memory on purpose ([`Request::Crash`]): allocate 512 MiB blocks and keep them until
/// one fails, as a run too big for the worker does — the allocator reports it
/// ([`crate::web::ReportingAllocator`]) and the worker traps.
fn crash(pool: bool) {
    let exhaust = |_: &usize| loop {
        let mut block: Vec<u8> = Vec::with_capacity(512 << 20);
        // Touched, so that no engine could keep it unbacked.
        block.push(1);
        std::mem::forget(block);
    };
    if pool && crate::parallel::data_threads() > 1 {
        // Every item runs on a pool thread; the worker blocks in the pool, waiting for them.
        let items: Vec<usize> = (0..crate::parallel::data_threads()).collect();
        crate::parallel::map(&items, exhaust);
    } else {
        exhaust(&0);
    }
}

/// Make `tuned` (a checkpoint of a run from `base`) the tuned model, with the run's metadata.
fn install_tuned(base: &Loaded, tuned: SentenceEncoder, metadata: &TrainingMetadata) -> Result<()> {
    let sha256 = sha256_hex(&tuned.params().to_safetensors()?);
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.tuned = Some(Rc::new(Loaded {
            name: format!("{} (fine-tuned)", base.name),
            encoder: Rc::new(tuned),
            sha256,
        }));
        s.metadata = Some(metadata.clone());
        s.cache.retain(|(slot, _), _| *slot == Slot::Base);
        // A classifier of the old tuned model does not fit the new one's embeddings.
        if matches!(s.classifier, Some((Slot::Tuned, ..))) {
            s.classifier = None;
        }
    });
    Ok(())
}

fn classify(
    slot: Slot,
    pairs: &[crate::data::relationships::RelationshipPair],
    config: &crate::classify::cv::CvConfig,
    data: Vec<crate::provenance::DataRecord>,
) -> Result<(f64, crate::classify::cv::CvReport)> {
    let m = model(slot)?;
    // Through the cache: the texts are usually the ones the labelling queue already embedded.
    let emb = PairEmbeddings::with(pairs, |texts| embed(slot, texts))?;
    let examples = emb.examples(pairs);
    let report = cross_validate(&examples, config)?;
    let art = ClassifierArtifact::train(&examples, config, &m.name, &m.sha256, data)?;
    let c = art.head.c;
    STATE.with(|s| s.borrow_mut().classifier = Some((slot, art, report.clone())));
    Ok((c, report))
}

/// The tuned model (else the base one) as a zipped sentence-transformers folder, with
/// `training_metadata.json` and `relationship_classifier/` when they belong to that model.
fn export() -> Result<(Vec<u8>, Vec<String>)> {
    let (slot, m) = match model(Slot::Tuned) {
        Ok(m) => (Slot::Tuned, m),
        Err(_) => (Slot::Base, model(Slot::Base)?),
    };
    let folder = "ticketsim-model";
    let mut files: Vec<(String, Vec<u8>)> = m
        .encoder
        .to_files()?
        .into_iter()
        .map(|(p, b)| (format!("{folder}/{p}"), b))
        .collect();
    STATE.with(|s| -> Result<()> {
        let s = s.borrow();
        if let (Slot::Tuned, Some(meta)) = (slot, &s.metadata) {
            files.push((
                format!("{folder}/training_metadata.json"),
                serde_json::to_vec_pretty(meta).map_err(|e| Error::Invalid(e.to_string()))?,
            ));
        }
        if let Some((cs, art, report)) = &s.classifier {
            if *cs == slot {
                let dir = format!("{folder}/{}", artifact::DIR);
                files.push((format!("{dir}/{}", artifact::FILE), art.to_json()?));
                files.push((
                    format!("{dir}/metrics.json"),
                    serde_json::to_vec_pretty(report).map_err(|e| Error::Invalid(e.to_string()))?,
                ));
            }
        }
        Ok(())
    })?;
    let names = files.iter().map(|(p, _)| p.clone()).collect();
    Ok((crate::archive::zip_stored(&files)?, names))
}
