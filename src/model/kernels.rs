//! Fused CPU kernels that carry their own backward.
//!
//! Profiling `bench embed` showed candle's GELU spending ~10% of all time in a scalar libm `erff`.
//! [`gelu_erf`] computes the same exact-erf GELU in one pass with a rational erf approximation that
//! compilers vectorise (AVX2/FMA chosen at run time natively, SIMD128 in wasm), and registers its
//! derivative so training flows through it. Other devices and dtypes use candle's op.
//!
//! [`layer_norm`] and [`softmax_last_dim`] exist for training: candle's fused versions have no
//! backward (the gradient silently stops), and the differentiable compositions of a dozen tensor ops
//! each cost about a fifth of a training step in allocations and passes over memory. These do one
//! pass forward and one backward, with the backward's maths written out.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor,
};

/// `0.5 x (1 + erf(x / sqrt 2))`, differentiable.
pub fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        x.contiguous()?.apply_op1(GeluErf)
    } else {
        x.gelu_erf()
    }
}

/// erf for f32 as a ratio of an odd and an even polynomial on [-4, 4] (outside, erf is ±1 in f32).
/// Coefficients are Eigen's `generic_fast_erf_float`; max |error| against f64 erf is checked below.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2.mul_add(-2.726_142_3e-10, 2.770_681_4e-8);
    p = x2.mul_add(p, -2.101_024e-6);
    p = x2.mul_add(p, -5.692_506_4e-5);
    p = x2.mul_add(p, -7.349_906_3e-4);
    p = x2.mul_add(p, -2.954_600_1e-3);
    p = x2.mul_add(p, -1.609_603_3e-2);
    p *= x;
    let mut q = x2.mul_add(-1.456_607_2e-5, -2.133_740_6e-4);
    q = x2.mul_add(q, -1.682_827e-3);
    q = x2.mul_add(q, -7.373_329e-3);
    q = x2.mul_add(q, -1.426_474e-2);
    p / q
}

#[inline(always)]
fn gelu_scalar(v: f32) -> f32 {
    0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2))
}

/// d/dx GELU = Φ(x) + x φ(x).
#[inline(always)]
fn gelu_grad_scalar(v: f32) -> f32 {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    0.5 * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2)) + v * INV_SQRT_2PI * (-0.5 * v * v).exp()
}

macro_rules! elementwise {
    ($name:ident, $scalar:ident) => {
        fn $name(x: &[f32], out: &mut [f32]) {
            #[inline(always)]
            fn body(x: &[f32], out: &mut [f32]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = $scalar(v);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn body_avx2(x: &[f32], out: &mut [f32]) {
                    body(x, out)
                }
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports the features the function was compiled for.
                    unsafe { body_avx2(x, out) };
                    return;
                }
            }
            body(x, out)
        }
    };
}
elementwise!(gelu_slice, gelu_scalar);
elementwise!(gelu_grad_slice, gelu_grad_scalar);

fn map_f32(
    storage: &CpuStorage,
    layout: &Layout,
    f: fn(&[f32], &mut [f32]),
) -> Result<(CpuStorage, Shape)> {
    let x = contiguous_f32(storage, layout, "gelu kernel")?;
    let mut out = vec![0f32; x.len()];
    f(x, &mut out);
    Ok((CpuStorage::F32(out), layout.shape().clone()))
}

struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "ticketsim-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map_f32(storage, layout, gelu_slice)
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let d = arg.contiguous()?.apply_op1_no_bwd(&GeluErfGrad)?;
        Ok(Some(grad_res.mul(&d)?))
    }
}

struct GeluErfGrad;

impl CustomOp1 for GeluErfGrad {
    fn name(&self) -> &'static str {
        "ticketsim-gelu-erf-grad"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        map_f32(storage, layout, gelu_grad_slice)
    }
}

fn contiguous_f32<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let data = storage.as_slice::<f32>()?;
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op} needs contiguous inputs")
    };
    Ok(&data[start..end])
}

/// Sum of a slice with eight independent lanes (vectorisable, fixed order).
#[inline(always)]
fn lane_sum(x: impl Iterator<Item = f32>) -> f32 {
    let mut acc = [0f32; 8];
    for (i, v) in x.enumerate() {
        acc[i & 7] += v;
    }
    acc.iter().sum()
}

/// Layer normalisation over the last dimension with affine `weight` and `bias`, differentiable in
/// all three (CPU f32; other devices use the composition of tensor ops).
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    x.contiguous()?.apply_op3(
        &weight.contiguous()?,
        &bias.contiguous()?,
        LayerNormOp { eps: eps as f32 },
    )
}

struct LayerNormOp {
    eps: f32,
}

