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
        opts.set_name(&format!("ticketsim pool {i}"));
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
