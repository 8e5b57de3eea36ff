//! Fused CPU kernels with a backward, for the pieces candle would otherwise build from many
//! small ops (each a separate pass over memory and a thread-pool barrier): softmax over the
//! last axis, RMSNorm, and row-wise cross-entropy. Each has a composite (differentiable
//! candle ops) fallback used for other devices and dtypes; tests check both against
//! finite differences / each other.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, D, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::fused_lora::{by_dtype, input_slice};
use super::real::{Real, exp_shifted, max_of, silu_mul, silu_mul_grad, sum_exp_shifted};

/// Runs `f(row index, row)` over the rows of width `width`, on rayon's threads (the pool the
/// other fused kernels and the matrix products use) when the work is large.
fn for_rows<T: Send>(out: &mut [T], width: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let width = width.max(1);
    if out.len() < 1 << 16 {
        out.chunks_mut(width).enumerate().for_each(|(r, row)| f(r, row));
    } else {
        out.par_chunks_mut(width).enumerate().for_each(|(r, row)| f(r, row));
    }
}

pub(crate) fn contiguous<'a, T>(v: &'a [T], l: &Layout) -> candle_core::Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("fused op expects a contiguous input"),
    }
}

pub(crate) fn fused_ok(t: &Tensor) -> bool {
    t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// Runs one kernel body for f32 or f64: binds each storage's contiguous slice to its name and
/// the element type to `$t`. Every input must have the same dtype.
/// `dispatch!(s, l, |x: T| body)` for one input, `dispatch!([(s1, l1) => x, (s2, l2) => w], T, body)`
/// for several.
macro_rules! dispatch {
    ([$(($s:expr, $l:expr) => $v:ident),+], $t:ident, $body:expr) => {
        match ($($s,)+) {
            ($(CpuStorage::F32($v),)+) => {
                type $t = f32;
                $(let $v = contiguous($v, $l)?;)+
                CpuStorage::F32($body)
            }
            ($(CpuStorage::F64($v),)+) => {
                type $t = f64;
                $(let $v = contiguous($v, $l)?;)+
                CpuStorage::F64($body)
            }
            _ => candle_core::bail!("fused op: only f32/f64, every input of the same dtype"),
        }
    };
    ($s:expr, $l:expr, |$v:ident : $t:ident| $body:expr) => {
        dispatch!([($s, $l) => $v], $t, $body)
    };
}

// ---------------------------------------------------------------- softmax

struct Softmax;
struct SoftmaxGrad;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "fused-softmax"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let w = l.dims().last().copied().unwrap_or(1);
        let out = dispatch!(s, l, |x: T| {
            let mut out = vec![0 as T; x.len()];
            for_rows(&mut out, w, |r, o| {
                let xr = &x[r * w..(r + 1) * w];
                let max = max_of(xr);
                let sum = exp_shifted(xr, max, o);
                let inv = 1.0 / sum;
                o.iter_mut().for_each(|o| *o *= inv);
            });
            out
        });
        Ok((out, l.shape().clone()))
    }
    fn bwd(&self, _x: &Tensor, y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(y.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxGrad)?))
    }
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "fused-softmax-grad"
    }
    /// `dx = y ⊙ (g − Σ g⊙y)` per row.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let w = l1.dims().last().copied().unwrap_or(1);
        let out = dispatch!([(s1, l1) => y, (s2, l2) => g], T, softmax_grad::<T>(y, g, w));
        Ok((out, l1.shape().clone()))
    }
}

fn softmax_grad<T>(y: &[T], g: &[T], w: usize) -> Vec<T>
where
    T: Copy + Send + Sync + Default + std::ops::Mul<Output = T> + std::ops::Sub<Output = T> + std::ops::Add<Output = T>,
{
    let mut out = vec![T::default(); y.len()];
    for_rows(&mut out, w, |r, o| {
        let (yr, gr) = (&y[r * w..(r + 1) * w], &g[r * w..(r + 1) * w]);
        let dot = yr.iter().zip(gr).fold(T::default(), |acc, (&a, &b)| acc + a * b);
        for ((o, &yv), &gv) in o.iter_mut().zip(yr).zip(gr) {
            *o = yv * (gv - dot);
        }
    });
    out
}

/// Differentiable softmax over the last axis (f32/f64 on CPU: one fused pass each way).
pub fn softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    if fused_ok(x) {
        return x.contiguous()?.apply_op1(Softmax);
    }
    softmax_composite(x)
}

/// The same softmax from candle ops (any device/dtype; computed in f32 for half types).
pub fn softmax_composite(x: &Tensor) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(super::internal_dtype(dtype))?;
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?.to_dtype(dtype)
}

