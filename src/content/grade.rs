//! Grading a player's answer at play time, with the same maths that checked the level.
//!
//! A factorization is graded on its product (any B·A that reproduces the target counts, not
//! just the stored example); numbers typed by hand are compared with a small tolerance.

use super::answers::{self, EXACT_TOLERANCE, fmt_num};
use super::schema::*;
use crate::math::lora;

/// A player's answer to a [`MatrixTask`]; the variant follows the task (see
/// [`MatrixTask::solution`] for the expected variant of each).
#[derive(Clone, Debug, PartialEq)]
pub enum MatrixAnswer {
    /// `Factorize`: B (d_out×r) and A (r×d_in).
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

/// A player's answer to an [`Nf4Task`].
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

/// The verdict on one answer, with a line of feedback for the player.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    pub correct: bool,
    pub feedback: Text,
}

impl Grade {
    fn right() -> Grade {
        Grade {
            correct: true,
            feedback: Text::new("¡Correcto!", "Correct!"),
        }
    }

    fn wrong(es: impl Into<String>, en: impl Into<String>) -> Grade {
        Grade {
            correct: false,
            feedback: Text::new(es, en),
        }
    }

    fn wrong_kind() -> Grade {
        Grade::wrong(
            "Ese tipo de respuesta no corresponde a este puzle.",
            "That kind of answer does not fit this puzzle.",
        )
    }

    fn from_bool(ok: bool) -> Grade {
        if ok {
            Grade::right()
        } else {
            Grade::wrong("No es correcto, inténtalo de nuevo.", "Not right, try again.")
        }
    }
}

impl Question {
    /// Whether `choice` (index from 0) is the right one.
    pub fn is_correct(&self, choice: usize) -> bool {
        choice == self.answer
    }
}

impl MatrixTask {
    /// The stored answer (for a factorization, the example pair), to show after the puzzle.
    pub fn solution(&self) -> MatrixAnswer {
        match self {
            MatrixTask::Factorize {
                example_b, example_a, ..
            } => MatrixAnswer::Factors {
                b: example_b.clone(),
                a: example_a.clone(),
            },
            MatrixTask::CompleteDelta { blanks, delta, .. } => {
                MatrixAnswer::Cells(blanks.iter().map(|&(i, j)| delta.0[i][j]).collect())
            }
            MatrixTask::Forward { y, .. } => MatrixAnswer::Vector(y.clone()),
            MatrixTask::CountParams { ask, lora, full, .. } => MatrixAnswer::Count(match ask {
                CountAsk::Lora => *lora,
                CountAsk::Full => *full,
            }),
            MatrixTask::FindRank { rank, .. } => MatrixAnswer::Rank(*rank),
            MatrixTask::BestApprox { answer, .. } => MatrixAnswer::Choice(*answer),
        }
    }

    /// Grades a player's answer.
    pub fn grade(&self, answer: &MatrixAnswer) -> Grade {
        match (self, answer) {
            (MatrixTask::Factorize { target, rank, .. }, MatrixAnswer::Factors { b, a }) => {
                grade_factors(target, *rank, b, a)
            }
            (MatrixTask::CompleteDelta { blanks, delta, .. }, MatrixAnswer::Cells(cells)) => {
                if cells.len() != blanks.len() {
                    return Grade::wrong(
                        format!("Faltan casillas: hay {} huecos.", blanks.len()),
                        format!("Cells missing: there are {} blanks.", blanks.len()),
                    );
                }
                let wrong = blanks
                    .iter()
                    .zip(cells)
                    .filter(|&(&(i, j), &v)| (delta.0[i][j] - v).abs() > EXACT_TOLERANCE)
                    .count();
                if wrong == 0 {
                    Grade::right()
                } else {
                    Grade::wrong(
                        format!("{wrong} casilla(s) no coinciden con B·A."),
                        format!("{wrong} cell(s) do not match B·A."),
                    )
                }
            }
            (MatrixTask::Forward { y, .. }, MatrixAnswer::Vector(v)) => {
                Grade::from_bool(answers::vectors_match(y, v, EXACT_TOLERANCE))
            }
            (MatrixTask::CountParams { .. }, MatrixAnswer::Count(n)) => {
                Grade::from_bool(self.solution() == MatrixAnswer::Count(*n))
            }
            (MatrixTask::FindRank { rank, .. }, MatrixAnswer::Rank(r)) => Grade::from_bool(r == rank),
            (MatrixTask::BestApprox { answer, .. }, MatrixAnswer::Choice(c)) => Grade::from_bool(c == answer),
            _ => Grade::wrong_kind(),
        }
    }
}

