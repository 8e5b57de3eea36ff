//! The trainer's subcommands: train, eval, chat, merge, bench.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use indicatif::{ProgressBar, ProgressStyle};
use lora_arcade::trainer::bench::{BenchConfig, run_bench};
use lora_arcade::trainer::data::{DataOptions, load_jsonl};
use lora_arcade::trainer::eval::evaluate;
use lora_arcade::trainer::generate::{SamplingOptions, chat};
use lora_arcade::trainer::load::{LoadOptions, LoadedModel, load_model_with, resolve_model};
use lora_arcade::trainer::merge::merge_adapter;
use lora_arcade::trainer::model::{BaseWeights, LlamaModel, LoraSettings, Target};
use lora_arcade::trainer::optim::ScheduleKind;
use lora_arcade::trainer::run::{self, ComputeDType, DeviceKind, Duration, Method, TrainConfig, TrainEvent};
use lora_arcade::trainer::{checkpoint, defaults, peft};
use serde_json::json;

use crate::cli_values::{at_least_one, fraction, non_negative, positive, sequence_length};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Base model: a Hugging Face folder, a .gguf file or a Hub id (owner/name[@revision], downloaded).
    #[arg(long)]
    model: String,
    /// Training data (JSONL: messages, prompt/completion, instruction/input/output or text).
    #[arg(long)]
    data: PathBuf,
    /// Validation data (JSONL); its loss is reported every --eval-every steps.
    #[arg(long)]
    valid: Option<PathBuf>,
    /// Output folder: the final adapter and checkpoint-N folders.
    #[arg(long, default_value = "lora-out")]
    out: PathBuf,
    /// lora: the base in --dtype; qlora: every projection of the base in 4-bit NF4.
    #[arg(long, value_enum, default_value = "lora")]
    method: Method,
    /// QLoRA: keep one f32 absmax per 64 weights instead of double-quantizing them.
    #[arg(long)]
    no_double_quant: bool,
    #[arg(long, default_value_t = defaults::RANK, value_parser = at_least_one)]
    rank: usize,
    /// LoRA α (scale α/r, or α/√r with --rslora).
    #[arg(long, default_value_t = defaults::ALPHA, value_parser = positive)]
    alpha: f64,
    #[arg(long)]
    rslora: bool,
    /// Dropout on the adapter input (training only).
    #[arg(long, default_value_t = defaults::DROPOUT, value_parser = fraction)]
    dropout: f32,
    /// Comma-separated projections (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj) or all-linear.
    #[arg(long, default_value = defaults::TARGETS_FLAG)]
    targets: String,
    #[arg(long, conflicts_with = "epochs", value_parser = at_least_one)]
    steps: Option<usize>,
    /// Passes over the data [default: 1 when --steps is not given].
    #[arg(long, value_parser = positive)]
    epochs: Option<f64>,
    #[arg(long, default_value_t = defaults::LEARNING_RATE, value_parser = positive)]
    lr: f64,
    #[arg(long, default_value_t = defaults::BATCH_SIZE, value_parser = at_least_one)]
    batch: usize,
    /// Maximum tokens per example (longer ones are truncated).
    #[arg(long, default_value_t = defaults::MAX_SEQ_LEN, value_parser = sequence_length)]
    seq: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
    #[arg(long, value_enum, default_value = "f32")]
    dtype: ComputeDType,
    #[arg(long, default_value_t = defaults::GRAD_ACCUM, value_parser = at_least_one)]
    grad_accum: usize,
    /// Global gradient-norm clipping (0 = off).
    #[arg(long, default_value_t = defaults::MAX_GRAD_NORM, value_parser = non_negative)]
    max_grad_norm: f64,
    #[arg(long, default_value_t = defaults::WEIGHT_DECAY, value_parser = non_negative)]
    weight_decay: f64,
    #[arg(long, value_enum, default_value_t = defaults::SCHEDULE)]
    schedule: ScheduleKind,
    #[arg(long, default_value_t = defaults::WARMUP_STEPS)]
    warmup_steps: usize,
    /// Checkpoint every N steps (0 = only the final adapter).
    #[arg(long, default_value_t = defaults::SAVE_EVERY)]
    save_every: usize,
    /// Keep the newest N checkpoints, removing older ones of this run (0 = keep all).
    #[arg(long, default_value_t = defaults::KEEP_CHECKPOINTS)]
    keep_checkpoints: usize,
    #[arg(long, default_value_t = defaults::EVAL_EVERY)]
    eval_every: usize,
    /// A checkpoint folder, or an output folder (its latest complete checkpoint). Options left
    /// out are the checkpoint's; those given must match it (only the length, validation,
    /// checkpointing, device and threads may change).
    #[arg(long, conflicts_with = "init_adapter")]
    resume: Option<PathBuf>,
    /// Start from an existing PEFT adapter folder (its rank, α, targets and rsLoRA unless given;
    /// given ones must match it).
    #[arg(long)]
    init_adapter: Option<PathBuf>,
    #[arg(long, default_value_t = defaults::SEED)]
    seed: u64,
    #[arg(long)]
    no_shuffle: bool,
    /// Compute threads for training [default: every core].
    #[arg(long, value_parser = at_least_one)]
    threads: Option<usize>,
    /// Also learn the prompt tokens (default: only the answers).
    #[arg(long)]
    train_on_prompt: bool,
    /// A system message for chat examples that have none (replaces the template's default).
    #[arg(long)]
    system: Option<String>,
    /// One JSON object per line per event instead of a progress bar.
    #[arg(long)]
    json: bool,
}

