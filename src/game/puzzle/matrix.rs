//! Matrix puzzles in play: grids for B and A, ΔW's blanks, y or a single number; the live
//! product of a factorization; and changing its rank.

use nalgebra::DMatrix;

use super::evaluation::{Evaluation, Figure, Mark, in_both_notations};
use super::grid::{Grid, GridKind};
use super::{Playable, PuzzleRun, Task};
use crate::content::answer::{shown, thousands};
use crate::content::{CountAsk, Lang, Matrix, MatrixAnswer, MatrixTask, Text};
use crate::game::i18n::Tr;
use crate::math::lora;

impl Playable for MatrixTask {
    fn inputs(&self) -> (Vec<Grid>, usize) {
        let number = |label: &str| vec![Grid::blank(label, 1, 1, GridKind::Numbers)];
        match self {
            MatrixTask::Factorize { target, rank, .. } => (
                vec![
                    Grid::blank("B", target.rows(), *rank, GridKind::Numbers),
                    Grid::blank("A", *rank, target.cols(), GridKind::Numbers),
                ],
                0,
            ),
            MatrixTask::CompleteDelta { b, a, blanks, .. } => {
                let mut grid = Grid::blank("ΔW = B·A", b.rows(), a.cols(), GridKind::Numbers);
                // The shown cells come from the maths too, not from the stored ΔW.
                let delta = dmatrix(b).zip(dmatrix(a)).and_then(|(b, a)| lora::delta_w(&b, &a).ok());
                for (i, cell) in grid.cells.iter_mut().enumerate() {
                    let (r, c) = (i / a.cols(), i % a.cols());
                    if !blanks.contains(&(r, c)) {
                        cell.editable = false;
                        if let Some(d) = &delta {
                            cell.text = shown(d[(r, c)]);
                        }
                    }
                }
                (vec![grid], 0)
            }
            MatrixTask::Forward { w, .. } => (vec![Grid::blank("y", w.rows(), 1, GridKind::Numbers)], 0),
            MatrixTask::CountParams { ask, .. } => (
                // The quantity's name, not its formula: the formula is what the hints sell.
                number(match ask {
                    CountAsk::Lora => "lora-params",
                    CountAsk::Full => "full-params",
                }),
                0,
            ),
            MatrixTask::FindRank { .. } => (number("rank"), 0),
            MatrixTask::BestApprox { choices, .. } => (Vec::new(), choices.len()),
        }
    }

    fn answer(&self, inputs: &[Grid], chosen: Option<usize>) -> Option<MatrixAnswer> {
        let first = inputs.first();
        Some(match self {
            MatrixTask::Factorize { .. } => {
                MatrixAnswer::Factors { b: inputs.first()?.matrix()?, a: inputs.get(1)?.matrix()? }
            }
            MatrixTask::CompleteDelta { blanks, .. } => {
                let grid = first?;
                MatrixAnswer::Cells(blanks.iter().map(|&(r, c)| grid.value(r, c)).collect::<Option<_>>()?)
            }
            MatrixTask::Forward { .. } => MatrixAnswer::Vector(first?.values()?),
            MatrixTask::CountParams { .. } => MatrixAnswer::Count(whole(first?.value(0, 0)?)?),
            MatrixTask::FindRank { .. } => MatrixAnswer::Rank(usize::try_from(whole(first?.value(0, 0)?)?).ok()?),
            MatrixTask::BestApprox { .. } => MatrixAnswer::Choice(chosen?),
        })
    }

