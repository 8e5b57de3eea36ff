//! The element types the fused CPU kernels run in (f32 for training, f64 for gradient checks),
//! with an exponential the compiler can vectorise: softmax, cross-entropy and SiLU take
//! ~10⁸ exponentials a step on SmolLM2, and libm's scalar `expf` call was ~4 % of a step.

use std::any::TypeId;

pub trait Real: candle_core::WithDType + num_traits::Float + Send + Sync + 'static {
    /// `eˣ` within 2 ulp for f32 (libm's for f64); `0` for `x = −∞`.
    fn exp_fast(self) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn exp_fast(self) -> f32 {
        exp_f32(self)
    }
}

impl Real for f64 {
    #[inline(always)]
    fn exp_fast(self) -> f64 {
        self.exp()
    }
}

/// Cephes' `expf`: `eˣ = 2ⁿ·eʳ` with `n = round(x/ln 2)`, `|r| ≤ ln2/2`, and a degree-6
/// polynomial for `eʳ`. Branch-free (selects only), so loops over it vectorise.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by adding and removing 1.5·2²³ (no SSE4.1 `roundps` needed).
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(-87.3, 88.7);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1)
        * r
        + 5e-1;
    let e = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
    let y = e * scale;
    // Below the clamp the true value is under f32's smallest normal: flush to 0 (and −∞ → 0).
    if x < -87.3 {
        0.0
    } else if x > 88.7 {
        f32::INFINITY
    } else {
        y
    }
}

/// `x` as `[U]` when `T` is `U` (generic code reaching a kernel written for one type).
pub(crate) fn cast<T: Real, U: Real>(x: &[T]) -> Option<&[U]> {
    // SAFETY: `T` and `U` are the same type, so the cast restates the slice's own type.
    (TypeId::of::<T>() == TypeId::of::<U>()).then(|| unsafe { &*(x as *const [T] as *const [U]) })
}

pub(crate) fn cast_mut<T: Real, U: Real>(x: &mut [T]) -> Option<&mut [U]> {
    // SAFETY: as in `cast`.
    (TypeId::of::<T>() == TypeId::of::<U>()).then(|| unsafe { &mut *(x as *mut [T] as *mut [U]) })
}

/// `x` as f32s when `T` is f32 (the SIMD kernels' type).
fn as_f32<T: Real>(x: &[T]) -> Option<&[f32]> {
    cast(x)
}

fn as_f32_mut<T: Real>(x: &mut [T]) -> Option<&mut [f32]> {
    cast_mut(x)
}

fn simd() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(super::simd::available)
}

/// The largest element (`−∞` for an empty slice; NaNs are skipped).
pub fn max_of<T: Real>(x: &[T]) -> T {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = as_f32(x)
        && simd()
    {
        // SAFETY: the CPU has AVX2 and FMA (checked).
        return T::from(unsafe { super::simd::max_of(x) }).unwrap();
    }
    max_of_portable(x)
}

