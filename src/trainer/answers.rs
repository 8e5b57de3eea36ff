//! Before and after: the base model's and the adapted model's answers to the same questions,
//! with the same decoding (a fixed seed, a repeat penalty), as a background [`Job`]. One model
//! is loaded; the base answers come from it with the adapters switched off (scale 0, so the
//! output is exactly the base's).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::trainer::generate::{SamplingOptions, chat};
use crate::trainer::job::Job;
use crate::trainer::load::{LoadError, LoadOptions, load_model_with};
use crate::trainer::model::{BaseWeights, LlamaModel};
use crate::trainer::peft;
use crate::trainer::run::{DeviceKind, Method, TrainError};
use crate::trainer::runtime::RunRuntime;

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswersConfig {
    pub model: PathBuf,
    pub adapter: PathBuf,
    /// QLoRA adapters answer over the same 4-bit base they were trained on.
    pub method: Method,
    pub double_quant: bool,
    pub device: DeviceKind,
    pub questions: Vec<String>,
    /// The system message the adapter was trained with (the same for both models).
    pub system_prompt: Option<String>,
    pub sampling: SamplingOptions,
    pub threads: Option<usize>,
}

impl AnswersConfig {
    /// The decoding both models use: greedy, so the difference between the answers is the
    /// adapter's and not the dice's, with a light repeat penalty so a small model does not loop
    /// ("la entrada de la entrada…"). Of the settings tried on SmolLM2-135M after the boss
    /// fight (greedy or T 0.3–0.7; penalty 1.0–1.3) this read best in both languages.
    pub fn default_sampling() -> SamplingOptions {
        SamplingOptions {
            max_new_tokens: 60,
            temperature: 0.0,
            top_p: 1.0,
            top_k: None,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 7,
        }
    }
}

/// One question answered twice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub question: String,
    pub base: String,
    pub adapted: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AnswerEvent {
    /// The model and adapter are loaded; answers follow.
    Loaded,
    /// Question `index` of the config, answered.
    Answered { index: usize, answer: Answer },
}

pub type AnswersHandle = Job<AnswerEvent, Vec<Answer>, TrainError>;

/// Answers every question on its own thread; cancel stops between answers.
pub fn start(cfg: AnswersConfig) -> AnswersHandle {
    Job::spawn("lora-answers", move |tx, cancel| {
        let runtime = RunRuntime::new(cfg.threads)?;
        runtime.install(|| answer_all(&cfg, cancel, |e| drop(tx.send(e))))
    })
}

fn answer_all(
    cfg: &AnswersConfig,
    cancel: &AtomicBool,
    mut report: impl FnMut(AnswerEvent),
) -> Result<Vec<Answer>, TrainError> {
    let device = cfg.device.open()?;
    let mut opts = LoadOptions::new(&device, candle_core::DType::F32);
    opts.nf4 = (cfg.method == Method::Qlora).then_some(cfg.double_quant);
    opts.cancel = Some(cancel);
    let loaded = load_model_with(&cfg.model, &opts).map_err(|e| match e {
        LoadError::Cancelled { .. } => TrainError::Cancelled,
        e => e.into(),
    })?;
    let (adapter, tensors) = peft::read_adapter(&cfg.adapter, &device)?;
    let weights = BaseWeights { dense: loaded.weights, nf4: loaded.nf4 };
    let mut model = LlamaModel::new(&loaded.config, weights, opts.dtype, &device, Some(&adapter.settings), 0)?;
    peft::apply_adapter(&mut model, &tensors, &cfg.adapter)?;
    report(AnswerEvent::Loaded);
    let mut answers = Vec::new();
    for (index, question) in cfg.questions.iter().enumerate() {
        if cancel.load(Ordering::SeqCst) {
            break;
        }
        let generate = |model: &LlamaModel| {
            chat(model, &loaded.tokenizer, cfg.system_prompt.as_deref(), question, &cfg.sampling)
                .map_err(|e| TrainError::Config(format!("{e:#}")))
        };
        set_adapters(&mut model, false);
        let base = generate(&model)?;
        set_adapters(&mut model, true);
        let adapted = generate(&model)?;
        let answer = Answer { question: question.clone(), base, adapted };
        report(AnswerEvent::Answered { index, answer: answer.clone() });
        answers.push(answer);
    }
    Ok(answers)
}

/// Switches every adapter off (scale 0: exactly the base model) or back on.
fn set_adapters(model: &mut LlamaModel, on: bool) {
    let scale = model.lora.as_ref().map_or(0.0, |l| l.scale());
    for (_, _, adapter) in model.adapters_mut() {
        adapter.scale = if on { scale } else { 0.0 };
    }
}
