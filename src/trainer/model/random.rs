//! Randomly initialised Llama weights (HF-named), for tests and the benchmark: N(0, 0.02²)
//! like Hugging Face's `initializer_range`, norms at 1.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::Target;
use crate::trainer::config::LlamaConfig;

fn normal(rng: &mut StdRng, n: usize, std: f32) -> Vec<f32> {
    // Box–Muller; rand 0.9 has no Normal without rand_distr.
    (0..n)
        .map(|_| {
            let u1: f32 = rng.random_range(f32::EPSILON..1.0);
            let u2: f32 = rng.random();
            std * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        })
        .collect()
}

/// f32 weights for `config` (an `lm_head.weight` only when embeddings are untied).
pub fn random_weights(
    config: &LlamaConfig,
    seed: u64,
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    random_weights_with_std(config, seed, 0.02, device)
}

/// Like [`random_weights`] with another standard deviation (tiny test models need larger
/// weights than 0.02 for their logits to be able to move).
pub fn random_weights_with_std(
    config: &LlamaConfig,
    seed: u64,
    std: f32,
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let mut rng = StdRng::seed_from_u64(seed);
    weights_from(config, |kind, shape| match kind {
        Kind::Norm => Tensor::ones(shape, candle_core::DType::F32, device),
        Kind::Weight => Tensor::from_vec(normal(&mut rng, shape.iter().product(), std), shape, device),
    })
}

/// Unseeded N(0, 0.02²) weights drawn by candle's own (fast) generator: for the benchmark,
/// where only the shapes matter and 139 M values are needed.
pub fn random_weights_fast(config: &LlamaConfig, device: &Device) -> candle_core::Result<HashMap<String, Tensor>> {
    weights_from(config, |kind, shape| match kind {
        Kind::Norm => Tensor::ones(shape, candle_core::DType::F32, device),
        Kind::Weight => Tensor::randn(0f32, 0.02, shape, device),
    })
}

enum Kind {
    /// Matrices and biases: random.
    Weight,
    /// RMSNorm scales: ones.
    Norm,
}

/// Every HF-named tensor of `config`, made by `make(kind, shape)` in a fixed order.
fn weights_from(
    config: &LlamaConfig,
    mut make: impl FnMut(Kind, &[usize]) -> candle_core::Result<Tensor>,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let mut w = HashMap::new();
    let (h, v, i) = (config.hidden_size, config.vocab_size, config.intermediate_size);
    let (nh, nkv, hd) = (config.num_attention_heads, config.num_kv_heads(), config.head_dim());
    w.insert("model.embed_tokens.weight".to_string(), make(Kind::Weight, &[v, h])?);
    for l in 0..config.num_hidden_layers {
        for t in Target::ALL {
            let (o, inp) = match t {
                Target::Q => (nh * hd, h),
                Target::K | Target::V => (nkv * hd, h),
                Target::O => (h, nh * hd),
                Target::Gate | Target::Up => (i, h),
                Target::Down => (h, i),
            };
            w.insert(format!("{}.weight", t.path(l)), make(Kind::Weight, &[o, inp])?);
            if config.qkv_bias() && matches!(t, Target::Q | Target::K | Target::V) {
                w.insert(format!("{}.bias", t.path(l)), make(Kind::Weight, &[o])?);
            }
        }
        for n in ["input_layernorm", "post_attention_layernorm"] {
            w.insert(format!("model.layers.{l}.{n}.weight"), make(Kind::Norm, &[h])?);
        }
    }
    w.insert("model.norm.weight".to_string(), make(Kind::Norm, &[h])?);
    if !config.tie_word_embeddings {
        w.insert("lm_head.weight".to_string(), make(Kind::Weight, &[v, h])?);
    }
    Ok(w)
}

/// A tiny config for tests: 2 layers, GQA (4 query / 2 key-value heads), vocab 64.
pub fn tiny_config() -> LlamaConfig {
    serde_json::from_value(serde_json::json!({
        "model_type": "llama", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 24,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true
    }))
    .expect("static tiny config")
}

/// SmolLM2-135M's shapes (as in `/work/shared/bench/peft_anchor.py`).
pub fn smollm2_135m_config() -> LlamaConfig {
    serde_json::from_value(serde_json::json!({
        "model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
        "max_position_embeddings": 8192
    }))
    .expect("static SmolLM2 config")
}

/// Words of the tiny test vocabulary (ids 4..64; 0–3 are `<unk> <s> </s> <pad>`).
pub const TINY_WORDS: [&str; 60] = [
    "the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "log", "red", "blue", "big", "small", "and", "then",
    "it", "slept", "ate", "fish", "bone", "happy", "sad", "very", "is", "was", "lora", "rank", "adapter", "matrix",
    "low", "weight", "frozen", "train", "loss", "step", "grad", "one", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "yes", "no", "why", "how", "what", "who", "where", "when", "ok", "good", "bad", "up",
    "down",
];

/// Writes a complete tiny Hugging Face model folder (config.json, model.safetensors,
/// tokenizer.json word-level over [`TINY_WORDS`], tokenizer_config.json) for tests and demos.
pub fn write_tiny_model_folder(dir: &std::path::Path, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let config = tiny_config();
    let mut config_json = crate::trainer::merge::hf_config_json(&config);
    config_json["bos_token_id"] = serde_json::json!(1);
    config_json["eos_token_id"] = serde_json::json!(2);
    config_json["_name_or_path"] = serde_json::json!("tiny-random-llama");
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config_json)?)?;
    let weights = random_weights_with_std(&config, seed, 0.25, &Device::Cpu)?;
    let mut named: Vec<(String, Tensor)> = weights.into_iter().collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    crate::trainer::tensorfile::save_f32(&dir.join("model.safetensors"), &named, None)?;
    let mut vocab = serde_json::Map::new();
    for (i, w) in ["<unk>", "<s>", "</s>", "<pad>"]
        .iter()
        .chain(TINY_WORDS.iter())
        .enumerate()
    {
        vocab.insert(w.to_string(), serde_json::json!(i));
    }
    let special = |id: u32, content: &str| {
        serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true})
    };
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>"), special(3, "<pad>")],
        "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
        "decoder": null, "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}
    });
    std::fs::write(dir.join("tokenizer.json"), serde_json::to_string(&tokenizer)?)?;
    let tok_config = serde_json::json!({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"});
    std::fs::write(dir.join("tokenizer_config.json"), serde_json::to_string(&tok_config)?)?;
    Ok(())
}