/// Mean and 1/std of a row.
#[inline(always)]
fn row_stats(row: &[f32], eps: f32) -> (f32, f32) {
    let h = row.len() as f32;
    let mean = lane_sum(row.iter().copied()) / h;
    let var = lane_sum(row.iter().map(|&v| (v - mean) * (v - mean))) / h;
    (mean, 1.0 / (var + eps).sqrt())
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "ticketsim-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, self.name())?;
        let w = contiguous_f32(s2, l2, self.name())?;
        let b = contiguous_f32(s3, l3, self.name())?;
        let h = w.len();
        if h == 0 || b.len() != h || x.len() % h != 0 || l1.dims().last() != Some(&h) {
            candle_core::bail!("layer norm: weight/bias size must match the last dimension");
        }
        let mut out = vec![0f32; x.len()];
        for (row, o) in x.chunks_exact(h).zip(out.chunks_exact_mut(h)) {
            let (mean, rstd) = row_stats(row, self.eps);
            for i in 0..h {
                o[i] = (row[i] - mean) * rstd * w[i] + b[i];
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // One pass yields dx ([rows, h]) and, in two extra rows, d weight and d bias.
        let rows = x.elem_count() / w.elem_count();
        let h = w.elem_count();
        let packed = x.contiguous()?.apply_op3_no_bwd(
            &grad.contiguous()?,
            &w.contiguous()?,
            &LayerNormBwd { eps: self.eps },
        )?;
        let dx = packed.narrow(0, 0, rows)?.reshape(x.shape())?;
        let dw = packed.narrow(0, rows, 1)?.reshape(h)?;
        let db = packed.narrow(0, rows + 1, 1)?.reshape(h)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

struct LayerNormBwd {
    eps: f32,
}

impl CustomOp3 for LayerNormBwd {
    fn name(&self) -> &'static str {
        "ticketsim-layer-norm-bwd"
    }

    /// `dx = rstd (dy - mean(dy) - x̂ mean(dy x̂))` with `dy = grad · weight`;
    /// `d weight = Σ grad x̂`, `d bias = Σ grad` over rows.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, self.name())?;
        let g = contiguous_f32(s2, l2, self.name())?;
        let w = contiguous_f32(s3, l3, self.name())?;
        let h = w.len();
        let rows = x.len() / h;
        let mut out = vec![0f32; (rows + 2) * h];
        let (dx, dwb) = out.split_at_mut(rows * h);
        let (dw, db) = dwb.split_at_mut(h);
        let mut xhat = vec![0f32; h];
        let mut dy = vec![0f32; h];
        for ((row, gr), dxr) in x
            .chunks_exact(h)
            .zip(g.chunks_exact(h))
            .zip(dx.chunks_exact_mut(h))
        {
            let (mean, rstd) = row_stats(row, self.eps);
            for i in 0..h {
                xhat[i] = (row[i] - mean) * rstd;
                dy[i] = gr[i] * w[i];
                dw[i] += gr[i] * xhat[i];
                db[i] += gr[i];
            }
            let a = lane_sum(dy.iter().copied()) / h as f32;
            let b = lane_sum(dy.iter().zip(&xhat).map(|(d, x)| d * x)) / h as f32;
            for i in 0..h {
                dxr[i] = rstd * (dy[i] - a - xhat[i] * b);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((rows + 2, h))))
    }
}

/// `x + bias` with `bias` `[n]` broadcast over the rows of `x` `[.., n]`, differentiable in both
/// (CPU f32). candle's broadcast add walks an index per element, and its backward reduces the bias
/// gradient with a generic strided sum; the profile had the two at ~16% of a training step. Here
/// both are plain row loops.
pub fn bias_add(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op2(&bias.contiguous()?, BiasAdd)
}

struct BiasAdd;

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "ticketsim-bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, self.name())?;
        let b = contiguous_f32(s2, l2, self.name())?;
        let n = b.len();
        if *l1.dims().last().unwrap_or(&0) != n {
            candle_core::bail!("bias of {n} does not match rows of {:?}", l1.dims());
        }
        let mut out = x.to_vec();
        if n > 0 {
            for row in out.chunks_exact_mut(n) {
                for (o, &v) in row.iter_mut().zip(b) {
                    *o += v;
                }
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let db = grad.contiguous()?.apply_op1_no_bwd(&ColumnSum {
            n: bias.elem_count(),
        })?;
        Ok((Some(grad.clone()), Some(db)))
    }
}

/// Sum of the rows of a contiguous `[.., n]` tensor: `[n]`.
struct ColumnSum {
    n: usize,
}

impl CustomOp1 for ColumnSum {
    fn name(&self) -> &'static str {
        "ticketsim-column-sum"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = contiguous_f32(storage, layout, self.name())?;
        let mut out = vec![0f32; self.n];
        if self.n > 0 {
            for row in g.chunks_exact(self.n) {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o += v;
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from(self.n)))
    }
}

/// Softmax over the last dimension, differentiable (CPU f32).
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(SoftmaxOp)
}

struct SoftmaxOp;

impl CustomOp1 for SoftmaxOp {
    fn name(&self) -> &'static str {
        "ticketsim-softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(storage, layout, self.name())?;
        let n = *layout.dims().last().unwrap_or(&1);
        let mut out = vec![0f32; x.len()];
        if n > 0 {
            for (row, o) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0f32;
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = (v - max).exp();
                    sum += *o;
                }
                let inv = 1.0 / sum;
                o.iter_mut().for_each(|v| *v *= inv);
            }
        }
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            res.contiguous()?
                .apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxBwd)?,
        ))
    }
}

