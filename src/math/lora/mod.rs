//! LoRA maths: rank and truncated SVD, ΔW = B·A and factorization checks, the forward pass,
//! and parameter counts for one matrix or a whole decoder.

mod factor;
mod forward;
mod params;
mod svd;

pub use factor::{FactorCheck, check_factorization, delta_w};
pub use forward::{Scaling, lora_forward};
pub use params::{DecoderShape, Target, full_params, lora_params};
pub use svd::{
    best_rank_approx, default_rank_tolerance, low_rank_singular_values, rank, rank_with_tol, singular_values, try_rank,
    try_rank_with_tol,
};
