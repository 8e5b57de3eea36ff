//! The LM head and the per-token cross-entropy as one CPU op: `hidden [n, H]` → `loss [n]`.
//!
//! Separately, the head's `[n, vocab]` logits (100 MB for 512 tokens of a 49k vocabulary) are
//! a fresh allocation every step, their gradient another, and candle's backward adds a
//! zero-filled one and the sum of the two: four blocks above glibc's mmap threshold, each
//! page-faulted anew (~100k faults a step). Here one buffer, kept between steps in a
//! [`Stash`] the model owns (freed with it), holds the logits, then the softmax (saved for the
//! backward), then the logits' gradient.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::gemm::{MatRef, matmul};
use super::real::{exp_shifted_in_place, max_of};
use super::stash::Stash;
use super::{Real, by_dtype, input_slice, u32_slice, with_slice};

/// Where the one `[n, vocab]` buffer is parked between steps.
pub type Spare = Arc<Stash>;

fn take_buffer<T: Real>(spare: &Stash, len: usize) -> Vec<T> {
    // Same size: every element is overwritten by the product, no need to clear it.
    spare.take(len).unwrap_or_else(|| vec![T::zero(); len])
}

struct HeadCrossEntropy {
    /// `[vocab, H]`.
    weight: Tensor,
    /// The forward's softmax `[n, vocab]`, for the backward.
    probs: Stash,
    spare: Spare,
}

impl Drop for HeadCrossEntropy {
    fn drop(&mut self) {
        // A forward without backward (evaluation) hands its buffer on to the next step.
        self.probs.hand_to(&self.spare);
    }
}

/// Softmax rows `[n, vocab]` of `hidden·Wᵀ` in `out`, and each row's loss
/// `logsumexp − logit[target]`.
fn softmax_and_losses<T: Real>(hidden: &[T], weight: &[T], targets: &[u32], vocab: usize, out: &mut [T]) -> Vec<T> {
    let (n, h) = (targets.len(), hidden.len() / targets.len().max(1));
    matmul(out, vocab, MatRef::new(hidden, n, h), MatRef::new(weight, vocab, h).t(), T::one(), false, true);
    out.par_chunks_mut(vocab)
        .zip(targets.par_iter())
        .map(|(row, &t)| {
            let target_logit = row[t as usize];
            let max = max_of(row);
            let sum = exp_shifted_in_place(row, max);
            let inv = sum.recip();
            row.iter_mut().for_each(|p| *p *= inv);
            max + sum.ln() - target_logit
        })
        .collect()
}

impl HeadCrossEntropy {
    fn dims(&self, lh: &Layout, lt: &Layout) -> candle_core::Result<(usize, usize, usize)> {
        let (vocab, h) = self.weight.dims2()?;
        let (n, h2) = lh.shape().dims2()?;
        if h2 != h || lt.dims() != [n] {
            candle_core::bail!(
                "LM-head cross-entropy: hidden {:?}, targets {:?}, head [{vocab}, {h}]",
                lh.dims(),
                lt.dims()
            );
        }
        Ok((n, h, vocab))
    }
}

impl CustomOp2 for HeadCrossEntropy {
    fn name(&self) -> &'static str {
        "fused-lm-head-cross-entropy"
    }

    fn cpu_fwd(
        &self,
        sh: &CpuStorage,
        lh: &Layout,
        st: &CpuStorage,
        lt: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, _, vocab) = self.dims(lh, lt)?;
        let targets = u32_slice(st, lt)?;
        if let Some(&bad) = targets.iter().find(|&&t| t as usize >= vocab) {
            candle_core::bail!("target {bad} is outside the vocabulary (0..{vocab})");
        }
        fn run<T: Real>(
            op: &HeadCrossEntropy,
            hidden: &[T],
            targets: &[u32],
            vocab: usize,
        ) -> candle_core::Result<CpuStorage> {
            let mut probs = take_buffer::<T>(&op.spare, targets.len() * vocab);
            let losses = with_slice(&op.weight, |w: &[T]| softmax_and_losses(hidden, w, targets, vocab, &mut probs))?;
            op.probs.put(probs);
            Ok(T::to_cpu_storage_owned(losses))
        }
        let losses = by_dtype!(sh, run(self, input_slice(sh, lh)?, targets, vocab))?;
        Ok((losses, Shape::from(n)))
    }

    fn bwd(
        &self,
        hidden: &Tensor,
        targets: &Tensor,
        _losses: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let op = HeadGrad {
            weight: self.weight.clone(),
            hidden: hidden.clone(),
            targets: targets.clone(),
            probs: Stash::new(),
            spare: self.spare.clone(),
        };
        self.probs.hand_to(&op.probs);
        Ok((Some(grad.contiguous()?.apply_op1_no_bwd(&op)?), None))
    }
}

