//! Data parallelism across batches.
//!
//! candle parallelises *inside* each op (GEMM on rayon, element-wise ops on a spinning barrier pool).
//! For the small matrices of short tickets that costs more than it gains: profiling `bench embed`
//! on 2 cores showed ~27% of the time spent spinning at barriers and only 42% in GEMM. Running whole
//! batches on separate threads, each with single-threaded kernels, removes the synchronisation.
//!
//! The process chooses one mode at start-up: `use_batch_parallelism` (native only) sets candle's
//! intra-op thread count to 1 (the CLI does this), after which [`map`] spreads batches over all
//! cores. Without it, [`map`] runs sequentially and candle parallelises each op, as before. In wasm
//! there is one thread.
//!
//! Imports: rayon (natively) and nothing of the crate.

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

/// Threads [`map`] uses: all cores when candle's kernels are single-threaded, else one.
pub fn data_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        if candle_core::utils::get_num_threads() == 1 {
            return std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
        }
    }
    1
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
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        let next = AtomicUsize::new(0);
        let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items.len() {
                        break;
                    }
                    let r = f(&items[i]);
                    slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                });
            }
        });
        slots
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| {
                r.expect("every item was processed (a panicking worker propagates through scope)")
            })
            .collect()
    }
    #[cfg(target_arch = "wasm32")]
    unreachable!("one thread in wasm")
}
