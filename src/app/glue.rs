//! Rust side of `www/glue.js` (IndexedDB, dropped folders, downloads) and of the Cache API that
//! keeps the served model across reloads.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, Result};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = idbPut)]
    fn idb_put_js(store: &str, key: &str, value: &JsValue) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = idbDelete)]
    fn idb_delete_js(store: &str, key: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = idbClear)]
    fn idb_clear_js(store: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = idbEntries)]
    fn idb_entries_js(store: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = droppedFiles)]
    fn dropped_files_js(dt: &web_sys::DataTransfer) -> js_sys::Promise;
    #[wasm_bindgen(js_namespace = ticketsimGlue)]
    fn download(bytes: &js_sys::Uint8Array, name: &str, mime: &str);
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = onUpdateReady)]
    fn on_update_ready_js(cb: &Closure<dyn Fn(String)>);
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = onOfflineReady)]
    fn on_offline_ready_js(cb: &Closure<dyn Fn()>);
    /// Let the newer build that waits take over, and reload the page on it (the service worker,
    /// www/sw.js): the page never runs one build's JS with another's wasm.
    #[wasm_bindgen(js_namespace = ticketsimGlue, js_name = applyUpdate)]
    pub fn apply_update();
}

/// This build's version, as scripts/sw-manifest.py wrote it into index.html; `None` in a page
/// that was not built by Trunk (the wasm tests).
pub fn build_version() -> Option<String> {
    web_sys::window()?
        .document()?
        .query_selector("meta[name=ticketsim-build]")
        .ok()??
        .get_attribute("content")
        .filter(|v| !v.is_empty())
}

/// Call `f(build)` when a newer build of the app is cached and waits to take over.
pub fn on_update_ready(f: impl Fn(String) + 'static) {
    let cb = Closure::<dyn Fn(String)>::new(f);
    on_update_ready_js(&cb);
    // The page lives as long as the callback.
    cb.forget();
}

/// Call `f()` once this build is cached whole, so the app opens without the network.
pub fn on_offline_ready(f: impl Fn() + 'static) {
    let cb = Closure::<dyn Fn()>::new(f);
    on_offline_ready_js(&cb);
    cb.forget();
}

fn js_err(what: &str, e: JsValue) -> Error {
    let msg = e
        .as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"));
    Error::Invalid(format!("{what}: {msg}"))
}

/// IndexedDB stores (see glue.js).
#[derive(Clone, Copy, Debug)]
pub enum Store {
    /// One entry per labelled pair.
    Labels,
    /// Dropped data files, so a reload restores them.
    Files,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Labels => "labels",
            Store::Files => "files",
        }
    }
}

/// Put `value` under `key`; resolves once the write is durable.
pub async fn idb_put(store: Store, key: &str, value: &JsValue) -> Result<()> {
    JsFuture::from(idb_put_js(store.name(), key, value))
        .await
        .map(|_| ())
        .map_err(|e| js_err("saving to IndexedDB", e))
}

/// Delete `key`.
pub async fn idb_delete(store: Store, key: &str) -> Result<()> {
    JsFuture::from(idb_delete_js(store.name(), key))
        .await
        .map(|_| ())
        .map_err(|e| js_err("deleting from IndexedDB", e))
}

/// Delete everything in `store`.
pub async fn idb_clear(store: Store) -> Result<()> {
    JsFuture::from(idb_clear_js(store.name()))
        .await
        .map(|_| ())
        .map_err(|e| js_err("clearing IndexedDB", e))
}

/// Every `(key, value)` of `store`, in key order.
pub async fn idb_entries(store: Store) -> Result<Vec<(String, JsValue)>> {
    let v = JsFuture::from(idb_entries_js(store.name()))
        .await
        .map_err(|e| js_err("reading IndexedDB", e))?;
    Ok(js_sys::Array::from(&v)
        .iter()
        .map(|pair| {
            let pair = js_sys::Array::from(&pair);
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1))
        })
        .collect())
}

/// Read a `File`'s bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| js_err(&file.name(), e))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Every file of a drop (folders walked), as `(path, bytes)`.
pub async fn dropped_files(dt: &web_sys::DataTransfer) -> Result<Vec<(String, Vec<u8>)>> {
    let list = JsFuture::from(dropped_files_js(dt))
        .await
        .map_err(|e| js_err("reading the dropped files", e))?;
    let mut out = Vec::new();
    for item in js_sys::Array::from(&list).iter() {
        let path = js_sys::Reflect::get(&item, &"path".into())
            .ok()
            .and_then(|p| p.as_string())
            .unwrap_or_default();
        let file: web_sys::File = js_sys::Reflect::get(&item, &"file".into())
            .map_err(|e| js_err(&path, e))?
            .dyn_into()
            .map_err(|e| js_err(&path, e))?;
        out.push((path, file_bytes(&file).await?));
    }
    Ok(out)
}

