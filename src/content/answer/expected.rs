//! What the maths says the answer to a task is: never the answer a level stores (that one is
//! checked against this when the level loads).

use nalgebra::{DMatrix, DVector};

use crate::content::schema::{CountAsk, Matrix, MatrixTask, Nf4Task, Precision};
use crate::math::{self, lora, nf4};

/// The maths' answer to a puzzle task.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// A factorization: any B·A equal to this target is right.
    Product(DMatrix<f64>),
    /// The whole ΔW = B·A (a puzzle asks for some of its cells).
    Matrix(DMatrix<f64>),
    /// One number per answer cell: y, a count, a rank, an absmax, gigabytes, dequantized values.
    Numbers(Vec<f64>),
    /// One NF4 code per weight.
    Codes(Vec<u8>),
    /// The index of the right option.
    Choice(usize),
}

impl Expected {
    /// The numbers a grid of answer cells is compared with, row-major; `None` where no single
    /// grid is right (a factorization) or there is no grid (a choice).
    pub fn cells(&self) -> Option<Vec<f64>> {
        match self {
            Expected::Product(_) | Expected::Choice(_) => None,
            Expected::Matrix(m) => Some(m.transpose().iter().copied().collect()),
            Expected::Numbers(v) => Some(v.clone()),
            Expected::Codes(codes) => Some(codes.iter().map(|&c| f64::from(c)).collect()),
        }
    }
}

/// A matrix task's answer, computed by the maths from its inputs.
pub(super) fn of_matrix_task(task: &MatrixTask) -> Result<Expected, String> {
    Ok(match task {
        MatrixTask::Factorize { target, .. } => Expected::Product(dmatrix(target)?),
        MatrixTask::CompleteDelta { b, a, .. } => {
            Expected::Matrix(lora::delta_w(&dmatrix(b)?, &dmatrix(a)?).map_err(math_err)?)
        }
        MatrixTask::Forward { w, a, b, x, alpha, .. } => Expected::Numbers(lora_output(w, a, b, x, *alpha)?),
        MatrixTask::CountParams { d_in, d_out, rank, ask, .. } => {
            let count = match ask {
                CountAsk::Lora => lora::lora_params(*d_in, *d_out, *rank),
                CountAsk::Full => lora::full_params(*d_in, *d_out),
            };
            Expected::Numbers(vec![count as f64])
        }
        MatrixTask::FindRank { matrix, .. } => Expected::Numbers(vec![lora::rank(&dmatrix(matrix)?) as f64]),
        MatrixTask::BestApprox { matrix, rank, choices, .. } => {
            // Eckart–Young: the truncated SVD is the best rank-r approximation.
            let (best, _) = lora::best_rank_approx(&dmatrix(matrix)?, *rank).map_err(math_err)?;
            let distances =
                choices.iter().map(|c| Ok((dmatrix(c)? - &best).norm())).collect::<Result<Vec<_>, String>>()?;
            Expected::Choice(argmin(&distances).ok_or("no choice to pick from")?)
        }
    })
}

/// An NF4 task's answer, computed by the maths from its inputs.
pub(super) fn of_nf4_task(task: &Nf4Task) -> Result<Expected, String> {
    Ok(match task {
        Nf4Task::Absmax { block, .. } => Expected::Numbers(vec![block_absmax(block)]),
        Nf4Task::Quantize { block, .. } => Expected::Codes(nf4_codes(block)?),
        Nf4Task::Dequantize { codes, absmax, .. } => Expected::Numbers(
            nf4_dequantize(codes, *absmax).ok_or_else(|| format!("NF4 codes go from 0 to 15: {codes:?}"))?,
        ),
        Nf4Task::CompareError { blocks, .. } => {
            let losses: Vec<f64> = nf4_block_errors(blocks)?.iter().map(|e| -e).collect();
            Expected::Choice(argmin(&losses).ok_or("no block to pick from")?)
        }
        Nf4Task::Memory { params, precision, .. } => Expected::Numbers(vec![memory_gb(*params, *precision)]),
    })
}

/// A rectangular level matrix as nalgebra.
pub fn dmatrix(m: &Matrix) -> Result<DMatrix<f64>, String> {
    m.to_dmatrix().ok_or_else(|| "matrix rows have unequal length or the matrix is empty".to_owned())
}

pub(crate) fn math_err(e: math::MathError) -> String {
    format!("the maths refused the inputs: {e}")
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

/// max |w| of a block.
pub fn block_absmax(block: &[f64]) -> f64 {
    block.iter().fold(0.0, |m: f64, w| m.max(w.abs()))
}

/// The NF4 codes of one block (the whole list is one block), as bitsandbytes computes them.
pub fn nf4_codes(block: &[f64]) -> Result<Vec<u8>, String> {
    Ok(quantize_block(block)?.codes())
}

/// `NF4_CODE[code]` × absmax for each code; `None` if a code is not 0..=15.
pub fn nf4_dequantize(codes: &[u8], absmax: f64) -> Option<Vec<f64>> {
    codes.iter().map(|&c| nf4::NF4_CODE.get(usize::from(c)).map(|&v| f64::from(v) * absmax)).collect()
}

/// Largest |w − dequantize(quantize(w))| of each block (each block quantized on its own).
pub fn nf4_block_errors(blocks: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    blocks
        .iter()
        .map(|block| {
            let restored = quantize_block(block)?.dequantize();
            Ok(restored.iter().zip(block).map(|(&d, &w)| (f64::from(d) - w).abs()).fold(0.0, f64::max))
        })
        .collect()
}

fn quantize_block(block: &[f64]) -> Result<nf4::Nf4Tensor, String> {
    let values: Vec<f32> = block.iter().map(|&w| w as f32).collect();
    nf4::quantize(&values, values.len().max(1)).map_err(math_err)
}

/// Weights-only memory in decimal GB (10⁹ bytes).
pub fn memory_gb(params: u64, precision: Precision) -> f64 {
    math::memory::gigabytes(math::weight_bytes(params, precision))
}

/// Index of the smallest finite value.
fn argmin(values: &[f64]) -> Option<usize> {
    values.iter().enumerate().filter(|(_, v)| v.is_finite()).min_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
}
