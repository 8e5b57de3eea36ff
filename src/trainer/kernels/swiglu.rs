//! `silu(gate) ⊙ up`, the Llama MLP's activation, in one pass each way.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::real::{silu_mul, silu_mul_grad};
use super::{Real, by_dtype, cpu_float, input_slice};

struct SwiGlu;
/// `[∂gate | ∂up]` flattened, from the upstream gradient and both inputs.
struct SwiGluGrad;

/// Elements per parallel task of the element-wise kernels.
const BLOCK: usize = 1 << 14;

fn forward<T: Real>(g: &[T], u: &[T]) -> CpuStorage {
    let mut out = vec![T::zero(); g.len()];
    // Blocks of plain loops (vectorised) spread over rayon's threads.
    out.par_chunks_mut(BLOCK).enumerate().for_each(|(b, o)| {
        silu_mul(&g[b * BLOCK..][..o.len()], &u[b * BLOCK..][..o.len()], o);
    });
    T::to_cpu_storage_owned(out)
}

/// `∂gate = ∂y·up·σ(g)(1 + g(1 − σ(g)))`, `∂up = ∂y·silu(g)`.
fn backward<T: Real>(dy: &[T], g: &[T], u: &[T]) -> CpuStorage {
    let n = g.len();
    let mut out = vec![T::zero(); 2 * n];
    let (dg, du) = out.split_at_mut(n);
    dg.par_chunks_mut(BLOCK).zip(du.par_chunks_mut(BLOCK)).enumerate().for_each(|(b, (dg, du))| {
        let (at, len) = (b * BLOCK, dg.len());
        silu_mul_grad(&dy[at..][..len], &g[at..][..len], &u[at..][..len], dg, du);
    });
    T::to_cpu_storage_owned(out)
}

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
        let out = by_dtype!(sg, forward(input_slice(sg, lg)?, input_slice(su, lu)?));
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
        Ok((Some(packed.narrow(0, 0, n)?.reshape(gate.shape())?), Some(packed.narrow(0, n, n)?.reshape(up.shape())?)))
    }
}

impl CustomOp3 for SwiGluGrad {
    fn name(&self) -> &'static str {
        "fused-swiglu-grad"
    }
    fn cpu_fwd(
        &self,
        sd: &CpuStorage,
        ld: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
        su: &CpuStorage,
        lu: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = by_dtype!(sd, backward(input_slice(sd, ld)?, input_slice(sg, lg)?, input_slice(su, lu)?));
        Ok((out, Shape::from(2 * lg.shape().elem_count())))
    }
}

/// `silu(gate) ⊙ up` (one fused pass on the CPU in f32/f64, candle ops elsewhere).
pub fn swiglu(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_float(gate) && gate.dtype() == up.dtype() {
        return gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGlu);
    }
    swiglu_composite(gate, up)
}

pub fn swiglu_composite(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    gate.silu()? * up
}
