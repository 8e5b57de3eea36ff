//! The real SmolLM2-135M-Instruct (GGUF, dequantized to f32) on CPU: a few LoRA steps, and a
//! few QLoRA steps over its projections re-quantized to NF4, on a tiny dataset lower the loss,
//! and the adapter is written. SKIPPED when the model is absent (set LORA_ARCADE_GGUF; under
//! scripts/test.sh a missing model fails instead).

use lora_arcade::trainer::load::test_model_path;
use lora_arcade::trainer::model::Target;
use lora_arcade::trainer::optim::ScheduleKind;
use lora_arcade::trainer::run::{self, Duration, TrainConfig, TrainEvent};

#[test]
fn loss_falls_over_a_few_steps_on_smollm2() {
    loss_falls_on_smollm2(run::Method::Lora);
}

#[test]
fn qlora_loss_falls_over_a_few_steps_on_smollm2() {
    loss_falls_on_smollm2(run::Method::Qlora);
}

fn loss_falls_on_smollm2(method: run::Method) {
    let Some(model) = test_model_path() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.jsonl");
    std::fs::write(
        &data,
        concat!(
            r#"{"messages": [{"role": "user", "content": "What is LoRA?"}, {"role": "assistant", "content": "LoRA freezes W and learns a low-rank update B A."}]}"#, "\n",
            r#"{"messages": [{"role": "user", "content": "Shape of A?"}, {"role": "assistant", "content": "A is r by d_in; B is d_out by r."}]}"#, "\n",
        ),
    )
    .unwrap();
    let mut cfg = TrainConfig::new(&model, &data, dir.path().join("out"));
    cfg.method = method;
    cfg.duration = Duration::Steps(5);
    cfg.batch_size = 2;
    cfg.max_seq_len = 64;
    cfg.lr = 3e-3;
    cfg.schedule = ScheduleKind::Constant;
    cfg.lora.rank = 8;
    cfg.lora.alpha = 16.0;
    cfg.lora.dropout = 0.0;
    cfg.lora.targets = vec![Target::Q, Target::V];
    let handle = run::start(cfg);
    let events: Vec<TrainEvent> = handle.events().collect();
    let result = handle.join().unwrap();
    let loaded =
        events.iter().find_map(|e| if let TrainEvent::Loaded(i) = e { Some(i.clone()) } else { None }).unwrap();
    // r=8 on q (576→576) and v (576→192) in 30 layers: 8·(1152 + 768)·30.
    assert_eq!(loaded.trainable_params, 8 * (1152 + 768) * 30);
    eprintln!("SmolLM2 {method:?} losses: {:?}", result.losses);
    if method == run::Method::Qlora {
        let bytes_per_weight = loaded.projection_bytes as f64 / loaded.projection_weights as f64;
        assert!(bytes_per_weight <= 0.52, "{bytes_per_weight} bytes a projection weight");
    }
    let (first, last) = (result.losses[0], *result.losses.last().unwrap());
    assert!(first.is_finite() && first > 0.5 && first < 10.0, "implausible initial loss {first}");
    assert!(last < first - 0.2, "loss did not fall: {:?}", result.losses);
    assert!(dir.path().join("out/adapter_model.safetensors").is_file());
}
