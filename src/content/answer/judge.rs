//! The verdict on an answer: a player's submission at play time, or a level's stored answer when
//! it loads. Both are judged against [`Expected`], the maths' answer, never against the stored one.

use std::mem::discriminant;

use nalgebra::DMatrix;

use super::expected::{self, Expected};
use super::numbers::{Tolerance, shown};
use crate::content::schema::{CountAsk, Matrix, MatrixTask, Nf4Task, Question, Text};
use crate::math::lora;

/// An answer to a [`MatrixTask`]; the variant follows the task (see [`PuzzleTask::solution`]).
#[derive(Clone, Debug, PartialEq)]
pub enum MatrixAnswer {
    /// `Factorize`: B (d_out×r) and A (r×d_in), for any rank r.
    Factors { b: Matrix, a: Matrix },
    /// `CompleteDelta`: the values of the blank cells, in the order of `blanks`.
    Cells(Vec<f64>),
    /// `Forward`: y.
    Vector(Vec<f64>),
    /// `CountParams`: the count asked for.
    Count(u64),
    /// `FindRank`.
    Rank(usize),
    /// `BestApprox`: index of the chosen matrix.
    Choice(usize),
}

/// An answer to an [`Nf4Task`].
#[derive(Clone, Debug, PartialEq)]
pub enum Nf4Answer {
    /// `Absmax` and `Memory` (in GB).
    Number(f64),
    /// `Quantize`: one code 0..=15 per weight.
    Codes(Vec<u8>),
    /// `Dequantize`.
    Values(Vec<f64>),
    /// `CompareError`: index of the block.
    Choice(usize),
}

/// Who gave an answer: it decides how close its numbers must be (see [`Tolerance`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GivenBy {
    /// Typed or picked in the game.
    Player,
    /// Stored in a level file.
    LevelFile,
}

impl GivenBy {
    /// For numbers worked out by hand.
    fn numbers(self) -> Tolerance {
        match self {
            GivenBy::Player => Tolerance::TYPED,
            GivenBy::LevelFile => Tolerance::STORED,
        }
    }

    /// For a puzzle that states its own tolerance: it widens what a player may type, and it is
    /// how far the level's own (rounded) answer may be from the maths.
    fn stated(self, own: f64) -> Tolerance {
        match self {
            GivenBy::Player => Tolerance::TYPED.at_least(own),
            GivenBy::LevelFile => Tolerance::absolute(own),
        }
    }
}

/// The verdict on one answer, with a line of feedback for the player.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    pub correct: bool,
    pub feedback: Text,
}

impl Grade {
    fn right() -> Grade {
        Grade { correct: true, feedback: Text::new("¡Correcto!", "Correct!") }
    }

    fn wrong(es: impl Into<String>, en: impl Into<String>) -> Grade {
        Grade { correct: false, feedback: Text::new(es, en) }
    }

    fn from_bool(ok: bool) -> Grade {
        if ok { Grade::right() } else { Grade::wrong("No es correcto, inténtalo de nuevo.", "Not right, try again.") }
    }

    /// Right when nothing is wrong, else how many things are (`es` / `en` say what they are).
    fn counting(wrong: usize, es: &str, en: &str) -> Grade {
        if wrong == 0 { Grade::right() } else { Grade::wrong(format!("{wrong} {es}"), format!("{wrong} {en}")) }
    }
}

/// A puzzle task the answer engine judges: [`MatrixTask`] or [`Nf4Task`].
pub trait PuzzleTask {
    type Answer;

    /// The answer the level stores (for a factorization, its example pair): shown after the
    /// puzzle, and checked against the maths when the level loads.
    fn solution(&self) -> Self::Answer;

    /// The answer computed by the maths.
    fn expected(&self) -> Result<Expected, String>;

    /// How close a number of an answer from `given_by` must be to the maths' value.
    fn tolerance(&self, given_by: GivenBy) -> Tolerance;

    /// How `answer`, of the kind this task takes, compares with the maths' `expected`, its
    /// numbers within `tolerance`.
    fn compare(&self, answer: &Self::Answer, expected: &Expected, tolerance: Tolerance) -> Grade;

