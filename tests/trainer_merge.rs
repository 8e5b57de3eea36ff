//! Merging an adapter into the base gives the same logits as running base + adapter, and the
//! merged folder is a loadable Hugging Face model; generation is deterministic per seed.

use candle_core::{DType, Device, Tensor};
use lora_arcade::trainer::fixture::write_tiny_model_folder;
use lora_arcade::trainer::generate::{SamplingOptions, generate_ids};
use lora_arcade::trainer::load::load_model;
use lora_arcade::trainer::merge::merge_adapter;
use lora_arcade::trainer::model::{ForwardMode, LlamaModel, Target};
use lora_arcade::trainer::peft;

#[test]
fn merged_logits_equal_adapter_logits() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    write_tiny_model_folder(&base, 3).unwrap();
    let dev = Device::Cpu;

    // An adapter with non-zero B on every projection.
    let loaded = load_model(&base, &dev, DType::F32).unwrap();
    let settings = lora_arcade::trainer::model::LoraSettings {
        rank: 4,
        alpha: 8.0,
        dropout: 0.0,
        targets: Target::ALL.to_vec(),
        use_rslora: true,
    };
    let adapted = LlamaModel::new(&loaded.config, loaded.weights, DType::F32, &dev, Some(&settings), 1).unwrap();
    for (_, _, a) in adapted.adapters() {
        a.b.set(&Tensor::randn(0f32, 0.2, a.b.shape(), &dev).unwrap()).unwrap();
    }
    let adapter_dir = dir.path().join("adapter");
    peft::save_adapter(&adapted, &adapter_dir, Some("tiny")).unwrap();

    let merged_dir = dir.path().join("merged");
    let report = merge_adapter(&base, &adapter_dir, &merged_dir, false).unwrap();
    assert_eq!(report.merged_projections, 14);
    let merged = load_model(&merged_dir, &dev, DType::F32).unwrap();
    let plain = load_model(&base, &dev, DType::F32).unwrap();
    let merged = LlamaModel::new(&merged.config, merged.weights, DType::F32, &dev, None, 0).unwrap();
    let plain = LlamaModel::new(&plain.config, plain.weights, DType::F32, &dev, None, 0).unwrap();

    let ids = Tensor::new(&[[1u32, 4, 6, 8, 10, 12, 14, 30, 31]], &dev).unwrap();
    let logits = |m: &LlamaModel| m.logits(&m.hidden_states(&ids, &mut ForwardMode::eval(), None).unwrap()).unwrap();
    let (a, m, p) = (logits(&adapted), logits(&merged), logits(&plain));
    let diff = (&a - &m).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    let effect = (&a - &p).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    // f32 throughout: merging reorders the sums, so equality holds to rounding (1e-4 absolute).
    assert!(diff < 1e-4, "merged vs adapter logits differ by {diff}");
    assert!(effect > 1e-2, "the adapter must actually change the logits (changed by {effect})");

    // Greedy generation agrees; sampling is reproducible per seed.
    let tok = load_model(&base, &dev, DType::F32).unwrap().tokenizer;
    let greedy = SamplingOptions { max_new_tokens: 8, temperature: 0.0, top_p: 1.0, seed: 0, ..Default::default() };
    assert_eq!(
        generate_ids(&adapted, &tok, &[1, 4, 6], &greedy).unwrap(),
        generate_ids(&merged, &tok, &[1, 4, 6], &greedy).unwrap()
    );
    let sampled = SamplingOptions { max_new_tokens: 8, temperature: 1.0, top_p: 0.9, seed: 7, ..Default::default() };
    let once = generate_ids(&adapted, &tok, &[1, 4, 6], &sampled).unwrap();
    assert_eq!(once, generate_ids(&adapted, &tok, &[1, 4, 6], &sampled).unwrap());
    assert!(once.iter().all(|&t| (t as usize) < tok.tokenizer.get_vocab_size(true)));
}

#[test]
fn merge_rejects_missing_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    write_tiny_model_folder(&base, 3).unwrap();
    let err =
        merge_adapter(&base, &dir.path().join("nothing"), &dir.path().join("out"), false).unwrap_err().to_string();
    assert!(err.contains("adapter_config.json"), "{err}");
}
