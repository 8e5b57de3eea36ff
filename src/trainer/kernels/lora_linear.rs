//! One CPU op for a whole adapted projection, `y = x Wᵀ + b + s·(x⊙m) Aᵀ Bᵀ`, with a backward
//! that returns `∂x`, `∂A`, `∂B` and never a weight gradient. Built from candle ops the same
//! layer is a base matmul, two adapter matmuls, a scale, an add, and in the backward another
//! dozen passes and allocations; here the adapter product accumulates straight into the base
//! output, and `∂x` gets the base and adapter terms in one buffer.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::frozen::{self, SharedProduct};
use super::gemm::{MatRef, matmul};
use super::stash::Stash;
use super::{Real, by_dtype, input_slice, with_last_dim, with_slice};

/// Dropout mask on the adapter input: `0` or `1/keep` per element of `x`.
pub type DropoutMask = Arc<Vec<f32>>;

/// What every pass of the op shares.
#[derive(Clone)]
struct Frozen {
    /// The frozen `W: [out, in]`.
    product: SharedProduct,
    bias: Option<Tensor>,
    scale: f64,
    mask: Option<DropoutMask>,
    /// Small products one pass hands to a later one instead of recomputing them.
    saved: Arc<Saved>,
}

/// `h = (x⊙m)Aᵀ` from the forward and `g·B` from the input gradient, both `[M, r]`, kept for the
/// adapter gradient (each taken once; a missing one is recomputed).
#[derive(Default)]
struct Saved {
    h: Stash,
    gb: Stash,
}

impl Frozen {
    fn dims(&self) -> (usize, usize) {
        self.product.dims()
    }

    /// `x⊙m`, borrowed when there is no mask.
    fn dropped<'a, T: Real>(&self, x: &'a [T]) -> std::borrow::Cow<'a, [T]> {
        match &self.mask {
            None => std::borrow::Cow::Borrowed(x),
            Some(m) => std::borrow::Cow::Owned(
                x.par_iter()
                    .zip(m.par_iter())
                    .map(|(&v, &k)| v * T::from(k).unwrap())
                    .collect(),
            ),
        }
    }
}

/// Forward: inputs `x: [M, in]`, `A: [r, in]`, `B: [out, r]` → `[M, out]`.
pub struct LoraLinear(Frozen);

impl LoraLinear {
    fn shapes(&self, lx: &Layout, la: &Layout, lb: &Layout) -> candle_core::Result<(usize, usize, usize, usize)> {
        let (out_f, in_f) = self.0.dims();
        let xi = lx.dims().last().copied().unwrap_or(0);
        let m = lx.shape().elem_count() / xi.max(1);
        let (r, ai) = la.shape().dims2()?;
        let (bo, br) = lb.shape().dims2()?;
        if xi != in_f || ai != in_f || bo != out_f || br != r {
            candle_core::bail!(
                "fused LoRA linear: x {:?}, A {:?}, B {:?} do not fit W [{out_f}, {in_f}]",
                lx.dims(),
                la.dims(),
                lb.dims()
            );
        }
        if let Some(mask) = &self.0.mask
            && mask.len() != m * in_f
        {
            candle_core::bail!(
                "fused LoRA linear: dropout mask has {} values for {} inputs",
                mask.len(),
                m * in_f
            );
        }
        Ok((m, in_f, out_f, r))
    }
}

fn lora_forward<T: Real>(
    f: &Frozen,
    x: &[T],
    a: &[T],
    b: &[T],
    (m, in_f, out_f, r): (usize, usize, usize, usize),
) -> candle_core::Result<Vec<T>> {
    let mut y = vec![T::zero(); m * out_f];
    frozen::forward(&*f.product, x, &mut y, false)?;
    if let Some(bias) = &f.bias {
        with_slice(bias, |bias: &[T]| {
            y.par_chunks_mut(out_f)
                .for_each(|row| row.iter_mut().zip(bias).for_each(|(v, &b)| *v = *v + b))
        })?;
    }
    let xd = f.dropped(x);
    let mut h = vec![T::zero(); m * r];
    matmul(
        &mut h,
        r,
        MatRef::new(&xd, m, in_f),
        MatRef::new(a, r, in_f).t(),
        T::one(),
        false,
        true,
    );
    matmul(
        &mut y,
        out_f,
        MatRef::new(&h, m, r),
        MatRef::new(b, out_f, r).t(),
        T::from(f.scale).unwrap(),
        true,
        true,
    );
    f.saved.h.put(h);
    Ok(y)
}

