//! Our adapter files against a PEFT-written reference (tests/data/peft_ref, made by
//! scripts/gen_peft_ref.py): same tensor names and shapes, same metadata, a config PEFT reads,
//! and a faithful round trip.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Device};
use lora_arcade::trainer::fixture::{random_weights, tiny_config};
use lora_arcade::trainer::model::{LlamaModel, LoraSettings, Target};
use lora_arcade::trainer::peft::{self, CONFIG_FILE, WEIGHTS_FILE};
use serde_json::Value;

fn ref_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/peft_ref"))
}

fn settings() -> LoraSettings {
    LoraSettings { rank: 4, alpha: 8.0, dropout: 0.0, targets: Target::ALL.to_vec(), use_rslora: false }
}

fn trained_like_model(seed: u64) -> LlamaModel {
    let cfg = tiny_config();
    let model = LlamaModel::new(
        &cfg,
        random_weights(&cfg, 1, 0.02, &Device::Cpu).unwrap(),
        DType::F32,
        &Device::Cpu,
        Some(&settings()),
        seed,
    )
    .unwrap();
    // Non-zero B, as after training.
    for (_, _, a) in model.adapters() {
        a.b.set(&candle_core::Tensor::randn(0f32, 0.1, a.b.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    model
}

#[test]
fn adapter_files_match_the_peft_reference() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_like_model(5);
    peft::save_adapter(&model, dir.path(), Some("tiny-random-llama")).unwrap();

    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(ref_dir().join("keys.json")).unwrap()).unwrap();
    let expected: BTreeMap<String, Vec<usize>> = reference["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv[0].as_str().unwrap().to_string(), serde_json::from_value(kv[1].clone()).unwrap()))
        .collect();
    let bytes = std::fs::read(dir.path().join(WEIGHTS_FILE)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let ours: BTreeMap<String, Vec<usize>> = st.tensors().into_iter().map(|(k, v)| (k, v.shape().to_vec())).collect();
    assert_eq!(ours, expected);
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(serde_json::to_value(&meta).unwrap(), reference["metadata"]);

    let ref_config: Value =
        serde_json::from_str(&std::fs::read_to_string(ref_dir().join(CONFIG_FILE)).unwrap()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
    let our_config: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = our_config.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "keys must be written sorted");
    for (k, v) in our_config.as_object().unwrap() {
        let r = ref_config.get(k).unwrap_or_else(|| panic!("PEFT has no field `{k}`"));
        match k.as_str() {
            "base_model_name_or_path" => assert_eq!(v, "tiny-random-llama"),
            "target_modules" => {
                let mut a: Vec<&str> = v.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
                let mut b: Vec<&str> = r.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
                a.sort();
                b.sort();
                assert_eq!(a, b);
            }
            _ => assert_eq!(v, r, "field `{k}`"),
        }
    }
    // PEFT's own file reads back to the same settings.
    assert_eq!(peft::read_config(ref_dir()).unwrap().settings, settings());
}

#[test]
fn adapter_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_like_model(5);
    peft::save_adapter(&model, dir.path(), None).unwrap();
    let (config, tensors) = peft::read_adapter(dir.path(), &Device::Cpu).unwrap();
    assert_eq!(config.settings, settings());
    let mut other = trained_like_model(99);
    peft::apply_adapter(&mut other, &tensors, dir.path()).unwrap();
    for ((_, a), (_, b)) in model.trainable_vars().iter().zip(other.trainable_vars().iter()) {
        let a: Vec<f32> = a.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b);
    }
    // A model adapting fewer projections rejects the extra tensors; a wrong rank is named.
    let cfg = tiny_config();
    let qv = LoraSettings { targets: vec![Target::Q, Target::V], ..settings() };
    let mut small = LlamaModel::new(
        &cfg,
        random_weights(&cfg, 1, 0.02, &Device::Cpu).unwrap(),
        DType::F32,
        &Device::Cpu,
        Some(&qv),
        0,
    )
    .unwrap();
    let err = peft::apply_adapter(&mut small, &tensors, dir.path()).unwrap_err().to_string();
    assert!(err.contains("unexpected tensors"), "{err}");
    let r2 = LoraSettings { rank: 2, ..settings() };
    let mut wrong = LlamaModel::new(
        &cfg,
        random_weights(&cfg, 1, 0.02, &Device::Cpu).unwrap(),
        DType::F32,
        &Device::Cpu,
        Some(&r2),
        0,
    )
    .unwrap();
    let err = peft::apply_adapter(&mut wrong, &tensors, dir.path()).unwrap_err().to_string();
    assert!(err.contains(&format!("expects [2, {}]", cfg.hidden_size)), "{err}");
    let with_dropout = LoraSettings { dropout: 0.05, ..settings() };
    assert_eq!(peft::config_json(&with_dropout, None)["lora_dropout"], serde_json::json!(0.05));
    std::fs::write(dir.path().join(CONFIG_FILE), "{\"peft_type\": \"PREFIX_TUNING\"}").unwrap();
    assert!(peft::read_config(dir.path()).unwrap_err().to_string().contains("PREFIX_TUNING"));
}