/// `∂hidden = (g_r·(softmax_r − onehot(target_r)))·W` from the per-row upstream gradient `g`.
struct HeadGrad {
    weight: Tensor,
    hidden: Tensor,
    targets: Tensor,
    probs: Stash,
    spare: Spare,
}

impl CustomOp1 for HeadGrad {
    fn name(&self) -> &'static str {
        "fused-lm-head-cross-entropy-grad"
    }

    fn cpu_fwd(&self, sg: &CpuStorage, lg: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, h) = self.hidden.dims2()?;
        let vocab = self.weight.dim(0)?;
        fn run<T: Real>(
            op: &HeadGrad,
            g: &[T],
            (n, h, vocab): (usize, usize, usize),
        ) -> candle_core::Result<CpuStorage> {
            with_slice(&op.targets, |targets: &[u32]| op.backward(g, targets, (n, h, vocab)))?
        }
        let dh = by_dtype!(sg, run(self, input_slice(sg, lg)?, (n, h, vocab)))?;
        Ok((dh, Shape::from((n, h))))
    }
}

impl HeadGrad {
    /// `∂hidden` for this op's `g`, from the saved softmax (or a recomputed one).
    fn backward<T: Real>(
        &self,
        g: &[T],
        targets: &[u32],
        (n, h, vocab): (usize, usize, usize),
    ) -> candle_core::Result<CpuStorage> {
        let mut d = match self.probs.take::<T>(n * vocab) {
            Some(p) => p,
            // A second backward through the same graph: recompute the softmax.
            None => {
                let mut p = take_buffer::<T>(&self.spare, n * vocab);
                with_slice(&self.hidden, |x: &[T]| {
                    with_slice(&self.weight, |w: &[T]| softmax_and_losses(x, w, targets, vocab, &mut p))
                })??;
                p
            }
        };
        d.par_chunks_mut(vocab).zip(targets.par_iter()).zip(g.par_iter()).for_each(|((row, &t), &gr)| {
            row.iter_mut().for_each(|p| *p *= gr);
            row[t as usize] -= gr;
        });
        let mut dh = vec![T::zero(); n * h];
        with_slice(&self.weight, |w: &[T]| {
            matmul(&mut dh, h, MatRef::new(&d, n, vocab), MatRef::new(w, vocab, h), T::one(), false, true)
        })?;
        self.spare.put(d);
        Ok(T::to_cpu_storage_owned(dh))
    }
}

/// Per-row cross-entropy `[n]` of `hidden·Wᵀ` against `targets: [n]` (u32), differentiable
/// with respect to `hidden`, on the CPU in f32/f64 with `W: [vocab, H]` in `hidden`'s dtype.
/// `spare` keeps the `[n, vocab]` buffer from one call to the next.
pub fn head_cross_entropy(
    hidden: &Tensor,
    weight: &Tensor,
    targets: &Tensor,
    spare: &Spare,
) -> candle_core::Result<Tensor> {
    let op = HeadCrossEntropy { weight: weight.clone(), probs: Stash::new(), spare: spare.clone() };
    hidden.contiguous()?.apply_op2(&targets.contiguous()?, op)
}
