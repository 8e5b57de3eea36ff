//! The boss fight as plain data: what the player set up, what the training run has reported so
//! far, and what the stage draws from it — health, curves, the real A, B and ΔW of one layer, ΔW's
//! singular values, what NF4 does to one of its weight blocks, the benchmark row. No bevy: the
//! stage feeds it the trainer's events, and so do the tests.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::content::Lang;
use crate::math::Target;
use crate::math::lora::low_rank_singular_values;
use crate::math::nf4::{self, NF4_CODE};
use crate::trainer::model::LoraSettings;
use crate::trainer::optim::ScheduleKind;
use crate::trainer::run::{
    ComputeDType, DeviceKind, Duration, LoadedInfo, LoraSnapshot, Method, RunResult, StepStats, TrainConfig, TrainEvent,
};

/// The boss is defeated once the validation loss has fallen this far below where it started.
pub const TARGET_DROP: f64 = 0.2;

/// The default model's file, as `scripts/fetch-model.sh` fetches it.
pub const DEFAULT_MODEL_FILE: &str = crate::trainer::load::TEST_MODEL_FILE;

/// Where the default model is looked for: `$LORA_ARCADE_MODEL`, then `$LORA_ARCADE_MODELS_DIR`,
/// `models/` beside the working directory, and the source tree's `models/` (a development build).
pub fn default_model() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LORA_ARCADE_MODEL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let dirs = [
        std::env::var_os("LORA_ARCADE_MODELS_DIR").map(PathBuf::from),
        Some(PathBuf::from("models")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("models")),
    ];
    dirs.into_iter().flatten().map(|d| d.join(DEFAULT_MODEL_FILE)).find(|p| p.is_file())
}

/// The folder the shipped assets are read from (the course datasets among them).
pub fn assets_dir() -> PathBuf {
    let beside = PathBuf::from("assets");
    match beside.join("datasets").is_dir() {
        true => beside,
        false => Path::new(env!("CARGO_MANIFEST_DIR")).join("assets"),
    }
}

/// Which data the fight trains on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Dataset {
    /// The shipped course dataset in a language (train + held-out validation files).
    Course(Lang),
    /// The player's own JSONL file (no validation split: the health bar follows the training loss).
    Jsonl(PathBuf),
}

impl Dataset {
    /// (training file, validation file).
    pub fn files(&self) -> (PathBuf, Option<PathBuf>) {
        match self {
            Dataset::Course(lang) => {
                let dir = assets_dir().join("datasets");
                let code = lang.code();
                (dir.join(format!("course-{code}.train.jsonl")), Some(dir.join(format!("course-{code}.valid.jsonl"))))
            }
            Dataset::Jsonl(path) => (path.clone(), None),
        }
    }
}

/// The system prompt the course dataset is trained (and asked) with: short, and in the language.
pub fn system_prompt(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Eres el tutor de LoRA Arcade. Responde en español, en una o dos frases.",
        Lang::En => "You are the LoRA Arcade tutor. Answer in English, in one or two sentences.",
    }
}

/// What the player chose on the setup panel. [`FightSetup::defaults`] is one key away: it ends in
/// under two minutes on a 2-core CPU with the course dataset, and the validation loss falls by a
/// quarter (see the README).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FightSetup {
    /// A model folder, a `.gguf` file or a Hugging Face id.
    pub model: String,
    pub method: Method,
    pub rank: usize,
    pub alpha: f64,
    pub targets: Vec<Target>,
    /// Optimizer steps, or passes over the training file.
    pub duration: Duration,
    pub lr: f64,
    pub dataset: Dataset,
    pub device: DeviceKind,
    /// The layer whose adapter the stage shows (its q_proj).
    pub watch_layer: usize,
}

/// Sequences a step: small enough for a 2-core CPU to step every few seconds.
const BATCH: usize = 4;

impl FightSetup {
    pub fn defaults(model: String, lang: Lang) -> FightSetup {
        FightSetup {
            model,
            method: Method::Lora,
            rank: 16,
            alpha: 32.0,
            targets: Target::ALL.to_vec(),
            duration: Duration::Steps(20),
            lr: 3e-3,
            dataset: Dataset::Course(lang),
            device: DeviceKind::Cpu,
            watch_layer: 0,
        }
    }