pub fn train(a: TrainArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let mut cfg = TrainConfig::new(&resolve_model(&a.model)?, &a.data, &a.out);
    cfg.valid = a.valid;
    cfg.method = a.method;
    cfg.double_quant = !a.no_double_quant;
    cfg.lora = LoraSettings {
        rank: a.rank,
        alpha: a.alpha,
        dropout: a.dropout,
        targets: Target::parse_list(&a.targets)?,
        use_rslora: a.rslora,
    };
    cfg.duration = match (a.steps, a.epochs) {
        (Some(s), _) => Duration::Steps(s),
        (None, Some(e)) => Duration::Epochs(e),
        (None, None) => Duration::Epochs(defaults::EPOCHS),
    };
    cfg.lr = a.lr;
    cfg.batch_size = a.batch;
    cfg.max_seq_len = a.seq;
    cfg.device = a.device;
    cfg.dtype = a.dtype;
    cfg.grad_accum = a.grad_accum;
    cfg.max_grad_norm = (a.max_grad_norm > 0.0).then_some(a.max_grad_norm);
    cfg.weight_decay = a.weight_decay;
    cfg.schedule = a.schedule;
    cfg.warmup_steps = a.warmup_steps;
    cfg.save_every = a.save_every;
    cfg.keep_checkpoints = a.keep_checkpoints;
    cfg.eval_every = a.eval_every;
    cfg.resume = a.resume;
    cfg.init_adapter = a.init_adapter;
    cfg.seed = a.seed;
    cfg.shuffle = !a.no_shuffle;
    cfg.train_on_prompt = a.train_on_prompt;
    cfg.system_prompt = a.system;
    cfg.snapshot = None;
    cfg.threads = a.threads;
    take_saved_options(&mut cfg, given)?;
    let json_out = a.json;
    let mut json_lines = JsonLines { open: json_out };
    let handle = run::start(cfg);
    let bar = (!json_out && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ETA {eta}").expect("static template"));
        bar
    });
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    for event in handle.events() {
        json_lines.emit(&event)?;
        match event {
            TrainEvent::Loaded(i) => {
                if !json_out {
                    let total = i.base_params + i.trainable_params;
                    eprintln!(
                        "{}: {} layers, {} trainable of {} parameters ({:.2} %), {} training / {} validation examples, steps {}..{}",
                        i.model,
                        i.layers,
                        i.trainable_params,
                        total,
                        100.0 * i.trainable_params as f64 / total as f64,
                        i.train_examples,
                        i.valid_examples,
                        i.start_step,
                        i.total_steps
                    );
                }
                if let Some(b) = &bar {
                    b.set_length(i.total_steps as u64);
                    b.set_position(i.start_step as u64);
                }
            }
            TrainEvent::Step(s) if !json_out => {
                let stats = format!(
                    "loss {:.4} lr {:.2e} {:.0} tok/s {:.0} MiB",
                    s.loss,
                    s.lr,
                    s.tokens_per_s,
                    mib(s.memory_bytes)
                );
                match &bar {
                    Some(b) => {
                        b.set_position(s.step as u64);
                        b.set_message(stats);
                    }
                    None => eprintln!("step {}/{} {stats}", s.step, s.total_steps),
                }
            }
            TrainEvent::Eval { step, loss, perplexity } if !json_out => report_line(
                bar.as_ref(),
                format!("step {step}: validation loss {loss:.4} (perplexity {perplexity:.2})"),
            ),
            TrainEvent::Checkpoint { step, dir } if !json_out => {
                report_line(bar.as_ref(), format!("step {step}: checkpoint {}", dir.display()))
            }
            TrainEvent::Finished(r) => {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                if !json_out {
                    eprintln!(
                        "done: {} steps, final loss {}, adapter in {} ({:.0} tok/s, peak {:.0} MiB)",
                        r.steps_done,
                        r.final_loss.map_or("-".into(), |l| format!("{l:.4}")),
                        r.adapter_dir.display(),
                        r.tokens_per_s,
                        mib(r.peak_memory_bytes)
                    );
                }
            }
            _ => {}
        }
    }
    handle.join()?;
    Ok(())
}

