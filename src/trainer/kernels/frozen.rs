//! Frozen weights: `y = x·Wᵀ` whose backward gives the input gradient `g·W` and never a
//! weight gradient (candle's matmul backward would compute, and allocate, one for every frozen
//! matrix: ≈ 6N instead of 4N FLOPs a token).
//!
//! On the CPU a frozen weight is anything that implements [`FrozenProduct`] — a dense tensor
//! ([`DenseWeight`]) or a 4-bit base that dequantizes as it multiplies — so the fused kernels
//! never need the weight itself. Elsewhere (GPU, half precision) [`frozen_matmul`] multiplies
//! by a weight tensor with the device's own matmul.

use std::sync::Arc;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp1, CustomOp2, DType, Layout, MetalStorage, Shape, Tensor};

use super::gemm::{MatRef, matmul};
use super::real::{cast, cast_mut};
use super::{Real, by_dtype, input_slice, with_last_dim, with_slice};

/// A frozen `W: [out, in]` the CPU kernels can multiply by (rows of `x` and `y` are row-major).
pub trait FrozenProduct: Send + Sync {
    /// `(out_features, in_features)`.
    fn dims(&self) -> (usize, usize);
    /// Whether inputs of this dtype can be multiplied (f32/f64 on the CPU at most).
    fn accepts(&self, dtype: DType) -> bool;
    /// `y (+)= x·Wᵀ` for `x: [m, in]`, `y: [m, out]`; `accumulate` adds to `y`.
    fn forward_f32(&self, x: &[f32], y: &mut [f32], accumulate: bool) -> candle_core::Result<()>;
    fn forward_f64(&self, x: &[f64], y: &mut [f64], accumulate: bool) -> candle_core::Result<()>;
    /// `dx (+)= g·W` for `g: [m, out]`, `dx: [m, in]`.
    fn backward_f32(&self, g: &[f32], dx: &mut [f32], accumulate: bool) -> candle_core::Result<()>;
    fn backward_f64(&self, g: &[f64], dx: &mut [f64], accumulate: bool) -> candle_core::Result<()>;
}

/// Inside `impl FrozenProduct for W`: the four typed products, forwarded to `W`'s own generic
/// `forward::<T>` and `backward::<T>` (one implementation for f32 and f64).
macro_rules! typed_products {
    () => {
        fn forward_f32(&self, x: &[f32], y: &mut [f32], accumulate: bool) -> candle_core::Result<()> {
            self.forward(x, y, accumulate)
        }
        fn forward_f64(&self, x: &[f64], y: &mut [f64], accumulate: bool) -> candle_core::Result<()> {
            self.forward(x, y, accumulate)
        }
        fn backward_f32(&self, g: &[f32], dx: &mut [f32], accumulate: bool) -> candle_core::Result<()> {
            self.backward(g, dx, accumulate)
        }
        fn backward_f64(&self, g: &[f64], dx: &mut [f64], accumulate: bool) -> candle_core::Result<()> {
            self.backward(g, dx, accumulate)
        }
    };
}
pub(crate) use typed_products;

/// A shared frozen weight, as the ops hold it.
pub type SharedProduct = Arc<dyn FrozenProduct>;

/// `y (+)= x·Wᵀ` through `p`, for the kernels' element type `T`.
pub fn forward<T: Real>(p: &dyn FrozenProduct, x: &[T], y: &mut [T], accumulate: bool) -> candle_core::Result<()> {
    if let (Some(x), Some(y)) = (cast(x), cast_mut(y)) {
        return p.forward_f32(x, y, accumulate);
    }
    match (cast(x), cast_mut(y)) {
        (Some(x), Some(y)) => p.forward_f64(x, y, accumulate),
        _ => candle_core::bail!("frozen product: only f32 and f64"),
    }
}

/// `dx (+)= g·W` through `p`.
pub fn backward<T: Real>(p: &dyn FrozenProduct, g: &[T], dx: &mut [T], accumulate: bool) -> candle_core::Result<()> {
    if let (Some(g), Some(dx)) = (cast(g), cast_mut(dx)) {
        return p.backward_f32(g, dx, accumulate);
    }
    match (cast(g), cast_mut(dx)) {
        (Some(g), Some(dx)) => p.backward_f64(g, dx, accumulate),
        _ => candle_core::bail!("frozen product: only f32 and f64"),
    }
}

/// A dense weight tensor in the compute dtype, read in place.
pub struct DenseWeight(Tensor);

impl DenseWeight {
    /// `weight: [out, in]` on the CPU.
    pub fn new(weight: &Tensor) -> candle_core::Result<Self> {
        weight.dims2()?;
        Ok(Self(weight.detach().contiguous()?))
    }

    fn forward<T: Real>(&self, x: &[T], y: &mut [T], accumulate: bool) -> candle_core::Result<()> {
        let (out_f, in_f) = self.dims();
        let m = x.len() / in_f.max(1);
        with_slice(&self.0, |w: &[T]| {
            matmul(y, out_f, MatRef::new(x, m, in_f), MatRef::new(w, out_f, in_f).t(), T::one(), accumulate, true)
        })
    }

