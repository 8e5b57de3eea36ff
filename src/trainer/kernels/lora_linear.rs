//! One CPU op for a whole adapted projection, `y = x Wᵀ + b + s·(x⊙m) Aᵀ Bᵀ`, with a backward
//! that returns `∂x`, `∂A`, `∂B` and never a weight gradient. Built from candle ops the same
//! layer is a base matmul, two adapter matmuls, a scale, an add, and in the backward another
//! dozen passes and allocations; here the adapter product accumulates straight into the base
//! output, and `∂x` gets the base and adapter terms in one buffer. The base product goes through
//! a [`FrozenProduct`](super::frozen::FrozenProduct), dense or 4-bit alike.

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::frozen::{self, SharedProduct};
use super::gemm::{MatRef, matmul};
use super::stash::Stash;
use super::{Real, by_dtype, input_slice, with_last_dim, with_slice};

/// Dropout mask on the adapter input: `0` or `1/keep` per element of `x`.
pub type DropoutMask = Arc<Vec<f32>>;

/// The sizes of one pass: `M` rows of `x`, the projection's `in`/`out` features, the rank.
#[derive(Clone, Copy)]
struct Dims {
    m: usize,
    in_f: usize,
    out_f: usize,
    r: usize,
}

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
    /// `x⊙m`, borrowed when there is no mask.
    fn dropped<'a, T: Real>(&self, x: &'a [T]) -> Cow<'a, [T]> {
        match &self.mask {
            None => Cow::Borrowed(x),
            Some(m) => Cow::Owned(x.par_iter().zip(m.par_iter()).map(|(&v, &k)| v * T::from(k).unwrap()).collect()),
        }
    }

    /// The sizes for `rows` elements of an input whose rows are `width` wide, at rank `r`.
    fn dims(&self, elements: usize, width: usize, r: usize) -> Dims {
        let (out_f, in_f) = self.product.dims();
        Dims { m: elements / width.max(1), in_f, out_f, r }
    }

    fn scale<T: Real>(&self) -> T {
        T::from(self.scale).unwrap()
    }
}

/// `h = (x⊙m)·Aᵀ`, `[M, r]`: the adapter's down-projection of the (dropped-out) input.
fn down_project<T: Real>(xd: &[T], a: &[T], d: Dims) -> Vec<T> {
    let mut h = vec![T::zero(); d.m * d.r];
    matmul(&mut h, d.r, MatRef::new(xd, d.m, d.in_f), MatRef::new(a, d.r, d.in_f).t(), T::one(), false, true);
    h
}

/// `g·B`, `[M, r]`: the upstream gradient brought down to rank r.
fn grad_through_b<T: Real>(g: &[T], b: &[T], d: Dims) -> Vec<T> {
    let mut gb = vec![T::zero(); d.m * d.r];
    matmul(&mut gb, d.r, MatRef::new(g, d.m, d.out_f), MatRef::new(b, d.out_f, d.r), T::one(), false, true);
    gb
}

/// Forward: inputs `x: [M, in]`, `A: [r, in]`, `B: [out, r]` → `[M, out]`.
struct LoraLinear(Frozen);

impl LoraLinear {
    fn check(&self, lx: &Layout, la: &Layout, lb: &Layout) -> candle_core::Result<Dims> {
        let (out_f, in_f) = self.0.product.dims();
        let xi = lx.dims().last().copied().unwrap_or(0);
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
        let d = self.0.dims(lx.shape().elem_count(), in_f, r);
        if let Some(mask) = &self.0.mask
            && mask.len() != d.m * in_f
        {
            candle_core::bail!("fused LoRA linear: dropout mask has {} values for {} inputs", mask.len(), d.m * in_f);
        }
        Ok(d)
    }
}

