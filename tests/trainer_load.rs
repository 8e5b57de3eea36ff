//! Model loading: Hugging Face folders (single file and sharded), GGUF (tiny fixture and the
//! real SmolLM2-135M when fetched), tokenizer rebuilt from GGUF vs transformers' reference.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::GgmlDType;
use candle_core::quantized::gguf_file::Value as GgufValue;
use candle_core::{DType, Device, Tensor};
use lora_arcade::trainer::config::LlamaConfig;
use lora_arcade::trainer::fixture::{self, TINY_CHAT_TEMPLATE};
use lora_arcade::trainer::load::{
    self, LoadError, ModelFormat, load_config, load_model, load_tokenizer, permute_rope_rows, unpermute_rope_rows,
};
use lora_arcade::trainer::template::{ChatMessage, ChatTemplate};
use serde_json::Value;

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.to_dtype(DType::F32)
        .unwrap()
        .sub(&b.to_dtype(DType::F32).unwrap())
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// The largest |value| among the weights (the scale quantization errors are relative to).
fn max_abs(weights: &HashMap<String, Tensor>) -> f32 {
    weights.values().map(|t| t.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap()).fold(0.0, f32::max)
}

fn assert_same_weights(loaded: &HashMap<String, Tensor>, original: &HashMap<String, Tensor>, tol: f32) {
    let mut a: Vec<&String> = loaded.keys().collect();
    let mut b: Vec<&String> = original.keys().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "loaded tensor names differ from the originals");
    for (name, t) in original {
        assert_eq!(loaded[name].dims(), t.dims(), "{name}");
        let d = max_abs_diff(&loaded[name], t);
        assert!(d <= tol, "{name}: max |diff| {d} > {tol}");
    }
}

#[test]
fn rope_permutation_matches_llama_cpp_and_inverts() {
    // One head of dim 4 over 1 input column: HF rows [a0, a1, b0, b1] (halves for
    // rotate_half) become [a0, b0, a1, b1] in llama.cpp (pairs for interleaved RoPE).
    let hf = Tensor::new(&[[10f32], [11.], [20.], [21.]], &Device::Cpu).unwrap();
    let gguf = permute_rope_rows(&hf, 1).unwrap();
    assert_eq!(gguf.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![10., 20., 11., 21.]);
    let back = unpermute_rope_rows(&gguf, 1).unwrap();
    assert_eq!(back.flatten_all().unwrap().to_vec1::<f32>().unwrap(), vec![10., 11., 20., 21.]);

    let w = Tensor::arange(0f32, 3. * 8. * 5., &Device::Cpu).unwrap().reshape((24, 5)).unwrap();
    let round = unpermute_rope_rows(&permute_rope_rows(&w, 3).unwrap(), 3).unwrap();
    assert_eq!(max_abs_diff(&round, &w), 0.0);
    assert!(max_abs_diff(&permute_rope_rows(&w, 3).unwrap(), &w) > 0.0, "permutation must move rows");
}

#[test]
fn hf_folder_round_trip_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    let weights = fixture::tiny_weights(&config, 7);
    fixture::write_hf_folder(dir.path(), &config, &weights, 1).unwrap();

    let model = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap();
    assert_eq!(model.config.num_hidden_layers, 2);
    assert_eq!(model.config.num_kv_heads(), 2);
    assert!(model.weights.contains_key("lm_head.weight"));
    assert_same_weights(&model.weights, &weights, 0.0);
    assert_eq!(model.source.format, ModelFormat::HfFolder);
    assert_eq!(model.source.name_or_path, "tiny/llama-fixture");

    let tok = &model.tokenizer;
    assert_eq!(tok.bos_id, Some(1));
    assert_eq!(tok.eos_ids, vec![2]);
    assert_eq!(tok.pad_id, Some(0));
    assert!(!tok.add_bos);
    assert_eq!(tok.chat_template.as_deref(), Some(TINY_CHAT_TEMPLATE));
    let ids = tok.encode("<|im_start|>hello world<|im_end|>", true).unwrap();
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
    assert_eq!(tok.decode(&ids, false).unwrap(), "<|im_start|>hello world<|im_end|>");
}

