//! The tiny test model: a random 2-layer Llama over a tiny byte-level BPE vocabulary, written
//! to disk in both supported formats (a Hugging Face folder, a llama.cpp GGUF), so tests and
//! demos exercise the real loading paths without downloading anything.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;

use crate::trainer::config::{EosTokenId, LlamaConfig};
use crate::trainer::load::permute_rope_rows;

/// Special tokens of the tiny tokenizer, ids 0, 1, 2 (SmolLM2's layout).
pub const TINY_SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
const TINY_MERGES: [(&str, &str); 6] = [("h", "e"), ("l", "l"), ("Ġ", "t"), ("Ġt", "he"), ("o", "r"), ("Ġ", "w")];

/// The tiny byte-level BPE vocabulary: 3 special tokens, the 256 byte symbols, merge results.
pub fn tiny_vocab() -> Vec<String> {
    let mut alphabet: Vec<char> = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet().into_iter().collect();
    alphabet.sort();
    let mut vocab: Vec<String> = TINY_SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    vocab.extend(alphabet.into_iter().map(String::from));
    vocab.extend(TINY_MERGES.iter().map(|(a, b)| format!("{a}{b}")));
    vocab
}

/// A `tokenizer.json` (Hugging Face format) for [`tiny_vocab`], GPT-2 style, no BOS added.
pub fn tiny_tokenizer_json() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> =
        tiny_vocab().into_iter().enumerate().map(|(i, t)| (t, json!(i))).collect();
    let added: Vec<_> = TINY_SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}))
        .collect();
    json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                  "vocab": vocab, "merges": TINY_MERGES.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>()},
    })
}

/// A 2-layer GQA Llama over the tiny vocabulary (head_dim 16, so RoPE permutation matters),
/// with tied embeddings (set `tie_word_embeddings` to false for a separate LM head). Every
/// projection's rows are a whole number of 64-weight NF4 blocks, as in real models
/// (bitsandbytes' CPU kernel mis-reads rows narrower than a block).
pub fn tiny_config() -> LlamaConfig {
    LlamaConfig {
        model_type: "llama".into(),
        vocab_size: tiny_vocab().len(),
        hidden_size: 64,
        intermediate_size: 128,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: Some(2),
        head_dim: None,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        max_position_embeddings: 128,
        tie_word_embeddings: true,
        attention_bias: None,
        bos_token_id: Some(1),
        eos_token_id: Some(EosTokenId::One(2)),
        rope_scaling: None,
        rope_freq_factors: None,
    }
}

/// [`tiny_config`] with its own LM head (`lm_head.weight`) instead of tied embeddings.
pub fn tiny_config_untied() -> LlamaConfig {
    LlamaConfig { tie_word_embeddings: false, ..tiny_config() }
}

/// Standard deviation of the tiny model's weights: large enough for its logits to move in a
/// few training steps (real models use 0.02).
pub const TINY_STD: f32 = 0.25;

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

/// Seeded f32 weights for every tensor `config` needs: N(0, std²) matrices and biases, norms at
/// one (as Hugging Face initialises them), drawn in [`LlamaConfig::weight_shapes`] order.
pub fn random_weights(
    config: &LlamaConfig,
    seed: u64,
    std: f32,
    device: &Device,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let mut rng = StdRng::seed_from_u64(seed);
    config
        .weight_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let tensor = if name.ends_with("norm.weight") {
                Tensor::ones(shape, candle_core::DType::F32, device)?
            } else {
                Tensor::from_vec(normal(&mut rng, shape.iter().product(), std), shape, device)?
            };
            Ok((name, tensor))
        })
        .collect()
}

/// [`random_weights`] at [`TINY_STD`] on the CPU.
pub fn tiny_weights(config: &LlamaConfig, seed: u64) -> HashMap<String, Tensor> {
    random_weights(config, seed, TINY_STD, &Device::Cpu).expect("CPU tensors of matching shapes")
}

/// Writes the tiny model (seeded) as a Hugging Face folder: the usual test and demo model.
pub fn write_tiny_model_folder(dir: &Path, seed: u64) -> anyhow::Result<()> {
    let config = tiny_config();
    write_hf_folder(dir, &config, &tiny_weights(&config, seed), 1)
}

