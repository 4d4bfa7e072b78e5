//! Our own single-precision matrix product for wasm32, used by the model's matmuls in the browser.
//!
//! Why: candle's CPU matmul goes through the `gemm` crate, whose SIMD128 kernel keeps a 12×4 tile
//! of accumulators and multiplies then adds. V8 has 15 usable xmm registers on x86, so that tile
//! (12 accumulators plus the operands) spills on every step of the k loop. This kernel uses the
//! 4×8 register tile of XNNPACK's wasm SIMD kernels instead — 4 rows × 8 columns, eight `f32x4`
//! accumulators, two vectors of B and one broadcast of A live at a time — and fuses multiply and
//! add with `f32x4_relaxed_madd` when the build enables relaxed SIMD.
//!
//! How: classic Goto/BLIS blocking. B is packed into 8-column panels and A into 4-row panels
//! (zero-padded at the edges), blocked over k ([`KC`]), m ([`MC`]) and n ([`NC`]), so the 4×8
//! micro-kernel reads both operands sequentially whatever their layout: transposed views (`w.t()`
//! in the linear layers, `k.t()` in attention) cost nothing beyond the packing every product does.
//!
//! Measured with `cargo test --release --target wasm32-unknown-unknown --test web_bench -- gemm`
//! (`bench::gemm_figures`: 1024×384 · 384×1536, weights transposed, best of 3 rounds of each, in
//! the same run; six runs per build in headless Chromium on an AMD EPYC Zen 5 core of a shared
//! 2-core VM):
//!
//! | build                 | this kernel     | candle's matmul | ratio      |
//! |-----------------------|-----------------|-----------------|------------|
//! | SIMD128 (the default) | 55–62 GFLOP/s   | 42–45 GFLOP/s   | 1.32–1.42× |
//! | `+relaxed-simd`       | 59–61.5 GFLOP/s | 39–41 GFLOP/s   | 1.47–1.54× |
//!
//! On Zen 5 multiplies and adds issue on separate pipes, so mul-then-add already reaches the same
//! 16 flop/cycle as FMA on 128-bit vectors: both builds of this kernel sit at that ceiling, and the
//! gap to candle is its spilling. Where mul and add share the FMA ports (Intel), FMA doubles the
//! ceiling: an earlier version of this kernel measured 32.4 (SIMD128) and 38.6 (relaxed) GFLOP/s
//! against candle's 22.8 there.
//!
//! End to end (tests/web_bench.rs `workload`, MiniLM on one thread, SIMD128 build, same machine):
//! encoding 148 → 196 sentences/s and training 24.2 → 30.5 pairs/s with this kernel in place of
//! candle's matmul; the step losses agree to 1e-8.
//!
//! Elsewhere (native, or wasm without `simd128`) a portable micro-kernel with the same packing
//! runs; the model uses this op only in wasm (see [`super::nn::Autocast::matmul`]), native keeps
//! candle's matmul.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor};

/// Rows of the register tile.
pub const MR: usize = 4;
/// Columns of the register tile (two `f32x4`).
pub const NR: usize = 8;
/// Depth of a packed block (k).
pub const KC: usize = 256;
/// Rows of A packed at a time.
pub const MC: usize = 128;
/// Columns of B packed at a time.
pub const NC: usize = 1024;

/// A strided view of one matrix: element `(i, j)` is `data[offset + i * rs + j * cs]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    /// The storage the matrix lives in.
    pub data: &'a [f32],
    /// Index of element `(0, 0)`.
    pub offset: usize,
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl MatRef<'_> {
    /// Whether every element of a `rows × cols` matrix lies inside `data`.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || self.offset + (rows - 1) * self.rs + (cols - 1) * self.cs < self.data.len()
    }
}

/// Pack rows `i0..i0 + mc`, columns `p0..p0 + kc` of `a` into 4-row panels: panel `q` holds, for
/// each `p`, the four values of rows `i0 + 4q ..` at column `p0 + p` (zeros past the last row).
pub fn pack_a(a: &MatRef, i0: usize, mc: usize, p0: usize, kc: usize, dst: &mut [f32]) {
    pack_panels::<MR>(a.data, a.offset, a.rs, a.cs, i0, mc, p0, kc, dst);
}

