//! nalgebra maths for LoRA (rank, factorizations, forward pass, counts, truncated SVD), NF4
//! quantization as bitsandbytes does it, and a memory calculator. Depends on nothing of ours.

mod error;
pub mod lora;
pub mod memory;
pub mod nf4;

pub use error::MathError;
pub use lora::{
    DecoderShape, FactorCheck, Scaling, Target, best_rank_approx, check_factorization, delta_w, full_params,
    lora_forward, lora_params, rank, rank_with_tol,
};
pub use memory::{AdapterPrecision, MemoryBreakdown, Precision, training_memory, weight_bytes};
pub use nf4::{DoubleQuant, NF4_CODE, Nf4Tensor, double_quantize, nearest_code, quantize};