    /// The run: the course's system prompt, short sequences, a cosine schedule, the validation
    /// loss every few steps (the boss's health), and one core left for the window on small machines.
    pub fn train_config(&self, lang: Lang, out: &Path) -> TrainConfig {
        let (data, valid) = self.dataset.files();
        let mut cfg = TrainConfig::new(PathBuf::from(&self.model), data, out);
        cfg.valid = valid;
        cfg.method = self.method;
        cfg.lora = LoraSettings {
            rank: self.rank,
            alpha: self.alpha,
            dropout: 0.0,
            targets: self.targets.clone(),
            use_rslora: false,
        };
        cfg.duration = self.duration;
        cfg.lr = self.lr;
        cfg.batch_size = BATCH;
        cfg.max_seq_len = 160;
        cfg.schedule = ScheduleKind::Cosine;
        let steps = self.planned_steps();
        cfg.warmup_steps = (steps / 8).max(1);
        // Four validation losses (the boss's health): each costs about a third of the steps'
        // time on the course's 17 held-out examples, so more would slow the fight visibly.
        cfg.eval_every = steps.div_ceil(3).max(1);
        cfg.device = self.device;
        cfg.dtype = match self.device {
            DeviceKind::Cpu => ComputeDType::F32,
            _ => ComputeDType::Bf16,
        };
        cfg.system_prompt = matches!(self.dataset, Dataset::Course(_)).then(|| system_prompt(lang).to_string());
        cfg.snapshot = Some((self.watch_layer, Target::Q));
        cfg.snapshot_every = 1;
        cfg.threads = Some(compute_threads(self.device));
        cfg
    }
}

/// Whether a device can train here.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceStatus {
    Ready,
    /// This build has no support for it (a feature to build with).
    NotBuilt,
    /// Built, but the device or its driver is not there (the reason).
    Missing(String),
}

/// Tries each device: the CPU always works; CUDA and Metal need the feature and a device.
pub fn device_status(kind: DeviceKind) -> DeviceStatus {
    let built = match kind {
        DeviceKind::Cpu => true,
        DeviceKind::Cuda => cfg!(feature = "cuda"),
        DeviceKind::Metal => cfg!(feature = "metal"),
    };
    match (built, kind.open()) {
        (false, _) => DeviceStatus::NotBuilt,
        (true, Ok(_)) => DeviceStatus::Ready,
        (true, Err(e)) => DeviceStatus::Missing(e.to_string().chars().take(100).collect()),
    }
}

/// Threads for training: every core but one for the window (at least one).
pub fn compute_threads(device: DeviceKind) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match device {
        DeviceKind::Cpu => cores.saturating_sub(1).max(1),
        // The GPU does the work; the CPU thread only feeds it.
        _ => 1,
    }
}

/// Where the fight is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Downloading or loading the model and data.
    Loading,
    Training,
    /// The run ended: the adapter is saved.
    Finished {
        defeated: bool,
        cancelled: bool,
    },
    Failed(String),
}

/// Something the stage should show or play as it happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cue {
    /// The model is loaded: the boss appears.
    Appear,
    /// A training step: a gradient shot.
    Shot,
    /// A validation loss lower than the last one: the boss is hurt.
    Hurt,
    /// The target was reached.
    Defeated,
    /// The run ended without defeating the boss (cancelled, or too few steps).
    Survived,
    Failed,
}

/// What NF4 does to the first weights of the watched projection's base: the 4-bit puzzle on a
/// real model.
#[derive(Clone, Debug, PartialEq)]
pub struct Nf4View {
    pub values: Vec<f32>,
    pub dequantized: Vec<f32>,
    /// How many weights fell on each of the 16 codes.
    pub histogram: [usize; 16],
    /// One absmax per block of 64.
    pub absmax: Vec<f32>,
    pub max_error: f32,
    pub mean_abs_error: f32,
}

impl Nf4View {
    /// Quantizes `values` as QLoRA does (blocks of 64) with the maths module's NF4.
    pub fn of(values: &[f32]) -> Option<Nf4View> {
        let q = nf4::quantize(values, nf4::DEFAULT_BLOCKSIZE).ok()?;
        let dequantized = q.dequantize();
        let mut histogram = [0; 16];
        q.codes().iter().for_each(|&c| histogram[usize::from(c)] += 1);
        let errors: Vec<f32> = values.iter().zip(&dequantized).map(|(v, d)| (v - d).abs()).collect();
        let max_error = errors.iter().copied().fold(0.0, f32::max);
        let mean_abs_error = errors.iter().sum::<f32>() / errors.len().max(1) as f32;
        Some(Nf4View { values: values.to_vec(), dequantized, histogram, absmax: q.absmax, max_error, mean_abs_error })
    }

    /// The code values, for labelling the histogram.
    pub fn codes() -> &'static [f32; 16] {
        &NF4_CODE
    }
}

