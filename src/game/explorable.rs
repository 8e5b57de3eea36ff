//! The lessons' explorable slides: one knob (▲ ▼) and what the maths says at each setting.
//! Plain Rust, computed by [`crate::math`] every time (nothing here is a stored answer); the
//! lesson screen draws it ([`crate::game::screens::explore`]).
//!
//! - [`Explorable::Rank`]: the best rank-r approximation of a full fine-tuning ΔW (truncated SVD),
//!   its singular values and its Frobenius error, against the parameters rank r trains.
//! - [`Explorable::Nf4Codes`]: the 16 NF4 codes as quantiles of N(0, 1); a block quantized and
//!   dequantized one step at a time.
//! - [`Explorable::AlphaOverR`]: the same learned directions at rank r, with and without α/r.
//! - [`Explorable::MemoryBudget`]: full fine-tuning, LoRA and QLoRA of 7B–65B models against
//!   24 / 48 / 80 GB cards.

use nalgebra::{DMatrix, DVector};

use crate::content::Explorable;
use crate::math::lora::{self, DecoderShape, Scaling, Target};
use crate::math::memory::{AdapterPrecision, Precision, gigabytes, training_memory};
use crate::math::nf4;

impl Explorable {
    /// How many settings the knob has.
    pub fn settings(self) -> usize {
        match self {
            Explorable::Rank => RANK_SIGMAS.len(),
            Explorable::Nf4Codes => QUANTIZE_STEPS,
            Explorable::AlphaOverR => ALPHA_RANKS.len(),
            Explorable::MemoryBudget => BUDGET_MODELS.len(),
        }
    }

