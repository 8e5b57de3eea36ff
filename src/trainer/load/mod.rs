//! Loading a Llama-family model for training: a Hugging Face folder (config.json +
//! safetensors + tokenizer.json) or a single GGUF file (dequantized, tokenizer rebuilt
//! from its metadata). Both end in the same [`LoadedModel`]: Hugging Face tensor names and
//! layouts, so the model code has one weight format to read. A `--model` that is a Hub id
//! (`owner/name[@revision]`) is first downloaded by [`resolve_model`] ([`hub`]).

mod gguf;
mod gguf_tokenizer;
mod hf;
pub mod hub;
mod tokenizer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use candle_core::{DType, Device, Tensor};

use super::config::LlamaConfig;
use super::model::{Nf4Weight, is_projection_weight};

pub use gguf::{permute_rope_rows, unpermute_rope_rows};
pub use gguf_tokenizer::SUPPORTED_PRE_TOKENIZERS;
pub use hub::{HubError, is_hub_id, resolve_model};
pub use tokenizer::TokenizerBundle;

/// Architectures whose decoder is the Llama block (RMSNorm, RoPE, SwiGLU, GQA).
pub const SUPPORTED_MODEL_TYPES: &[&str] = &["llama", "mistral", "qwen2"];

/// A model ready for the trainer: config, full-precision weights and tokenizer.
#[derive(Debug)]
pub struct LoadedModel {
    pub config: LlamaConfig,
    /// Hugging Face names (`model.layers.3.self_attn.q_proj.weight`…), HF shapes
    /// (Linear = `[out, in]`), in the requested dtype on the requested device.
    /// `lm_head.weight` is absent when the embeddings are tied. With [`LoadOptions::nf4`] the
    /// projection weights are not here but in `nf4`.
    pub weights: HashMap<String, Tensor>,
    /// The projections quantized to NF4 while loading (QLoRA), by Hugging Face name.
    pub nf4: HashMap<String, Nf4Weight>,
    /// The values [`LoadOptions::sample`] asked for.
    pub sample: Option<Vec<f32>>,
    pub tokenizer: TokenizerBundle,
    pub source: ModelSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModelFormat {
    HfFolder,
    Gguf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSource {
    pub path: PathBuf,
    pub format: ModelFormat,
    /// What adapter_config.json's `base_model_name_or_path` should say: `_name_or_path` from
    /// config.json, `general.source.huggingface.repository` of a GGUF, else the path.
    pub name_or_path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: not found")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: field `{field}` is {found:?}; supported: {supported}")]
    UnsupportedArchitecture { path: PathBuf, field: String, found: String, supported: String },
    #[error("{path}: {field}: {message}")]
    Invalid { path: PathBuf, field: String, message: String },
    #[error("{path}: missing tensor `{name}`")]
    MissingTensor { path: PathBuf, name: String },
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch { path: PathBuf, name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{path}: tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Candle { path: PathBuf, source: candle_core::Error },
    #[error("{path}: loading cancelled")]
    Cancelled { path: PathBuf },
}

impl LoadError {
    pub(crate) fn candle(path: &Path) -> impl FnOnce(candle_core::Error) -> LoadError + '_ {
        move |source| LoadError::Candle { path: path.to_path_buf(), source }
    }
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
        move |source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                LoadError::NotFound { path: path.to_path_buf() }
            } else {
                LoadError::Io { path: path.to_path_buf(), source }
            }
        }
    }
    pub(crate) fn invalid(path: &Path, field: &str, message: impl Into<String>) -> LoadError {
        LoadError::Invalid { path: path.to_path_buf(), field: field.to_string(), message: message.into() }
    }
}

/// How to load a model's weights.
#[derive(Debug, Clone)]
pub struct LoadOptions<'a> {
    pub device: Device,
    /// The compute dtype of every dense weight.
    pub dtype: DType,
    /// `Some(double_quant)`: quantize the seven projections to NF4 as they are read (QLoRA), so
    /// the whole model never exists in full precision.
    pub nf4: Option<bool>,
    /// Read between tensors: when set, loading stops with [`LoadError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Keep the first [`SAMPLE_LEN`] values of this tensor as the file has them (before any
    /// quantization), for a game to show what NF4 does to a real weight block.
    pub sample: Option<String>,
}

