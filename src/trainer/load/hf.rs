//! A Hugging Face model folder: config.json, (sharded) safetensors, tokenizer files.

use std::path::{Path, PathBuf};

use candle_core::Device;
use candle_core::safetensors::MmapedSafetensors;
use serde_json::Value;

use super::tokenizer::TokenizerBundle;
use super::{LoadError, LoadOptions, LoadedModel, ModelFormat, ModelSource, WeightCollector, check_model_type};
use crate::trainer::config::LlamaConfig;

pub(super) fn load_hf_folder(dir: &Path, opts: &LoadOptions) -> Result<LoadedModel, LoadError> {
    let config_path = dir.join("config.json");
    let config = read_config(&config_path)?;
    let raw = read_json(&config_path)?;
    let name_or_path = raw
        .get("_name_or_path")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| dir.display().to_string());

    let tokenizer = TokenizerBundle::from_hf_folder(dir, &config)?;

    // One tensor at a time from memory-mapped shards: a big model is never read whole.
    let mut weights = WeightCollector::new(dir, &config, opts);
    for shard in safetensors_files(dir)? {
        // SAFETY: the file is only read, and only while this loop runs; a model file that another
        // program rewrites at this very moment is outside what a loader can guard against.
        let mapped = unsafe { MmapedSafetensors::new(&shard) }.map_err(|e| not_safetensors(&shard, e))?;
        let mut names: Vec<String> =
            mapped.tensors().into_iter().map(|(n, _)| n).filter(|n| weights.wants(n)).collect();
        names.sort();
        for name in names {
            weights.check_cancel()?;
            let tensor = mapped.load(&name, &Device::Cpu).map_err(LoadError::candle(&shard))?;
            weights.accept(name, tensor)?;
        }
    }
    let source = ModelSource { path: dir.to_path_buf(), format: ModelFormat::HfFolder, name_or_path };
    weights.into_model(config.clone(), tokenizer, source)
}

/// A shard that cannot be opened as safetensors: say what it is likely to be.
fn not_safetensors(path: &Path, e: candle_core::Error) -> LoadError {
    match e {
        candle_core::Error::WithPath { inner, .. } if matches!(*inner, candle_core::Error::Io(_)) => {
            LoadError::Candle { path: path.to_path_buf(), source: *inner }
        }
        e => LoadError::invalid(path, "safetensors", format!("truncated or not a safetensors file ({e})")),
    }
}

fn read_json(path: &Path) -> Result<Value, LoadError> {
    let text = std::fs::read_to_string(path).map_err(LoadError::io(path))?;
    serde_json::from_str(&text).map_err(|source| LoadError::Json { path: path.to_path_buf(), source })
}

/// Parses config.json, rejecting architectures that are not a Llama block.
pub(super) fn read_config(path: &Path) -> Result<LlamaConfig, LoadError> {
    let raw = read_json(path)?;
    match raw.get("model_type") {
        Some(Value::String(model_type)) => check_model_type(path, "model_type", model_type)?,
        Some(other) => {
            return Err(LoadError::invalid(path, "model_type", format!("expected a string, found {other}")));
        }
        None => {
            // Very old configs have only `architectures`; accept the ones we know.
            let archs: Vec<&str> = raw
                .get("architectures")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let known = ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"];
            if !archs.iter().any(|a| known.contains(a)) {
                return Err(LoadError::UnsupportedArchitecture {
                    path: path.to_path_buf(),
                    field: "model_type".into(),
                    found: format!("(missing; architectures = {archs:?})"),
                    supported: super::SUPPORTED_MODEL_TYPES.join(", "),
                });
            }
        }
    }
    if let Some(scaling) = raw.get("rope_scaling").filter(|v| !v.is_null()) {
        let kind = scaling.get("rope_type").or(scaling.get("type")).and_then(Value::as_str).unwrap_or("?");
        if !crate::trainer::config::SUPPORTED_ROPE_SCALING.contains(&kind) {
            return Err(LoadError::invalid(
                path,
                "rope_scaling",
                format!(
                    "RoPE scaling of type {kind:?} is not supported (supported: {}; found {scaling})",
                    crate::trainer::config::SUPPORTED_ROPE_SCALING.join(", ")
                ),
            ));
        }
    }
    let mut config: LlamaConfig =
        serde_json::from_value(raw.clone()).map_err(|source| LoadError::Json { path: path.to_path_buf(), source })?;
    if raw.get("model_type").is_none() {
        let archs = raw.get("architectures").map(|a| a.to_string()).unwrap_or_default();
        config.model_type = if archs.contains("Qwen2") {
            "qwen2"
        } else if archs.contains("Mistral") {
            "mistral"
        } else {
            "llama"
        }
        .into();
    }
    // Sliding-window / rope-scaling variants change the maths; refuse rather than train wrong.
    if config.num_attention_heads == 0
        || !config.hidden_size.is_multiple_of(config.num_attention_heads) && config.head_dim.is_none()
    {
        return Err(LoadError::invalid(path, "num_attention_heads", "must divide hidden_size (or give head_dim)"));
    }
    if !config.num_attention_heads.is_multiple_of(config.num_kv_heads()) {
        return Err(LoadError::invalid(path, "num_key_value_heads", "must divide num_attention_heads"));
    }
    Ok(config)
}

/// `model.safetensors`, or the shards named by `model.safetensors.index.json`.
fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index_path = dir.join("model.safetensors.index.json");
    if !index_path.is_file() {
        return Err(LoadError::NotFound { path: single });
    }
    let index = read_json(&index_path)?;
    let map = index
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| LoadError::invalid(&index_path, "weight_map", "missing or not an object"))?;
    let mut shards: Vec<PathBuf> = Vec::new();
    for (tensor, file) in map {
        let file = file
            .as_str()
            .ok_or_else(|| LoadError::invalid(&index_path, &format!("weight_map.{tensor}"), "not a file name"))?;
        let shard = dir.join(file);
        if !shards.contains(&shard) {
            shards.push(shard);
        }
    }
    for shard in &shards {
        if !shard.is_file() {
            return Err(LoadError::NotFound { path: shard.clone() });
        }
    }
    shards.sort();
    Ok(shards)
}
