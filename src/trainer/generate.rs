//! Text generation with a KV cache, sampled by candle-transformers' `LogitsProcessor`
//! (temperature, top-k, top-p, from a seeded RNG) after a repeat penalty over the recent tokens,
//! so that a small model's answers before and after training can be compared fairly: the same
//! seed and decoding for both, and no loops of the same phrase.

use candle_core::{DType, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::utils::apply_repeat_penalty;

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
    /// Keep only the `k` most likely tokens first (`None` = all).
    pub top_k: Option<usize>,
    /// Divides the logit of every token seen in the last `repeat_last_n` (1 = off); llama.cpp's
    /// default is 1.1.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    pub seed: u64,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        Self {
            max_new_tokens: 128,
            temperature: 0.7,
            top_p: 0.9,
            top_k: None,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 42,
        }
    }
}

impl SamplingOptions {
    fn sampling(&self) -> Sampling {
        let temperature = self.temperature;
        let keep_all = self.top_p >= 1.0;
        match (temperature <= 0.0, self.top_k, keep_all) {
            (true, _, _) => Sampling::ArgMax,
            (false, None, true) => Sampling::All { temperature },
            (false, None, false) => Sampling::TopP { p: self.top_p, temperature },
            (false, Some(k), true) => Sampling::TopK { k, temperature },
            (false, Some(k), false) => Sampling::TopKThenTopP { k, p: self.top_p, temperature },
        }
    }
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
    let mut sampler = LogitsProcessor::from_sampling(opts.seed, opts.sampling());
    let mut cache = KvCache::new();
    let mut context: Vec<u32> = prompt_ids.to_vec();
    let mut input = Tensor::new(prompt_ids, &model.device)?.unsqueeze(0)?;
    let mut out = Vec::new();
    let limit = model.config.max_position_embeddings;
    for _ in 0..opts.max_new_tokens {
        if cache.len() + input.dim(1)? > limit {
            break;
        }
        let hidden = model.hidden_states(&input, &mut ForwardMode::eval(), Some(&mut cache))?;
        let last = hidden.narrow(1, hidden.dim(1)? - 1, 1)?.flatten_all()?;
        let mut logits = model.logits(&last.unsqueeze(0)?)?.to_dtype(DType::F32)?.flatten_all()?;
        if opts.repeat_penalty != 1.0 {
            let recent = &context[context.len().saturating_sub(opts.repeat_last_n)..];
            logits = apply_repeat_penalty(&logits, opts.repeat_penalty, recent)?;
        }
        let next = sampler.sample(&logits)?;
        if tokenizer.is_eos(next) {
            break;
        }
        out.push(next);
        context.push(next);
        input = Tensor::new(&[next], &model.device)?.unsqueeze(0)?;
    }
    Ok(out)
}

/// Answers one user message through the model's chat template (ChatML when it has none), after
/// `system` when given (the template's own default system message otherwise).
pub fn chat(
    model: &LlamaModel,
    tokenizer: &TokenizerBundle,
    system: Option<&str>,
    user: &str,
    opts: &SamplingOptions,
) -> anyhow::Result<String> {
    let template = ChatTemplate::for_tokenizer(tokenizer)?;
    let mut messages: Vec<ChatMessage> = system.map(|s| ChatMessage::new("system", s)).into_iter().collect();
    messages.push(ChatMessage::new("user", user));
    let prompt = template.render(&messages, true)?;
    // Like transformers' apply_chat_template: the template writes any BOS itself.
    let ids = tokenizer.tokenizer.encode(prompt.as_str(), false).map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let new = generate_ids(model, tokenizer, ids.get_ids(), opts)?;
    tokenizer.decode(&new, true).map_err(|e| anyhow::anyhow!("tokenizer: {e}"))
}
