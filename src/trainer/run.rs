//! The training run: load, train on a thread, report events over a channel, checkpoint,
//! resume exactly, cancel. This is the API the game's boss stage (and the CLI) use.
//!
//! ```no_run
//! use lora_arcade::trainer::run::{self, TrainConfig, TrainEvent};
//! let handle = run::start(TrainConfig::new("model.gguf", "data.jsonl", "out"));
//! for event in handle.events.iter() {
//!     if let TrainEvent::Step(s) = &event { println!("{} {}", s.step, s.loss) }
//! }
//! let result = handle.join();
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use rand::{SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use crate::trainer::data::{Batcher, BatcherState, DataError, DataOptions, Example, load_jsonl};
use crate::trainer::eval::evaluate;
use crate::trainer::load::{LoadError, load_model};
use crate::trainer::loss::causal_lm_loss;
use crate::trainer::model::{ForwardMode, LlamaModel, LoraSettings, ModelError, Target};
use crate::trainer::optim::{AdamW, AdamWConfig, LrSchedule, ScheduleKind, clip_grad_norm, global_norm};
use crate::trainer::peft::{self, AdapterError};
use crate::trainer::tensorfile::{self, TensorFileError};

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
        // Built without the backend: say how to get it; built with it: the driver/device failed.
        let unavailable = |name: &str, feature: &str, built: bool, e: candle_core::Error| {
            let hint = if built {
                format!("is a {name} device and its driver installed?")
            } else {
                format!("this build has no {name} support: rebuild with `--features {feature}`")
            };
            TrainError::Config(format!("cannot use {name}: {e} ({hint})"))
        };
        match self {
            DeviceKind::Cpu => Ok(Device::Cpu),
            DeviceKind::Cuda => Device::new_cuda(0).map_err(|e| unavailable("CUDA", "cuda", cfg!(feature = "cuda"), e)),
            DeviceKind::Metal => {
                Device::new_metal(0).map_err(|e| unavailable("Metal", "metal", cfg!(feature = "metal"), e))
            }
        }
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

/// Everything a run needs. [`TrainConfig::new`] gives sensible defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub model: PathBuf,
    pub data: PathBuf,
    pub valid: Option<PathBuf>,
    pub out: PathBuf,
    pub method: Method,
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
    /// Validation loss every N steps when `valid` is set (and at the end).
    pub eval_every: usize,
    /// A checkpoint folder, or an output folder whose latest complete checkpoint is used.
    pub resume: Option<PathBuf>,
    /// Start from an existing PEFT adapter (its rank/alpha/targets replace `lora`).
    pub init_adapter: Option<PathBuf>,
    pub seed: u64,
    pub shuffle: bool,
    pub train_on_prompt: bool,
    /// Send the A/B values of this adapter every `snapshot_every` steps (0 = never).
    pub snapshot: Option<(usize, Target)>,
    pub snapshot_every: usize,
}

impl TrainConfig {
    pub fn new(model: impl Into<PathBuf>, data: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            data: data.into(),
            valid: None,
            out: out.into(),
            method: Method::Lora,
            lora: LoraSettings::default(),
            duration: Duration::Steps(100),
            lr: 2e-4,
            batch_size: 4,
            max_seq_len: 512,
            device: DeviceKind::Cpu,
            dtype: ComputeDType::F32,
            grad_accum: 1,
            max_grad_norm: Some(1.0),
            weight_decay: 0.0,
            schedule: ScheduleKind::Linear,
            warmup_steps: 0,
            save_every: 0,
            eval_every: 50,
            resume: None,
            init_adapter: None,
            seed: 42,
            shuffle: true,
            train_on_prompt: false,
            snapshot: Some((0, Target::Q)),
            snapshot_every: 1,
        }
    }
}

