//! The training model's gradients: frozen linears give only the input gradient, and LoRA A/B
//! gradients through the whole decoder match finite differences (maths in f64).

use candle_core::{DType, Device, Tensor, Var};
use lora_arcade::trainer::fixture::{random_weights, tiny_config};
use lora_arcade::trainer::kernels::frozen::{self, DenseWeight, SharedProduct, frozen_matmul};
use lora_arcade::trainer::loss::causal_lm_loss;
use lora_arcade::trainer::model::{ForwardMode, KvCache, LlamaModel, LoraSettings, Target};
use std::path::Path;

fn tiny_batch(dev: &Device) -> (Tensor, Tensor) {
    let ids: Vec<u32> = vec![1, 5, 9, 13, 17, 21, 3, 7, 2, 40, 41, 42, 43, 44, 45, 46];
    let labels: Vec<i64> = vec![-100, -100, 9, 13, 17, 21, 3, 7, -100, 40, 41, 42, 43, -100, 45, 46];
    (Tensor::from_vec(ids, (2, 8), dev).unwrap(), Tensor::from_vec(labels, (2, 8), dev).unwrap())
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b).unwrap().abs().unwrap().max_all().unwrap().to_dtype(DType::F32).unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn frozen_linear_backward_gives_only_the_input_gradient() {
    let dev = Device::Cpu;
    let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (2, 3, 5), &dev).unwrap()).unwrap();
    let w = Tensor::randn(0f32, 1.0, (4, 5), &dev).unwrap();
    let upstream = Tensor::randn(0f32, 1.0, (2, 3, 4), &dev).unwrap();
    // Autograd through a plain matmul with a trainable weight, for comparison.
    let wv = Var::from_tensor(&w).unwrap();
    let reference = x.as_tensor().broadcast_matmul(&wv.as_tensor().t().unwrap()).unwrap();
    let g_ref = (&reference * &upstream).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(g_ref.get(wv.as_tensor()).is_some(), "candle's matmul does compute a weight gradient");

    // The device path (a weight tensor) and the CPU kernels' path (a frozen product).
    let product: SharedProduct = std::sync::Arc::new(DenseWeight::new(&w).unwrap());
    let paths: [(&str, Tensor); 2] = [
        ("frozen_matmul", frozen_matmul(x.as_tensor(), &w).unwrap()),
        ("project", frozen::project(x.as_tensor(), &product).unwrap()),
    ];
    for (name, y) in paths {
        assert_eq!(y.dims(), [2, 3, 4], "{name}");
        let diff = max_abs_diff(&y, &reference);
        assert!(diff < 1e-5, "{name}: forward differs by {diff}");
        let grads = (&y * &upstream).unwrap().sum_all().unwrap().backward().unwrap();
        let gx = grads.get(x.as_tensor()).expect("input gradient");
        assert!(grads.get(&w).is_none(), "{name}: no gradient may be stored for the frozen weight");
        let diff = max_abs_diff(gx, g_ref.get(x.as_tensor()).unwrap());
        assert!(diff < 1e-5, "{name}: input gradient differs from autograd matmul by {diff}");
    }
}

