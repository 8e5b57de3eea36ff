//! Causal-LM cross-entropy, the same number PyTorch/HF computes: labels are shifted by one
//! (position t predicts label t+1), `-100` is ignored, the mean is over the remaining tokens.
//!
//! Only the hidden states of predicted positions go through the LM head, so prompt tokens and
//! padding never materialise a `[tokens, vocab]` row.

use candle_core::{DType, Tensor};

use crate::trainer::model::{ForwardMode, LlamaModel};

/// Label value ignored by the loss (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

pub struct LossOutput {
    /// Scalar f32 mean cross-entropy (differentiable); zero when `n_tokens == 0`.
    pub loss: Tensor,
    /// Number of predicted (unmasked, shifted) tokens.
    pub n_tokens: usize,
}

/// Flat indices into `[B*S]` of positions whose next label counts, and those next labels.
pub fn predicted_positions(labels: &[Vec<i64>], vocab: usize) -> candle_core::Result<(Vec<u32>, Vec<u32>)> {
    let mut positions = Vec::new();
    let mut targets = Vec::new();
    let seq = labels.first().map_or(0, |r| r.len());
    for (b, row) in labels.iter().enumerate() {
        for t in 0..row.len().saturating_sub(1) {
            let label = row[t + 1];
            if label == IGNORE_INDEX {
                continue;
            }
            if label < 0 || label as usize >= vocab {
                candle_core::bail!(
                    "label {label} at batch row {b}, position {} is outside the vocabulary (0..{vocab})",
                    t + 1
                );
            }
            positions.push((b * seq + t) as u32);
            targets.push(label as u32);
        }
    }
    Ok((positions, targets))
}

/// Causal-LM loss of `model` on `input_ids: [B, S]` (u32) with `labels: [B, S]` (i64).
pub fn causal_lm_loss(
    model: &LlamaModel,
    input_ids: &Tensor,
    labels: &Tensor,
    mode: &mut ForwardMode,
) -> candle_core::Result<LossOutput> {
    let labels_host = labels.to_dtype(DType::I64)?.to_vec2::<i64>()?;
    let (positions, targets) = predicted_positions(&labels_host, model.config.vocab_size)?;
    if positions.is_empty() {
        return Ok(LossOutput { loss: Tensor::zeros((), DType::F32, &model.device)?, n_tokens: 0 });
    }
    let hidden = model.hidden_states(input_ids, mode, None)?;
    let (b, s, h) = hidden.dims3()?;
    let n = positions.len();
    let positions = Tensor::from_vec(positions, n, &model.device)?;
    let selected = hidden.reshape((b * s, h))?.index_select(&positions, 0)?;
    let targets = Tensor::from_vec(targets, n, &model.device)?;
    Ok(LossOutput { loss: model.token_losses(&selected, &targets)?.mean_all()?, n_tokens: n })
}
