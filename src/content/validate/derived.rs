//! Every stored answer re-derived with [`crate::math`], through the answer engine
//! ([`crate::content::answer`]), the single source of truth.
//!
//! Each `check_*` returns `Err(message)` when the value stored in a level file disagrees with
//! what the maths computes (the message says both). The validator calls them at load time, so a
//! wrong answer in a level never reaches a player.

use nalgebra::DMatrix;

use crate::content::answer::{
    Expected, GivenBy, PuzzleTask, Tolerance, dmatrix, math_err, memory_gb, nf4_block_errors, reported,
};
use crate::content::schema::*;
use crate::math::lora;

pub(super) type Check = Result<(), String>;

/// How much more the answer block of a `CompareError` puzzle must lose than any other.
const CLEARLY_WORSE: f64 = 1e-4;

fn show(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = m.row_iter().map(|row| show_vec(&row.iter().copied().collect::<Vec<_>>())).collect();
    format!("[{}]", rows.join(", "))
}

fn show_vec(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|&x| reported(x)).collect::<Vec<_>>().join(", "))
}

fn shape(m: &DMatrix<f64>) -> String {
    format!("{}×{}", m.nrows(), m.ncols())
}

/// The one number of a one-number answer, as reported.
fn single(expected: &Expected) -> String {
    expected.cells().and_then(|c| c.first().copied()).map_or_else(String::new, reported)
}

/// The engine's verdict on a task's stored answer; `explain` words a wrong one from the maths' answer.
fn stored_answer<T: PuzzleTask>(task: &T, explain: impl FnOnce(Expected) -> String) -> Check {
    if task.judge(&task.solution(), GivenBy::LevelFile).correct {
        return Ok(());
    }
    Err(task.expected().map_or_else(|e| e, explain))
}

/// Stored and computed matrices: same shape, every cell within `tolerance`. The number of cells
/// that differ, or the problem.
fn differing_cells(computed: &DMatrix<f64>, stored: &DMatrix<f64>, tolerance: Tolerance) -> Option<usize> {
    (computed.shape() == stored.shape()).then(|| tolerance.cells(computed, stored).iter().filter(|ok| !**ok).count())
}

// ---- slide figures ------------------------------------------------------------------------------

/// `product = left × right` on a slide.
pub fn check_figure_product(figure: &FactorizationFigure) -> Check {
    let computed = lora::delta_w(&dmatrix(&figure.left)?, &dmatrix(&figure.right)?).map_err(math_err)?;
    match differing_cells(&computed, &dmatrix(&figure.product)?, Tolerance::STORED) {
        Some(0) => Ok(()),
        Some(n) => Err(format!("left × right = {} is not the product shown ({n} cells differ)", show(&computed))),
        None => Err(format!("left × right is {}, the product shown is not", shape(&computed))),
    }
}

/// `total_params` of a share figure = the maths' count for its model shape.
pub fn check_total_params(figure: &TrainableShareFigure) -> Check {
    let computed = figure.model.to_math().total_params();
    if computed == figure.total_params {
        Ok(())
    } else {
        Err(format!("{} has {computed} parameters by its shape, not {}", figure.model.name, figure.total_params))
    }
}

/// One row of a share figure: trainable count exact, percent within 1 % of the maths.
pub fn check_share_row(figure: &TrainableShareFigure, row: &ShareRow) -> Check {
    let shape = figure.model.to_math();
    let trainable = shape.lora_params(&row.targets, row.rank);
    if trainable != row.trainable {
        let targets: Vec<&str> = row.targets.iter().map(|t| t.module_name()).collect();
        return Err(format!(
            "rank {} on {} gives {trainable} trainable parameters, not {}",
            row.rank,
            targets.join(", "),
            row.trainable
        ));
    }
    let percent = 100.0 * shape.lora_share(&row.targets, row.rank);
    if !Tolerance::FIGURE.accepts(percent, row.percent) {
        return Err(format!("the trainable share is {percent:.4} %, not {} %", reported(row.percent)));
    }
    Ok(())
}

