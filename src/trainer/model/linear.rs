//! Linear layers for training: a frozen base behind [`BaseLinear`] and a LoRA adapter on top.
//!
//! The frozen base is a custom op whose backward returns only the input gradient: candle's
//! `Op::Matmul` backward would also compute (and allocate) a full weight gradient for every
//! frozen matrix. A 4-bit NF4 base (QLoRA) implements the same trait.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp2, DType, Layout, MetalStorage, Module, Shape, Tensor, Var};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::fused_lora::{by_dtype, input_slice};
use super::gemm::{MatRef, Real, matmul};

/// The frozen part of an adapted linear layer: `y = x Wᵀ (+ b)`, no gradient for `W` or `b`.
pub trait BaseLinear: Send + Sync {
    /// `x`: `[.., in_features]` → `[.., out_features]`, differentiable with respect to `x` only.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor>;
    fn in_features(&self) -> usize;
    fn out_features(&self) -> usize;
    /// The weight `[out_features, in_features]` in full precision (for merging and checks).
    fn dequantized_weight(&self) -> candle_core::Result<Tensor>;
    fn bias(&self) -> Option<&Tensor>;
    /// The weight when it is stored densely in the compute dtype, so that fused kernels can
    /// read it in place (a quantised base returns `None` and takes the composite path).
    fn dense_weight(&self) -> Option<&Tensor> {
        None
    }
}

/// `x @ Wᵀ` where only `x` gets a gradient: backward computes `grad @ W` and nothing else.
struct FrozenMatmul;

impl FrozenMatmul {
    fn dims(l1: &Layout, l2: &Layout) -> candle_core::Result<(usize, usize, usize, Layout)> {
        let (m, k) = l1.shape().dims2()?;
        let (n, k2) = l2.shape().dims2()?;
        if k != k2 {
            candle_core::bail!("frozen linear: input width {k} != weight in_features {k2}");
        }
        Ok((m, n, k, l2.transpose(0, 1)?))
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
        let (m, n, k, rhs) = Self::dims(l1, l2)?;
        // f32/f64 through the fused kernels' products (OpenBLAS when linked): the LM head's
        // [tokens × hidden]·[hidden × vocab] is the largest product of a step.
        fn run<T: Real>(
            s1: &CpuStorage,
            l1: &Layout,
            s2: &CpuStorage,
            l2: &Layout,
            (m, n, k): (usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            let (x, w) = (input_slice::<T>(s1, l1)?, input_slice::<T>(s2, l2)?);
            let mut y = vec![T::zero(); m * n];
            matmul(
                &mut y,
                n,
                MatRef::new(x, m, k),
                MatRef::new(w, n, k).t(),
                T::one(),
                false,
                true,
            );
            Ok(T::to_cpu_storage_owned(y))
        }
        if matches!(
            (s1, s2),
            (CpuStorage::F32(_), CpuStorage::F32(_)) | (CpuStorage::F64(_), CpuStorage::F64(_))
        ) && l1.is_contiguous()
            && l2.is_contiguous()
        {
            return Ok((by_dtype!(s1, run(s1, l1, s2, l2, (m, n, k)))?, Shape::from((m, n))));
        }
        Ok((
            BackendStorage::matmul(s1, s2, (1, m, n, k), l1, &rhs)?,
            Shape::from((m, n)),
        ))
    }

    fn cuda_fwd(
        &self,
        s1: &CudaStorage,
        l1: &Layout,
        s2: &CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CudaStorage, Shape)> {
        let (m, n, k, rhs) = Self::dims(l1, l2)?;
        Ok((
            BackendStorage::matmul(s1, s2, (1, m, n, k), l1, &rhs)?,
            Shape::from((m, n)),
        ))
    }

    fn metal_fwd(
        &self,
        s1: &MetalStorage,
        l1: &Layout,
        s2: &MetalStorage,
        l2: &Layout,
    ) -> candle_core::Result<(MetalStorage, Shape)> {
        let (m, n, k, rhs) = Self::dims(l1, l2)?;
        Ok((
            BackendStorage::matmul(s1, s2, (1, m, n, k), l1, &rhs)?,
            Shape::from((m, n)),
        ))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        weight: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        if super::fused::fused_ok(grad_res) && grad_res.dtype() == weight.dtype() {
            return Ok((
                Some(grad_res.contiguous()?.apply_op2_no_bwd(weight, &FrozenMatmulGrad)?),
                None,
            ));
        }
        Ok((Some(grad_res.matmul(weight)?), None))
    }
}

/// The backward of [`FrozenMatmul`] on the CPU: `∂x = g W` for `g: [m, n]`, `W: [n, k]`.
struct FrozenMatmulGrad;

impl CustomOp2 for FrozenMatmulGrad {
    fn name(&self) -> &'static str {
        "frozen-matmul-grad"
    }

