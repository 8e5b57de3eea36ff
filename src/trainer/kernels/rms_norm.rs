//! RMSNorm `x / √(mean(x²) + ε) · w` with a frozen scale `w`: one pass each way.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, D, DType, Layout, Shape, Tensor};

use super::{Real, by_dtype, for_rows, input_slice, internal_dtype};

struct RmsNorm {
    eps: f64,
}
struct RmsNormGrad {
    eps: f64,
}

/// `1/√(mean(x²)+ε)` of one row.
fn inverse_rms<T: Real>(row: &[T], eps: f64) -> T {
    let d = T::from(row.len()).unwrap();
    let mean_square = row.iter().fold(T::zero(), |acc, &v| acc + v * v) / d;
    (mean_square + T::from(eps).unwrap()).sqrt().recip()
}

fn rms_norm_rows<T: Real>(x: &[T], w: &[T], eps: f64) -> CpuStorage {
    let d = w.len();
    let mut out = vec![T::zero(); x.len()];
    for_rows(&mut out, d, |r, o| {
        let xr = &x[r * d..(r + 1) * d];
        let inv = inverse_rms(xr, eps);
        for ((o, &v), &wv) in o.iter_mut().zip(xr).zip(w) {
            *o = v * inv * wv;
        }
    });
    T::to_cpu_storage_owned(out)
}

/// `dx = r·(g⊙w) − x·r³/d·Σ(g⊙w⊙x)`, `r = 1/√(mean(x²)+ε)`.
fn rms_norm_grad_rows<T: Real>(x: &[T], w: &[T], g: &[T], eps: f64) -> CpuStorage {
    let d = w.len();
    let mut out = vec![T::zero(); x.len()];
    for_rows(&mut out, d, |r, o| {
        let (xr, gr) = (&x[r * d..(r + 1) * d], &g[r * d..(r + 1) * d]);
        let inv = inverse_rms(xr, eps);
        let dot = xr.iter().zip(gr).zip(w).fold(T::zero(), |acc, ((&xv, &gv), &wv)| acc + gv * wv * xv);
        let c = inv * inv * inv / T::from(d).unwrap() * dot;
        for (((o, &xv), &gv), &wv) in o.iter_mut().zip(xr).zip(gr).zip(w) {
            *o = inv * gv * wv - xv * c;
        }
    });
    T::to_cpu_storage_owned(out)
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "fused-rms-norm"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = by_dtype!(sx, rms_norm_rows(input_slice(sx, lx)?, input_slice(sw, lw)?, self.eps));
        Ok((out, lx.shape().clone()))
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
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = by_dtype!(
            sx,
            rms_norm_grad_rows(input_slice(sx, lx)?, input_slice(sw, lw)?, input_slice(sg, lg)?, self.eps)
        );
        Ok((out, lx.shape().clone()))
    }
}

/// Differentiable RMSNorm `x / √(mean(x²) + ε) · w` (gradient to `x` only; `w` is frozen).
/// Half-precision inputs are normalised in f32 like Hugging Face.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let internal = internal_dtype(dtype);
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
    let x = x.to_dtype(internal_dtype(dtype))?;
    let var = x.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = x.broadcast_mul(&(var + eps)?.sqrt()?.recip()?)?;
    normed.to_dtype(dtype)?.broadcast_mul(weight)
}
