//! The API of a training run: its configuration, the events it reports, and a handle to start,
//! watch, cancel and join it. The CLI's `train` and the game's boss stage use only this; the
//! training itself is in [`crate::trainer::training`].
//!
//! ```no_run
//! use lora_arcade::trainer::run::{self, TrainConfig, TrainEvent};
//! let handle = run::start(TrainConfig::new("model.gguf", "data.jsonl", "out"));
//! for event in handle.events() {
//!     if let TrainEvent::Step(s) = &event { println!("{} {}", s.step, s.loss) }
//! }
//! let result = handle.join();
//! ```

use std::path::PathBuf;

use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

use crate::trainer::data::DataError;
use crate::trainer::defaults;
use crate::trainer::job::{Job, Panicked};
use crate::trainer::load::LoadError;
use crate::trainer::model::{LoraSettings, ModelError, Target};
use crate::trainer::optim::ScheduleKind;
use crate::trainer::out_dir::OutDirError;
use crate::trainer::peft::AdapterError;
use crate::trainer::tensorfile::TensorFileError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Lora,
    Qlora,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Cpu,
    Cuda,
    Metal,
}

impl DeviceKind {
    pub fn open(self) -> Result<Device, TrainError> {
        let (name, feature, built, opened) = match self {
            DeviceKind::Cpu => return Ok(Device::Cpu),
            DeviceKind::Cuda => ("CUDA", "cuda", cfg!(feature = "cuda"), Device::new_cuda(0)),
            DeviceKind::Metal => ("Metal", "metal", cfg!(feature = "metal"), Device::new_metal(0)),
        };
        // Built without the backend: say how to get it; built with it: the driver/device failed.
        opened.map_err(|e| {
            let hint = match built {
                true => format!("is a {name} device and its driver installed?"),
                false => format!("this build has no {name} support: rebuild with `--features {feature}`"),
            };
            TrainError::Config(format!("cannot use {name}: {e} ({hint})"))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDType {
    F32,
    Bf16,
}

impl ComputeDType {
    pub fn dtype(self) -> DType {
        match self {
            ComputeDType::F32 => DType::F32,
            ComputeDType::Bf16 => DType::BF16,
        }
    }
}

/// How long to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Duration {
    Steps(usize),
    Epochs(f64),
}

/// Everything a run needs. [`TrainConfig::new`] fills in [`crate::trainer::defaults`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub model: PathBuf,
    pub data: PathBuf,
    pub valid: Option<PathBuf>,
    pub out: PathBuf,
    /// LoRA on a base in the compute dtype, or QLoRA on a 4-bit NF4 base.
    pub method: Method,
    /// QLoRA: double-quantize the block absmax values (bitsandbytes' `compress_statistics`).
    pub double_quant: bool,
    pub lora: LoraSettings,
    pub duration: Duration,
    pub lr: f64,
    pub batch_size: usize,
    pub max_seq_len: usize,
    pub device: DeviceKind,
    pub dtype: ComputeDType,
    pub grad_accum: usize,
    pub max_grad_norm: Option<f64>,
    pub weight_decay: f64,
    pub schedule: ScheduleKind,
    pub warmup_steps: usize,
    /// Checkpoint every N optimizer steps (0 = never).
    pub save_every: usize,
    /// Keep only the newest N checkpoints of this run (0 = all).
    pub keep_checkpoints: usize,
    /// Validation loss every N steps when `valid` is set (and at the end).
    pub eval_every: usize,
    /// A checkpoint folder, or an output folder whose latest complete checkpoint is used.
    pub resume: Option<PathBuf>,
    /// Start from an existing PEFT adapter (`lora` must name its rank, α, targets and scaling).
    pub init_adapter: Option<PathBuf>,
    pub seed: u64,
    pub shuffle: bool,
    pub train_on_prompt: bool,
    /// A system message for chat examples without one (see [`crate::trainer::data::DataOptions`]).
    pub system_prompt: Option<String>,
    /// Send the A/B values of this adapter every `snapshot_every` steps (0 = never).
    pub snapshot: Option<(usize, Target)>,
    pub snapshot_every: usize,
    /// Compute threads for the training kernels (`None`: every core).
    pub threads: Option<usize>,
}

impl TrainConfig {
    pub fn new(model: impl Into<PathBuf>, data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            data: data.into(),
            valid: None,
            out: out.into(),
            method: Method::Lora,
            double_quant: true,
            lora: LoraSettings::default(),
            duration: Duration::Epochs(defaults::EPOCHS),
            lr: defaults::LEARNING_RATE,
            batch_size: defaults::BATCH_SIZE,
            max_seq_len: defaults::MAX_SEQ_LEN,
            device: DeviceKind::Cpu,
            dtype: ComputeDType::F32,
            grad_accum: defaults::GRAD_ACCUM,
            max_grad_norm: Some(defaults::MAX_GRAD_NORM),
            weight_decay: defaults::WEIGHT_DECAY,
            schedule: defaults::SCHEDULE,
            warmup_steps: defaults::WARMUP_STEPS,
            save_every: defaults::SAVE_EVERY,
            keep_checkpoints: defaults::KEEP_CHECKPOINTS,
            eval_every: defaults::EVAL_EVERY,
            resume: None,
            init_adapter: None,
            seed: defaults::SEED,
            shuffle: true,
            train_on_prompt: false,
            system_prompt: None,
            snapshot: Some((0, Target::Q)),
            snapshot_every: 1,
            threads: None,
        }
    }

    /// Refuses settings no run can use, naming the option.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Config(m));
        if self.batch_size == 0 || self.grad_accum == 0 || self.max_seq_len < 2 {
            return bad(format!(
                "batch ({}), grad-accum ({}) must be ≥ 1 and seq ({}) ≥ 2",
                self.batch_size, self.grad_accum, self.max_seq_len
            ));
        }
        if !self.lr.is_finite() || self.lr <= 0.0 {
            return bad(format!("learning rate must be a positive number, got {}", self.lr));
        }
        if !(0.0..1.0).contains(&self.lora.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.lora.dropout));
        }
        if self.lora.rank == 0 {
            return bad("rank must be at least 1".into());
        }
        if !self.lora.alpha.is_finite() || self.lora.alpha <= 0.0 {
            return bad(format!("alpha must be a positive number, got {}", self.lora.alpha));
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return bad(format!("weight decay must be a number ≥ 0, got {}", self.weight_decay));
        }
        match self.duration {
            Duration::Steps(0) => return bad("--steps must be at least 1".into()),
            Duration::Epochs(e) if !e.is_finite() || e <= 0.0 => {
                return bad(format!("--epochs must be positive, got {e}"));
            }
            _ => {}
        }
        if self.max_grad_norm.is_some_and(|n| !n.is_finite() || n <= 0.0) {
            return bad("--max-grad-norm must be positive".into());
        }
        Ok(())
    }
}