    fn cpu_fwd(
        &self,
        sg: &CpuStorage,
        lg: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, n) = lg.shape().dims2()?;
        let (n2, k) = lw.shape().dims2()?;
        if n != n2 {
            candle_core::bail!("frozen linear backward: gradient width {n} != weight out_features {n2}");
        }
        fn run<T: Real>(g: &[T], w: &[T], (m, n, k): (usize, usize, usize)) -> CpuStorage {
            let mut dx = vec![T::zero(); m * k];
            matmul(
                &mut dx,
                k,
                MatRef::new(g, m, n),
                MatRef::new(w, n, k),
                T::one(),
                false,
                true,
            );
            T::to_cpu_storage_owned(dx)
        }
        Ok((
            by_dtype!(sg, run(input_slice(sg, lg)?, input_slice(sw, lw)?, (m, n, k))),
            Shape::from((m, k)),
        ))
    }
}

/// `x @ Wᵀ` with `x: [.., k]` and a frozen `W: [n, k]`; gradient flows to `x` only.
pub fn frozen_matmul(x: &Tensor, weight: &Tensor) -> candle_core::Result<Tensor> {
    let dims = x.dims().to_vec();
    let k = *dims.last().unwrap_or(&0);
    let rows = x.elem_count() / k.max(1);
    let x2 = x.reshape((rows, k))?.contiguous()?;
    let y = x2.apply_op2(weight, FrozenMatmul)?;
    let mut out_dims = dims;
    *out_dims.last_mut().unwrap() = weight.dim(0)?;
    y.reshape(out_dims)
}

/// A full-precision (f32/bf16) frozen linear layer.
pub struct FrozenLinear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl FrozenLinear {
    /// `weight: [out, in]`; both are detached so no gradient can ever reach them.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> candle_core::Result<Self> {
        weight.dims2()?;
        Ok(Self {
            weight: weight.detach().contiguous()?,
            bias: bias.map(|b| b.detach()),
        })
    }
}

impl BaseLinear for FrozenLinear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = frozen_matmul(x, &self.weight)?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
    fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }
    fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }
    fn dequantized_weight(&self) -> candle_core::Result<Tensor> {
        Ok(self.weight.clone())
    }
    fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
    fn dense_weight(&self) -> Option<&Tensor> {
        Some(&self.weight)
    }
}

/// How the forward pass should treat dropout.
pub struct ForwardMode<'a> {
    /// Dropout is active only while training.
    pub train: bool,
    /// Source of dropout masks (seeded by the run loop for exact resume).
    pub rng: Option<&'a mut StdRng>,
}

impl ForwardMode<'_> {
    pub fn eval() -> ForwardMode<'static> {
        ForwardMode {
            train: false,
            rng: None,
        }
    }
}

/// The trainable low-rank update `s · B A` (PEFT layout: `A: [r, in]`, `B: [out, r]`), f32 masters.
pub struct LoraAdapter {
    pub a: Var,
    pub b: Var,
    pub scale: f64,
    pub dropout: f32,
}

impl LoraAdapter {
    /// PEFT's default init: A ~ Kaiming-uniform(a=√5) = U(−1/√in, 1/√in), B = 0 (so ΔW = 0).
    pub fn init(
        in_features: usize,
        out_features: usize,
        rank: usize,
        scale: f64,
        dropout: f32,
        rng: &mut StdRng,
        device: &candle_core::Device,
    ) -> candle_core::Result<Self> {
        let bound = 1.0 / (in_features as f32).sqrt();
        let a: Vec<f32> = (0..rank * in_features)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        let a = Var::from_tensor(&Tensor::from_vec(a, (rank, in_features), device)?)?;
        let b = Var::zeros((out_features, rank), DType::F32, device)?;
        Ok(Self { a, b, scale, dropout })
    }

