//! QLoRA's 4-bit base: NF4 projections equal dense ones made of their dequantized weights (value
//! and every gradient), the GPU path (device tensors) equals the fused CPU path, the packing is
//! bitsandbytes' own, and the memory held is what QLoRA promises.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use lora_arcade::math::nf4;
use lora_arcade::trainer::fixture::{random_weights, tiny_config};
use lora_arcade::trainer::loss::causal_lm_loss;
use lora_arcade::trainer::model::nf4::BlockScales;
use lora_arcade::trainer::model::{
    AdaptedLinear, BaseLinear, BaseWeights, ForwardMode, FrozenLinear, LlamaModel, LoraAdapter, LoraSettings,
    Nf4Linear, Nf4Weight, Target,
};
use rand::SeedableRng;

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar()
        .unwrap()
}

fn randn(shape: &[usize], std: f32, dtype: DType) -> Tensor {
    Tensor::randn(0f32, std, shape, &Device::Cpu).unwrap().to_dtype(dtype).unwrap()
}

#[test]
fn quantizing_a_weight_packs_exactly_like_the_maths_module() {
    // 70 000 weights: more than one parallel chunk, and a short last block (70 000 = 1093·64 + 48).
    let w = randn(&[100, 700], 0.05, DType::F32);
    let values: Vec<f32> = w.flatten_all().unwrap().to_vec1().unwrap();
    let reference = nf4::quantize(&values, 64).unwrap();
    for double_quant in [false, true] {
        let q = Nf4Weight::quantize(&w, double_quant).unwrap();
        assert_eq!(q.packed(), reference.packed.as_slice());
        match q.scales() {
            BlockScales::Plain(a) => assert_eq!(a, &reference.absmax),
            BlockScales::Double(dq) => assert_eq!(dq, &reference.double_quantize_absmax().unwrap()),
        }
        let expected = match double_quant {
            false => reference.dequantize(),
            true => {
                reference.dequantize_with_absmax(&reference.double_quantize_absmax().unwrap().dequantize()).unwrap()
            }
        };
        let ours: Vec<f32> = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(ours, expected, "dequantized values (double quant {double_quant})");
    }
}

#[test]
fn nf4_weight_memory_is_what_qlora_promises() {
    // SmolLM2's widest projection: 1536 × 576.
    let w = randn(&[1536, 576], 0.02, DType::F32);
    let n = w.elem_count() as f64;
    let double = Nf4Weight::quantize(&w, true).unwrap().bytes() as f64 / n;
    let plain = Nf4Weight::quantize(&w, false).unwrap().bytes() as f64 / n;
    assert!(double <= 0.52, "{double} bytes a weight with double quantization");
    assert!(plain <= 0.57, "{plain} bytes a weight without");
    assert!((double - nf4::bits_per_weight(64, true) / 8.0).abs() < 1e-3, "{double}");
    assert!((plain - nf4::bits_per_weight(64, false) / 8.0).abs() < 1e-9, "{plain}");
}

