//! The training loop, small enough to read in one sitting (after mlx-lm's `tuner/trainer.py`):
//! [`prepare`] builds everything a run needs — device, model, adapters, data, optimizer,
//! schedule, a resumed state — and [`Training::step`] trains one optimizer step. [`train`] is
//! the loop the run's thread executes between the two, reporting events as it goes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use rand::{SeedableRng, rngs::StdRng};

use crate::trainer::checkpoint::{self, RunRecord, TrainerState, checkpoint_error};
use crate::trainer::data::{Batcher, DataOptions, Example, load_jsonl};
use crate::trainer::eval::evaluate;
use crate::trainer::load::hub::{
    DownloadProgress, HubError, HubSettings, ModelArg, classify_model_arg, resolve_model_with,
};
use crate::trainer::load::{LoadError, LoadOptions, LoadedModel, load_model_with};
use crate::trainer::loss::causal_lm_loss;
use crate::trainer::model::{BaseWeights, ForwardMode, LlamaModel, LoraSettings, Target};
use crate::trainer::optim::{AdamW, AdamWConfig, LrSchedule, clip_grad_norm, global_norm};
use crate::trainer::out_dir;
use crate::trainer::peft;
use crate::trainer::run::{
    Duration, LoadedInfo, LoraSnapshot, Method, RunResult, StepStats, TrainConfig, TrainError, TrainEvent, WeightSample,
};
use crate::trainer::runtime::{RunRuntime, process_memory};

/// Runs `cfg` to the end (or until `cancel`), sending events to `tx`.
pub fn train(cfg: &TrainConfig, tx: &Sender<TrainEvent>, cancel: &AtomicBool) -> Result<RunResult, TrainError> {
    cfg.validate()?;
    let runtime = RunRuntime::new(cfg.threads)?;
    let result: Result<RunResult, TrainError> = runtime.install(|| {
        let mut run = prepare(cfg, cancel, tx)?;
        let _ = tx.send(TrainEvent::Loaded(run.info.clone()));
        // The starting point, as mlx-lm reports it: what the base scores before any update.
        if run.steps_done == 0 && run.validation_due(0) {
            let loss = run.validation_loss()?;
            let _ = tx.send(TrainEvent::Eval { step: 0, loss, perplexity: loss.exp() });
        }
        let mut cancelled = false;
        while run.steps_done < run.total_steps {
            if cancel.load(Ordering::SeqCst) {
                cancelled = true;
                break;
            }
            let stats = run.step()?;
            let done = stats.step;
            let _ = tx.send(TrainEvent::Step(stats));
            if run.validation_due(done) {
                let loss = run.validation_loss()?;
                let _ = tx.send(TrainEvent::Eval { step: done, loss, perplexity: loss.exp() });
            }
            if cfg.save_every > 0 && done.is_multiple_of(cfg.save_every) {
                let dir = run.checkpoint()?;
                let _ = tx.send(TrainEvent::Checkpoint { step: done, dir });
            }
        }
        run.save_adapter()?;
        Ok(run.result(cancelled))
    });
    result.map_err(|e| e.explain_out_of_memory(cfg))
}

/// Everything a run trains with.
pub struct Training {
    cfg: TrainConfig,
    pub model: LlamaModel,
    vars: Vec<(String, Var)>,
    opt: AdamW,
    schedule: LrSchedule,
    batcher: Batcher,
    valid: Vec<Example>,
    device: Device,
    pad_id: u32,
    /// Dropout masks come from `(seed, step, micro-batch)`; a resumed run keeps the first seed.
    seed: u64,
    base_name: String,
    /// The options a checkpoint records, so a resume can tell its own run from another.
    record: RunRecord,
    pub info: LoadedInfo,
    pub steps_done: usize,
    pub total_steps: usize,
    losses: Vec<f64>,
    last_valid_loss: Option<f64>,
    tokens_trained: usize,
    seconds_trained: f64,
}

