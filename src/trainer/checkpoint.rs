//! Checkpoints: the adapter, the optimizer's moments and everything else an exact resume needs,
//! written under a temporary name and renamed into `checkpoint-N` only once complete, so a
//! killed run always leaves its last complete checkpoint to resume from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::trainer::data::BatcherState;
use crate::trainer::model::LlamaModel;
use crate::trainer::optim::{AdamW, LrSchedule};
use crate::trainer::peft;
use crate::trainer::run::TrainError;
use crate::trainer::tensorfile;

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
    serde_json::from_str(&text).map_err(|e| checkpoint_error(dir, format!("{STATE_FILE}: {e}")))
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
            Err(e) => tracing::warn!("skipping {}: {e}", path.display()),
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
