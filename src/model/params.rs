//! The parameter store: every weight of a model is a candle [`Var`], addressed by its Hugging Face
//! name, so the same store serves inference, training (the optimiser gets `vars()`) and saving back to
//! `model.safetensors` with the original tensor names.
//!
//! Model code asks for tensors through candle's [`VarBuilder`] (`vb.pp("encoder").get(..)`), exactly
//! like candle-transformers. Unlike candle's `VarMap`, a store loaded from a file never invents a
//! missing weight (that would silently give a random model); only a store made with
//! [`ParamStore::seeded`] creates weights, from its own seeded generator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use crate::error::{Error, Result};
use crate::rng::Rng;

#[derive(Debug)]
struct Inner {
    /// Trainable float tensors, by name.
    vars: BTreeMap<String, Var>,
    /// Non-float tensors of the file (e.g. `embeddings.position_ids`), kept so saving round-trips.
    buffers: BTreeMap<String, Tensor>,
    /// Present only for randomly initialised stores.
    init_rng: Option<Rng>,
    /// File name used in error messages.
    file: String,
}

/// Named model weights, shared (cheaply cloneable) between the model and the optimiser.
#[derive(Clone, Debug)]
pub struct ParamStore {
    inner: Arc<Mutex<Inner>>,
    device: Device,
}

impl ParamStore {
    /// Load every tensor of a safetensors buffer. Float tensors become `Var`s in f32.
    /// `file` names the source in error messages.
    pub fn from_safetensors(bytes: &[u8], file: &str, device: &Device) -> Result<Self> {
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| {
            Error::model(
                file,
                format!(
                    "not a readable safetensors file ({})",
                    crate::error::candle_message(&e)
                ),
            )
        })?;
        if tensors.is_empty() {
            return Err(Error::model(file, "holds no tensors"));
        }
        let mut vars = BTreeMap::new();
        let mut buffers = BTreeMap::new();
        for (name, t) in tensors {
            if t.dtype().is_float() {
                let t = t.to_dtype(DType::F32)?.to_device(device)?;
                vars.insert(name, Var::from_tensor(&t)?);
            } else {
                buffers.insert(name, t);
            }
        }
        Ok(ParamStore {
            inner: Arc::new(Mutex::new(Inner {
                vars,
                buffers,
                init_rng: None,
                file: file.into(),
            })),
            device: device.clone(),
        })
    }

    /// An empty store that creates each weight on first request from a generator seeded with `seed`
    /// (normal / constant / uniform as the model asks). Used for tiny test models and new heads.
    pub fn seeded(seed: u64, device: &Device) -> Self {
        ParamStore {
            inner: Arc::new(Mutex::new(Inner {
                vars: BTreeMap::new(),
                buffers: BTreeMap::new(),
                init_rng: Some(Rng::new(seed)),
                file: "<random init>".into(),
            })),
            device: device.clone(),
        }
    }

    /// A candle `VarBuilder` over this store (f32, on the store's device).
    pub fn var_builder(&self) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), DType::F32, self.device.clone())
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// All trainable variables with their names, in name order.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let inner = self.lock();
        inner
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether a tensor of that name is stored.
    pub fn contains(&self, name: &str) -> bool {
        let inner = self.lock();
        inner.vars.contains_key(name) || inner.buffers.contains_key(name)
    }

    /// Number of scalar parameters over all variables.
    pub fn num_parameters(&self) -> usize {
        self.lock().vars.values().map(|v| v.elem_count()).sum()
    }

    /// Every stored tensor (variables and buffers), by name, on the CPU — ready for safetensors.
    pub fn tensors(&self) -> Result<BTreeMap<String, Tensor>> {
        let inner = self.lock();
        let mut out = BTreeMap::new();
        for (k, v) in &inner.vars {
            out.insert(k.clone(), v.as_tensor().to_device(&Device::Cpu)?);
        }
        for (k, t) in &inner.buffers {
            out.insert(k.clone(), t.clone());
        }
        Ok(out)
    }

    /// Serialise every tensor to safetensors bytes under its original name.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let tensors = self.tensors()?;
        safetensors::tensor::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), None)
            .map_err(|e| Error::Invalid(format!("cannot serialise weights ({e})")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-written (inserts are atomic),
        // so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn random_tensor(rng: &mut Rng, shape: &Shape, init: Init, dev: &Device) -> Result<Tensor> {
    let n = shape.elem_count();
    let data: Vec<f32> = match init {
        Init::Const(c) => vec![c as f32; n],
        Init::Randn { mean, stdev } => (0..n)
            .map(|_| (mean + stdev * rng.normal()) as f32)
            .collect(),
        Init::Uniform { lo, up } => (0..n)
            .map(|_| (lo + (up - lo) * rng.next_f64()) as f32)
            .collect(),
        // Kaiming-normal with fan-in = last dim, the common linear-layer choice.
        Init::Kaiming { .. } => {
            let fan_in = shape.dims().last().copied().unwrap_or(1).max(1) as f64;
            let std = (2.0 / fan_in).sqrt();
            (0..n).map(|_| (std * rng.normal()) as f32).collect()
        }
    };
    Ok(Tensor::from_vec(data, shape.clone(), dev)?)
}

impl SimpleBackend for ParamStore {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut inner = self.lock();
        if let Some(v) = inner.vars.get(name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "tensor `{name}` has shape {:?}, the model config expects {:?}",
                    v.shape().dims(),
                    s.dims()
                );
            }
            // The Var's own tensor (not a copy): optimiser updates are seen by the model.
            return v.as_tensor().to_dtype(dtype)?.to_device(dev);
        }
        match inner.init_rng.as_mut() {
            Some(rng) => {
                let t = random_tensor(rng, &s, h, dev).map_err(candle_core::Error::wrap)?;
                let var = Var::from_tensor(&t)?;
                let t = var.as_tensor().clone();
                inner.vars.insert(name.to_string(), var);
                Ok(t)
            }
            None => candle_core::bail!("missing tensor `{name}`"),
        }
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let inner = self.lock();
        match (inner.vars.get(name), inner.buffers.get(name)) {
            (Some(v), _) => v.as_tensor().to_dtype(dtype)?.to_device(dev),
            (None, Some(t)) => t.to_dtype(dtype)?.to_device(dev),
            _ => candle_core::bail!("{}: missing tensor `{name}`", inner.file),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.contains(name)
    }
}
