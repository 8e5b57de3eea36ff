//! A llama.cpp GGUF file: metadata → [`LlamaConfig`], tensors dequantized and renamed to
//! Hugging Face names, q/k rows un-permuted back to the Hugging Face RoPE layout.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{Device, Tensor};

use super::{LoadError, LoadOptions, LoadedModel, ModelFormat, ModelSource, WeightCollector, check_model_type};
use crate::trainer::config::{EosTokenId, LlamaConfig};

/// GGUF architectures we read, with the Hugging Face `model_type` they become.
const GGUF_ARCHITECTURES: &[(&str, &str)] = &[("llama", "llama"), ("qwen2", "qwen2")];

pub(super) struct GgufFile {
    pub content: Content,
    pub reader: BufReader<File>,
}

pub(super) fn open(path: &Path) -> Result<GgufFile, LoadError> {
    let file = File::open(path).map_err(LoadError::io(path))?;
    let mut reader = BufReader::new(file);
    let content = Content::read(&mut reader).map_err(LoadError::candle(path))?;
    Ok(GgufFile { content, reader })
}

pub(super) fn load_gguf(path: &Path, opts: &LoadOptions) -> Result<LoadedModel, LoadError> {
    let mut gguf = open(path)?;
    let config = full_config(path, &mut gguf)?;
    let tokenizer = super::gguf_tokenizer::tokenizer_from_metadata(path, &gguf.content.metadata)?;

    let arch = architecture(path, &gguf.content)?;
    let mut weights = WeightCollector::new(path, &config, opts);
    let mut names: Vec<String> = gguf.content.tensor_infos.keys().cloned().collect();
    names.sort();
    for gguf_name in names {
        weights.check_cancel()?;
        let Some(hf_name) = hf_name(&gguf_name).filter(|n| weights.wants(n)) else {
            tracing::debug!(tensor = %gguf_name, "ignoring GGUF tensor the decoder does not read");
            continue;
        };
        // Dequantize on the CPU: candle's CPU kernels cover every GGML type.
        let qtensor =
            gguf.content.tensor(&mut gguf.reader, &gguf_name, &Device::Cpu).map_err(LoadError::candle(path))?;
        let mut tensor = qtensor.dequantize(&Device::Cpu).map_err(LoadError::candle(path))?;
        if arch == "llama" {
            if hf_name.ends_with("q_proj.weight") {
                tensor = unpermute_rope_rows(&tensor, config.num_attention_heads).map_err(LoadError::candle(path))?;
            } else if hf_name.ends_with("k_proj.weight") {
                tensor = unpermute_rope_rows(&tensor, config.num_kv_heads()).map_err(LoadError::candle(path))?;
            }
        }
        weights.accept(hf_name, tensor)?;
    }
    // The Hub repository the file was converted from, when the converter recorded it;
    // otherwise the file itself (PEFT writes a local path there too). We never invent an id
    // from `general.name`: tools such as llama.cpp's convert_lora_to_gguf.py fetch it.
    let meta = &gguf.content.metadata;
    let name_or_path = meta
        .get("general.source.huggingface.repository")
        .and_then(|v| v.to_string().ok())
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| path.display().to_string());

    let source = ModelSource { path: path.to_path_buf(), format: ModelFormat::Gguf, name_or_path };
    weights.into_model(config.clone(), tokenizer, source)
}

/// Reads only the metadata and rebuilds the config.
pub(super) fn read_gguf_config(path: &Path) -> Result<LlamaConfig, LoadError> {
    full_config(path, &mut open(path)?)
}

