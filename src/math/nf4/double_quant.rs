//! Double quantization (QLoRA): the f32 absmax of every NF4 block is itself quantized to
//! 8 bits with bitsandbytes' signed dynamic map, in blocks of 256, around their mean.

use crate::math::error::{MathError, ensure_finite_iter};

/// Absmax values per second-level block (bitsandbytes hard-codes 256 for NF4 statistics).
pub const DOUBLE_QUANT_BLOCKSIZE: usize = 256;

/// bitsandbytes' `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`:
/// 256 sorted values in [−0.99297, 1]: for each decade 10⁻⁶ … 10⁰ the midpoints of
/// `linspace(0.1, 1, 2^i + 1)` scaled by that decade, both signs, plus 0 and 1.
///
/// Computed the way torch does it in f32 (its CPU `linspace` evaluates `start + step·i`
/// with a fused multiply-add), so the table is bit-identical to bitsandbytes'.
pub fn create_dynamic_map_signed() -> [f32; 256] {
    const MAX_EXPONENT_BITS: i32 = 7;
    let mut values = Vec::with_capacity(256);
    for i in 0..MAX_EXPONENT_BITS {
        let boundaries = torch_linspace_f32(0.1, 1.0, (1usize << i) + 1);
        // Python `10 ** (-6 + i)` is a double (an int for i = 6); torch multiplies in f32.
        let decade = 10f64.powi(-(MAX_EXPONENT_BITS - 1) + i) as f32;
        for pair in boundaries.windows(2) {
            let mean = (pair[0] + pair[1]) / 2.0;
            values.push(decade * mean);
            values.push(-decade * mean);
        }
    }
    values.push(0.0);
    values.push(1.0);
    values.sort_by(f32::total_cmp);
    let mut map = [0.0f32; 256];
    map.copy_from_slice(&values);
    map
}

/// torch.linspace(start, end, steps, dtype=float32) on CPU: the first half counts up from
/// `start`, the second half down from `end`, each as one fused multiply-add.
fn torch_linspace_f32(start: f32, end: f32, steps: usize) -> Vec<f32> {
    if steps == 1 {
        return vec![start];
    }
    let step = (end - start) / (steps - 1) as f32;
    let halfway = steps / 2;
    (0..steps)
        .map(|i| if i < halfway { step.mul_add(i as f32, start) } else { (-step).mul_add((steps - i - 1) as f32, end) })
        .collect()
}

/// bitsandbytes' 8-bit CPU quantizer (v0.50) maps x/absmax onto a 65,536-bin grid over [−1, 1]
/// and looks the bin up in a table of nearest codes, instead of searching the code book.
const LUT_SIZE: usize = 65_536;

/// For each grid value −1 + 2i/65535: the number of code midpoints strictly below it.
fn build_quantize_lut(code: &[f32; 256]) -> Vec<u8> {
    let midpoints: Vec<f32> = code.windows(2).map(|p| 0.5 * (p[0] + p[1])).collect();
    let mut lut = Vec::with_capacity(LUT_SIZE);
    let mut code_index = 0usize;
    for i in 0..LUT_SIZE {
        let value = -1.0f32 + (2.0f32 * i as f32) / (LUT_SIZE - 1) as f32;
        while code_index < midpoints.len() && midpoints[code_index] < value {
            code_index += 1;
        }
        lut.push(code_index as u8);
    }
    lut
}

fn lut_index(normalized: f32) -> usize {
    let v = normalized.clamp(-1.0, 1.0);
    // Truncation (not rounding) after +0.5, as in the C++ `static_cast<uint16_t>`.
    ((v + 1.0) * 0.5 * (LUT_SIZE - 1) as f32 + 0.5) as usize
}

