//! The one error type of the maths layer: every bad input becomes a [`MathError`], never a panic.

use nalgebra::{DMatrix, DVector};

/// Why a maths function refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MathError {
    /// Two operands whose shapes do not fit together (e.g. B is 4×2 but A is 3×4).
    #[error("shape mismatch in {operation}: {detail}")]
    ShapeMismatch { operation: &'static str, detail: String },
    /// A rank larger than the matrix allows (`rank > min(rows, cols)`).
    #[error("rank {rank} is larger than a {rows}×{cols} matrix allows (at most {max})", max = .rows.min(.cols))]
    RankTooLarge { rank: usize, rows: usize, cols: usize },
    /// An input with no elements where at least one is needed.
    #[error("{what} is empty")]
    EmptyInput { what: &'static str },
    /// A NaN or infinite value; `index` is the position in the flattened (row-major) input.
    #[error("{what} has a non-finite value ({value}) at flat index {index}")]
    NonFinite { what: &'static str, index: usize, value: f64 },
    /// A block size of zero.
    #[error("{what} block size must be at least 1")]
    ZeroBlocksize { what: &'static str },
    /// A scalar argument outside its valid range (a negative tolerance, a rank of 0 for scaling, …).
    #[error("invalid {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    /// The SVD iteration did not converge (only possible for pathological inputs).
    #[error("singular value decomposition of a {rows}×{cols} matrix did not converge")]
    SvdDidNotConverge { rows: usize, cols: usize },
}

pub(crate) fn ensure_finite_matrix(what: &'static str, m: &DMatrix<f64>) -> Result<(), MathError> {
    // Report the row-major index, the order players and level files read matrices in.
    for r in 0..m.nrows() {
        for c in 0..m.ncols() {
            let value = m[(r, c)];
            if !value.is_finite() {
                return Err(MathError::NonFinite { what, index: r * m.ncols() + c, value });
            }
        }
    }
    Ok(())
}

pub(crate) fn ensure_finite_vector(what: &'static str, v: &DVector<f64>) -> Result<(), MathError> {
    ensure_finite_iter(what, v.iter().copied())
}

pub(crate) fn ensure_finite_iter(what: &'static str, values: impl IntoIterator<Item = f64>) -> Result<(), MathError> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, value)) => Err(MathError::NonFinite { what, index, value }),
        None => Ok(()),
    }
}

pub(crate) fn ensure_finite_scalar(name: &'static str, value: f64) -> Result<(), MathError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(MathError::InvalidParameter { name, reason: format!("{value} is not a finite number") })
    }
}

pub(crate) fn shape(m: &DMatrix<f64>) -> String {
    format!("{}×{}", m.nrows(), m.ncols())
}
