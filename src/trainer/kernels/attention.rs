//! Causal grouped-query self-attention with RoPE as one CPU op, forward and backward.
//!
//! It reads the projections where they are (`[B·S, heads·head_dim]`, straight out of the
//! q/k/v linears) and writes the context in the layout the output projection takes, so the
//! transposes, copies, mask add, scale and separate softmax/RoPE passes of the candle-op
//! version disappear. The backward recomputes the attention weights (as FlashAttention does)
//! instead of keeping `[B, H, S, S]` probabilities per layer alive until the backward.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::gemm::{MatRef, matmul};
use super::real::{exp_shifted_in_place, max_of};
use super::rope::{RopeTables, Rows, rotate_rows};
use super::{Real, by_dtype, input_slice, with_slice};

#[derive(Clone)]
struct Dims {
    batch: usize,
    seq: usize,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

/// The op: inputs `q: [B·S, H·D]`, `k`, `v: [B·S, G·D]` → context `[B·S, H·D]`.
#[derive(Clone)]
pub struct CausalAttention {
    dims: Dims,
    /// `[S, D/2]` cosines and sines of positions `0..S` (shared with the [`RopeTables`]).
    cos: Arc<Vec<f64>>,
    sin: Arc<Vec<f64>>,
}

/// Row-wise causal softmax of the `S × S` scores in place: row `i` attends to keys `0..=i`.
fn causal_softmax<T: Real>(scores: &mut [T], s: usize) {
    for (i, row) in scores.chunks_mut(s).enumerate() {
        let (seen, future) = row.split_at_mut(i + 1);
        let max = max_of(seen);
        let inv = exp_shifted_in_place(seen, max).recip();
        seen.iter_mut().for_each(|v| *v *= inv);
        future.fill(T::zero());
    }
}

/// What one (sequence, key/value head) pair needs: roped keys, and the attention weights of one
/// of its query heads.
struct Group<'a, T> {
    op: &'a CausalAttention,
    q: &'a [T],
    k: &'a [T],
    b: usize,
    g: usize,
}

impl<T: Real> Group<'_, T> {
    fn rows(&self, width: usize) -> usize {
        self.b * self.op.dims.seq * width
    }
    /// `S × D` view of head `col` of a `[B·S, width·D]` tensor, for this sequence.
    fn view<'s>(&self, t: &'s [T], heads: usize, col: usize) -> MatRef<'s, T> {
        let Dims { seq, head_dim: d, .. } = self.op.dims;
        MatRef::strided(&t[self.rows(heads * d) + col * d..], seq, d, heads * d)
    }
    fn roped_keys(&self) -> Vec<T> {
        let Dims { seq, kv_heads, head_dim: d, .. } = self.op.dims;
        let mut kr = vec![T::zero(); seq * d];
        let src = &self.k[self.rows(kv_heads * d) + self.g * d..];
        rotate_rows(
            Rows { src, ld_src: kv_heads * d, dst: &mut kr, ld_dst: d, rows: seq },
            d,
            &self.op.cos,
            &self.op.sin,
            1.0,
            1.0,
        );
        kr
    }
    /// Roped, pre-scaled queries of head `h` and their attention weights `[S, S]`.
    fn weights(&self, h: usize, kr: &[T]) -> (Vec<T>, Vec<T>) {
        let Dims { seq, heads, head_dim: d, .. } = self.op.dims;
        let mut qr = vec![T::zero(); seq * d];
        let scale = 1.0 / (d as f64).sqrt();
        let src = &self.q[self.rows(heads * d) + h * d..];
        rotate_rows(
            Rows { src, ld_src: heads * d, dst: &mut qr, ld_dst: d, rows: seq },
            d,
            &self.op.cos,
            &self.op.sin,
            1.0,
            scale,
        );
        let mut p = vec![T::zero(); seq * seq];
        matmul(&mut p, seq, MatRef::new(&qr, seq, d), MatRef::new(kr, seq, d).t(), T::one(), false, false);
        causal_softmax(&mut p, seq);
        (qr, p)
    }
}

impl CausalAttention {
    /// Attention over `batch` sequences of the table's positions (which must start at 0).
    pub fn new(batch: usize, heads: usize, kv_heads: usize, rope: &RopeTables) -> Self {
        let (cos, sin) = rope.angles();
        Self { dims: Dims { batch, seq: rope.len(), heads, kv_heads, head_dim: rope.head_dim() }, cos, sin }
    }