/// `--resume` and `--init-adapter` continue what was saved: an option left off the command line
/// is taken from the checkpoint's run (or the adapter), so only the options the user gave are
/// compared with it — and a difference is refused by the run, naming the option.
fn take_saved_options(cfg: &mut TrainConfig, given: impl Fn(&str) -> bool) -> anyhow::Result<()> {
    if let Some(dir) = &cfg.resume {
        let last = checkpoint::find_last(dir)?;
        let state = checkpoint::read_state(&last)?;
        // The run resumes the checkpoint read here (not a second search, which would warn again
        // about any checkpoint it skips).
        cfg.resume = Some(last);
        if !given("steps") && !given("epochs") {
            cfg.duration = Duration::Steps(state.total_steps);
        }
        if !given("seed") {
            cfg.seed = state.seed;
        }
        if !given("batch") {
            cfg.batch_size = state.batch_size;
        }
        if !given("grad_accum") {
            cfg.grad_accum = state.grad_accum;
        }
        if !given("no_shuffle") {
            cfg.shuffle = state.shuffle;
        }
        let Some(r) = state.run else { return Ok(()) };
        let mut keep = |id: &str, apply: &mut dyn FnMut(&mut TrainConfig)| {
            if !given(id) {
                apply(cfg)
            }
        };
        keep("method", &mut |c| c.method = r.method);
        keep("no_double_quant", &mut |c| c.double_quant = r.double_quant);
        keep("rank", &mut |c| c.lora.rank = r.rank);
        keep("alpha", &mut |c| c.lora.alpha = r.alpha);
        keep("rslora", &mut |c| c.lora.use_rslora = r.rslora);
        keep("dropout", &mut |c| c.lora.dropout = r.dropout);
        keep("targets", &mut |c| c.lora.targets = r.targets.clone());
        keep("lr", &mut |c| c.lr = r.lr);
        keep("schedule", &mut |c| c.schedule = r.schedule);
        keep("warmup_steps", &mut |c| c.warmup_steps = r.warmup_steps);
        keep("seq", &mut |c| c.max_seq_len = r.max_seq_len);
        keep("weight_decay", &mut |c| c.weight_decay = r.weight_decay);
        keep("max_grad_norm", &mut |c| c.max_grad_norm = r.max_grad_norm);
        keep("train_on_prompt", &mut |c| c.train_on_prompt = r.train_on_prompt);
        keep("system", &mut |c| c.system_prompt = r.system_prompt.clone());
    } else if let Some(dir) = &cfg.init_adapter {
        let saved = peft::read_config(dir)?.settings;
        if !given("rank") {
            cfg.lora.rank = saved.rank;
        }
        if !given("alpha") {
            cfg.lora.alpha = saved.alpha;
        }
        if !given("targets") {
            cfg.lora.targets = saved.targets;
        }
        if !given("rslora") {
            cfg.lora.use_rslora = saved.use_rslora;
        }
    }
    Ok(())
}