/// The first weights of the watched projection's base as the model file has them (before any
/// 4-bit quantization): what the game's NF4 view quantizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightSample {
    pub layer: usize,
    pub module: Target,
    pub values: Vec<f32>,
}

/// The A and B matrices of one adapter at some step (row-major).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoraSnapshot {
    pub layer: usize,
    pub module: Target,
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    /// `[r, in]`
    pub a_shape: (usize, usize),
    /// `[out, r]`
    pub b_shape: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStats {
    /// 1-based optimizer step just finished.
    pub step: usize,
    pub total_steps: usize,
    /// Mean training loss of this step's batch(es).
    pub loss: f64,
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Real (non-padding) tokens per second in this step.
    pub tokens_per_s: f64,
    /// Resident memory of the process (bytes).
    pub memory_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<LoraSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadedInfo {
    pub model: String,
    pub method: Method,
    pub layers: usize,
    /// Bytes held by the projections' frozen weights and how many weights those are (QLoRA's
    /// NF4 holds about 0.52 bytes a weight, f32 holds 4).
    pub projection_bytes: usize,
    pub projection_weights: usize,
    pub trainable_params: usize,
    pub base_params: usize,
    pub train_examples: usize,
    pub valid_examples: usize,
    /// Steps already done (resume), and the total.
    pub start_step: usize,
    pub total_steps: usize,
    /// The base weights of the projection [`TrainConfig::snapshot`] watches.
    #[serde(skip)]
    pub weight_sample: Option<WeightSample>,
}

/// What a run reports, in order: `Loaded`, then per step `Step` (with `Eval` and `Checkpoint`
/// where due), then `Finished` or `Failed`. Serialises as one JSON object tagged by `event`
/// (`train --json` prints one a line).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TrainEvent {
    /// A file of a Hub model arriving (`--model owner/name`): bytes so far, and the size when known.
    Downloading {
        file: String,
        bytes: u64,
        total: Option<u64>,
    },
    Loaded(LoadedInfo),
    Step(StepStats),
    Eval {
        step: usize,
        loss: f64,
        perplexity: f64,
    },
    Checkpoint {
        step: usize,
        dir: PathBuf,
    },
    Finished(RunResult),
    /// The run stopped with an error (also returned by [`RunHandle::join`]).
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResult {
    pub steps_done: usize,
    pub total_steps: usize,
    pub final_loss: Option<f64>,
    pub final_valid_loss: Option<f64>,
    /// Where the final adapter was written (the output folder).
    pub adapter_dir: PathBuf,
    pub cancelled: bool,
    /// Mean tokens/s over the run's steps.
    pub tokens_per_s: f64,
    /// Seconds spent in the training steps (loading and evaluation aside).
    pub train_seconds: f64,
    /// Peak resident memory of the process (bytes).
    pub peak_memory_bytes: u64,
    /// Every step's training loss (the events carry them one by one).
    #[serde(skip)]
    pub losses: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    #[error(transparent)]
    File(#[from] TensorFileError),
    #[error(transparent)]
    Out(#[from] OutDirError),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("training: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("the run was cancelled before its first step")]
    Cancelled,
    #[error(
        "step {step}: the {what} is {value}, so training stopped before updating the adapter (the last \
         checkpoint and the adapter already saved are kept); try a lower learning rate, or gradient clipping"
    )]
    NonFinite { step: usize, what: &'static str, value: f64 },
    #[error(
        "the {device} ran out of memory ({detail}). This run asked for {batch} sequences of up to {seq} tokens \
         a step on a {method} base; try --method qlora (a 4-bit base), a smaller --batch (with --grad-accum to \
         keep the effective batch), or a shorter --seq"
    )]
    OutOfMemory { device: String, detail: String, method: String, batch: usize, seq: usize },
    #[error("the training thread panicked")]
    Panicked,
}

