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