fn grade_factors(target: &Matrix, rank: usize, b: &Matrix, a: &Matrix) -> Grade {
    let (Some(w), Some(bm), Some(am)) = (target.to_dmatrix(), b.to_dmatrix(), a.to_dmatrix()) else {
        return Grade::wrong("Rellena B y A por completo.", "Fill B and A completely.");
    };
    if bm.shape() != (w.nrows(), rank) || am.shape() != (rank, w.ncols()) {
        return Grade::wrong(
            format!("B debe ser {}×{rank} y A {rank}×{}.", w.nrows(), w.ncols()),
            format!("B must be {}×{rank} and A {rank}×{}.", w.nrows(), w.ncols()),
        );
    }
    match lora::check_factorization(&w, &bm, &am, EXACT_TOLERANCE) {
        Ok(check) if check.ok => Grade::right(),
        Ok(check) => {
            let n = check.mismatches();
            Grade::wrong(
                format!("B·A difiere del objetivo en {n} casilla(s)."),
                format!("B·A differs from the target in {n} cell(s)."),
            )
        }
        Err(e) => Grade::wrong(format!("Entrada no válida: {e}"), format!("Invalid input: {e}")),
    }
}

impl Nf4Task {
    /// The stored answer, to show after the puzzle.
    pub fn solution(&self) -> Nf4Answer {
        match self {
            Nf4Task::Absmax { absmax, .. } => Nf4Answer::Number(*absmax),
            Nf4Task::Quantize { codes, .. } => Nf4Answer::Codes(codes.clone()),
            Nf4Task::Dequantize { values, .. } => Nf4Answer::Values(values.clone()),
            Nf4Task::CompareError { answer, .. } => Nf4Answer::Choice(*answer),
            Nf4Task::Memory { gb, .. } => Nf4Answer::Number(*gb),
        }
    }

    /// Grades a player's answer.
    pub fn grade(&self, answer: &Nf4Answer) -> Grade {
        match (self, answer) {
            (Nf4Task::Absmax { block, .. }, Nf4Answer::Number(x)) => {
                Grade::from_bool((answers::block_absmax(block) - x).abs() <= EXACT_TOLERANCE)
            }
            (Nf4Task::Quantize { codes, .. }, Nf4Answer::Codes(c)) => {
                let wrong = codes.iter().zip(c).filter(|(a, b)| a != b).count() + codes.len().abs_diff(c.len());
                if wrong == 0 {
                    Grade::right()
                } else {
                    Grade::wrong(
                        format!("{wrong} código(s) incorrectos."),
                        format!("{wrong} code(s) wrong."),
                    )
                }
            }
            (Nf4Task::Dequantize { values, tolerance, .. }, Nf4Answer::Values(v)) => {
                Grade::from_bool(answers::vectors_match(values, v, *tolerance))
            }
            (Nf4Task::CompareError { answer, .. }, Nf4Answer::Choice(c)) => Grade::from_bool(c == answer),
            (
                Nf4Task::Memory {
                    params,
                    precision,
                    tolerance_gb,
                    ..
                },
                Nf4Answer::Number(x),
            ) => {
                let exact = answers::memory_gb(*params, *precision);
                if (exact - x).abs() <= *tolerance_gb {
                    Grade {
                        correct: true,
                        feedback: Text::new(
                            format!("¡Correcto! Exactamente {} GB.", fmt_num(exact)),
                            format!("Correct! Exactly {} GB.", fmt_num(exact)),
                        ),
                    }
                } else {
                    Grade::from_bool(false)
                }
            }
            _ => Grade::wrong_kind(),
        }
    }
}
