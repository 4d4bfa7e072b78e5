//! Fused CPU kernels that carry their own backward.
//!
//! Profiling `bench embed` showed candle's GELU spending ~10% of all time in a scalar libm `erff`.
//! [`gelu_erf`] computes the same exact-erf GELU in one pass with a rational erf approximation that
//! compilers vectorise (AVX2/FMA chosen at run time natively, SIMD128 in wasm), and registers its
//! derivative so training flows through it. Other devices and dtypes use candle's op.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor};

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
    let data = storage.as_slice::<f32>()?;
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("gelu kernel needs a contiguous input")
    };
    let mut out = vec![0f32; end - start];
    f(&data[start..end], &mut out);
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
}
