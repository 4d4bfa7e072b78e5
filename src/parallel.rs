//! Data parallelism across batches.
//!
//! candle parallelises *inside* each op (GEMM on rayon, element-wise ops on a spinning barrier pool).
//! For the small matrices of short tickets that costs more than it gains: profiling `bench embed`
//! on 2 cores showed ~27% of the time spent spinning at barriers and only 42% in GEMM. Running whole
//! batches on separate threads, each with single-threaded kernels, removes the synchronisation.
//!
//! The process chooses one mode at start-up: `use_batch_parallelism` (native only) sets candle's
//! intra-op thread count to 1 (the CLI does this), after which [`map`] spreads batches over all
//! cores. Without it, [`map`] runs sequentially and candle parallelises each op, as before.
//!
//! In the browser, the threaded build of the worker (wasm atomics, shared memory; see
//! `scripts/build-worker-mt.sh`) runs the same [`map`] on a rayon pool whose threads are Web
//! Workers sharing the module's memory (`web_pool`, compiled only there); candle's kernels stay single-threaded there
//! (candle sees one CPU in wasm). The single-threaded build runs [`map`] in order. Either way the
//! items and the order their results are combined in are the same, so a run's numbers do not depend
//! on the thread count.
//!
//! Imports: std threads (natively), rayon and wasm-bindgen (threaded wasm); nothing of the crate.

/// Switch the process to batch-level parallelism. Call at start-up, before any other thread runs:
/// it sets `RAYON_NUM_THREADS=1` (read by candle on every op) unless the user set it.
#[cfg(not(target_arch = "wasm32"))]
pub fn use_batch_parallelism() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // Sound here: called by `main` before any thread is spawned (edition 2021's safe set_var).
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
}

/// Make glibc's allocator keep freed memory instead of returning it to the kernel. A training step
/// allocates and frees hundreds of activation-sized buffers; with the default thresholds many come
/// straight from `mmap` and go back with `munmap`, so every step pays page faults and zeroing of
/// fresh pages again (~12% of a step in `perf`). Measured on `bench train`: 0.90× → 1.19× of the
/// reference. Call at start-up; does nothing off glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is safe to call at any time.
    unsafe {
        // Largest allowed mmap threshold on 64-bit glibc (32 MiB); fixed, so it is not adapted.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

thread_local! {
    /// The most threads [`map`] may use on this thread ([`at_most`]); `usize::MAX` when unbounded.
    static CAP: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Run `f` with [`map`] (and [`data_threads`]) on this thread limited to `threads` (at least one).
/// The browser's worker runs its background work (encoding every ticket for the labelling queue or
/// find similar) on one thread fewer than the pool has: on a machine whose cores the pool fills,
/// the page's own thread otherwise waits behind the pool for a core and the page stalls although
/// it does nothing. The limit is restored when `f` returns or unwinds; keep `f` synchronous (a
/// task that yields inside would leave the limit on for whatever runs meanwhile).
pub fn at_most<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            CAP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CAP.with(|c| c.replace(threads.max(1))));
    f()
}

/// Threads [`map`] uses: all cores when candle's kernels are single-threaded, else one; in the
/// browser, the worker pool's threads (one without a pool); never more than [`at_most`] allows.
pub fn data_threads() -> usize {
    unbounded_threads().min(CAP.with(|c| c.get()))
}

/// [`data_threads`] without the [`at_most`] limit.
fn unbounded_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        if candle_core::utils::get_num_threads() == 1 {
            return std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
        }
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    if let Some(pool) = web_pool::current() {
        return pool.current_num_threads();
    }
    1
}

/// Threads for work the user did not start and waits on only loosely (the labelling queue, find
/// similar): one fewer than [`data_threads`] when there are several, so that the page's thread keeps
/// a core (see [`at_most`]).
pub fn background_threads() -> usize {
    data_threads().saturating_sub(1).max(1)
}

/// `items.iter().map(f).collect()`, spread over [`data_threads`] threads that each take the next
/// unprocessed item; results keep the input order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = data_threads().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        pulling(items, &f, |body| {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(body);
                }
            })
        })
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    {
        use rayon::prelude::*;
        let pool = web_pool::current().expect("data_threads() > 1 means a pool");
        if threads < pool.current_num_threads().min(items.len()) {
            // Limited by `at_most`: as many pulling loops as threads allowed, so the pool's other
            // threads stay idle (a parallel iterator would use them all).
            return pulling(items, &f, |body| {
                pool.install(|| {
                    rayon::scope(|s| {
                        for _ in 0..threads {
                            s.spawn(|_| body());
                        }
                    })
                })
            });
        }
        // Indexed collect: results in input order whichever thread computed them.
        pool.install(|| items.par_iter().map(&f).collect())
    }
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    unreachable!("one thread in the single-threaded wasm build")
}

