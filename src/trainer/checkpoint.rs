//! Checkpoints: the adapter, the optimizer's moments and everything else an exact resume needs,
//! written under a temporary name and renamed into `checkpoint-N` only once complete, so a
//! killed run always leaves its last complete checkpoint to resume from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::trainer::data::BatcherState;
use crate::trainer::model::LlamaModel;
use crate::trainer::optim::{AdamW, LrSchedule, ScheduleKind};
use crate::trainer::peft;
use crate::trainer::run::{Method, TrainConfig, TrainError};
use crate::trainer::tensorfile;

/// The options that make a run what it is. A checkpoint keeps them, so `--resume` continues
/// the same run or refuses, naming what differs (options that only change how a run is
/// watched or where it runs — steps, validation, device, threads — are not in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The base model: its file or folder name and its shape.
    pub model: String,
    /// SHA-256 of the training file.
    pub data_sha256: String,
    pub method: Method,
    pub double_quant: bool,
    pub rank: usize,
    pub alpha: f64,
    pub rslora: bool,
    pub dropout: f32,
    pub targets: Vec<crate::math::Target>,
    pub lr: f64,
    pub schedule: ScheduleKind,
    pub warmup_steps: usize,
    pub max_seq_len: usize,
    pub weight_decay: f64,
    pub max_grad_norm: Option<f64>,
    pub train_on_prompt: bool,
    pub system_prompt: Option<String>,
}

impl RunRecord {
    pub fn of(cfg: &TrainConfig, model: String, data_sha256: String) -> Self {
        Self {
            model,
            data_sha256,
            method: cfg.method,
            double_quant: cfg.double_quant,
            rank: cfg.lora.rank,
            alpha: cfg.lora.alpha,
            rslora: cfg.lora.use_rslora,
            dropout: cfg.lora.dropout,
            targets: cfg.lora.targets.clone(),
            lr: cfg.lr,
            schedule: cfg.schedule,
            warmup_steps: cfg.warmup_steps,
            max_seq_len: cfg.max_seq_len,
            weight_decay: cfg.weight_decay,
            max_grad_norm: cfg.max_grad_norm,
            train_on_prompt: cfg.train_on_prompt,
            system_prompt: cfg.system_prompt.clone(),
        }
    }

    /// Each option as the command line names it, with its value as text.
    fn options(&self) -> [(&'static str, String); 17] {
        let targets = self.targets.iter().map(|t| t.name()).collect::<Vec<_>>().join(",");
        [
            ("--model", self.model.clone()),
            ("--data (SHA-256)", self.data_sha256.chars().take(12).collect()),
            ("--method", format!("{:?}", self.method).to_lowercase()),
            ("--no-double-quant", (!self.double_quant).to_string()),
            ("--rank", self.rank.to_string()),
            ("--alpha", self.alpha.to_string()),
            ("--rslora", self.rslora.to_string()),
            ("--dropout", self.dropout.to_string()),
            ("--targets", targets),
            ("--lr", self.lr.to_string()),
            ("--schedule", format!("{:?}", self.schedule).to_lowercase()),
            ("--warmup-steps", self.warmup_steps.to_string()),
            ("--seq", self.max_seq_len.to_string()),
            ("--weight-decay", self.weight_decay.to_string()),
            ("--max-grad-norm", self.max_grad_norm.map_or("0".into(), |n| n.to_string())),
            ("--train-on-prompt", self.train_on_prompt.to_string()),
            ("--system", format!("{:?}", self.system_prompt.as_deref().unwrap_or(""))),
        ]
    }

    /// `"--rank 4 there, 8 now"` for every option that differs from `now`.
    pub fn differences(&self, now: &RunRecord) -> Vec<String> {
        differences(
            self.options().into_iter().zip(now.options()).map(|((flag, saved), (_, asked))| (flag, saved, asked)),
        )
    }
}

/// `"--flag saved there, asked now"` for each option whose two values differ.
pub fn differences(options: impl IntoIterator<Item = (&'static str, String, String)>) -> Vec<String> {
    options
        .into_iter()
        .filter(|(_, saved, asked)| saved != asked)
        .map(|(flag, saved, asked)| format!("{flag} {saved} there, {asked} now"))
        .collect()
}

/// The hex SHA-256 of a file's bytes (the training data a checkpoint was made from).
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
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
    /// The run's options (absent in checkpoints from before they were recorded).
    #[serde(default)]
    pub run: Option<RunRecord>,
}

pub const STATE_FILE: &str = "trainer_state.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";

pub(crate) fn checkpoint_error(path: &Path, message: impl Into<String>) -> TrainError {
    TrainError::Checkpoint { path: path.to_path_buf(), message: message.into() }
}

/// Reads a complete checkpoint's state, or says why it is not one.
pub fn read_state(dir: &Path) -> Result<TrainerState, TrainError> {
    for f in [STATE_FILE, OPTIMIZER_FILE, peft::CONFIG_FILE, peft::WEIGHTS_FILE] {
        if !dir.join(f).is_file() {
            return Err(checkpoint_error(dir, format!("incomplete: `{f}` is missing")));
        }
    }
    let text = std::fs::read_to_string(dir.join(STATE_FILE)).map_err(|e| checkpoint_error(dir, e.to_string()))?;
    let state = serde_json::from_str(&text).map_err(|e| checkpoint_error(dir, format!("{STATE_FILE}: {e}")))?;
    // A tensor file cut short (a full disk, a copy interrupted) makes the checkpoint unusable.
    for f in [OPTIMIZER_FILE, peft::WEIGHTS_FILE] {
        tensorfile::check_complete(&dir.join(f)).map_err(|e| checkpoint_error(dir, e.to_string()))?;
    }
    Ok(state)
}

/// `dir` itself if it is a complete checkpoint, else its complete `checkpoint-N` with the
/// largest N (partial `.checkpoint-N.partial` folders and incomplete ones are skipped).
pub fn find_last(dir: &Path) -> Result<PathBuf, TrainError> {
    if dir.join(STATE_FILE).exists() {
        read_state(dir)?;
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
        match read_state(&path) {
            Ok(_) if best.as_ref().is_none_or(|(b, _)| n > *b) => best = Some((n, path)),
            Ok(_) => {}
            Err(e) => tracing::warn!("skipping {}, falling back to an earlier checkpoint: {e}", path.display()),
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| checkpoint_error(dir, "no complete checkpoint-N folder found"))
}

/// Writes `out/checkpoint-{state.step}` (replacing one of that step) and returns its path.
pub fn write(
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