impl TrainError {
    /// A device allocation failure reads as what it is, with what to try, instead of a driver
    /// error code.
    pub fn explain_out_of_memory(self, cfg: &TrainConfig) -> TrainError {
        let detail = match &self {
            TrainError::Candle(e) => e.to_string(),
            _ => return self,
        };
        let lower = detail.to_lowercase();
        if !(lower.contains("out of memory") || lower.contains("out_of_memory") || lower.contains("oom")) {
            return self;
        }
        TrainError::OutOfMemory {
            device: match cfg.device {
                DeviceKind::Cuda => "CUDA GPU",
                DeviceKind::Metal => "Metal GPU",
                DeviceKind::Cpu => "machine",
            }
            .into(),
            detail,
            method: format!("{:?}", cfg.method).to_lowercase(),
            batch: cfg.batch_size,
            seq: cfg.max_seq_len,
        }
    }
}

/// A running training job (see [`Job`]): its events, cancel (during loading at the next tensor,
/// during training after the current step — the adapter trained so far is still saved), result.
pub type RunHandle = Job<TrainEvent, RunResult, TrainError>;

impl Panicked for TrainError {
    fn panicked() -> Self {
        TrainError::Panicked
    }
}

/// Starts a run on its own thread.
pub fn start(cfg: TrainConfig) -> RunHandle {
    Job::spawn("lora-train", move |tx, cancel| {
        let result = crate::trainer::training::train(&cfg, tx, cancel);
        let last = match &result {
            Ok(r) => TrainEvent::Finished(r.clone()),
            Err(e) => TrainEvent::Failed { message: e.to_string() },
        };
        let _ = tx.send(last);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_can_live_in_a_game_resource() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<RunHandle>();
    }

    #[test]
    fn a_device_out_of_memory_says_what_to_try() {
        let mut cfg = TrainConfig::new("m", "d", "o");
        cfg.device = DeviceKind::Cuda;
        let driver = candle_core::Error::Msg("DriverError(CUDA_ERROR_OUT_OF_MEMORY, \"out of memory\")".into());
        let e = TrainError::Candle(driver).explain_out_of_memory(&cfg).to_string();
        assert!(e.starts_with("the CUDA GPU ran out of memory"), "{e}");
        assert!(e.contains("--method qlora") && e.contains("--batch") && e.contains("--seq"), "{e}");
        let other = TrainError::Candle(candle_core::Error::Msg("shape mismatch".into())).explain_out_of_memory(&cfg);
        assert!(matches!(other, TrainError::Candle(_)));
    }

    #[test]
    fn events_serialise_tagged_by_kind() {
        let e = TrainEvent::Eval { step: 3, loss: 1.5, perplexity: 1.5f64.exp() };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "eval");
        assert_eq!(v["step"], 3);
        let f = serde_json::to_value(TrainEvent::Failed { message: "boom".into() }).unwrap();
        assert_eq!(f, serde_json::json!({"event": "failed", "message": "boom"}));
    }
}