struct SoftmaxBwd;

impl CustomOp2 for SoftmaxBwd {
    fn name(&self) -> &'static str {
        "ticketsim-softmax-bwd"
    }

    /// `dx = p (g - Σ g p)` per row.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let p = contiguous_f32(s1, l1, self.name())?;
        let g = contiguous_f32(s2, l2, self.name())?;
        let n = *l1.dims().last().unwrap_or(&1);
        let mut out = vec![0f32; p.len()];
        if n > 0 {
            for ((pr, gr), o) in p
                .chunks_exact(n)
                .zip(g.chunks_exact(n))
                .zip(out.chunks_exact_mut(n))
            {
                let dot: f32 = pr.iter().zip(gr).map(|(a, b)| a * b).sum();
                for i in 0..n {
                    o[i] = pr[i] * (gr[i] - dot);
                }
            }
        }
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn erf_is_accurate() {
        let worst = (-6000..=6000)
            .map(|i| i as f64 / 1000.0)
            .map(|x| (erf(x as f32) as f64 - candle_core::cpu::erf::erf_f64(x)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "max |erf error| {worst}");
    }

    #[test]
    fn matches_candle_gelu_and_its_gradient() -> Result<()> {
        let xs: Vec<f32> = (-800..=800).map(|i| i as f32 / 100.0).collect();
        let x = Var::new(xs.as_slice(), &Device::Cpu)?;
        let ours = gelu_erf(x.as_tensor())?;
        let theirs = x.as_tensor().gelu_erf()?;
        let diff = (&ours - &theirs)?.abs()?.max(0)?.to_scalar::<f32>()?;
        assert!(diff < 2e-6, "forward max diff {diff}");
        let g1 = ours.sum_all()?.backward()?.get(&x).unwrap().clone();
        let g2 = theirs.sum_all()?.backward()?.get(&x).unwrap().clone();
        let gdiff = (g1 - g2)?.abs()?.max(0)?.to_scalar::<f32>()?;
        assert!(gdiff < 2e-6, "gradient max diff {gdiff}");
        Ok(())
    }

    /// The fused kernels against the differentiable compositions they replace: values and the
    /// gradients of every input.
    #[test]
    fn layer_norm_and_softmax_match_compositions() -> Result<()> {
        use candle_core::D;
        let dev = Device::Cpu;
        let mut rng = crate::rng::Rng::new(5);
        let mut randn = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.normal() as f32).collect() };
        let (rows, h) = (7, 24);
        let x = Var::from_vec(randn(rows * h), (rows, h), &dev)?;
        let w = Var::from_vec(randn(h), h, &dev)?;
        let b = Var::from_vec(randn(h), h, &dev)?;
        let probe = Tensor::from_vec(randn(rows * h), (rows, h), &dev)?;
        let composed = |x: &Tensor| -> Result<Tensor> {
            let mean = x.mean_keepdim(D::Minus1)?;
            let xc = x.broadcast_sub(&mean)?;
            let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
            xc.broadcast_div(&(var + 1e-12)?.sqrt()?)?
                .broadcast_mul(&w)?
                .broadcast_add(&b)
        };
        let ours = layer_norm(&x, &w, &b, 1e-12)?;
        let theirs = composed(&x)?;
        let max_diff = |a: &Tensor, b: &Tensor| -> Result<f32> {
            (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
        };
        assert!(max_diff(&ours, &theirs)? < 1e-5);
        let g1 = (ours * &probe)?.sum_all()?.backward()?;
        let g2 = (theirs * &probe)?.sum_all()?.backward()?;
        for v in [&x, &w, &b] {
            let d = max_diff(g1.get(v).unwrap(), g2.get(v).unwrap())?;
            assert!(d < 1e-4, "layer norm gradient differs by {d}");
        }
        let s = Var::from_vec(randn(rows * h), (rows, h), &dev)?;
        let ours = softmax_last_dim(&s)?;
        let theirs = candle_nn::ops::softmax(&s, D::Minus1)?;
        assert!(max_diff(&ours, &theirs)? < 1e-6);
        let g1 = (ours * &probe)?.sum_all()?.backward()?;
        let g2 = (theirs * &probe)?.sum_all()?.backward()?;
        let d = max_diff(g1.get(&s).unwrap(), g2.get(&s).unwrap())?;
        assert!(d < 1e-5, "softmax gradient differs by {d}");

        let ours = bias_add(&x, &b)?;
        let theirs = x.broadcast_add(&b)?;
        assert_eq!(max_diff(&ours, &theirs)?, 0.0);
        let g1 = (ours * &probe)?.sum_all()?.backward()?;
        let g2 = (theirs * &probe)?.sum_all()?.backward()?;
        for v in [&x, &b] {
            let d = max_diff(g1.get(v).unwrap(), g2.get(v).unwrap())?;
            assert!(d < 1e-5, "bias add gradient differs by {d}");
        }
        Ok(())
    }
}
