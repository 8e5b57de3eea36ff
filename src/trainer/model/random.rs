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
pub fn random_weights(config: &LlamaConfig, seed: u64, device: &Device) -> candle_core::Result<HashMap<String, Tensor>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = HashMap::new();
    let (h, v, i) = (config.hidden_size, config.vocab_size, config.intermediate_size);
    let (nh, nkv, hd) = (config.num_attention_heads, config.num_kv_heads(), config.head_dim());
    let mut mat = |rng: &mut StdRng, rows: usize, cols: usize| Tensor::from_vec(normal(rng, rows * cols, 0.02), (rows, cols), device);
    w.insert("model.embed_tokens.weight".to_string(), mat(&mut rng, v, h)?);
    for l in 0..config.num_hidden_layers {
        for t in Target::ALL {
            let (o, inp) = match t {
                Target::Q => (nh * hd, h),
                Target::K | Target::V => (nkv * hd, h),
                Target::O => (h, nh * hd),
                Target::Gate | Target::Up => (i, h),
                Target::Down => (h, i),
            };
            w.insert(format!("{}.weight", t.path(l)), mat(&mut rng, o, inp)?);
            if config.qkv_bias() && matches!(t, Target::Q | Target::K | Target::V) {
                w.insert(format!("{}.bias", t.path(l)), Tensor::from_vec(normal(&mut rng, o, 0.02), o, device)?);
            }
        }
        for n in ["input_layernorm", "post_attention_layernorm"] {
            w.insert(format!("model.layers.{l}.{n}.weight"), Tensor::ones(h, candle_core::DType::F32, device)?);
        }
    }
    w.insert("model.norm.weight".to_string(), Tensor::ones(h, candle_core::DType::F32, device)?);
    if !config.tie_word_embeddings {
        w.insert("lm_head.weight".to_string(), mat(&mut rng, v, h)?);
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
