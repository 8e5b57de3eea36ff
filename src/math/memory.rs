//! Memory calculator for weights and LoRA/QLoRA training state.
//!
//! Units: bytes everywhere, and decimal gigabytes (1 GB = 10⁹ bytes, [`GB`]) where a
//! human-sized number is wanted — the unit GPU vendors print on the box. [`GIB`]
//! (2³⁰ bytes, what `nvidia-smi` shows as MiB/GiB) is there for conversions.

use std::fmt;

use crate::math::nf4::{DEFAULT_BLOCKSIZE, bits_per_weight as nf4_bits_per_weight};

/// One decimal gigabyte in bytes.
pub const GB: f64 = 1e9;
/// One gibibyte in bytes.
pub const GIB: f64 = 1_073_741_824.0;

/// Bytes → decimal gigabytes.
pub fn gigabytes(bytes: f64) -> f64 {
    bytes / GB
}

/// Bytes → gibibytes.
pub fn gibibytes(bytes: f64) -> f64 {
    bytes / GIB
}

/// How the frozen base weights are stored (the level files name these too, hence serde).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Precision {
    Fp32,
    /// IEEE half precision: 16 bits, the same storage as bf16.
    Fp16,
    Bf16,
    /// 8-bit integers (per-row scales ignored: they are < 0.1 % for real layer sizes).
    Int8,
    /// NF4 with one f32 absmax per 64 weights: 4.5 bits.
    Nf4,
    /// NF4 with double-quantized absmax (QLoRA): ≈ 4.127 bits.
    Nf4DoubleQuant,
}

impl Precision {
    /// One format per storage size, as in the deck's memory table (fp16 is left out: it has
    /// bf16's 16 bits).
    pub const ALL: [Precision; 5] =
        [Precision::Fp32, Precision::Bf16, Precision::Int8, Precision::Nf4, Precision::Nf4DoubleQuant];

    /// Storage bits per weight, statistics included.
    pub fn bits_per_weight(self) -> f64 {
        match self {
            Precision::Fp32 => 32.0,
            Precision::Fp16 | Precision::Bf16 => 16.0,
            Precision::Int8 => 8.0,
            Precision::Nf4 => nf4_bits_per_weight(DEFAULT_BLOCKSIZE, false),
            Precision::Nf4DoubleQuant => nf4_bits_per_weight(DEFAULT_BLOCKSIZE, true),
        }
    }

    /// Bytes per weight (bits / 8).
    pub fn bytes_per_weight(self) -> f64 {
        self.bits_per_weight() / 8.0
    }

    /// Display name: "FP32", "FP16", "BF16", "INT8", "NF4", "NF4 + DQ".
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "FP32",
            Precision::Fp16 => "FP16",
            Precision::Bf16 => "BF16",
            Precision::Int8 => "INT8",
            Precision::Nf4 => "NF4",
            Precision::Nf4DoubleQuant => "NF4 + DQ",
        }
    }

    /// The label the lessons and checker messages print: "fp32", "fp16", "bf16", "int8",
    /// "NF4", "NF4 + DQ" (lower-case like the deck, except the NF4 names).
    pub fn label(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
            Precision::Nf4 | Precision::Nf4DoubleQuant => self.name(),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Bytes needed to store `n_params` weights at precision `p`.
pub fn weight_bytes(n_params: u64, p: Precision) -> f64 {
    n_params as f64 * p.bytes_per_weight()
}

/// How the trainable adapter weights (and so their gradients) are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdapterPrecision {
    Bf16,
    Fp32,
}

impl AdapterPrecision {
    pub fn bytes_per_weight(self) -> f64 {
        match self {
            AdapterPrecision::Bf16 => 2.0,
            AdapterPrecision::Fp32 => 4.0,
        }
    }
}

/// AdamW keeps two f32 moments (m and v) per trainable parameter.
pub const ADAMW_BYTES_PER_PARAM: f64 = 8.0;

/// Training memory in bytes, by part.
///
/// Counted: the frozen base weights at their storage precision, the adapter weights, one
/// gradient per adapter weight (same precision), AdamW's two f32 moments per adapter weight.
/// NOT counted: activations saved for the backward pass (they grow with batch × sequence
/// length and often dominate for small models), the [tokens × vocab] logits, the temporary
/// dequantized copy of the layer being multiplied, the CUDA context and allocator slack, and
/// any f32 master copy of bf16 adapters. Treat the total as a lower bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryBreakdown {
    pub base_weights: f64,
    pub adapter_weights: f64,
    pub adapter_gradients: f64,
    pub optimizer_states: f64,
}

impl MemoryBreakdown {
    /// Sum of all parts, in bytes.
    pub fn total_bytes(&self) -> f64 {
        self.base_weights + self.adapter_weights + self.adapter_gradients + self.optimizer_states
    }

    /// Sum of all parts, in decimal GB.
    pub fn total_gb(&self) -> f64 {
        gigabytes(self.total_bytes())
    }

    /// Whether the counted parts fit in a GPU with `gpu_gb` decimal GB (activations excluded,
    /// so "fits" here is necessary, not sufficient).
    pub fn fits_in_gb(&self, gpu_gb: f64) -> bool {
        self.total_gb() <= gpu_gb
    }
}

/// Memory for training `adapter_params` LoRA weights on a frozen base of `base_params` weights
/// stored at `base`. Full fine-tuning in f32 is `training_memory(0, _, n, AdapterPrecision::Fp32)`:
/// 16 bytes per parameter (weight, gradient, two moments).
pub fn training_memory(
    base_params: u64,
    base: Precision,
    adapter_params: u64,
    adapter: AdapterPrecision,
) -> MemoryBreakdown {
    let adapter_bytes = adapter_params as f64 * adapter.bytes_per_weight();
    MemoryBreakdown {
        base_weights: weight_bytes(base_params, base),
        adapter_weights: adapter_bytes,
        adapter_gradients: adapter_bytes,
        optimizer_states: adapter_params as f64 * ADAMW_BYTES_PER_PARAM,
    }
}