/// One projection three ways: dense (the dequantized weight), NF4 on the host (fused CPU
/// kernels), NF4 as device tensors (the path CUDA/Metal take) — in value and in the gradients
/// of the input, A and B, with a bias and with dropout.
#[test]
fn nf4_projection_equals_the_dense_one_in_value_and_gradients() {
    let dev = Device::Cpu;
    for dtype in [DType::F64, DType::F32] {
        let tol = if dtype == DType::F64 { 1e-10 } else { 2e-5 };
        let (out_f, in_f, r) = (96, 160, 4);
        let w = randn(&[out_f, in_f], 0.05, DType::F32);
        let bias = randn(&[out_f], 0.1, dtype);
        let q = Nf4Weight::quantize(&w, true).unwrap();
        let dense_w = q.dequantize(&dev).unwrap().to_dtype(dtype).unwrap();
        let b = randn(&[out_f, r], 0.2, DType::F32);
        let adapter = || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(5);
            let l = LoraAdapter::init(in_f, out_f, r, 2.0, 0.1, &mut rng, &dev).unwrap();
            l.b.set(&b).unwrap();
            l
        };
        let layers: [(&str, Box<dyn BaseLinear>); 3] = [
            ("dense", Box::new(FrozenLinear::new(dense_w, Some(bias.clone())).unwrap())),
            ("nf4 host", Box::new(Nf4Linear::new(q.clone(), Some(bias.clone()), dtype, &dev).unwrap())),
            ("nf4 device path", Box::new(Nf4Linear::on_device_path(q.clone(), Some(bias.clone()), &dev).unwrap())),
        ];
        let x = Var::from_tensor(&randn(&[3, 7, in_f], 1.0, dtype)).unwrap();
        let up = randn(&[3, 7, out_f], 1.0, dtype);
        let mut results = Vec::new();
        for (name, base) in layers {
            let layer = AdaptedLinear { base, lora: Some(adapter()) };
            let mut rng = rand::rngs::StdRng::seed_from_u64(9);
            let mut mode = ForwardMode { train: true, rng: Some(&mut rng) };
            let y = layer.forward(x.as_tensor(), &mut mode).unwrap();
            let grads = (&y * &up).unwrap().sum_all().unwrap().backward().unwrap();
            let lora = layer.lora.as_ref().unwrap();
            let grad = |t: &Tensor| grads.get(t).unwrap_or_else(|| panic!("{name}: a gradient is missing")).clone();
            results.push((name, y, grad(x.as_tensor()), grad(lora.a.as_tensor()), grad(lora.b.as_tensor())));
        }
        let (_, y0, dx0, da0, db0) = &results[0];
        for (name, y, dx, da, db) in &results[1..] {
            for (what, a, b) in [("output", y, y0), ("∂x", dx, dx0), ("∂A", da, da0), ("∂B", db, db0)] {
                let d = max_abs_diff(a, b);
                assert!(d < tol, "{name} {dtype:?}: {what} differs from dense by {d}");
            }
        }
    }
}

/// A whole decoder with every projection in NF4 against the same decoder built dense from the
/// dequantized weights: the same loss and the same LoRA gradients (f64).
#[test]
fn qlora_model_equals_lora_on_the_dequantized_base() {
    let dev = Device::Cpu;
    let cfg = tiny_config();
    let weights = random_weights(&cfg, 3, 0.05, &dev).unwrap();
    let mut quantized = BaseWeights::from(weights);
    quantized.quantize_projections(true).unwrap();
    assert_eq!(quantized.nf4.len(), 7 * cfg.num_hidden_layers, "every projection, targeted or not");
    let mut dense: HashMap<String, Tensor> = quantized.dense.clone();
    for (name, q) in &quantized.nf4 {
        dense.insert(name.clone(), q.dequantize(&dev).unwrap());
    }
    let lora =
        LoraSettings { rank: 2, alpha: 4.0, dropout: 0.0, targets: vec![Target::Q, Target::Down], use_rslora: false };
    let qlora = LlamaModel::new(&cfg, quantized, DType::F64, &dev, Some(&lora), 11).unwrap();
    let plain = LlamaModel::new(&cfg, dense, DType::F64, &dev, Some(&lora), 11).unwrap();
    let (bytes, count) = qlora.projection_memory();
    assert_eq!(count, cfg.num_hidden_layers * cfg.shape().linear_params_per_layer() as usize);
    // Tiny matrices pay the per-tensor scale and offset more than real ones (see above).
    assert!(bytes < count / 2 + count / 32, "{bytes} bytes for {count} weights");
    assert_eq!(plain.projection_memory(), (8 * count, count), "f64: eight bytes a weight");
    for m in [&qlora, &plain] {
        for (_, var) in m.trainable_vars().iter().filter(|(n, _)| n.ends_with("lora_B")) {
            var.set(&Tensor::ones(var.shape(), DType::F32, &dev).unwrap().affine(0.1, 0.0).unwrap()).unwrap();
        }
    }
    let ids = Tensor::from_vec(vec![1u32, 40, 41, 42, 43, 44, 45, 2], (1, 8), &dev).unwrap();
    let labels = Tensor::from_vec(vec![-100i64, 40, 41, 42, 43, 44, 45, 2], (1, 8), &dev).unwrap();
    let run = |m: &LlamaModel| {
        let out = causal_lm_loss(m, &ids, &labels, &mut ForwardMode::eval()).unwrap();
        let grads = out.loss.backward().unwrap();
        let loss = out.loss.to_scalar::<f64>().unwrap();
        let g: Vec<Tensor> =
            m.trainable_vars().iter().map(|(_, v)| grads.get(v.as_tensor()).unwrap().clone()).collect();
        (loss, g)
    };
    let (lq, gq) = run(&qlora);
    let (lp, gp) = run(&plain);
    assert!((lq - lp).abs() < 1e-10, "loss {lq} vs {lp}");
    for (a, b) in gq.iter().zip(&gp) {
        assert!(max_abs_diff(a, b) < 1e-10, "a LoRA gradient differs by {}", max_abs_diff(a, b));
    }
}