/// `--json` event lines on stdout. A reader that goes away (`train --json | head -1`) must not
/// cost the run: once stdout is closed the lines stop and training goes on to write its adapter.
struct JsonLines {
    open: bool,
}

impl JsonLines {
    fn emit(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        if !self.open {
            return Ok(());
        }
        let line = serde_json::to_string(value)?;
        let mut stdout = std::io::stdout().lock();
        match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.open = false;
                tracing::info!("stdout was closed: training goes on without event lines");
                Ok(())
            }
            other => Ok(other.context("writing an event line to stdout")?),
        }
    }
}

/// A line that does not move the bar: printed above it (or to stderr when there is none).
fn report_line(bar: Option<&ProgressBar>, line: String) {
    match bar {
        Some(b) => b.println(line),
        None => eprintln!("{line}"),
    }
}

#[derive(Args, Debug)]
pub struct ModelArgs {
    /// Base model: a Hugging Face folder, a .gguf file or a Hub id (owner/name[@revision], downloaded).
    #[arg(long)]
    model: String,
    /// A PEFT adapter folder to apply.
    #[arg(long)]
    adapter: Option<PathBuf>,
    /// qlora: run over the 4-bit NF4 base the adapter was trained on.
    #[arg(long, value_enum, default_value = "lora")]
    method: Method,
    /// QLoRA: one f32 absmax per 64 weights instead of double quantization.
    #[arg(long)]
    no_double_quant: bool,
    /// A system message before each conversation (the one the adapter was trained with).
    #[arg(long)]
    system: Option<String>,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
    #[arg(long, value_enum, default_value = "f32")]
    dtype: ComputeDType,
}

/// Loads the base and, when given, applies the adapter. Returns the loaded bundle's tokenizer too.
fn load_with_adapter(a: &ModelArgs) -> anyhow::Result<(LoadedModel, LlamaModel, Option<LlamaModel>)> {
    let device = a.device.open()?;
    let dtype = a.dtype.dtype();
    let mut opts = LoadOptions::new(&device, dtype);
    opts.nf4 = (a.method == Method::Qlora).then_some(!a.no_double_quant);
    let mut loaded = load_model_with(&resolve_model(&a.model)?, &opts)?;
    let weights = BaseWeights { dense: std::mem::take(&mut loaded.weights), nf4: std::mem::take(&mut loaded.nf4) };
    let base = LlamaModel::new(&loaded.config, weights.clone(), dtype, &device, None, 0)?;
    let adapted = match &a.adapter {
        Some(dir) => {
            let (config, tensors) = peft::read_adapter(dir, &device)?;
            let mut m = LlamaModel::new(&loaded.config, weights, dtype, &device, Some(&config.settings), 0)?;
            peft::apply_adapter(&mut m, &tensors, dir)?;
            Some(m)
        }
        None => None,
    };
    Ok((loaded, base, adapted))
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// JSONL file to evaluate on (same formats and masking as training).
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 4, value_parser = at_least_one)]
    batch: usize,
    #[arg(long, default_value_t = 512, value_parser = sequence_length)]
    seq: usize,
    #[arg(long)]
    train_on_prompt: bool,
    /// End with {"loss","perplexity","tokens"} on stdout.
    #[arg(long)]
    json: bool,
}

