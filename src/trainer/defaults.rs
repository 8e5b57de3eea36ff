//! Every default of a training run, in one place: [`crate::trainer::run::TrainConfig::new`],
//! [`crate::trainer::model::LoraSettings::default`], the `train` command's flags and the boss
//! stage's setup panel all read these, so the library and the CLI cannot drift apart.

use crate::math::Target;
use crate::trainer::optim::ScheduleKind;

/// LoRA rank r.
pub const RANK: usize = 8;
/// LoRA α: the update is scaled by α/r (here 2, as most recipes use).
pub const ALPHA: f64 = 16.0;
/// Dropout on the adapter's input while training (the QLoRA paper's value for small models).
pub const DROPOUT: f32 = 0.05;
/// PEFT's default targets for Llama-family models.
pub const TARGETS: [Target; 2] = Target::PEFT_DEFAULT;
/// The same, as the `--targets` flag spells it.
pub const TARGETS_FLAG: &str = "q_proj,v_proj";
/// Training length when neither steps nor epochs are given.
pub const EPOCHS: f64 = 1.0;
pub const LEARNING_RATE: f64 = 2e-4;
pub const BATCH_SIZE: usize = 4;
/// Tokens per example (longer ones are truncated).
pub const MAX_SEQ_LEN: usize = 512;
pub const GRAD_ACCUM: usize = 1;
/// Global gradient-norm clipping.
pub const MAX_GRAD_NORM: f64 = 1.0;
pub const WEIGHT_DECAY: f64 = 0.0;
pub const SCHEDULE: ScheduleKind = ScheduleKind::Linear;
pub const WARMUP_STEPS: usize = 0;
/// Checkpoint every N steps (0: only the final adapter).
pub const SAVE_EVERY: usize = 0;
/// Checkpoints kept (the newest); older ones of the same run are removed as new ones land.
pub const KEEP_CHECKPOINTS: usize = 3;
/// Validation loss every N steps (and at the end) when there is validation data.
pub const EVAL_EVERY: usize = 50;
pub const SEED: u64 = 42;