/// Pack rows `p0..p0 + kc`, columns `j0..j0 + nc` of `b` into 8-column panels: panel `q` holds,
/// for each `p`, the eight values of row `p0 + p` at columns `j0 + 8q ..` (zeros past the last).
pub fn pack_b(b: &MatRef, p0: usize, kc: usize, j0: usize, nc: usize, dst: &mut [f32]) {
    pack_panels::<NR>(b.data, b.offset, b.cs, b.rs, j0, nc, p0, kc, dst);
}

/// The packing both operands share: `W` lanes (A's rows, B's columns; stride `lane_stride`) side by
/// side for each step `p` along k (stride `depth_stride`), lanes past `l0 + lanes` zero.
#[allow(clippy::too_many_arguments)]
fn pack_panels<const W: usize>(
    data: &[f32],
    offset: usize,
    lane_stride: usize,
    depth_stride: usize,
    l0: usize,
    lanes: usize,
    p0: usize,
    kc: usize,
    dst: &mut [f32],
) {
    for (q, panel) in dst[..lanes.div_ceil(W) * kc * W]
        .chunks_exact_mut(kc * W)
        .enumerate()
    {
        for r in 0..W {
            let lane = l0 + q * W + r;
            if lane >= l0 + lanes {
                for p in 0..kc {
                    panel[p * W + r] = 0.0;
                }
                continue;
            }
            let base = offset + lane * lane_stride + p0 * depth_stride;
            let src = &data[base..base + (kc - 1) * depth_stride + 1];
            for p in 0..kc {
                panel[p * W + r] = src[p * depth_stride];
            }
        }
    }
}

/// `c[r * ldc + j] += Σ_p a[p * MR + r] · b[p * NR + j]` for the 4×8 tile, from packed panels.
#[inline(always)]
fn kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [f32], ldc: usize) {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR && c.len() > (MR - 1) * ldc + NR - 1);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: the assert above bounds every load and store.
    unsafe {
        simd::kernel_4x8(kc, a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), ldc)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut acc = [[0f32; NR]; MR];
        for (ap, bp) in a[..kc * MR]
            .chunks_exact(MR)
            .zip(b[..kc * NR].chunks_exact(NR))
        {
            for r in 0..MR {
                for j in 0..NR {
                    acc[r][j] += ap[r] * bp[j];
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                c[r * ldc + j] += v;
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// `a · b + c`: one fused instruction under relaxed SIMD, else multiply then add.
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        {
            f32x4_relaxed_madd(a, b, c)
        }
        #[cfg(not(target_feature = "relaxed-simd"))]
        {
            f32x4_add(f32x4_mul(a, b), c)
        }
    }

    /// The 4×8 micro-kernel: eight accumulators, B's two vectors and one broadcast of A per row.
    ///
    /// # Safety
    /// `a` holds `kc * 4` floats, `b` `kc * 8`, and `c` rows `0..4` of 8 floats at stride `ldc`.
    #[inline(always)]
    pub(super) unsafe fn kernel_4x8(
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
    ) {
        let z = f32x4_splat(0.0);
        let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
        let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let b0 = v128_load(b as *const v128);
            let b1 = v128_load(b.add(4) as *const v128);
            let a0 = v128_load32_splat(a as *const u32);
            c00 = madd(a0, b0, c00);
            c01 = madd(a0, b1, c01);
            let a1 = v128_load32_splat(a.add(1) as *const u32);
            c10 = madd(a1, b0, c10);
            c11 = madd(a1, b1, c11);
            let a2 = v128_load32_splat(a.add(2) as *const u32);
            c20 = madd(a2, b0, c20);
            c21 = madd(a2, b1, c21);
            let a3 = v128_load32_splat(a.add(3) as *const u32);
            c30 = madd(a3, b0, c30);
            c31 = madd(a3, b1, c31);
            a = a.add(4);
            b = b.add(8);
        }
        for (r, (lo, hi)) in [(c00, c01), (c10, c11), (c20, c21), (c30, c31)]
            .into_iter()
            .enumerate()
        {
            let p = c.add(r * ldc) as *mut v128;
            v128_store(p, f32x4_add(v128_load(p), lo));
            let p = c.add(r * ldc + 4) as *mut v128;
            v128_store(p, f32x4_add(v128_load(p), hi));
        }
    }
}

