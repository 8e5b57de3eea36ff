//! The serde types of a level file (`levels/*.ron`).
//!
//! One file is one *level pack*: a header (`id`, `order`, `title`, `summary`) and `items`, whose
//! variant says the kind of the pack (`Lessons`, `Quiz`, `Matrix`, `Nf4`). Every player-facing
//! string is a [`Text`] with both Spanish and English. Every struct denies unknown fields, so a
//! typo in a field name is reported instead of silently ignored.
//!
//! The loader enables RON's `implicit_some` and `unwrap_variant_newtypes` extensions, so an
//! optional field is written without `Some(..)` and a newtype variant without double parentheses:
//!
//! ```ron
//! (
//!     id: "quiz-lora",
//!     order: 20,
//!     title: (es: "Preguntas de LoRA", en: "LoRA questions"),
//!     summary: (es: "…", en: "…"),
//!     items: Quiz([
//!         (
//!             id: "q-freeze",
//!             topic: Lora,
//!             difficulty: Easy,
//!             prompt: (es: "¿Qué se entrena en LoRA?", en: "What does LoRA train?"),
//!             choices: [(es: "W", en: "W"), (es: "A y B", en: "A and B")],
//!             answer: 1,
//!             explanation: (es: "…", en: "…"),
//!         ),
//!     ]),
//! )
//! ```

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Language
// ---------------------------------------------------------------------------------------------

/// The two languages every player-facing string is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Spanish, the language of the original deck.
    #[default]
    Es,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Spanish first.
    pub const ALL: [Lang; 2] = [Lang::Es, Lang::En];

    /// Parses a language code: `"es"`, `"en"` (case-insensitive; a region such as `es-MX` or
    /// `en_GB.UTF-8` is accepted too). `None` for any other language.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code
            .trim()
            .split(['-', '_', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" | "spa" | "spanish" | "español" => Some(Lang::Es),
            "en" | "eng" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language for a locale string such as `es-ES` or `en_US.UTF-8`: Spanish for any Spanish
    /// locale, English for everything else (English is the better guess for a non-Spanish reader).
    pub fn from_locale(locale: &str) -> Lang {
        Lang::parse(locale).unwrap_or(Lang::En)
    }

    /// The language of the operating system's locale (English when it cannot be read).
    pub fn from_system() -> Lang {
        sys_locale::get_locale()
            .map(|locale| Lang::from_locale(&locale))
            .unwrap_or(Lang::En)
    }

    /// The two-letter code: `"es"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// The other language (for a language toggle).
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A player-facing string in Spanish and English. Both are required and must not be blank.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub es: String,
    pub en: String,
}

impl Text {
    pub fn new(es: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            es: es.into(),
            en: en.into(),
        }
    }

    /// The string in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Es => &self.es,
            Lang::En => &self.en,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Level pack
// ---------------------------------------------------------------------------------------------

/// One level file: a pack of lessons, questions or puzzles of a single kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Unique across the course; an instructor's file with the same id replaces the built-in one.
    pub id: String,
    /// Position on the level map (ascending).
    pub order: u32,
    pub title: Text,
    /// One or two sentences shown on the level map.
    pub summary: Text,
    pub items: Items,
}

/// The content of a pack; the variant is the pack's kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Items {
    /// Slides an instructor presents in place of the deck.
    Lessons(Vec<Slide>),
    /// Multiple-choice questions.
    Quiz(Vec<Question>),
    /// LoRA matrix puzzles.
    Matrix(Vec<MatrixPuzzle>),
    /// NF4 quantization and memory puzzles.
    Nf4(Vec<Nf4Puzzle>),
}

/// The four kinds of level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LevelKind {
    Lessons,
    Quiz,
    Matrix,
    Nf4,
}

impl LevelKind {
    pub const ALL: [LevelKind; 4] = [LevelKind::Lessons, LevelKind::Quiz, LevelKind::Matrix, LevelKind::Nf4];

    /// The kind's name for players.
    pub fn title(self) -> Text {
        match self {
            LevelKind::Lessons => Text::new("Lecciones", "Lessons"),
            LevelKind::Quiz => Text::new("Preguntas", "Quiz"),
            LevelKind::Matrix => Text::new("Matrices", "Matrices"),
            LevelKind::Nf4 => Text::new("NF4 y memoria", "NF4 and memory"),
        }
    }
}

impl Items {
    pub fn kind(&self) -> LevelKind {
        match self {
            Items::Lessons(_) => LevelKind::Lessons,
            Items::Quiz(_) => LevelKind::Quiz,
            Items::Matrix(_) => LevelKind::Matrix,
            Items::Nf4(_) => LevelKind::Nf4,
        }
    }

