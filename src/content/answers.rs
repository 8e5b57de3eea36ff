//! Every stored answer re-derived with [`crate::math`], the single source of truth.
//!
//! Each `check_*` returns `Err(message)` when the value stored in a level file disagrees with
//! what the maths computes (the message says both). The validator calls them at load time, so a
//! wrong answer in a level never reaches a player.

use nalgebra::{DMatrix, DVector};

use super::schema::*;
use crate::math::{self, lora, nf4};

type Check = Result<(), String>;

/// Absolute tolerance for numbers worked by hand (integers and short decimals).
pub const EXACT_TOLERANCE: f64 = 1e-6;
/// Relative tolerance for figures rounded for display (shares, gigabytes on slides).
pub const FIGURE_RELATIVE_TOLERANCE: f64 = 0.01;

/// A rectangular level matrix as nalgebra (the validator has already checked the shape).
pub fn dmatrix(m: &Matrix) -> Result<DMatrix<f64>, String> {
    m.to_dmatrix()
        .ok_or_else(|| "matrix rows have unequal length or the matrix is empty".to_owned())
}

fn show(m: &DMatrix<f64>) -> String {
    let rows: Vec<String> = (0..m.nrows())
        .map(|i| {
            let cells: Vec<String> = (0..m.ncols()).map(|j| fmt_num(m[(i, j)])).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

/// A number as a student would write it: integers without decimals, others to 6 significant places.
pub fn fmt_num(x: f64) -> String {
    if x == x.round() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).abs().max()
}

fn math_err(e: math::MathError) -> String {
    format!("the maths refused the inputs: {e}")
}

fn shape(m: &DMatrix<f64>) -> String {
    format!("{}×{}", m.nrows(), m.ncols())
}

/// `product = left × right` on a slide.
pub fn check_figure_product(figure: &FactorizationFigure) -> Check {
    let product = dmatrix(&figure.product)?;
    let left = dmatrix(&figure.left)?;
    let right = dmatrix(&figure.right)?;
    let check = lora::check_factorization(&product, &left, &right, EXACT_TOLERANCE).map_err(math_err)?;
    if check.ok {
        Ok(())
    } else {
        Err(format!(
            "left × right = {} is not the product shown ({} cells differ)",
            show(&check.product),
            check.mismatches()
        ))
    }
}

/// `total_params` of a share figure = the maths' count for its model shape.
pub fn check_total_params(figure: &TrainableShareFigure) -> Check {
    let computed = figure.model.to_math().total_params();
    if computed == figure.total_params {
        Ok(())
    } else {
        Err(format!(
            "{} has {computed} parameters by its shape, not {}",
            figure.model.name, figure.total_params
        ))
    }
}

/// One row of a share figure: trainable count exact, percent within 1 % of the maths.
pub fn check_share_row(figure: &TrainableShareFigure, row: &ShareRow) -> Check {
    let shape = figure.model.to_math();
    let trainable = shape.lora_params(&row.targets, row.rank);
    if trainable != row.trainable {
        return Err(format!(
            "rank {} on {} gives {trainable} trainable parameters, not {}",
            row.rank,
            target_list(&row.targets),
            row.trainable
        ));
    }
    let percent = 100.0 * shape.lora_share(&row.targets, row.rank);
    if (row.percent - percent).abs() > FIGURE_RELATIVE_TOLERANCE * percent {
        return Err(format!(
            "the trainable share is {percent:.4} %, not {} %",
            fmt_num(row.percent)
        ));
    }
    Ok(())
}

fn target_list(targets: &[Target]) -> String {
    targets.iter().map(|t| t.module_name()).collect::<Vec<_>>().join(", ")
}

/// Weights-only memory in decimal GB.
pub fn memory_gb(params: u64, precision: Precision) -> f64 {
    math::memory::gigabytes(math::weight_bytes(params, precision))
}

/// A memory row on a slide: within 1 % of the maths.
pub fn check_memory_figure_gb(params: u64, precision: Precision, gb: f64) -> Check {
    let computed = memory_gb(params, precision);
    if (gb - computed).abs() > FIGURE_RELATIVE_TOLERANCE * computed {
        return Err(format!(
            "{params} weights at {} take {} GB, not {} GB",
            precision.label(),
            fmt_num(computed),
            fmt_num(gb)
        ));
    }
    Ok(())
}

/// A memory puzzle: the stored answer within its tolerance, and a tolerance that still
/// tells a right answer from a wrong one (at most 10 % of the answer).
pub fn check_memory_gb(params: u64, precision: Precision, gb: f64, tolerance_gb: f64) -> Check {
    let computed = memory_gb(params, precision);
    if (gb - computed).abs() > tolerance_gb {
        return Err(format!(
            "{params} weights at {} take {} GB, not {} GB (tolerance {} GB)",
            precision.label(),
            fmt_num(computed),
            fmt_num(gb),
            fmt_num(tolerance_gb)
        ));
    }
    if tolerance_gb > 0.1 * computed {
        return Err(format!(
            "tolerance {} GB is more than 10 % of the answer ({} GB): any guess would pass",
            fmt_num(tolerance_gb),
            fmt_num(computed)
        ));
    }
    Ok(())
}

/// The example B·A of a factorization puzzle reproduces the target, at the puzzle's rank,
/// and the target really has that rank (so the puzzle cannot be solved with fewer columns).
pub fn check_factorize_example(target: &Matrix, rank: usize, b: &Matrix, a: &Matrix) -> Check {
    let target = dmatrix(target)?;
    let b = dmatrix(b)?;
    let a = dmatrix(a)?;
    if b.ncols() != rank || a.nrows() != rank {
        return Err(format!(
            "for rank {rank}, B must be {}×{rank} and A {rank}×{}; got B {} and A {}",
            target.nrows(),
            target.ncols(),
            shape(&b),
            shape(&a)
        ));
    }
    let check = lora::check_factorization(&target, &b, &a, EXACT_TOLERANCE).map_err(math_err)?;
    if !check.ok {
        return Err(format!(
            "example B·A = {} does not reproduce the target ({} cells differ)",
            show(&check.product),
            check.mismatches()
        ));
    }
    let true_rank = lora::rank(&target);
    if true_rank != rank {
        return Err(format!("the target has rank {true_rank}, not {rank}"));
    }
    Ok(())
}

/// ΔW = B·A.
pub fn check_delta(b: &Matrix, a: &Matrix, delta: &Matrix) -> Check {
    let computed = lora::delta_w(&dmatrix(b)?, &dmatrix(a)?).map_err(math_err)?;
    let stored = dmatrix(delta)?;
    if computed.shape() != stored.shape() || max_abs_diff(&computed, &stored) > EXACT_TOLERANCE {
        return Err(format!("B·A = {}, not {}", show(&computed), show(&stored)));
    }
    Ok(())
}

/// y = W·x + (α/r)·B(A·x).
pub fn lora_output(w: &Matrix, a: &Matrix, b: &Matrix, x: &[f64], alpha: f64) -> Result<Vec<f64>, String> {
    let y = lora::lora_forward(
        &dmatrix(w)?,
        &dmatrix(a)?,
        &dmatrix(b)?,
        &DVector::from_column_slice(x),
        alpha,
        lora::Scaling::Standard,
    )
    .map_err(math_err)?;
    Ok(y.iter().copied().collect())
}

pub fn check_forward(w: &Matrix, a: &Matrix, b: &Matrix, x: &[f64], alpha: f64, y: &[f64]) -> Check {
    let computed = lora_output(w, a, b, x, alpha)?;
    if !vectors_match(&computed, y, EXACT_TOLERANCE) {
        return Err(format!("y = {}, not {}", show_vec(&computed), show_vec(y)));
    }
    Ok(())
}

/// Same length, every entry within `tol`.
pub fn vectors_match(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

fn show_vec(v: &[f64]) -> String {
    format!("[{}]", v.iter().map(|&x| fmt_num(x)).collect::<Vec<_>>().join(", "))
}

pub fn check_lora_count(d_in: u64, d_out: u64, rank: u64, lora_count: u64) -> Check {
    let computed = lora::lora_params(d_in, d_out, rank);
    if computed != lora_count {
        return Err(format!(
            "r·(d_in + d_out) = {rank}·({d_in} + {d_out}) = {computed}, not {lora_count}"
        ));
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

pub fn check_rank(matrix: &Matrix, rank: usize) -> Check {
    let computed = lora::rank(&dmatrix(matrix)?);
    if computed != rank {
        return Err(format!("the matrix has rank {computed}, not {rank}"));
    }
    Ok(())
}

/// Frobenius distance of each choice to `matrix`.
pub fn approx_errors(matrix: &Matrix, choices: &[Matrix]) -> Result<Vec<f64>, String> {
    let m = dmatrix(matrix)?;
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = dmatrix(c)?;
            if c.shape() != m.shape() {
                return Err(format!("choice {i} is {}, the matrix is {}", shape(&c), shape(&m)));
            }
            Ok((&m - &c).norm())
        })
        .collect()
}

/// The right choice is the truncated SVD (Eckart–Young), every choice has rank ≤ `rank`
/// (else "the matrix itself" would win), and every other choice is strictly worse.
pub fn check_best_approx(matrix: &Matrix, rank: usize, choices: &[Matrix], answer: usize) -> Check {
    let m = dmatrix(matrix)?;
    let (best, best_err) = lora::best_rank_approx(&m, rank).map_err(math_err)?;
    let errors = approx_errors(matrix, choices)?;
    for (i, choice) in choices.iter().enumerate() {
        let r = lora::rank(&dmatrix(choice)?);
        if r > rank {
            return Err(format!("choice {i} has rank {r}: every choice must have rank ≤ {rank}"));
        }
    }
    let scale = m.norm().max(1.0);
    let chosen = dmatrix(&choices[answer])?;
    if max_abs_diff(&chosen, &best) > EXACT_TOLERANCE * scale {
        return Err(format!(
            "the best rank-{rank} approximation is {} (error {}), not choice {answer}",
            show(&best.map(|x| (x * 1e6).round() / 1e6)),
            fmt_num(best_err)
        ));
    }
    for (i, &err) in errors.iter().enumerate() {
        if i != answer && err <= best_err + EXACT_TOLERANCE * scale {
            return Err(format!(
                "choice {i} is as close as the answer (error {}): the puzzle is ambiguous",
                fmt_num(err)
            ));
        }
    }
    Ok(())
}

/// max |w| of a block.
pub fn block_absmax(block: &[f64]) -> f64 {
    block.iter().fold(0.0, |m: f64, w| m.max(w.abs()))
}

pub fn check_absmax(block: &[f64], absmax: f64) -> Check {
    let computed = block_absmax(block);
    if (computed - absmax).abs() > EXACT_TOLERANCE {
        return Err(format!("max |w| = {}, not {}", fmt_num(computed), fmt_num(absmax)));
    }
    Ok(())
}

/// The NF4 codes of one block (the whole list is one block), as bitsandbytes computes them.
pub fn nf4_codes(block: &[f64]) -> Result<Vec<u8>, String> {
    let values: Vec<f32> = block.iter().map(|&w| w as f32).collect();
    let tensor = nf4::quantize(&values, values.len().max(1)).map_err(math_err)?;
    Ok(tensor.codes())
}

pub fn check_quantize(block: &[f64], codes: &[u8]) -> Check {
    let computed = nf4_codes(block)?;
    if computed != codes {
        return Err(format!("the NF4 codes are {computed:?}, not {codes:?}"));
    }
    Ok(())
}

/// NF4_CODE[code] × absmax for each code; `None` if a code is not 0..=15.
pub fn nf4_dequantize(codes: &[u8], absmax: f64) -> Option<Vec<f64>> {
    codes
        .iter()
        .map(|&c| nf4::NF4_CODE.get(usize::from(c)).map(|&v| f64::from(v) * absmax))
        .collect()
}

pub fn check_dequantize(codes: &[u8], absmax: f64, values: &[f64], tolerance: f64) -> Check {
    let Some(computed) = nf4_dequantize(codes, absmax) else {
        return Err(format!("NF4 codes go from 0 to 15: {codes:?}"));
    };
    if !vectors_match(&computed, values, tolerance) {
        return Err(format!(
            "dequantized values are {}, not {} (tolerance {})",
            show_vec(&computed),
            show_vec(values),
            fmt_num(tolerance)
        ));
    }
    Ok(())
}

/// Largest |w − dequantize(quantize(w))| of each block (each block quantized on its own).
pub fn nf4_block_errors(blocks: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    blocks
        .iter()
        .map(|block| {
            let values: Vec<f32> = block.iter().map(|&w| w as f32).collect();
            let tensor = nf4::quantize(&values, values.len().max(1)).map_err(math_err)?;
            Ok(tensor
                .dequantize()
                .iter()
                .zip(block)
                .map(|(&d, &w)| (f64::from(d) - w).abs())
                .fold(0.0, f64::max))
        })
        .collect()
}

/// The answer block has the largest error, clearly (by more than 1e-4).
pub fn check_compare_error(blocks: &[Vec<f64>], answer: usize) -> Check {
    let errors = nf4_block_errors(blocks)?;
    let worst = errors[answer];
    for (i, &err) in errors.iter().enumerate() {
        if i != answer && err >= worst - 1e-4 {
            return Err(format!(
                "block {i} loses {} and block {answer} (the answer) loses {}: the answer must lose clearly the most",
                fmt_num(err),
                fmt_num(worst)
            ));
        }
    }
    Ok(())
}
