//! Softmax over the last axis (the composite attention's weights), one pass each way.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, D, Layout, Shape, Tensor};

use super::real::{exp_shifted, max_of};
use super::{Real, by_dtype, cpu_float, for_rows, input_slice, internal_dtype};

struct Softmax;
struct SoftmaxGrad;

fn softmax<T: Real>(x: &[T], w: usize) -> CpuStorage {
    let mut out = vec![T::zero(); x.len()];
    for_rows(&mut out, w, |r, o| {
        let xr = &x[r * w..(r + 1) * w];
        let inv = exp_shifted(xr, max_of(xr), o).recip();
        o.iter_mut().for_each(|o| *o *= inv);
    });
    T::to_cpu_storage_owned(out)
}

/// `dx = y ⊙ (g − Σ g⊙y)` per row.
fn softmax_grad<T: Real>(y: &[T], g: &[T], w: usize) -> CpuStorage {
    let mut out = vec![T::zero(); y.len()];
    for_rows(&mut out, w, |r, o| {
        let (yr, gr) = (&y[r * w..(r + 1) * w], &g[r * w..(r + 1) * w]);
        let dot = yr.iter().zip(gr).fold(T::zero(), |acc, (&a, &b)| acc + a * b);
        for ((o, &yv), &gv) in o.iter_mut().zip(yr).zip(gr) {
            *o = yv * (gv - dot);
        }
    });
    T::to_cpu_storage_owned(out)
}

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "fused-softmax"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let w = l.dims().last().copied().unwrap_or(1);
        Ok((by_dtype!(s, softmax(input_slice(s, l)?, w)), l.shape().clone()))
    }
    fn bwd(&self, _x: &Tensor, y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(y.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxGrad)?))
    }
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "fused-softmax-grad"
    }
    fn cpu_fwd(
        &self,
        sy: &CpuStorage,
        ly: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let w = ly.dims().last().copied().unwrap_or(1);
        let out = by_dtype!(sy, softmax_grad(input_slice(sy, ly)?, input_slice(sg, lg)?, w));
        Ok((out, ly.shape().clone()))
    }
}

/// Differentiable softmax over the last axis (f32/f64 on CPU: one fused pass each way).
pub fn softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_float(x) {
        return x.contiguous()?.apply_op1(Softmax);
    }
    softmax_composite(x)
}

/// The same softmax from candle ops (any device/dtype; computed in f32 for half types).
pub fn softmax_composite(x: &Tensor) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let x = x.to_dtype(internal_dtype(dtype))?;
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?.to_dtype(dtype)
}
