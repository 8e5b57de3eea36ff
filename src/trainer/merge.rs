//! Base + adapter → a full-precision Hugging Face folder (`W' = W + s·B·A`). Merging into a
//! quantized base would re-quantize and change the outputs, so the base is always loaded in
//! f32 (a GGUF base is dequantized first) and the result is written in f32.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};

use crate::trainer::load::load_model;
use crate::trainer::model::LlamaModel;
use crate::trainer::peft;
use crate::trainer::run::TrainError;
use crate::trainer::tensorfile;

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeReport {
    pub out_dir: PathBuf,
    pub tensors: usize,
    pub merged_projections: usize,
    /// The adapter was trained on a 4-bit base (QLoRA) and was merged into the full-precision
    /// weights all the same (re-quantizing a merged 4-bit base would change its outputs).
    pub trained_on_quantized_base: bool,
}

/// The files a merge writes.
pub const MERGE_FILES: [&str; 4] = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];

/// Merges `adapter_dir` into the base at `model_path`, writing [`MERGE_FILES`] to `out_dir`.
/// `out_dir` may not be (or hold) the base or the adapter; a folder holding anything but those
/// files is refused unless `force` (then only those files are replaced).
pub fn merge_adapter(
    model_path: &Path,
    adapter_dir: &Path,
    out_dir: &Path,
    force: bool,
) -> Result<MergeReport, TrainError> {
    crate::trainer::out_dir::prepare_merge_out(
        out_dir,
        &[("--model", model_path), ("--adapter", adapter_dir)],
        &MERGE_FILES,
        force,
    )?;
    let device = Device::Cpu;
    let loaded = load_model(model_path, &device, DType::F32)?;
    let (adapter, tensors) = peft::read_adapter(adapter_dir, &device)?;
    let mut model = LlamaModel::new(&loaded.config, loaded.weights, DType::F32, &device, Some(&adapter.settings), 0)?;
    peft::apply_adapter(&mut model, &tensors, adapter_dir)?;
    let weights = model.merged_weights()?;
    let io = |e: std::io::Error| TrainError::Config(format!("{}: {e}", out_dir.display()));
    std::fs::create_dir_all(out_dir).map_err(io)?;
    tensorfile::save_f32(
        &out_dir.join("model.safetensors"),
        &weights,
        Some([("format".to_string(), "pt".to_string())].into()),
    )?;

    let mut config = loaded.config.to_hf_json();
    config["architectures"] = serde_json::json!([match loaded.config.model_type.as_str() {
        "qwen2" => "Qwen2ForCausalLM",
        "mistral" => "MistralForCausalLM",
        _ => "LlamaForCausalLM",
    }]);
    config["torch_dtype"] = serde_json::json!("float32");
    config["tie_word_embeddings"] = serde_json::json!(!weights.iter().any(|(n, _)| n == "lm_head.weight"));
    if let Some(bos) = loaded.tokenizer.bos_id {
        config["bos_token_id"] = serde_json::json!(bos);
    }
    if !loaded.tokenizer.eos_ids.is_empty() {
        config["eos_token_id"] = serde_json::json!(loaded.tokenizer.eos_ids);
    }
    let text = serde_json::to_string_pretty(&config).expect("JSON");
    tensorfile::write_atomic(&out_dir.join("config.json"), text.as_bytes())?;

    let tok = &loaded.tokenizer;
    tok.tokenizer
        .save(out_dir.join("tokenizer.json"), false)
        .map_err(|e| TrainError::Config(format!("{}: writing tokenizer.json: {e}", out_dir.display())))?;
    let name = |id: Option<u32>| id.and_then(|i| tok.token_text(i));
    let mut tok_config = serde_json::json!({
        "bos_token": name(tok.bos_id),
        "eos_token": name(tok.eos_ids.first().copied()),
        "pad_token": name(tok.pad_id),
        "add_bos_token": tok.add_bos,
    });
    if let Some(t) = &tok.chat_template {
        tok_config["chat_template"] = serde_json::json!(t);
    }
    let text = serde_json::to_string_pretty(&tok_config).expect("JSON");
    tensorfile::write_atomic(&out_dir.join("tokenizer_config.json"), text.as_bytes())?;
    Ok(MergeReport {
        out_dir: out_dir.to_path_buf(),
        tensors: weights.len(),
        merged_projections: model.adapters().len(),
        trained_on_quantized_base: adapter.trained_on_quantized_base.is_some(),
    })
}