fn lora_forward<T: Real>(f: &Frozen, x: &[T], a: &[T], b: &[T], d: Dims) -> candle_core::Result<CpuStorage> {
    let mut y = vec![T::zero(); d.m * d.out_f];
    frozen::forward(&*f.product, x, &mut y, false)?;
    if let Some(bias) = &f.bias {
        with_slice(bias, |bias: &[T]| {
            y.par_chunks_mut(d.out_f).for_each(|row| row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b))
        })?;
    }
    let h = down_project(&f.dropped(x), a, d);
    matmul(&mut y, d.out_f, MatRef::new(&h, d.m, d.r), MatRef::new(b, d.out_f, d.r).t(), f.scale(), true, true);
    f.saved.h.put(h);
    Ok(T::to_cpu_storage_owned(y))
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
        let d = self.check(lx, la, lb)?;
        let y =
            by_dtype!(sx, lora_forward(&self.0, input_slice(sx, lx)?, input_slice(sa, la)?, input_slice(sb, lb)?, d))?;
        Ok((y, with_last_dim(lx, d.out_f)))
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
        let adapter = AdapterGrad { frozen: self.0.clone(), a: a.clone(), b: b.clone() };
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

fn input_grad<T: Real>(f: &Frozen, g: &[T], a: &[T], b: &[T], d: Dims) -> candle_core::Result<CpuStorage> {
    let mut dx = vec![T::zero(); d.m * d.in_f];
    frozen::backward(&*f.product, g, &mut dx, false)?;
    let gb = grad_through_b(g, b, d);
    let (gb_view, a_view) = (MatRef::new(&gb, d.m, d.r), MatRef::new(a, d.r, d.in_f));
    match &f.mask {
        None => matmul(&mut dx, d.in_f, gb_view, a_view, f.scale(), true, true),
        Some(mask) => {
            let mut t = vec![T::zero(); d.m * d.in_f];
            matmul(&mut t, d.in_f, gb_view, a_view, f.scale(), false, true);
            dx.par_iter_mut()
                .zip(t.par_iter().zip(mask.par_iter()))
                .for_each(|(d, (&t, &k))| *d += t * T::from(k).unwrap());
        }
    }
    f.saved.gb.put(gb);
    Ok(T::to_cpu_storage_owned(dx))
}

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
        let (out_f, in_f) = self.0.product.dims();
        let d = self.0.dims(lg.shape().elem_count(), out_f, la.shape().dims2()?.0);
        let dx =
            by_dtype!(sg, input_grad(&self.0, input_slice(sg, lg)?, input_slice(sa, la)?, input_slice(sb, lb)?, d))?;
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

impl AdapterGrad {
    fn run<T: Real>(&self, g: &[T], x: &[T], d: Dims) -> candle_core::Result<CpuStorage> {
        let f = &self.frozen;
        let xd = f.dropped(x);
        let mut out = vec![T::zero(); d.r * d.in_f + d.out_f * d.r];
        let (da, db) = out.split_at_mut(d.r * d.in_f);
        // The forward's `h` and the input gradient's `g·B`, or the same products again when a
        // second backward runs through the same graph.
        let gb = match f.saved.gb.take(d.m * d.r) {
            Some(gb) => gb,
            None => with_slice(&self.b, |b: &[T]| grad_through_b(g, b, d))?,
        };
        matmul(da, d.in_f, MatRef::new(&gb, d.m, d.r).t(), MatRef::new(&xd, d.m, d.in_f), f.scale(), false, true);
        let h = match f.saved.h.take(d.m * d.r) {
            Some(h) => h,
            None => with_slice(&self.a, |a: &[T]| down_project(&xd, a, d))?,
        };
        matmul(db, d.r, MatRef::new(g, d.m, d.out_f).t(), MatRef::new(&h, d.m, d.r), f.scale(), false, true);
        Ok(T::to_cpu_storage_owned(out))
    }
}

impl CustomOp2 for AdapterGrad {
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
        let (out_f, _) = self.frozen.product.dims();
        let d = self.frozen.dims(lg.shape().elem_count(), out_f, self.a.dim(0)?);
        fn run<T: Real>(op: &AdapterGrad, g: &[T], x: &[T], d: Dims) -> candle_core::Result<CpuStorage> {
            op.run(g, x, d)
        }
        let out = by_dtype!(sg, run(self, input_slice(sg, lg)?, input_slice(sx, lx)?, d))?;
        Ok((out, Shape::from(d.r * d.in_f + d.out_f * d.r)))
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
    let saved = Arc::new(Saved::default());
    let op = LoraLinear(Frozen { product: product.clone(), bias: bias.cloned(), scale, mask, saved });
    x.contiguous()?.apply_op3(&a.contiguous()?, &b.contiguous()?, op)
}