/// Loads the model (downloading a Hub id first, reporting its progress) and data and builds the
/// adapters, optimizer and schedule — from scratch, from an initial adapter, or from a checkpoint
/// to resume. Stops early when `cancel` is set.
pub fn prepare(cfg: &TrainConfig, cancel: &AtomicBool, events: &Sender<TrainEvent>) -> Result<Training, TrainError> {
    let stop_if_cancelled = || match cancel.load(Ordering::SeqCst) {
        true => Err(TrainError::Cancelled),
        false => Ok(()),
    };
    check_out_dir(cfg)?;
    let model_path = resolve_with_progress(cfg, events)?;
    stop_if_cancelled()?;
    let device = cfg.device.open()?;
    let dtype = cfg.dtype.dtype();
    let nf4 = (cfg.method == Method::Qlora).then_some(cfg.double_quant);
    let sample = cfg.snapshot.map(|(layer, module)| format!("{}.weight", module.path(layer)));
    let load = LoadOptions { device: device.clone(), dtype, nf4, cancel: Some(cancel), sample };
    let loaded = load_model_with(&model_path, &load).map_err(|e| match e {
        LoadError::Cancelled { .. } => TrainError::Cancelled,
        e => e.into(),
    })?;
    stop_if_cancelled()?;
    let opts = DataOptions {
        train_on_prompt: cfg.train_on_prompt,
        max_seq_len: cfg.max_seq_len,
        system_prompt: cfg.system_prompt.clone(),
    };
    let train_examples = load_jsonl(&cfg.data, &loaded.tokenizer, &opts)?;
    let valid = match &cfg.valid {
        Some(p) => load_jsonl(p, &loaded.tokenizer, &opts)?,
        None => Vec::new(),
    };
    stop_if_cancelled()?;
    let pad_id = loaded.tokenizer.padding_id();
    let identity = model_identity(&loaded);
    let loaded_sample = loaded.sample;
    let base_name = loaded.source.name_or_path.clone();
    let max_positions = loaded.config.max_position_embeddings;
    let longest = train_examples.iter().chain(&valid).map(|e| e.input_ids.len()).max().unwrap_or(0);
    if longest > max_positions {
        tracing::warn!(
            "--seq {} lets examples reach {longest} tokens, past the model's max_position_embeddings \
             ({max_positions}): the model never learned those positions and may do poorly there",
            cfg.max_seq_len
        );
    }
    let data_sha256 =
        checkpoint::file_sha256(&cfg.data).map_err(|e| TrainError::Config(format!("{}: {e}", cfg.data.display())))?;
    let record = RunRecord::of(cfg, identity, data_sha256);

    let resume = match &cfg.resume {
        Some(dir) => {
            let ckpt = checkpoint::find_last(dir)?;
            let state = checkpoint::read_state(&ckpt)?;
            refuse_another_run(&ckpt, &state, &record, cfg)?;
            Some((ckpt, state))
        }
        None => None,
    };
    let adapter_source = resume.as_ref().map(|(p, _)| p.clone()).or(cfg.init_adapter.clone());
    let (settings, adapter_tensors) = match &adapter_source {
        Some(dir) => {
            let (config, tensors) = peft::read_adapter(dir, &device)?;
            if resume.is_none() {
                refuse_other_adapter_settings(dir, &config.settings, &cfg.lora)?;
            }
            let mut settings = config.settings;
            settings.dropout = if resume.is_some() { settings.dropout } else { cfg.lora.dropout };
            (settings, Some((dir.clone(), tensors)))
        }
        None => (cfg.lora.clone(), None),
    };
    let seed = resume.as_ref().map_or(cfg.seed, |(_, s)| s.seed);
    let base = BaseWeights { dense: loaded.weights, nf4: loaded.nf4 };
    let mut model = LlamaModel::new(&loaded.config, base, dtype, &device, Some(&settings), seed)?;
    if let Some((dir, tensors)) = &adapter_tensors {
        peft::apply_adapter(&mut model, tensors, dir)?;
    }

    let batcher = match &resume {
        Some((_, s)) => Batcher::resume(train_examples, cfg.batch_size, pad_id, cfg.shuffle, s.batcher)?,
        None => Batcher::new(train_examples, cfg.batch_size, pad_id, cfg.shuffle, seed)?,
    };
    let total_steps = match cfg.duration {
        Duration::Steps(n) => n,
        Duration::Epochs(e) => {
            ((e * batcher.batches_per_epoch() as f64) / cfg.grad_accum as f64).ceil().max(1.0) as usize
        }
    };
    if let Some((ckpt, state)) = &resume
        && state.step > total_steps
    {
        return Err(checkpoint_error(
            ckpt,
            format!("it is at step {}, past the {total_steps} steps this run asks for: ask for more steps", state.step),
        ));
    }
    let schedule = LrSchedule { kind: cfg.schedule, base_lr: cfg.lr, warmup_steps: cfg.warmup_steps, total_steps };
    let vars = model.trainable_vars();
    let mut opt = AdamW::new(vars.clone(), AdamWConfig { weight_decay: cfg.weight_decay, ..Default::default() })?;
    let (steps_done, losses) = match &resume {
        Some((ckpt, s)) => {
            opt.load(&ckpt.join(checkpoint::OPTIMIZER_FILE), s.step).map_err(|m| checkpoint_error(ckpt, m))?;
            (s.step, s.losses.clone())
        }
        None => (0, Vec::new()),
    };
    let (projection_bytes, projection_weights) = model.projection_memory();
    let info = LoadedInfo {
        model: base_name.clone(),
        method: cfg.method,
        projection_bytes,
        projection_weights,
        layers: model.num_layers(),
        trainable_params: vars.iter().map(|(_, v)| v.elem_count()).sum(),
        base_params: model.base_parameter_count(),
        train_examples: batcher.len(),
        valid_examples: valid.len(),
        start_step: steps_done,
        total_steps,
        weight_sample: cfg.snapshot.zip(loaded_sample).map(|((layer, module), values)| WeightSample {
            layer,
            module,
            values,
        }),
    };
    std::fs::create_dir_all(&cfg.out).map_err(|e| TrainError::Config(format!("{}: {e}", cfg.out.display())))?;
    Ok(Training {
        cfg: cfg.clone(),
        model,
        vars,
        opt,
        schedule,
        batcher,
        valid,
        device,
        pad_id,
        seed,
        base_name,
        record,
        info,
        steps_done,
        total_steps,
        losses,
        last_valid_loss: None,
        tokens_trained: 0,
        seconds_trained: 0.0,
    })
}