/// The A and B matrices of one adapter at some step (row-major).
#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
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
    pub snapshot: Option<LoraSnapshot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadedInfo {
    pub model: String,
    pub layers: usize,
    pub trainable_params: usize,
    pub base_params: usize,
    pub train_examples: usize,
    pub valid_examples: usize,
    /// Steps already done (resume), and the total.
    pub start_step: usize,
    pub total_steps: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    Loaded(LoadedInfo),
    Step(StepStats),
    Eval {
        step: usize,
        loss: f64,
    },
    Checkpoint {
        step: usize,
        dir: PathBuf,
    },
    Finished(RunResult),
    /// The run stopped with an error (also returned by [`RunHandle::join`]).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
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
    /// Peak resident memory of the process (bytes).
    pub peak_memory_bytes: u64,
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
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("training: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("the training thread panicked")]
    Panicked,
}

/// A running training job.
pub struct RunHandle {
    pub events: Receiver<TrainEvent>,
    cancel: Arc<AtomicBool>,
    thread: JoinHandle<Result<RunResult, TrainError>>,
}

impl RunHandle {
    /// Asks the run to stop after the current step; it still saves the adapter.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    pub fn join(self) -> Result<RunResult, TrainError> {
        self.thread.join().unwrap_or(Err(TrainError::Panicked))
    }
}

/// Starts a run on its own thread.
pub fn start(cfg: TrainConfig) -> RunHandle {
    let (tx, rx) = channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let thread = std::thread::Builder::new()
        .name("lora-train".into())
        .spawn(move || {
            let result = train(&cfg, &tx, &flag);
            // The game keeps running after the boss fight: give back the loss's vocabulary buffer.
            crate::trainer::model::fused_head::release_buffers();
            match &result {
                Ok(r) => drop(tx.send(TrainEvent::Finished(r.clone()))),
                Err(e) => drop(tx.send(TrainEvent::Failed(e.to_string()))),
            }
            result
        })
        .expect("spawning the training thread");
    RunHandle {
        events: rx,
        cancel,
        thread,
    }
}

/// What a checkpoint records besides the adapter and the optimizer moments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps completed.
    pub step: usize,
    pub total_steps: usize,
    pub batcher: BatcherState,
    /// Dropout masks are drawn from `StdRng(mix(seed, step, micro_batch))`, so (seed, step)
    /// is the whole RNG state.
    pub seed: u64,
    pub batch_size: usize,
    pub grad_accum: usize,
    pub shuffle: bool,
    pub schedule: LrSchedule,
    pub losses: Vec<f64>,
}

pub const STATE_FILE: &str = "trainer_state.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";

fn checkpoint_error(path: &Path, message: impl Into<String>) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a complete checkpoint's state, or says why it is not one.
pub fn read_checkpoint_state(dir: &Path) -> Result<TrainerState, TrainError> {
    for f in [STATE_FILE, OPTIMIZER_FILE, peft::CONFIG_FILE, peft::WEIGHTS_FILE] {
        if !dir.join(f).is_file() {
            return Err(checkpoint_error(dir, format!("incomplete: `{f}` is missing")));
        }
    }
    let text = std::fs::read_to_string(dir.join(STATE_FILE)).map_err(|e| checkpoint_error(dir, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| checkpoint_error(dir, format!("{STATE_FILE}: {e}")))
}

/// `dir` itself if it is a complete checkpoint, else its complete `checkpoint-N` with the
/// largest N (partial `.checkpoint-N.partial` folders and incomplete ones are skipped).
pub fn find_checkpoint(dir: &Path) -> Result<PathBuf, TrainError> {
    if dir.join(STATE_FILE).exists() {
        read_checkpoint_state(dir)?;
        return Ok(dir.to_path_buf());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| checkpoint_error(dir, e.to_string()))?;
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(n) = name.strip_prefix("checkpoint-").and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        let path = entry.path();
        match read_checkpoint_state(&path) {
            Ok(_) if best.as_ref().is_none_or(|(b, _)| n > *b) => best = Some((n, path)),
            Ok(_) => {}
            Err(e) => tracing::warn!("skipping {}: {e}", path.display()),
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| checkpoint_error(dir, "no complete checkpoint-N folder found"))
}

fn write_checkpoint(
    out: &Path,
    model: &LlamaModel,
    opt: &AdamW,
    state: &TrainerState,
    base_name: &str,
) -> Result<PathBuf, TrainError> {
    let final_dir = out.join(format!("checkpoint-{}", state.step));
    let partial = out.join(format!(".checkpoint-{}.partial", state.step));
    let io = |p: &Path, e: std::io::Error| checkpoint_error(p, e.to_string());
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| io(&partial, e))?;
    peft::save_adapter(model, &partial, Some(base_name))?;
    opt.save(&partial.join(OPTIMIZER_FILE))?;
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    tensorfile::write_atomic(&partial.join(STATE_FILE), text.as_bytes())?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(|e| io(&final_dir, e))?;
    }
    // The folder appears under its final name only once everything in it is written.
    std::fs::rename(&partial, &final_dir).map_err(|e| io(&final_dir, e))?;
    Ok(final_dir)
}