    fn explain(&self, run: &PuzzleRun, eval: &mut Evaluation) {
        let figures = |ms: &[(&str, &Matrix)]| -> Vec<Figure> {
            ms.iter().filter_map(|(label, m)| Some(Figure::plain(*label, dmatrix(m)?))).collect()
        };
        if !run.is_playing() {
            eval.debrief = self.debrief().map(|(numbers, why)| (in_both_notations(numbers), why));
        }
        match self {
            MatrixTask::Factorize { target, .. } => explain_factorization(run, target, eval),
            MatrixTask::CompleteDelta { b, a, .. } => eval.figures.extend(figures(&[("B", b), ("A", a)])),
            MatrixTask::Forward { w, a, b, x, alpha, .. } => {
                eval.figures.extend(figures(&[("W", w), ("A", a), ("B", b)]));
                eval.figures.push(Figure::plain("x", DMatrix::from_column_slice(x.len(), 1, x)));
                eval.fact(Tr::Rank, a.rows().to_string());
                eval.fact(Tr::Layer, format!("α = {}, s = α/r", shown(*alpha)));
            }
            MatrixTask::CountParams { d_in, d_out, rank, .. } => {
                eval.fact(Tr::Layer, format!("d_in = {d_in}, d_out = {d_out}, r = {rank}"));
                if !run.is_playing() {
                    param_counts(eval, *d_in, *d_out, *rank);
                }
            }
            MatrixTask::FindRank { matrix, .. } => eval.figures.extend(figures(&[("M", matrix)])),
            MatrixTask::BestApprox { matrix, choices, rank, .. } => {
                eval.figures.extend(figures(&[("M", matrix)]));
                for (i, choice) in choices.iter().enumerate() {
                    if let Some(m) = dmatrix(choice) {
                        eval.figures.push(Figure::plain(format!("{}", i + 1), m));
                    }
                }
                if !run.is_playing() {
                    eval.debrief = best_approx_debrief(matrix, choices, *rank)
                        .map(|(numbers, why)| (in_both_notations(numbers), why));
                }
            }
        }
    }
}

impl MatrixTask {
    /// Once the puzzle is over: the numbers it showed and why they matter for LoRA (the
    /// best-approximation puzzle has its own, [`best_approx_debrief`]).
    fn debrief(&self) -> Option<(String, Tr)> {
        Some(match self {
            MatrixTask::Factorize { target, example_b, .. } => {
                let (rows, cols, r) = (target.rows() as u64, target.cols() as u64, example_b.cols() as u64);
                let numbers = format!(
                    "{rows}×{cols} = {} → r·({rows} + {cols}) = {}",
                    lora::full_params(cols, rows),
                    lora::lora_params(cols, rows, r)
                );
                (numbers, Tr::FactorizeWhy)
            }
            MatrixTask::CompleteDelta { b, a, .. } => (
                format!("ΔW {}×{} = B {}×{} · A {}×{}", b.rows(), a.cols(), b.rows(), b.cols(), a.rows(), a.cols()),
                Tr::DeltaWhy,
            ),
            MatrixTask::Forward { w, a, b, x, alpha, .. } => {
                let wx = dmatrix(w)? * nalgebra::DVector::from_column_slice(x);
                let y = crate::content::answer::lora_output(w, a, b, x, *alpha).ok()?;
                let update: Vec<String> = y.iter().zip(wx.iter()).map(|(y, wx)| shown(y - wx)).collect();
                let wx: Vec<String> = wx.iter().map(|v| shown(*v)).collect();
                (format!("Wx = ({})   (α/r)·B(Ax) = ({})", wx.join(", "), update.join(", ")), Tr::ForwardWhy)
            }
            MatrixTask::CountParams { d_in, d_out, rank, .. } => {
                let (lora, full) = (lora::lora_params(*d_in, *d_out, *rank), lora::full_params(*d_in, *d_out));
                let share = 100.0 * lora as f64 / full as f64;
                let (lora, full) = (thousands(lora, Lang::En), thousands(full, Lang::En));
                (format!("{lora} / {full} = {share:.2} %"), Tr::CountWhy)
            }
            MatrixTask::FindRank { matrix, .. } => {
                let m = dmatrix(matrix)?;
                (format!("{}×{}: r = {}", m.nrows(), m.ncols(), lora::rank(&m)), Tr::RankWhy)
            }
            MatrixTask::BestApprox { .. } => return None,
        })
    }
}