/// [`map`] by loops that each take the next unprocessed item until none is left; `run` runs the
/// loop `body` on as many threads as it means to use at once and returns when all have finished.
/// Results keep the input order.
#[cfg(any(
    not(target_arch = "wasm32"),
    all(target_arch = "wasm32", target_feature = "atomics")
))]
fn pulling<T: Sync, R: Send>(
    items: &[T],
    f: &(impl Fn(&T) -> R + Sync),
    run: impl FnOnce(&(dyn Fn() + Sync)),
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    run(&|| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= items.len() {
            break;
        }
        let r = f(&items[i]);
        slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was processed (a panicking thread propagates through scope)"))
        .collect()
}

/// Like [`map`] for work that needs each item mutably (one group of parameters per thread in the
/// optimiser's update).
pub fn map_mut<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut T) -> R + Sync) -> Vec<R> {
    let threads = data_threads().min(items.len());
    if threads <= 1 {
        return items.iter_mut().map(f).collect();
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .iter_mut()
                .map(|t| scope.spawn(move || f(t)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    {
        use rayon::prelude::*;
        let pool = web_pool::current().expect("data_threads() > 1 means a pool");
        pool.install(|| items.par_iter_mut().map(&f).collect())
    }
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    unreachable!("one thread in the single-threaded wasm build")
}

thread_local! {
    /// Set on the pool's threads of the threaded wasm build ([`web_pool`]); `const` so reading it
    /// never allocates (the allocator's failure report asks it).
    static ON_POOL_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is one of the threaded wasm build's pool threads (not the worker's
/// own thread); always false natively.
pub fn on_pool_thread() -> bool {
    ON_POOL_THREAD.with(|on| on.get())
}

/// The threaded browser build's pool: rayon threads that are Web Workers running the same wasm
/// module on the same shared memory. The worker that owns the model starts them
/// (`www/pool_worker.js`), waits until each has called [`pool_thread`] and blocks there, then
/// [`install`]s the pool; rayon hands each blocked worker its thread through a [`Handoff`]. This is
/// what wasm-bindgen-rayon does, without its ES-module loader: Trunk builds workers as classic
/// scripts.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub mod web_pool {
    use std::sync::{mpsc, Arc, Mutex, RwLock};

    use wasm_bindgen::prelude::*;

    static POOL: RwLock<Option<Arc<rayon::ThreadPool>>> = RwLock::new(None);

    /// Where the threads of one pool pick up their rayon thread.
    pub struct Handoff {
        rx: Mutex<mpsc::Receiver<rayon::ThreadBuilder>>,
        tx: Mutex<Option<mpsc::Sender<rayon::ThreadBuilder>>>,
    }

    /// A new handoff, as the number the pool's workers are given. It lives as long as the page
    /// (a few bytes per pool ever started): the workers may still read it after the pool is gone.
    pub fn handoff() -> u32 {
        let (tx, rx) = mpsc::channel();
        let h: &'static Handoff = Box::leak(Box::new(Handoff {
            rx: Mutex::new(rx),
            tx: Mutex::new(Some(tx)),
        }));
        h as *const Handoff as u32
    }

    fn get(handoff: u32) -> &'static Handoff {
        // SAFETY: `handoff` came from [`handoff`], which leaks the box, so it is valid forever.
        unsafe { &*(handoff as *const Handoff) }
    }

    /// A pool worker's entry point once its instance shares the module's memory: wait for a rayon
    /// thread from `handoff` and run it until the pool is dropped (then the worker closes).
    #[wasm_bindgen(js_name = poolThread)]
    pub fn pool_thread(handoff: u32) {
        super::ON_POOL_THREAD.with(|on| on.set(true));
        let thread = get(handoff)
            .rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recv();
        if let Ok(thread) = thread {
            thread.run();
        }
    }

    /// Make `threads` workers blocked in [`pool_thread`] on `handoff` the pool [`super::map`]
    /// uses, replacing the previous one (whose threads end once their work is done).
    pub fn install(handoff: u32, threads: usize) -> Result<(), String> {
        let tx = get(handoff)
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or("this pool's threads were already handed out")?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("ticketsim pool {i}"))
            .spawn_handler(move |thread| {
                tx.send(thread)
                    .map_err(|_| std::io::Error::other("the pool's workers are gone"))
            })
            .build()
            .map_err(|e| format!("cannot start the thread pool: {e}"))?;
        *POOL.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(pool));
        Ok(())
    }

    /// Back to one thread: the pool is dropped, its threads return from [`pool_thread`].
    pub fn clear() {
        POOL.write().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The installed pool, if any.
    pub fn current() -> Option<Arc<rayon::ThreadPool>> {
        POOL.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_limits_map_and_is_undone_even_by_a_panic() {
        let before = data_threads();
        assert_eq!(at_most(1, data_threads), 1);
        assert_eq!(at_most(0, data_threads), 1, "never fewer than one thread");
        assert!(at_most(2, data_threads) <= 2);
        assert_eq!(data_threads(), before);
        let r = std::panic::catch_unwind(|| at_most(1, || panic!("inside")));
        assert!(r.is_err());
        assert_eq!(
            data_threads(),
            before,
            "the limit is restored when f unwinds"
        );
        assert_eq!(background_threads(), before.saturating_sub(1).max(1));
    }

    #[test]
    fn a_limited_map_keeps_the_order_and_uses_no_more_threads() {
        let items: Vec<usize> = (0..64).collect();
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        let out = at_most(2, || {
            map(&items, |&i| {
                seen.lock().unwrap().insert(std::thread::current().id());
                i * 3
            })
        });
        assert_eq!(out, items.iter().map(|i| i * 3).collect::<Vec<_>>());
        assert!(seen.lock().unwrap().len() <= 2);
    }
}
