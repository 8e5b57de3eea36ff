//! NF4 (4-bit NormalFloat) exactly as bitsandbytes stores it: the code table, blockwise
//! quantization with two codes per byte, and QLoRA's double quantization of the absmax.
//! This is the single NF4 implementation: the trainer and the puzzles both use it.

mod code;
mod double_quant;
mod tensor;

pub use code::{
    NF4_CODE, NF4_MIDPOINTS, NF4_ZERO_INDEX, bits_per_weight, max_code_gap, max_quantization_error, nearest_code,
};
pub use double_quant::{
    DOUBLE_QUANT_BLOCKSIZE, DoubleQuant, create_dynamic_map_signed, double_quantize, double_quantize_blocks,
    torch_f32_mean,
};
pub use tensor::{DEFAULT_BLOCKSIZE, Nf4Tensor, quantize};