/// Seed of the dropout RNG for one micro-batch (splitmix64 of seed, step, micro-batch).
fn micro_batch_seed(seed: u64, step: usize, micro: usize) -> u64 {
    let mut z =
        seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (micro as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// (current, peak) resident memory of this process in bytes; zeros where unknown.
pub fn process_memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn validate(cfg: &TrainConfig) -> Result<(), TrainError> {
    let bad = |m: String| Err(TrainError::Config(m));
    if cfg.method == Method::Qlora {
        return bad("--method qlora is not available yet in this build; use --method lora".into());
    }
    if cfg.batch_size == 0 || cfg.grad_accum == 0 || cfg.max_seq_len < 2 {
        return bad(format!(
            "batch ({}), grad-accum ({}) must be ≥ 1 and seq ({}) ≥ 2",
            cfg.batch_size, cfg.grad_accum, cfg.max_seq_len
        ));
    }
    if !cfg.lr.is_finite() || cfg.lr <= 0.0 {
        return bad(format!("learning rate must be a positive number, got {}", cfg.lr));
    }
    if !(0.0..1.0).contains(&cfg.lora.dropout) {
        return bad(format!("dropout must be in [0, 1), got {}", cfg.lora.dropout));
    }
    if cfg.lora.rank == 0 {
        return bad("rank must be at least 1".into());
    }
    match cfg.duration {
        Duration::Steps(0) => return bad("--steps must be at least 1".into()),
        Duration::Epochs(e) if !e.is_finite() || e <= 0.0 => return bad(format!("--epochs must be positive, got {e}")),
        _ => {}
    }
    if cfg.max_grad_norm.is_some_and(|n| n.is_nan() || n <= 0.0) {
        return bad("--max-grad-norm must be positive".into());
    }
    Ok(())
}

fn train(cfg: &TrainConfig, tx: &Sender<TrainEvent>, cancel: &AtomicBool) -> Result<RunResult, TrainError> {
    validate(cfg)?;
    let device = cfg.device.open()?;
    let dtype = cfg.dtype.dtype();
    let loaded = load_model(&cfg.model, &device, dtype)?;
    let opts = DataOptions {
        train_on_prompt: cfg.train_on_prompt,
        max_seq_len: cfg.max_seq_len,
    };
    let train_examples = load_jsonl(&cfg.data, &loaded.tokenizer, &opts)?;
    let valid_examples: Vec<Example> = match &cfg.valid {
        Some(p) => load_jsonl(p, &loaded.tokenizer, &opts)?,
        None => Vec::new(),
    };
    let pad_id = loaded.tokenizer.padding_id();
    let base_name = loaded.source.name_or_path.clone();

    let resume = match &cfg.resume {
        Some(dir) => {
            let ckpt = find_checkpoint(dir)?;
            let state = read_checkpoint_state(&ckpt)?;
            if state.batch_size != cfg.batch_size || state.grad_accum != cfg.grad_accum || state.shuffle != cfg.shuffle
            {
                return Err(checkpoint_error(
                    &ckpt,
                    format!(
                        "saved with batch {} / grad-accum {} / shuffle {}; resume with the same settings",
                        state.batch_size, state.grad_accum, state.shuffle
                    ),
                ));
            }
            Some((ckpt, state))
        }
        None => None,
    };
    let adapter_source = resume.as_ref().map(|(p, _)| p.clone()).or(cfg.init_adapter.clone());
    let (settings, adapter_tensors) = match &adapter_source {
        Some(dir) => {
            let (config, tensors) = peft::read_adapter(dir, &device)?;
            let mut settings = config.settings;
            settings.dropout = if resume.is_some() {
                settings.dropout
            } else {
                cfg.lora.dropout
            };
            (settings, Some((dir.clone(), tensors)))
        }
        None => (cfg.lora.clone(), None),
    };
    let seed = resume.as_ref().map_or(cfg.seed, |(_, s)| s.seed);
    let mut model = LlamaModel::new(&loaded.config, loaded.weights, dtype, &device, Some(&settings), seed)?;
    if let Some((dir, tensors)) = &adapter_tensors {
        peft::apply_adapter(&mut model, tensors, dir)?;
    }

    let mut batcher = match &resume {
        Some((_, s)) => Batcher::resume(train_examples, cfg.batch_size, pad_id, cfg.shuffle, s.batcher)?,
        None => Batcher::new(train_examples, cfg.batch_size, pad_id, cfg.shuffle, seed)?,
    };
    let total_steps = match cfg.duration {
        Duration::Steps(n) => n,
        Duration::Epochs(e) => ((e * batcher.batches_per_epoch() as f64) / cfg.grad_accum as f64)
            .ceil()
            .max(1.0) as usize,
    };
    let schedule = LrSchedule {
        kind: cfg.schedule,
        base_lr: cfg.lr,
        warmup_steps: cfg.warmup_steps,
        total_steps,
    };
    let adam = AdamWConfig {
        weight_decay: cfg.weight_decay,
        ..Default::default()
    };
    let mut opt = AdamW::new(model.trainable_vars(), adam)?;
    let (start_step, mut losses) = match &resume {
        Some((ckpt, s)) => {
            opt.load(&ckpt.join(OPTIMIZER_FILE), s.step)
                .map_err(|m| checkpoint_error(ckpt, m))?;
            (s.step, s.losses.clone())
        }
        None => (0, Vec::new()),
    };
    let trainable: usize = model.trainable_vars().iter().map(|(_, v)| v.elem_count()).sum();
    let _ = tx.send(TrainEvent::Loaded(LoadedInfo {
        model: base_name.clone(),
        layers: model.num_layers(),
        trainable_params: trainable,
        base_params: model.base_parameter_count(),
        train_examples: batcher.len(),
        valid_examples: valid_examples.len(),
        start_step,
        total_steps,
    }));
    std::fs::create_dir_all(&cfg.out).map_err(|e| TrainError::Config(format!("{}: {e}", cfg.out.display())))?;

    let vars = model.trainable_vars();
    let mut final_valid = None;
    let mut cancelled = false;
    let (mut tokens_total, mut seconds_total) = (0usize, 0f64);
    for step in start_step..total_steps {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        let t0 = Instant::now();
        let mut grads: Vec<Option<Tensor>> = vec![None; vars.len()];
        let (mut loss_sum, mut counted, mut tokens) = (0f64, 0usize, 0usize);
        for micro in 0..cfg.grad_accum {
            let batch = batcher.next_batch(&device)?;
            tokens += batch.n_tokens;
            let mut rng = StdRng::seed_from_u64(micro_batch_seed(seed, step, micro));
            let mut mode = ForwardMode {
                train: true,
                rng: Some(&mut rng),
            };
            let out = causal_lm_loss(&model, &batch.input_ids, &batch.labels, &mut mode)?;
            if out.n_tokens == 0 {
                continue;
            }
            loss_sum += out.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            counted += 1;
            let store = (out.loss / cfg.grad_accum as f64)?.backward()?;
            for (slot, (_, var)) in grads.iter_mut().zip(&vars) {
                if let Some(g) = store.get(var.as_tensor()) {
                    *slot = Some(match slot.take() {
                        Some(acc) => (acc + g)?,
                        None => g.clone(),
                    });
                }
            }
        }
        let lr = schedule.lr_at(step);
        let mut grads: Vec<Tensor> = grads
            .into_iter()
            .zip(&vars)
            .map(|(g, (_, v))| g.map_or_else(|| v.as_tensor().zeros_like(), Ok))
            .collect::<Result<_, _>>()?;
        let grad_norm = match cfg.max_grad_norm {
            Some(max) => clip_grad_norm(&mut grads, max)?,
            None => global_norm(&grads)?,
        };
        if counted > 0 {
            opt.step(&grads, lr)?;
        }
        let loss = if counted > 0 {
            loss_sum / counted as f64
        } else {
            f64::NAN
        };
        losses.push(loss);
        let seconds = t0.elapsed().as_secs_f64();
        tokens_total += tokens;
        seconds_total += seconds;
        let done = step + 1;
        let snapshot = match cfg.snapshot {
            Some((layer, module))
                if cfg.snapshot_every > 0 && (done.is_multiple_of(cfg.snapshot_every) || done == total_steps) =>
            {
                snapshot_of(&model, layer, module)?
            }
            _ => None,
        };
        let _ = tx.send(TrainEvent::Step(StepStats {
            step: done,
            total_steps,
            loss,
            lr,
            grad_norm,
            tokens_per_s: tokens as f64 / seconds.max(1e-9),
            memory_bytes: process_memory().0,
            snapshot,
        }));
        if !valid_examples.is_empty()
            && ((cfg.eval_every > 0 && done.is_multiple_of(cfg.eval_every)) || done == total_steps)
        {
            let r = evaluate(&model, &valid_examples, cfg.batch_size, pad_id, &device)?;
            final_valid = Some(r.loss);
            let _ = tx.send(TrainEvent::Eval {
                step: done,
                loss: r.loss,
            });
        }
        if cfg.save_every > 0 && done.is_multiple_of(cfg.save_every) {
            let state = TrainerState {
                step: done,
                total_steps,
                batcher: batcher.state(),
                seed,
                batch_size: cfg.batch_size,
                grad_accum: cfg.grad_accum,
                shuffle: cfg.shuffle,
                schedule,
                losses: losses.clone(),
            };
            let dir = write_checkpoint(&cfg.out, &model, &opt, &state, &base_name)?;
            let _ = tx.send(TrainEvent::Checkpoint { step: done, dir });
        }
    }
    peft::save_adapter(&model, &cfg.out, Some(&base_name))?;
    Ok(RunResult {
        steps_done: opt.step,
        total_steps,
        final_loss: losses.last().copied(),
        final_valid_loss: final_valid,
        adapter_dir: cfg.out.clone(),
        cancelled,
        tokens_per_s: if seconds_total > 0.0 {
            tokens_total as f64 / seconds_total
        } else {
            0.0
        },
        peak_memory_bytes: process_memory().1,
        losses,
    })
}

fn snapshot_of(model: &LlamaModel, layer: usize, module: Target) -> candle_core::Result<Option<LoraSnapshot>> {
    let Some((_, _, adapter)) = model
        .adapters()
        .into_iter()
        .find(|(l, t, _)| *l == layer && *t == module)
    else {
        return Ok(None);
    };
    let a = adapter.a.as_tensor();
    let b = adapter.b.as_tensor();
    Ok(Some(LoraSnapshot {
        layer,
        module,
        a: a.flatten_all()?.to_vec1()?,
        b: b.flatten_all()?.to_vec1()?,
        a_shape: a.dims2()?,
        b_shape: b.dims2()?,
    }))
}