#[test]
fn hf_folder_round_trip_sharded_tied_and_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config();
    let weights = fixture::tiny_weights(&config, 11);
    fixture::write_hf_folder(dir.path(), &config, &weights, 3).unwrap();
    assert!(dir.path().join("model.safetensors.index.json").is_file());
    assert!(dir.path().join("model-00003-of-00003.safetensors").is_file());
    assert!(!dir.path().join("model.safetensors").exists());

    let model = load_model(dir.path(), &Device::Cpu, DType::BF16).unwrap();
    assert!(model.config.tie_word_embeddings);
    assert!(!model.weights.contains_key("lm_head.weight"), "tied models have no lm_head");
    for t in model.weights.values() {
        assert_eq!(t.dtype(), DType::BF16);
    }
    // bf16 keeps 8 bits of mantissa: the error is below |x| · 2^-8.
    assert_same_weights(&model.weights, &weights, max_abs(&weights) / 256.0);
    assert_eq!(load_config(dir.path()).unwrap(), model.config);
}

#[test]
fn hf_folder_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 2).unwrap();

    let shard = dir.path().join("model-00002-of-00002.safetensors");
    std::fs::remove_file(&shard).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(matches!(&err, LoadError::NotFound { path } if *path == shard), "{err}");
    assert!(err.to_string().contains("model-00002-of-00002.safetensors"), "{err}");

    std::fs::remove_file(dir.path().join("model.safetensors.index.json")).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(err.to_string().contains("config.json") && err.to_string().contains("not found"), "{err}");

    let err = load_model(&dir.path().join("nope"), &Device::Cpu, DType::F32).unwrap_err();
    assert!(matches!(err, LoadError::NotFound { .. }));
}

fn rewrite_config(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("config.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
}

#[test]
fn unsupported_architecture_is_rejected_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 1).unwrap();
    rewrite_config(dir.path(), |v| v["model_type"] = "gpt_neox".into());
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(matches!(err, LoadError::UnsupportedArchitecture { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("config.json") && msg.contains("model_type") && msg.contains("gpt_neox"), "{msg}");
    assert!(msg.contains("llama"), "the message lists what is supported: {msg}");

    // Qwen2's config.json says nothing of attention_bias: the architecture implies it.
    rewrite_config(dir.path(), |v| {
        v["model_type"] = "qwen2".into();
        v.as_object_mut().unwrap().remove("attention_bias");
    });
    let cfg = load_config(dir.path()).unwrap();
    assert!(cfg.qkv_bias(), "qwen2 implies q/k/v biases");
    // …which the fixture does not have: the loader names the missing tensor.
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(err.to_string().contains("model.layers.0.self_attn.q_proj.bias"), "{err}");
}

#[test]
fn wrong_tensor_shape_and_missing_tensor_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    let mut weights = fixture::tiny_weights(&config, 3);
    weights.insert("model.norm.weight".into(), Tensor::zeros(7, DType::F32, &Device::Cpu).unwrap());
    fixture::write_hf_folder(dir.path(), &config, &weights, 1).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(matches!(&err, LoadError::ShapeMismatch { name, .. } if name == "model.norm.weight"), "{err}");

    weights.remove("model.norm.weight");
    fixture::write_hf_folder(dir.path(), &config, &weights, 1).unwrap();
    let err = load_model(dir.path(), &Device::Cpu, DType::F32).unwrap_err();
    assert!(matches!(&err, LoadError::MissingTensor { name, .. } if name == "model.norm.weight"), "{err}");
}

