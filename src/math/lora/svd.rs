//! Singular values, numerical rank and the best rank-r approximation (Eckart–Young).

use nalgebra::{DMatrix, DVector, SVD};

use crate::math::error::{MathError, ensure_finite_matrix};

/// Iteration cap for nalgebra's implicit-shift SVD: far above what finite inputs need, but it
/// turns a (theoretical) non-converging case into an error instead of an endless loop.
const SVD_MAX_ITERATIONS: usize = 100_000;

fn svd(m: &DMatrix<f64>, vectors: bool) -> Result<SVD<f64, nalgebra::Dyn, nalgebra::Dyn>, MathError> {
    ensure_finite_matrix("matrix", m)?;
    SVD::try_new(m.clone(), vectors, vectors, f64::EPSILON, SVD_MAX_ITERATIONS)
        .ok_or(MathError::SvdDidNotConverge { rows: m.nrows(), cols: m.ncols() })
}

/// Singular values of `m`, largest first. An empty matrix has none.
pub fn singular_values(m: &DMatrix<f64>) -> Result<DVector<f64>, MathError> {
    if m.is_empty() {
        return Ok(DVector::zeros(0));
    }
    Ok(svd(m, false)?.singular_values)
}

/// Singular values of `B·A` (`B: d_out × r`, `A: r × d_in`), largest first, without forming the
/// `d_out × d_in` product: with `B = Q_B R_B` and `Aᵀ = Q_A R_A` (thin QR, orthonormal `Q`s),
/// `B·A = Q_B (R_B R_Aᵀ) Q_Aᵀ` has the singular values of the small `r × r` matrix `R_B R_Aᵀ`.
/// So a LoRA update never has more than `r` non-zero ones — its rank is at most `r` — and a
/// real adapter's can be watched every training step.
pub fn low_rank_singular_values(b: &DMatrix<f64>, a: &DMatrix<f64>) -> Result<DVector<f64>, MathError> {
    if b.ncols() != a.nrows() {
        return Err(MathError::ShapeMismatch {
            operation: "B·A singular values",
            detail: format!("B is {}×{} but A is {}×{}", b.nrows(), b.ncols(), a.nrows(), a.ncols()),
        });
    }
    ensure_finite_matrix("B", b)?;
    ensure_finite_matrix("A", a)?;
    let r_b = b.clone().qr().r();
    let r_a = a.transpose().qr().r();
    singular_values(&(r_b * r_a.transpose()))
}

/// The tolerance numpy's `matrix_rank` uses: σ_max · max(rows, cols) · ε.
pub fn default_rank_tolerance(m: &DMatrix<f64>, sigma_max: f64) -> f64 {
    sigma_max * m.nrows().max(m.ncols()) as f64 * f64::EPSILON
}

/// Numerical rank with numpy's default tolerance (see [`default_rank_tolerance`]).
///
/// Returns 0 for an empty matrix. A matrix with NaN or infinite entries has no rank:
/// this returns 0 for it; use [`try_rank`] to get the error instead.
pub fn rank(m: &DMatrix<f64>) -> usize {
    try_rank(m).unwrap_or(0)
}

/// Numerical rank: the number of singular values strictly greater than `tol`.
///
/// Returns 0 for an empty matrix, or for non-finite entries or tolerance (see [`try_rank_with_tol`]).
pub fn rank_with_tol(m: &DMatrix<f64>, tol: f64) -> usize {
    try_rank_with_tol(m, tol).unwrap_or(0)
}

/// [`rank`] that reports non-finite entries as an error.
pub fn try_rank(m: &DMatrix<f64>) -> Result<usize, MathError> {
    let sigma = singular_values(m)?;
    let sigma_max = sigma.iter().copied().fold(0.0, f64::max);
    Ok(count_above(&sigma, default_rank_tolerance(m, sigma_max)))
}

/// [`rank_with_tol`] that reports non-finite entries or a negative/non-finite `tol` as an error.
pub fn try_rank_with_tol(m: &DMatrix<f64>, tol: f64) -> Result<usize, MathError> {
    check_tolerance(tol)?;
    Ok(count_above(&singular_values(m)?, tol))
}

fn count_above(sigma: &DVector<f64>, tol: f64) -> usize {
    sigma.iter().filter(|&&s| s > tol).count()
}

pub(crate) fn check_tolerance(tol: f64) -> Result<(), MathError> {
    if tol.is_finite() && tol >= 0.0 {
        Ok(())
    } else {
        Err(MathError::InvalidParameter { name: "tolerance", reason: format!("{tol} must be a finite number ≥ 0") })
    }
}

/// The best rank-`r` approximation of `m` in the Frobenius norm (truncated SVD, Eckart–Young),
/// and its error ‖m − approx‖_F, which equals √(Σ of the dropped σᵢ²).
///
/// `r = 0` gives the zero matrix; `r > min(rows, cols)` is [`MathError::RankTooLarge`].
pub fn best_rank_approx(m: &DMatrix<f64>, r: usize) -> Result<(DMatrix<f64>, f64), MathError> {
    let (rows, cols) = m.shape();
    if r > rows.min(cols) {
        return Err(MathError::RankTooLarge { rank: r, rows, cols });
    }
    if m.is_empty() {
        return Ok((m.clone(), 0.0));
    }
    let decomposition = svd(m, true)?;
    // Both vector sets were requested, so they are present; the fallback only avoids a panic path.
    let (Some(u), Some(v_t)) = (&decomposition.u, &decomposition.v_t) else {
        return Err(MathError::SvdDidNotConverge { rows, cols });
    };
    let sigma = &decomposition.singular_values;
    // U_r · diag(σ_1..σ_r) · V_rᵀ
    let mut approx = DMatrix::zeros(rows, cols);
    for k in 0..r {
        approx += sigma[k] * u.column(k) * v_t.row(k);
    }
    let dropped: f64 = sigma.iter().skip(r).map(|s| s * s).sum();
    Ok((approx, dropped.sqrt()))
}