    /// `s · B(A(dropout(x)))` in `x`'s dtype.
    pub fn forward(&self, x: &Tensor, mode: &mut ForwardMode) -> candle_core::Result<Tensor> {
        let dtype = x.dtype();
        let x = if mode.train && self.dropout > 0.0 {
            dropout(x, self.dropout, mode.rng.as_deref_mut())?
        } else {
            x.clone()
        };
        let a = self.a.as_tensor().to_dtype(dtype)?;
        let b = self.b.as_tensor().to_dtype(dtype)?;
        let h = x.broadcast_matmul(&a.t()?)?;
        h.broadcast_matmul(&b.t()?)? * self.scale
    }
}

/// An inverted-dropout mask (`0` or `1/keep` per element) drawn from the run's seeded RNG
/// (candle's CPU RNG is not seedable).
fn dropout_mask(n: usize, p: f32, rng: Option<&mut StdRng>) -> Vec<f32> {
    let mut fallback;
    let rng = match rng {
        Some(r) => r,
        None => {
            fallback = StdRng::seed_from_u64(0);
            &mut fallback
        }
    };
    let keep = 1.0 - p;
    (0..n)
        .map(|_| if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 })
        .collect()
}

fn dropout(x: &Tensor, p: f32, rng: Option<&mut StdRng>) -> candle_core::Result<Tensor> {
    let mask = dropout_mask(x.elem_count(), p, rng);
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    x.mul(&mask)
}

/// A projection of the decoder: frozen base plus an optional LoRA adapter.
pub struct AdaptedLinear {
    pub base: Box<dyn BaseLinear>,
    pub lora: Option<LoraAdapter>,
}

impl AdaptedLinear {
    pub fn forward(&self, x: &Tensor, mode: &mut ForwardMode) -> candle_core::Result<Tensor> {
        if let (Some(lora), Some(weight)) = (&self.lora, self.base.dense_weight())
            && super::fused::fused_ok(x)
            && weight.dtype() == x.dtype()
        {
            return self.forward_fused(lora, weight, x, mode);
        }
        self.forward_composite(x, mode)
    }

    /// The same layer from separate candle ops (every device and dtype).
    pub fn forward_composite(&self, x: &Tensor, mode: &mut ForwardMode) -> candle_core::Result<Tensor> {
        let y = self.base.forward(x)?;
        match &self.lora {
            Some(lora) => y.add(&lora.forward(x, mode)?),
            None => Ok(y),
        }
    }

    /// One fused op on the CPU: see [`super::fused_lora`].
    fn forward_fused(
        &self,
        lora: &LoraAdapter,
        weight: &Tensor,
        x: &Tensor,
        mode: &mut ForwardMode,
    ) -> candle_core::Result<Tensor> {
        let mask = (mode.train && lora.dropout > 0.0)
            .then(|| std::sync::Arc::new(dropout_mask(x.elem_count(), lora.dropout, mode.rng.as_deref_mut())));
        let dtype = x.dtype();
        let (a, b) = (lora.a.as_tensor().to_dtype(dtype)?, lora.b.as_tensor().to_dtype(dtype)?);
        super::fused_lora::lora_linear(x, weight, self.base.bias(), &a, &b, lora.scale, mask)
    }

    /// `W + s·B·A` in f32 (for merging): `[out, in]`.
    pub fn merged_weight(&self) -> candle_core::Result<Tensor> {
        let w = self.base.dequantized_weight()?.to_dtype(DType::F32)?;
        match &self.lora {
            Some(l) => w.add(&(l.b.as_tensor().matmul(l.a.as_tensor())? * l.scale)?),
            None => Ok(w),
        }
    }
}

/// A frozen `Module` view (used for the LM head and for inference-only paths).
impl Module for FrozenLinear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        BaseLinear::forward(self, x)
    }
}