/// ChatML, as SmolLM2 ships it minus the default system prompt.
pub const TINY_CHAT_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// Writes a Hugging Face folder: config.json, tokenizer.json, tokenizer_config.json and the
/// weights in one `model.safetensors` (`shards <= 1`) or `shards` files plus
/// `model.safetensors.index.json`.
pub fn write_hf_folder(
    dir: &Path,
    config: &LlamaConfig,
    weights: &HashMap<String, Tensor>,
    shards: usize,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut config_json = config.to_hf_json();
    config_json["architectures"] = json!(["LlamaForCausalLM"]);
    config_json["_name_or_path"] = json!("tiny/llama-fixture");
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config_json)?)?;
    std::fs::write(dir.join("tokenizer.json"), serde_json::to_string(&tiny_tokenizer_json())?)?;
    let tok_config = json!({
        "bos_token": {"content": TINY_SPECIAL_TOKENS[1], "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
        "eos_token": TINY_SPECIAL_TOKENS[2],
        "pad_token": TINY_SPECIAL_TOKENS[0],
        "add_bos_token": false,
        "chat_template": TINY_CHAT_TEMPLATE,
    });
    std::fs::write(dir.join("tokenizer_config.json"), serde_json::to_string_pretty(&tok_config)?)?;

    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    if shards <= 1 {
        candle_core::safetensors::save(weights, dir.join("model.safetensors"))?;
        return Ok(());
    }
    let per_shard = names.len().div_ceil(shards);
    let mut weight_map = serde_json::Map::new();
    for (k, chunk) in names.chunks(per_shard).enumerate() {
        let file = format!("model-{:05}-of-{:05}.safetensors", k + 1, shards);
        let part: HashMap<String, Tensor> = chunk.iter().map(|n| ((*n).clone(), weights[*n].clone())).collect();
        candle_core::safetensors::save(&part, dir.join(&file))?;
        for n in chunk {
            weight_map.insert((*n).clone(), json!(file));
        }
    }
    let total_size: usize = weights.values().map(|t| t.elem_count() * 4).sum();
    let index = json!({"metadata": {"total_size": total_size}, "weight_map": weight_map});
    std::fs::write(dir.join("model.safetensors.index.json"), serde_json::to_string_pretty(&index)?)?;
    Ok(())
}

/// Writes a GGUF the way llama.cpp's converter does for a Llama: llama.cpp tensor names, q/k
/// rows permuted for GGML's RoPE, tokenizer as `tokenizer.ggml.*` metadata. Tensors are
/// stored as F32 (exact) or quantized to `dtype`.
pub fn write_gguf(
    path: &Path,
    config: &LlamaConfig,
    weights: &HashMap<String, Tensor>,
    dtype: GgmlDType,
) -> anyhow::Result<()> {
    write_gguf_with(path, config, weights, dtype, &[])
}

/// [`write_gguf`] with metadata entries added or replaced (to test other architectures,
/// tokenizer settings, missing keys: an entry whose value is `None` is removed).
pub fn write_gguf_with(
    path: &Path,
    config: &LlamaConfig,
    weights: &HashMap<String, Tensor>,
    dtype: GgmlDType,
    overrides: &[(&str, Option<Value>)],
) -> anyhow::Result<()> {
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    for (hf, tensor) in weights {
        let gguf = gguf_name(hf).ok_or_else(|| anyhow::anyhow!("no GGUF name for {hf}"))?;
        let tensor = if hf.ends_with("q_proj.weight") {
            permute_rope_rows(tensor, config.num_attention_heads)?
        } else if hf.ends_with("k_proj.weight") {
            permute_rope_rows(tensor, config.num_kv_heads())?
        } else {
            tensor.clone()
        };
        // Norms stay F32 in real files; quantize only matrices.
        let q = if tensor.rank() == 2 {
            QTensor::quantize(&tensor, dtype)?
        } else {
            QTensor::quantize(&tensor, GgmlDType::F32)?
        };
        tensors.push((gguf, q));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));

    let vocab = tiny_vocab();
    let token_types: Vec<Value> =
        (0..vocab.len()).map(|i| Value::I32(if i < TINY_SPECIAL_TOKENS.len() { 3 } else { 1 })).collect();
    let u32v = |x: usize| Value::U32(x as u32);
    let mut metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        ("general.name", Value::String("tiny-llama-fixture".into())),
        ("llama.block_count", u32v(config.num_hidden_layers)),
        ("llama.context_length", u32v(config.max_position_embeddings)),
        ("llama.embedding_length", u32v(config.hidden_size)),
        ("llama.feed_forward_length", u32v(config.intermediate_size)),
        ("llama.attention.head_count", u32v(config.num_attention_heads)),
        ("llama.attention.head_count_kv", u32v(config.num_kv_heads())),
        ("llama.rope.freq_base", Value::F32(config.rope_theta as f32)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(config.rms_norm_eps as f32)),
        ("llama.rope.dimension_count", u32v(config.head_dim())),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", Value::Array(vocab.iter().map(|t| Value::String(t.clone())).collect())),
        ("tokenizer.ggml.token_type", Value::Array(token_types)),
        (
            "tokenizer.ggml.merges",
            Value::Array(TINY_MERGES.iter().map(|(a, b)| Value::String(format!("{a} {b}"))).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.padding_token_id", Value::U32(0)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
        ("tokenizer.chat_template", Value::String(TINY_CHAT_TEMPLATE.into())),
    ];
    for (key, value) in overrides {
        metadata.retain(|(k, _)| k != key);
        if let Some(value) = value {
            metadata.push((key, value.clone()));
        }
    }
    let metadata_refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(path)?;
    gguf_file::write(&mut file, &metadata_refs, &tensor_refs)?;
    Ok(())
}

/// Hugging Face name → llama.cpp name (the inverse of the loader's mapping).
fn gguf_name(hf: &str) -> Option<String> {
    match hf {
        "model.embed_tokens.weight" => return Some("token_embd.weight".into()),
        "model.norm.weight" => return Some("output_norm.weight".into()),
        "lm_head.weight" => return Some("output.weight".into()),
        // Passed through unchanged (Llama 3.1+ RoPE scaling factors).
        "rope_freqs.weight" => return Some("rope_freqs.weight".into()),
        _ => {}
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (module, kind) = rest.rsplit_once('.')?;
    let g = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{g}.{kind}"))
}