    /// THE answer check, asked by the game, by `check-levels` and by the tests: whether `answer`
    /// is what the maths says, within the tolerance for `given_by`.
    fn judge(&self, answer: &Self::Answer, given_by: GivenBy) -> Grade {
        if discriminant(answer) != discriminant(&self.solution()) {
            return wrong_kind();
        }
        match self.expected() {
            Ok(expected) => self.compare(answer, &expected, self.tolerance(given_by)),
            Err(problem) => Grade::wrong(
                format!("Los datos del puzle no encajan: {problem}"),
                format!("The puzzle's data do not fit together: {problem}"),
            ),
        }
    }

    /// Judges a player's answer.
    fn grade(&self, answer: &Self::Answer) -> Grade {
        self.judge(answer, GivenBy::Player)
    }
}

impl PuzzleTask for MatrixTask {
    type Answer = MatrixAnswer;

    fn solution(&self) -> MatrixAnswer {
        match self {
            MatrixTask::Factorize { example_b, example_a, .. } => {
                MatrixAnswer::Factors { b: example_b.clone(), a: example_a.clone() }
            }
            MatrixTask::CompleteDelta { blanks, delta, .. } => MatrixAnswer::Cells(
                // A blank outside ΔW (a level the validator refuses) has no stored value.
                blanks
                    .iter()
                    .map(|&(i, j)| delta.0.get(i).and_then(|row| row.get(j)).copied().unwrap_or(f64::NAN))
                    .collect(),
            ),
            MatrixTask::Forward { y, .. } => MatrixAnswer::Vector(y.clone()),
            MatrixTask::CountParams { ask, lora, full, .. } => MatrixAnswer::Count(match ask {
                CountAsk::Lora => *lora,
                CountAsk::Full => *full,
            }),
            MatrixTask::FindRank { rank, .. } => MatrixAnswer::Rank(*rank),
            MatrixTask::BestApprox { answer, .. } => MatrixAnswer::Choice(*answer),
        }
    }

    fn expected(&self) -> Result<Expected, String> {
        expected::of_matrix_task(self)
    }

    fn tolerance(&self, given_by: GivenBy) -> Tolerance {
        match self {
            MatrixTask::Factorize { .. } | MatrixTask::CompleteDelta { .. } | MatrixTask::Forward { .. } => {
                given_by.numbers()
            }
            MatrixTask::CountParams { .. } | MatrixTask::FindRank { .. } | MatrixTask::BestApprox { .. } => {
                Tolerance::EXACT
            }
        }
    }

    fn compare(&self, answer: &MatrixAnswer, expected: &Expected, tolerance: Tolerance) -> Grade {
        match (answer, expected) {
            (MatrixAnswer::Factors { b, a }, Expected::Product(target)) => grade_factors(target, b, a, tolerance),
            (MatrixAnswer::Cells(cells), Expected::Matrix(delta)) => {
                let MatrixTask::CompleteDelta { blanks, .. } = self else {
                    return wrong_kind();
                };
                if cells.len() != blanks.len() {
                    return Grade::wrong(
                        format!("Faltan casillas: hay {} huecos.", blanks.len()),
                        format!("Cells missing: there are {} blanks.", blanks.len()),
                    );
                }
                let wrong = blanks
                    .iter()
                    .zip(cells)
                    .filter(|&(&(i, j), &v)| !delta.get((i, j)).is_some_and(|&e| tolerance.accepts(e, v)))
                    .count();
                Grade::counting(wrong, "casilla(s) no coinciden con B·A.", "cell(s) do not match B·A.")
            }
            (MatrixAnswer::Vector(v), Expected::Numbers(y)) => Grade::from_bool(tolerance.accepts_all(y, v)),
            (MatrixAnswer::Count(n), Expected::Numbers(count)) => {
                Grade::from_bool(tolerance.accepts_all(count, &[*n as f64]))
            }
            (MatrixAnswer::Rank(r), Expected::Numbers(rank)) => {
                Grade::from_bool(tolerance.accepts_all(rank, &[*r as f64]))
            }
            (MatrixAnswer::Choice(c), Expected::Choice(right)) => Grade::from_bool(c == right),
            _ => wrong_kind(),
        }
    }
}

