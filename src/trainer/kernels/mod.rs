//! Fused CPU training kernels, each a candle custom op with its own backward: one op a file.
//!
//! candle builds these layers from many small ops, each a separate pass over memory, a
//! thread-pool barrier and, in the backward, a zero-filled gradient plus an add. Here each layer
//! is one pass each way in f32 (training) or f64 (gradient checks). Every kernel has a composite
//! version made of differentiable candle ops, used on other devices and dtypes; the tests check
//! the two against each other and against finite differences.
//!
//! Dependencies run one way: [`real`] / [`simd`] (element maths) → [`gemm`] (products) →
//! [`stash`] → the ops. No op file imports another op file except [`attention`], which takes
//! its rotation from [`rope`].

pub mod attention;
pub mod cross_entropy;
pub mod frozen;
pub mod gemm;
pub mod head;
pub mod lora_linear;
pub mod real;
pub mod rms_norm;
pub mod rope;
pub mod simd;
pub mod softmax;
pub mod stash;
pub mod swiglu;

use candle_core::{CpuStorage, DType, Layout, Shape, Tensor, WithDType};
use rayon::prelude::*;

pub use real::Real;

/// True when the fused kernels can run on `t`: on the CPU, in f32 or f64.
pub fn cpu_float(t: &Tensor) -> bool {
    t.device().is_cpu() && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// Half-precision activations are normalised and soft-maxed in f32 (like Hugging Face);
/// f32/f64 stay as they are.
pub(crate) fn internal_dtype(dtype: DType) -> DType {
    match dtype {
        DType::BF16 | DType::F16 => DType::F32,
        d => d,
    }
}

/// The contiguous part of `v` that `l` describes.
pub(crate) fn contiguous<'a, T>(v: &'a [T], l: &Layout) -> candle_core::Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("fused op expects a contiguous input"),
    }
}

/// The contiguous slice behind an op input (an error if it holds another element type).
pub(crate) fn input_slice<'a, T: WithDType>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [T]> {
    contiguous(s.as_slice::<T>()?, l)
}

/// Runs `f` on the contiguous CPU slice of a tensor an op holds (a frozen weight, say).
pub(crate) fn with_slice<T: WithDType, R>(t: &Tensor, f: impl FnOnce(&[T]) -> R) -> candle_core::Result<R> {
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("fused op: tensor is not on the CPU");
    };
    Ok(f(input_slice(cpu, layout)?))
}

/// `l`'s shape with its last axis resized (the ops take `[.., features]` as rows, so the model
/// needs no reshape nodes around them: each would cost a zero-fill and an add in candle's backward).
pub(crate) fn with_last_dim(l: &Layout, n: usize) -> Shape {
    let mut dims = l.dims().to_vec();
    match dims.last_mut() {
        Some(last) => *last = n,
        None => dims.push(n),
    }
    Shape::from(dims)
}

/// Runs `f(row index, row)` over the rows of width `width`, on rayon's threads (the pool the
/// other kernels and the matrix products use) when the work is large enough to pay for it.
pub(crate) fn for_rows<T: Send>(out: &mut [T], width: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let width = width.max(1);
    if out.len() < 1 << 16 {
        out.chunks_mut(width).enumerate().for_each(|(r, row)| f(r, row));
    } else {
        out.par_chunks_mut(width).enumerate().for_each(|(r, row)| f(r, row));
    }
}

/// Class indices (cross-entropy targets) as a `u32` slice.
pub(crate) fn u32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [u32]> {
    match s {
        CpuStorage::U32(t) => contiguous(t, l),
        _ => candle_core::bail!("class indices must be u32"),
    }
}

/// Calls the generic kernel body `$f::<f32>(..)` or `$f::<f64>(..)` after the dtype of the
/// storage `$s`: the one f32/f64 dispatch of every op (other inputs are read with
/// [`input_slice`], which refuses a different dtype).
macro_rules! by_dtype {
    ($s:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $s {
            CpuStorage::F32(_) => $f::<f32>($($arg),*),
            CpuStorage::F64(_) => $f::<f64>($($arg),*),
            _ => candle_core::bail!("fused op: only f32 and f64"),
        }
    };
}
pub(crate) use by_dtype;