/// Packing buffers, reused across the matrices of a batch.
#[derive(Default)]
struct Packs {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// `c += a · b` for `a` `m × k` and `b` `k × n` of any strides, `c` row-major `m × n`.
pub fn sgemm(m: usize, n: usize, k: usize, a: &MatRef, b: &MatRef, c: &mut [f32]) {
    sgemm_with(m, n, k, a, b, c, &mut Packs::default())
}

fn sgemm_with(
    m: usize,
    n: usize,
    k: usize,
    a: &MatRef,
    b: &MatRef,
    c: &mut [f32],
    packs: &mut Packs,
) {
    assert!(a.fits(m, k) && b.fits(k, n) && c.len() >= m * n);
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let a_len = KC.min(k) * MC.min(m).next_multiple_of(MR);
    let b_len = KC.min(k) * NC.min(n).next_multiple_of(NR);
    if packs.a.len() < a_len {
        packs.a.resize(a_len, 0.0);
    }
    if packs.b.len() < b_len {
        packs.b.resize(b_len, 0.0);
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            pack_b(b, pc, kc, jc, nc, &mut packs.b);
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack_a(a, ic, mc, pc, kc, &mut packs.a);
                for jr in (0..nc).step_by(NR) {
                    let nr = NR.min(nc - jr);
                    let bp = &packs.b[(jr / NR) * kc * NR..][..kc * NR];
                    for ir in (0..mc).step_by(MR) {
                        let mr = MR.min(mc - ir);
                        let ap = &packs.a[(ir / MR) * kc * MR..][..kc * MR];
                        let at = (ic + ir) * n + jc + jr;
                        if mr == MR && nr == NR {
                            kernel(kc, ap, bp, &mut c[at..], n);
                        } else {
                            let mut tile = [0f32; MR * NR];
                            kernel(kc, ap, bp, &mut tile, NR);
                            for r in 0..mr {
                                for j in 0..nr {
                                    c[at + r * n + j] += tile[r * NR + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Batched product of two strided CPU tensors: `[.., m, k] · [.., k, n]` → contiguous `[.., m, n]`.
/// Batch dimensions must be equal (as for candle's `matmul`); their strides may be anything.
fn batched(a: &[f32], la: &Layout, b: &[f32], lb: &Layout) -> Result<(Vec<f32>, Shape)> {
    let (da, db) = (la.dims(), lb.dims());
    let rank = da.len();
    if rank < 2
        || db.len() != rank
        || da[..rank - 2] != db[..rank - 2]
        || da[rank - 1] != db[rank - 2]
    {
        candle_core::bail!("wasm gemm: shapes {da:?} and {db:?} do not multiply");
    }
    let (m, k, n) = (da[rank - 2], da[rank - 1], db[rank - 1]);
    let (sa, sb) = (la.stride(), lb.stride());
    let batch_dims = &da[..rank - 2];
    let batches: usize = batch_dims.iter().product();
    let mut out = vec![0f32; batches * m * n];
    let mut packs = Packs::default();
    let mut index = vec![0usize; batch_dims.len()];
    for (bi, c) in out.chunks_mut((m * n).max(1)).enumerate().take(batches) {
        // Offsets of this batch's matrices from the multi-index (row-major over the batch dims).
        let mut rest = bi;
        for d in (0..batch_dims.len()).rev() {
            index[d] = rest % batch_dims[d];
            rest /= batch_dims[d];
        }
        let off = |start: usize, strides: &[usize]| -> usize {
            start + index.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>()
        };
        let am = MatRef {
            data: a,
            offset: off(la.start_offset(), sa),
            rs: sa[rank - 2],
            cs: sa[rank - 1],
        };
        let bm = MatRef {
            data: b,
            offset: off(lb.start_offset(), sb),
            rs: sb[rank - 2],
            cs: sb[rank - 1],
        };
        if !am.fits(m, k) || !bm.fits(k, n) {
            candle_core::bail!("wasm gemm: layout reaches past the storage");
        }
        sgemm_with(m, n, k, &am, &bm, c, &mut packs);
    }
    let mut shape = batch_dims.to_vec();
    shape.extend([m, n]);
    Ok((out, Shape::from(shape)))
}

/// `a · b` for CPU f32 tensors `[.., m, k]` and `[.., k, n]` (equal batch dimensions, any
/// strides: transposed views are packed directly), differentiable in both; other devices and
/// dtypes use candle's matmul.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.device().is_cpu() && a.dtype() == DType::F32 && b.dtype() == DType::F32 {
        a.apply_op2(b, MatMul)
    } else {
        a.matmul(b)
    }
}

struct MatMul;

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "ticketsim-wasm-gemm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (out, shape) = batched(s1.as_slice::<f32>()?, l1, s2.as_slice::<f32>()?, l2)?;
        Ok((CpuStorage::F32(out), shape))
    }

    /// `dA = dC · Bᵀ`, `dB = Aᵀ · dC`, by the same kernel (the transposes are views).
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let da = grad.apply_op2_no_bwd(&b.t()?, &MatMul)?;
        let db = a.t()?.apply_op2_no_bwd(grad, &MatMul)?;
        Ok((Some(da), Some(db)))
    }
}

/// One product shape for [`error_against_candle`]: batch dimensions, `m`, `k`, `n`, and whether
/// `a` / `b` are transposed views.
pub type Case = (Vec<usize>, usize, usize, usize, bool, bool);

/// The worst relative error (max |diff| / max |candle|) of [`matmul`] against candle's matmul over
/// `cases` — the product and both gradients through `backward()`, random inputs from `seed` — and
/// the case it occurred in. The native unit test (portable kernel) and the in-browser test (SIMD
/// kernel) both run it.
pub fn error_against_candle(cases: &[Case], seed: u64) -> Result<(f32, String)> {
    let dev = candle_core::Device::Cpu;
    let mut rng = crate::rng::Rng::new(seed);
    let mut randn = |len: usize| -> Vec<f32> { (0..len).map(|_| rng.normal() as f32).collect() };
    let max_rel = |x: &Tensor, y: &Tensor| -> Result<f32> {
        let d = (x - y)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
        let s = y.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
        Ok(d / s.max(1e-30))
    };
    let mut worst = (0f32, String::new());
    for (batch, m, k, n, ta, tb) in cases {
        let (m, k, n, ta, tb) = (*m, *k, *n, *ta, *tb);
        let shape = |r: usize, c: usize, t: bool| -> Vec<usize> {
            let mut s = batch.clone();
            s.extend(if t { [c, r] } else { [r, c] });
            s
        };
        let count: usize = batch.iter().product();
        let av = candle_core::Var::from_vec(randn(count * m * k), shape(m, k, ta), &dev)?;
        let bv = candle_core::Var::from_vec(randn(count * k * n), shape(k, n, tb), &dev)?;
        let a = if ta {
            av.as_tensor().t()?
        } else {
            av.as_tensor().clone()
        };
        let b = if tb {
            bv.as_tensor().t()?
        } else {
            bv.as_tensor().clone()
        };
        let ours = matmul(&a, &b)?;
        let theirs = a.matmul(&b)?;
        let mut errs = vec![max_rel(&ours, &theirs)?];
        let probe = Tensor::from_vec(randn(theirs.elem_count()), theirs.shape(), &dev)?;
        let g1 = (ours * &probe)?.sum_all()?.backward()?;
        let g2 = (theirs * &probe)?.sum_all()?.backward()?;
        for v in [&av, &bv] {
            let (ga, gb) = (g1.get(v), g2.get(v));
            let (Some(ga), Some(gb)) = (ga, gb) else {
                candle_core::bail!("no gradient for an operand of {batch:?} {m}×{k}·{k}×{n}");
            };
            errs.push(max_rel(ga, gb)?);
        }
        for e in errs {
            if e > worst.0 || e.is_nan() {
                worst = (e, format!("{batch:?} {m}×{k}·{k}×{n} (a t {ta}, b t {tb})"));
            }
        }
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &MatRef, b: &MatRef) -> Vec<f64> {
        let mut c = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a.data[a.offset + i * a.rs + p * a.cs] as f64
                        * b.data[b.offset + p * b.rs + j * b.cs] as f64;
                }
            }
        }
        c
    }

    fn randn(rng: &mut crate::rng::Rng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.normal() as f32).collect()
    }