#[test]
fn tiny_gguf_round_trip_undoes_the_rope_permutation() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    let weights = fixture::tiny_weights(&config, 5);
    let path = dir.path().join("tiny.gguf");
    fixture::write_gguf(&path, &config, &weights, GgmlDType::F32).unwrap();

    let model = load_model(&path, &Device::Cpu, DType::F32).unwrap();
    // F32 storage is exact, so equality proves names, shapes and the un-permutation.
    assert_same_weights(&model.weights, &weights, 0.0);
    let mut expected = config.clone();
    expected.attention_bias = Some(false);
    expected.num_key_value_heads = Some(2);
    assert_eq!(model.config, expected);
    assert_eq!(model.source.format, ModelFormat::Gguf);
    assert_eq!(model.source.name_or_path, path.display().to_string());

    // The rebuilt tokenizer equals the Hugging Face one it was made from.
    let hf_dir = dir.path().join("hf");
    fixture::write_hf_folder(&hf_dir, &config, &weights, 1).unwrap();
    let hf_tok = load_tokenizer(&hf_dir).unwrap();
    for text in ["hello world, the world!", "<|im_start|>user\nhi there<|im_end|>\n", "ñandú 123 🦙  \t x"] {
        assert_eq!(model.tokenizer.encode(text, true).unwrap(), hf_tok.encode(text, true).unwrap(), "{text:?}");
        let ids = model.tokenizer.encode(text, false).unwrap();
        assert_eq!(model.tokenizer.decode(&ids, false).unwrap(), text);
    }
    assert_eq!(model.tokenizer.encode("123", false).unwrap().len(), 3, "the smollm pre-tokenizer splits digits");
    assert_eq!((model.tokenizer.bos_id, model.tokenizer.pad_id), (Some(1), Some(0)));
    assert_eq!(model.tokenizer.eos_ids, vec![2]);
}

#[test]
fn tiny_gguf_quantized_dequantizes_close_to_original() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config();
    let weights = fixture::tiny_weights(&config, 9);
    let path = dir.path().join("tiny-q8.gguf");
    fixture::write_gguf(&path, &config, &weights, GgmlDType::Q8_0).unwrap();
    let model = load_model(&path, &Device::Cpu, DType::F32).unwrap();
    assert!(model.config.tie_word_embeddings, "no output.weight means tied");
    // Q8_0: 127 levels per block of 32 → error ≤ absmax / 127 / 2 (+ the f16 scale's rounding).
    assert_same_weights(&model.weights, &weights, max_abs(&weights) / 127.0);
}

// ---- The real model (SmolLM2-135M-Instruct Q4_1), compared with transformers' reference ----

fn reference(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tokenizer").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn smollm2_config_from_gguf_metadata() {
    let Some(path) = load::test_model_path() else {
        return;
    };
    let c: LlamaConfig = load_config(&path).unwrap();
    assert_eq!(c.model_type, "llama");
    assert_eq!(c.num_hidden_layers, 30);
    assert_eq!(c.hidden_size, 576);
    assert_eq!(c.intermediate_size, 1536);
    assert_eq!(c.num_attention_heads, 9);
    assert_eq!(c.num_kv_heads(), 3);
    assert_eq!(c.head_dim(), 64);
    assert_eq!(c.vocab_size, 49152);
    assert!(c.tie_word_embeddings);
    assert!(!c.qkv_bias());
    assert_eq!(c.rope_theta, 100_000.0);
    assert_eq!(c.rms_norm_eps, 1e-5);
    assert_eq!(c.max_position_embeddings, 8192);
}