fn check_lora_gradients(model_type: &str) {
    let dev = Device::Cpu;
    let mut cfg = tiny_config();
    cfg.model_type = model_type.to_string();
    let weights = random_weights(&cfg, 7, 0.02, &dev).unwrap();
    let lora = LoraSettings { rank: 2, alpha: 4.0, dropout: 0.0, targets: Target::ALL.to_vec(), use_rslora: false };
    let model = LlamaModel::new(&cfg, weights, DType::F64, &dev, Some(&lora), 3).unwrap();
    // B starts at zero (so dL/dA = 0): give B random values to make the check meaningful.
    let vars = model.trainable_vars();
    assert_eq!(vars.len(), 2 * 7 * 2);
    for (name, var) in &vars {
        if name.ends_with("lora_B") {
            var.set(&Tensor::randn(0f32, 0.3, var.shape(), &dev).unwrap()).unwrap();
        }
    }
    let (ids, labels) = tiny_batch(&dev);
    let loss_of = |m: &LlamaModel| -> f64 {
        let out = causal_lm_loss(m, &ids, &labels, &mut ForwardMode::eval()).unwrap();
        out.loss.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap()
    };
    let out = causal_lm_loss(&model, &ids, &labels, &mut ForwardMode::eval()).unwrap();
    assert_eq!(out.n_tokens, 12);
    let grads = out.loss.backward().unwrap();
    let mut checked = 0;
    let chosen = ["layers.0.self_attn.q_proj", "layers.0.self_attn.k_proj", "layers.1.mlp.down_proj"];
    for (name, var) in vars.iter().filter(|(n, _)| chosen.iter().any(|c| n.contains(c))) {
        let g = grads.get(var.as_tensor()).unwrap_or_else(|| panic!("no gradient for {name}"));
        let g: Vec<f32> = g.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        let base: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        for idx in [0, base.len() / 2, base.len() - 1] {
            // The masters are f32: perturb them, then divide by the step actually taken.
            let mut plus = base.clone();
            plus[idx] += 1e-3;
            let mut minus = base.clone();
            minus[idx] -= 1e-3;
            let step = plus[idx] as f64 - minus[idx] as f64;
            var.set(&Tensor::from_vec(plus, var.shape(), &dev).unwrap()).unwrap();
            let lp = loss_of(&model);
            var.set(&Tensor::from_vec(minus, var.shape(), &dev).unwrap()).unwrap();
            let lm = loss_of(&model);
            var.set(&Tensor::from_vec(base.clone(), var.shape(), &dev).unwrap()).unwrap();
            let numeric = (lp - lm) / step;
            let analytic = g[idx] as f64;
            let tol = 1e-6 + 1e-3 * numeric.abs().max(analytic.abs());
            assert!((numeric - analytic).abs() < tol, "{name}[{idx}]: analytic {analytic} vs numeric {numeric}");
            assert!(analytic.abs() > 1e-7, "{name}[{idx}]: gradient is zero, the check would be vacuous");
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}

#[test]
fn lora_gradients_match_finite_differences_llama() {
    check_lora_gradients("llama");
}

#[test]
fn lora_gradients_match_finite_differences_qwen2_with_qkv_bias() {
    check_lora_gradients("qwen2");
}

#[test]
fn loss_equals_naive_full_vocabulary_cross_entropy() {
    let dev = Device::Cpu;
    let cfg = tiny_config();
    let model = LlamaModel::new(&cfg, random_weights(&cfg, 1, 0.02, &dev).unwrap(), DType::F32, &dev, None, 0).unwrap();
    let (ids, labels) = tiny_batch(&dev);
    let out = causal_lm_loss(&model, &ids, &labels, &mut ForwardMode::eval()).unwrap();
    let loss = out.loss.to_scalar::<f32>().unwrap();
    // Naive: full logits, log-softmax, shifted labels, mean over the non-ignored ones.
    let hidden = model.hidden_states(&ids, &mut ForwardMode::eval(), None).unwrap();
    let logp = candle_nn::ops::log_softmax(&model.logits(&hidden).unwrap(), 2).unwrap();
    let logp: Vec<Vec<Vec<f32>>> = logp.to_vec3().unwrap();
    let labels: Vec<Vec<i64>> = labels.to_vec2().unwrap();
    let (mut sum, mut n) = (0f64, 0);
    for b in 0..2 {
        for t in 0..7 {
            let l = labels[b][t + 1];
            if l != -100 {
                sum -= logp[b][t][l as usize] as f64;
                n += 1;
            }
        }
    }
    let naive = (sum / n as f64) as f32;
    assert!((loss - naive).abs() < 1e-5, "{loss} vs {naive}");
    // A model with small random weights is near-uniform over its vocabulary: loss ≈ ln V.
    let uniform = (cfg.vocab_size as f32).ln();
    assert!((loss - uniform).abs() < 0.5, "{loss} vs ln {} = {uniform}", cfg.vocab_size);
}

#[test]
fn kv_cache_generation_matches_full_forward() {
    let dev = Device::Cpu;
    let cfg = tiny_config();
    let model = LlamaModel::new(&cfg, random_weights(&cfg, 2, 0.02, &dev).unwrap(), DType::F32, &dev, None, 0).unwrap();
    let ids = Tensor::new(&[[3u32, 9, 27, 14, 5]], &dev).unwrap();
    let full = model.hidden_states(&ids, &mut ForwardMode::eval(), None).unwrap();
    let mut cache = KvCache::new();
    let a = model.hidden_states(&ids.narrow(1, 0, 3).unwrap(), &mut ForwardMode::eval(), Some(&mut cache)).unwrap();
    assert_eq!(cache.len(), 3);
    let b = model.hidden_states(&ids.narrow(1, 3, 2).unwrap(), &mut ForwardMode::eval(), Some(&mut cache)).unwrap();
    let stepped = Tensor::cat(&[a, b], 1).unwrap();
    let diff = max_abs_diff(&full, &stepped);
    assert!(diff < 1e-5, "cached forward differs by {diff}");
}

#[test]
fn bad_model_inputs_are_errors() {
    let dev = Device::Cpu;
    let cfg = tiny_config();
    let mut w = random_weights(&cfg, 1, 0.02, &dev).unwrap();
    w.remove("model.layers.1.mlp.up_proj.weight");
    let err = LlamaModel::new(&cfg, w, DType::F32, &dev, None, 0).err().unwrap().to_string();
    assert!(err.contains("model.layers.1.mlp.up_proj.weight"), "{err}");

    let mut w = random_weights(&cfg, 1, 0.02, &dev).unwrap();
    w.insert("model.norm.weight".into(), Tensor::ones(3, DType::F32, &dev).unwrap());
    let err = LlamaModel::new(&cfg, w, DType::F32, &dev, None, 0).err().unwrap().to_string();
    assert!(err.contains("model.norm.weight") && err.contains("[3]"), "{err}");

    // One more than the narrowest projection (k/v) allows.
    let too_big = cfg.projection_shape(Target::K).0 + 1;
    let lora = LoraSettings { rank: too_big, ..Default::default() };
    let w = random_weights(&cfg, 1, 0.02, &dev).unwrap();
    let err = LlamaModel::new(&cfg, w, DType::F32, &dev, Some(&lora), 0).err().unwrap().to_string();
    assert!(err.contains(&format!("rank {too_big}")), "{err}");

    let mut bad = cfg.clone();
    bad.model_type = "gpt2".into();
    let w = random_weights(&cfg, 1, 0.02, &dev).unwrap();
    let err = LlamaModel::new(&bad, w, DType::F32, &dev, None, 0).err().unwrap().to_string();
    assert!(err.contains("gpt2"), "{err}");
    assert!(Target::parse_list("q_proj,wat").is_err());
    assert_eq!(Target::parse_list("all-linear").unwrap().len(), 7);
}

/// Writes the committed reference model `name` afresh and checks it is unchanged. If the fixture
/// ever changes, `LORA_ARCADE_BLESS=1` rewrites the committed folder and the test asks for
/// scripts/gen_peft_ref.py to be run again.
fn committed_fixture(name: &str, write: impl FnOnce(&Path)) -> std::path::PathBuf {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/peft_ref").join(name);
    let fresh = tempfile::tempdir().unwrap();
    write(fresh.path());
    let files = |dir: &Path| -> Vec<(std::ffi::OsString, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|f| (f.file_name(), std::fs::read(f.path()).unwrap())).collect())
            .unwrap_or_default();
        files.sort();
        files
    };
    if files(fresh.path()) != files(&committed) {
        if std::env::var_os("LORA_ARCADE_BLESS").is_some() {
            std::fs::create_dir_all(&committed).unwrap();
            for f in std::fs::read_dir(fresh.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), committed.join(f.file_name())).unwrap();
            }
        }
        panic!(
            "the fixture model differs from {}: rewrite it with LORA_ARCADE_BLESS=1, then run \
             scripts/gen_peft_ref.py loss (see its header) to make its reference loss again",
            committed.display()
        );
    }
    committed
}

