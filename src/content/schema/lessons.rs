//! Slides and their blocks: prose, formulas, and figures the maths checks.

use serde::{Deserialize, Serialize};

use super::{Matrix, Text};

/// One slide of the lesson deck.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slide {
    pub id: String,
    pub title: Text,
    /// Paragraphs, bullets, formulas, matrices and tables, drawn top to bottom.
    #[serde(default)]
    pub body: Vec<Block>,
    /// What the instructor may say; not drawn on the slide itself.
    #[serde(default)]
    pub notes: Option<Text>,
}

/// A piece of slide content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// A paragraph of prose.
    Paragraph(Text),
    /// A bulleted list.
    Bullets(Vec<Text>),
    /// A formula in plain text / unicode (`y = Wx + (α/r)·B(Ax)`), language-neutral, with an
    /// optional caption.
    Formula(Formula),
    /// A boxed remark: a correction of the deck, a tip or a warning.
    Callout(Callout),
    /// A matrix drawn as a grid.
    Matrix(MatrixFigure),
    /// `product = left × right`, drawn as three grids; checked by the maths.
    Factorization(FactorizationFigure),
    /// A table (header + rows of cells).
    Table(Table),
    /// Trainable share of LoRA on a model: computed and checked by the maths, never asserted.
    TrainableShare(TrainableShareFigure),
    /// Weight memory of a model at several precisions, checked by the maths.
    Memory(MemoryFigure),
    /// An interactive figure with one knob (▲ ▼), computed by the maths at every setting.
    Explore(Explorable),
}

/// The explorable figures a slide can hold (their numbers come from the maths, not the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Explorable {
    /// The best rank-r approximation of a full fine-tuning update: r, singular values, error.
    Rank,
    /// The 16 NF4 codes as quantiles of N(0, 1); a block quantized step by step.
    Nf4Codes,
    /// The same update at several ranks, with and without the α/r scale.
    AlphaOverR,
    /// Full fine-tuning, LoRA and QLoRA memory for 7B–65B models against 24 / 48 / 80 GB cards.
    MemoryBudget,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formula {
    pub text: String,
    #[serde(default)]
    pub caption: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    /// Information.
    Info,
    /// Where the original deck is wrong, and what is right.
    Correction,
    /// A pitfall.
    Warning,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callout {
    pub tone: Tone,
    pub text: Text,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixFigure {
    /// Short symbol drawn next to the grid, e.g. `ΔW`.
    pub label: String,
    pub matrix: Matrix,
    #[serde(default)]
    pub caption: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorizationFigure {
    /// Symbols for product, left and right, e.g. `["ΔW", "B", "A"]`.
    pub labels: [String; 3],
    pub product: Matrix,
    pub left: Matrix,
    pub right: Matrix,
    #[serde(default)]
    pub caption: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub header: Vec<Text>,
    pub rows: Vec<Vec<Text>>,
    #[serde(default)]
    pub caption: Option<Text>,
}

/// The shape of a Llama-family decoder, enough to count its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelShape {
    /// Display name, e.g. `SmolLM2-135M`.
    pub name: String,
    pub vocab: u64,
    pub hidden: u64,
    pub intermediate: u64,
    pub layers: u64,
    pub heads: u64,
    pub kv_heads: u64,
    pub head_dim: u64,
    /// Whether the output head shares the embedding matrix.
    pub tied_embeddings: bool,
}

impl ModelShape {
    /// The maths layer's decoder shape (parameter counts live there).
    pub fn to_math(&self) -> crate::math::DecoderShape {
        crate::math::DecoderShape {
            vocab: self.vocab,
            hidden: self.hidden,
            intermediate: self.intermediate,
            layers: self.layers,
            heads: self.heads,
            kv_heads: self.kv_heads,
            head_dim: self.head_dim,
            tied_embeddings: self.tied_embeddings,
        }
    }
}

/// A linear layer LoRA can adapt: the maths layer's type, spelled `Q`, `Gate`, … in level files.
pub use crate::math::Target;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainableShareFigure {
    pub model: ModelShape,
    /// Total parameters of the base model (checked against `model`).
    pub total_params: u64,
    pub rows: Vec<ShareRow>,
    #[serde(default)]
    pub caption: Option<Text>,
}

/// One configuration: rank and targets → trainable LoRA parameters and their share in percent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRow {
    pub rank: u64,
    pub targets: Vec<Target>,
    pub trainable: u64,
    /// Share in percent as PEFT's `print_trainable_parameters` reports it:
    /// 100 × trainable / (total_params + trainable); checked within 1 % of its value.
    pub percent: f64,
}

/// Number formats a frozen weight can be stored in: the maths layer's type, spelled `Fp32`,
/// `Fp16`, `Bf16`, `Int8`, `Nf4`, `Nf4DoubleQuant` in level files.
pub use crate::math::Precision;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFigure {
    /// Display name, e.g. `65B`.
    pub model: String,
    /// Number of weights.
    pub params: u64,
    pub rows: Vec<MemoryRow>,
    #[serde(default)]
    pub caption: Option<Text>,
}

/// Weights-only memory in GB (10⁹ bytes) at one precision, checked within 1 % of its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRow {
    pub precision: Precision,
    pub gb: f64,
}