#[test]
fn smollm2_tokenizer_matches_transformers_token_for_token() {
    let Some(path) = load::test_model_path() else {
        return;
    };
    let tok = load_tokenizer(&path).unwrap();
    let reference = reference("ref_tokens.json");
    assert_eq!(tok.vocab_size(), reference["vocab_size"].as_u64().unwrap() as usize);
    assert_eq!(tok.bos_id, tok.token_id(reference["bos_token"].as_str().unwrap()));
    assert_eq!(tok.eos_ids, vec![tok.token_id(reference["eos_token"].as_str().unwrap()).unwrap()]);
    assert_eq!(tok.pad_id, tok.token_id(reference["pad_token"].as_str().unwrap()));
    assert!(!tok.add_bos);
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let want_special: Vec<u32> = serde_json::from_value(case["ids_with_special_tokens"].clone()).unwrap();
        assert_eq!(tok.encode(text, false).unwrap(), want, "{text:?}");
        assert_eq!(tok.encode(text, true).unwrap(), want_special, "{text:?} with special tokens");
        assert_eq!(tok.decode(&want, false).unwrap(), case["decoded"].as_str().unwrap(), "decode of {text:?}");
    }
}

#[test]
fn smollm2_chat_template_renders_like_transformers() {
    let Some(path) = load::test_model_path() else {
        return;
    };
    let tok = load_tokenizer(&path).unwrap();
    let template = ChatTemplate::for_tokenizer(&tok).unwrap();
    assert!(!template.is_fallback());
    for render in reference("ref_tokens.json")["chat_renders"].as_array().unwrap() {
        let messages: Vec<ChatMessage> = serde_json::from_value(render["messages"].clone()).unwrap();
        let add = render["add_generation_prompt"].as_bool().unwrap();
        assert_eq!(template.render(&messages, add).unwrap(), render["text"].as_str().unwrap());
    }
}

#[test]
fn smollm2_weights_match_transformers_dequantization() {
    let Some(path) = load::test_model_path() else {
        return;
    };
    let model = load_model(&path, &Device::Cpu, DType::F32).unwrap();
    assert_eq!(model.weights.len(), 1 + 30 * 9 + 1);
    for (name, shape) in model.config.weight_shapes() {
        assert_eq!(model.weights[&name].dims(), shape.as_slice(), "{name}");
    }
    assert_eq!(model.weights["model.embed_tokens.weight"].dims(), &[49152, 576]);
    assert_eq!(model.weights["model.layers.0.self_attn.k_proj.weight"].dims(), &[192, 576]);
    assert!(!model.weights.contains_key("lm_head.weight"));
    // The file records no Hub repository, so adapters name the file itself.
    assert_eq!(model.source.name_or_path, path.display().to_string());

    let reference = reference("ref_logits.json");
    for probe in reference["weight_probes"].as_array().unwrap() {
        let name = probe["name"].as_str().unwrap();
        let t = &model.weights[name];
        let shape: Vec<usize> = serde_json::from_value(probe["shape"].clone()).unwrap();
        assert_eq!(t.dims(), shape.as_slice(), "{name}");
        let sum = t.to_dtype(DType::F64).unwrap().sum_all().unwrap().to_scalar::<f64>().unwrap();
        let want_sum = probe["sum"].as_f64().unwrap();
        assert!((sum - want_sum).abs() <= 1e-6 * (1.0 + want_sum.abs()) + 1e-3, "{name}: sum {sum} vs {want_sum}");
        let rows: Vec<(Vec<f32>, Vec<f32>)> = if let Some(rows) = probe.get("rows") {
            rows.as_object()
                .unwrap()
                .iter()
                .map(|(r, want)| {
                    let got = t.get(r.parse().unwrap()).unwrap().narrow(0, 0, 8).unwrap().to_vec1().unwrap();
                    (got, serde_json::from_value(want.clone()).unwrap())
                })
                .collect()
        } else {
            vec![(
                t.narrow(0, 0, 8).unwrap().to_vec1().unwrap(),
                serde_json::from_value(probe["first8"].clone()).unwrap(),
            )]
        };
        for (got, want) in rows {
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-6, "{name}: {got:?} vs transformers {want:?}");
            }
        }
    }
}

fn tiny_gguf_with(dir: &Path, overrides: &[(&str, Option<GgufValue>)]) -> std::path::PathBuf {
    let config = fixture::tiny_config_untied();
    let path = dir.join("variant.gguf");
    fixture::write_gguf_with(&path, &config, &fixture::tiny_weights(&config, 2), GgmlDType::F32, overrides).unwrap();
    path
}