// ---------------------------------------------------------------- RMSNorm

struct RmsNorm {
    eps: f64,
}
struct RmsNormGrad {
    eps: f64,
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "fused-rms-norm"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        let out = dispatch!([(s1, l1) => x, (s2, l2) => w], T, {
            let mut out = vec![0 as T; x.len()];
            for_rows(&mut out, d, |r, o| {
                let xr = &x[r * d..(r + 1) * d];
                let ms = xr.iter().map(|&v| v * v).sum::<T>() / d as T;
                let inv = 1.0 / (ms + eps as T).sqrt();
                for ((o, &v), &wv) in o.iter_mut().zip(xr).zip(w) {
                    *o = v * inv * wv;
                }
            });
            out
        });
        Ok((out, l1.shape().clone()))
    }
    /// The scale is frozen: only the input gradient.
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = x.apply_op3_no_bwd(w, &grad.contiguous()?, &RmsNormGrad { eps: self.eps })?;
        Ok((Some(dx), None))
    }
}

impl CustomOp3 for RmsNormGrad {
    fn name(&self) -> &'static str {
        "fused-rms-norm-grad"
    }
    /// `dx = r·(g⊙w) − x·r³/d·Σ(g⊙w⊙x)`, `r = 1/√(mean(x²)+ε)`.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = l1.dims().last().copied().unwrap_or(1);
        let eps = self.eps;
        let out = dispatch!([(s1, l1) => x, (s2, l2) => w, (s3, l3) => g], T, {
            let mut out = vec![0 as T; x.len()];
            for_rows(&mut out, d, |r, o| {
                let (xr, gr) = (&x[r * d..(r + 1) * d], &g[r * d..(r + 1) * d]);
                let ms = xr.iter().map(|&v| v * v).sum::<T>() / d as T;
                let inv = 1.0 / (ms + eps as T).sqrt();
                let dot: T = xr.iter().zip(gr).zip(w).map(|((&xv, &gv), &wv)| gv * wv * xv).sum();
                let c = inv * inv * inv / d as T * dot;
                for (((o, &xv), &gv), &wv) in o.iter_mut().zip(xr).zip(gr).zip(w) {
                    *o = inv * gv * wv - xv * c;
                }
            });
            out
        });
        Ok((out, l1.shape().clone()))
    }
}

/// Differentiable RMSNorm `x / √(mean(x²) + ε) · w` (gradient to `x` only; `w` is frozen).
/// Half-precision inputs are normalised in f32 like Hugging Face.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let internal = super::internal_dtype(dtype);
    if x.device().is_cpu() && matches!(internal, DType::F32 | DType::F64) {
        let xi = x.to_dtype(internal)?.contiguous()?;
        let w = weight.to_dtype(internal)?.contiguous()?;
        return xi.apply_op2(&w, RmsNorm { eps })?.to_dtype(dtype);
    }
    rms_norm_composite(x, weight, eps)
}

/// The same RMSNorm from candle ops.
pub fn rms_norm_composite(x: &Tensor, weight: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(super::internal_dtype(dtype))?;
    let var = x.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = x.broadcast_mul(&(var + eps)?.sqrt()?.recip()?)?;
    normed.to_dtype(dtype)?.broadcast_mul(weight)
}

// ---------------------------------------------------------------- cross-entropy

struct CrossEntropyRows;
struct CrossEntropyGrad;

pub(crate) fn targets_of<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [u32]> {
    match s {
        CpuStorage::U32(t) => contiguous(t, l),
        _ => candle_core::bail!("cross-entropy targets must be u32"),
    }
}

impl CustomOp2 for CrossEntropyRows {
    fn name(&self) -> &'static str {
        "fused-cross-entropy"
    }
    /// Per row: `logsumexp(x) − x[target]`.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, v) = l1.shape().dims2()?;
        let targets = targets_of(s2, l2)?;
        let out = dispatch!(s1, l1, |x: T| {
            // One row is a whole vocabulary (~50k): rows in parallel.
            let out: Vec<T> = (0..n)
                .into_par_iter()
                .map(|r| {
                    let xr = &x[r * v..(r + 1) * v];
                    let max = max_of(xr);
                    let sum = sum_exp_shifted(xr, max);
                    max + sum.ln() - xr[targets[r] as usize]
                })
                .collect();
            out
        });
        Ok((out, Shape::from(n)))
    }
    fn bwd(
        &self,
        logits: &Tensor,
        targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let g = logits.apply_op3_no_bwd(targets, &grad.contiguous()?, &CrossEntropyGrad)?;
        Ok((Some(g), None))
    }
}