    /// The knob moved by `step`, kept in range.
    pub fn turn(self, knob: usize, step: i32) -> usize {
        (knob as i32 + step).clamp(0, self.settings() as i32 - 1) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Rank
// ---------------------------------------------------------------------------------------------

/// Singular values of the full fine-tuning update the rank slide approximates: a few strong
/// directions and a tail, as measured updates of real fine-tunes look.
pub const RANK_SIGMAS: [f64; 6] = [9.0, 4.5, 2.0, 0.9, 0.4, 0.15];

/// The rank slide at rank `r`.
#[derive(Clone, Debug, PartialEq)]
pub struct RankView {
    pub r: usize,
    pub delta: DMatrix<f64>,
    pub approx: DMatrix<f64>,
    pub sigmas: Vec<f64>,
    /// ‖ΔW − ΔW_r‖_F, and as a share of ‖ΔW‖_F.
    pub error: f64,
    pub relative_error: f64,
    /// Trained by rank r (r·(d_in + d_out)), and by full fine-tuning (d_in·d_out).
    pub lora_params: u64,
    pub full_params: u64,
}

/// The update: U·diag(σ)·Vᵀ with U, V orthonormal (from QR of fixed matrices), so its singular
/// values are exactly [`RANK_SIGMAS`].
pub fn full_update() -> DMatrix<f64> {
    let n = RANK_SIGMAS.len();
    let fixed = |seed: f64| DMatrix::from_fn(n, n, |i, j| ((i * n + j) as f64 * seed + 0.5).sin());
    let u = fixed(1.3).qr().q();
    let v = fixed(2.9).qr().q();
    &u * DMatrix::from_diagonal(&DVector::from_row_slice(&RANK_SIGMAS)) * v.transpose()
}

pub fn rank_view(knob: usize) -> RankView {
    let r = knob.clamp(0, RANK_SIGMAS.len() - 1) + 1;
    let delta = full_update();
    let (approx, error) = lora::best_rank_approx(&delta, r).expect("a 6×6 matrix has an SVD");
    let sigmas = lora::singular_values(&delta).expect("a 6×6 matrix has an SVD").iter().copied().collect();
    let n = delta.nrows() as u64;
    RankView {
        r,
        relative_error: error / delta.norm(),
        delta,
        approx,
        sigmas,
        error,
        lora_params: lora::lora_params(n, n, r as u64),
        full_params: lora::full_params(n, n),
    }
}

// ---------------------------------------------------------------------------------------------
// NF4 codes
// ---------------------------------------------------------------------------------------------

/// Steps of the block walk-through: w, absmax, w/absmax, nearest code, ŵ and the error.
pub const QUANTIZE_STEPS: usize = 5;
/// The walk-through's block (eight weights shaped like a layer's: most near 0, one large).
pub const QUANTIZE_BLOCK: [f64; 8] = [0.31, -0.12, 0.05, -0.44, 0.18, 0.02, -0.27, 0.09];
/// Where bitsandbytes cuts N(0, 1) for its largest code: NF4's ±1 is Φ⁻¹(0.9677) ≈ 1.848 σ.
pub const NF4_OFFSET: f64 = 0.9677;

#[derive(Clone, Debug, PartialEq)]
pub struct Nf4View {
    pub step: usize,
    /// The 16 codes in units of N(0, 1)'s σ (code × Φ⁻¹(0.9677)).
    pub code_sigmas: Vec<f64>,
    pub block: Vec<f64>,
    pub absmax: f64,
    pub normalized: Vec<f64>,
    pub codes: Vec<u8>,
    pub restored: Vec<f64>,
    pub errors: Vec<f64>,
}

pub fn nf4_view(knob: usize) -> Nf4View {
    let block: Vec<f64> = QUANTIZE_BLOCK.to_vec();
    let values: Vec<f32> = block.iter().map(|&w| w as f32).collect();
    let quantized = nf4::quantize(&values, values.len()).expect("one block of eight");
    let absmax = block.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let restored: Vec<f64> = quantized.dequantize().iter().map(|&v| f64::from(v)).collect();
    let scale = inverse_normal_cdf(NF4_OFFSET);
    Nf4View {
        step: knob.min(QUANTIZE_STEPS - 1),
        code_sigmas: nf4::NF4_CODE.iter().map(|&c| f64::from(c) * scale).collect(),
        normalized: block.iter().map(|w| w / absmax).collect(),
        codes: quantized.codes(),
        errors: block.iter().zip(&restored).map(|(w, d)| (w - d).abs()).collect(),
        restored,
        absmax,
        block,
    }
}

/// N(0, 1)'s density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, relative error < 1.2·10⁻⁹).
// Acklam's published coefficients, digit for digit.
#[allow(clippy::excessive_precision)]
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383577518672690e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

// ---------------------------------------------------------------------------------------------
// α / r
// ---------------------------------------------------------------------------------------------

pub const ALPHA_RANKS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];
/// The slide's α (PEFT's examples use α = 16 or 2r; held fixed here while r changes).
pub const ALPHA: f64 = 16.0;

#[derive(Clone, Debug, PartialEq)]
pub struct AlphaView {
    pub r: usize,
    /// ‖B·A·x‖: every one of the r directions adds the same learned step.
    pub unscaled: f64,
    /// ‖(α/r)·B·A·x‖.
    pub scaled: f64,
    pub scale: f64,
    /// Both at every rank, for the bars.
    pub all: Vec<(usize, f64, f64)>,
}

/// ‖B·A·x‖ and ‖(α/r)·B·A·x‖ when each of the r rank-1 directions has learned the same step
/// (Adam moves every weight by about the learning rate, whatever r is): a layer of 8×8 with x = e₁.
pub fn alpha_norms(r: usize) -> (f64, f64) {
    let d = 8;
    let step = 0.05;
    let a = DMatrix::from_fn(r, d, |_, j| if j == 0 { 1.0 } else { 0.0 });
    let b = DMatrix::from_fn(d, r, |i, _| if i == 0 { step } else { 0.0 });
    let w = DMatrix::zeros(d, d);
    let x = DVector::from_fn(d, |i, _| if i == 0 { 1.0 } else { 0.0 });
    let scaled = lora::lora_forward(&w, &a, &b, &x, ALPHA, Scaling::Standard).expect("shapes agree").norm();
    let unscaled = (&b * (&a * &x)).norm();
    (unscaled, scaled)
}

pub fn alpha_view(knob: usize) -> AlphaView {
    let r = ALPHA_RANKS[knob.min(ALPHA_RANKS.len() - 1)];
    let (unscaled, scaled) = alpha_norms(r);
    let all = ALPHA_RANKS
        .iter()
        .map(|&r| {
            let (u, s) = alpha_norms(r);
            (r, u, s)
        })
        .collect();
    AlphaView { r, unscaled, scaled, scale: Scaling::Standard.factor(ALPHA, r), all }
}

// ---------------------------------------------------------------------------------------------
// Memory budget
// ---------------------------------------------------------------------------------------------

/// LLaMA-1's sizes (their config.json shapes), the models of the QLoRA paper.
pub const BUDGET_MODELS: [(&str, DecoderShape); 4] = [
    ("7B", llama1(4_096, 11_008, 32, 32)),
    ("13B", llama1(5_120, 13_824, 40, 40)),
    ("33B", llama1(6_656, 17_920, 60, 52)),
    ("65B", llama1(8_192, 22_016, 80, 64)),
];
/// The cards the slide compares with, in GB.
pub const CARDS_GB: [f64; 3] = [24.0, 48.0, 80.0];
/// The adapter of the slide: r = 64 on all seven projections, as the QLoRA paper trains.
pub const BUDGET_RANK: u64 = 64;

const fn llama1(hidden: u64, intermediate: u64, layers: u64, heads: u64) -> DecoderShape {
    DecoderShape {
        vocab: 32_000,
        hidden,
        intermediate,
        layers,
        heads,
        kv_heads: heads,
        head_dim: 128,
        tied_embeddings: false,
    }
}

/// One way to fine-tune, in GB by part.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetRow {
    pub method: Method,
    /// Frozen or trained weights.
    pub weights: f64,
    /// Gradients and AdamW's two moments (of everything trained).
    pub training_state: f64,
}