/// A memory row on a slide: within 1 % of the maths.
pub fn check_memory_figure_gb(params: u64, precision: Precision, gb: f64) -> Check {
    let computed = memory_gb(params, precision);
    if !Tolerance::FIGURE.accepts(computed, gb) {
        return Err(format!(
            "{params} weights at {} take {} GB, not {} GB",
            precision.label(),
            reported(computed),
            reported(gb)
        ));
    }
    Ok(())
}

// ---- matrix puzzles -------------------------------------------------------------------------

/// The example B·A of a factorization puzzle reproduces the target, at the puzzle's rank,
/// and the target really has that rank (so the puzzle cannot be solved with fewer columns).
pub fn check_factorize_example(task: &MatrixTask) -> Check {
    let MatrixTask::Factorize { target, rank, example_b, example_a } = task else {
        return Ok(());
    };
    let (target, b, a) = (dmatrix(target)?, dmatrix(example_b)?, dmatrix(example_a)?);
    if b.ncols() != *rank || a.nrows() != *rank {
        return Err(format!(
            "for rank {rank}, B must be {}×{rank} and A {rank}×{}; got B {} and A {}",
            target.nrows(),
            target.ncols(),
            shape(&b),
            shape(&a)
        ));
    }
    stored_answer(task, |_| {
        let product = lora::delta_w(&b, &a).unwrap_or_else(|_| DMatrix::zeros(0, 0));
        let differ = differing_cells(&target, &product, Tolerance::STORED).unwrap_or(target.len());
        format!("example B·A = {} does not reproduce the target ({differ} cells differ)", show(&product))
    })?;
    let true_rank = lora::rank(&target);
    if true_rank != *rank {
        return Err(format!("the target has rank {true_rank}, not {rank}"));
    }
    Ok(())
}

/// ΔW = B·A, every cell (the shown ones too).
pub fn check_delta(task: &MatrixTask, delta: &Matrix) -> Check {
    let Expected::Matrix(computed) = task.expected()? else {
        return Ok(());
    };
    let stored = dmatrix(delta)?;
    if differing_cells(&computed, &stored, task.tolerance(GivenBy::LevelFile)) != Some(0) {
        return Err(format!("B·A = {}, not {}", show(&computed), show(&stored)));
    }
    Ok(())
}

/// y = W·x + (α/r)·B(A·x).
pub fn check_forward(task: &MatrixTask, y: &[f64]) -> Check {
    stored_answer(task, |computed| {
        let computed = computed.cells().unwrap_or_default();
        format!("y = {}, not {}", show_vec(&computed), show_vec(y))
    })
}

pub fn check_lora_count(d_in: u64, d_out: u64, rank: u64, lora_count: u64) -> Check {
    let computed = lora::lora_params(d_in, d_out, rank);
    if computed != lora_count {
        return Err(format!("r·(d_in + d_out) = {rank}·({d_in} + {d_out}) = {computed}, not {lora_count}"));
    }
    Ok(())
}

pub fn check_full_count(d_in: u64, d_out: u64, full: u64) -> Check {
    let computed = lora::full_params(d_in, d_out);
    if computed != full {
        return Err(format!("d_in·d_out = {d_in}·{d_out} = {computed}, not {full}"));
    }
    Ok(())
}

pub fn check_rank(task: &MatrixTask, rank: usize) -> Check {
    stored_answer(task, |computed| format!("the matrix has rank {}, not {rank}", single(&computed)))
}