    #[test]
    fn packing_pads_with_zeros() {
        // a: 5 × 3 row-major, values 10 i + p.
        let data: Vec<f32> = (0..5)
            .flat_map(|i| (0..3).map(move |p| (10 * i + p) as f32))
            .collect();
        let a = MatRef {
            data: &data,
            offset: 0,
            rs: 3,
            cs: 1,
        };
        let mut dst = [f32::NAN; 2 * 2 * MR];
        pack_a(&a, 1, 4, 1, 2, &mut dst[..]);
        // Rows 1..5, columns 1..3: one full panel.
        assert_eq!(&dst[..8], &[11., 21., 31., 41., 12., 22., 32., 42.]);
        let mut dst = [f32::NAN; 2 * 3 * MR];
        pack_a(&a, 3, 2, 0, 3, &mut dst[..]);
        assert_eq!(
            &dst[..12],
            &[30., 40., 0., 0., 31., 41., 0., 0., 32., 42., 0., 0.]
        );
        // The same matrix read as b (3 × 5, transposed view: rs = 1, cs = 3).
        let b = MatRef {
            data: &data,
            offset: 0,
            rs: 1,
            cs: 3,
        };
        let mut dst = [f32::NAN; 2 * NR];
        pack_b(&b, 1, 2, 0, 5, &mut dst[..]);
        assert_eq!(
            dst,
            [1., 11., 21., 31., 41., 0., 0., 0., 2., 12., 22., 32., 42., 0., 0., 0.]
        );
    }