/// The config from the metadata, plus the per-frequency RoPE divisors that Llama 3.1+ files
/// carry as a tensor (`rope_freqs.weight`, llama.cpp's form of `rope_scaling`).
fn full_config(path: &Path, gguf: &mut GgufFile) -> Result<LlamaConfig, LoadError> {
    let mut config = config_from_metadata(path, &gguf.content)?;
    if gguf.content.tensor_infos.contains_key("rope_freqs.weight") {
        let t = gguf
            .content
            .tensor(&mut gguf.reader, "rope_freqs.weight", &Device::Cpu)
            .map_err(LoadError::candle(path))?;
        let factors: Vec<f32> =
            t.dequantize(&Device::Cpu).and_then(|t| t.flatten_all()?.to_vec1()).map_err(LoadError::candle(path))?;
        if factors.len() != config.head_dim() / 2 || factors.iter().any(|f| !f.is_finite() || *f <= 0.0) {
            return Err(LoadError::invalid(
                path,
                "rope_freqs.weight",
                format!("{} positive factors expected (head_dim / 2), found {:?}", config.head_dim() / 2, factors),
            ));
        }
        config.rope_freq_factors = Some(factors.into_iter().map(f64::from).collect());
    }
    Ok(config)
}

fn architecture<'a>(path: &Path, content: &'a Content) -> Result<&'a str, LoadError> {
    let arch = content
        .metadata
        .get("general.architecture")
        .ok_or_else(|| LoadError::invalid(path, "general.architecture", "missing"))?
        .to_string()
        .map_err(|e| LoadError::invalid(path, "general.architecture", e.to_string()))?;
    if !GGUF_ARCHITECTURES.iter().any(|(a, _)| a == arch) {
        return Err(LoadError::UnsupportedArchitecture {
            path: path.to_path_buf(),
            field: "general.architecture".into(),
            found: arch.clone(),
            supported: GGUF_ARCHITECTURES.iter().map(|(a, _)| *a).collect::<Vec<_>>().join(", "),
        });
    }
    Ok(arch)
}

fn get<'a>(path: &Path, meta: &'a HashMap<String, Value>, key: &str) -> Result<&'a Value, LoadError> {
    meta.get(key).ok_or_else(|| LoadError::invalid(path, key, "missing from GGUF metadata"))
}

