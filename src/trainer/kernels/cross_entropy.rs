//! Row-wise cross-entropy of logits `[n, V]` against class indices (when the logits exist as a
//! tensor: the training loss itself goes through [`super::head`], which never forms them).

use candle_core::{CpuStorage, CustomOp2, CustomOp3, D, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::real::{exp_shifted, max_of, sum_exp_shifted};
use super::{Real, by_dtype, cpu_float, for_rows, input_slice, u32_slice};

struct CrossEntropyRows;
struct CrossEntropyGrad;

/// Per row: `logsumexp(x) − x[target]`. One row is a whole vocabulary (~50k): rows in parallel.
fn losses<T: Real>(x: &[T], targets: &[u32], v: usize) -> CpuStorage {
    let out: Vec<T> = (0..targets.len())
        .into_par_iter()
        .map(|r| {
            let xr = &x[r * v..(r + 1) * v];
            let max = max_of(xr);
            max + sum_exp_shifted(xr, max).ln() - xr[targets[r] as usize]
        })
        .collect();
    T::to_cpu_storage_owned(out)
}

/// `∂logits = g_r · (softmax(x_r) − onehot(target_r))`.
fn logits_grad<T: Real>(x: &[T], targets: &[u32], g: &[T], v: usize) -> CpuStorage {
    let mut out = vec![T::zero(); x.len()];
    for_rows(&mut out, v, |r, o| {
        let xr = &x[r * v..(r + 1) * v];
        let scale = g[r] / exp_shifted(xr, max_of(xr), o);
        o.iter_mut().for_each(|o| *o *= scale);
        o[targets[r] as usize] -= g[r];
    });
    T::to_cpu_storage_owned(out)
}

impl CustomOp2 for CrossEntropyRows {
    fn name(&self) -> &'static str {
        "fused-cross-entropy"
    }
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        st: &CpuStorage,
        lt: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, v) = lx.shape().dims2()?;
        let out = by_dtype!(sx, losses(input_slice(sx, lx)?, u32_slice(st, lt)?, v));
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
    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        st: &CpuStorage,
        lt: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (_, v) = lx.shape().dims2()?;
        let out = by_dtype!(sx, logits_grad(input_slice(sx, lx)?, u32_slice(st, lt)?, input_slice(sg, lg)?, v));
        Ok((out, lx.shape().clone()))
    }
}

/// Per-row cross-entropy `[n]` of `logits: [n, V]` against `targets: [n]` (u32),
/// differentiable with respect to the logits.
pub fn cross_entropy_rows(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_float(logits) {
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
