//! The page's handle on the Web Worker: typed requests out, typed responses in. Requests with an
//! id are awaited (the answer resolves the caller's future); the rest — progress of fine-tuning,
//! model loads, errors without an id — go to the event handler, which updates the app's signals.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::protocol::{Request, Response, Slot};

/// Where Trunk puts the single-threaded worker's loader (see www/index.html: `data-bin="worker"`,
/// `data-loader-shim`).
pub const WORKER_URL: &str = "./worker_loader.js";

/// The threaded worker's loader (scripts/build-worker-mt.sh, a Trunk post-build hook).
pub const THREADED_WORKER_URL: &str = "./mt/worker_loader.js";

/// The channel a crashed pool thread reports on and the listener that must live as long as it.
type PoolCrash = (web_sys::BroadcastChannel, Closure<dyn FnMut(MessageEvent)>);

/// What a call answers when its worker stopped before answering ([`WorkerClient::call`]).
pub const WENT_AWAY: &str = "the worker went away";

/// The BroadcastChannel a crashed pool thread reports on (`www/mt/pool_worker.js`).
pub const POOL_CRASH_CHANNEL: &str = "ticketsim-pool";

/// Whether the page can run the threaded worker: `Err` says why not, in words for the user. Threads
/// share one wasm memory, which browsers give only to cross-origin isolated pages (the server
/// sends `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy:
/// require-corp`); the threaded build is also the relaxed-SIMD one (`scripts/build-worker-mt.sh`).
pub fn fastest_mode() -> Result<(), String> {
    let global = js_sys::global();
    let isolated = js_sys::Reflect::get(&global, &"crossOriginIsolated".into())
        .map(|v| v.is_truthy())
        .unwrap_or(false);
    if !isolated {
        return Err(
            "this page is not cross-origin isolated (its server does not send the \
                    COOP/COEP headers), so the browser gives it no shared memory and it computes \
                    on one core"
                .into(),
        );
    }
    if !js_sys::Reflect::has(&global, &"SharedArrayBuffer".into()).unwrap_or(false) {
        return Err("this browser has no SharedArrayBuffer: it computes on one core".into());
    }
    if !relaxed_simd() {
        return Err(
            "this browser has no relaxed SIMD (the fused multiply-add the threaded \
                    build's matrix kernel uses; Chrome 114+, Firefox 145+), so it runs the \
                    single-threaded build"
                .into(),
        );
    }
    Ok(())
}

/// A module whose one function computes `f32x4.relaxed_madd` of three constants: it validates
/// exactly where the browser runs relaxed SIMD. A module using an instruction the engine lacks
/// fails to compile as a whole, so the page must pick the build before loading it.
#[rustfmt::skip]
const RELAXED_SIMD_PROBE: [u8; 82] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: one, () -> v128
    0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
    0x0a, 0x3d, 0x01, 0x3b, 0x00, // code: one body of 59 bytes, no locals
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // v128.const 0
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105, LEB128)
    0x0b, // end
];

/// Whether this browser runs relaxed SIMD: it validates a module of one `f32x4.relaxed_madd`.
pub fn relaxed_simd() -> bool {
    let bytes = js_sys::Uint8Array::from(&RELAXED_SIMD_PROBE[..]);
    js_sys::WebAssembly::validate(&bytes.into()).unwrap_or(false)
}

/// Logical cores the browser reports.
pub fn hardware_threads() -> usize {
    web_sys::window()
        .map(|w| w.navigator().hardware_concurrency() as usize)
        .unwrap_or(1)
        .max(1)
}

/// Cores the page offers by default: what the browser reports, at most
/// [`crate::protocol::MAX_THREADS`].
pub fn default_threads() -> usize {
    hardware_threads().min(crate::protocol::MAX_THREADS)
}

type Pending = RefCell<HashMap<u64, oneshot::Sender<Result<Response, String>>>>;