pub fn eval(a: EvalArgs) -> anyhow::Result<()> {
    let (loaded, base, adapted) = load_with_adapter(&a.model)?;
    let opts =
        DataOptions { train_on_prompt: a.train_on_prompt, max_seq_len: a.seq, system_prompt: a.model.system.clone() };
    let examples = load_jsonl(&a.data, &loaded.tokenizer, &opts)?;
    let model = adapted.as_ref().unwrap_or(&base);
    let r = evaluate(model, &examples, a.batch, loaded.tokenizer.padding_id(), &model.device)
        .with_context(|| format!("evaluating {}", a.data.display()))?;
    if a.json {
        println!("{}", json!({"loss": r.loss, "perplexity": r.perplexity, "tokens": r.tokens}));
    } else {
        println!(
            "loss {:.4}  perplexity {:.3}  over {} tokens{}",
            r.loss,
            r.perplexity,
            r.tokens,
            if adapted.is_some() { " (with adapter)" } else { "" }
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ChatArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The message to answer; without it, each line of stdin is one message.
    #[arg(long)]
    prompt: Option<String>,
    #[arg(long, default_value_t = 128)]
    max_new_tokens: usize,
    /// 0 = greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    #[arg(long, default_value_t = 0.9)]
    top_p: f64,
    /// Sample only among the k most likely tokens.
    #[arg(long)]
    top_k: Option<usize>,
    /// Penalty on tokens seen in the last 64 (1 = off).
    #[arg(long, default_value_t = 1.1)]
    repeat_penalty: f32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the base model's answer and the adapted one side by side (needs --adapter).
    #[arg(long)]
    compare: bool,
}

pub fn chat_cmd(a: ChatArgs) -> anyhow::Result<()> {
    if a.compare && a.model.adapter.is_none() {
        bail!("--compare needs --adapter DIR");
    }
    if !(a.temperature >= 0.0 && a.top_p > 0.0 && a.top_p <= 1.0) {
        bail!("--temperature must be ≥ 0 and --top-p in (0, 1]");
    }
    if !(a.repeat_penalty.is_finite() && a.repeat_penalty > 0.0) || a.top_k == Some(0) {
        bail!("--repeat-penalty must be a positive number and --top-k at least 1");
    }
    let (loaded, base, adapted) = load_with_adapter(&a.model)?;
    let opts = SamplingOptions {
        max_new_tokens: a.max_new_tokens,
        temperature: a.temperature,
        top_p: a.top_p,
        top_k: a.top_k,
        repeat_penalty: a.repeat_penalty,
        seed: a.seed,
        ..Default::default()
    };
    let system = a.model.system.as_deref();
    let answer = |message: &str| -> anyhow::Result<()> {
        if a.compare {
            let b = chat(&base, &loaded.tokenizer, system, message, &opts)?;
            let t = chat(adapted.as_ref().expect("checked"), &loaded.tokenizer, system, message, &opts)?;
            println!("── base ──\n{b}\n── with adapter ──\n{t}");
        } else {
            println!("{}", chat(adapted.as_ref().unwrap_or(&base), &loaded.tokenizer, system, message, &opts)?);
        }
        std::io::stdout().flush()?;
        Ok(())
    };
    match &a.prompt {
        Some(p) => answer(p),
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    answer(line.trim())?;
                }
            }
            Ok(())
        }
    }
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Base model (HF folder, .gguf or Hub id; a quantized GGUF is dequantized to f32 first).
    #[arg(long)]
    model: String,
    #[arg(long)]
    adapter: PathBuf,
    /// Output Hugging Face folder (f32 safetensors, config, tokenizer). Never the base's folder.
    #[arg(long)]
    out: PathBuf,
    /// Write into an --out that holds other files (only the merge's own four files are replaced).
    #[arg(long)]
    force: bool,
}

