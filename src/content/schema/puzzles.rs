//! Quiz questions and matrix / NF4 puzzles.

use serde::{Deserialize, Serialize};

use super::{Difficulty, Matrix, Precision, Reward, Text};

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
    /// The slide that teaches what this asks (every shipped question has one; a test holds it).
    #[serde(default)]
    pub taught_on: Option<TaughtOn>,
}

/// Where the course teaches what a question asks: a lesson slide, and words that slide shows on
/// screen (not in its presenter notes), so moving the fact off the slide is caught.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaughtOn {
    /// The id of a slide in a lessons level.
    pub slide: String,
    /// Words drawn on that slide, in both languages (spacing is not compared).
    pub quote: Text,
}

/// A puzzle: a prompt, hints, a reward and the task itself ([`MatrixTask`] or [`Nf4Task`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Puzzle<T> {
    pub id: String,
    pub difficulty: Difficulty,
    pub prompt: Text,
    /// Opened one at a time, each costs `reward.hint_cost`.
    pub hints: Vec<Text>,
    pub reward: Reward,
    pub task: T,
}

/// A LoRA matrix puzzle.
pub type MatrixPuzzle = Puzzle<MatrixTask>;
/// An NF4 / memory puzzle.
pub type Nf4Puzzle = Puzzle<Nf4Task>;

/// What a matrix puzzle asks, its inputs and its stored answer (re-derived by the maths when
/// the level is loaded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum MatrixTask {
    /// Write `target` (d_out×d_in) as B·A with B d_out×`rank` and A `rank`×d_in. Any valid pair
    /// is accepted at play time; `example_b`·`example_a` is one, checked at load time.
    Factorize { target: Matrix, rank: usize, example_b: Matrix, example_a: Matrix },
    /// Fill the cells of ΔW = B·A listed in `blanks` (row, column from 0); `delta` is the full
    /// ΔW, the other cells are shown.
    CompleteDelta { b: Matrix, a: Matrix, blanks: Vec<(usize, usize)>, delta: Matrix },
    /// Compute y = W·x + (α/r)·B(A·x), r = rows of A.
    Forward { w: Matrix, a: Matrix, b: Matrix, x: Vec<f64>, alpha: f64, y: Vec<f64> },
    /// Count trainable parameters of one adapted d_out×d_in layer at rank r: LoRA = r·(d_in + d_out),
    /// full fine-tuning = d_in·d_out. The player answers `ask`.
    CountParams { d_in: u64, d_out: u64, rank: u64, ask: CountAsk, lora: u64, full: u64 },
    /// Give the rank of `matrix`.
    FindRank { matrix: Matrix, rank: usize },
    /// Pick the best rank-`rank` approximation of `matrix` (Frobenius norm) among `choices`.
    BestApprox { matrix: Matrix, rank: usize, choices: Vec<Matrix>, answer: usize },
}

/// Which count a [`MatrixTask::CountParams`] puzzle asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountAsk {
    /// r·(d_in + d_out).
    Lora,
    /// d_in·d_out.
    Full,
}

/// What an NF4 puzzle asks, its inputs and its stored answer (re-derived by the maths).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Nf4Task {
    /// The absmax of a block: max |w|.
    Absmax { block: Vec<f64>, absmax: f64 },
    /// Map each weight of a block (one block, scaled by its absmax) to its NF4 code index 0..=15.
    Quantize { block: Vec<f64>, codes: Vec<u8> },
    /// Dequantize: value = `NF4_CODE[code]` × absmax. Answers within `tolerance`.
    Dequantize { codes: Vec<u8>, absmax: f64, values: Vec<f64>, tolerance: f64 },
    /// Which block loses the most (largest max |w − dequantized w|) after NF4?
    CompareError { blocks: Vec<Vec<f64>>, answer: usize },
    /// Weights-only memory of a model with `params` weights at `precision`, in GB (10⁹ bytes),
    /// accepted within `tolerance_gb`.
    Memory { model: String, params: u64, precision: Precision, gb: f64, tolerance_gb: f64 },
}