/// Our loss on a committed model against transformers' on the same ids (`reference` file).
fn assert_loss_equals_transformers(model_dir: &Path, reference: &str) {
    let path = model_dir.parent().unwrap().join(reference);
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let loaded = lora_arcade::trainer::load::load_model(model_dir, &Device::Cpu, DType::F32).unwrap();
    let model = LlamaModel::new(&loaded.config, loaded.weights, DType::F32, &Device::Cpu, None, 0).unwrap();
    let ids: Vec<Vec<u32>> = serde_json::from_value(reference["input_ids"].clone()).unwrap();
    let labels: Vec<Vec<i64>> = serde_json::from_value(reference["labels"].clone()).unwrap();
    let (b, s) = (ids.len(), ids[0].len());
    let ids = Tensor::from_vec(ids.concat(), (b, s), &Device::Cpu).unwrap();
    let labels = Tensor::from_vec(labels.concat(), (b, s), &Device::Cpu).unwrap();
    let out = causal_lm_loss(&model, &ids, &labels, &mut ForwardMode::eval()).unwrap();
    let ours = out.loss.to_scalar::<f32>().unwrap() as f64;
    let theirs = reference["loss"].as_f64().unwrap();
    eprintln!("{}: loss ours {ours}, transformers {theirs}", model_dir.display());
    assert!((ours - theirs).abs() < 1e-5, "ours {ours} vs transformers {theirs}");
}

