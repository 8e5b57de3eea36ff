//! Parameter counts: one adapted matrix, and a whole Llama-family decoder.

use std::fmt;

use crate::math::error::MathError;

/// Trainable parameters of one LoRA adapter on a d_in → d_out linear: A (r×d_in) + B (d_out×r).
pub fn lora_params(d_in: u64, d_out: u64, r: u64) -> u64 {
    r * (d_in + d_out)
}

/// Parameters of the full d_out×d_in weight matrix (what full fine-tuning would train).
pub fn full_params(d_in: u64, d_out: u64) -> u64 {
    d_in * d_out
}

/// A linear projection inside a Llama-family decoder layer, by its PEFT `target_modules` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Q,
    K,
    V,
    O,
    Gate,
    Up,
    Down,
}

impl Target {
    /// PEFT's "all-linear" for Llama: every projection in every layer (lm_head excluded).
    pub const ALL_LINEAR: [Target; 7] = [
        Target::Q,
        Target::K,
        Target::V,
        Target::O,
        Target::Gate,
        Target::Up,
        Target::Down,
    ];

    /// PEFT's default targets for Llama/Qwen2: q_proj and v_proj.
    pub const PEFT_DEFAULT: [Target; 2] = [Target::Q, Target::V];

    /// The module name as in Hugging Face checkpoints and `adapter_config.json` ("q_proj", …).
    pub fn name(self) -> &'static str {
        match self {
            Target::Q => "q_proj",
            Target::K => "k_proj",
            Target::V => "v_proj",
            Target::O => "o_proj",
            Target::Gate => "gate_proj",
            Target::Up => "up_proj",
            Target::Down => "down_proj",
        }
    }

    /// Whether the projection lives in `self_attn` (q,k,v,o) rather than `mlp` (gate,up,down).
    pub fn is_attention(self) -> bool {
        matches!(self, Target::Q | Target::K | Target::V | Target::O)
    }

    /// Parses "q_proj" (also the short "q"); case-sensitive like PEFT.
    pub fn parse(name: &str) -> Result<Target, MathError> {
        Target::ALL_LINEAR
            .into_iter()
            .find(|t| t.name() == name || t.name().strip_suffix("_proj") == Some(name))
            .ok_or_else(|| MathError::InvalidParameter {
                name: "target module",
                reason: format!(
                    "unknown projection {name:?}; expected one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
                ),
            })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The shape of a Llama-family decoder (no biases, RMSNorm, SwiGLU MLP, grouped-query attention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecoderShape {
    pub vocab: u64,
    pub hidden: u64,
    pub intermediate: u64,
    pub layers: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    /// lm_head shares the embedding matrix (counted once).
    pub tied_embeddings: bool,
}

impl DecoderShape {
    /// HuggingFaceTB/SmolLM2-135M (config.json): 134,515,008 parameters.
    pub const fn smollm2_135m() -> Self {
        DecoderShape {
            vocab: 49_152,
            hidden: 576,
            intermediate: 1_536,
            layers: 30,
            heads: 9,
            kv_heads: 3,
            head_dim: 64,
            tied_embeddings: true,
        }
    }

    /// TinyLlama/TinyLlama-1.1B (config.json): 1,100,048,384 parameters.
    pub const fn tinyllama_1_1b() -> Self {
        DecoderShape {
            vocab: 32_000,
            hidden: 2_048,
            intermediate: 5_632,
            layers: 22,
            heads: 32,
            kv_heads: 4,
            head_dim: 64,
            tied_embeddings: false,
        }
    }

    /// meta-llama/Llama-2-7b (config.json): 6,738,415,616 parameters.
    pub const fn llama2_7b() -> Self {
        DecoderShape {
            vocab: 32_000,
            hidden: 4_096,
            intermediate: 11_008,
            layers: 32,
            heads: 32,
            kv_heads: 32,
            head_dim: 128,
            tied_embeddings: false,
        }
    }

    /// (d_in, d_out) of one projection.
    pub fn linear_shape(&self, target: Target) -> (u64, u64) {
        let q_width = self.heads * self.head_dim;
        let kv_width = self.kv_heads * self.head_dim;
        match target {
            Target::Q => (self.hidden, q_width),
            Target::K | Target::V => (self.hidden, kv_width),
            Target::O => (q_width, self.hidden),
            Target::Gate | Target::Up => (self.hidden, self.intermediate),
            Target::Down => (self.intermediate, self.hidden),
        }
    }

    /// Parameters of the seven projections of one layer.
    pub fn linear_params_per_layer(&self) -> u64 {
        Target::ALL_LINEAR
            .into_iter()
            .map(|t| {
                let (d_in, d_out) = self.linear_shape(t);
                full_params(d_in, d_out)
            })
            .sum()
    }

    /// All parameters of the base model: embeddings, per layer the seven projections and two
    /// RMSNorm weights, the final norm, and lm_head unless tied.
    pub fn total_params(&self) -> u64 {
        let embedding = self.vocab * self.hidden;
        let lm_head = if self.tied_embeddings { 0 } else { embedding };
        let per_layer = self.linear_params_per_layer() + 2 * self.hidden;
        embedding + self.layers * per_layer + self.hidden + lm_head
    }

    /// Trainable LoRA parameters for rank `r` on `targets` in every layer (duplicates count once).
    pub fn lora_params(&self, targets: &[Target], r: u64) -> u64 {
        let mut unique = targets.to_vec();
        unique.sort();
        unique.dedup();
        let per_layer: u64 = unique
            .into_iter()
            .map(|t| {
                let (d_in, d_out) = self.linear_shape(t);
                lora_params(d_in, d_out, r)
            })
            .sum();
        self.layers * per_layer
    }

    /// Trainable share: LoRA parameters / (base + LoRA parameters), as PEFT's
    /// `print_trainable_parameters` reports it (a fraction, not a percentage).
    pub fn lora_share(&self, targets: &[Target], r: u64) -> f64 {
        let lora = self.lora_params(targets, r) as f64;
        lora / (self.total_params() as f64 + lora)
    }
}