impl BudgetRow {
    pub fn total(&self) -> f64 {
        self.weights + self.training_state
    }

    /// Whether the counted parts fit a card (activations come on top: necessary, not enough).
    pub fn fits(&self, card_gb: f64) -> bool {
        self.total() <= card_gb
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every weight trained in f32 with AdamW: weight, gradient, two moments = 16 bytes each.
    FullF32,
    /// LoRA on a bf16 base, bf16 adapters.
    LoraBf16,
    /// QLoRA: NF4 base with double quantization, bf16 adapters.
    QloraNf4,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BudgetView {
    pub model: &'static str,
    pub params: u64,
    pub adapter_params: u64,
    pub rows: Vec<BudgetRow>,
}

pub fn budget_view(knob: usize) -> BudgetView {
    let (model, shape) = BUDGET_MODELS[knob.min(BUDGET_MODELS.len() - 1)];
    let params = shape.total_params();
    let adapter = shape.lora_params(&Target::ALL_LINEAR, BUDGET_RANK);
    let row = |method, m: crate::math::MemoryBreakdown| BudgetRow {
        method,
        weights: gigabytes(m.base_weights + m.adapter_weights),
        training_state: gigabytes(m.adapter_gradients + m.optimizer_states),
    };
    BudgetView {
        model,
        params,
        adapter_params: adapter,
        rows: vec![
            row(Method::FullF32, training_memory(0, Precision::Fp32, params, AdapterPrecision::Fp32)),
            row(Method::LoraBf16, training_memory(params, Precision::Bf16, adapter, AdapterPrecision::Bf16)),
            row(Method::QloraNf4, training_memory(params, Precision::Nf4DoubleQuant, adapter, AdapterPrecision::Bf16)),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rank_slide_is_eckart_young() {
        let delta = full_update();
        let sigmas: Vec<f64> = lora::singular_values(&delta).unwrap().iter().copied().collect();
        for (got, want) in sigmas.iter().zip(RANK_SIGMAS) {
            assert!((got - want).abs() < 1e-9, "{sigmas:?}");
        }
        let mut last = f64::INFINITY;
        for knob in 0..Explorable::Rank.settings() {
            let view = rank_view(knob);
            // The error is exactly the singular values left out.
            let tail: f64 = RANK_SIGMAS[view.r..].iter().map(|s| s * s).sum::<f64>().sqrt();
            assert!((view.error - tail).abs() < 1e-9, "r = {}: {} vs {tail}", view.r, view.error);
            assert!((view.error - (&view.delta - &view.approx).norm()).abs() < 1e-9);
            assert!(view.error < last, "more rank, less error");
            last = view.error;
            assert_eq!(lora::rank(&view.approx), view.r);
            assert_eq!(view.lora_params, 12 * view.r as u64);
        }
        assert!(rank_view(5).error < 1e-9, "full rank is exact");
        assert!(rank_view(2).relative_error < 0.1, "rank 3 already leaves under 10 % of this update out");
    }

    #[test]
    fn nf4_codes_are_normal_quantiles_and_the_block_walk_is_bitsandbytes() {
        let view = nf4_view(4);
        assert!((inverse_normal_cdf(0.975) - 1.959_964).abs() < 1e-5);
        assert!((inverse_normal_cdf(NF4_OFFSET) - 1.848).abs() < 1e-3);
        // The codes' ends sit at ±Φ⁻¹(0.9677) σ; zero is exact.
        assert!((view.code_sigmas[15] - inverse_normal_cdf(NF4_OFFSET)).abs() < 1e-6);
        assert_eq!(view.code_sigmas[7], 0.0);
        assert_eq!(view.absmax, 0.44);
        assert_eq!(view.codes[3], 0, "−absmax is code 0");
        for (i, &w) in QUANTIZE_BLOCK.iter().enumerate() {
            assert_eq!(view.codes[i], crate::game::puzzle::nf4_code_of(w, view.absmax), "weight {i}");
            let back = f64::from(nf4::NF4_CODE[view.codes[i] as usize]) * view.absmax;
            assert!((view.restored[i] - back).abs() < 1e-6);
        }
        assert!(view.errors.iter().all(|e| *e <= view.absmax * 0.2));
    }

    #[test]
    fn alpha_over_r_keeps_the_update_the_same_size_at_every_rank() {
        let view = alpha_view(0);
        let first = view.all[0];
        for &(r, unscaled, scaled) in &view.all {
            assert!((unscaled - first.1 * r as f64).abs() < 1e-12, "without the scale it grows with r");
            assert!((scaled - first.2).abs() < 1e-12, "with α/r it does not (r = {r})");
        }
        assert!((alpha_view(4).scale - 1.0).abs() < 1e-12, "α = r = 16: s = 1");
    }

    #[test]
    fn the_memory_budget_matches_the_qlora_paper() {
        let gb = |knob: usize, method: Method| budget_view(knob).rows.into_iter().find(|r| r.method == method).unwrap();
        assert_eq!(budget_view(0).params, 6_738_415_616, "LLaMA-7B");
        // 33B in NF4 + double quantization: about 17 GB of weights, fits a 24 GB card.
        let q33 = gb(2, Method::QloraNf4);
        assert!((16.0..18.0).contains(&q33.weights), "{q33:?}");
        assert!(q33.fits(24.0));
        // 65B: about 33.5 GB in NF4, too much for 24 GB, fits 48 GB.
        let q65 = gb(3, Method::QloraNf4);
        assert!((33.0..35.5).contains(&q65.weights), "{q65:?}");
        assert!(!q65.fits(24.0) && q65.fits(48.0));
        // Full fine-tuning of 7B in f32: 16 bytes a parameter, over 100 GB: no single card.
        let full7 = gb(0, Method::FullF32);
        assert!((full7.total() - 16.0 * 6.738_415_616).abs() < 0.01);
        assert!(!full7.fits(80.0));
        // LoRA on a bf16 65B: weights alone over 130 GB.
        assert!(gb(3, Method::LoraBf16).weights > 130.0);
    }
}