/// Writes `exp(x − shift)` into `out` (same length) and returns the sum.
pub fn exp_shifted<T: Real>(x: &[T], shift: T, out: &mut [T]) -> T {
    assert_eq!(x.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if let (Some(xs), Some(os)) = (as_f32(x), as_f32_mut(out))
        && simd()
    {
        // SAFETY: the CPU has AVX2 and FMA (checked).
        return T::from(unsafe { super::simd::exp_shifted(xs, shift.to_f32().unwrap(), os) }).unwrap();
    }
    exp_shifted_portable(x, shift, out)
}

/// Replaces `x` by `exp(x − shift)` and returns the sum.
pub fn exp_shifted_in_place<T: Real>(x: &mut [T], shift: T) -> T {
    #[cfg(target_arch = "x86_64")]
    if simd()
        && let Some(xs) = as_f32_mut(x)
    {
        // SAFETY: the CPU has AVX2 and FMA (checked).
        return T::from(unsafe { super::simd::exp_shifted_in_place(xs, shift.to_f32().unwrap()) }).unwrap();
    }
    exp_shifted_in_place_portable(x, shift)
}

/// `Σ exp(x − shift)` without storing the terms.
pub fn sum_exp_shifted<T: Real>(x: &[T], shift: T) -> T {
    #[cfg(target_arch = "x86_64")]
    if let Some(xs) = as_f32(x)
        && simd()
    {
        // SAFETY: the CPU has AVX2 and FMA (checked).
        return T::from(unsafe { super::simd::sum_exp_shifted(xs, shift.to_f32().unwrap()) }).unwrap();
    }
    sum_exp_shifted_portable(x, shift)
}

/// `out = silu(g)·u` element-wise (the Llama MLP's activation).
pub fn silu_mul<T: Real>(g: &[T], u: &[T], out: &mut [T]) {
    assert!(g.len() == out.len() && u.len() == out.len());
    #[cfg(target_arch = "x86_64")]
    if let (Some(g), Some(u), true) = (as_f32(g), as_f32(u), simd())
        && let Some(o) = as_f32_mut(out)
    {
        // SAFETY: the CPU has AVX2 and FMA (checked); equal lengths (asserted).
        return unsafe { super::simd::silu_mul(g, u, o) };
    }
    silu_mul_portable(g, u, out)
}

pub(super) fn silu_mul_portable<T: Real>(g: &[T], u: &[T], out: &mut [T]) {
    for i in 0..out.len() {
        out[i] = g[i] * sigmoid(g[i]) * u[i];
    }
}

/// The gradients of [`silu_mul`]: `∂g = ∂y·u·σ(g)(1 + g(1 − σ(g)))`, `∂u = ∂y·silu(g)`.
pub fn silu_mul_grad<T: Real>(dy: &[T], g: &[T], u: &[T], dg: &mut [T], du: &mut [T]) {
    assert!(dy.len() == dg.len() && g.len() == dg.len() && u.len() == dg.len() && du.len() == dg.len());
    #[cfg(target_arch = "x86_64")]
    if let (Some(dy), Some(g), Some(u), true) = (as_f32(dy), as_f32(g), as_f32(u), simd())
        && let (Some(dg), Some(du)) = (as_f32_mut(dg), as_f32_mut(du))
    {
        // SAFETY: the CPU has AVX2 and FMA (checked); equal lengths (asserted).
        return unsafe { super::simd::silu_mul_grad(dy, g, u, dg, du) };
    }
    silu_mul_grad_portable(dy, g, u, dg, du)
}

pub(super) fn silu_mul_grad_portable<T: Real>(dy: &[T], g: &[T], u: &[T], dg: &mut [T], du: &mut [T]) {
    for i in 0..dg.len() {
        let s = sigmoid(g[i]);
        dg[i] = dy[i] * u[i] * s * (T::one() + g[i] * (T::one() - s));
        du[i] = dy[i] * g[i] * s;
    }
}

#[inline(always)]
fn sigmoid<T: Real>(x: T) -> T {
    (T::one() + (-x).exp_fast()).recip()
}

/// Lanes of the portable reductions below: independent accumulators let the compiler vectorise a
/// sum or max (a single accumulator fixes the order of the additions).
const LANES: usize = 8;

/// The largest element (`−∞` for an empty slice; NaNs are skipped).
pub(super) fn max_of_portable<T: Real>(x: &[T]) -> T {
    let pick = |a: T, b: T| if b > a { b } else { a };
    let mut acc = [T::neg_infinity(); LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] = pick(acc[i], c[i]);
        }
    }
    rest.iter().copied().fold(acc.into_iter().fold(T::neg_infinity(), pick), pick)
}

/// Writes `exp(x − shift)` into `out` (same length) and returns the sum.
pub(super) fn exp_shifted_portable<T: Real>(x: &[T], shift: T, out: &mut [T]) -> T {
    assert_eq!(x.len(), out.len());
    let mut acc = [T::zero(); LANES];
    let mut xs = x.chunks_exact(LANES);
    let mut os = out.chunks_exact_mut(LANES);
    for (c, o) in (&mut xs).zip(&mut os) {
        for i in 0..LANES {
            o[i] = (c[i] - shift).exp_fast();
            acc[i] += o[i];
        }
    }
    let mut sum = acc.into_iter().fold(T::zero(), |a, b| a + b);
    for (&v, o) in xs.remainder().iter().zip(os.into_remainder()) {
        *o = (v - shift).exp_fast();
        sum += *o;
    }
    sum
}

/// Replaces `x` by `exp(x − shift)` and returns the sum.
pub(super) fn exp_shifted_in_place_portable<T: Real>(x: &mut [T], shift: T) -> T {
    let mut acc = [T::zero(); LANES];
    let mut chunks = x.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            c[i] = (c[i] - shift).exp_fast();
            acc[i] += c[i];
        }
    }
    let mut sum = acc.into_iter().fold(T::zero(), |a, b| a + b);
    for v in chunks.into_remainder() {
        *v = (*v - shift).exp_fast();
        sum += *v;
    }
    sum
}

