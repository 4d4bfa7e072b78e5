//! Where computation runs: the `--device cpu|cuda[:N]|auto` choice of the native CLI, and the CUDA
//! memory figures the GPU benchmark reports.
//!
//! CUDA exists only in builds with the `cuda` feature (`make check-cuda`, README "GPU"). Without it
//! `auto` is the CPU and asking for `cuda` is an error that says how to get a CUDA build, so a
//! script written for a GPU machine fails loudly on a CPU-only binary instead of silently running
//! 50× slower.
//!
//! Imports: candle's device and the crate's error type.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

use crate::error::{Error, Result};

/// The device a user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU.
    Cpu,
    /// CUDA GPU number N (`cuda` is `cuda:0`).
    Cuda(usize),
    /// The first CUDA GPU when this build has CUDA and a GPU answers, else the CPU.
    #[default]
    Auto,
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}`: expected cpu, cuda, cuda:N (a GPU index) or auto");
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceChoice::Cpu),
            "auto" => Ok(DeviceChoice::Auto),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:") {
                Some(n) => n.parse().map(DeviceChoice::Cuda).map_err(|_| bad()),
                None => Err(bad()),
            },
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceChoice::Auto => f.write_str("auto"),
        }
    }
}

/// A device ready for tensors, and what to tell the user about it.
#[derive(Clone, Debug)]
pub struct Selected {
    /// The candle device.
    pub device: Device,
    /// `cpu` or `cuda:N (GPU name)`.
    pub label: String,
    /// For `auto`: why this device was picked (printed by the CLI).
    pub note: Option<String>,
}

/// Whether this build can use CUDA at all.
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// Open the device `choice` names.
pub fn select(choice: DeviceChoice) -> Result<Selected> {
    let cpu = |note: Option<String>| Selected {
        device: Device::Cpu,
        label: "cpu".into(),
        note,
    };
    match choice {
        DeviceChoice::Cpu => Ok(cpu(None)),
        DeviceChoice::Cuda(n) => open_cuda(n),
        DeviceChoice::Auto if !CUDA_BUILT => Ok(cpu(None)),
        DeviceChoice::Auto => match open_cuda(0) {
            Ok(mut s) => {
                s.note = Some(format!("--device auto picked {}", s.label));
                Ok(s)
            }
            Err(e) => Ok(cpu(Some(format!(
                "--device auto picked cpu: no CUDA GPU answered ({e})"
            )))),
        },
    }
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(n: usize) -> Result<Selected> {
    Err(Error::Invalid(format!(
        "--device cuda:{n}: this binary was built without CUDA; build it with \
         `cargo build --release --features cuda` (`make check-cuda` installs the toolkit, README \"GPU\")"
    )))
}

#[cfg(feature = "cuda")]
fn open_cuda(n: usize) -> Result<Selected> {
    let device =
        Device::new_cuda(n).map_err(|e| Error::Invalid(format!("--device cuda:{n}: {e}")))?;
    let dev = device
        .as_cuda_device()
        .map_err(|e| Error::Invalid(format!("--device cuda:{n}: {e}")))?;
    let name = dev
        .cuda_stream()
        .context()
        .name()
        .unwrap_or_else(|_| "unnamed GPU".into());
    cuda::keep_freed_memory(dev)?;
    Ok(Selected {
        device,
        label: format!("cuda:{n} ({name})"),
        note: None,
    })
}

/// Memory held by tensors on a CUDA device: the high-water mark of its memory pool since the last
/// [`reset_peak_memory`] (what `torch.cuda.max_memory_allocated` measures for PyTorch), in bytes.
/// `None` on the CPU, or when the GPU does not allocate from a pool.
pub fn peak_memory(device: &Device) -> Option<u64> {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(dev) = device {
        return cuda::pool_attribute(
            dev,
            cudarc_sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_HIGH,
        );
    }
    let _ = device;
    None
}

/// Start a new [`peak_memory`] window.
pub fn reset_peak_memory(device: &Device) {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(dev) = device {
        cuda::reset_used_high(dev);
    }
    let _ = device;
}

/// Wait until the device has finished the work queued so far (timing a GPU needs it; a no-op on
/// the CPU, where every op has finished when it returns).
pub fn synchronize(device: &Device) -> Result<()> {
    device
        .synchronize()
        .map_err(|e| Error::Candle(format!("{e}")))
}

#[cfg(feature = "cuda")]
use candle_core::cuda_backend::cudarc::driver::sys as cudarc_sys;

#[cfg(feature = "cuda")]
mod cuda {
    use super::cudarc_sys as sys;
    use crate::error::{Error, Result};
    use candle_core::cuda_backend::cudarc::driver::result::{device, mem_pool};
    use candle_core::CudaDevice;

    /// The pool `cuMemAllocAsync` draws from on this device, when it allocates asynchronously.
    fn pool(dev: &CudaDevice) -> Option<sys::CUmemoryPool> {
        let stream = dev.cuda_stream();
        let ctx = stream.context();
        if !ctx.has_async_alloc() || ctx.bind_to_thread().is_err() {
            return None;
        }
        // SAFETY: the device handle comes from a live context.
        unsafe { device::get_mem_pool(ctx.cu_device()) }.ok()
    }

    /// Keep freed memory in the pool instead of returning it to the driver at every
    /// synchronisation: training frees and re-allocates the same activation sizes every step, and
    /// re-mapping them each time is slow. PyTorch's caching allocator behaves the same way.
    pub fn keep_freed_memory(dev: &CudaDevice) -> Result<()> {
        let Some(pool) = pool(dev) else {
            return Ok(());
        };
        let mut keep = u64::MAX;
        // SAFETY: valid pool; the release threshold is a u64 (cuuint64_t).
        unsafe {
            mem_pool::set_attribute(
                pool,
                sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                &mut keep as *mut u64 as *mut std::ffi::c_void,
            )
        }
        .map_err(|e| Error::Invalid(format!("CUDA memory pool: {e}")))
    }

    pub fn pool_attribute(dev: &CudaDevice, attr: sys::CUmemPool_attribute) -> Option<u64> {
        let pool = pool(dev)?;
        let mut v = 0u64;
        // SAFETY: valid pool; the *_MEM_* attributes are u64 (cuuint64_t).
        unsafe { mem_pool::get_attribute(pool, attr, &mut v as *mut u64 as *mut std::ffi::c_void) }
            .ok()?;
        Some(v)
    }

    pub fn reset_used_high(dev: &CudaDevice) {
        if let Some(pool) = pool(dev) {
            // Only 0 may be written: it resets the high-water mark to the current use.
            let mut zero = 0u64;
            // SAFETY: as above.
            let _ = unsafe {
                mem_pool::set_attribute(
                    pool,
                    sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_USED_MEM_HIGH,
                    &mut zero as *mut u64 as *mut std::ffi::c_void,
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("CUDA".parse(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(3)));
        assert_eq!(" auto ".parse(), Ok(DeviceChoice::Auto));
        for bad in ["cuda:", "cuda:-1", "cuda:x", "metal", ""] {
            let e = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(e.contains("expected cpu, cuda"), "{bad}: {e}");
        }
        for c in [DeviceChoice::Cpu, DeviceChoice::Cuda(2), DeviceChoice::Auto] {
            assert_eq!(c.to_string().parse(), Ok(c));
        }
    }

    #[test]
    fn cpu_and_auto_without_cuda() {
        let s = select(DeviceChoice::Cpu).unwrap();
        assert!(s.device.is_cpu() && s.label == "cpu" && s.note.is_none());
        assert_eq!(peak_memory(&s.device), None);
        if !CUDA_BUILT {
            assert!(select(DeviceChoice::Auto).unwrap().device.is_cpu());
            let e = select(DeviceChoice::Cuda(0)).unwrap_err().to_string();
            assert!(
                e.contains("built without CUDA") && e.contains("--features cuda"),
                "{e}"
            );
        }
    }
}