impl Training {
    /// Trains one optimizer step: `grad_accum` micro-batches forward and backward, gradients
    /// summed, clipped, one AdamW update.
    pub fn step(&mut self) -> Result<StepStats, TrainError> {
        let started = Instant::now();
        let step = self.steps_done;
        let accum = self.cfg.grad_accum;
        let mut grads: Vec<Option<Tensor>> = vec![None; self.vars.len()];
        let (mut loss_sum, mut counted, mut tokens) = (0f64, 0usize, 0usize);
        for micro in 0..accum {
            let batch = self.batcher.next_batch(&self.device)?;
            tokens += batch.n_tokens;
            let mut rng = StdRng::seed_from_u64(micro_batch_seed(self.seed, step, micro));
            let mut mode = ForwardMode { train: true, rng: Some(&mut rng) };
            let out = causal_lm_loss(&self.model, &batch.input_ids, &batch.labels, &mut mode)?;
            if out.n_tokens == 0 {
                continue;
            }
            loss_sum += out.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            counted += 1;
            let store = (out.loss / accum as f64)?.backward()?;
            for (slot, (_, var)) in grads.iter_mut().zip(&self.vars) {
                if let Some(g) = store.get(var.as_tensor()) {
                    *slot = Some(match slot.take() {
                        Some(acc) => (acc + g)?,
                        None => g.clone(),
                    });
                }
            }
        }
        let lr = self.schedule.lr_at(step);
        let mut grads: Vec<Tensor> = grads
            .into_iter()
            .zip(&self.vars)
            .map(|(g, (_, v))| g.map_or_else(|| v.as_tensor().zeros_like(), Ok))
            .collect::<Result<_, _>>()?;
        let grad_norm = match self.cfg.max_grad_norm {
            Some(max) => clip_grad_norm(&mut grads, max)?,
            None => global_norm(&grads)?,
        };
        let loss = if counted > 0 { loss_sum / counted as f64 } else { f64::NAN };
        // A NaN or infinity would poison the adapter for good: stop before the update, so the
        // last checkpoint and the adapter already written stay the last good ones.
        for (what, value) in [("loss", loss), ("gradient norm", grad_norm)] {
            if counted > 0 && !value.is_finite() {
                return Err(TrainError::NonFinite { step: step + 1, what, value });
            }
        }
        if counted > 0 {
            self.opt.step(&grads, lr)?;
        }
        self.losses.push(loss);
        let seconds = started.elapsed().as_secs_f64();
        self.tokens_trained += tokens;
        self.seconds_trained += seconds;
        self.steps_done = step + 1;
        Ok(StepStats {
            step: self.steps_done,
            total_steps: self.total_steps,
            loss,
            lr,
            grad_norm,
            tokens_per_s: tokens as f64 / seconds.max(1e-9),
            memory_bytes: process_memory().0,
            snapshot: self.snapshot_due().then(|| self.snapshot()).transpose()?.flatten(),
        })
    }