pub fn merge(a: MergeArgs) -> anyhow::Result<()> {
    let r = merge_adapter(&resolve_model(&a.model)?, &a.adapter, &a.out, a.force)?;
    if r.trained_on_quantized_base {
        println!(
            "this adapter was trained with QLoRA on a 4-bit NF4 base: it is merged into the full-precision \
             weights (W + s·B·A), as PEFT advises — merging into 4-bit weights would re-quantize them"
        );
    }
    println!(
        "merged {} adapted projections; wrote {} tensors to {}",
        r.merged_projections,
        r.tensors,
        r.out_dir.display()
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Shapes to benchmark (random init): smollm2-135m, smollm2-360m, tinyllama-1.1b or tiny.
    #[arg(long, default_value = "smollm2-135m")]
    model: String,
    #[arg(long, value_enum, default_value = "lora")]
    method: Method,
    /// Train the same shapes with LoRA and with QLoRA (each in its own process, so each peak
    /// memory is its own) and print the deck's table.
    #[arg(long, conflicts_with = "method")]
    compare: bool,
    /// QLoRA: one f32 absmax per 64 weights instead of double quantization.
    #[arg(long)]
    no_double_quant: bool,
    #[arg(long, default_value_t = BenchConfig::default().rank, value_parser = at_least_one)]
    rank: usize,
    #[arg(long, default_value_t = 128, value_parser = sequence_length)]
    seq: usize,
    #[arg(long, default_value_t = 4, value_parser = at_least_one)]
    batch: usize,
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    steps: usize,
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceKind,
    #[arg(long, value_enum, default_value = "f32")]
    dtype: ComputeDType,
    #[arg(long)]
    json: bool,
}

pub fn bench(a: BenchArgs) -> anyhow::Result<()> {
    if a.compare {
        return bench_compare(&a);
    }
    let r = run_bench(&BenchConfig {
        model: a.model,
        method: a.method,
        rank: a.rank,
        seq: a.seq,
        batch: a.batch,
        steps: a.steps,
        warmup: a.warmup,
        device: a.device,
        dtype: a.dtype,
        double_quant: !a.no_double_quant,
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} {} r{} {} {} seq {} batch {}: {:.1} tokens/s ({:.3} s/step: forward {:.3}, backward {:.3}, AdamW {:.3}), peak RSS {:.0} MiB, projection weights {:.0} MiB ({:.3} bytes each), {} trainable of {}",
            r.model,
            r.method,
            r.rank,
            r.device,
            r.dtype,
            r.seq,
            r.batch,
            r.tokens_per_s,
            r.step_s,
            r.forward_s,
            r.backward_s,
            r.optimizer_s,
            r.peak_rss_mib,
            r.weight_mib,
            r.bytes_per_weight,
            r.trainable,
            r.total
        );
    }
    Ok(())
}

/// `bench --compare`: LoRA then QLoRA, each a child process of this program, as the deck's
/// "PRUEBAS DE RENDIMIENTO" table.
fn bench_compare(a: &BenchArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this program to run the two benchmarks")?;
    let mut rows = Vec::new();
    for method in ["lora", "qlora"] {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["bench", "--json", "--method", method, "--model", &a.model]);
        for (flag, value) in
            [("--rank", a.rank), ("--seq", a.seq), ("--batch", a.batch), ("--steps", a.steps), ("--warmup", a.warmup)]
        {
            cmd.args([flag, &value.to_string()]);
        }
        cmd.args([
            "--device",
            &format!("{:?}", a.device).to_lowercase(),
            "--dtype",
            &format!("{:?}", a.dtype).to_lowercase(),
        ]);
        if a.no_double_quant {
            cmd.arg("--no-double-quant");
        }
        let out = cmd.stderr(std::process::Stdio::inherit()).output().context("running the benchmark")?;
        if !out.status.success() {
            bail!("the {method} benchmark failed ({})", out.status);
        }
        let line = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
        let row: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("reading the {method} result"))?;
        rows.push(row);
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
        return Ok(());
    }
    println!("PRUEBAS DE RENDIMIENTO — {} r{} seq {} batch {}, {} steps", a.model, a.rank, a.seq, a.batch, a.steps);
    println!(
        "{:<8} {:<7} {:>10} {:>12} {:>16} {:>18}",
        "device", "method", "time (s)", "tokens/s", "peak memory MiB", "weight memory MiB"
    );
    for r in &rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<8} {:<7} {:>10.1} {:>12.1} {:>16.0} {:>18.0}",
            r["device"].as_str().unwrap_or("?"),
            r["method"].as_str().unwrap_or("?"),
            f("step_s") * a.steps as f64,
            f("tokens_per_s"),
            f("peak_rss_mib"),
            f("weight_mib")
        );
    }
    Ok(())
}