/// Blockwise 8-bit quantization with a 256-entry code book, as bitsandbytes'
/// `quantize_blockwise` on CPU: per block absmax, x · (1/absmax), LUT lookup; an all-zero
/// block stores absmax 0 and code index 0 (which dequantizes to 0 · code[0] = 0).
fn quantize_blockwise_8bit(values: &[f32], code: &[f32; 256], blocksize: usize) -> (Vec<u8>, Vec<f32>) {
    let lut = build_quantize_lut(code);
    let mut codes = Vec::with_capacity(values.len());
    let mut absmax = Vec::with_capacity(values.len().div_ceil(blocksize));
    for block in values.chunks(blocksize) {
        let block_max = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        absmax.push(block_max);
        if block_max == 0.0 {
            codes.extend(std::iter::repeat_n(0u8, block.len()));
            continue;
        }
        let inverse = 1.0 / block_max;
        codes.extend(block.iter().map(|&v| lut[lut_index(v * inverse)]));
    }
    (codes, absmax)
}

/// Double-quantized absmax statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct DoubleQuant {
    /// One 8-bit index into [`create_dynamic_map_signed`] per NF4 block.
    pub codes: Vec<u8>,
    /// One f32 scale per `blocksize` codes (bitsandbytes' `state2.absmax`).
    pub scales: Vec<f32>,
    /// mean(absmax), subtracted before quantizing (bitsandbytes' `offset`).
    pub offset: f32,
    /// Codes per scale: [`DOUBLE_QUANT_BLOCKSIZE`] unless built otherwise.
    pub blocksize: usize,
}

impl DoubleQuant {
    /// absmax_i = dyn_code[q_i] · scale[i / blocksize] + offset, in f32 as bitsandbytes does.
    pub fn dequantize(&self) -> Vec<f32> {
        let code = create_dynamic_map_signed();
        self.codes
            .iter()
            .enumerate()
            .map(|(i, &q)| code[usize::from(q)] * self.scales[i / self.blocksize] + self.offset)
            .collect()
    }

    /// Storage in bytes: one byte per code, 4 per scale, 4 for the offset.
    pub fn bytes(&self) -> usize {
        self.codes.len() + 4 * self.scales.len() + 4
    }
}

/// Double quantization with bitsandbytes' block size of 256 (see [`double_quantize_blocks`]).
pub fn double_quantize(absmax: &[f32]) -> Result<DoubleQuant, MathError> {
    double_quantize_blocks(absmax, DOUBLE_QUANT_BLOCKSIZE)
}

/// Replicates `quantize_4bit(..., compress_statistics=True)`: offset = mean(absmax) (summed in
/// torch's order, see [`torch_f32_mean`]); absmax − offset is quantized blockwise to 8 bits with
/// the signed dynamic map.
///
/// Errors: empty input, `blocksize2 == 0`, non-finite values.
pub fn double_quantize_blocks(absmax: &[f32], blocksize2: usize) -> Result<DoubleQuant, MathError> {
    if blocksize2 == 0 {
        return Err(MathError::ZeroBlocksize { what: "double quantization" });
    }
    if absmax.is_empty() {
        return Err(MathError::EmptyInput { what: "absmax to double-quantize" });
    }
    ensure_finite_iter("absmax", absmax.iter().map(|&v| f64::from(v)))?;
    let offset = torch_f32_mean(absmax);
    let centred: Vec<f32> = absmax.iter().map(|&a| a - offset).collect();
    let (codes, scales) = quantize_blockwise_8bit(&centred, &create_dynamic_map_signed(), blocksize2);
    Ok(DoubleQuant { codes, scales, offset, blocksize: blocksize2 })
}

/// The f32 mean exactly as torch computes `tensor.mean()` on an AVX2 CPU for fewer than
/// 32,768 values (one thread): a cascade sum over 8-lane vectors in groups of four with
/// multi-level accumulators, then sum / n. Larger inputs are reduced in per-thread chunks by
/// torch, so there the result can differ from torch's by an ulp or two.
pub fn torch_f32_mean(values: &[f32]) -> f32 {
    if values.is_empty() {
        return f32::NAN;
    }
    torch_f32_sum(values) / values.len() as f32
}

const LANES: usize = 8;
const ILP: usize = 4;