/// One row of the deck's benchmark table ("PRUEBAS DE RENDIMIENTO"), kept between games.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub device: String,
    pub method: String,
    pub model: String,
    pub steps: usize,
    pub seconds: f64,
    pub tokens_per_s: f64,
    pub peak_memory_mib: f64,
    /// Memory of the projections' frozen weights.
    pub weight_mib: f64,
}

/// Everything the stage knows of the fight.
#[derive(Clone, Debug)]
pub struct Fight {
    pub setup: FightSetup,
    pub phase: Phase,
    /// (file, bytes, total) while a Hub model downloads.
    pub download: Option<(String, u64, Option<u64>)>,
    pub info: Option<LoadedInfo>,
    /// `[step, value]` series for the plots.
    pub train_loss: Vec<[f64; 2]>,
    pub valid_loss: Vec<[f64; 2]>,
    pub learning_rate: Vec<[f64; 2]>,
    pub tokens_per_s: Vec<[f64; 2]>,
    pub last_step: Option<StepStats>,
    pub snapshot: Option<LoraSnapshot>,
    /// ΔW = s·B·A of the watched adapter, row-major `[out, in]`, and its singular values.
    pub delta_w: Option<(Vec<f32>, (usize, usize))>,
    pub singular_values: Vec<f64>,
    pub nf4: Option<Nf4View>,
    pub result: Option<RunResult>,
    /// When the run started and when its first step ended (the caller's clock, seconds).
    started_at: f64,
    first_step_at: Option<f64>,
    now: f64,
    defeated: bool,
}

impl Fight {
    pub fn new(setup: FightSetup, now: f64) -> Fight {
        Fight {
            setup,
            phase: Phase::Loading,
            download: None,
            info: None,
            train_loss: Vec::new(),
            valid_loss: Vec::new(),
            learning_rate: Vec::new(),
            tokens_per_s: Vec::new(),
            last_step: None,
            snapshot: None,
            delta_w: None,
            singular_values: Vec::new(),
            nf4: None,
            result: None,
            started_at: now,
            first_step_at: None,
            now,
            defeated: false,
        }
    }

    /// Takes one event of the run; returns what to show or play for it.
    pub fn apply(&mut self, event: TrainEvent, now: f64) -> Vec<Cue> {
        self.now = now;
        let mut cues = Vec::new();
        match event {
            TrainEvent::Downloading { file, bytes, total } => self.download = Some((file, bytes, total)),
            TrainEvent::Loaded(info) => {
                self.download = None;
                self.nf4 = info.weight_sample.as_ref().and_then(|s| Nf4View::of(&s.values));
                self.info = Some(info);
                self.phase = Phase::Training;
                cues.push(Cue::Appear);
            }
            TrainEvent::Step(mut s) => {
                let x = s.step as f64;
                self.train_loss.push([x, s.loss]);
                self.learning_rate.push([x, s.lr]);
                self.tokens_per_s.push([x, s.tokens_per_s]);
                if let Some(snapshot) = s.snapshot.take() {
                    self.take_snapshot(snapshot);
                }
                self.first_step_at.get_or_insert(now);
                self.last_step = Some(s);
                cues.push(Cue::Shot);
                // Without validation data, the training loss is the boss's health.
                if self.setup.dataset_has_no_validation() && self.check_defeat() {
                    cues.push(Cue::Defeated);
                }
            }
            TrainEvent::Eval { step, loss, .. } => {
                let before = self.valid_loss.last().map(|p| p[1]);
                self.valid_loss.push([step as f64, loss]);
                if before.is_some_and(|b| loss < b) {
                    cues.push(Cue::Hurt);
                }
                if self.check_defeat() {
                    cues.push(Cue::Defeated);
                }
            }
            TrainEvent::Checkpoint { .. } => {}
            TrainEvent::Finished(result) => {
                self.phase = Phase::Finished { defeated: self.defeated, cancelled: result.cancelled };
                if !self.defeated {
                    cues.push(Cue::Survived);
                }
                self.result = Some(result);
            }
            TrainEvent::Failed { message } => {
                self.phase = Phase::Failed(message);
                cues.push(Cue::Failed);
            }
        }
        cues
    }

    /// True the moment the boss falls (its health reaches zero for the first time).
    fn check_defeat(&mut self) -> bool {
        if !self.defeated && self.health() <= 0.0 {
            self.defeated = true;
            return true;
        }
        false
    }

