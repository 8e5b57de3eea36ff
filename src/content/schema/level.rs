//! A level pack: its header, its items, and what every kind of item shares (difficulty,
//! rewards, matrices).

use serde::{Deserialize, Serialize};

use super::{MatrixPuzzle, Nf4Puzzle, Question, Slide, Text};

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
        let penalty = self.hint_cost.saturating_mul(hints_used).saturating_add(self.miss_cost.saturating_mul(misses));
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
        Some(nalgebra::DMatrix::from_fn(self.rows(), self.cols(), |i, j| self.0[i][j]))
    }

    /// From an nalgebra matrix.
    pub fn from_dmatrix(m: &nalgebra::DMatrix<f64>) -> Matrix {
        Matrix((0..m.nrows()).map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect()).collect())
    }
}