    fn check(&self, lq: &Layout, lk: &Layout, lv: &Layout) -> candle_core::Result<()> {
        let Dims { batch, seq, heads, kv_heads, head_dim: d } = self.dims;
        let want_q = [batch * seq, heads * d];
        let want_kv = [batch * seq, kv_heads * d];
        // Any leading axes, as long as they hold `B·S` rows.
        let fits = |l: &Layout, want: [usize; 2]| {
            l.dims().last() == Some(&want[1]) && l.shape().elem_count() == want[0] * want[1]
        };
        if !fits(lq, want_q) || !fits(lk, want_kv) || !fits(lv, want_kv) {
            candle_core::bail!(
                "fused attention: q {:?}, k {:?}, v {:?}; expected {want_q:?}, {want_kv:?}",
                lq.dims(),
                lk.dims(),
                lv.dims()
            );
        }
        if self.cos.len() != seq * d / 2 || heads % kv_heads != 0 || d % 2 != 0 {
            candle_core::bail!("fused attention: RoPE tables or head counts do not fit");
        }
        Ok(())
    }

    fn groups(&self) -> impl IndexedParallelIterator<Item = (usize, usize)> + use<> {
        let kv = self.dims.kv_heads;
        (0..self.dims.batch * kv).into_par_iter().map(move |i| (i / kv, i % kv))
    }

    fn forward<T: Real>(&self, q: &[T], k: &[T], v: &[T]) -> Vec<T> {
        let Dims { batch, seq, heads, kv_heads, head_dim: d } = self.dims;
        let rep = heads / kv_heads;
        // Each (sequence, kv head) fills `[S, rep·D]`; then the blocks are placed.
        let blocks: Vec<Vec<T>> = self
            .groups()
            .map(|(b, g)| {
                let grp = Group { op: self, q, k, b, g };
                let kr = grp.roped_keys();
                let mut ctx = vec![T::zero(); seq * rep * d];
                for i in 0..rep {
                    let (_, p) = grp.weights(g * rep + i, &kr);
                    matmul(
                        &mut ctx[i * d..],
                        rep * d,
                        MatRef::new(&p, seq, seq),
                        grp.view(v, kv_heads, g),
                        T::one(),
                        false,
                        false,
                    );
                }
                ctx
            })
            .collect();
        let mut out = vec![T::zero(); batch * seq * heads * d];
        out.par_chunks_mut(seq * heads * d).enumerate().for_each(|(b, out)| {
            for g in 0..kv_heads {
                let block = &blocks[b * kv_heads + g];
                for (t, row) in block.chunks(rep * d).enumerate() {
                    out[t * heads * d + g * rep * d..][..rep * d].copy_from_slice(row);
                }
            }
        });
        out
    }

    /// `[∂q | ∂k | ∂v]` flattened, from the context gradient `go: [B·S, H·D]`.
    fn backward<T: Real>(&self, go: &[T], q: &[T], k: &[T], v: &[T]) -> Vec<T> {
        let Dims { batch, seq, heads, kv_heads, head_dim: d } = self.dims;
        let rep = heads / kv_heads;
        let scale = 1.0 / (d as f64).sqrt();
        let blocks: Vec<(Vec<T>, Vec<T>, Vec<T>)> = self
            .groups()
            .map(|(b, g)| {
                let grp = Group { op: self, q, k, b, g };
                let kr = grp.roped_keys();
                let vg = grp.view(v, kv_heads, g);
                let (mut dkr, mut dv) = (vec![T::zero(); seq * d], vec![T::zero(); seq * d]);
                let mut dq = vec![T::zero(); seq * rep * d];
                let mut dqr = vec![T::zero(); seq * d];
                let mut ds = vec![T::zero(); seq * seq];
                for i in 0..rep {
                    let h = g * rep + i;
                    let (qr, p) = grp.weights(h, &kr);
                    let gh = grp.view(go, heads, h);
                    matmul(&mut dv, d, MatRef::new(&p, seq, seq).t(), gh, T::one(), true, false);
                    // ∂scores = P ⊙ (∂P − rowsum(∂P ⊙ P)), ∂P = ∂ctx Vᵀ.
                    matmul(&mut ds, seq, gh, vg.t(), T::one(), false, false);
                    for (dsr, pr) in ds.chunks_mut(seq).zip(p.chunks(seq)) {
                        let dot = dsr.iter().zip(pr).fold(T::zero(), |acc, (&a, &b)| acc + a * b);
                        dsr.iter_mut().zip(pr).for_each(|(x, &pv)| *x = pv * (*x - dot));
                    }
                    matmul(&mut dqr, d, MatRef::new(&ds, seq, seq), MatRef::new(&kr, seq, d), T::one(), false, false);
                    let io = Rows { src: &dqr, ld_src: d, dst: &mut dq[i * d..], ld_dst: rep * d, rows: seq };
                    rotate_rows(io, d, &self.cos, &self.sin, -1.0, scale);
                    matmul(
                        &mut dkr,
                        d,
                        MatRef::new(&ds, seq, seq).t(),
                        MatRef::new(&qr, seq, d),
                        T::one(),
                        true,
                        false,
                    );
                }
                let mut dk = vec![T::zero(); seq * d];
                rotate_rows(
                    Rows { src: &dkr, ld_src: d, dst: &mut dk, ld_dst: d, rows: seq },
                    d,
                    &self.cos,
                    &self.sin,
                    -1.0,
                    1.0,
                );
                (dq, dk, dv)
            })
            .collect();
        // Place every (sequence, kv head) block into the packed output.
        let (nq, nkv) = (batch * seq * heads * d, batch * seq * kv_heads * d);
        let mut out = vec![T::zero(); nq + 2 * nkv];
        let (dq_all, rest) = out.split_at_mut(nq);
        let (dk_all, dv_all) = rest.split_at_mut(nkv);
        for (idx, (dq, dk, dv)) in blocks.iter().enumerate() {
            let (b, g) = (idx / kv_heads, idx % kv_heads);
            for t in 0..seq {
                let row = b * seq + t;
                dq_all[row * heads * d + g * rep * d..][..rep * d].copy_from_slice(&dq[t * rep * d..][..rep * d]);
                dk_all[row * kv_heads * d + g * d..][..d].copy_from_slice(&dk[t * d..][..d]);
                dv_all[row * kv_heads * d + g * d..][..d].copy_from_slice(&dv[t * d..][..d]);
            }
        }
        out
    }
}