#[test]
fn gguf_unsupported_architecture_and_tokenizer_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_gguf_with(dir.path(), &[("general.architecture", Some(GgufValue::String("phi3".into())))]);
    let err = load_config(&path).unwrap_err();
    assert!(matches!(err, LoadError::UnsupportedArchitecture { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("variant.gguf") && msg.contains("general.architecture") && msg.contains("phi3"), "{msg}");

    let path = tiny_gguf_with(dir.path(), &[("tokenizer.ggml.pre", Some(GgufValue::String("klingon".into())))]);
    let err = load_tokenizer(&path).unwrap_err();
    assert!(err.to_string().contains("tokenizer.ggml.pre") && err.to_string().contains("klingon"), "{err}");

    let path = tiny_gguf_with(dir.path(), &[("tokenizer.ggml.model", Some(GgufValue::String("t5".into())))]);
    let err = load_model(&path, &Device::Cpu, DType::F32).unwrap_err();
    assert!(err.to_string().contains("tokenizer.ggml.model"), "{err}");

    let path = tiny_gguf_with(dir.path(), &[("llama.block_count", None)]);
    let err = load_config(&path).unwrap_err();
    assert!(err.to_string().contains("llama.block_count") && err.to_string().contains("missing"), "{err}");
}

/// Llama 3.1+ scaling two ways: a Hugging Face config's `rope_scaling` (llama3) and a GGUF's
/// `rope_freqs.weight` divisors as llama.cpp's converter writes them give the same frequencies and
/// the same logits; a factor table of the wrong length is refused.
#[test]
fn gguf_rope_frequency_factors_equal_the_llama3_config() {
    use lora_arcade::trainer::config::RopeScaling;
    use lora_arcade::trainer::model::{ForwardMode, LlamaModel};
    let dir = tempfile::tempdir().unwrap();
    let mut config = fixture::tiny_config_untied();
    config.rope_scaling = Some(RopeScaling {
        rope_type: "llama3".into(),
        factor: 8.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_max_position_embeddings: 64,
    });
    let scaled = config.rope_frequencies();
    let plain = lora_arcade::trainer::config::LlamaConfig { rope_scaling: None, ..config.clone() }.rope_frequencies();
    assert!(scaled.first() == plain.first() && scaled.last() < plain.last(), "high frequencies kept, low ones scaled");
    let factors: Vec<f32> = plain.iter().zip(&scaled).map(|(p, s)| (p / s) as f32).collect();
    let weights = fixture::tiny_weights(&config, 4);
    fixture::write_hf_folder(&dir.path().join("hf"), &config, &weights, 1).unwrap();
    let mut with_factors = weights.clone();
    with_factors.insert("rope_freqs.weight".into(), Tensor::new(factors.as_slice(), &Device::Cpu).unwrap());
    let gguf = dir.path().join("rope.gguf");
    let plain_config = lora_arcade::trainer::config::LlamaConfig { rope_scaling: None, ..config.clone() };
    fixture::write_gguf(&gguf, &plain_config, &with_factors, GgmlDType::F32).unwrap();

    let logits = |path: &Path| {
        let m = load_model(path, &Device::Cpu, DType::F32).unwrap();
        let model = LlamaModel::new(&m.config, m.weights, DType::F32, &Device::Cpu, None, 0).unwrap();
        let ids: Vec<u32> = (0..60u32).map(|i| (i * 7 + 3) % 265).collect();
        let ids = Tensor::from_vec(ids, (1, 60), &Device::Cpu).unwrap();
        model.logits(&model.hidden_states(&ids, &mut ForwardMode::eval(), None).unwrap()).unwrap()
    };
    let (from_hf, from_gguf) = (logits(&dir.path().join("hf")), logits(&gguf));
    assert!(max_abs_diff(&from_hf, &from_gguf) < 1e-4, "{}", max_abs_diff(&from_hf, &from_gguf));
    let mut unscaled = weights.clone();
    unscaled.insert("rope_freqs.weight".into(), Tensor::ones(plain.len(), DType::F32, &Device::Cpu).unwrap());
    fixture::write_gguf(&gguf, &plain_config, &unscaled, GgmlDType::F32).unwrap();
    assert!(max_abs_diff(&from_hf, &logits(&gguf)) > 1e-3, "the scaling changes the logits at these positions");

    with_factors.insert("rope_freqs.weight".into(), Tensor::ones(3, DType::F32, &Device::Cpu).unwrap());
    fixture::write_gguf(&gguf, &plain_config, &with_factors, GgmlDType::F32).unwrap();
    let err = load_config(&gguf).unwrap_err();
    assert!(err.to_string().contains("rope_freqs.weight"), "{err}");
}

#[test]
fn unsupported_rope_scaling_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 1).unwrap();
    rewrite_config(dir.path(), |v| v["rope_scaling"] = serde_json::json!({"type": "yarn", "factor": 4.0}));
    let err = load_config(dir.path()).unwrap_err().to_string();
    assert!(err.contains("rope_scaling") && err.contains("yarn") && err.contains("llama3"), "{err}");
}

