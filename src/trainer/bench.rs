//! Training throughput on random-init weights, set up exactly like
//! `/work/shared/bench/peft_anchor.py` (PyTorch + PEFT): r on all seven projections,
//! α = 2r, no dropout, AdamW lr 2e-4, labels = inputs, `warmup` untimed steps then `steps` timed.

use std::time::Instant;

use candle_core::{DType, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Serialize;

use crate::trainer::config::LlamaConfig;
use crate::trainer::loss::causal_lm_loss;
use crate::trainer::model::{
    BaseWeights, ForwardMode, LlamaModel, LoraSettings, Nf4Weight, Target, is_projection_weight,
};
use crate::trainer::optim::{AdamW, AdamWConfig};
use crate::trainer::run::{ComputeDType, DeviceKind, Method, TrainError};
use crate::trainer::runtime::{RunRuntime, process_memory};

#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    pub model: String,
    pub method: Method,
    pub rank: usize,
    pub seq: usize,
    pub batch: usize,
    pub steps: usize,
    pub warmup: usize,
    pub device: DeviceKind,
    pub dtype: ComputeDType,
    /// QLoRA: double-quantize the absmax values.
    pub double_quant: bool,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            model: "smollm2-135m".into(),
            method: Method::Lora,
            rank: 16,
            seq: 128,
            batch: 4,
            steps: 10,
            warmup: 2,
            device: DeviceKind::Cpu,
            dtype: ComputeDType::F32,
            double_quant: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchResult {
    pub framework: String,
    pub model: String,
    pub method: String,
    pub device: String,
    pub dtype: String,
    pub seq: usize,
    pub batch: usize,
    pub rank: usize,
    pub steps: usize,
    pub trainable: usize,
    pub total: usize,
    pub step_s: f64,
    /// Per-step split of `step_s`: forward + loss, backward, AdamW update.
    pub forward_s: f64,
    pub backward_s: f64,
    pub optimizer_s: f64,
    pub tokens_per_s: f64,
    pub last_loss: f64,
    pub peak_rss_mib: f64,
    /// Memory held by the projections' frozen weights (f32, or NF4 under QLoRA).
    pub weight_mib: f64,
    pub bytes_per_weight: f64,
}

/// The models `bench` knows, by the names `peft_anchor.py` uses: their shapes as in each
/// model's config.json (the weights are random: only the shapes matter for speed and memory).
pub const BENCH_MODELS: [&str; 4] = ["smollm2-135m", "smollm2-360m", "tinyllama-1.1b", "tiny"];

pub fn bench_model_config(name: &str) -> Result<LlamaConfig, TrainError> {
    let json = match name {
        "smollm2-135m" => serde_json::json!({
            "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
            "num_attention_heads": 9, "num_key_value_heads": 3, "rope_theta": 100000.0,
            "tie_word_embeddings": true, "max_position_embeddings": 8192
        }),
        "smollm2-360m" => serde_json::json!({
            "vocab_size": 49152, "hidden_size": 960, "intermediate_size": 2560, "num_hidden_layers": 32,
            "num_attention_heads": 15, "num_key_value_heads": 5, "rope_theta": 100000.0,
            "tie_word_embeddings": true, "max_position_embeddings": 8192
        }),
        "tinyllama-1.1b" => serde_json::json!({
            "vocab_size": 32000, "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22,
            "num_attention_heads": 32, "num_key_value_heads": 4, "rope_theta": 10000.0,
            "tie_word_embeddings": false, "max_position_embeddings": 2048
        }),
        "tiny" => return Ok(crate::trainer::fixture::tiny_config()),
        other => {
            return Err(TrainError::Config(format!(
                "unknown bench model `{other}` (known: {})",
                BENCH_MODELS.join(", ")
            )));
        }
    };
    Ok(serde_json::from_value(json).expect("static bench config"))
}

/// Unseeded N(0, 0.02²) weights drawn by candle's own (fast) generator, norms at one: the
/// benchmark needs 10⁸–10⁹ values whose exact numbers do not matter. With `nf4` each projection
/// is quantized as soon as it is drawn, as the loader does, so QLoRA's peak memory is its own.
fn random_weights_fast(
    config: &LlamaConfig,
    device: &candle_core::Device,
    nf4: Option<bool>,
) -> candle_core::Result<BaseWeights> {
    let mut weights = BaseWeights::default();
    for (name, shape) in config.weight_shapes() {
        let t = match name.ends_with("norm.weight") {
            true => Tensor::ones(shape, DType::F32, device)?,
            false => Tensor::randn(0f32, 0.02, shape, device)?,
        };
        match nf4 {
            Some(double_quant) if is_projection_weight(&name) => {
                weights.nf4.insert(name, Nf4Weight::quantize(&t, double_quant)?);
            }
            _ => {
                weights.dense.insert(name, t);
            }
        }
    }
    Ok(weights)
}

pub fn run_bench(cfg: &BenchConfig) -> Result<BenchResult, TrainError> {
    if cfg.steps == 0 || cfg.batch == 0 || cfg.seq < 2 {
        return Err(TrainError::Config("steps and batch must be ≥ 1, seq ≥ 2".into()));
    }
    let _runtime = RunRuntime::new(None)?;
    let config = bench_model_config(&cfg.model)?;
    let device = cfg.device.open()?;
    let dtype = cfg.dtype.dtype();
    let nf4 = (cfg.method == Method::Qlora).then_some(cfg.double_quant);
    let weights = random_weights_fast(&config, &device, nf4)?;
    let lora = LoraSettings {
        rank: cfg.rank,
        alpha: 2.0 * cfg.rank as f64,
        dropout: 0.0,
        targets: Target::ALL.to_vec(),
        use_rslora: false,
    };
    let model = LlamaModel::new(&config, weights, dtype, &device, Some(&lora), 0)?;
    let vars = model.trainable_vars();
    let trainable: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
    let mut opt = AdamW::new(vars.clone(), AdamWConfig::default())?;
    let mut rng = StdRng::seed_from_u64(1);
    let mut last_loss = f64::NAN;
    let mut timed = 0f64;
    let mut phases = [0f64; 3];
    for i in 0..cfg.warmup + cfg.steps {
        let ids: Vec<u32> = (0..cfg.batch * cfg.seq).map(|_| rng.random_range(0..config.vocab_size as u32)).collect();
        let labels: Vec<i64> = ids.iter().map(|&x| x as i64).collect();
        let ids = Tensor::from_vec(ids, (cfg.batch, cfg.seq), &device)?;
        let labels = Tensor::from_vec(labels, (cfg.batch, cfg.seq), &device)?;
        let t0 = Instant::now();
        let out = causal_lm_loss(&model, &ids, &labels, &mut ForwardMode { train: true, rng: None })?;
        let t_forward = t0.elapsed().as_secs_f64();
        let grads = out.loss.backward()?;
        let t_backward = t0.elapsed().as_secs_f64() - t_forward;
        let grads: Vec<Tensor> = vars
            .iter()
            .map(|(_, v)| grads.get(v.as_tensor()).cloned().map_or_else(|| v.as_tensor().zeros_like(), Ok))
            .collect::<Result<_, _>>()?;
        opt.step(&grads, 2e-4)?;
        last_loss = out.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        device.synchronize()?;
        if i >= cfg.warmup {
            let total = t0.elapsed().as_secs_f64();
            timed += total;
            phases[0] += t_forward;
            phases[1] += t_backward;
            phases[2] += total - t_forward - t_backward;
        }
    }
    let total = model.base_parameter_count() + trainable;
    let (projection_bytes, projection_weights) = model.projection_memory();
    Ok(BenchResult {
        framework: format!("lora-arcade {} (candle 0.11)", env!("CARGO_PKG_VERSION")),
        model: cfg.model.clone(),
        method: format!("{:?}", cfg.method).to_lowercase(),
        device: format!("{:?}", cfg.device).to_lowercase(),
        dtype: format!("{:?}", cfg.dtype).to_lowercase(),
        seq: cfg.seq,
        batch: cfg.batch,
        rank: cfg.rank,
        steps: cfg.steps,
        trainable,
        total,
        step_s: timed / cfg.steps as f64,
        forward_s: phases[0] / cfg.steps as f64,
        backward_s: phases[1] / cfg.steps as f64,
        optimizer_s: phases[2] / cfg.steps as f64,
        tokens_per_s: (cfg.steps * cfg.batch * cfg.seq) as f64 / timed,
        last_loss,
        peak_rss_mib: process_memory().1 as f64 / (1024.0 * 1024.0),
        weight_mib: projection_bytes as f64 / (1024.0 * 1024.0),
        bytes_per_weight: projection_bytes as f64 / projection_weights.max(1) as f64,
    })
}