/// A running worker.
pub struct WorkerClient {
    worker: Worker,
    /// Messages sent before the worker's module has started would be lost: they wait here.
    queue: RefCell<Option<Vec<JsValue>>>,
    next_id: Cell<u64>,
    pending: Rc<Pending>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    /// Where the threaded worker's pool threads report a crash (see `www/mt/pool_worker.js`).
    _pool_crash: Option<PoolCrash>,
    /// The worker crashed or was terminated: it is reported once and never again.
    stopped: Rc<Cell<bool>>,
}

impl WorkerClient {
    /// Start the worker; `on_event` receives every response that is not the answer to a call, and
    /// `on_crash` what the browser says when the worker (or one of its pool threads) stopped: the
    /// worker cannot answer any more, calls still waiting fail, and the caller should
    /// [`WorkerClient::terminate`] it and start another. The threaded build is started when
    /// [`fastest_mode`] allows, else the single-threaded one.
    pub fn spawn(
        on_event: impl Fn(Response) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Result<Rc<Self>, String> {
        let url = if fastest_mode().is_ok() {
            THREADED_WORKER_URL
        } else {
            WORKER_URL
        };
        Self::start(url, "worker", on_event, on_crash)
    }

    /// Start a worker that only reads data files ([`Request::ReadFile`],
    /// [`Request::GeneratePairs`]): the single-threaded build, with no model. Apart from the
    /// compute worker, so that a dropped file is read at once while a training step holds that
    /// one for seconds, and so that a file too big for a tab's memory takes down only this one.
    pub fn spawn_reader(on_crash: impl Fn(String) + 'static) -> Result<Rc<Self>, String> {
        Self::start(WORKER_URL, "reader", |_| {}, on_crash)
    }

    fn start(
        url: &str,
        role: &str,
        on_event: impl Fn(Response) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Result<Rc<Self>, String> {
        // A name of its own: its pool threads report crashes under it, and the page ignores the
        // reports of a worker it already replaced (every pool thread of a crashed worker reports).
        thread_local!(static STARTED: Cell<u32> = const { Cell::new(0) });
        let name = format!(
            "ticketsim {role} {}",
            STARTED.with(|n| {
                n.set(n.get() + 1);
                n.get()
            })
        );
        let opts = web_sys::WorkerOptions::new();
        opts.set_name(&name);
        let worker = Worker::new_with_options(url, &opts)
            .map_err(|e| format!("cannot start the worker: {e:?}"))?;
        let pending: Rc<Pending> = Rc::new(RefCell::new(HashMap::new()));
        let stopped = Rc::new(Cell::new(false));
        let stopped_in = stopped.clone();
        let client = Rc::new_cyclic(|weak: &std::rc::Weak<WorkerClient>| {
            let weak = weak.clone();
            let pending_in = pending.clone();
            let on_event = Rc::new(on_event);
            // Said once per worker: a pool thread's trap reaches the page twice (its own report,
            // then the error bubbling up through the worker), and a terminated worker says nothing.
            let on_crash = Rc::new(move |what: String| {
                if !stopped_in.replace(true) {
                    on_crash(what);
                }
            });
            let on_crash_pool = on_crash.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let resp = match serde_wasm_bindgen::from_value::<Response>(ev.data()) {
                    Ok(r) => r,
                    Err(e) => {
                        on_event(Response::Error {
                            id: None,
                            message: format!("unreadable message from the worker: {e}"),
                        });
                        return;
                    }
                };
                let id = match &resp {
                    Response::Embeddings { id, .. }
                    | Response::Classified { id, .. }
                    | Response::Similar { id, .. }
                    | Response::Neighbours { id, .. }
                    | Response::Backlog { id, .. }
                    | Response::Exported { id, .. }
                    | Response::Estimated { id, .. }
                    | Response::Benched { id, .. }
                    | Response::FileRead { id, .. }
                    | Response::PairsGenerated { id, .. } => Some(*id),
                    Response::Error { id, .. } => *id,
                    _ => None,
                };
                if let Some(id) = id {
                    if let Some(tx) = pending_in.borrow_mut().remove(&id) {
                        let _ = tx.send(match resp {
                            Response::Error { message, .. } => Err(message),
                            r => Ok(r),
                        });
                        return;
                    }
                }
                if matches!(resp, Response::Ready) {
                    if let Some(me) = weak.upgrade() {
                        me.flush();
                    }
                }
                on_event(resp);
            });
            let on_error =
                Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                    on_crash(ev.message());
                });
            // A pool thread that traps leaves the worker blocked on its job, unable to answer: the
            // thread tells the page itself.
            let pool_crash = (url == THREADED_WORKER_URL)
                .then(|| web_sys::BroadcastChannel::new(POOL_CRASH_CHANNEL).ok())
                .flatten()
                .map(|channel| {
                    let on = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                        let said = ev.data().as_string().unwrap_or_default();
                        if let Some(what) = said.strip_prefix(&format!("{name} pool ")) {
                            on_crash_pool(format!("a compute thread stopped: pool thread {what}"));
                        }
                    });
                    channel.set_onmessage(Some(on.as_ref().unchecked_ref()));
                    (channel, on)
                });
            WorkerClient {
                stopped,
                _pool_crash: pool_crash,
                worker: worker.clone(),
                queue: RefCell::new(Some(Vec::new())),
                next_id: Cell::new(1),
                pending,
                _on_message: on_message,
                _on_error: on_error,
            }
        });
        client
            .worker
            .set_onmessage(Some(client._on_message.as_ref().unchecked_ref()));
        client
            .worker
            .set_onerror(Some(client._on_error.as_ref().unchecked_ref()));
        Ok(client)
    }

    /// Stop the worker (and its pool threads, which it owns) and fail every call still waiting.
    pub fn terminate(&self) {
        self.stopped.set(true);
        self.worker.terminate();
        if let Some((channel, _)) = &self._pool_crash {
            channel.set_onmessage(None);
            channel.close();
        }
        // Dropping the senders resolves each waiting call with "the worker went away".
        self.pending.borrow_mut().clear();
    }

    fn flush(&self) {
        let queued = self.queue.borrow_mut().take().unwrap_or_default();
        for m in queued {
            let _ = self.worker.post_message(&m);
        }
    }

    /// Send a request whose results arrive as events.
    pub fn send(&self, req: &Request) {
        let v = match serde_wasm_bindgen::to_value(req) {
            Ok(v) => v,
            Err(e) => {
                web_sys::console::error_1(&format!("cannot serialise a request: {e}").into());
                return;
            }
        };
        let mut q = self.queue.borrow_mut();
        match q.as_mut() {
            Some(q) => q.push(v),
            None => {
                let _ = self.worker.post_message(&v);
            }
        }
    }

    /// Embed `texts` with one model: the vectors, the worker's milliseconds and how many texts it
    /// encoded in them (the rest came from its cache).
    pub async fn encode(
        &self,
        slot: Slot,
        texts: Vec<String>,
    ) -> Result<(Vec<Vec<f32>>, f64, usize), String> {
        match self.call(|id| Request::Encode { id, slot, texts }).await? {
            Response::Embeddings {
                vectors,
                ms,
                encoded,
                ..
            } => Ok((vectors, ms, encoded)),
            other => Err(format!("unexpected answer from the worker: {other:?}")),
        }
    }

    /// Each text's `k` nearest others under one model, computed in the worker (progress arrives
    /// as [`Response::Progress`] events): per text `(index, cosine)` best first, and how many
    /// texts the model encoded (the rest came from the cache).
    pub async fn neighbours(
        &self,
        slot: Slot,
        texts: Vec<String>,
        k: usize,
    ) -> Result<(crate::protocol::NeighbourRows, usize), String> {
        match self
            .call(|id| Request::Neighbours { id, slot, texts, k })
            .await?
        {
            Response::Neighbours { rows, encoded, .. } => Ok((rows, encoded)),
            other => Err(format!("unexpected answer from the worker: {other:?}")),
        }
    }

    /// Send a request built with a fresh id and wait for its answer (an `Err` carries the worker's
    /// message).
    pub async fn call(&self, make: impl FnOnce(u64) -> Request) -> Result<Response, String> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (tx, rx) = oneshot::channel();
        self.pending.borrow_mut().insert(id, tx);
        self.send(&make(id));
        rx.await.unwrap_or_else(|_| Err(WENT_AWAY.into()))
    }
}
