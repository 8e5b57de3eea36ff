//! AVX2 + FMA kernels for the f32 softmax/cross-entropy reductions, picked at run time: the
//! portable build targets plain x86-64 (SSE2), where the compiler left `exp` scalar (~10 ns an
//! element, 6 % of a SmolLM2 training step). Eight lanes of the same Cephes polynomial as
//! [`super::real`]'s scalar `exp` give the same values to within an ulp.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Whether this CPU runs the kernels below.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod kernels {
    use super::*;
    use crate::trainer::kernels::real;

    /// `eˣ` on eight lanes; `0` below −87.3 (and for −∞), `+∞` above 88.7.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn exp8(x: __m256) -> __m256 {
        let set = _mm256_set1_ps;
        let xc = _mm256_min_ps(_mm256_max_ps(x, set(-87.3)), set(88.7));
        let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
            xc,
            set(std::f32::consts::LOG2_E),
        ));
        let r = _mm256_fnmadd_ps(n, set(0.693_359_4), xc);
        let r = _mm256_fnmadd_ps(n, set(-2.121_944_4e-4), r);
        let mut p = set(1.987_569_1e-4);
        for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5e-1] {
            p = _mm256_fmadd_ps(p, r, set(c));
        }
        let e = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, set(1.0)));
        let scale = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_cvtps_epi32(n),
            _mm256_set1_epi32(127),
        )));
        let y = _mm256_mul_ps(e, scale);
        let y = _mm256_andnot_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(x, set(-87.3)), y);
        _mm256_blendv_ps(y, set(f32::INFINITY), _mm256_cmp_ps::<_CMP_GT_OQ>(x, set(88.7)))
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds eight f32s.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
        lanes.iter().sum()
    }

    /// Replaces `x` by `exp(x − shift)`; returns the sum.
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn exp_shifted_in_place(x: &mut [f32], shift: f32) -> f32 {
        let s = _mm256_set1_ps(shift);
        let mut acc = _mm256_setzero_ps();
        let mut chunks = x.chunks_exact_mut(8);
        for c in &mut chunks {
            // SAFETY: `c` is exactly eight f32s.
            unsafe {
                let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), s));
                _mm256_storeu_ps(c.as_mut_ptr(), e);
                acc = _mm256_add_ps(acc, e);
            }
        }
        hsum(acc) + real::exp_shifted_in_place_portable(chunks.into_remainder(), shift)
    }

    /// Writes `exp(x − shift)` into `out`; returns the sum.
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn exp_shifted(x: &[f32], shift: f32, out: &mut [f32]) -> f32 {
        let s = _mm256_set1_ps(shift);
        let mut acc = _mm256_setzero_ps();
        let mut xs = x.chunks_exact(8);
        let mut os = out.chunks_exact_mut(8);
        for (c, o) in (&mut xs).zip(&mut os) {
            // SAFETY: `c` and `o` are exactly eight f32s.
            unsafe {
                let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), s));
                _mm256_storeu_ps(o.as_mut_ptr(), e);
                acc = _mm256_add_ps(acc, e);
            }
        }
        hsum(acc) + real::exp_shifted_portable(xs.remainder(), shift, os.into_remainder())
    }

    /// `Σ exp(x − shift)`.
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn sum_exp_shifted(x: &[f32], shift: f32) -> f32 {
        let s = _mm256_set1_ps(shift);
        let mut acc = _mm256_setzero_ps();
        let chunks = x.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            // SAFETY: `c` is exactly eight f32s.
            acc = _mm256_add_ps(acc, exp8(_mm256_sub_ps(unsafe { _mm256_loadu_ps(c.as_ptr()) }, s)));
        }
        hsum(acc) + real::sum_exp_shifted_portable(rest, shift)
    }

    /// `out = silu(g)·u = g·u / (1 + e⁻ᵍ)`.
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn silu_mul(g: &[f32], u: &[f32], out: &mut [f32]) {
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n ≤` every slice's length (the caller passes equal lengths).
            unsafe {
                let gv = _mm256_loadu_ps(g.as_ptr().add(i));
                let s = sigmoid8(gv);
                _mm256_storeu_ps(
                    out.as_mut_ptr().add(i),
                    _mm256_mul_ps(_mm256_mul_ps(gv, s), _mm256_loadu_ps(u.as_ptr().add(i))),
                );
            }
        }
        real::silu_mul_portable(&g[n..], &u[n..], &mut out[n..]);
    }

    /// `∂g = ∂y·u·σ(g)(1 + g(1 − σ(g)))`, `∂u = ∂y·g·σ(g)`.
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn silu_mul_grad(dy: &[f32], g: &[f32], u: &[f32], dg: &mut [f32], du: &mut [f32]) {
        let n = dg.len() / 8 * 8;
        let one = _mm256_set1_ps(1.0);
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n ≤` every slice's length (the caller passes equal lengths).
            unsafe {
                let (d, gv, uv) = (
                    _mm256_loadu_ps(dy.as_ptr().add(i)),
                    _mm256_loadu_ps(g.as_ptr().add(i)),
                    _mm256_loadu_ps(u.as_ptr().add(i)),
                );
                let s = sigmoid8(gv);
                let slope = _mm256_fmadd_ps(gv, _mm256_sub_ps(one, s), one);
                _mm256_storeu_ps(dg.as_mut_ptr().add(i), _mm256_mul_ps(_mm256_mul_ps(d, uv), _mm256_mul_ps(s, slope)));
                _mm256_storeu_ps(du.as_mut_ptr().add(i), _mm256_mul_ps(_mm256_mul_ps(d, gv), s));
            }
        }
        real::silu_mul_grad_portable(&dy[n..], &g[n..], &u[n..], &mut dg[n..], &mut du[n..]);
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn sigmoid8(x: __m256) -> __m256 {
        let one = _mm256_set1_ps(1.0);
        _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))))
    }

    /// The largest element (`−∞` when empty; NaNs are skipped).
    ///
    /// # Safety
    /// Only on a CPU with AVX2 and FMA (check [`super::available`] first).
    #[target_feature(enable = "avx2,fma")]
    pub fn max_of(x: &[f32]) -> f32 {
        let mut acc = _mm256_set1_ps(f32::NEG_INFINITY);
        let chunks = x.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            // SAFETY: `c` is exactly eight f32s. `max_ps(v, acc)` keeps `acc` where `v` is NaN.
            acc = _mm256_max_ps(unsafe { _mm256_loadu_ps(c.as_ptr()) }, acc);
        }
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds eight f32s.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), acc) };
        let lanes = real::max_of_portable(&lanes);
        let rest = real::max_of_portable(rest);
        if rest > lanes { rest } else { lanes }
    }
}

#[cfg(target_arch = "x86_64")]
pub use kernels::*;
