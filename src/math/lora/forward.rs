//! The LoRA forward pass y = W·x + s·B(A·x).

use nalgebra::{DMatrix, DVector};

use crate::math::error::{MathError, ensure_finite_matrix, ensure_finite_scalar, ensure_finite_vector, shape};

/// How the adapter output is scaled (PEFT's `use_rslora`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scaling {
    /// s = α / r (the LoRA paper, PEFT's default).
    #[default]
    Standard,
    /// s = α / √r (rank-stabilised LoRA).
    RsLora,
}

impl Scaling {
    /// The scale s for `alpha` and rank `r` (r = 0 gives +∞ or NaN: callers check r ≥ 1).
    pub fn factor(self, alpha: f64, r: usize) -> f64 {
        match self {
            Scaling::Standard => alpha / r as f64,
            Scaling::RsLora => alpha / (r as f64).sqrt(),
        }
    }

    /// A short display name: "α/r" or "α/√r".
    pub fn formula(self) -> &'static str {
        match self {
            Scaling::Standard => "α/r",
            Scaling::RsLora => "α/√r",
        }
    }
}

/// y = W·x + s·B(A·x) with s from [`Scaling::factor`]: W is d_out×d_in, A is r×d_in,
/// B is d_out×r, x has d_in entries. A·x is computed first (r numbers), which is why LoRA is
/// cheap: B·A (d_out×d_in) is never formed.
///
/// Errors: shapes that do not fit, r = 0, non-finite entries or α.
pub fn lora_forward(
    w: &DMatrix<f64>,
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    x: &DVector<f64>,
    alpha: f64,
    scaling: Scaling,
) -> Result<DVector<f64>, MathError> {
    let (d_out, d_in) = w.shape();
    let r = a.nrows();
    if x.len() != d_in || a.ncols() != d_in || b.nrows() != d_out || b.ncols() != r {
        return Err(MathError::ShapeMismatch {
            operation: "LoRA forward y = Wx + s·B(Ax)",
            detail: format!(
                "W is {} so x needs {d_in} entries, A must be r×{d_in} and B {d_out}×r; got x of {}, A {}, B {}",
                shape(w),
                x.len(),
                shape(a),
                shape(b)
            ),
        });
    }
    if r == 0 {
        return Err(MathError::InvalidParameter {
            name: "rank",
            reason: "A has no rows: the scale α/r needs r ≥ 1".into(),
        });
    }
    ensure_finite_scalar("alpha", alpha)?;
    ensure_finite_matrix("W", w)?;
    ensure_finite_matrix("A", a)?;
    ensure_finite_matrix("B", b)?;
    ensure_finite_vector("x", x)?;
    let s = scaling.factor(alpha, r);
    Ok(w * x + s * (b * (a * x)))
}