/// How many weights [`LoadOptions::sample`] keeps: 16 NF4 blocks.
pub const SAMPLE_LEN: usize = 1024;

impl LoadOptions<'_> {
    pub fn new(device: &Device, dtype: DType) -> Self {
        Self { device: device.clone(), dtype, nf4: None, cancel: None, sample: None }
    }
}

/// Loads a model from a Hugging Face folder or a `.gguf` file (decided by what `path` is).
pub fn load_model(path: &Path, device: &Device, dtype: DType) -> Result<LoadedModel, LoadError> {
    load_model_with(path, &LoadOptions::new(device, dtype))
}

/// [`load_model`] with options: NF4 quantization while loading, cancellation.
pub fn load_model_with(path: &Path, opts: &LoadOptions) -> Result<LoadedModel, LoadError> {
    if path.is_dir() {
        hf::load_hf_folder(path, opts)
    } else if path.is_file() {
        gguf::load_gguf(path, opts)
    } else {
        Err(LoadError::NotFound { path: path.to_path_buf() })
    }
}

/// Loads only the tokenizer (no weights): `tokenizer.json` + `tokenizer_config.json` of a
/// folder, or the `tokenizer.ggml.*` metadata of a GGUF.
pub fn load_tokenizer(path: &Path) -> Result<TokenizerBundle, LoadError> {
    if path.is_dir() {
        let config = hf::read_config(&path.join("config.json"))?;
        TokenizerBundle::from_hf_folder(path, &config)
    } else if path.is_file() {
        let gguf = gguf::open(path)?;
        gguf_tokenizer::tokenizer_from_metadata(path, &gguf.content.metadata)
    } else {
        Err(LoadError::NotFound { path: path.to_path_buf() })
    }
}

/// Reads only the architecture of a model (no weights): cheap, for UIs and memory estimates.
pub fn load_config(path: &Path) -> Result<LlamaConfig, LoadError> {
    if path.is_dir() {
        hf::read_config(&path.join("config.json"))
    } else if path.is_file() {
        gguf::read_gguf_config(path)
    } else {
        Err(LoadError::NotFound { path: path.to_path_buf() })
    }
}

/// Rejects architectures whose decoder is not a Llama block, naming the file and field.
pub(crate) fn check_model_type(path: &Path, field: &str, model_type: &str) -> Result<(), LoadError> {
    if SUPPORTED_MODEL_TYPES.contains(&model_type) {
        Ok(())
    } else {
        Err(LoadError::UnsupportedArchitecture {
            path: path.to_path_buf(),
            field: field.to_string(),
            found: model_type.to_string(),
            supported: SUPPORTED_MODEL_TYPES.join(", "),
        })
    }
}

/// File name of the real model used by the tests (SmolLM2-135M-Instruct, Q4_1 GGUF).
pub const TEST_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Where tests find the real model: `$LORA_ARCADE_GGUF`, else `models/<TEST_MODEL_FILE>` in
/// the crate root. `None` when absent (see [`crate::testing::prerequisite_missing`]: a
/// visible SKIPPED here, a failure under `scripts/test.sh`).
pub fn test_model_path() -> Option<PathBuf> {
    let candidate = match std::env::var_os("LORA_ARCADE_GGUF") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(TEST_MODEL_FILE),
    };
    if candidate.is_file() {
        return Some(candidate);
    }
    crate::testing::prerequisite_missing(&format!(
        "test model not found at {} — run scripts/fetch-model.sh (or set LORA_ARCADE_GGUF)",
        candidate.display()
    ));
    None
}

/// Dense weights and NF4 projections by Hugging Face name, and the sample, as loading leaves them.
pub(crate) type CollectedWeights = (HashMap<String, Tensor>, HashMap<String, Nf4Weight>, Option<Vec<f32>>);