impl CustomOp3 for CrossEntropyGrad {
    fn name(&self) -> &'static str {
        "fused-cross-entropy-grad"
    }
    /// `d logits = g_r · (softmax(x_r) − onehot(target_r))`.
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, v) = l1.shape().dims2()?;
        let targets = targets_of(s2, l2)?;
        let out = dispatch!([(s1, l1) => x, (s3, l3) => g], T, {
            let mut out = vec![0 as T; x.len()];
            for_rows(&mut out, v, |r, o| {
                let xr = &x[r * v..(r + 1) * v];
                let max = max_of(xr);
                let sum = exp_shifted(xr, max, o);
                let scale = g[r] / sum;
                o.iter_mut().for_each(|o| *o *= scale);
                o[targets[r] as usize] -= g[r];
            });
            out
        });
        Ok((out, l1.shape().clone()))
    }
}

/// Per-row cross-entropy `[n]` of `logits: [n, V]` against `targets: [n]` (u32),
/// differentiable with respect to the logits.
pub fn cross_entropy_rows(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    if fused_ok(logits) {
        return logits.contiguous()?.apply_op2(&targets.contiguous()?, CrossEntropyRows);
    }
    cross_entropy_rows_composite(logits, targets)
}

/// The same from candle ops (materialises a few `[n, V]` intermediates).
pub fn cross_entropy_rows_composite(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let shifted = logits.broadcast_sub(&max)?;
    let log_sum = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let picked = shifted.gather(&targets.unsqueeze(1)?, 1)?;
    (log_sum - picked)?.squeeze(1)
}

// ---------------------------------------------------------------- RoPE

/// RoPE for positions `start..start+len`: `x·cos + rotate_half(x)·sin` with
/// `rotate_half(x) = [−x₂, x₁]` (Hugging Face layout). On CPU f32/f64 one fused pass whose
/// backward is the inverse rotation; elsewhere candle ops on `[len, head_dim]` tables.
pub struct RopeTables {
    /// `[len, head_dim/2]` angles' cosines and sines.
    cos: Arc<Vec<f64>>,
    sin: Arc<Vec<f64>>,
    len: usize,
    half: usize,
    cos_t: Tensor,
    sin_t: Tensor,
}

impl RopeTables {
    pub fn new(
        head_dim: usize,
        theta: f64,
        start: usize,
        len: usize,
        dtype: DType,
        device: &candle_core::Device,
    ) -> candle_core::Result<Self> {
        let half = head_dim / 2;
        let inv_freq: Vec<f64> = (0..half)
            .map(|i| 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64))
            .collect();
        let (mut cos, mut sin) = (Vec::with_capacity(len * half), Vec::with_capacity(len * half));
        for p in start..start + len {
            for f in &inv_freq {
                let a = p as f64 * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        let full = |t: &[f64]| -> Vec<f64> {
            t.chunks(half.max(1))
                .flat_map(|row| row.iter().chain(row.iter()).copied())
                .collect()
        };
        let cos_t = Tensor::from_vec(full(&cos), (len, head_dim), device)?.to_dtype(dtype)?;
        let sin_t = Tensor::from_vec(full(&sin), (len, head_dim), device)?.to_dtype(dtype)?;
        Ok(Self {
            cos: Arc::new(cos),
            sin: Arc::new(sin),
            len,
            half,
            cos_t,
            sin_t,
        })
    }

    /// The fused causal attention over `batch` sequences of these positions (which must start at 0).
    pub fn attention(&self, batch: usize, heads: usize, kv_heads: usize) -> super::fused_attention::CausalAttention {
        super::fused_attention::CausalAttention::new(
            batch,
            self.len,
            heads,
            kv_heads,
            2 * self.half,
            self.cos.clone(),
            self.sin.clone(),
        )
    }

    /// Rotates `x: [B, H, len, head_dim]`.
    pub fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if fused_ok(x) {
            let op = Rope {
                cos: self.cos.clone(),
                sin: self.sin.clone(),
                len: self.len,
                half: self.half,
                sign: 1.0,
            };
            return x.contiguous()?.apply_op1(op);
        }
        self.apply_composite(x)
    }

    pub fn apply_composite(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let d = x.dim(D::Minus1)?;
        let x1 = x.narrow(D::Minus1, 0, d / 2)?;
        let x2 = x.narrow(D::Minus1, d / 2, d / 2)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&self.cos_t)?.add(&rotated.broadcast_mul(&self.sin_t)?)
    }
}

struct Rope {
    cos: Arc<Vec<f64>>,
    sin: Arc<Vec<f64>>,
    len: usize,
    half: usize,
    /// +1 forward, −1 for the inverse rotation (the backward).
    sign: f64,
}