fn torch_f32_sum(values: &[f32]) -> f32 {
    if values.len() < LANES {
        return row_sum_scalar(values);
    }
    let vectors: Vec<[f32; LANES]> = values
        .chunks_exact(LANES)
        .map(|c| {
            let mut lanes = [0.0f32; LANES];
            lanes.copy_from_slice(c);
            lanes
        })
        .collect();
    let lanes = row_sum(&vectors, [0.0; LANES], |a, b| {
        let mut out = a;
        for (o, v) in out.iter_mut().zip(b) {
            *o += v;
        }
        out
    });
    let tail = &values[vectors.len() * LANES..];
    let mut total = tail.iter().fold(0.0f32, |acc, &v| acc + v);
    for lane in lanes {
        total += lane;
    }
    total
}

fn row_sum_scalar(values: &[f32]) -> f32 {
    row_sum(values, 0.0f32, |a, b| a + b)
}

/// torch's `row_sum`: the row is viewed as (−1, 4); four running sums go through
/// `multi_row_sum`, leftovers are added to the first, then the four are added up in order.
fn row_sum<T: Copy>(items: &[T], zero: T, add: impl Fn(T, T) -> T) -> T {
    let rows = items.len() / ILP;
    let mut partial = multi_row_sum(&items[..rows * ILP], zero, &add);
    for &item in &items[rows * ILP..] {
        partial[0] = add(partial[0], item);
    }
    let mut total = partial[0];
    for &p in &partial[1..] {
        total = add(total, p);
    }
    total
}

/// torch's `multi_row_sum` with 4 levels of accumulators (a cascade/pairwise-like sum).
fn multi_row_sum<T: Copy>(items: &[T], zero: T, add: &impl Fn(T, T) -> T) -> [T; ILP] {
    const LEVELS: usize = 4;
    let size = items.len() / ILP;
    let ceil_log2 = if size <= 1 { 0 } else { usize::BITS - (size - 1).leading_zeros() } as usize;
    let level_power = 4.max(ceil_log2 / LEVELS);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let mut acc = [[zero; ILP]; LEVELS];
    let row = |i: usize| &items[i * ILP..(i + 1) * ILP];
    let mut i = 0;
    while i + level_step <= size {
        for _ in 0..level_step {
            for (a, &v) in acc[0].iter_mut().zip(row(i)) {
                *a = add(*a, v);
            }
            i += 1;
        }
        for j in 1..LEVELS {
            let lower = std::mem::replace(&mut acc[j - 1], [zero; ILP]);
            for (a, l) in acc[j].iter_mut().zip(lower) {
                *a = add(*a, l);
            }
            if i & (level_mask << (j * level_power)) != 0 {
                break;
            }
        }
    }
    while i < size {
        for (a, &v) in acc[0].iter_mut().zip(row(i)) {
            *a = add(*a, v);
        }
        i += 1;
    }
    let [mut total, rest @ ..] = acc;
    for level in rest {
        for (t, l) in total.iter_mut().zip(level) {
            *t = add(*t, l);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_hits_both_ends_exactly() {
        for steps in [2, 3, 5, 9, 17, 33, 65] {
            let v = torch_linspace_f32(0.1, 1.0, steps);
            assert_eq!(v.len(), steps);
            assert_eq!(v[0], 0.1);
            assert_eq!(v[steps - 1], 1.0);
            assert!(v.windows(2).all(|p| p[0] < p[1]));
        }
    }

    #[test]
    fn lut_covers_the_whole_code_book() {
        let code = create_dynamic_map_signed();
        let lut = build_quantize_lut(&code);
        assert_eq!(lut[lut_index(-1.0)], 0);
        assert_eq!(lut[lut_index(1.0)], 255);
        assert_eq!(lut_index(-7.0), 0);
        assert_eq!(lut_index(7.0), LUT_SIZE - 1);
        assert!(lut.windows(2).all(|p| p[0] <= p[1]));
        // The code book is sorted, has one exact 0, and ends at 1.
        assert!(code.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(code.iter().filter(|&&c| c == 0.0).count(), 1);
        assert_eq!(code[255], 1.0);
    }

    #[test]
    fn an_all_zero_block_stores_zero_absmax() {
        let (codes, absmax) = quantize_blockwise_8bit(&[0.0; 4], &create_dynamic_map_signed(), 256);
        assert_eq!(absmax, vec![0.0]);
        assert_eq!(codes, vec![0; 4]);
    }
}