/// `Σ exp(x − shift)` without storing the terms.
pub(super) fn sum_exp_shifted_portable<T: Real>(x: &[T], shift: T) -> T {
    let mut acc = [T::zero(); LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] += (c[i] - shift).exp_fast();
        }
    }
    rest.iter().fold(acc.into_iter().fold(T::zero(), |a, b| a + b), |a, &v| a + (v - shift).exp_fast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_kernels_agree_with_the_portable_ones() {
        let x: Vec<f32> = (0..1003).map(|i| ((i * 37) % 211) as f32 / 7.0 - 15.0).collect();
        let max = max_of(&x);
        assert_eq!(max, max_of_portable(&x));
        let (mut a, mut b) = (vec![0f32; x.len()], vec![0f32; x.len()]);
        let (sa, sb) = (exp_shifted(&x, max, &mut a), exp_shifted_portable(&x, max, &mut b));
        assert!((sa - sb).abs() <= 1e-6 * sb, "{sa} vs {sb}");
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 2.4e-7 * q.abs()), "elementwise exp differs");
        assert!((sum_exp_shifted(&x, max) - sb).abs() <= 1e-6 * sb);
        let mut c = x.clone();
        assert!((exp_shifted_in_place(&mut c, max) - sb).abs() <= 1e-6 * sb);
        assert_eq!(c, a);
        // Extremes: −∞ → 0, far below the range → 0, NaNs skipped by the max.
        let mut e = vec![f32::NEG_INFINITY, -200.0, 0.0, 1.0, f32::NAN, -1.0, 2.0, 3.0, 0.5];
        assert_eq!(max_of(&e), 3.0);
        e.retain(|v| !v.is_nan());
        let mut out = vec![0f32; e.len()];
        exp_shifted(&e, 0.0, &mut out);
        assert_eq!(&out[..2], &[0.0, 0.0]);
        assert!((out[3] - std::f32::consts::E).abs() < 1e-6);
    }

    #[test]
    fn silu_kernels_agree_with_f64_maths() {
        let n = 37; // 4 SIMD blocks and a remainder
        let g: Vec<f32> = (0..n).map(|i| i as f32 * 0.7 - 12.0).collect();
        let u: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.05).collect();
        let dy: Vec<f32> = (0..n).map(|i| (i % 5) as f32 - 2.0).collect();
        let mut out = vec![0f32; n];
        silu_mul(&g, &u, &mut out);
        let (mut dg, mut du) = (vec![0f32; n], vec![0f32; n]);
        silu_mul_grad(&dy, &g, &u, &mut dg, &mut du);
        for i in 0..n {
            let (g, u, dy) = (g[i] as f64, u[i] as f64, dy[i] as f64);
            let s = 1.0 / (1.0 + (-g).exp());
            let close = |a: f32, b: f64| (a as f64 - b).abs() <= 1e-6 * (1.0 + b.abs());
            assert!(close(out[i], g * s * u), "silu·u at {g}");
            assert!(close(dg[i], dy * u * s * (1.0 + g * (1.0 - s))), "∂g at {g}");
            assert!(close(du[i], dy * g * s), "∂u at {g}");
        }
    }

    #[test]
    fn lane_reductions_equal_the_plain_ones() {
        for n in [0usize, 1, 7, 8, 9, 100, 1003] {
            let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 101) as f64 / 10.0 - 5.0).collect();
            let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(max_of(&x), max);
            let plain: f64 = x.iter().map(|v| (v - 1.0).exp()).sum();
            let mut out = vec![0.0; n];
            let sum = exp_shifted(&x, 1.0, &mut out);
            assert!((sum - plain).abs() <= 1e-12 * plain.max(1.0), "{n}: {sum} vs {plain}");
            assert!(out.iter().zip(&x).all(|(o, v)| *o == (v - 1.0).exp()));
            assert!((sum_exp_shifted(&x, 1.0) - plain).abs() <= 1e-12 * plain.max(1.0));
            let mut inplace = x.clone();
            assert_eq!(exp_shifted_in_place(&mut inplace, 1.0), sum);
            assert_eq!(inplace, out);
        }
    }

    #[test]
    fn the_fast_exponential_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (ours, libm) = (x.exp_fast() as f64, (x as f64).exp());
            worst = worst.max(((ours - libm) / libm).abs());
            x += 0.0137;
        }
        // 2 ulp of f32 is 2·2⁻²³ ≈ 2.4e-7 relative.
        assert!(worst < 2.4e-7, "max relative error {worst}");
        assert_eq!(0f32.exp_fast(), 1.0);
        assert_eq!(f32::NEG_INFINITY.exp_fast(), 0.0);
        assert_eq!((-100f32).exp_fast(), 0.0);
        assert_eq!(100f32.exp_fast(), f32::INFINITY);
        assert_eq!(1.5f64.exp_fast(), 1.5f64.exp());
    }
}