impl CustomOp3 for CausalAttention {
    fn name(&self) -> &'static str {
        "fused-causal-attention"
    }

    fn cpu_fwd(
        &self,
        sq: &CpuStorage,
        lq: &Layout,
        sk: &CpuStorage,
        lk: &Layout,
        sv: &CpuStorage,
        lv: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.check(lq, lk, lv)?;
        fn run<T: Real>(
            op: &CausalAttention,
            sq: &CpuStorage,
            lq: &Layout,
            sk: &CpuStorage,
            lk: &Layout,
            sv: &CpuStorage,
            lv: &Layout,
        ) -> candle_core::Result<CpuStorage> {
            Ok(T::to_cpu_storage_owned(op.forward::<T>(
                input_slice(sq, lq)?,
                input_slice(sk, lk)?,
                input_slice(sv, lv)?,
            )))
        }
        let out = by_dtype!(sq, run(self, sq, lq, sk, lk, sv, lv))?;
        Ok((out, lq.shape().clone()))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _ctx: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = AttentionGrad { attn: self.clone(), q: q.clone(), k: k.clone(), v: v.clone() };
        let packed = grad.contiguous()?.apply_op1_no_bwd(&op)?;
        let (nq, nkv) = (q.elem_count(), k.elem_count());
        let dq = packed.narrow(0, 0, nq)?.reshape(q.shape())?;
        let dk = packed.narrow(0, nq, nkv)?.reshape(k.shape())?;
        let dv = packed.narrow(0, nq + nkv, nkv)?.reshape(v.shape())?;
        Ok((Some(dq), Some(dk), Some(dv)))
    }
}

struct AttentionGrad {
    attn: CausalAttention,
    q: Tensor,
    k: Tensor,
    v: Tensor,
}

impl CustomOp1 for AttentionGrad {
    fn name(&self) -> &'static str {
        "fused-causal-attention-grad"
    }

    fn cpu_fwd(&self, sg: &CpuStorage, lg: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        fn run<T: Real>(op: &AttentionGrad, go: &[T]) -> candle_core::Result<CpuStorage> {
            let out = with_slice(&op.q, |q: &[T]| {
                with_slice(&op.k, |k: &[T]| with_slice(&op.v, |v: &[T]| op.attn.backward(go, q, k, v)))
            })???;
            Ok(T::to_cpu_storage_owned(out))
        }
        let out = by_dtype!(sg, run(self, input_slice(sg, lg)?))?;
        let n = self.q.elem_count() + 2 * self.k.elem_count();
        Ok((out, Shape::from(n)))
    }
}

/// Causal self-attention with RoPE for `q: [B·S, H·D]`, `k`, `v: [B·S, G·D]` (positions
/// `0..S`, no cache) on the CPU in f32/f64 → `[B·S, H·D]`.
pub fn causal_attention(q: &Tensor, k: &Tensor, v: &Tensor, op: CausalAttention) -> candle_core::Result<Tensor> {
    q.contiguous()?.apply_op3(&k.contiguous()?, &v.contiguous()?, op)
}
