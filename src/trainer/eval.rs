//! Mean loss and perplexity over a dataset, token-weighted exactly like one big batch.

use candle_core::Device;

use crate::trainer::data::{Example, collate};
use crate::trainer::loss::causal_lm_loss;
use crate::trainer::model::{ForwardMode, LlamaModel};

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvalResult {
    /// Mean cross-entropy per predicted token (nats).
    pub loss: f64,
    /// `exp(loss)`.
    pub perplexity: f64,
    /// Predicted tokens the mean is over.
    pub tokens: usize,
}

/// Evaluates `examples` in file order, `batch_size` at a time, dropout off.
pub fn evaluate(
    model: &LlamaModel,
    examples: &[Example],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> candle_core::Result<EvalResult> {
    let (mut sum, mut tokens) = (0f64, 0usize);
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&Example> = chunk.iter().collect();
        let batch = collate(&refs, pad_id, device).map_err(candle_core::Error::wrap)?;
        let out = causal_lm_loss(model, &batch.input_ids, &batch.labels, &mut ForwardMode::eval())?;
        if out.n_tokens > 0 {
            sum += out.loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()? * out.n_tokens as f64;
            tokens += out.n_tokens;
        }
    }
    if tokens == 0 {
        candle_core::bail!("no predicted tokens to evaluate on");
    }
    let loss = sum / tokens as f64;
    Ok(EvalResult { loss, perplexity: loss.exp(), tokens })
}
