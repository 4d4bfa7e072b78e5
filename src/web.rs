//! The browser edge: fetching bytes over HTTP from the page's origin (the model the app serves,
//! files the tests serve), in a window or a worker. Everything else runs in the core library.
//!
//! Imports: web-sys, the encoder's folder format and the crate's error type (wasm only).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::encoder::{ModelFiles, SentenceEncoder};
use crate::error::{Error, Result};

fn js_err(what: &str, e: JsValue) -> Error {
    Error::Invalid(format!(
        "{what}: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    ))
}

/// GET `url`; `Ok(None)` on 404 (optional files), an error on any other failure.
pub async fn fetch_bytes(url: &str) -> Result<Option<Vec<u8>>> {
    let global = js_sys::global();
    let promise = if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.fetch_with_str(url)
    } else {
        global
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .fetch_with_str(url)
    };
    let resp: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| js_err(url, e))?
        .dyn_into()
        .map_err(|e| js_err(url, e))?;
    if resp.status() == 404 {
        return Ok(None);
    }
    if !resp.ok() {
        return Err(Error::model(url, format!("HTTP {}", resp.status())));
    }
    response_bytes(&resp, url).await.map(Some)
}

/// The body of a response to a request for `url`.
pub async fn response_bytes(resp: &web_sys::Response, url: &str) -> Result<Vec<u8>> {
    let buf = JsFuture::from(resp.array_buffer().map_err(|e| js_err(url, e))?)
        .await
        .map_err(|e| js_err(url, e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Fetch a sentence-transformers folder served under `base` (e.g. `./models/minilm`).
pub async fn fetch_model_files(base: &str) -> Result<ModelFiles> {
    let base = base.trim_end_matches('/');
    let required = |name: &'static str| async move {
        fetch_bytes(&format!("{base}/{name}"))
            .await?
            .ok_or_else(|| Error::model(format!("{base}/{name}"), "missing (HTTP 404)"))
    };
    let optional = |name: &'static str| async move { fetch_bytes(&format!("{base}/{name}")).await };
    Ok(ModelFiles {
        config: required("config.json").await?,
        weights: required("model.safetensors").await?,
        tokenizer: required("tokenizer.json").await?,
        modules: optional("modules.json").await?,
        pooling: optional("1_Pooling/config.json").await?,
        sentence_bert_config: optional("sentence_bert_config.json").await?,
    })
}

/// Fetch and load a model served under `base` (CPU: the only device in the browser).
pub async fn load_encoder(base: &str) -> Result<SentenceEncoder> {
    let files = fetch_model_files(base).await?;
    SentenceEncoder::load(&files, &candle_core::Device::Cpu)
}

/// Milliseconds from the page's (or worker's) time origin.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok());
    perf.map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// Whether this build can run threads (the wasm-atomics build of the worker).
pub const THREADED: bool = cfg!(target_feature = "atomics");

/// What wasm32 can address: no build's memory grows past it (the threaded build declares it as
/// its shared memory's maximum, `scripts/build-worker-mt.sh`).
pub const WASM_MEMORY_MAX: u64 = 4 << 30;

/// The size of this module's linear memory now. Wasm memory only grows, so this is also the most
/// it has held: read after a run, it is the run's peak.
pub fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}

/// The wasm builds' allocator: the standard one (dlmalloc), which says when it fails. In wasm an
/// allocation that fails (the memory cannot grow: 4 GiB reached, or the browser refused) ends in
/// `handle_alloc_error`, whose abort is a trap the page sees only as "unreachable" (a custom
/// `alloc_error_handler` is not stable Rust). So the failure is reported here first, before the
/// trap: on the worker's own thread a [`crate::protocol::Response::OutOfMemory`] message to the
/// page; on a pool thread, whose messages would reach only the blocked worker, the size is kept
/// for `www/mt/pool_worker.js` to read ([`allocation_failure`]) when it reports the trap.
pub struct ReportingAllocator;

/// Bytes of the last allocation that failed (0: none has).
static FAILED_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: every call goes to `System` unchanged; the report neither allocates (JS numbers and
// static strings cross to JS without Rust memory) nor touches the returned pointer.
unsafe impl std::alloc::GlobalAlloc for ReportingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let p = unsafe { std::alloc::System.alloc(layout) };
        if p.is_null() {
            allocation_failed(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if p.is_null() {
            allocation_failed(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            allocation_failed(new_size);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: ReportingAllocator = ReportingAllocator;

/// Bytes of the last allocation that failed on any thread (0 when none has): what a pool thread
/// that trapped reports (`www/mt/pool_worker.js`).
#[wasm_bindgen::prelude::wasm_bindgen(js_name = allocationFailure)]
pub fn allocation_failure() -> f64 {
    FAILED_BYTES.load(std::sync::atomic::Ordering::Relaxed) as f64
}

fn allocation_failed(bytes: usize) {
    FAILED_BYTES.store(bytes, std::sync::atomic::Ordering::Relaxed);
    if crate::parallel::on_pool_thread() {
        return;
    }
    let global = js_sys::global();
    let Some(scope) = global.dyn_ref::<web_sys::DedicatedWorkerGlobalScope>() else {
        return;
    };
    // Built field by field from numbers and static strings: serde would allocate. The shape is
    // the one serde gives Response::OutOfMemory (internally tagged, snake_case).
    let msg = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&msg, &JsValue::from_str(k), v).is_ok();
    let _ = set("type", &JsValue::from_str("out_of_memory"))
        && set("requested", &JsValue::from_f64(bytes as f64))
        && set("memory", &JsValue::from_f64(memory_bytes() as f64));
    let _ = scope.post_message(&msg);
}

/// Start a pool of `threads` Web Workers running this module on its shared memory (the threaded
/// build only) and make it the one [`crate::parallel::map`] uses; `threads <= 1` goes back to one
/// thread. Each worker loads `pool_url` (`www/pool_worker.js`), which instantiates the module with
/// the shared memory, says it is ready and blocks in [`crate::parallel::web_pool::pool_thread`].
/// The pool is installed only once every worker is ready: the caller may then block on the pool
/// without waiting for a worker that cannot start while it blocks. Returns the workers (kept so
/// the caller can watch them for errors and stop them).
#[cfg(target_feature = "atomics")]
pub async fn start_pool(threads: usize, pool_url: &str) -> Result<Vec<web_sys::Worker>> {
    use crate::parallel::web_pool;
    web_pool::clear();
    if threads <= 1 {
        return Ok(Vec::new());
    }
    let handoff = web_pool::handoff();
    let mut workers = Vec::with_capacity(threads);
    let mut ready = Vec::with_capacity(threads);
    for i in 0..threads {
        let opts = web_sys::WorkerOptions::new();
        // Named after this worker, so the page can tell a crash of this pool from one of the pool
        // of a worker it already replaced (www/mt/pool_worker.js reports with the name).
        let me = js_sys::Reflect::get(&js_sys::global(), &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        opts.set_name(&format!("{me} pool {i}"));
        let w = web_sys::Worker::new_with_options(pool_url, &opts)
            .map_err(|e| js_err("cannot start a pool worker", e))?;
        let started = js_sys::Promise::new(&mut |resolve, reject| {
            w.set_onmessage(Some(&resolve));
            w.set_onerror(Some(&reject));
        });
        let msg = js_sys::Array::of3(
            &wasm_bindgen::module(),
            &wasm_bindgen::memory(),
            &JsValue::from(handoff),
        );
        w.post_message(&msg)
            .map_err(|e| js_err("cannot start a pool worker", e))?;
        ready.push(JsFuture::from(started));
        workers.push(w);
    }
    for (i, r) in ready.into_iter().enumerate() {
        if let Err(e) = r.await {
            for w in &workers {
                w.terminate();
            }
            let why = e
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|e| e.message())
                .unwrap_or_else(|| format!("{e:?}"));
            return Err(Error::Invalid(format!(
                "pool worker {i} did not start: {why}"
            )));
        }
    }
    for w in &workers {
        w.set_onmessage(None);
        w.set_onerror(None);
    }
    web_pool::install(handoff, threads).map_err(Error::Invalid)?;
    Ok(workers)
}

/// The IndexedDB database where a fine-tuning run keeps its best checkpoint, apart from the page's
/// own (`www/glue.js`): the worker writes it, and only the worker reads it back.
const CHECKPOINT_DB: &str = "ticketsim-checkpoint";
const CHECKPOINT_STORE: &str = "checkpoint";

/// A pending IndexedDB request (or transaction) as a future: `success`/`complete` resolve it,
/// `error`/`abort` reject it.
fn idb_done(set: impl FnOnce(&js_sys::Function, &js_sys::Function)) -> JsFuture {
    let mut set = Some(set);
    JsFuture::from(js_sys::Promise::new(&mut |resolve, reject| {
        if let Some(set) = set.take() {
            set(&resolve, &reject);
        }
    }))
}

fn idb_factory() -> Result<web_sys::IdbFactory> {
    let global = js_sys::global();
    let factory = if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.indexed_db()
    } else {
        global
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .indexed_db()
    };
    factory
        .map_err(|e| js_err("IndexedDB", e))?
        .ok_or_else(|| Error::Invalid("this browser gives the page no IndexedDB".into()))
}

async fn checkpoint_db() -> Result<web_sys::IdbDatabase> {
    open_db(CHECKPOINT_DB, CHECKPOINT_STORE).await
}

/// Open (creating it the first time) the database `name` with its one object store `store`.
async fn open_db(name: &str, store: &'static str) -> Result<web_sys::IdbDatabase> {
    let req = idb_factory()?
        .open_with_u32(name, 1)
        .map_err(|e| js_err("opening IndexedDB", e))?;
    let upgrade = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
        move |ev: web_sys::Event| {
            let db = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                .and_then(|r| r.result().ok())
                .and_then(|d| d.dyn_into::<web_sys::IdbDatabase>().ok());
            if let Some(db) = db {
                let _ = db.create_object_store(store);
            }
        },
    );
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = idb_done(|ok, err| {
        req.set_onsuccess(Some(ok));
        req.set_onerror(Some(err));
    })
    .await;
    req.set_onupgradeneeded(None);
    drop(upgrade);
    // The promise resolves with the success event; the database is the request's result.
    opened.map_err(|e| js_err("opening IndexedDB", e))?;
    req.result()
        .map_err(|e| js_err("opening IndexedDB", e))?
        .dyn_into::<web_sys::IdbDatabase>()
        .map_err(|e| js_err("opening IndexedDB", e))
}

/// Run `f` on the checkpoint store in one transaction and wait until it is durable.
async fn checkpoint_tx(
    mode: web_sys::IdbTransactionMode,
    f: impl FnOnce(&web_sys::IdbObjectStore) -> std::result::Result<(), JsValue>,
) -> Result<()> {
    let db = checkpoint_db().await?;
    let (tx, store) = store_tx(&db, CHECKPOINT_STORE, mode)?;
    f(&store).map_err(|e| js_err("IndexedDB", e))?;
    commit(db, &tx, "writing the checkpoint to IndexedDB").await
}

/// The values of `keys` in `store` (undefined where there is none), read in the store's
/// transaction. Every request's handler is set before the first await: a request's success event
/// may fire while another one is awaited.
async fn get_all(
    store: &web_sys::IdbObjectStore,
    keys: &[JsValue],
    what: &str,
) -> Result<Vec<JsValue>> {
    let reqs: Vec<web_sys::IdbRequest> = keys
        .iter()
        .map(|k| store.get(k))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| js_err(what, e))?;
    let pending: Vec<JsFuture> = reqs
        .iter()
        .map(|req| {
            idb_done(|ok, err| {
                req.set_onsuccess(Some(ok));
                req.set_onerror(Some(err));
            })
        })
        .collect();
    let mut values = Vec::with_capacity(reqs.len());
    for (req, done) in reqs.iter().zip(pending) {
        done.await.map_err(|e| js_err(what, e))?;
        values.push(req.result().map_err(|e| js_err(what, e))?);
    }
    Ok(values)
}

/// A transaction on `store` of `db`, and the store in it.
fn store_tx(
    db: &web_sys::IdbDatabase,
    store: &str,
    mode: web_sys::IdbTransactionMode,
) -> Result<(web_sys::IdbTransaction, web_sys::IdbObjectStore)> {
    let tx = db
        .transaction_with_str_and_mode(store, mode)
        .map_err(|e| js_err("IndexedDB transaction", e))?;
    let s = tx
        .object_store(store)
        .map_err(|e| js_err("IndexedDB transaction", e))?;
    Ok((tx, s))
}

/// Wait until `tx` is durable, then close `db`. An error names `what` and the transaction's own
/// reason (quota exceeded, …).
async fn commit(db: web_sys::IdbDatabase, tx: &web_sys::IdbTransaction, what: &str) -> Result<()> {
    let done = idb_done(|ok, err| {
        tx.set_oncomplete(Some(ok));
        tx.set_onerror(Some(err));
        tx.set_onabort(Some(err));
    })
    .await;
    db.close();
    done.map(|_| ()).map_err(|e| {
        let why = tx
            .error()
            .map(|d| d.message())
            .unwrap_or_else(|| format!("{e:?}"));
        Error::Invalid(format!("{what}: {why}"))
    })
}

/// Keep a run's best checkpoint in IndexedDB: its `model.safetensors` and its metadata (JSON), in
/// one transaction, so a reader never sees the weights of one epoch with the metadata of another.
/// The run has not ended ([`end_checkpoint`] says when it has).
pub async fn save_checkpoint(weights: &[u8], metadata_json: &str) -> Result<()> {
    // A copy out of the (possibly shared) wasm memory: IndexedDB clones it again and the copy goes
    // when the write is done.
    let bytes = js_sys::Uint8Array::from(weights);
    let meta = JsValue::from_str(metadata_json);
    checkpoint_tx(web_sys::IdbTransactionMode::Readwrite, move |s| {
        s.put_with_key(&bytes, &"weights".into())?;
        s.put_with_key(&meta, &"metadata".into())?;
        s.put_with_key(&JsValue::FALSE, &"ended".into())?;
        Ok(())
    })
    .await
}

/// The run whose checkpoint is kept has ended: its final metadata replaces the one saved with the
/// checkpoint.
pub async fn end_checkpoint(metadata_json: &str) -> Result<()> {
    let meta = JsValue::from_str(metadata_json);
    checkpoint_tx(web_sys::IdbTransactionMode::Readwrite, move |s| {
        s.put_with_key(&meta, &"metadata".into())?;
        s.put_with_key(&JsValue::TRUE, &"ended".into())?;
        Ok(())
    })
    .await
}

/// A checkpoint read back from IndexedDB.
pub struct SavedCheckpoint {
    /// Its model.safetensors.
    pub weights: Vec<u8>,
    /// The run's metadata (JSON) as of the checkpoint, or as of the end when the run ended.
    pub metadata_json: String,
    /// Whether the run ended (else it was cut off: the worker stopped).
    pub ended: bool,
}

/// The checkpoint [`save_checkpoint`] kept, if there is one.
pub async fn load_checkpoint() -> Result<Option<SavedCheckpoint>> {
    let db = checkpoint_db().await?;
    let (_tx, store) = store_tx(&db, CHECKPOINT_STORE, web_sys::IdbTransactionMode::Readonly)?;
    let keys = ["weights", "metadata", "ended"].map(JsValue::from_str);
    let mut values = get_all(&store, &keys, "reading the checkpoint").await?;
    db.close();
    let ended = values[2].as_bool().unwrap_or(false);
    let meta = values[1].as_string();
    match (values.swap_remove(0).dyn_into::<js_sys::Uint8Array>(), meta) {
        (Ok(w), Some(metadata_json)) => Ok(Some(SavedCheckpoint {
            weights: w.to_vec(),
            metadata_json,
            ended,
        })),
        _ => Ok(None),
    }
}

/// Keep the base model's weights (`model.safetensors`) beside the checkpoint while a run that
/// could not fit with them in memory goes on ([`crate::train::memory::Preflight::set_aside_base`]).
pub async fn save_base_weights(weights: &[u8]) -> Result<()> {
    let bytes = js_sys::Uint8Array::from(weights);
    checkpoint_tx(web_sys::IdbTransactionMode::Readwrite, move |s| {
        s.put_with_key(&bytes, &"base_weights".into()).map(|_| ())
    })
    .await
}

/// The base weights [`save_base_weights`] kept, removed from the store.
pub async fn take_base_weights() -> Result<Vec<u8>> {
    let db = checkpoint_db().await?;
    let (_tx, store) = store_tx(&db, CHECKPOINT_STORE, web_sys::IdbTransactionMode::Readonly)?;
    let key = JsValue::from_str("base_weights");
    let values = get_all(
        &store,
        std::slice::from_ref(&key),
        "reading the base model back",
    )
    .await?;
    db.close();
    let weights = values
        .into_iter()
        .next()
        .and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
        .map(|w| w.to_vec())
        .ok_or_else(|| {
            Error::Invalid("the base model set aside for the run is gone from this browser's storage: load it again".into())
        })?;
    checkpoint_tx(web_sys::IdbTransactionMode::Readwrite, move |s| {
        s.delete(&key).map(|_| ())
    })
    .await?;
    Ok(weights)
}

/// Forget the kept checkpoint (a new run starts).
pub async fn clear_checkpoint() -> Result<()> {
    checkpoint_tx(web_sys::IdbTransactionMode::Readwrite, |s| {
        s.clear().map(|_| ())
    })
    .await
}

/// The IndexedDB database of computed embeddings ([`cached_vectors`]), so that a reload or a
/// second step does not encode the same tickets again.
const EMBED_DB: &str = "ticketsim-embeddings";
const EMBED_STORE: &str = "vectors";

/// The most embeddings [`store_vectors`] keeps, all models together. Why 100,000: a desk's export
/// of 10,000 tickets is 20,000 vectors with the base and the fine-tuned model, so five such
/// exports fit; at 384 dimensions (all-MiniLM-L6-v2) that is 154 MB of disk, 307 MB at 768
/// (all-mpnet-base-v2) — next to a model cache of 90–440 MB, within what browsers grant an origin
/// without asking, and small enough that a reload reads a 10,000-ticket export's vectors in a
/// second or two. Past it the store is emptied and refilled (no per-entry bookkeeping on every
/// read): what is being worked on is encoded again once.
pub const EMBED_CACHE_MAX: u32 = 100_000;

/// Requests per transaction when reading: a bound on the futures held at once.
const EMBED_READ_BATCH: usize = 2_000;

/// The cached embeddings of `keys` in the store (`None` where there is none). A key names the
/// model and the text (the caller hashes them); values are `Float32Array`s.
pub async fn cached_vectors(keys: &[String]) -> Result<Vec<Option<Vec<f32>>>> {
    let db = open_db(EMBED_DB, EMBED_STORE).await?;
    let mut out = Vec::with_capacity(keys.len());
    for batch in keys.chunks(EMBED_READ_BATCH) {
        let (_tx, store) = store_tx(&db, EMBED_STORE, web_sys::IdbTransactionMode::Readonly)?;
        let keys: Vec<JsValue> = batch.iter().map(|k| JsValue::from_str(k)).collect();
        for v in get_all(&store, &keys, "reading cached embeddings").await? {
            out.push(
                v.dyn_into::<js_sys::Float32Array>()
                    .ok()
                    .map(|a| a.to_vec()),
            );
        }
    }
    db.close();
    Ok(out)
}

/// Keep `entries` (key, embedding) in the store, in one transaction; a store that would pass
/// [`EMBED_CACHE_MAX`] is emptied first.
pub async fn store_vectors(entries: &[(String, Vec<f32>)]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let db = open_db(EMBED_DB, EMBED_STORE).await?;
    // Counted in a transaction of its own: the write below issues every request before its first
    // await, so it never relies on a transaction staying active across one.
    let n = {
        let tx = db
            .transaction_with_str(EMBED_STORE)
            .map_err(|e| js_err("IndexedDB transaction", e))?;
        let count = tx
            .object_store(EMBED_STORE)
            .and_then(|s| s.count())
            .map_err(|e| js_err("counting cached embeddings", e))?;
        idb_done(|ok, err| {
            count.set_onsuccess(Some(ok));
            count.set_onerror(Some(err));
        })
        .await
        .map_err(|e| js_err("counting cached embeddings", e))?;
        count.result().ok().and_then(|v| v.as_f64()).unwrap_or(0.0)
    };
    let (tx, store) = store_tx(&db, EMBED_STORE, web_sys::IdbTransactionMode::Readwrite)?;
    if n + entries.len() as f64 > f64::from(EMBED_CACHE_MAX) {
        store
            .clear()
            .map_err(|e| js_err("emptying cached embeddings", e))?;
    }
    for (k, v) in entries {
        store
            .put_with_key(
                &js_sys::Float32Array::from(v.as_slice()),
                &JsValue::from_str(k),
            )
            .map_err(|e| js_err("caching embeddings", e))?;
    }
    commit(db, &tx, "caching embeddings").await
}

/// Forget every cached embedding (the page does when its incident file goes).
pub async fn clear_vectors() -> Result<()> {
    let db = open_db(EMBED_DB, EMBED_STORE).await?;
    let (tx, store) = store_tx(&db, EMBED_STORE, web_sys::IdbTransactionMode::Readwrite)?;
    store
        .clear()
        .map_err(|e| js_err("emptying cached embeddings", e))?;
    commit(db, &tx, "emptying cached embeddings").await
}

/// The SHA-256 of `bytes` as lowercase hex: the browser's own (`crypto.subtle`, native code, async)
/// where the page is a secure context, else [`crate::provenance::sha256_hex`]. Why: the Rust one
/// in wasm took 218 ms of the page's thread for a 4 MB incident export (issue 19).
pub async fn sha256_hex(bytes: &[u8]) -> String {
    match subtle_sha256(bytes).await {
        Some(h) => h,
        None => crate::provenance::sha256_hex(bytes),
    }
}

async fn subtle_sha256(bytes: &[u8]) -> Option<String> {
    let global = js_sys::global();
    let crypto = js_sys::Reflect::get(&global, &"crypto".into()).ok()?;
    let subtle = js_sys::Reflect::get(&crypto, &"subtle".into())
        .ok()
        .filter(|v| v.is_object())?;
    let digest: js_sys::Function = js_sys::Reflect::get(&subtle, &"digest".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let data = js_sys::Uint8Array::from(bytes);
    let promise: js_sys::Promise = digest
        .call2(&subtle, &"SHA-256".into(), &data)
        .ok()?
        .dyn_into()
        .ok()?;
    let buf = JsFuture::from(promise).await.ok()?;
    Some(crate::provenance::hex(
        &js_sys::Uint8Array::new(&buf).to_vec(),
    ))
}

/// Let the browser run what is waiting (paint, input, messages) before going on: a `setTimeout(0)`
/// turn. Long work on the page's thread split by these is many short tasks, not one long stall.
pub async fn yield_now() {
    sleep_ms(0).await
}

/// Resume after `ms` milliseconds (`setTimeout`; at once where there is none), on the page or in
/// a worker.
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        let scheduled = set_timeout.is_some_and(|f| f.call2(&global, &resolve, &ms.into()).is_ok());
        if !scheduled {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}
