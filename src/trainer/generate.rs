//! Text generation with a KV cache: temperature and nucleus (top-p) sampling from a seeded RNG.

use candle_core::{DType, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::trainer::load::TokenizerBundle;
use crate::trainer::model::{ForwardMode, KvCache, LlamaModel};
use crate::trainer::template::{ChatMessage, ChatTemplate};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingOptions {
    pub max_new_tokens: usize,
    /// 0 = greedy (argmax).
    pub temperature: f64,
    /// Keep the smallest set of tokens whose probability reaches `top_p` (1 = all).
    pub top_p: f64,
    pub seed: u64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        Self {
            max_new_tokens: 128,
            temperature: 0.7,
            top_p: 0.9,
            seed: 42,
        }
    }
}

/// Picks the next token from `logits` (one row).
pub fn sample(logits: &[f32], opts: &SamplingOptions, rng: &mut StdRng) -> u32 {
    if opts.temperature <= 0.0 {
        return logits
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |best, (i, &l)| if l > best.1 { (i, l) } else { best },
            )
            .0 as u32;
    }
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut probs: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, (((l - max) as f64) / opts.temperature).exp()))
        .collect();
    let total: f64 = probs.iter().map(|p| p.1).sum();
    probs.iter_mut().for_each(|p| p.1 /= total);
    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept = 0;
    let mut mass = 0.0;
    for p in &probs {
        kept += 1;
        mass += p.1;
        if mass >= opts.top_p {
            break;
        }
    }
    let mut r = rng.random::<f64>() * mass;
    for p in &probs[..kept] {
        r -= p.1;
        if r <= 0.0 {
            return p.0;
        }
    }
    probs[kept - 1].0
}

/// Continues `prompt_ids`; stops at an end-of-sequence token or after `max_new_tokens`.
/// Returns only the new tokens.
pub fn generate_ids(
    model: &LlamaModel,
    tokenizer: &TokenizerBundle,
    prompt_ids: &[u32],
    opts: &SamplingOptions,
) -> candle_core::Result<Vec<u32>> {
    if prompt_ids.is_empty() {
        candle_core::bail!("the prompt is empty");
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut cache = KvCache::new();
    let mut input = Tensor::new(prompt_ids, &model.device)?.unsqueeze(0)?;
    let mut out = Vec::new();
    let limit = model.config.max_position_embeddings;
    for _ in 0..opts.max_new_tokens {
        if cache.len() + input.dim(1)? > limit {
            break;
        }
        let hidden = model.hidden_states(&input, &mut ForwardMode::eval(), Some(&mut cache))?;
        let last = hidden.narrow(1, hidden.dim(1)? - 1, 1)?.flatten_all()?;
        let logits: Vec<f32> = model
            .logits(&last.unsqueeze(0)?)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let next = sample(&logits, opts, &mut rng);
        if tokenizer.is_eos(next) {
            break;
        }
        out.push(next);
        input = Tensor::new(&[next], &model.device)?.unsqueeze(0)?;
    }
    Ok(out)
}

/// Answers one user message through the model's chat template (ChatML when it has none).
pub fn chat(
    model: &LlamaModel,
    tokenizer: &TokenizerBundle,
    user: &str,
    opts: &SamplingOptions,
) -> anyhow::Result<String> {
    let template = ChatTemplate::for_tokenizer(tokenizer)?;
    let prompt = template.render(&[ChatMessage::new("user", user)], true)?;
    // Like transformers' apply_chat_template: the template writes any BOS itself.
    let ids = tokenizer
        .tokenizer
        .encode(prompt.as_str(), false)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let new = generate_ids(model, tokenizer, ids.get_ids(), opts)?;
    tokenizer
        .decode(&new, true)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))
}