/// The same training as PyTorch + PEFT (LoRA) and PEFT + bitsandbytes (QLoRA, NF4 with double
/// quantization, f32 compute) on CPU: from the same initial adapter, on the same batch, with the
/// same AdamW, every step's loss (references made by scripts/gen_train_ref.py).
#[test]
fn training_losses_follow_peft_and_bitsandbytes() {
    use lora_arcade::trainer::load::{LoadOptions, load_model_with};
    use lora_arcade::trainer::optim::{AdamW, AdamWConfig};
    use lora_arcade::trainer::peft;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/peft_ref");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("train_ref.json")).unwrap()).unwrap();
    let dev = Device::Cpu;
    let ids: Vec<Vec<u32>> = serde_json::from_value(reference["input_ids"].clone()).unwrap();
    let labels: Vec<Vec<i64>> = serde_json::from_value(reference["labels"].clone()).unwrap();
    let (b, s) = (ids.len(), ids[0].len());
    let ids = Tensor::from_vec(ids.concat(), (b, s), &dev).unwrap();
    let labels = Tensor::from_vec(labels.concat(), (b, s), &dev).unwrap();
    let lr = reference["lr"].as_f64().unwrap();
    for (method, nf4, tol) in [("lora", None, 2e-4), ("qlora", Some(true), 2e-4)] {
        let mut opts = LoadOptions::new(&dev, DType::F32);
        opts.nf4 = nf4;
        let loaded = load_model_with(&dir.join("tiny-model"), &opts).unwrap();
        let (adapter, tensors) = peft::read_adapter(&dir.join("init-adapter"), &dev).unwrap();
        let base = BaseWeights { dense: loaded.weights, nf4: loaded.nf4 };
        let mut model = LlamaModel::new(&loaded.config, base, DType::F32, &dev, Some(&adapter.settings), 0).unwrap();
        peft::apply_adapter(&mut model, &tensors, &dir.join("init-adapter")).unwrap();
        assert_eq!(model.base_is_quantized(), nf4.is_some());
        let vars = model.trainable_vars();
        let mut opt = AdamW::new(vars.clone(), AdamWConfig::default()).unwrap();
        let expected: Vec<f64> = serde_json::from_value(reference[method].clone()).unwrap();
        let mut ours = Vec::new();
        for _ in 0..expected.len() {
            let out = causal_lm_loss(&model, &ids, &labels, &mut ForwardMode::eval()).unwrap();
            ours.push(out.loss.to_scalar::<f32>().unwrap() as f64);
            let grads = out.loss.backward().unwrap();
            let grads: Vec<Tensor> = vars.iter().map(|(_, v)| grads.get(v.as_tensor()).unwrap().clone()).collect();
            opt.step(&grads, lr).unwrap();
        }
        eprintln!("{method}: ours {ours:?}\n{method}: theirs {expected:?}");
        for (step, (a, e)) in ours.iter().zip(&expected).enumerate() {
            assert!((a - e).abs() < tol * e.abs(), "{method} step {step}: ours {a} vs reference {e}");
        }
        assert!(ours.last() < ours.first(), "{method}: the loss falls");
    }
}