#[test]
fn gguf_add_bos_token_makes_the_tokenizer_prepend_bos() {
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_gguf_with(dir.path(), &[("tokenizer.ggml.add_bos_token", Some(GgufValue::Bool(true)))]);
    let tok = load_tokenizer(&path).unwrap();
    assert!(tok.add_bos);
    let with = tok.encode("hello", true).unwrap();
    let without = tok.encode("hello", false).unwrap();
    assert_eq!(with[0], 1);
    assert_eq!(&with[1..], without.as_slice());
}

#[test]
fn gguf_sentencepiece_tokenizer_matches_transformers() {
    // A tiny SentencePiece ("llama") vocabulary: merges come from the scores, bytes the
    // vocabulary lacks fall back to <0xNN>, BOS is added by default.
    let reference = reference("ref_spm_tiny.json");
    let tokens: Vec<String> = serde_json::from_value(reference["tokens"].clone()).unwrap();
    let types: Vec<i32> = serde_json::from_value(reference["token_types"].clone()).unwrap();
    let scores: Vec<f32> = serde_json::from_value(reference["scores"].clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_gguf_with(
        dir.path(),
        &[
            ("tokenizer.ggml.model", Some(GgufValue::String("llama".into()))),
            ("tokenizer.ggml.tokens", Some(GgufValue::Array(tokens.into_iter().map(GgufValue::String).collect()))),
            ("tokenizer.ggml.token_type", Some(GgufValue::Array(types.into_iter().map(GgufValue::I32).collect()))),
            ("tokenizer.ggml.scores", Some(GgufValue::Array(scores.into_iter().map(GgufValue::F32).collect()))),
            ("tokenizer.ggml.merges", None),
            ("tokenizer.ggml.pre", None),
            ("tokenizer.ggml.add_bos_token", None),
            ("tokenizer.ggml.padding_token_id", None),
            ("tokenizer.ggml.unknown_token_id", Some(GgufValue::U32(0))),
        ],
    );
    let tok = load_tokenizer(&path).unwrap();
    assert!(tok.add_bos, "SentencePiece vocabularies add BOS unless the file says otherwise");
    for case in reference["cases"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let want_special: Vec<u32> = serde_json::from_value(case["ids_with_special_tokens"].clone()).unwrap();
        assert_eq!(tok.encode(text, false).unwrap(), want, "{text:?}");
        assert_eq!(tok.encode(text, true).unwrap(), want_special, "{text:?} with special tokens");
        if !text.contains("<s>") {
            assert_eq!(tok.decode(&want, false).unwrap(), text.trim_start_matches(' '), "decode of {text:?}");
        }
    }
}
