//! Linear layers for training: a frozen base behind [`BaseLinear`] and a LoRA adapter on top.
//!
//! The frozen base never gets a gradient (see [`crate::trainer::kernels::frozen`]); on the CPU
//! it hands the fused kernels a [`FrozenProduct`] so they never need the weight itself, which
//! is how a 4-bit NF4 base (QLoRA) takes the same fused path as a dense one.

use candle_core::{DType, Module, Tensor, Var};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::trainer::kernels::cpu_float;
use crate::trainer::kernels::frozen::{self, DenseWeight, SharedProduct};
use crate::trainer::kernels::lora_linear::{self, DropoutMask};

/// The frozen part of an adapted linear layer: `y = x Wᵀ (+ b)`, no gradient for `W` or `b`.
pub trait BaseLinear: Send + Sync {
    /// `x`: `[.., in_features]` → `[.., out_features]`, differentiable with respect to `x` only.
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor>;
    fn in_features(&self) -> usize;
    fn out_features(&self) -> usize;
    /// The weight `[out_features, in_features]` in full precision (for merging and checks).
    fn dequantized_weight(&self) -> candle_core::Result<Tensor>;
    fn bias(&self) -> Option<&Tensor>;
    /// The weight as the fused CPU kernels multiply by it, when they can (`None`: the layer
    /// lives on another device and takes the composite path).
    fn cpu_product(&self) -> Option<&SharedProduct>;
    /// Bytes the frozen weight holds in memory (not the bias): what QLoRA shrinks.
    fn weight_bytes(&self) -> usize;
    /// Whether the weight is held quantized (QLoRA's NF4).
    fn is_quantized(&self) -> bool {
        false
    }
}

/// A full-precision (f32/bf16) frozen linear layer.
pub struct FrozenLinear {
    weight: Tensor,
    bias: Option<Tensor>,
    /// The same weight for the CPU kernels (when it is on the CPU).
    product: Option<SharedProduct>,
}

impl FrozenLinear {
    /// `weight: [out, in]`; both are detached so no gradient can ever reach them.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> candle_core::Result<Self> {
        weight.dims2()?;
        let weight = weight.detach().contiguous()?;
        let product = match weight.device().is_cpu() {
            true => Some(std::sync::Arc::new(DenseWeight::new(&weight)?) as SharedProduct),
            false => None,
        };
        Ok(Self { weight, bias: bias.map(|b| b.detach()), product })
    }

    /// The weight as stored, in the compute dtype (the fused LM head reads it in place).
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}

/// `y + b` (broadcast over rows) when there is a bias.
pub(crate) fn add_bias(y: Tensor, bias: Option<&Tensor>) -> candle_core::Result<Tensor> {
    match bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

impl BaseLinear for FrozenLinear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = match &self.product {
            Some(p) if cpu_float(x) && p.accepts(x.dtype()) => frozen::project(x, p)?,
            _ => frozen::frozen_matmul(x, &self.weight)?,
        };
        add_bias(y, self.bias.as_ref())
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
    fn cpu_product(&self) -> Option<&SharedProduct> {
        self.product.as_ref()
    }
    fn weight_bytes(&self) -> usize {
        self.weight.elem_count() * self.weight.dtype().size_in_bytes()
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
        ForwardMode { train: false, rng: None }
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
        let a: Vec<f32> = (0..rank * in_features).map(|_| rng.random_range(-bound..bound)).collect();
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
    (0..n).map(|_| if rng.random::<f32>() < keep { 1.0 / keep } else { 0.0 }).collect()
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
        if let (Some(lora), Some(product)) = (&self.lora, self.base.cpu_product())
            && cpu_float(x)
            && product.accepts(x.dtype())
        {
            return self.forward_fused(lora, product, x, mode);
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

    /// One fused op on the CPU: see [`lora_linear`].
    fn forward_fused(
        &self,
        lora: &LoraAdapter,
        product: &SharedProduct,
        x: &Tensor,
        mode: &mut ForwardMode,
    ) -> candle_core::Result<Tensor> {
        let mask: Option<DropoutMask> = (mode.train && lora.dropout > 0.0)
            .then(|| std::sync::Arc::new(dropout_mask(x.elem_count(), lora.dropout, mode.rng.as_deref_mut())));
        let dtype = x.dtype();
        let (a, b) = (lora.a.as_tensor().to_dtype(dtype)?, lora.b.as_tensor().to_dtype(dtype)?);
        lora_linear::lora_linear(x, product, self.base.bias(), &a, &b, lora.scale, mask)
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