impl CustomOp1 for Rope {
    fn name(&self) -> &'static str {
        "fused-rope"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = 2 * self.half;
        if l.dims().last() != Some(&d) || l.dims().get(l.dims().len().saturating_sub(2)) != Some(&self.len) {
            candle_core::bail!("rope: expected [.., {}, {d}], got {:?}", self.len, l.dims());
        }
        let (half, len, sign) = (self.half, self.len, self.sign);
        let out = dispatch!(s, l, |x: T| {
            let mut out = vec![0 as T; x.len()];
            for_rows(&mut out, d, |r, o| {
                let pos = r % len;
                let xr = &x[r * d..(r + 1) * d];
                for i in 0..half {
                    let c = self.cos[pos * half + i] as T;
                    let sn = (sign * self.sin[pos * half + i]) as T;
                    let (x1, x2) = (xr[i], xr[i + half]);
                    o[i] = x1 * c - x2 * sn;
                    o[i + half] = x2 * c + x1 * sn;
                }
            });
            out
        });
        Ok((out, l.shape().clone()))
    }
    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let inverse = Rope {
            cos: self.cos.clone(),
            sin: self.sin.clone(),
            len: self.len,
            half: self.half,
            sign: -self.sign,
        };
        Ok(Some(grad.contiguous()?.apply_op1(inverse)?))
    }
}

// ---------------------------------------------------------------- SwiGLU

/// `silu(gate) ⊙ up`, the Llama MLP's activation, in one pass each way.
struct SwiGlu;
/// `[∂gate | ∂up]` flattened, from the upstream gradient and both inputs.
struct SwiGluGrad;

/// Elements per parallel task of the element-wise kernels.
const BLOCK: usize = 1 << 14;

impl CustomOp2 for SwiGlu {
    fn name(&self) -> &'static str {
        "fused-swiglu"
    }
    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        su: &CpuStorage,
        lu: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if lg.shape() != lu.shape() {
            candle_core::bail!("swiglu: gate {:?} and up {:?} differ", lg.dims(), lu.dims());
        }
        fn run<T: Real>(g: &[T], u: &[T]) -> CpuStorage {
            let mut out = vec![T::zero(); g.len()];
            // Blocks of plain loops (vectorised) spread over rayon's threads.
            out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, o)| {
                silu_mul(&g[b * BLOCK..][..o.len()], &u[b * BLOCK..][..o.len()], o);
            });
            T::to_cpu_storage_owned(out)
        }
        let out = by_dtype!(sg, run(input_slice(sg, lg)?, input_slice(su, lu)?));
        Ok((out, lg.shape().clone()))
    }
    fn bwd(
        &self,
        gate: &Tensor,
        up: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let packed = grad.contiguous()?.apply_op3_no_bwd(gate, up, &SwiGluGrad)?;
        let n = gate.elem_count();
        Ok((
            Some(packed.narrow(0, 0, n)?.reshape(gate.shape())?),
            Some(packed.narrow(0, n, n)?.reshape(up.shape())?),
        ))
    }
}

impl CustomOp3 for SwiGluGrad {
    fn name(&self) -> &'static str {
        "fused-swiglu-grad"
    }
    /// `∂gate = ∂y·up·σ(g)(1 + g(1 − σ(g)))`, `∂up = ∂y·silu(g)`.
    fn cpu_fwd(
        &self,
        sd: &CpuStorage,
        ld: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
        su: &CpuStorage,
        lu: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Real>(dy: &[T], g: &[T], u: &[T]) -> CpuStorage {
            let n = g.len();
            let mut out = vec![T::zero(); 2 * n];
            let (dg, du) = out.split_at_mut(n);
            dg.par_chunks_mut(BLOCK)
                .zip(du.par_chunks_mut(BLOCK))
                .enumerate()
                .for_each(|(b, (dg, du))| {
                    let at = b * BLOCK;
                    let len = dg.len();
                    silu_mul_grad(&dy[at..][..len], &g[at..][..len], &u[at..][..len], dg, du);
                });
            T::to_cpu_storage_owned(out)
        }
        let out = by_dtype!(
            sd,
            run(input_slice(sd, ld)?, input_slice(sg, lg)?, input_slice(su, lu)?)
        );
        Ok((out, Shape::from(2 * lg.shape().elem_count())))
    }
}

/// `silu(gate) ⊙ up` (one fused pass on the CPU in f32/f64, candle ops elsewhere).
pub fn swiglu(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    if fused_ok(gate) && gate.dtype() == up.dtype() {
        return gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGlu);
    }
    swiglu_composite(gate, up)
}

pub fn swiglu_composite(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    gate.silu()? * up
}
