//! ΔW = B·A and checking a player's factorization W ≈ B·A.

use nalgebra::DMatrix;

use crate::math::error::{MathError, ensure_finite_matrix, shape};
use crate::math::lora::svd::check_tolerance;

/// ΔW = B·A, with B ∈ R^{d_out×r} (up-projection) and A ∈ R^{r×d_in} (down-projection).
///
/// The product A·B that the slide deck writes is undefined for these shapes (unless
/// d_in = d_out): ΔW is always B·A. Fails if `b.ncols() != a.nrows()` or on non-finite entries.
pub fn delta_w(b: &DMatrix<f64>, a: &DMatrix<f64>) -> Result<DMatrix<f64>, MathError> {
    if b.ncols() != a.nrows() {
        return Err(MathError::ShapeMismatch {
            operation: "ΔW = B·A",
            detail: format!("B is {} and A is {}: B's columns must equal A's rows (the rank r)", shape(b), shape(a)),
        });
    }
    ensure_finite_matrix("B", b)?;
    ensure_finite_matrix("A", a)?;
    Ok(b * a)
}

/// The outcome of [`check_factorization`].
#[derive(Debug, Clone, PartialEq)]
pub struct FactorCheck {
    /// B·A as computed.
    pub product: DMatrix<f64>,
    /// Per cell: |(B·A)ᵢⱼ − Wᵢⱼ| ≤ tol (for colouring the grid).
    pub cell_ok: DMatrix<bool>,
    /// max over cells of |(B·A)ᵢⱼ − Wᵢⱼ| (0 for an empty W).
    pub max_abs_error: f64,
    /// The rank the factorization uses: the number of rows of A (= columns of B).
    pub rank_used: usize,
    /// Every cell matches.
    pub ok: bool,
}

impl FactorCheck {
    /// How many cells do not match.
    pub fn mismatches(&self) -> usize {
        self.cell_ok.iter().filter(|ok| !**ok).count()
    }
}

/// Checks whether B·A reproduces W within `tol` (absolute, per cell).
///
/// Any factorization counts, not just one stored answer: the check is on the product.
/// Errors: shapes that do not fit (B must be rows(W)×r, A must be r×cols(W)), a negative or
/// non-finite `tol`, non-finite entries.
pub fn check_factorization(
    w: &DMatrix<f64>,
    b: &DMatrix<f64>,
    a: &DMatrix<f64>,
    tol: f64,
) -> Result<FactorCheck, MathError> {
    check_tolerance(tol)?;
    if b.nrows() != w.nrows() || a.ncols() != w.ncols() {
        return Err(MathError::ShapeMismatch {
            operation: "check W = B·A",
            detail: format!(
                "W is {}, so B needs {} rows and A needs {} columns; got B {} and A {}",
                shape(w),
                w.nrows(),
                w.ncols(),
                shape(b),
                shape(a)
            ),
        });
    }
    ensure_finite_matrix("W", w)?;
    let product = delta_w(b, a)?;
    let errors = (&product - w).abs();
    let cell_ok = errors.map(|e| e <= tol);
    let max_abs_error = errors.iter().copied().fold(0.0, f64::max);
    Ok(FactorCheck { ok: cell_ok.iter().all(|ok| *ok), product, cell_ok, max_abs_error, rank_used: a.nrows() })
}