impl CustomOp3 for LoraLinear {
    fn name(&self) -> &'static str {
        "fused-lora-linear"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sa: &CpuStorage,
        la: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let dims = self.shapes(lx, la, lb)?;
        fn run<T: Real>(
            f: &Frozen,
            sx: &CpuStorage,
            lx: &Layout,
            sa: &CpuStorage,
            la: &Layout,
            sb: &CpuStorage,
            lb: &Layout,
            dims: (usize, usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let y = lora_forward::<T>(
                f,
                input_slice(sx, lx)?,
                input_slice(sa, la)?,
                input_slice(sb, lb)?,
                dims,
            )?;
            Ok(T::to_cpu_storage_owned(y))
        }
        let y = by_dtype!(sx, run(&self.0, sx, lx, sa, la, sb, lb, dims))?;
        Ok((y, with_last_dim(lx, dims.2)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        a: &Tensor,
        b: &Tensor,
        _y: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let dx = grad.apply_op3_no_bwd(a, b, &InputGrad(self.0.clone()))?;
        let adapter = AdapterGrad {
            frozen: self.0.clone(),
            a: a.clone(),
            b: b.clone(),
        };
        let packed = grad.apply_op2_no_bwd(x, &adapter)?;
        let (r, in_f) = a.dims2()?;
        let out_f = b.dim(0)?;
        let da = packed.narrow(0, 0, r * in_f)?.reshape((r, in_f))?;
        let db = packed.narrow(0, r * in_f, out_f * r)?.reshape((out_f, r))?;
        Ok((Some(dx), Some(da), Some(db)))
    }
}

/// `∂x = g W + s·((g B) A)⊙m` from `g: [M, out]`, `A`, `B`.
struct InputGrad(Frozen);

impl CustomOp3 for InputGrad {
    fn name(&self) -> &'static str {
        "fused-lora-linear-input-grad"
    }

    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        sa: &CpuStorage,
        la: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (out_f, in_f) = self.0.dims();
        let m = lg.shape().elem_count() / out_f.max(1);
        let r = la.shape().dims2()?.0;
        fn run<T: Real>(
            f: &Frozen,
            g: &[T],
            a: &[T],
            b: &[T],
            (m, in_f, out_f, r): (usize, usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let mut dx = vec![T::zero(); m * in_f];
            frozen::backward(&*f.product, g, &mut dx, false)?;
            let mut gb = vec![T::zero(); m * r];
            matmul(
                &mut gb,
                r,
                MatRef::new(g, m, out_f),
                MatRef::new(b, out_f, r),
                T::one(),
                false,
                true,
            );
            let s = T::from(f.scale).unwrap();
            match &f.mask {
                None => matmul(
                    &mut dx,
                    in_f,
                    MatRef::new(&gb, m, r),
                    MatRef::new(a, r, in_f),
                    s,
                    true,
                    true,
                ),
                Some(mask) => {
                    let mut t = vec![T::zero(); m * in_f];
                    matmul(
                        &mut t,
                        in_f,
                        MatRef::new(&gb, m, r),
                        MatRef::new(a, r, in_f),
                        s,
                        false,
                        true,
                    );
                    dx.par_iter_mut()
                        .zip(t.par_iter().zip(mask.par_iter()))
                        .for_each(|(d, (&t, &k))| *d = *d + t * T::from(k).unwrap());
                }
            }
            f.saved.gb.put(gb);
            Ok(T::to_cpu_storage_owned(dx))
        }
        let dims = (m, in_f, out_f, r);
        let dx = by_dtype!(
            sg,
            run(
                &self.0,
                input_slice(sg, lg)?,
                input_slice(sa, la)?,
                input_slice(sb, lb)?,
                dims
            )
        )?;
        Ok((dx, with_last_dim(lg, in_f)))
    }
}

/// `[∂A | ∂B]` flattened, from `g: [M, out]` and `x: [M, in]`:
/// `∂A = s·(g B)ᵀ (x⊙m)`, `∂B = s·gᵀ ((x⊙m) Aᵀ)`.
struct AdapterGrad {
    frozen: Frozen,
    a: Tensor,
    b: Tensor,
}

impl candle_core::CustomOp2 for AdapterGrad {
    fn name(&self) -> &'static str {
        "fused-lora-linear-adapter-grad"
    }

    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        sx: &CpuStorage,
        lx: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (out_f, in_f) = self.frozen.dims();
        let m = lg.shape().elem_count() / out_f.max(1);
        let r = self.a.dim(0)?;
        fn run<T: Real>(
            op: &AdapterGrad,
            g: &[T],
            x: &[T],
            (m, in_f, out_f, r): (usize, usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let f = &op.frozen;
            let s = T::from(f.scale).unwrap();
            let xd = f.dropped(x);
            let mut out = vec![T::zero(); r * in_f + out_f * r];
            let (da, db) = out.split_at_mut(r * in_f);
            let gb = match f.saved.gb.take(m * r) {
                Some(gb) => gb,
                None => {
                    let mut gb = vec![T::zero(); m * r];
                    with_slice(&op.b, |b: &[T]| {
                        matmul(
                            &mut gb,
                            r,
                            MatRef::new(g, m, out_f),
                            MatRef::new(b, out_f, r),
                            T::one(),
                            false,
                            true,
                        )
                    })?;
                    gb
                }
            };
            matmul(
                da,
                in_f,
                MatRef::new(&gb, m, r).t(),
                MatRef::new(&xd, m, in_f),
                s,
                false,
                true,
            );
            let h = match f.saved.h.take(m * r) {
                Some(h) => h,
                None => {
                    let mut h = vec![T::zero(); m * r];
                    with_slice(&op.a, |a: &[T]| {
                        matmul(
                            &mut h,
                            r,
                            MatRef::new(&xd, m, in_f),
                            MatRef::new(a, r, in_f).t(),
                            T::one(),
                            false,
                            true,
                        )
                    })?;
                    h
                }
            };
            matmul(
                db,
                r,
                MatRef::new(g, m, out_f).t(),
                MatRef::new(&h, m, r),
                s,
                false,
                true,
            );
            Ok(T::to_cpu_storage_owned(out))
        }
        let dims = (m, in_f, out_f, r);
        let out = by_dtype!(sg, run(self, input_slice(sg, lg)?, input_slice(sx, lx)?, dims))?;
        Ok((out, Shape::from(r * in_f + out_f * r)))
    }
}

/// `x Wᵀ + b + s·(x⊙m) Aᵀ Bᵀ` for `x: [M, in]` on the CPU in f32/f64, the base product through
/// `product` (which must accept `x`'s dtype); `A`, `B` must already be in `x`'s dtype.
/// Gradients reach `x`, `A` and `B` only.
pub fn lora_linear(
    x: &Tensor,
    product: &SharedProduct,
    bias: Option<&Tensor>,
    a: &Tensor,
    b: &Tensor,
    scale: f64,
    mask: Option<DropoutMask>,
) -> candle_core::Result<Tensor> {
    let op = LoraLinear(Frozen {
        product: product.clone(),
        bias: bias.cloned(),
        scale,
        mask,
        saved: Arc::new(Saved::default()),
    });
    x.contiguous()?.apply_op3(&a.contiguous()?, &b.contiguous()?, op)
}
