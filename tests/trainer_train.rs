//! The training loop end to end on a tiny model written to disk: the loss falls, resume from a
//! checkpoint reproduces the uninterrupted run, half-written checkpoints are ignored, and
//! bad settings are errors.

use std::path::{Path, PathBuf};

use lora_arcade::trainer::checkpoint::find_last as find_checkpoint;
use lora_arcade::trainer::fixture::{tiny_config, write_tiny_model_folder};
use lora_arcade::trainer::model::Target;
use lora_arcade::trainer::optim::ScheduleKind;
use lora_arcade::trainer::run::{self, Duration, RunResult, TrainConfig, TrainEvent};

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let model = dir.join("model");
    write_tiny_model_folder(&model, 11).unwrap();
    let data = dir.join("train.jsonl");
    let lines = [
        r#"{"prompt": "the cat sat on", "completion": "the mat"}"#,
        r#"{"prompt": "the dog ran under", "completion": "the log"}"#,
        r#"{"prompt": "one two three", "completion": "four five six"}"#,
        r#"{"prompt": "lora rank", "completion": "low rank adapter matrix"}"#,
        r#"{"text": "the big red dog ate a bone and then it slept"}"#,
        r#"{"text": "the small blue cat ate a fish and was happy"}"#,
    ];
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    (model, data)
}

fn config(model: &Path, data: &Path, out: &Path, steps: usize) -> TrainConfig {
    let mut cfg = TrainConfig::new(model, data, out);
    cfg.duration = Duration::Steps(steps);
    cfg.lr = 1e-2;
    cfg.batch_size = 2;
    cfg.max_seq_len = 32;
    cfg.schedule = ScheduleKind::Cosine;
    cfg.warmup_steps = 2;
    cfg.lora.rank = 4;
    cfg.lora.alpha = 8.0;
    cfg.lora.dropout = 0.1;
    cfg.lora.targets = Target::ALL.to_vec();
    cfg
}

fn run_to_end(cfg: TrainConfig) -> (RunResult, Vec<TrainEvent>) {
    let handle = run::start(cfg);
    let events: Vec<TrainEvent> = handle.events().collect();
    (handle.join().unwrap(), events)
}

#[test]
fn qlora_loss_falls_on_a_tiny_model_and_reports_its_4_bit_base() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let mut cfg = config(&model, &data, &dir.path().join("out"), 20);
    cfg.method = run::Method::Qlora;
    cfg.batch_size = 6;
    cfg.shuffle = false;
    cfg.lr = 5e-2;
    cfg.schedule = ScheduleKind::Constant;
    let (result, events) = run_to_end(cfg);
    let (first, last) = (result.losses[0], *result.losses.last().unwrap());
    assert!(last < first * 0.7, "loss did not fall enough: {first} → {last}");
    let Some(TrainEvent::Loaded(info)) = events.first() else { panic!("no Loaded event") };
    assert_eq!(info.method, run::Method::Qlora);
    assert_eq!(info.projection_weights, tiny_config().shape().linear_params_per_layer() as usize * 2);
    assert!(info.projection_bytes < info.projection_weights * 6 / 10, "{info:?}: NF4, not f32");
    // A plain PEFT adapter, marked as trained on a 4-bit base for our own merge.
    let (adapter, _) =
        lora_arcade::trainer::peft::read_adapter(&dir.path().join("out"), &candle_core::Device::Cpu).unwrap();
    assert_eq!(adapter.trained_on_quantized_base.as_deref(), Some("nf4"));
}

#[test]
fn loss_falls_on_a_tiny_model() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let mut cfg = config(&model, &data, &dir.path().join("out"), 30);
    cfg.batch_size = 6;
    cfg.shuffle = false;
    cfg.lr = 5e-2;
    cfg.schedule = ScheduleKind::Constant;
    let (result, events) = run_to_end(cfg);
    assert_eq!(result.steps_done, 30);
    let first = result.losses[0];
    let last = *result.losses.last().unwrap();
    assert!(last < first * 0.7, "loss did not fall enough: {first} → {last}");
    // r·(d_in + d_out) for every projection of every layer, as the maths module counts it.
    let expected = tiny_config().shape().lora_params(&Target::ALL, 4) as usize;
    assert!(matches!(events.first(), Some(TrainEvent::Loaded(i)) if i.trainable_params == expected));
    let steps: Vec<_> =
        events.iter().filter_map(|e| if let TrainEvent::Step(s) = e { Some(s) } else { None }).collect();
    assert_eq!(steps.len(), 30);
    let snap = steps[29].snapshot.as_ref().expect("snapshot of layer 0 q_proj");
    let hidden = tiny_config().hidden_size;
    assert_eq!((snap.a_shape, snap.b_shape), ((4, hidden), (hidden, 4)));
    assert!(snap.b.iter().any(|&v| v != 0.0), "B must have moved away from zero");
    assert!(matches!(events.last(), Some(TrainEvent::Finished(_))));
    assert!(dir.path().join("out/adapter_model.safetensors").is_file());
}

