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
///
/// The one target type of the crate: the level files (serde, spelled `Q`, `Gate`, …), the
/// parameter counts and the trainer all use it. The declaration order is PEFT's key order and
/// `target as usize` indexes [`Target::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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
    pub const ALL_LINEAR: [Target; 7] =
        [Target::Q, Target::K, Target::V, Target::O, Target::Gate, Target::Up, Target::Down];

    /// Every projection in declaration order (the same list as [`Target::ALL_LINEAR`]).
    pub const ALL: [Target; 7] = Target::ALL_LINEAR;

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

    /// The same as [`Target::name`], under the name content and the trainer call it by.
    pub fn module_name(self) -> &'static str {
        self.name()
    }

    /// Whether the projection lives in `self_attn` (q,k,v,o) rather than `mlp` (gate,up,down).
    pub fn is_attention(self) -> bool {
        matches!(self, Target::Q | Target::K | Target::V | Target::O)
    }

    /// The decoder block holding the projection: `self_attn` or `mlp`.
    pub fn block(self) -> &'static str {
        if self.is_attention() { "self_attn" } else { "mlp" }
    }

    /// The checkpoint path of the projection in layer `layer`: `model.layers.{i}.self_attn.q_proj`.
    pub fn path(self, layer: usize) -> String {
        format!("model.layers.{layer}.{}.{}", self.block(), self.name())
    }

    /// Parses "q_proj" (also the short "q"), ignoring surrounding whitespace; case-sensitive like PEFT.
    pub fn parse(name: &str) -> Result<Target, MathError> {
        let name = name.trim();
        Target::ALL_LINEAR
            .into_iter()
            .find(|t| t.name() == name || t.name().strip_suffix("_proj") == Some(name))
            .ok_or_else(|| unknown_target(name))
    }

    /// Parses a comma-separated list (`"q_proj,v_proj"`, `"q,v"`) or `"all-linear"` (every
    /// projection, never `lm_head`). A projection named twice is refused (a typo more often than
    /// not); the result is in declaration order.
    pub fn parse_list(list: &str) -> Result<Vec<Target>, MathError> {
        if list.trim() == "all-linear" {
            return Ok(Target::ALL.to_vec());
        }
        let mut targets = Vec::new();
        for part in list.split(',').filter(|p| !p.trim().is_empty()) {
            let target = Target::parse(part)?;
            if targets.contains(&target) {
                return Err(MathError::InvalidParameter {
                    name: "LoRA target",
                    reason: format!("{target} is named twice in {list:?}"),
                });
            }
            targets.push(target);
        }
        if targets.is_empty() {
            return Err(unknown_target(list));
        }
        targets.sort();
        Ok(targets)
    }
}

fn unknown_target(name: &str) -> MathError {
    MathError::InvalidParameter {
        name: "LoRA target",
        reason: format!(
            "unknown projection {name:?}; use q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (or all-linear for a list)"
        ),
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