    /// Number of slides, questions or puzzles.
    pub fn len(&self) -> usize {
        match self {
            Items::Lessons(v) => v.len(),
            Items::Quiz(v) => v.len(),
            Items::Matrix(v) => v.len(),
            Items::Nf4(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Level {
    pub fn kind(&self) -> LevelKind {
        self.items.kind()
    }
}

/// How hard an item is; the map and the quiz order by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum Difficulty {
    #[default]
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    /// Points a correct quiz answer is worth at this difficulty.
    pub fn points(self) -> u32 {
        match self {
            Difficulty::Easy => 100,
            Difficulty::Medium => 200,
            Difficulty::Hard => 300,
        }
    }
}

/// Points for a puzzle and the score needed for 1, 2 and 3 stars.
///
/// Score = `points` − `hint_cost` × hints opened − `miss_cost` × wrong submissions (never below 0).
/// `stars` must be ascending and the last one at most `points`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    pub points: u32,
    pub hint_cost: u32,
    pub miss_cost: u32,
    pub stars: [u32; 3],
}

impl Reward {
    /// The score after `hints_used` hints and `misses` wrong answers.
    pub fn score(&self, hints_used: u32, misses: u32) -> u32 {
        let penalty = self
            .hint_cost
            .saturating_mul(hints_used)
            .saturating_add(self.miss_cost.saturating_mul(misses));
        self.points.saturating_sub(penalty)
    }

    /// Stars (0..=3) earned with `score`.
    pub fn stars_for(&self, score: u32) -> u8 {
        self.stars.iter().filter(|&&t| score >= t).count() as u8
    }
}

/// A dense matrix written row by row: `[[1, 2], [3, 4]]`. Rows must have equal length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Matrix(pub Vec<Vec<f64>>);

impl Matrix {
    pub fn rows(&self) -> usize {
        self.0.len()
    }

    /// Length of the first row (0 for an empty matrix).
    pub fn cols(&self) -> usize {
        self.0.first().map_or(0, Vec::len)
    }

    /// Whether every row has the same length and there is at least one cell.
    pub fn is_rectangular(&self) -> bool {
        !self.0.is_empty() && self.cols() > 0 && self.0.iter().all(|r| r.len() == self.cols())
    }

    /// As an nalgebra matrix; `None` when the rows have unequal length or the matrix is empty.
    pub fn to_dmatrix(&self) -> Option<nalgebra::DMatrix<f64>> {
        if !self.is_rectangular() {
            return None;
        }
        Some(nalgebra::DMatrix::from_fn(self.rows(), self.cols(), |i, j| {
            self.0[i][j]
        }))
    }

    /// From an nalgebra matrix.
    pub fn from_dmatrix(m: &nalgebra::DMatrix<f64>) -> Matrix {
        Matrix(
            (0..m.nrows())
                .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Lessons
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Quiz
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Topic {
    FineTuning,
    Lora,
    Qlora,
    Nf4,
    Peft,
    Memory,
}

/// A multiple-choice question with 2–4 choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub topic: Topic,
    pub difficulty: Difficulty,
    pub prompt: Text,
    pub choices: Vec<Text>,
    /// Index (from 0) of the right choice.
    pub answer: usize,
    /// Shown after answering: why the right choice is right.
    pub explanation: Text,
}

// ---------------------------------------------------------------------------------------------
// Puzzles
// ---------------------------------------------------------------------------------------------

/// A LoRA matrix puzzle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixPuzzle {
    pub id: String,
    pub difficulty: Difficulty,
    pub prompt: Text,
    /// Opened one at a time, each costs `reward.hint_cost`.
    pub hints: Vec<Text>,
    pub reward: Reward,
    pub task: MatrixTask,
}

/// What a matrix puzzle asks, its inputs and its stored answer (re-derived by the maths when
/// the level is loaded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MatrixTask {
    /// Write `target` (d_out×d_in) as B·A with B d_out×`rank` and A `rank`×d_in. Any valid pair
    /// is accepted at play time; `example_b`·`example_a` is one, checked at load time.
    Factorize {
        target: Matrix,
        rank: usize,
        example_b: Matrix,
        example_a: Matrix,
    },
    /// Fill the cells of ΔW = B·A listed in `blanks` (row, column from 0); `delta` is the full
    /// ΔW, the other cells are shown.
    CompleteDelta {
        b: Matrix,
        a: Matrix,
        blanks: Vec<(usize, usize)>,
        delta: Matrix,
    },
    /// Compute y = W·x + (α/r)·B(A·x), r = rows of A.
    Forward {
        w: Matrix,
        a: Matrix,
        b: Matrix,
        x: Vec<f64>,
        alpha: f64,
        y: Vec<f64>,
    },
    /// Count trainable parameters of one adapted d_out×d_in layer at rank r: LoRA = r·(d_in + d_out),
    /// full fine-tuning = d_in·d_out. The player answers `ask`.
    CountParams {
        d_in: u64,
        d_out: u64,
        rank: u64,
        ask: CountAsk,
        lora: u64,
        full: u64,
    },
    /// Give the rank of `matrix`.
    FindRank { matrix: Matrix, rank: usize },
    /// Pick the best rank-`rank` approximation of `matrix` (Frobenius norm) among `choices`.
    BestApprox {
        matrix: Matrix,
        rank: usize,
        choices: Vec<Matrix>,
        answer: usize,
    },
}

/// Which count a [`MatrixTask::CountParams`] puzzle asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountAsk {
    /// r·(d_in + d_out).
    Lora,
    /// d_in·d_out.
    Full,
}

/// An NF4 / memory puzzle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nf4Puzzle {
    pub id: String,
    pub difficulty: Difficulty,
    pub prompt: Text,
    pub hints: Vec<Text>,
    pub reward: Reward,
    pub task: Nf4Task,
}

/// What an NF4 puzzle asks, its inputs and its stored answer (re-derived by the maths).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Nf4Task {
    /// The absmax of a block: max |w|.
    Absmax { block: Vec<f64>, absmax: f64 },
    /// Map each weight of a block (one block, scaled by its absmax) to its NF4 code index 0..=15.
    Quantize { block: Vec<f64>, codes: Vec<u8> },
    /// Dequantize: value = NF4_CODE[code] × absmax. Answers within `tolerance`.
    Dequantize {
        codes: Vec<u8>,
        absmax: f64,
        values: Vec<f64>,
        tolerance: f64,
    },
    /// Which block loses the most (largest max |w − dequantized w|) after NF4?
    CompareError { blocks: Vec<Vec<f64>>, answer: usize },
    /// Weights-only memory of a model with `params` weights at `precision`, in GB (10⁹ bytes),
    /// accepted within `tolerance_gb`.
    Memory {
        model: String,
        params: u64,
        precision: Precision,
        gb: f64,
        tolerance_gb: f64,
    },
}