    #[test]
    fn sgemm_matches_naive_on_odd_shapes_and_layouts() {
        let mut rng = crate::rng::Rng::new(3);
        let dims = [1usize, 3, 5, 17, 33, 385];
        for (t, &(m, n, k)) in [
            (1, 1, 1),
            (3, 5, 17),
            (17, 33, 5),
            (33, 17, 385),
            (5, 385, 3),
            (385, 9, 33),
            (130, 1030, 260),
            (4, 8, 256),
        ]
        .iter()
        .chain(dims.iter().map(|&d| (d, d, d)).collect::<Vec<_>>().iter())
        .enumerate()
        {
            let ad = randn(&mut rng, m * k + 3);
            let bd = randn(&mut rng, k * n + 2);
            // Alternate row-major and transposed layouts, with an offset.
            let a = if t % 2 == 0 {
                MatRef {
                    data: &ad,
                    offset: 3,
                    rs: k,
                    cs: 1,
                }
            } else {
                MatRef {
                    data: &ad,
                    offset: 3,
                    rs: 1,
                    cs: m,
                }
            };
            let b = if t % 3 == 0 {
                MatRef {
                    data: &bd,
                    offset: 2,
                    rs: n,
                    cs: 1,
                }
            } else {
                MatRef {
                    data: &bd,
                    offset: 2,
                    rs: 1,
                    cs: k,
                }
            };
            let mut c = vec![0f32; m * n];
            sgemm(m, n, k, &a, &b, &mut c);
            let want = naive(m, n, k, &a, &b);
            let scale = want.iter().fold(1e-30f64, |s, v| s.max(v.abs()));
            let err = c
                .iter()
                .zip(&want)
                .map(|(x, y)| (*x as f64 - y).abs())
                .fold(0.0, f64::max);
            assert!(
                err / scale < 1e-5,
                "{m}×{k}·{k}×{n}: relative error {}",
                err / scale
            );
        }
    }

    #[test]
    fn op_matches_candle_matmul_and_its_gradients() -> Result<()> {
        // (batch dims, m, k, n, a transposed, b transposed)
        let cases: Vec<Case> = vec![
            (vec![], 17, 33, 5, false, true),
            (vec![], 33, 385, 17, true, false),
            (vec![2, 3], 5, 17, 9, false, true),
            (vec![3], 1, 3, 1, true, true),
        ];
        let (worst, case) = error_against_candle(&cases, 9)?;
        assert!(worst < 1e-5, "{case}: relative error {worst}");
        Ok(())
    }
}