    fn backward<T: Real>(&self, g: &[T], dx: &mut [T], accumulate: bool) -> candle_core::Result<()> {
        let (out_f, in_f) = self.dims();
        let m = g.len() / out_f.max(1);
        with_slice(&self.0, |w: &[T]| {
            matmul(dx, in_f, MatRef::new(g, m, out_f), MatRef::new(w, out_f, in_f), T::one(), accumulate, true)
        })
    }
}

impl FrozenProduct for DenseWeight {
    fn dims(&self) -> (usize, usize) {
        let d = self.0.dims();
        (d[0], d[1])
    }
    fn accepts(&self, dtype: DType) -> bool {
        self.0.device().is_cpu() && self.0.dtype() == dtype && matches!(dtype, DType::F32 | DType::F64)
    }
    typed_products!();
}

/// `x·Wᵀ` on the CPU for `x: [.., in]` through a [`FrozenProduct`].
struct Project(SharedProduct);

/// Its backward: `∂x = g·W` for `g: [.., out]`.
struct ProjectGrad(SharedProduct);

impl CustomOp1 for Project {
    fn name(&self) -> &'static str {
        "frozen-project"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (out_f, in_f) = self.0.dims();
        if l.dims().last() != Some(&in_f) {
            candle_core::bail!("frozen linear: input {:?} does not end in in_features {in_f}", l.dims());
        }
        fn run<T: Real>(p: &dyn FrozenProduct, x: &[T], n: usize) -> candle_core::Result<CpuStorage> {
            let mut y = vec![T::zero(); n];
            forward(p, x, &mut y, false)?;
            Ok(T::to_cpu_storage_owned(y))
        }
        let n = l.shape().elem_count() / in_f.max(1) * out_f;
        let y = by_dtype!(s, run(&*self.0, input_slice(s, l)?, n))?;
        Ok((y, with_last_dim(l, out_f)))
    }
    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad.contiguous()?.apply_op1_no_bwd(&ProjectGrad(self.0.clone()))?))
    }
}

impl CustomOp1 for ProjectGrad {
    fn name(&self) -> &'static str {
        "frozen-project-grad"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (out_f, in_f) = self.0.dims();
        fn run<T: Real>(p: &dyn FrozenProduct, g: &[T], n: usize) -> candle_core::Result<CpuStorage> {
            let mut dx = vec![T::zero(); n];
            backward(p, g, &mut dx, false)?;
            Ok(T::to_cpu_storage_owned(dx))
        }
        let n = l.shape().elem_count() / out_f.max(1) * in_f;
        Ok((by_dtype!(s, run(&*self.0, input_slice(s, l)?, n))?, with_last_dim(l, in_f)))
    }
}

/// `x·Wᵀ` for `x: [.., in]` through a frozen CPU product; gradient to `x` only.
pub fn project(x: &Tensor, product: &SharedProduct) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1(Project(product.clone()))
}

/// `x @ Wᵀ` with a weight tensor, on any device: only `x` gets a gradient.
struct FrozenMatmul;

impl FrozenMatmul {
    /// The device's own matmul of `x: [m, k]` and `Wᵀ` (a transposed view of `W: [n, k]`).
    fn device_matmul<S: BackendStorage>(s1: &S, l1: &Layout, s2: &S, l2: &Layout) -> candle_core::Result<(S, Shape)> {
        let (m, k) = l1.shape().dims2()?;
        let (n, k2) = l2.shape().dims2()?;
        if k != k2 {
            candle_core::bail!("frozen linear: input width {k} != weight in_features {k2}");
        }
        Ok((s1.matmul(s2, (1, m, n, k), l1, &l2.transpose(0, 1)?)?, Shape::from((m, n))))
    }
}

impl CustomOp2 for FrozenMatmul {
    fn name(&self) -> &'static str {
        "frozen-matmul"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        Self::device_matmul(s1, l1, s2, l2)
    }
    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CudaStorage, Shape)> {
        Self::device_matmul(s1, l1, s2, l2)
    }
    fn metal_fwd(
        &self,
        s1: &MetalStorage,
        l1: &Layout,
        s2: &MetalStorage,
        l2: &Layout,
    ) -> candle_core::Result<(MetalStorage, Shape)> {
        Self::device_matmul(s1, l1, s2, l2)
    }
    fn bwd(
        &self,
        _x: &Tensor,
        weight: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(grad_res.matmul(weight)?), None))
    }
}

/// `x @ Wᵀ` with `x: [.., k]` and a frozen `W: [n, k]` tensor on any device; gradient to `x` only.
pub fn frozen_matmul(x: &Tensor, weight: &Tensor) -> candle_core::Result<Tensor> {
    let dims = x.dims().to_vec();
    let k = *dims.last().unwrap_or(&0);
    let rows = x.elem_count() / k.max(1);
    let y = x.reshape((rows, k))?.contiguous()?.apply_op2(weight, FrozenMatmul)?;
    let mut out_dims = dims;
    *out_dims.last_mut().unwrap() = weight.dim(0)?;
    y.reshape(out_dims)
}
