//! The live state of a player's answer, redrawn on every edit: a mark per cell, the figures and
//! facts beside the grids, and whether the answer engine calls it solved.

use nalgebra::DMatrix;

use super::grid::Grid;
use crate::content::answer::{Tolerance, in_notation};
use crate::game::i18n::Tr;

/// How a cell compares with what the maths says. Drawn with a colour AND a symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Nothing typed yet.
    Empty,
    /// Typed; cannot be judged on its own (a factor of a product).
    Entered,
    /// Shown by the puzzle, not editable.
    Given,
    Match,
    Miss,
}

impl Mark {
    fn of(ok: bool) -> Mark {
        if ok { Mark::Match } else { Mark::Miss }
    }
}

/// A read-only matrix drawn next to the inputs (the target, W, x, the live ΔW = B·A, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub label: String,
    pub matrix: DMatrix<f64>,
    /// Per-cell comparison with the target, when the figure is a live result.
    pub marks: Option<DMatrix<Mark>>,
}

impl Figure {
    pub(super) fn plain(label: impl Into<String>, matrix: DMatrix<f64>) -> Figure {
        Figure { label: label.into(), matrix, marks: None }
    }

    /// A one-row figure.
    pub(super) fn row(label: &str, values: &[f64]) -> Figure {
        Figure::plain(label, DMatrix::from_row_slice(1, values.len(), values))
    }

    /// A live result, each cell marked by whether it is accepted.
    pub(super) fn judged(label: &str, matrix: DMatrix<f64>, accepted: &DMatrix<bool>) -> Figure {
        Figure { label: label.into(), matrix, marks: Some(accepted.map(Mark::of)) }
    }
}

/// A labelled number shown beside the puzzle.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub key: Tr,
    pub value: String,
}

/// The live state of the player's answer, recomputed by the maths on every edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Per input grid, per cell (row-major).
    pub marks: Vec<Vec<Mark>>,
    /// The answer engine's verdict on the answer as it stands.
    pub solved: bool,
    pub figures: Vec<Figure>,
    pub facts: Vec<Fact>,
    /// Solved with the smallest possible rank.
    pub min_rank: bool,
    /// A problem with the inputs (e.g. shapes), shown as is.
    pub note: Option<crate::content::Text>,
    /// Once a pick-one puzzle is over: what each option scores, computed by the maths, and the
    /// sentence that says why the right one wins.
    /// After the puzzle: the numbers it showed (in each language's notation) and why they matter.
    pub debrief: Option<(crate::content::Text, Tr)>,
}

/// A line of numbers written the English way, in both notations ([`in_notation`]).
pub fn in_both_notations(en: String) -> crate::content::Text {
    crate::content::Text::new(in_notation(&en, crate::content::Lang::Es), en)
}

impl Evaluation {
    pub(super) fn new(inputs: &[Grid]) -> Evaluation {
        Evaluation {
            marks: inputs
                .iter()
                .map(|g| {
                    g.cells
                        .iter()
                        .map(|c| match (c.editable, c.value()) {
                            (false, _) => Mark::Given,
                            (true, None) => Mark::Empty,
                            (true, Some(_)) => Mark::Entered,
                        })
                        .collect()
                })
                .collect(),
            solved: false,
            figures: Vec::new(),
            facts: Vec::new(),
            min_rank: false,
            note: None,
            debrief: None,
        }
    }

    pub(super) fn fact(&mut self, key: Tr, value: impl Into<String>) {
        self.facts.push(Fact { key, value: value.into() });
    }

    /// Marks each typed, editable cell of `grid` against `truth` (row-major), with the same
    /// tolerance the answer engine judges the answer with.
    pub(super) fn mark_cells(&mut self, inputs: &[Grid], grid: usize, truth: &[f64], tolerance: Tolerance) {
        for (i, cell) in inputs[grid].cells.iter().enumerate() {
            if let (true, Some(v)) = (cell.editable, cell.value()) {
                self.marks[grid][i] = Mark::of(truth.get(i).is_some_and(|&t| tolerance.accepts(t, v)));
            }
        }
    }
}