/// The target, the live B·A with a mark per cell, LoRA's parameter count beside the full
/// matrix's, and whether the rank used is the smallest possible.
fn explain_factorization(run: &PuzzleRun, target: &Matrix, eval: &mut Evaluation) {
    let Some(w) = dmatrix(target) else { return };
    let (b, a) = (run.inputs[0].matrix_or_zero(), run.inputs[1].matrix_or_zero());
    param_counts(eval, w.ncols() as u64, w.nrows() as u64, b.ncols() as u64);
    if b.nrows() != w.nrows() || a.ncols() != w.ncols() {
        let shapes = format!("B {}×{}, A {}×{}", b.nrows(), b.ncols(), a.nrows(), a.ncols());
        eval.note = Some(Text::new(
            format!("{shapes}: B·A no tiene la forma de ΔW"),
            format!("{shapes}: B·A does not have ΔW's shape"),
        ));
    } else {
        match lora::delta_w(&b, &a) {
            Ok(product) => {
                let accepted = run.task.tolerance().cells(&w, &product);
                let mut live = Figure::judged("B·A", product, &accepted);
                // A cell of B·A is judged once its row of B and its column of A are typed in:
                // before that the preview reads the blanks as 0, and a fresh puzzle would open
                // on a wall of ✖.
                let (bg, ag) = (&run.inputs[0], &run.inputs[1]);
                let row_done = |i: usize| (0..bg.cols).all(|k| bg.value(i, k).is_some());
                let col_done = |j: usize| (0..ag.rows).all(|k| ag.value(k, j).is_some());
                if let Some(marks) = &mut live.marks {
                    let (rows, cols) = marks.shape();
                    for (i, j) in (0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))) {
                        if !(row_done(i) && col_done(j)) {
                            marks[(i, j)] = Mark::Empty;
                        }
                    }
                }
                eval.figures.push(live);
            }
            Err(e) => {
                eval.note =
                    Some(Text::new(format!("B·A no se puede formar ({e})"), format!("B·A cannot be formed ({e})")))
            }
        }
    }
    eval.min_rank = eval.solved && b.ncols() == lora::rank(&w);
    eval.figures.insert(0, Figure::plain("ΔW", w));
}

/// Each option's Frobenius distance from M, and the smallest any rank-r matrix can reach (the r
/// largest singular values kept, Eckart–Young).
fn best_approx_debrief(matrix: &Matrix, choices: &[Matrix], rank: usize) -> Option<(String, Tr)> {
    let m = dmatrix(matrix)?;
    let distances: Vec<String> = choices
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some(format!("{}) {:.3}", i + 1, (&m - dmatrix(c)?).norm())))
        .collect();
    let sigma = lora::singular_values(&m).ok()?;
    let (_, best) = lora::best_rank_approx(&m, rank).ok()?;
    let sigma: Vec<String> = sigma.iter().map(|s| format!("{s:.3}")).collect();
    Some((
        format!("‖M − option‖: {}   ·   σ = ({})   ·   r = {rank}: {best:.3}", distances.join("  "), sigma.join(", ")),
        Tr::BestApproxWhy,
    ))
}

fn param_counts(eval: &mut Evaluation, d_in: u64, d_out: u64, rank: u64) {
    eval.fact(Tr::TrainableParams, lora::lora_params(d_in, d_out, rank).to_string());
    eval.fact(Tr::FullParams, lora::full_params(d_in, d_out).to_string());
}

/// A count or a rank is a whole number: 3 is, 3.0 is, 3.001 is not.
fn whole(v: f64) -> Option<u64> {
    (v >= 0.0 && v.fract() == 0.0).then_some(v as u64)
}

fn dmatrix(m: &Matrix) -> Option<DMatrix<f64>> {
    m.to_dmatrix()
}

/// Changing the rank of a factorization answer.
impl PuzzleRun {
    /// The rank a factorization puzzle is being answered with (columns of B).
    pub fn factor_rank(&self) -> Option<usize> {
        match &self.task {
            Task::Matrix(MatrixTask::Factorize { .. }) => self.inputs.first().map(|b| b.cols),
            _ => None,
        }
    }

    /// Changes the rank of a factorization answer by `delta` (1 ..= min(d_out, d_in)).
    pub fn change_rank(&mut self, delta: i32) {
        let Task::Matrix(MatrixTask::Factorize { target, .. }) = &self.task else {
            return;
        };
        if !self.is_playing() {
            return;
        }
        let (rows, cols) = (target.rows(), target.cols());
        let max = rows.min(cols).max(1);
        let Some(r) = self.factor_rank() else { return };
        let new = (r as i32 + delta).clamp(1, max as i32) as usize;
        self.inputs[0].resize(rows, new);
        self.inputs[1].resize(new, cols);
        let g = &self.inputs[self.cursor.grid];
        if self.cursor.row >= g.rows || self.cursor.col >= g.cols {
            self.cursor = self.first_editable(self.cursor.grid).unwrap_or_default();
        }
        self.edited();
    }

    /// Shows the level's example factorization, at its rank.
    pub(super) fn fill_example(&mut self, target: &Matrix, example_b: &Matrix, example_a: &Matrix) {
        let r = example_b.cols();
        self.inputs[0].resize(target.rows(), r);
        self.inputs[1].resize(r, target.cols());
        self.inputs[0].fill(example_b);
        self.inputs[1].fill(example_a);
    }
}
