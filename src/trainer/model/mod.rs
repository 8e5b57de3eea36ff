//! A training-grade Llama-family decoder (Llama, SmolLM2, TinyLlama, Qwen2) built only from
//! differentiable candle ops and custom ops with a backward (candle's fast `rope`,
//! `softmax_last_dim` and `rms_norm` have none: gradients would stop silently).

pub mod linear;
pub mod nf4;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use rand::{SeedableRng, rngs::StdRng};

/// The projections LoRA can adapt: the crate's one target type, from the maths layer.
pub use crate::math::Target;
use crate::trainer::config::LlamaConfig;
pub use linear::{AdaptedLinear, BaseLinear, ForwardMode, FrozenLinear, LoraAdapter};
pub use nf4::{Nf4Linear, Nf4Weight};

use crate::trainer::kernels::attention::{CausalAttention, causal_attention};
use crate::trainer::kernels::cpu_float;
use crate::trainer::kernels::cross_entropy::cross_entropy_rows;
use crate::trainer::kernels::head::{self, head_cross_entropy};
use crate::trainer::kernels::rms_norm::rms_norm;
use crate::trainer::kernels::rope::RopeTables;
use crate::trainer::kernels::softmax::softmax_last_dim;
use crate::trainer::kernels::swiglu::swiglu;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unsupported architecture `{0}` (supported: llama, mistral, qwen2)")]
    UnsupportedArchitecture(String),
    #[error("weight `{0}` is missing")]
    MissingWeight(String),
    #[error("weight `{name}` has shape {got:?}, expected {expected:?}")]
    WrongShape { name: String, got: Vec<usize>, expected: Vec<usize> },
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("LoRA rank {rank} is larger than {module} ({out_features}×{in_features}) allows")]
    RankTooLarge { rank: usize, module: String, in_features: usize, out_features: usize },
    #[error("LoRA rank must be at least 1")]
    ZeroRank,
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// LoRA hyper-parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraSettings {
    pub rank: usize,
    pub alpha: f64,
    pub dropout: f32,
    pub targets: Vec<Target>,
    /// rsLoRA: scale α/√r instead of α/r.
    pub use_rslora: bool,
}

impl LoraSettings {
    pub fn scale(&self) -> f64 {
        if self.use_rslora { self.alpha / (self.rank as f64).sqrt() } else { self.alpha / self.rank as f64 }
    }
}

impl Default for LoraSettings {
    fn default() -> Self {
        use crate::trainer::defaults;
        Self {
            rank: defaults::RANK,
            alpha: defaults::ALPHA,
            dropout: defaults::DROPOUT,
            targets: defaults::TARGETS.to_vec(),
            use_rslora: false,
        }
    }
}

struct DecoderLayer {
    input_norm: Tensor,
    post_attention_norm: Tensor,
    /// Indexed like [`Target::ALL`].
    proj: Vec<AdaptedLinear>,
}