    /// Whether the validation loss is due after step `done` (every `eval_every`, and at the end).
    pub fn validation_due(&self, done: usize) -> bool {
        let every = self.cfg.eval_every;
        !self.valid.is_empty() && ((every > 0 && done.is_multiple_of(every)) || done == self.total_steps)
    }

    /// Mean loss over the validation examples (dropout off).
    pub fn validation_loss(&mut self) -> Result<f64, TrainError> {
        let r = evaluate(&self.model, &self.valid, self.cfg.batch_size, self.pad_id, &self.device)?;
        self.last_valid_loss = Some(r.loss);
        Ok(r.loss)
    }

    /// Writes `checkpoint-N` for the steps done so far.
    pub fn checkpoint(&self) -> Result<PathBuf, TrainError> {
        let state = TrainerState {
            step: self.steps_done,
            total_steps: self.total_steps,
            batcher: self.batcher.state(),
            seed: self.seed,
            batch_size: self.cfg.batch_size,
            grad_accum: self.cfg.grad_accum,
            shuffle: self.cfg.shuffle,
            schedule: self.schedule,
            losses: self.losses.clone(),
            run: Some(self.record.clone()),
        };
        let dir = checkpoint::write(&self.cfg.out, &self.model, &self.opt, &state, &self.base_name)?;
        let removed = out_dir::prune_checkpoints(&self.cfg.out, self.steps_done, self.cfg.keep_checkpoints)
            .map_err(|e| checkpoint_error(&self.cfg.out, format!("removing old checkpoints: {e}")))?;
        for old in removed {
            tracing::debug!("removed {} (keeping the last {})", old.display(), self.cfg.keep_checkpoints);
        }
        Ok(dir)
    }

    /// Writes the adapter trained so far into the output folder.
    pub fn save_adapter(&self) -> Result<(), TrainError> {
        Ok(peft::save_adapter(&self.model, &self.cfg.out, Some(&self.base_name))?)
    }

    pub fn result(&self, cancelled: bool) -> RunResult {
        RunResult {
            steps_done: self.opt.step,
            total_steps: self.total_steps,
            final_loss: self.losses.last().copied(),
            final_valid_loss: self.last_valid_loss,
            adapter_dir: self.cfg.out.clone(),
            cancelled,
            tokens_per_s: match self.seconds_trained > 0.0 {
                true => self.tokens_trained as f64 / self.seconds_trained,
                false => 0.0,
            },
            train_seconds: self.seconds_trained,
            peak_memory_bytes: process_memory().1,
            losses: self.losses.clone(),
        }
    }

    fn snapshot_due(&self) -> bool {
        let every = self.cfg.snapshot_every;
        self.cfg.snapshot.is_some()
            && every > 0
            && (self.steps_done.is_multiple_of(every) || self.steps_done == self.total_steps)
    }

    /// The A and B of the adapter `cfg.snapshot` names (`None` when it has none).
    fn snapshot(&self) -> candle_core::Result<Option<LoraSnapshot>> {
        let Some((layer, module)) = self.cfg.snapshot else {
            return Ok(None);
        };
        snapshot_of(&self.model, layer, module)
    }
}

/// The output folder, checked before anything is loaded: not an input, nothing of the user's in
/// it, writable.
fn check_out_dir(cfg: &TrainConfig) -> Result<(), TrainError> {
    let mut inputs: Vec<(&str, &Path)> = vec![("--data", &cfg.data)];
    if cfg.model.exists() {
        inputs.push(("--model", &cfg.model));
    }
    if let Some(valid) = &cfg.valid {
        inputs.push(("--valid", valid));
    }
    if let Some(adapter) = &cfg.init_adapter {
        inputs.push(("--init-adapter", adapter));
    }
    Ok(out_dir::prepare_run_out(&cfg.out, &inputs, cfg.resume.is_some())?)
}

/// The base as a checkpoint names it: its file or folder name and its shape (moving the
/// model elsewhere does not make it another model).
fn model_identity(loaded: &LoadedModel) -> String {
    let c = &loaded.config;
    let name = loaded
        .source
        .path
        .file_name()
        .map_or_else(|| loaded.source.name_or_path.clone(), |n| n.to_string_lossy().into());
    format!("{name} ({} layers, hidden {}, vocab {})", c.num_hidden_layers, c.hidden_size, c.vocab_size)
}

