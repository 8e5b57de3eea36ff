//! Rotary position embeddings: `x·cos + rotate_half(x)·sin` with `rotate_half(x) = [−x₂, x₁]`
//! (Hugging Face layout). The tables hold the angles once per forward pass; the rotation itself
//! ([`rotate_rows`]) is shared with the fused attention, which rotates q and k in place.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, D, DType, Layout, Shape, Tensor};

use super::{Real, by_dtype, cpu_float, for_rows, input_slice};

/// Angles for positions `start..start+len`: `[len, head_dim/2]` cosines and sines, as plain
/// values (for the fused kernels) and as full-width tensors (for the composite version).
pub struct RopeTables {
    cos: Arc<Vec<f64>>,
    sin: Arc<Vec<f64>>,
    len: usize,
    half: usize,
    cos_t: Tensor,
    sin_t: Tensor,
}

/// `1 / θ^(2i/d)` for `i < d/2`: the frequencies of plain RoPE.
pub fn default_frequencies(head_dim: usize, theta: f64) -> Vec<f64> {
    (0..head_dim / 2).map(|i| 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64)).collect()
}

impl RopeTables {
    /// Plain RoPE with base `theta`.
    pub fn new(
        head_dim: usize,
        theta: f64,
        start: usize,
        len: usize,
        dtype: DType,
        device: &candle_core::Device,
    ) -> candle_core::Result<Self> {
        Self::from_frequencies(&default_frequencies(head_dim, theta), start, len, dtype, device)
    }

    /// RoPE with the given per-pair frequencies (`head_dim/2` of them; scaled variants such as
    /// Llama 3's change these and nothing else).
    pub fn from_frequencies(
        inv_freq: &[f64],
        start: usize,
        len: usize,
        dtype: DType,
        device: &candle_core::Device,
    ) -> candle_core::Result<Self> {
        let half = inv_freq.len();
        let (mut cos, mut sin) = (Vec::with_capacity(len * half), Vec::with_capacity(len * half));
        for p in start..start + len {
            for f in inv_freq {
                let a = p as f64 * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        let full = |t: &[f64]| -> Vec<f64> {
            t.chunks(half.max(1)).flat_map(|row| row.iter().chain(row.iter()).copied()).collect()
        };
        let cos_t = Tensor::from_vec(full(&cos), (len, 2 * half), device)?.to_dtype(dtype)?;
        let sin_t = Tensor::from_vec(full(&sin), (len, 2 * half), device)?.to_dtype(dtype)?;
        Ok(Self { cos: Arc::new(cos), sin: Arc::new(sin), len, half, cos_t, sin_t })
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn head_dim(&self) -> usize {
        2 * self.half
    }

    /// The `[len, head_dim/2]` cosines and sines.
    pub(crate) fn angles(&self) -> (Arc<Vec<f64>>, Arc<Vec<f64>>) {
        (self.cos.clone(), self.sin.clone())
    }

    /// Rotates `x: [B, H, len, head_dim]`.
    pub fn apply(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if cpu_float(x) {
            let op = Rope { cos: self.cos.clone(), sin: self.sin.clone(), len: self.len, half: self.half, sign: 1.0 };
            return x.contiguous()?.apply_op1(op);
        }
        self.apply_composite(x)
    }

    pub fn apply_composite(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let d = x.dim(D::Minus1)?;
        let x1 = x.narrow(D::Minus1, 0, d / 2)?;
        let x2 = x.narrow(D::Minus1, d / 2, d / 2)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&self.cos_t)?.add(&rotated.broadcast_mul(&self.sin_t)?)
    }
}

/// Where one rotation reads and writes: `rows × D` blocks whose rows are `ld` apart.
pub(crate) struct Rows<'a, T> {
    pub src: &'a [T],
    pub ld_src: usize,
    pub dst: &'a mut [T],
    pub ld_dst: usize,
    pub rows: usize,
}

/// Rotates `rows` rows of width `d` (row `i` at position `i` of the tables) times `mul`;
/// `sign = −1` applies the inverse rotation (the backward of the forward one).
pub(crate) fn rotate_rows<T: Real>(io: Rows<T>, d: usize, cos: &[f64], sin: &[f64], sign: f64, mul: f64) {
    let half = d / 2;
    for i in 0..io.rows {
        let row = &io.src[i * io.ld_src..][..d];
        let out = &mut io.dst[i * io.ld_dst..][..d];
        for j in 0..half {
            let (c, s) = (T::from(cos[i * half + j] * mul).unwrap(), T::from(sign * sin[i * half + j] * mul).unwrap());
            let (x1, x2) = (row[j], row[j + half]);
            out[j] = x1 * c - x2 * s;
            out[j + half] = x2 * c + x1 * s;
        }
    }
}

struct Rope {
    cos: Arc<Vec<f64>>,
    sin: Arc<Vec<f64>>,
    len: usize,
    half: usize,
    /// +1 forward, −1 for the inverse rotation (the backward).
    sign: f64,
}

impl Rope {
    /// Every `[len, d]` block of `x` rotated (positions `0..len` of the tables).
    fn rotate<T: Real>(&self, x: &[T]) -> CpuStorage {
        let (d, len) = (2 * self.half, self.len);
        let mut out = vec![T::zero(); x.len()];
        for_rows(&mut out, len * d, |b, o| {
            let io = Rows { src: &x[b * len * d..], ld_src: d, dst: o, ld_dst: d, rows: len };
            rotate_rows(io, d, &self.cos, &self.sin, self.sign, 1.0);
        });
        T::to_cpu_storage_owned(out)
    }
}

impl CustomOp1 for Rope {
    fn name(&self) -> &'static str {
        "fused-rope"
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let d = 2 * self.half;
        if l.dims().last() != Some(&d) || l.dims().get(l.dims().len().saturating_sub(2)) != Some(&self.len) {
            candle_core::bail!("rope: expected [.., {}, {d}], got {:?}", self.len, l.dims());
        }
        fn run<T: Real>(op: &Rope, x: &[T]) -> CpuStorage {
            op.rotate(x)
        }
        Ok((by_dtype!(s, run(self, input_slice(s, l)?)), l.shape().clone()))
    }
    fn bwd(&self, _x: &Tensor, _y: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let inverse = Rope { cos: self.cos.clone(), sin: self.sin.clone(), sign: -self.sign, ..*self };
        Ok(Some(grad.contiguous()?.apply_op1(inverse)?))
    }
}