#[test]
fn resume_reproduces_the_uninterrupted_run_and_skips_partial_checkpoints() {
    resume_reproduces_the_uninterrupted_run(run::Method::Lora);
}

#[test]
fn qlora_resume_reproduces_the_uninterrupted_run() {
    resume_reproduces_the_uninterrupted_run(run::Method::Qlora);
}

fn resume_reproduces_the_uninterrupted_run(method: run::Method) {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let out_a = dir.path().join("a");
    let mut cfg = config(&model, &data, &out_a, 6);
    cfg.method = method;
    cfg.save_every = 3;
    cfg.grad_accum = 2;
    let (full, events) = run_to_end(cfg.clone());
    assert_eq!(full.losses.len(), 6);
    assert!(events.iter().any(|e| matches!(e, TrainEvent::Checkpoint { step: 3, .. })));

    // A kill between writes: a half-written next checkpoint and a folder missing its state.
    std::fs::create_dir_all(out_a.join(".checkpoint-9.partial")).unwrap();
    std::fs::write(out_a.join(".checkpoint-9.partial/adapter_model.safetensors.tmp"), b"trunc").unwrap();
    std::fs::create_dir_all(out_a.join("checkpoint-12")).unwrap();
    std::fs::write(out_a.join("checkpoint-12/adapter_model.safetensors"), b"garbage").unwrap();
    let latest = find_checkpoint(&out_a).unwrap();
    assert!(latest.ends_with("checkpoint-6"), "{}", latest.display());
    std::fs::remove_dir_all(out_a.join("checkpoint-6")).unwrap();
    assert!(find_checkpoint(&out_a).unwrap().ends_with("checkpoint-3"));

    let mut resumed = cfg.clone();
    resumed.out = dir.path().join("b");
    resumed.resume = Some(out_a.clone());
    resumed.save_every = 0;
    let (second, events) = run_to_end(resumed);
    assert!(matches!(events.first(), Some(TrainEvent::Loaded(i)) if i.start_step == 3));
    assert_eq!(second.losses.len(), 6);
    for i in 0..6 {
        assert!(
            (second.losses[i] - full.losses[i]).abs() <= 1e-6,
            "step {}: {} vs {}",
            i + 1,
            second.losses[i],
            full.losses[i]
        );
    }
    // The final adapters agree too.
    let a = std::fs::read(out_a.join("adapter_model.safetensors")).unwrap();
    let b = std::fs::read(dir.path().join("b/adapter_model.safetensors")).unwrap();
    assert!(a == b, "resumed adapter differs from the uninterrupted one ({method:?})");
}

#[test]
fn init_adapter_continues_from_a_saved_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let (first, _) = run_to_end(config(&model, &data, &dir.path().join("one"), 8));
    let mut cfg = config(&model, &data, &dir.path().join("two"), 1);
    cfg.init_adapter = Some(dir.path().join("one"));
    // Another rank than the adapter's (4) is refused, not silently replaced.
    cfg.lora.rank = 2;
    let err = run::start(cfg.clone()).join().unwrap_err().to_string();
    assert!(err.contains("--rank 4") && err.contains("--rank 2"), "{err}");
    cfg.lora.rank = 4;
    let (second, events) = run_to_end(cfg);
    assert!(matches!(events.first(), Some(TrainEvent::Loaded(i)) if i.trainable_params > 0));
    let fresh = run_to_end(config(&model, &data, &dir.path().join("three"), 1)).0;
    assert!(second.losses[0] < fresh.losses[0], "{} !< {}", second.losses[0], fresh.losses[0]);
    assert!(first.final_loss.unwrap() < fresh.losses[0]);
}

#[test]
fn cancel_stops_early_and_still_saves() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let handle = run::start(config(&model, &data, &dir.path().join("out"), 10_000));
    for event in handle.events() {
        if let TrainEvent::Step(s) = event
            && s.step >= 2
        {
            handle.cancel();
            break;
        }
    }
    let result = handle.join().unwrap();
    assert!(result.cancelled && result.steps_done < 10_000);
    assert!(dir.path().join("out/adapter_config.json").is_file());
}

fn expect_error(cfg: TrainConfig, needle: &str) {
    let handle = run::start(cfg);
    let events: Vec<TrainEvent> = handle.events().collect();
    let err = handle.join().expect_err("must fail").to_string();
    assert!(err.contains(needle), "error {err:?} should mention {needle:?}");
    assert!(matches!(events.last(), Some(TrainEvent::Failed { .. })));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let out = dir.path().join("out");
    expect_error(config(&dir.path().join("nope"), &data, &out, 1), "nope");
    expect_error(config(&model, &dir.path().join("missing.jsonl"), &out, 1), "missing.jsonl");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\": \"the cat\"}\nnot json\n").unwrap();
    expect_error(config(&model, &bad, &out, 1), "bad.jsonl:2");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    expect_error(config(&model, &empty, &out, 1), "empty.jsonl");
    let mut cfg = config(&model, &data, &out, 1);
    cfg.lora.rank = 64;
    expect_error(cfg, "rank 64");
    // QLoRA on a base that cannot be quantized (a NaN weight): the tensor is named.
    let broken = dir.path().join("broken-model");
    let config_of_model = lora_arcade::trainer::fixture::tiny_config();
    let mut weights = lora_arcade::trainer::fixture::tiny_weights(&config_of_model, 3);
    let name = "model.layers.1.mlp.up_proj.weight";
    let nan = candle_core::Tensor::full(f32::NAN, weights[name].dims(), &candle_core::Device::Cpu).unwrap();
    weights.insert(name.to_string(), nan);
    lora_arcade::trainer::fixture::write_hf_folder(&broken, &config_of_model, &weights, 1).unwrap();
    let mut cfg = config(&broken, &data, &out, 1);
    cfg.method = run::Method::Qlora;
    expect_error(cfg, "up_proj");
    let mut cfg = config(&model, &data, &out, 1);
    cfg.resume = Some(dir.path().to_path_buf());
    expect_error(cfg, "no complete checkpoint");
    let mut cfg = config(&model, &data, &out, 1);
    cfg.init_adapter = Some(dir.path().join("no-adapter"));
    expect_error(cfg, "adapter_config.json");
}