    fn take_snapshot(&mut self, snapshot: LoraSnapshot) {
        let (r, d_in) = snapshot.a_shape;
        let (d_out, _) = snapshot.b_shape;
        let a = DMatrix::from_row_slice(r, d_in, &snapshot.a).cast::<f64>();
        let b = DMatrix::from_row_slice(d_out, r, &snapshot.b).cast::<f64>();
        let scale = self.setup.alpha / self.setup.rank as f64;
        self.singular_values =
            low_rank_singular_values(&(&b * scale), &a).map(|s| s.iter().copied().collect()).unwrap_or_default();
        let delta = (b * a) * scale;
        // nalgebra is column-major: transpose to read it row by row.
        let rows: Vec<f32> = delta.transpose().iter().map(|&v| v as f32).collect();
        self.delta_w = Some((rows, (d_out, d_in)));
        self.snapshot = Some(snapshot);
    }

    /// The series the boss's health follows: the validation loss, or without validation data the
    /// training loss.
    fn health_series(&self) -> &[[f64; 2]] {
        match self.setup.dataset_has_no_validation() {
            true => &self.train_loss,
            false => &self.valid_loss,
        }
    }

    /// The loss that defeats the boss: [`TARGET_DROP`] below the first one measured.
    pub fn target_loss(&self) -> Option<f64> {
        self.health_series().first().map(|p| p[1] * (1.0 - TARGET_DROP))
    }

    /// 1 at the first loss measured, 0 at the target (and below).
    pub fn health(&self) -> f32 {
        let series = self.health_series();
        let (Some(first), Some(last), Some(target)) = (series.first(), series.last(), self.target_loss()) else {
            return 1.0;
        };
        (((last[1] - target) / (first[1] - target).max(1e-9)) as f32).clamp(0.0, 1.0)
    }

    pub fn defeated(&self) -> bool {
        self.defeated
    }

    /// Steps done and the total.
    pub fn progress(&self) -> (usize, usize) {
        let total = self.info.as_ref().map_or_else(|| self.setup.planned_steps(), |i| i.total_steps);
        (self.last_step.as_ref().map_or(0, |s| s.step), total)
    }

    /// Seconds since the fight started.
    pub fn elapsed(&self) -> f64 {
        self.now - self.started_at
    }

    /// Time left, from the pace of the steps so far.
    pub fn eta_seconds(&self) -> Option<f64> {
        let (done, total) = self.progress();
        let first = self.first_step_at?;
        (done > 1).then(|| (self.now - first) / (done - 1) as f64 * (total - done) as f64)
    }

    /// The finished run as a row of the benchmark table.
    pub fn bench_row(&self) -> Option<BenchRow> {
        let result = self.result.as_ref()?;
        let info = self.info.as_ref()?;
        let mib = |b: f64| b / (1024.0 * 1024.0);
        Some(BenchRow {
            device: format!("{:?}", self.setup.device).to_lowercase(),
            method: format!("{:?}", self.setup.method).to_lowercase(),
            model: info.model.rsplit(['/', '\\']).next().unwrap_or(&info.model).to_string(),
            steps: result.steps_done,
            seconds: result.train_seconds,
            tokens_per_s: result.tokens_per_s,
            peak_memory_mib: mib(result.peak_memory_bytes as f64),
            weight_mib: mib(info.projection_bytes as f64),
        })
    }
}

impl FightSetup {
    fn dataset_has_no_validation(&self) -> bool {
        self.dataset.files().1.is_none()
    }

    /// The steps the fight will take: for epochs, counted from the training file's examples (one
    /// a line), as the trainer counts them.
    pub fn planned_steps(&self) -> usize {
        match self.duration {
            Duration::Steps(n) => n,
            Duration::Epochs(epochs) => {
                let text = std::fs::read_to_string(self.dataset.files().0).unwrap_or_default();
                let examples = text.lines().filter(|l| !l.trim().is_empty()).count();
                (epochs * examples.div_ceil(BATCH) as f64).ceil().max(1.0) as usize
            }
        }
    }
}

/// Questions of the course dataset for the before/after comparison: a few fixed ones, from the
/// training file (what the adapter was taught), in the language.
pub fn course_questions(lang: Lang, how_many: usize) -> Vec<String> {
    let (train, _) = Dataset::Course(lang).files();
    let Ok(text) = std::fs::read_to_string(&train) else { return Vec::new() };
    let questions: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["messages"][0]["content"].as_str().map(str::to_string))
        .collect();
    // Spread over the file (its topics run in order).
    let step = (questions.len() / how_many.max(1)).max(1);
    questions.into_iter().step_by(step).take(how_many).collect()
}