/// The right choice is the truncated SVD (Eckart–Young), every choice has rank ≤ `rank`
/// (else "the matrix itself" would win), and every other choice is strictly worse.
pub fn check_best_approx(matrix: &Matrix, rank: usize, choices: &[Matrix], answer: usize) -> Check {
    let m = dmatrix(matrix)?;
    let (best, best_err) = lora::best_rank_approx(&m, rank).map_err(math_err)?;
    let mut errors = Vec::with_capacity(choices.len());
    for (i, choice) in choices.iter().enumerate() {
        let c = dmatrix(choice)?;
        if c.shape() != m.shape() {
            return Err(format!("choice {i} is {}, the matrix is {}", shape(&c), shape(&m)));
        }
        errors.push((&m - &c).norm());
    }
    for (i, choice) in choices.iter().enumerate() {
        let r = lora::rank(&dmatrix(choice)?);
        if r > rank {
            return Err(format!("choice {i} has rank {r}: every choice must have rank ≤ {rank}"));
        }
    }
    // Exact to the scale of the matrix: the SVD's rounding grows with its norm.
    let slack = Tolerance::STORED.scaled(m.norm().max(1.0));
    if differing_cells(&best, &dmatrix(&choices[answer])?, slack) != Some(0) {
        return Err(format!(
            "the best rank-{rank} approximation is {} (error {}), not choice {answer}",
            show(&best.map(|x| (x * 1e6).round() / 1e6)),
            reported(best_err)
        ));
    }
    for (i, &err) in errors.iter().enumerate() {
        if i != answer && err <= best_err + slack.absolute {
            return Err(format!(
                "choice {i} is as close as the answer (error {}): the puzzle is ambiguous",
                reported(err)
            ));
        }
    }
    Ok(())
}

// ---- NF4 puzzles ----------------------------------------------------------------------------

pub fn check_absmax(task: &Nf4Task, absmax: f64) -> Check {
    stored_answer(task, |computed| format!("max |w| = {}, not {}", single(&computed), reported(absmax)))
}

pub fn check_quantize(task: &Nf4Task, codes: &[u8]) -> Check {
    stored_answer(task, |computed| match computed {
        Expected::Codes(computed) => format!("the NF4 codes are {computed:?}, not {codes:?}"),
        other => format!("expected NF4 codes, the maths gave {other:?}"),
    })
}

pub fn check_dequantize(task: &Nf4Task, values: &[f64], tolerance: f64) -> Check {
    stored_answer(task, |computed| {
        format!(
            "dequantized values are {}, not {} (tolerance {})",
            show_vec(&computed.cells().unwrap_or_default()),
            show_vec(values),
            reported(tolerance)
        )
    })
}

/// The answer block has the largest error, clearly (by more than [`CLEARLY_WORSE`]).
pub fn check_compare_error(blocks: &[Vec<f64>], answer: usize) -> Check {
    let errors = nf4_block_errors(blocks)?;
    let worst = errors[answer];
    for (i, &err) in errors.iter().enumerate() {
        if i != answer && err >= worst - CLEARLY_WORSE {
            return Err(format!(
                "block {i} loses {} and block {answer} (the answer) loses {}: the answer must lose clearly the most",
                reported(err),
                reported(worst)
            ));
        }
    }
    Ok(())
}

/// A memory puzzle: the stored answer within its tolerance, and a tolerance that still
/// tells a right answer from a wrong one (at most 10 % of the answer).
pub fn check_memory_gb(task: &Nf4Task) -> Check {
    let Nf4Task::Memory { params, precision, gb, tolerance_gb, .. } = task else {
        return Ok(());
    };
    let computed = memory_gb(*params, *precision);
    stored_answer(task, |_| {
        format!(
            "{params} weights at {} take {} GB, not {} GB (tolerance {} GB)",
            precision.label(),
            reported(computed),
            reported(*gb),
            reported(*tolerance_gb)
        )
    })?;
    if *tolerance_gb > 0.1 * computed {
        return Err(format!(
            "tolerance {} GB is more than 10 % of the answer ({} GB): any guess would pass",
            reported(*tolerance_gb),
            reported(computed)
        ));
    }
    Ok(())
}