/// The files an `<input type=file>` holds, as `(path, bytes)` (the relative path inside a chosen
/// folder when it was a folder picker).
pub async fn input_files(list: &web_sys::FileList) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for i in 0..list.length() {
        let Some(f) = list.get(i) else { continue };
        let rel = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
            .ok()
            .and_then(|p| p.as_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| f.name());
        out.push((rel, file_bytes(&f).await?));
    }
    Ok(out)
}

/// Offer `bytes` as a download named `name`.
pub fn save_as(bytes: &[u8], name: &str, mime: &str) {
    download(&js_sys::Uint8Array::from(bytes), name, mime);
}

/// The cache that keeps models (the served one, and the last dropped one).
const MODEL_CACHE: &str = "ticketsim-models-v1";

async fn model_cache() -> Result<web_sys::Cache> {
    let window = web_sys::window().ok_or_else(|| Error::Invalid("no window".into()))?;
    let caches = window
        .caches()
        .map_err(|e| js_err("the Cache API (it needs https or localhost)", e))?;
    JsFuture::from(caches.open(MODEL_CACHE))
        .await
        .map_err(|e| js_err("opening the model cache", e))?
        .dyn_into()
        .map_err(|e| js_err("opening the model cache", e))
}

fn dropped_url(path: &str) -> String {
    format!("{}/{path}", super::state::DROPPED_MODEL_URL)
}

/// Keep a dropped model's files in the Cache API (replacing the previous dropped model's), so a
/// new worker can be given them without the user dropping the folder again.
pub async fn cache_dropped_model(files: &[(String, js_sys::Uint8Array)]) -> Result<()> {
    let cache = model_cache().await?;
    let prefix = super::state::DROPPED_MODEL_URL.trim_start_matches('.');
    let keys = JsFuture::from(cache.keys())
        .await
        .map_err(|e| js_err("reading the model cache", e))?;
    for key in js_sys::Array::from(&keys).iter() {
        if let Ok(req) = key.dyn_into::<web_sys::Request>() {
            if req.url().contains(prefix) {
                let _ = JsFuture::from(cache.delete_with_request(&req)).await;
            }
        }
    }
    for (path, bytes) in files {
        let resp = web_sys::Response::new_with_opt_buffer_source(Some(bytes))
            .map_err(|e| js_err(path, e))?;
        JsFuture::from(cache.put_with_str(&dropped_url(path), &resp))
            .await
            .map_err(|e| js_err(&format!("keeping {path}"), e))?;
    }
    Ok(())
}

/// The files [`cache_dropped_model`] kept, by path.
pub async fn dropped_model(paths: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
    let cache = model_cache().await?;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let url = dropped_url(path);
        let hit = JsFuture::from(cache.match_with_str(&url))
            .await
            .map_err(|e| js_err(path, e))?;
        let resp: web_sys::Response = hit
            .dyn_into()
            .map_err(|_| Error::Invalid(format!("{path} is no longer in the browser's cache")))?;
        out.push((path.clone(), crate::web::response_bytes(&resp, &url).await?));
    }
    Ok(out)
}

/// GET `url` through the Cache API: the first load downloads and stores it, later loads (and
/// reloads of the page) read it back without a request. `Ok((bytes, from_cache))`.
pub async fn cached_fetch(url: &str) -> Result<(Vec<u8>, bool)> {
    let window = web_sys::window().ok_or_else(|| Error::Invalid("no window".into()))?;
    // The Cache API needs a secure context (https or localhost); without it, plain fetch.
    let cache: Option<web_sys::Cache> = match window.caches() {
        Ok(caches) => JsFuture::from(caches.open(MODEL_CACHE))
            .await
            .ok()
            .and_then(|c| c.dyn_into().ok()),
        Err(_) => None,
    };
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
            if let Ok(resp) = hit.dyn_into::<web_sys::Response>() {
                return Ok((crate::web::response_bytes(&resp, url).await?, true));
            }
        }
    }
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| js_err(url, e))?
        .dyn_into()
        .map_err(|e| js_err(url, e))?;
    if !resp.ok() {
        return Err(Error::model(url, format!("HTTP {}", resp.status())));
    }
    if let Some(cache) = &cache {
        if let Ok(copy) = resp.clone() {
            let _ = JsFuture::from(cache.put_with_str(url, &copy)).await;
        }
    }
    Ok((crate::web::response_bytes(&resp, url).await?, false))
}
