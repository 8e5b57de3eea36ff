//! The 16 NF4 code values and rounding to the nearest one.

/// NF4 code values, index 0..15 (bitsandbytes `get_4bit_type("nf4")`, f32 as stored there).
/// Quantiles of N(0, 1) rescaled to [−1, 1], with an exact 0 (index 7).
// Written with bitsandbytes' digits so the table can be compared by eye; each rounds to that f32.
#[allow(clippy::excessive_precision)]
pub const NF4_CODE: [f32; 16] = [
    -1.0,
    -0.696_192_800_998_687_7,
    -0.525_073_051_452_636_7,
    -0.394_917_488_098_144_53,
    -0.284_441_381_692_886_35,
    -0.184_773_430_228_233_34,
    -0.091_050_036_251_544_95,
    0.0,
    0.079_580_299_556_255_34,
    0.160_930_201_411_247_25,
    0.246_112_301_945_686_34,
    0.337_915_241_718_292_24,
    0.440_709_829_330_444_34,
    0.562_617_003_917_694_1,
    0.722_956_836_223_602_3,
    1.0,
];

/// The code index of 0.0 (what padding and all-zero blocks quantize to).
pub const NF4_ZERO_INDEX: u8 = 7;

/// Decision thresholds: (code[i] + code[i+1]) / 2, computed in f32 exactly as bitsandbytes does.
pub const NF4_MIDPOINTS: [f32; 15] = {
    let mut midpoints = [0.0f32; 15];
    let mut i = 0;
    while i < 15 {
        midpoints[i] = (NF4_CODE[i] + NF4_CODE[i + 1]) / 2.0;
        i += 1;
    }
    midpoints
};

/// The NF4 index for a value already scaled by its block's absmax.
///
/// Replicates bitsandbytes' CPU quantizer (`torch.bucketize(x, midpoints)`, right=False):
/// the index is the number of midpoints strictly below `v`, so a value exactly on a midpoint
/// rounds DOWN to the lower code. Values beyond ±1 land on code 0 or 15 (the clamp changes
/// nothing). NaN gives 15, as torch's bucketize does.
pub fn nearest_code(v: f32) -> u8 {
    if v.is_nan() {
        return 15;
    }
    NF4_MIDPOINTS.iter().filter(|&&m| m < v).count() as u8
}

/// The largest gap between consecutive NF4 codes: 0.3038, between −1 and −0.6962
/// (NF4 is asymmetric; the widest positive gap, 0.7230 → 1, is 0.2770).
pub fn max_code_gap() -> f32 {
    NF4_CODE.windows(2).map(|pair| pair[1] - pair[0]).fold(0.0, f32::max)
}

/// Worst-case |x − dequantize(quantize(x))| for one element of a block with this absmax:
/// half the largest gap between consecutive codes times absmax (≈ 0.1519 · absmax).
/// Rounding of x/absmax in f32 can add a few ulps on top; tests allow for that.
pub fn max_quantization_error(absmax: f32) -> f32 {
    0.5 * max_code_gap() * absmax.abs()
}

/// Storage cost of NF4 in bits per weight: 4 bits per code plus the absmax statistics —
/// 32/blocksize without double quantization (4.5 for blocksize 64); with double quantization
/// 8/blocksize for the 8-bit absmax codes plus 32/(blocksize·256) for the second-level f32
/// scales (≈ 4.127 for 64). The single f32 offset per tensor is ignored.
/// A blocksize of 0 gives +∞.
pub fn bits_per_weight(blocksize: usize, double_quant: bool) -> f64 {
    let b = blocksize as f64;
    if double_quant { 4.0 + 8.0 / b + 32.0 / (b * super::DOUBLE_QUANT_BLOCKSIZE as f64) } else { 4.0 + 32.0 / b }
}