/// Keys and values already computed for earlier positions (generation).
#[derive(Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of positions already cached.
    pub fn len(&self) -> usize {
        self.layers.first().and_then(|l| l.as_ref()).map(|(k, _)| k.dims()[2]).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The decoder with frozen base weights and optional LoRA adapters.
pub struct LlamaModel {
    pub config: LlamaConfig,
    pub dtype: DType,
    pub device: Device,
    pub lora: Option<LoraSettings>,
    embed: Tensor,
    layers: Vec<DecoderLayer>,
    norm: Tensor,
    lm_head: FrozenLinear,
    /// The fused LM head's `[tokens, vocab]` buffer, kept between steps (freed with the model).
    head_spare: head::Spare,
    /// [`LlamaConfig::rope_frequencies`], computed once.
    rope_frequencies: Vec<f64>,
    tied: bool,
}

/// The base weights a model is built from, by Hugging Face name: dense tensors, and (QLoRA) the
/// projections already quantized to NF4 — while loading, one tensor at a time.
#[derive(Debug, Default, Clone)]
pub struct BaseWeights {
    pub dense: HashMap<String, Tensor>,
    pub nf4: HashMap<String, Nf4Weight>,
}

impl From<HashMap<String, Tensor>> for BaseWeights {
    fn from(dense: HashMap<String, Tensor>) -> Self {
        Self { dense, nf4: HashMap::new() }
    }
}

/// Whether `name` is the weight of one of the seven projections (what QLoRA holds in NF4;
/// embeddings, norms and the LM head stay in the compute dtype, as bitsandbytes leaves them).
pub fn is_projection_weight(name: &str) -> bool {
    name.ends_with(".weight") && Target::ALL.iter().any(|t| name.ends_with(&format!(".{}.weight", t.name())))
}

impl BaseWeights {
    /// Quantizes every dense projection weight to NF4, one at a time (the dense one is dropped
    /// as soon as its NF4 copy exists).
    pub fn quantize_projections(&mut self, double_quant: bool) -> candle_core::Result<()> {
        let mut names: Vec<String> = self.dense.keys().filter(|n| is_projection_weight(n)).cloned().collect();
        names.sort();
        for name in names {
            let dense = self.dense.remove(&name).expect("listed above");
            self.nf4.insert(name, Nf4Weight::quantize(&dense, double_quant)?);
        }
        Ok(())
    }
}

fn take(
    weights: &mut HashMap<String, Tensor>,
    name: &str,
    expected: &[usize],
    dtype: DType,
    device: &Device,
) -> Result<Tensor, ModelError> {
    let t = weights.remove(name).ok_or_else(|| ModelError::MissingWeight(name.to_string()))?;
    if t.dims() != expected {
        return Err(ModelError::WrongShape {
            name: name.to_string(),
            got: t.dims().to_vec(),
            expected: expected.to_vec(),
        });
    }
    Ok(t.to_device(device)?.to_dtype(dtype)?.detach())
}

impl LlamaModel {
    /// Builds the model from Hugging Face-named weights (consumed) and, when `lora` is given,
    /// fresh PEFT-initialised adapters drawn from `seed`.
    pub fn new(
        config: &LlamaConfig,
        weights: impl Into<BaseWeights>,
        dtype: DType,
        device: &Device,
        lora: Option<&LoraSettings>,
        seed: u64,
    ) -> Result<Self, ModelError> {
        if !matches!(config.model_type.as_str(), "llama" | "mistral" | "qwen2") {
            return Err(ModelError::UnsupportedArchitecture(config.model_type.clone()));
        }
        let (h, hd) = (config.hidden_size, config.head_dim());
        let (nh, nkv) = (config.num_attention_heads, config.num_kv_heads());
        if nh == 0 || nkv == 0 || nh % nkv != 0 || hd % 2 != 0 {
            return Err(ModelError::InvalidConfig(format!(
                "{nh} attention heads, {nkv} key/value heads, head_dim {hd}"
            )));
        }
        if lora.is_some_and(|l| l.rank == 0) {
            return Err(ModelError::ZeroRank);
        }
        let BaseWeights { dense: mut weights, nf4: mut quantized } = weights.into();
        let v = config.vocab_size;
        let embed = take(&mut weights, "model.embed_tokens.weight", &[v, h], dtype, device)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let input_norm = take(&mut weights, &format!("{p}.input_layernorm.weight"), &[h], dtype, device)?;
            let post_attention_norm =
                take(&mut weights, &format!("{p}.post_attention_layernorm.weight"), &[h], dtype, device)?;
            let mut proj = Vec::with_capacity(7);
            for t in Target::ALL {
                let (out_f, in_f) = config.projection_shape(t);
                let path = t.path(i);
                let bias = if matches!(t, Target::Q | Target::K | Target::V) && config.qkv_bias() {
                    Some(take(&mut weights, &format!("{path}.bias"), &[out_f], dtype, device)?)
                } else {
                    None
                };
                let name = format!("{path}.weight");
                let base: Box<dyn BaseLinear> = match quantized.remove(&name) {
                    Some(q) if q.dims() != (out_f, in_f) => {
                        let got = vec![q.dims().0, q.dims().1];
                        return Err(ModelError::WrongShape { name, got, expected: vec![out_f, in_f] });
                    }
                    Some(q) => Box::new(Nf4Linear::new(q, bias, dtype, device)?),
                    None => {
                        Box::new(FrozenLinear::new(take(&mut weights, &name, &[out_f, in_f], dtype, device)?, bias)?)
                    }
                };
                let adapter = match lora {
                    Some(l) if l.targets.contains(&t) => {
                        if l.rank > in_f.min(out_f) {
                            return Err(ModelError::RankTooLarge {
                                rank: l.rank,
                                module: path,
                                in_features: in_f,
                                out_features: out_f,
                            });
                        }
                        Some(LoraAdapter::init(in_f, out_f, l.rank, l.scale(), l.dropout, &mut rng, device)?)
                    }
                    _ => None,
                };
                proj.push(AdaptedLinear { base, lora: adapter });
            }
            layers.push(DecoderLayer { input_norm, post_attention_norm, proj });
        }
        let norm = take(&mut weights, "model.norm.weight", &[h], dtype, device)?;
        // Tied embeddings (or a checkpoint that simply omits the head) reuse the embedding matrix.
        let tied = !weights.contains_key("lm_head.weight");
        let lm_head = if tied { embed.clone() } else { take(&mut weights, "lm_head.weight", &[v, h], dtype, device)? };
        Ok(Self {
            config: config.clone(),
            dtype,
            device: device.clone(),
            lora: lora.cloned(),
            embed,
            layers,
            norm,
            lm_head: FrozenLinear::new(lm_head, None)?,
            head_spare: Default::default(),
            rope_frequencies: config.rope_frequencies(),
            tied,
        })
    }

    /// All weights under their Hugging Face names, in f32, with each adapted projection merged
    /// (`W + s·B·A`); `lm_head.weight` only when untied. Sorted by name.
    pub fn merged_weights(&self) -> candle_core::Result<Vec<(String, Tensor)>> {
        let f32 = |t: &Tensor| t.to_dtype(DType::F32);
        let mut out = vec![
            ("model.embed_tokens.weight".to_string(), f32(&self.embed)?),
            ("model.norm.weight".to_string(), f32(&self.norm)?),
        ];
        if !self.tied {
            out.push(("lm_head.weight".to_string(), f32(&self.lm_head.dequantized_weight()?)?));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            out.push((format!("model.layers.{i}.input_layernorm.weight"), f32(&layer.input_norm)?));
            out.push((format!("model.layers.{i}.post_attention_layernorm.weight"), f32(&layer.post_attention_norm)?));
            for (t, p) in Target::ALL.iter().zip(&layer.proj) {
                out.push((format!("{}.weight", t.path(i)), p.merged_weight()?));
                if let Some(b) = p.base.bias() {
                    out.push((format!("{}.bias", t.path(i)), f32(b)?));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Bytes held by the projections' frozen weights (dense or NF4), and how many weights they
    /// stand for: 4 bytes a weight in f32, about 0.52 in NF4 with double quantization.
    pub fn projection_memory(&self) -> (usize, usize) {
        self.layers.iter().flat_map(|l| &l.proj).fold((0, 0), |(bytes, count), p| {
            (bytes + p.base.weight_bytes(), count + p.base.in_features() * p.base.out_features())
        })
    }

    /// Whether the projections' base is 4-bit (QLoRA).
    pub fn base_is_quantized(&self) -> bool {
        self.layers.iter().flat_map(|l| &l.proj).any(|p| p.base.is_quantized())
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Every adapter with its layer and projection, in PEFT key order (layer, then Target::ALL).
    pub fn adapters(&self) -> Vec<(usize, Target, &LoraAdapter)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (t, p) in Target::ALL.iter().zip(&layer.proj) {
                if let Some(l) = &p.lora {
                    out.push((i, *t, l));
                }
            }
        }
        out
    }

    pub fn adapters_mut(&mut self) -> Vec<(usize, Target, &mut LoraAdapter)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            for (t, p) in Target::ALL.iter().zip(layer.proj.iter_mut()) {
                if let Some(l) = &mut p.lora {
                    out.push((i, *t, l));
                }
            }
        }
        out
    }

    /// Named trainable variables: (`model.layers.0.self_attn.q_proj.lora_A`, var), A then B.
    pub fn trainable_vars(&self) -> Vec<(String, Var)> {
        let mut out = Vec::new();
        for (i, t, l) in self.adapters() {
            out.push((format!("{}.lora_A", t.path(i)), l.a.clone()));
            out.push((format!("{}.lora_B", t.path(i)), l.b.clone()));
        }
        out
    }

    pub fn projection(&self, layer: usize, target: Target) -> &AdaptedLinear {
        &self.layers[layer].proj[target as usize]
    }

    /// Count of frozen base parameters (embeddings, norms, projections, untied head).
    pub fn base_parameter_count(&self) -> usize {
        let mut n = self.embed.elem_count() + self.norm.elem_count();
        for l in &self.layers {
            n += l.input_norm.elem_count() + l.post_attention_norm.elem_count();
            for p in &l.proj {
                n += p.base.in_features() * p.base.out_features() + p.base.bias().map_or(0, |b| b.elem_count());
            }
        }
        if !self.tied {
            n += self.lm_head.in_features() * self.lm_head.out_features();
        }
        n
    }

    /// Final-norm hidden states `[B, S, hidden]` for `input_ids: [B, S]` (u32).
    /// With a cache, positions continue after the cached ones and the cache is extended.
    pub fn hidden_states(
        &self,
        input_ids: &Tensor,
        mode: &mut ForwardMode,
        mut cache: Option<&mut KvCache>,
    ) -> candle_core::Result<Tensor> {
        let (b, s) = input_ids.dims2()?;
        let start = cache.as_ref().map(|c| c.len()).unwrap_or(0);
        if let Some(c) = cache.as_deref_mut()
            && c.layers.len() != self.layers.len()
        {
            c.layers = (0..self.layers.len()).map(|_| None).collect();
        }
        let mut x = self.embed.index_select(&input_ids.flatten_all()?, 0)?.reshape((b, s, self.config.hidden_size))?;
        let rope = self.rope_tables(start, s)?;
        // One mask for every layer: `[rep*s, start+s]`.
        let rep = self.config.num_attention_heads / self.config.num_kv_heads();
        let mask = causal_mask(rep, s, start + s, start, self.dtype, &self.device)?;
        let eps = self.config.rms_norm_eps;
        for (i, layer) in self.layers.iter().enumerate() {
            let layer_cache = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let h = rms_norm(&x, &layer.input_norm, eps)?;
            let h = self.attention(layer, &h, &rope, &mask, mode, layer_cache)?;
            x = (x + h)?;
            let h = rms_norm(&x, &layer.post_attention_norm, eps)?;
            let gate = layer.proj[Target::Gate as usize].forward(&h, mode)?;
            let up = layer.proj[Target::Up as usize].forward(&h, mode)?;
            let h = layer.proj[Target::Down as usize].forward(&swiglu(&gate, &up)?, mode)?;
            x = (x + h)?;
        }
        rms_norm(&x, &self.norm, eps)
    }

    /// Logits `[.., vocab]` for hidden states `[.., hidden]`: f32 (f64 for an f64 model).
    pub fn logits(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        let dtype = if self.dtype == DType::F64 { DType::F64 } else { DType::F32 };
        BaseLinear::forward(&self.lm_head, hidden)?.to_dtype(dtype)
    }

    /// Cross-entropy of each row of `hidden: [n, hidden]` against `targets: [n]` (u32) → `[n]`,
    /// f32 (f64 for an f64 model), differentiable with respect to `hidden`. On the CPU the LM
    /// head and the loss are one fused op (no `[n, vocab]` tensors in the graph).
    pub fn token_losses(&self, hidden: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        let w = self.lm_head.weight();
        if cpu_float(hidden) && w.dtype() == hidden.dtype() {
            return head_cross_entropy(hidden, w, targets, &self.head_spare);
        }
        cross_entropy_rows(&self.logits(hidden)?, targets)
    }

    /// RoPE angles for positions `start..start+len` (the config's frequencies, scaled as it
    /// says; rotate_half layout).
    fn rope_tables(&self, start: usize, len: usize) -> candle_core::Result<RopeTables> {
        RopeTables::from_frequencies(&self.rope_frequencies, start, len, self.dtype, &self.device)
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        layer: &DecoderLayer,
        x: &Tensor,
        rope: &RopeTables,
        mask: &Tensor,
        mode: &mut ForwardMode,
        cache: Option<&mut Option<(Tensor, Tensor)>>,
    ) -> candle_core::Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.config.num_attention_heads, self.config.num_kv_heads(), self.config.head_dim());
        let rep = nh / nkv;
        let q = layer.proj[Target::Q as usize].forward(x, mode)?;
        let k = layer.proj[Target::K as usize].forward(x, mode)?;
        let v = layer.proj[Target::V as usize].forward(x, mode)?;
        if cache.is_none() && cpu_float(&q) && k.dtype() == q.dtype() && v.dtype() == q.dtype() {
            // `[B, S, H·D]` in and out: no reshape nodes (each costs a zero-fill and an add in
            // candle's backward).
            let ctx = causal_attention(&q, &k, &v, CausalAttention::new(b, nh, nkv, rope))?;
            return layer.proj[Target::O as usize].forward(&ctx, mode);
        }
        let q = q.reshape((b, s, nh, hd))?.transpose(1, 2)?.contiguous()?;
        let k = k.reshape((b, s, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let v = v.reshape((b, s, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let q = rope.apply(&q)?;
        let mut k = rope.apply(&k)?;
        let mut v = v;
        if let Some(c) = cache {
            if let Some((pk, pv)) = c.as_ref() {
                k = Tensor::cat(&[pk, &k], 2)?;
                v = Tensor::cat(&[pv, &v], 2)?;
            }
            *c = Some((k.clone(), v.clone()));
        }
        let t = k.dims()[2];
        // Grouped-query attention without repeating K/V: the `rep` query heads that share a
        // key/value head are stacked along the sequence axis.
        let q = q.reshape((b, nkv, rep * s, hd))?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (hd as f64).sqrt()))?;
        if mask.dims() != [rep * s, t] {
            candle_core::bail!("attention mask {:?} does not fit {} queries × {t} keys", mask.dims(), rep * s);
        }
        let scores = scores.broadcast_add(mask)?;
        let probs = softmax_last_dim(&scores)?;
        let out = probs.matmul(&v)?; // [b, nkv, rep*s, hd]
        let out = out.reshape((b, nh, s, hd))?.transpose(1, 2)?.reshape((b, s, nh * hd))?;
        layer.proj[Target::O as usize].forward(&out, mode)
    }
}

/// `[rep*s, t]` additive mask: row `r` is query position `start + r % s`, which may see keys `≤` it.
fn causal_mask(
    rep: usize,
    s: usize,
    t: usize,
    start: usize,
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let mut m = Vec::with_capacity(rep * s * t);
    for _ in 0..rep {
        for i in 0..s {
            for j in 0..t {
                m.push(if j <= start + i { 0f32 } else { f32::NEG_INFINITY });
            }
        }
    }
    Tensor::from_vec(m, (rep * s, t), device)?.to_dtype(dtype)
}