/// Same model, same data → the same number as transformers (references made by
/// scripts/gen_peft_ref.py on the committed fixture models).
#[test]
fn loss_equals_transformers_on_the_same_model() {
    let dir =
        committed_fixture("tiny-model", |d| lora_arcade::trainer::fixture::write_tiny_model_folder(d, 21).unwrap());
    assert_loss_equals_transformers(&dir, "loss.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.parent().unwrap().join("loss.json")).unwrap()).unwrap();
    let (ids, labels) = tiny_batch(&Device::Cpu);
    assert_eq!(
        reference["input_ids"],
        serde_json::json!(ids.to_vec2::<u32>().unwrap()),
        "the batch the other tests use"
    );
    assert_eq!(reference["labels"], serde_json::json!(labels.to_vec2::<i64>().unwrap()));
}

/// Llama 3.1's RoPE scaling (`rope_scaling.rope_type = "llama3"`) against transformers, over
/// positions long enough for the scaled low frequencies to matter.
#[test]
fn llama3_rope_scaling_equals_transformers() {
    use lora_arcade::trainer::config::RopeScaling;
    use lora_arcade::trainer::fixture;
    let dir = committed_fixture("tiny-llama3", |d| {
        let mut config = fixture::tiny_config();
        config.max_position_embeddings = 512;
        config.rope_scaling = Some(RopeScaling {
            rope_type: "llama3".into(),
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 64,
        });
        fixture::write_hf_folder(d, &config, &fixture::tiny_weights(&config, 22), 1).unwrap();
    });
    assert_loss_equals_transformers(&dir, "llama3_loss.json");
}

/// The fused CPU kernels against their composite (candle-op) versions: values and gradients.
#[test]
fn fused_kernels_match_composite_ops_in_value_and_gradient() {
    use lora_arcade::trainer::kernels::cross_entropy::*;
    use lora_arcade::trainer::kernels::rms_norm::*;
    use lora_arcade::trainer::kernels::rope::RopeTables;
    use lora_arcade::trainer::kernels::softmax::*;
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        let x =
            Var::from_tensor(&Tensor::randn(0f32, 2.0, (3, 5, 70), &dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, 70, &dev).unwrap().to_dtype(dtype).unwrap();
        let up = Tensor::randn(0f32, 1.0, (3, 5, 70), &dev).unwrap().to_dtype(dtype).unwrap();
        type Pair = (fn(&Tensor, &Tensor) -> Tensor, fn(&Tensor, &Tensor) -> Tensor);
        let cases: [(&str, Pair); 2] = [
            ("softmax", (|x, _| softmax_last_dim(x).unwrap(), |x, _| softmax_composite(x).unwrap())),
            ("rms_norm", (|x, w| rms_norm(x, w, 1e-5).unwrap(), |x, w| rms_norm_composite(x, w, 1e-5).unwrap())),
        ];
        for (name, (fused, composite)) in cases {
            let a = fused(x.as_tensor(), &w);
            let b = composite(x.as_tensor(), &w);
            assert!(max_abs_diff(&a, &b) < tol as f32, "{name} {dtype:?} forward");
            let ga = (a * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let gb = (b * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let d = max_abs_diff(ga.get(x.as_tensor()).unwrap(), gb.get(x.as_tensor()).unwrap());
            assert!(d < 10.0 * tol as f32, "{name} {dtype:?} gradient differs by {d}");
        }
        // RoPE on [B, H, S, D] at positions 3..8.
        let rope = RopeTables::new(70, 10000.0, 3, 5, dtype, &dev).unwrap();
        let xr =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (2, 3, 5, 70), &dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
        let upr = Tensor::randn(0f32, 1.0, (2, 3, 5, 70), &dev).unwrap().to_dtype(dtype).unwrap();
        let a = rope.apply(xr.as_tensor()).unwrap();
        let b = rope.apply_composite(xr.as_tensor()).unwrap();
        assert!(max_abs_diff(&a, &b) < tol as f32, "rope {dtype:?} forward");
        let ga = (a * &upr).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (b * &upr).unwrap().sum_all().unwrap().backward().unwrap();
        let d = max_abs_diff(ga.get(xr.as_tensor()).unwrap(), gb.get(xr.as_tensor()).unwrap());
        assert!(d < 10.0 * tol as f32, "rope {dtype:?} gradient differs by {d}");

        let logits =
            Var::from_tensor(&Tensor::randn(0f32, 3.0, (6, 50), &dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
        let targets = Tensor::new(&[0u32, 49, 7, 7, 13, 21], &dev).unwrap();
        let weights = Tensor::randn(0f32, 1.0, 6, &dev).unwrap().to_dtype(dtype).unwrap();
        let a = cross_entropy_rows(logits.as_tensor(), &targets).unwrap();
        let b = cross_entropy_rows_composite(logits.as_tensor(), &targets).unwrap();
        assert!(max_abs_diff(&a, &b) < tol as f32, "cross-entropy {dtype:?} forward");
        let ga = (a * &weights).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (b * &weights).unwrap().sum_all().unwrap().backward().unwrap();
        let d = max_abs_diff(ga.get(logits.as_tensor()).unwrap(), gb.get(logits.as_tensor()).unwrap());
        assert!(d < 10.0 * tol as f32, "cross-entropy {dtype:?} gradient differs by {d}");
    }
}

/// Gradients of `Σ y⊙up` with respect to each of `vars`.
fn grads_of(y: &Tensor, up: &Tensor, vars: &[&Tensor]) -> Vec<Tensor> {
    let g = (y * up).unwrap().sum_all().unwrap().backward().unwrap();
    vars.iter().map(|v| g.get(v).expect("gradient").clone()).collect()
}

/// The fused projection (base + bias + LoRA with dropout in one op) against the same layer
/// from candle ops: output, and the gradients of x, A and B.
#[test]
fn fused_lora_linear_matches_candle_ops_in_value_and_gradient() {
    use lora_arcade::trainer::model::{AdaptedLinear, FrozenLinear, LoraAdapter};
    use rand::{SeedableRng, rngs::StdRng};
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let tol = if dtype == DType::F32 { 1e-4 } else { 1e-10 };
        let rand = |shape: &[usize], s: f32| Tensor::randn(0f32, s, shape, &dev).unwrap().to_dtype(dtype).unwrap();
        let w = rand(&[24, 40], 0.3);
        let bias = rand(&[24], 1.0);
        let mut rng = StdRng::seed_from_u64(5);
        let lora = LoraAdapter::init(40, 24, 4, 2.0, 0.25, &mut rng, &dev).unwrap();
        lora.b.set(&Tensor::randn(0f32, 0.5, (24, 4), &dev).unwrap()).unwrap();
        let layer = AdaptedLinear { base: Box::new(FrozenLinear::new(w, Some(bias)).unwrap()), lora: Some(lora) };
        let x = Var::from_tensor(&rand(&[3, 7, 40], 1.0)).unwrap();
        let up = rand(&[3, 7, 24], 1.0);
        let (a, b) =
            (layer.lora.as_ref().unwrap().a.as_tensor().clone(), layer.lora.as_ref().unwrap().b.as_tensor().clone());
        // The same seed gives both paths the same dropout mask.
        let run = |fused: bool| {
            let mut rng = StdRng::seed_from_u64(11);
            let mut mode = ForwardMode { train: true, rng: Some(&mut rng) };
            let y = if fused {
                layer.forward(x.as_tensor(), &mut mode)
            } else {
                layer.forward_composite(x.as_tensor(), &mut mode)
            };
            y.unwrap()
        };
        let (yf, yc) = (run(true), run(false));
        assert_eq!(yf.dims(), [3, 7, 24]);
        assert!(max_abs_diff(&yf, &yc) < tol as f32, "{dtype:?} forward differs by {}", max_abs_diff(&yf, &yc));
        let gf = grads_of(&yf, &up, &[x.as_tensor(), &a, &b]);
        let gc = grads_of(&yc, &up, &[x.as_tensor(), &a, &b]);
        for (name, (f, c)) in ["x", "A", "B"].iter().zip(gf.iter().zip(&gc)) {
            assert_eq!(f.dims(), c.dims(), "{name} gradient shape");
            let d = max_abs_diff(f, c);
            assert!(d < tol as f32, "{dtype:?} ∂{name} differs by {d}");
        }
        // A second backward through the same op recomputes what the first one used up.
        let again = grads_of(&yf, &up, &[x.as_tensor(), &a, &b]);
        for (name, (f, c)) in ["x", "A", "B"].iter().zip(again.iter().zip(&gc)) {
            assert!(max_abs_diff(f, c) < tol as f32, "{dtype:?} second backward ∂{name}");
        }
        // Dropout really dropped something: without it the output changes.
        let yd = layer.forward(x.as_tensor(), &mut ForwardMode::eval()).unwrap();
        assert!(max_abs_diff(&yd, &yf) > 1e-3, "the dropout mask had no effect");
    }
}

/// Causal GQA attention with RoPE as one op against candle ops (rope, repeat K/V, masked
/// softmax, two matmuls): context and the gradients of q, k and v.
#[test]
fn fused_attention_matches_candle_ops_in_value_and_gradient() {
    use lora_arcade::trainer::kernels::attention::{CausalAttention, causal_attention};
    use lora_arcade::trainer::kernels::rope::RopeTables;
    use lora_arcade::trainer::kernels::softmax::softmax_composite;
    use lora_arcade::trainer::kernels::swiglu::{swiglu, swiglu_composite};
    let dev = Device::Cpu;
    let (b, s, h, g, d) = (2, 6, 6, 2, 8);
    for dtype in [DType::F32, DType::F64] {
        let tol = if dtype == DType::F32 { 1e-4 } else { 1e-10 };
        let rand = |shape: &[usize]| {
            Var::from_tensor(&Tensor::randn(0f32, 1.0, shape, &dev).unwrap().to_dtype(dtype).unwrap()).unwrap()
        };
        let (q, k, v) = (rand(&[b * s, h * d]), rand(&[b * s, g * d]), rand(&[b * s, g * d]));
        let up = rand(&[b * s, h * d]);
        let rope = RopeTables::new(d, 10000.0, 0, s, dtype, &dev).unwrap();
        let fused = causal_attention(q.as_tensor(), k.as_tensor(), v.as_tensor(), CausalAttention::new(b, h, g, &rope))
            .unwrap();

        let heads =
            |t: &Tensor, n: usize| t.reshape((b, s, n, d)).unwrap().transpose(1, 2).unwrap().contiguous().unwrap();
        let qh = rope.apply_composite(&heads(q.as_tensor(), h)).unwrap();
        let repeat =
            |t: Tensor| Tensor::cat(&vec![t.unsqueeze(2).unwrap(); h / g], 2).unwrap().reshape((b, h, s, d)).unwrap();
        let kh = repeat(rope.apply_composite(&heads(k.as_tensor(), g)).unwrap());
        let vh = repeat(heads(v.as_tensor(), g));
        let mask: Vec<f32> = (0..s * s).map(|i| if i % s <= i / s { 0.0 } else { f32::NEG_INFINITY }).collect();
        let mask = Tensor::from_vec(mask, (s, s), &dev).unwrap().to_dtype(dtype).unwrap();
        let scores = (qh.matmul(&kh.t().unwrap()).unwrap() / (d as f64).sqrt()).unwrap().broadcast_add(&mask).unwrap();
        let reference = softmax_composite(&scores).unwrap().matmul(&vh).unwrap();
        let reference = reference.transpose(1, 2).unwrap().reshape((b * s, h * d)).unwrap();
        assert!(max_abs_diff(&fused, &reference) < tol as f32, "{dtype:?} attention forward");
        let gf = grads_of(&fused, up.as_tensor(), &[q.as_tensor(), k.as_tensor(), v.as_tensor()]);
        let gc = grads_of(&reference, up.as_tensor(), &[q.as_tensor(), k.as_tensor(), v.as_tensor()]);
        for (name, (f, c)) in ["q", "k", "v"].iter().zip(gf.iter().zip(&gc)) {
            let d = max_abs_diff(f, c);
            assert!(d < tol as f32, "{dtype:?} attention ∂{name} differs by {d}");
        }

        // SwiGLU: silu(gate)·up in one pass.
        let (gate, upm) = (rand(&[5, 9]), rand(&[5, 9]));
        let w = rand(&[5, 9]);
        let f = swiglu(gate.as_tensor(), upm.as_tensor()).unwrap();
        let c = swiglu_composite(gate.as_tensor(), upm.as_tensor()).unwrap();
        assert!(max_abs_diff(&f, &c) < tol as f32, "{dtype:?} swiglu forward");
        let gf = grads_of(&f, w.as_tensor(), &[gate.as_tensor(), upm.as_tensor()]);
        let gc = grads_of(&c, w.as_tensor(), &[gate.as_tensor(), upm.as_tensor()]);
        for (f, c) in gf.iter().zip(&gc) {
            assert!(max_abs_diff(f, c) < tol as f32, "{dtype:?} swiglu gradient");
        }
    }
}

/// The LM head and cross-entropy as one op against logits → cross-entropy from candle ops,
/// in value and in the gradient of the hidden states (also through a second backward).
#[test]
fn fused_head_cross_entropy_matches_logits_then_cross_entropy() {
    use lora_arcade::trainer::kernels::cross_entropy::cross_entropy_rows_composite;
    use lora_arcade::trainer::kernels::head::head_cross_entropy;
    let dev = Device::Cpu;
    for dtype in [DType::F32, DType::F64] {
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        let hidden =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (6, 12), &dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
        let w = Tensor::randn(0f32, 1.0, (50, 12), &dev).unwrap().to_dtype(dtype).unwrap();
        let targets = Tensor::new(&[0u32, 49, 7, 7, 13, 21], &dev).unwrap();
        let up = Tensor::randn(0f32, 1.0, 6, &dev).unwrap().to_dtype(dtype).unwrap();
        let fused = head_cross_entropy(hidden.as_tensor(), &w, &targets, &Default::default()).unwrap();
        let logits = hidden.as_tensor().matmul(&w.t().unwrap()).unwrap();
        let reference = cross_entropy_rows_composite(&logits, &targets).unwrap();
        assert!(max_abs_diff(&fused, &reference) < tol as f32, "{dtype:?} forward");
        let objective = (&fused * &up).unwrap().sum_all().unwrap();
        let gf = objective.backward().unwrap();
        let gc = (&reference * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let (gf, gc) = (gf.get(hidden.as_tensor()).unwrap(), gc.get(hidden.as_tensor()).unwrap());
        assert!(max_abs_diff(gf, gc) < 10.0 * tol as f32, "{dtype:?} gradient differs by {}", max_abs_diff(gf, gc));
        // The saved softmax is used up by the first backward; a second one recomputes it.
        let again = objective.backward().unwrap();
        assert!(
            max_abs_diff(again.get(hidden.as_tensor()).unwrap(), gc) < 10.0 * tol as f32,
            "{dtype:?} second backward"
        );
    }
    let bad = Tensor::new(&[50u32], &dev).unwrap();
    let h = Tensor::zeros((1, 12), DType::F32, &dev).unwrap();
    let err = head_cross_entropy(&h, &Tensor::zeros((50, 12), DType::F32, &dev).unwrap(), &bad, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("outside the vocabulary"), "{err}");
}