/// A learning rate that blows the adapter up: the run stops at the first non-finite loss or
/// gradient, naming it, before that update; the checkpoints written before it are kept.
#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let out = dir.path().join("out");
    let mut cfg = config(&model, &data, &out, 50);
    cfg.lr = 1e30;
    cfg.warmup_steps = 0;
    cfg.max_grad_norm = None;
    cfg.schedule = ScheduleKind::Constant;
    cfg.save_every = 1;
    let handle = run::start(cfg);
    let events: Vec<TrainEvent> = handle.events().collect();
    let err = handle.join().expect_err("a non-finite loss must stop the run").to_string();
    assert!(err.contains("training stopped") && (err.contains("NaN") || err.contains("inf")), "{err}");
    let steps = events.iter().filter(|e| matches!(e, TrainEvent::Step(_))).count();
    assert!(steps >= 1, "the first step itself is finite");
    assert!(out.join(format!("checkpoint-{steps}")).join("adapter_model.safetensors").is_file());
    assert!(!out.join("adapter_model.safetensors").exists(), "no adapter is written from a poisoned state");
}

#[test]
fn bf16_compute_trains_with_f32_masters() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let mut cfg = config(&model, &data, &dir.path().join("out"), 12);
    cfg.dtype = run::ComputeDType::Bf16;
    cfg.batch_size = 6;
    cfg.shuffle = false;
    cfg.lr = 5e-2;
    cfg.schedule = ScheduleKind::Constant;
    let (result, _) = run_to_end(cfg);
    assert!(result.losses.iter().all(|l| l.is_finite()), "{:?}", result.losses);
    assert!(result.losses[11] < result.losses[0], "{:?}", result.losses);
    // The adapter on disk is f32 (the masters), whatever the compute dtype.
    let bytes = std::fs::read(dir.path().join("out/adapter_model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(st.tensors().iter().all(|(_, t)| t.dtype() == safetensors::Dtype::F32));
}

/// Before and after: the answers job loads the base with the adapter once; its "base" answers
/// are exactly a plain base model's (the adapter switched off), its "adapted" ones come from the
/// trained adapter, and both follow the same decoding.
#[test]
fn answers_compare_the_base_and_the_adapted_model_with_the_same_decoding() {
    use lora_arcade::trainer::answers::{self, AnswerEvent, AnswersConfig};
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = setup(dir.path());
    let out = dir.path().join("out");
    let mut cfg = config(&model, &data, &out, 10);
    cfg.lr = 5e-2;
    run_to_end(cfg);
    let questions = vec!["the cat sat on".to_string(), "lora rank".to_string()];
    let sampling =
        lora_arcade::trainer::generate::SamplingOptions { max_new_tokens: 6, ..AnswersConfig::default_sampling() };
    let job = answers::start(AnswersConfig {
        model: model.clone(),
        adapter: out.clone(),
        method: run::Method::Lora,
        double_quant: true,
        device: run::DeviceKind::Cpu,
        questions: questions.clone(),
        system_prompt: None,
        sampling,
        threads: Some(1),
    });
    let events: Vec<AnswerEvent> = job.events().collect();
    let answers = job.join().unwrap();
    assert!(matches!(events.first(), Some(AnswerEvent::Loaded)));
    assert_eq!(events.len(), 1 + questions.len());
    assert_eq!(answers.len(), 2);
    // The base answer equals what a model without any adapter says with the same decoding.
    let loaded =
        lora_arcade::trainer::load::load_model(&model, &candle_core::Device::Cpu, candle_core::DType::F32).unwrap();
    let plain = lora_arcade::trainer::model::LlamaModel::new(
        &loaded.config,
        loaded.weights,
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
        None,
        0,
    )
    .unwrap();
    let expected =
        lora_arcade::trainer::generate::chat(&plain, &loaded.tokenizer, None, &questions[0], &sampling).unwrap();
    assert_eq!(answers[0].base, expected);
    assert!(answers.iter().any(|a| a.adapted != a.base), "the trained adapter changes some answer: {answers:?}");
}
