//! Blockwise NF4 quantization of a flat f32 tensor, packed two codes per byte.

use crate::math::error::{MathError, ensure_finite_iter};
use crate::math::nf4::code::{NF4_CODE, NF4_ZERO_INDEX, nearest_code};

/// bitsandbytes' default (and QLoRA's) NF4 block size.
pub const DEFAULT_BLOCKSIZE: usize = 64;

/// bitsandbytes divides by `max(absmax, 1e-38)` so an all-zero block gives zeros, not NaN.
const ABSMAX_FLOOR: f32 = 1e-38;

/// An NF4-quantized tensor in bitsandbytes' layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Nf4Tensor {
    /// Two codes per byte, the FIRST element in the HIGH nibble: `q[2i] << 4 | q[2i+1]`.
    /// An odd length is padded with the code of 0.0 (index 7) in the last low nibble.
    pub packed: Vec<u8>,
    /// One f32 absmax per block of `blocksize` consecutive elements (the last block may be short).
    pub absmax: Vec<f32>,
    /// Number of elements (before padding).
    pub len: usize,
    pub blocksize: usize,
}

/// Quantizes `x` (already flattened row-major) to NF4 in blocks of `blocksize`, exactly as
/// bitsandbytes' CPU `quantize_4bit` (v0.50) does:
/// - absmax per block = max |x|;
/// - full blocks are scaled by multiplying with `1 / max(absmax, 1e-38)`, the short last block
///   (when `len % blocksize != 0`) by dividing by `max(absmax, 1e-38)` — the two differ by an
///   ulp now and then, and bitsandbytes does it this way;
/// - an all-zero full block stores absmax 0, an all-zero SHORT last block stores absmax 1e-38
///   (bitsandbytes keeps the clamped value there); both dequantize to zeros;
/// - codes by [`nearest_code`] after clamping to [−1, 1].
///
/// Errors: empty input, `blocksize == 0`, NaN or infinite values.
pub fn quantize(x: &[f32], blocksize: usize) -> Result<Nf4Tensor, MathError> {
    if blocksize == 0 {
        return Err(MathError::ZeroBlocksize { what: "NF4" });
    }
    if x.is_empty() {
        return Err(MathError::EmptyInput { what: "tensor to quantize" });
    }
    ensure_finite_iter("tensor to quantize", x.iter().map(|&v| f64::from(v)))?;

    let mut absmax = Vec::with_capacity(x.len().div_ceil(blocksize));
    let mut codes = Vec::with_capacity(x.len() + 1);
    for block in x.chunks(blocksize) {
        let block_max = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let divisor = block_max.max(ABSMAX_FLOOR);
        if block.len() == blocksize {
            let inverse = 1.0 / divisor;
            absmax.push(block_max);
            codes.extend(block.iter().map(|&v| nearest_code((v * inverse).clamp(-1.0, 1.0))));
        } else {
            absmax.push(divisor);
            codes.extend(block.iter().map(|&v| nearest_code((v / divisor).clamp(-1.0, 1.0))));
        }
    }
    if codes.len() % 2 == 1 {
        codes.push(NF4_ZERO_INDEX);
    }
    let packed = codes.chunks_exact(2).map(|pair| pair[0] << 4 | pair[1]).collect();
    Ok(Nf4Tensor { packed, absmax, len: x.len(), blocksize })
}

impl Nf4Tensor {
    /// Builds a tensor from stored parts, checking that they fit together
    /// (`packed.len() == ceil(len/2)`, one absmax per block, finite absmax values).
    pub fn from_parts(packed: Vec<u8>, absmax: Vec<f32>, len: usize, blocksize: usize) -> Result<Self, MathError> {
        if blocksize == 0 {
            return Err(MathError::ZeroBlocksize { what: "NF4" });
        }
        if len == 0 {
            return Err(MathError::EmptyInput { what: "NF4 tensor" });
        }
        if packed.len() != len.div_ceil(2) || absmax.len() != len.div_ceil(blocksize) {
            return Err(MathError::ShapeMismatch {
                operation: "NF4 tensor from parts",
                detail: format!(
                    "{len} elements in blocks of {blocksize} need {} packed bytes and {} absmax values; got {} and {}",
                    len.div_ceil(2),
                    len.div_ceil(blocksize),
                    packed.len(),
                    absmax.len()
                ),
            });
        }
        ensure_finite_iter("NF4 absmax", absmax.iter().map(|&v| f64::from(v)))?;
        Ok(Nf4Tensor { packed, absmax, len, blocksize })
    }

    /// Number of blocks (= absmax values).
    pub fn num_blocks(&self) -> usize {
        self.absmax.len()
    }

    /// The 4-bit codes, one per element (unpacked, padding dropped).
    pub fn codes(&self) -> Vec<u8> {
        self.packed.iter().flat_map(|&byte| [byte >> 4, byte & 0x0F]).take(self.len).collect()
    }

    /// Element i = NF4_CODE[code_i] · absmax[i / blocksize], multiplied in f32 as bitsandbytes does.
    pub fn dequantize(&self) -> Vec<f32> {
        dequantize_codes(&self.codes(), &self.absmax, self.blocksize)
    }

    /// Storage in bytes: packed codes plus 4 bytes per f32 absmax.
    pub fn bytes(&self) -> usize {
        self.packed.len() + 4 * self.absmax.len()
    }

    /// Double-quantizes this tensor's absmax values (see [`super::double_quantize`]).
    pub fn double_quantize_absmax(&self) -> Result<super::DoubleQuant, MathError> {
        super::double_quantize(&self.absmax)
    }

    /// Dequantizes with absmax values taken from elsewhere (e.g. [`super::DoubleQuant::dequantize`]),
    /// which must have one value per block.
    pub fn dequantize_with_absmax(&self, absmax: &[f32]) -> Result<Vec<f32>, MathError> {
        if absmax.len() != self.absmax.len() {
            return Err(MathError::ShapeMismatch {
                operation: "NF4 dequantize",
                detail: format!(
                    "the tensor has {} blocks but {} absmax values were given",
                    self.absmax.len(),
                    absmax.len()
                ),
            });
        }
        Ok(dequantize_codes(&self.codes(), absmax, self.blocksize))
    }
}

fn dequantize_codes(codes: &[u8], absmax: &[f32], blocksize: usize) -> Vec<f32> {
    codes.iter().enumerate().map(|(i, &q)| NF4_CODE[usize::from(q & 0x0F)] * absmax[i / blocksize]).collect()
}
