//! PEFT-compatible adapter files: `adapter_config.json` + `adapter_model.safetensors`
//! (what peft, vLLM and llama.cpp's convert_lora_to_gguf.py read), out and back in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use serde_json::{Map, Value, json};

use crate::trainer::model::{LlamaModel, LoraSettings, Target};
use crate::trainer::tensorfile::{self, TensorFileError};

pub const CONFIG_FILE: &str = "adapter_config.json";
pub const WEIGHTS_FILE: &str = "adapter_model.safetensors";

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    File(#[from] TensorFileError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The fields of `adapter_config.json` the trainer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterConfig {
    pub settings: LoraSettings,
    pub base_model_name_or_path: Option<String>,
    /// `Some("nf4")` when the adapter was trained on a 4-bit base (QLoRA): read from the weights
    /// file's metadata, which PEFT ignores.
    pub trained_on_quantized_base: Option<String>,
}

/// The weights file's metadata key naming the base's quantization (QLoRA).
pub const BASE_QUANTIZATION_KEY: &str = "lora_arcade.base_quantization";

/// `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight`.
pub fn tensor_key(layer: usize, target: Target, which: char) -> String {
    format!("base_model.model.{}.lora_{which}.weight", target.path(layer))
}

/// The JSON PEFT writes (sorted keys: serde_json's map is ordered).
pub fn config_json(settings: &LoraSettings, base_model_name_or_path: Option<&str>) -> Value {
    let alpha = if settings.alpha.fract() == 0.0 && settings.alpha.abs() < 1e15 {
        json!(settings.alpha as i64)
    } else {
        json!(settings.alpha)
    };
    let mut targets: Vec<&str> = settings.targets.iter().map(|t| t.module_name()).collect();
    targets.sort();
    let mut m = Map::new();
    m.insert("base_model_name_or_path".into(), json!(base_model_name_or_path));
    m.insert("bias".into(), json!("none"));
    m.insert("fan_in_fan_out".into(), json!(false));
    m.insert("inference_mode".into(), json!(true));
    m.insert("init_lora_weights".into(), json!(true));
    m.insert("lora_alpha".into(), alpha);
    // Through the f32's shortest decimal form, so 0.05 is written 0.05, not 0.0500000007.
    let dropout: f64 = settings.dropout.to_string().parse().unwrap_or(settings.dropout as f64);
    m.insert("lora_dropout".into(), json!(dropout));
    m.insert("modules_to_save".into(), Value::Null);
    m.insert("peft_type".into(), json!("LORA"));
    m.insert("r".into(), json!(settings.rank));
    m.insert("target_modules".into(), json!(targets));
    m.insert("task_type".into(), json!("CAUSAL_LM"));
    m.insert("use_dora".into(), json!(false));
    m.insert("use_rslora".into(), json!(settings.use_rslora));
    Value::Object(m)
}

/// Writes the model's adapters to `dir` (created if needed); each file atomically.
pub fn save_adapter(model: &LlamaModel, dir: &Path, base_model_name_or_path: Option<&str>) -> Result<(), AdapterError> {
    let settings = model.lora.as_ref().ok_or_else(|| AdapterError::Invalid {
        path: dir.to_path_buf(),
        message: "the model has no LoRA adapters to save".into(),
    })?;
    std::fs::create_dir_all(dir).map_err(|source| AdapterError::Io { path: dir.to_path_buf(), source })?;
    let mut tensors = Vec::new();
    for (layer, target, adapter) in model.adapters() {
        tensors.push((tensor_key(layer, target, 'A'), adapter.a.as_tensor().clone()));
        tensors.push((tensor_key(layer, target, 'B'), adapter.b.as_tensor().clone()));
    }
    let mut metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    if model.base_is_quantized() {
        metadata.insert(BASE_QUANTIZATION_KEY.to_string(), "nf4".to_string());
    }
    tensorfile::save_f32(&dir.join(WEIGHTS_FILE), &tensors, Some(metadata))?;
    let text = serde_json::to_string_pretty(&config_json(settings, base_model_name_or_path)).expect("JSON value");
    tensorfile::write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())?;
    Ok(())
}