/// Takes the tensors of a model file one at a time and keeps exactly those the decoder reads
/// (checking names and shapes): converted to the compute dtype on the device, or quantized to
/// NF4 right away. Extra tensors (rotary caches, a duplicate tied `lm_head`) are dropped.
pub(crate) struct WeightCollector<'a> {
    path: &'a Path,
    opts: &'a LoadOptions<'a>,
    expected: HashMap<String, Vec<usize>>,
    /// Every expected name, in the config's order (to name the first missing one).
    order: Vec<String>,
    dense: HashMap<String, Tensor>,
    nf4: HashMap<String, Nf4Weight>,
    sample: Option<Vec<f32>>,
    ignored: Vec<String>,
}

impl<'a> WeightCollector<'a> {
    pub(crate) fn new(path: &'a Path, config: &LlamaConfig, opts: &'a LoadOptions<'a>) -> Self {
        let shapes = config.weight_shapes();
        let order = shapes.iter().map(|(n, _)| n.clone()).collect();
        Self {
            path,
            opts,
            expected: shapes.into_iter().collect(),
            order,
            dense: HashMap::new(),
            nf4: HashMap::new(),
            sample: None,
            ignored: Vec::new(),
        }
    }

    /// Stops loading when the run was cancelled.
    pub(crate) fn check_cancel(&self) -> Result<(), LoadError> {
        match self.opts.cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
            true => Err(LoadError::Cancelled { path: self.path.to_path_buf() }),
            false => Ok(()),
        }
    }

    /// Whether the decoder reads `name` (the loaders skip reading anything else).
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.expected.contains_key(name)
    }

    pub(crate) fn accept(&mut self, name: String, tensor: Tensor) -> Result<(), LoadError> {
        let Some(shape) = self.expected.remove(&name) else {
            self.ignored.push(name);
            return Ok(());
        };
        if tensor.dims() != shape.as_slice() {
            return Err(LoadError::ShapeMismatch {
                path: self.path.to_path_buf(),
                name,
                found: tensor.dims().to_vec(),
                expected: shape,
            });
        }
        if self.opts.sample.as_deref() == Some(name.as_str()) {
            let values = tensor.flatten_all().and_then(|t| t.narrow(0, 0, t.elem_count().min(SAMPLE_LEN)));
            let values =
                values.and_then(|t| t.to_dtype(DType::F32)?.to_vec1()).map_err(LoadError::candle(self.path))?;
            self.sample = Some(values);
        }
        match self.opts.nf4 {
            Some(double_quant) if is_projection_weight(&name) => {
                let q = Nf4Weight::quantize(&tensor, double_quant).map_err(|e| {
                    LoadError::invalid(self.path, &name, format!("cannot quantize to NF4 for QLoRA: {e}"))
                })?;
                self.nf4.insert(name, q);
            }
            _ => {
                let t = tensor
                    .to_dtype(self.opts.dtype)
                    .and_then(|t| t.to_device(&self.opts.device))
                    .map_err(LoadError::candle(self.path))?;
                self.dense.insert(name, t);
            }
        }
        Ok(())
    }

    /// The loaded model: the weights collected, with the model's config, tokenizer and source.
    pub(crate) fn into_model(
        self,
        config: LlamaConfig,
        tokenizer: TokenizerBundle,
        source: ModelSource,
    ) -> Result<LoadedModel, LoadError> {
        let (weights, nf4, sample) = self.finish()?;
        Ok(LoadedModel { config, weights, nf4, sample, tokenizer, source })
    }

    /// The weights, once every expected one arrived.
    fn finish(self) -> Result<CollectedWeights, LoadError> {
        if let Some(missing) = self.order.iter().find(|n| self.expected.contains_key(*n)) {
            return Err(LoadError::MissingTensor { path: self.path.to_path_buf(), name: missing.clone() });
        }
        if !self.ignored.is_empty() {
            let mut ignored = self.ignored;
            ignored.sort();
            tracing::debug!(path = %self.path.display(), ?ignored, "ignoring tensors the decoder does not read");
        }
        Ok((self.dense, self.nf4, self.sample))
    }
}