impl PuzzleTask for Nf4Task {
    type Answer = Nf4Answer;

    fn solution(&self) -> Nf4Answer {
        match self {
            Nf4Task::Absmax { absmax, .. } => Nf4Answer::Number(*absmax),
            Nf4Task::Quantize { codes, .. } => Nf4Answer::Codes(codes.clone()),
            Nf4Task::Dequantize { values, .. } => Nf4Answer::Values(values.clone()),
            Nf4Task::CompareError { answer, .. } => Nf4Answer::Choice(*answer),
            Nf4Task::Memory { gb, .. } => Nf4Answer::Number(*gb),
        }
    }

    fn expected(&self) -> Result<Expected, String> {
        expected::of_nf4_task(self)
    }

    fn tolerance(&self, given_by: GivenBy) -> Tolerance {
        match self {
            Nf4Task::Absmax { .. } => given_by.numbers(),
            Nf4Task::Dequantize { tolerance, .. } => given_by.stated(*tolerance),
            Nf4Task::Memory { tolerance_gb, .. } => given_by.stated(*tolerance_gb),
            Nf4Task::Quantize { .. } | Nf4Task::CompareError { .. } => Tolerance::EXACT,
        }
    }

    fn compare(&self, answer: &Nf4Answer, expected: &Expected, tolerance: Tolerance) -> Grade {
        match (answer, expected) {
            (Nf4Answer::Number(x), Expected::Numbers(exact)) => {
                let right = tolerance.accepts_all(exact, &[*x]);
                match (self, exact.first()) {
                    (Nf4Task::Memory { .. }, Some(&gb)) if right => Grade {
                        correct: true,
                        feedback: Text::new(
                            format!("¡Correcto! Exactamente {} GB.", shown(gb)),
                            format!("Correct! Exactly {} GB.", shown(gb)),
                        ),
                    },
                    _ => Grade::from_bool(right),
                }
            }
            (Nf4Answer::Codes(given), Expected::Codes(codes)) => {
                let wrong = codes.iter().zip(given).filter(|(a, b)| a != b).count() + codes.len().abs_diff(given.len());
                Grade::counting(wrong, "código(s) incorrectos.", "code(s) wrong.")
            }
            (Nf4Answer::Values(v), Expected::Numbers(values)) => Grade::from_bool(tolerance.accepts_all(values, v)),
            (Nf4Answer::Choice(c), Expected::Choice(right)) => Grade::from_bool(c == right),
            _ => wrong_kind(),
        }
    }
}

impl Question {
    /// Whether `choice` (index from 0) is the right one.
    pub fn is_correct(&self, choice: usize) -> bool {
        choice == self.answer
    }
}

/// A factorization is right when its product is the target: any B·A counts, at any rank.
fn grade_factors(target: &DMatrix<f64>, b: &Matrix, a: &Matrix, tolerance: Tolerance) -> Grade {
    let (Some(b), Some(a)) = (b.to_dmatrix(), a.to_dmatrix()) else {
        return Grade::wrong("Rellena B y A por completo.", "Fill B and A completely.");
    };
    let (d_out, d_in) = target.shape();
    if b.nrows() != d_out || a.ncols() != d_in || b.ncols() != a.nrows() {
        return Grade::wrong(
            format!("B debe ser {d_out}×r y A r×{d_in}, con la misma r."),
            format!("B must be {d_out}×r and A r×{d_in}, with the same r."),
        );
    }
    match lora::delta_w(&b, &a) {
        Ok(product) => {
            let wrong = tolerance.cells(target, &product).iter().filter(|ok| !**ok).count();
            Grade::counting(wrong, "casilla(s) de B·A difieren del objetivo.", "cell(s) of B·A differ from the target.")
        }
        Err(e) => Grade::wrong(format!("Entrada no válida: {e}"), format!("Invalid input: {e}")),
    }
}

fn wrong_kind() -> Grade {
    Grade::wrong("Ese tipo de respuesta no corresponde a este puzle.", "That kind of answer does not fit this puzzle.")
}