fn get_usize(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<usize, LoadError> {
    let v = get(path, meta, key)?;
    let n = match v {
        Value::I32(n) if *n >= 0 => *n as u64,
        Value::I64(n) if *n >= 0 => *n as u64,
        other => other.to_u64().map_err(|e| LoadError::invalid(path, key, e.to_string()))?,
    };
    Ok(n as usize)
}

fn opt_usize(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Option<usize>, LoadError> {
    if meta.contains_key(key) { get_usize(path, meta, key).map(Some) } else { Ok(None) }
}

/// GGUF stores epsilons and bases as f32; print-and-parse recovers the decimal the
/// converter started from (9.9999997e-6 → 1e-5).
fn get_f64(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Option<f64>, LoadError> {
    match meta.get(key) {
        None => Ok(None),
        Some(Value::F32(x)) => Ok(Some(x.to_string().parse().unwrap_or(*x as f64))),
        Some(Value::F64(x)) => Ok(Some(*x)),
        Some(other) => Err(LoadError::invalid(path, key, format!("expected a float, found {other:?}"))),
    }
}

pub(super) fn config_from_metadata(path: &Path, content: &Content) -> Result<LlamaConfig, LoadError> {
    let arch = architecture(path, content)?;
    let model_type = GGUF_ARCHITECTURES.iter().find(|(a, _)| *a == arch).map(|(_, m)| *m).unwrap_or("llama");
    check_model_type(path, "general.architecture", model_type)?;
    let meta = &content.metadata;
    let key = |k: &str| format!("{arch}.{k}");

    let hidden_size = get_usize(path, meta, &key("embedding_length"))?;
    let num_attention_heads = get_usize(path, meta, &key("attention.head_count"))?;
    if num_attention_heads == 0 {
        return Err(LoadError::invalid(path, &key("attention.head_count"), "must be positive"));
    }
    let num_kv_heads = opt_usize(path, meta, &key("attention.head_count_kv"))?.unwrap_or(num_attention_heads);
    if num_kv_heads == 0 || num_attention_heads % num_kv_heads != 0 {
        return Err(LoadError::invalid(path, &key("attention.head_count_kv"), "must divide attention.head_count"));
    }
    let head_dim = opt_usize(path, meta, &key("attention.key_length"))?
        .or(opt_usize(path, meta, &key("rope.dimension_count"))?)
        .filter(|d| *d != hidden_size / num_attention_heads);
    if let Some(scaling) = meta.get(&key("rope.scaling.type")).and_then(|v| v.to_string().ok())
        && scaling != "none"
    {
        return Err(LoadError::invalid(
            path,
            &key("rope.scaling.type"),
            format!("RoPE scaling {scaling:?} is not supported"),
        ));
    }

    let tokens_key = "tokenizer.ggml.tokens";
    let vocab_size = match meta.get(tokens_key) {
        Some(Value::Array(tokens)) => tokens.len(),
        _ => get_usize(path, meta, &key("vocab_size"))?,
    };
    let tied = !content.tensor_infos.contains_key("output.weight");
    let id = |k: &str| -> Result<Option<u32>, LoadError> { Ok(opt_usize(path, meta, k)?.map(|v| v as u32)) };
    let qkv_bias = content.tensor_infos.contains_key("blk.0.attn_q.bias");

    Ok(LlamaConfig {
        model_type: model_type.to_string(),
        vocab_size,
        hidden_size,
        intermediate_size: get_usize(path, meta, &key("feed_forward_length"))?,
        num_hidden_layers: get_usize(path, meta, &key("block_count"))?,
        num_attention_heads,
        num_key_value_heads: Some(num_kv_heads),
        head_dim,
        rms_norm_eps: get_f64(path, meta, &key("attention.layer_norm_rms_epsilon"))?.unwrap_or(1e-5),
        rope_theta: get_f64(path, meta, &key("rope.freq_base"))?.unwrap_or(10_000.0),
        max_position_embeddings: opt_usize(path, meta, &key("context_length"))?.unwrap_or(2048),
        tie_word_embeddings: tied,
        attention_bias: Some(qkv_bias),
        bos_token_id: id("tokenizer.ggml.bos_token_id")?,
        eos_token_id: id("tokenizer.ggml.eos_token_id")?.map(EosTokenId::One),
        rope_scaling: None,
        rope_freq_factors: None,
    })
}

/// llama.cpp name → Hugging Face name (`None` for tensors the decoder does not read,
/// e.g. `rope_freqs`).
pub(super) fn hf_name(gguf: &str) -> Option<String> {
    match gguf {
        "token_embd.weight" => return Some("model.embed_tokens.weight".into()),
        "output_norm.weight" => return Some("model.norm.weight".into()),
        "output.weight" => return Some("lm_head.weight".into()),
        _ => {}
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (module, kind) = rest.rsplit_once('.')?;
    let hf_module = match module {
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf_module}.{kind}"))
}

/// Undoes llama.cpp's `permute` of q/k rows. Its converter reorders each head's rows from
/// Hugging Face's half-split layout (rotate_half RoPE: first half, second half) to pairs
/// interleaved for GGML's RoPE: `reshape(h, 2, d/2, in).swap(1, 2)`. The inverse is
/// `reshape(h, d/2, 2, in).swap(1, 2)`.
pub fn unpermute_rope_rows(weight: &Tensor, n_heads: usize) -> candle_core::Result<Tensor> {
    let (rows, cols) = weight.dims2()?;
    let head_dim = rows / n_heads;
    weight.reshape((n_heads, head_dim / 2, 2, cols))?.transpose(1, 2)?.contiguous()?.reshape((rows, cols))
}

/// llama.cpp's `permute` (Hugging Face → GGUF layout), the inverse of [`unpermute_rope_rows`].
pub fn permute_rope_rows(weight: &Tensor, n_heads: usize) -> candle_core::Result<Tensor> {
    let (rows, cols) = weight.dims2()?;
    let head_dim = rows / n_heads;
    weight.reshape((n_heads, 2, head_dim / 2, cols))?.transpose(1, 2)?.contiguous()?.reshape((rows, cols))
}