/// Reads `adapter_config.json` (PEFT's own, with its many extra fields, is fine).
pub fn read_config(dir: &Path) -> Result<AdapterConfig, AdapterError> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| AdapterError::Io { path: path.clone(), source })?;
    let invalid = |message: String| AdapterError::Invalid { path: path.clone(), message };
    let v: Value = serde_json::from_str(&text).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
    let field = |name: &str| v.get(name).filter(|x| !x.is_null());
    match field("peft_type").and_then(Value::as_str) {
        Some("LORA") => {}
        other => return Err(invalid(format!("peft_type is {other:?}, only \"LORA\" is supported"))),
    }
    if field("use_dora").and_then(Value::as_bool) == Some(true) {
        return Err(invalid("DoRA adapters (use_dora: true) are not supported".into()));
    }
    let rank = field("r")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("field `r` must be a positive integer".into()))? as usize;
    let alpha = field("lora_alpha")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid("field `lora_alpha` must be a number".into()))?;
    let dropout = field("lora_dropout").and_then(Value::as_f64).unwrap_or(0.0) as f32;
    let targets = match field("target_modules") {
        Some(Value::Array(items)) => {
            let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            Target::parse_list(&names.join(",")).map_err(|e| invalid(format!("target_modules: {e}")))?
        }
        Some(Value::String(s)) if s == "all-linear" => Target::ALL.to_vec(),
        other => {
            return Err(invalid(format!("target_modules must be a list of module names, found {other:?}")));
        }
    };
    Ok(AdapterConfig {
        settings: LoraSettings {
            rank,
            alpha,
            dropout,
            targets,
            use_rslora: field("use_rslora").and_then(Value::as_bool).unwrap_or(false),
        },
        base_model_name_or_path: field("base_model_name_or_path").and_then(Value::as_str).map(str::to_string),
        trained_on_quantized_base: None,
    })
}

/// Reads an adapter folder: config and tensors (on the model's device).
pub fn read_adapter(
    dir: &Path,
    device: &candle_core::Device,
) -> Result<(AdapterConfig, HashMap<String, Tensor>), AdapterError> {
    let mut config = read_config(dir)?;
    let (tensors, metadata) = tensorfile::load(&dir.join(WEIGHTS_FILE), device)?;
    config.trained_on_quantized_base = metadata.get(BASE_QUANTIZATION_KEY).cloned();
    Ok((config, tensors))
}

/// Copies adapter tensors into the model's LoRA variables, checking that every adapter of
/// the model is present with the right shape and that no tensor is left over.
pub fn apply_adapter(
    model: &mut LlamaModel,
    tensors: &HashMap<String, Tensor>,
    source: &Path,
) -> Result<(), AdapterError> {
    let invalid = |message: String| AdapterError::Invalid { path: source.join(WEIGHTS_FILE), message };
    let mut used = 0;
    for (layer, target, adapter) in model.adapters_mut() {
        for (which, var) in [('A', &adapter.a), ('B', &adapter.b)] {
            let key = tensor_key(layer, target, which);
            let t = tensors.get(&key).ok_or_else(|| invalid(format!("missing tensor `{key}`")))?;
            if t.dims() != var.dims() {
                return Err(invalid(format!("`{key}` has shape {:?}, the model expects {:?}", t.dims(), var.dims())));
            }
            var.set(&t.to_dtype(DType::F32)?.to_device(var.device())?)?;
            used += 1;
        }
    }
    if used != tensors.len() {
        let expected: std::collections::HashSet<String> =
            model.adapters().iter().flat_map(|(l, t, _)| [tensor_key(*l, *t, 'A'), tensor_key(*l, *t, 'B')]).collect();
        let extra: Vec<&String> = tensors.keys().filter(|k| !expected.contains(*k)).take(3).collect();
        return Err(invalid(format!("unexpected tensors (targets or layer count differ?): {extra:?}")));
    }
    Ok(())
}
