//! The architecture description of a Llama-family decoder, read from a Hugging Face
//! `config.json` or rebuilt from GGUF metadata.

use serde::{Deserialize, Serialize};

use crate::math::{DecoderShape, Target};

/// Hyper-parameters of a Llama-family decoder (Llama 2/3, SmolLM2, TinyLlama, Qwen2).
///
/// Field names follow Hugging Face's `config.json` so the struct deserialises from it directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    /// `"llama"`, `"qwen2"`, `"mistral"`… Other architectures are rejected when loading.
    #[serde(default = "default_model_type")]
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Grouped-query attention: fewer key/value heads than query heads. Defaults to MHA.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Per-head width; defaults to `hidden_size / num_attention_heads`.
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "default_rms_norm_eps")]
    pub rms_norm_eps: f64,
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    #[serde(default = "default_max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Bias on q/k/v projections (Qwen2 has it; Llama does not). Qwen2 configs omit the key,
    /// so loaders set it from `model_type` when absent.
    #[serde(default)]
    pub attention_bias: Option<bool>,
    #[serde(default)]
    pub bos_token_id: Option<u32>,
    /// Some configs store a list of end-of-sequence ids.
    #[serde(default)]
    pub eos_token_id: Option<EosTokenId>,
    /// Llama 3.1+'s RoPE frequency scaling (`rope_type: "llama3"`); other kinds are refused
    /// when loading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<RopeScaling>,
    /// The same scaling as llama.cpp stores it in a GGUF (`rope_freqs.weight`): one divisor per
    /// frequency. Not part of `config.json`.
    #[serde(skip)]
    pub rope_freq_factors: Option<Vec<f64>>,
}

/// `rope_scaling` of a Hugging Face config, as Llama 3.1/3.2/3.3 use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RopeScaling {
    #[serde(alias = "type")]
    pub rope_type: String,
    pub factor: f64,
    #[serde(default = "default_low_freq_factor")]
    pub low_freq_factor: f64,
    #[serde(default = "default_high_freq_factor")]
    pub high_freq_factor: f64,
    pub original_max_position_embeddings: usize,
}

fn default_low_freq_factor() -> f64 {
    1.0
}
fn default_high_freq_factor() -> f64 {
    4.0
}

/// The RoPE scaling kinds this decoder implements.
pub const SUPPORTED_ROPE_SCALING: &[&str] = &["llama3"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EosTokenId {
    One(u32),
    Many(Vec<u32>),
}

impl LlamaConfig {
    pub fn num_kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads)
    }

    /// Whether q/k/v carry a bias: explicit in the config, else implied by the architecture.
    pub fn qkv_bias(&self) -> bool {
        self.attention_bias.unwrap_or(self.model_type == "qwen2")
    }

    /// The decoder's shape as the parameter maths sees it: the one table of projection shapes.
    pub fn shape(&self) -> DecoderShape {
        DecoderShape {
            vocab: self.vocab_size as u64,
            hidden: self.hidden_size as u64,
            intermediate: self.intermediate_size as u64,
            layers: self.num_hidden_layers as u64,
            heads: self.num_attention_heads as u64,
            kv_heads: self.num_kv_heads() as u64,
            head_dim: self.head_dim() as u64,
            tied_embeddings: self.tie_word_embeddings,
        }
    }

    /// `(out_features, in_features)` of a projection: its weight's `[out, in]` shape.
    pub fn projection_shape(&self, target: Target) -> (usize, usize) {
        let (d_in, d_out) = self.shape().linear_shape(target);
        (d_out as usize, d_in as usize)
    }

    /// Every tensor the decoder reads, with its Hugging Face name and shape, in a fixed order:
    /// the embeddings; per layer each projection (weight, then bias where q/k/v have one) and
    /// the two norms; the final norm; `lm_head` unless tied.
    pub fn weight_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (hidden, vocab) = (self.hidden_size, self.vocab_size);
        let mut out = vec![("model.embed_tokens.weight".to_string(), vec![vocab, hidden])];
        for layer in 0..self.num_hidden_layers {
            for t in Target::ALL {
                let (o, i) = self.projection_shape(t);
                out.push((format!("{}.weight", t.path(layer)), vec![o, i]));
                if self.qkv_bias() && matches!(t, Target::Q | Target::K | Target::V) {
                    out.push((format!("{}.bias", t.path(layer)), vec![o]));
                }
            }
            for norm in ["input_layernorm", "post_attention_layernorm"] {
                out.push((format!("model.layers.{layer}.{norm}.weight"), vec![hidden]));
            }
        }
        out.push(("model.norm.weight".to_string(), vec![hidden]));
        if !self.tie_word_embeddings {
            out.push(("lm_head.weight".to_string(), vec![vocab, hidden]));
        }
        out
    }

    /// The rotary frequencies `1/θ^(2i/d)`, `i < d/2`, after the model's scaling: Llama 3's
    /// (transformers' `_compute_llama3_parameters`: low frequencies divided by `factor`, high
    /// ones kept, a smooth blend between), or a GGUF's per-frequency divisors.
    pub fn rope_frequencies(&self) -> Vec<f64> {
        let d = self.head_dim();
        // In f32, as transformers computes them.
        let mut inv_freq: Vec<f64> =
            (0..d / 2).map(|i| f64::from(1.0 / (self.rope_theta as f32).powf((2 * i) as f32 / d as f32))).collect();
        if let Some(s) = self.rope_scaling.as_ref().filter(|s| s.rope_type == "llama3") {
            let old = s.original_max_position_embeddings as f64;
            let (low_wavelen, high_wavelen) = (old / s.low_freq_factor, old / s.high_freq_factor);
            for f in inv_freq.iter_mut() {
                let wavelen = 2.0 * std::f64::consts::PI / *f;
                if wavelen > low_wavelen {
                    *f /= s.factor;
                } else if wavelen >= high_wavelen {
                    let smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
                    *f = (1.0 - smooth) * *f / s.factor + smooth * *f;
                }
            }
        }
        if let Some(factors) = &self.rope_freq_factors {
            inv_freq.iter_mut().zip(factors).for_each(|(f, d)| *f /= d);
        }
        inv_freq
    }

    /// `config.json` as transformers expects it: no nulls (its strict config classes reject
    /// them), grouped-query and bias settings spelled out.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("config serialises");
        if let Some(map) = v.as_object_mut() {
            map.retain(|_, value| !value.is_null());
            map.insert("num_key_value_heads".into(), serde_json::json!(self.num_kv_heads()));
            map.insert("head_dim".into(), serde_json::json!(self.head_dim()));
            map.insert("attention_bias".into(), serde_json::json!(self.qkv_bias()));
        }
        v
    }

    pub fn eos_token_ids(&self) -> Vec<u32> {
        match &self.eos_token_id {
            None => Vec::new(),
            Some(EosTokenId::One(id)) => vec![*id],
            Some(EosTokenId::Many(ids)) => ids.clone(),
        }
    }
}

fn default_model_type() -> String {
    "llama".to_string()
}
fn default_rms_norm_eps() -> f64 {
    1e-5
}
fn default_rope_theta() -> f64 {
    10_000.0
}
fn default_max_position_embeddings() -> usize {
    2048
}