/// A checkpoint continues only the run that wrote it: same model, data and options — those of
/// its [`RunRecord`], and the seed, batch, accumulation and shuffling every checkpoint keeps
/// (an exact resume needs them even from a checkpoint older than the record).
fn refuse_another_run(ckpt: &Path, state: &TrainerState, now: &RunRecord, cfg: &TrainConfig) -> Result<(), TrainError> {
    let kept = [
        ("--seed", state.seed.to_string(), cfg.seed.to_string()),
        ("--batch", state.batch_size.to_string(), cfg.batch_size.to_string()),
        ("--grad-accum", state.grad_accum.to_string(), cfg.grad_accum.to_string()),
        ("--no-shuffle", (!state.shuffle).to_string(), (!cfg.shuffle).to_string()),
    ];
    let mut differences = checkpoint::differences(kept);
    match &state.run {
        Some(saved) => differences.extend(saved.differences(now)),
        None => {
            tracing::warn!("{}: an older checkpoint without its run's options; they are not checked", ckpt.display())
        }
    }
    match differences.is_empty() {
        true => Ok(()),
        false => Err(checkpoint_error(
            ckpt,
            format!(
                "it belongs to a run with other options ({}); resume with that run's options (only the length, \
                 validation, checkpointing, device and threads may change)",
                differences.join("; ")
            ),
        )),
    }
}

/// An initial adapter brings its own rank, α, targets and scaling: a run asking for others is
/// refused instead of silently training the adapter's.
fn refuse_other_adapter_settings(dir: &Path, adapter: &LoraSettings, asked: &LoraSettings) -> Result<(), TrainError> {
    let describe = |s: &LoraSettings| {
        let targets = s.targets.iter().map(|t| t.name()).collect::<Vec<_>>().join(",");
        format!(
            "--rank {} --alpha {} --targets {}{}",
            s.rank,
            s.alpha,
            targets,
            if s.use_rslora { " --rslora" } else { "" }
        )
    };
    let same = adapter.rank == asked.rank
        && adapter.alpha == asked.alpha
        && adapter.targets == asked.targets
        && adapter.use_rslora == asked.use_rslora;
    match same {
        true => Ok(()),
        false => Err(TrainError::Config(format!(
            "--init-adapter {} was made with {}, this run asks for {}: give the adapter's values (or leave \
             those options out and `train` takes them from the adapter)",
            dir.display(),
            describe(adapter),
            describe(asked)
        ))),
    }
}

/// `cfg.model` itself, or for a Hub id (`owner/name[@revision]`) that is not a local path, its
/// downloaded (or cached) folder, with `Downloading` events as the files arrive.
fn resolve_with_progress(cfg: &TrainConfig, events: &Sender<TrainEvent>) -> Result<PathBuf, TrainError> {
    let arg = cfg.model.to_string_lossy();
    let hub_error = |e: HubError| TrainError::Config(e.to_string());
    if let ModelArg::Local(path) = classify_model_arg(&arg).map_err(hub_error)? {
        return Ok(path);
    }
    let events = events.clone();
    let mut settings = HubSettings::from_env();
    settings.progress = DownloadProgress::Report(std::sync::Arc::new(move |file: &str, bytes, total| {
        let _ = events.send(TrainEvent::Downloading { file: file.to_string(), bytes, total });
    }));
    resolve_model_with(&arg, &settings).map_err(hub_error)
}

fn snapshot_of(model: &LlamaModel, layer: usize, module: Target) -> candle_core::Result<Option<LoraSnapshot>> {
    let Some((_, _, adapter)) = model.adapters().into_iter().find(|(l, t, _)| *l == layer && *t == module) else {
        return Ok(None);
    };
    let (a, b) = (adapter.a.as_tensor(), adapter.b.as_tensor());
    Ok(Some(LoraSnapshot {
        layer,
        module,
        a: a.flatten_all()?.to_vec1()?,
        b: b.flatten_all()?.to_vec1()?,
        a_shape: a.dims2()?,
        b_shape: b.dims2()?,
    }))
}

/// Seed of the dropout RNG for one micro-batch (splitmix64 of seed, step, micro-batch).
fn micro_batch_seed(seed: u64, step: usize, micro: usize) -> u64 {
    let mut z =
        seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (micro as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
