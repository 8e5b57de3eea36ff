//! Row-major matrix products on the CPU for the fused training kernels, through the `gemm`
//! crate (the kernels candle's own matmul uses) but with what candle's op cannot do: write
//! into a buffer we own, accumulate into it (`C += α·A·B`, no separate add pass) and read
//! transposed or column-block views through strides instead of copying them.
//!
//! When the build found a system OpenBLAS (see `build.rs`), products go to its `sgemm`/`dgemm`
//! instead, single-threaded per call and split across rayon's threads here, so the BLAS never
//! runs a thread pool of its own beside rayon's on the same cores.

use gemm::Parallelism;

use super::Real;

/// A borrowed matrix view: element `(r, c)` is `data[r·row_stride + c·col_stride]`.
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<T> Clone for MatRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for MatRef<'_, T> {}

impl<'a, T> MatRef<'a, T> {
    /// `rows × cols`, stored row after row.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols)
    }

    /// `rows × cols` whose rows start `ld` elements apart (a block of columns of a wider matrix).
    pub fn strided(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Self {
        let m = Self { data, rows, cols, row_stride: ld, col_stride: 1 };
        m.check();
        m
    }

    /// The transpose, as a view.
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }

    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "matrix view {}×{} overruns its {} elements",
                self.rows,
                self.cols,
                self.data.len()
            );
        }
    }
}

/// Products smaller than this many multiply-adds run on the calling thread.
const PARALLEL_WORK: usize = 1 << 18;

/// `dst = alpha · a·b`, or `dst += alpha · a·b` when `accumulate`. `dst` is row-major
/// `[a.rows, b.cols]` with rows `ld_dst` apart. `parallel`: may use rayon's pool (callers
/// already inside a parallel loop pass `false`).
pub fn matmul<T: Real>(
    dst: &mut [T],
    ld_dst: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    alpha: T,
    accumulate: bool,
    parallel: bool,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "matmul: inner dimensions {k} and {} differ", b.rows);
    if m == 0 || n == 0 {
        return;
    }
    assert!(ld_dst >= n && (m - 1) * ld_dst + n <= dst.len(), "matmul: destination too small for {m}×{n}");
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                dst[r * ld_dst..r * ld_dst + n].fill(T::zero());
            }
        }
        return;
    }
    let threads = rayon::current_num_threads();
    let parallel = parallel && threads > 1 && m * n * k >= PARALLEL_WORK;
    #[cfg(openblas)]
    if blas::can_take(&a) && blas::can_take(&b) {
        let beta = if accumulate { T::one() } else { T::zero() };
        let dst = SendPtr(dst.as_mut_ptr());
        let part = |(a, b, offset): (MatRef<T>, MatRef<T>, usize)| {
            // SAFETY: views bounds-checked (MatRef::check, the destination assert); each part
            // writes its own rows or columns of `dst`, which nothing else borrows meanwhile.
            unsafe { blas::gemm(dst.at(offset), ld_dst, &a, &b, alpha, beta) }
        };
        if !parallel {
            part((a, b, 0));
        } else {
            use rayon::prelude::*;
            split(a, b, ld_dst, threads).into_par_iter().for_each(part);
        }
        return;
    }
    let parallelism = if parallel { Parallelism::Rayon(threads) } else { Parallelism::None };
    // SAFETY: every view was bounds-checked above (`MatRef::check`, the destination assert),
    // `dst` is borrowed mutably and so cannot alias `a` or `b`. The crate computes
    // `dst = α·dst + β·(a·b)`, reading `dst` only when asked to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ld_dst as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            T::one(),
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The destination pointer, shared by the parts of a split product (each writes its own block).
#[cfg(openblas)]
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
#[cfg(openblas)]
unsafe impl<T> Send for SendPtr<T> {}
#[cfg(openblas)]
unsafe impl<T> Sync for SendPtr<T> {}
#[cfg(openblas)]
impl<T> SendPtr<T> {
    fn at(self, offset: usize) -> *mut T {
        self.0.wrapping_add(offset)
    }
}

/// Splits `a·b` into up to `parts` products over blocks of rows of `a` (or, when `a` has
/// few rows, of columns of `b`), with each block's offset into the destination.
#[cfg(openblas)]
fn split<'a, T>(
    a: MatRef<'a, T>,
    b: MatRef<'a, T>,
    ld_dst: usize,
    parts: usize,
) -> Vec<(MatRef<'a, T>, MatRef<'a, T>, usize)> {
    let by_rows = a.rows >= b.cols;
    let len = if by_rows { a.rows } else { b.cols };
    let per = len.div_ceil(parts).max(1);
    (0..len)
        .step_by(per)
        .map(|start| {
            let count = per.min(len - start);
            if by_rows {
                (a.sub(start, count, true), b, start * ld_dst)
            } else {
                (a, b.sub(start, count, false), start)
            }
        })
        .collect()
}

#[cfg(openblas)]
impl<'a, T> MatRef<'a, T> {
    /// Rows (or columns) `start..start+count` as a view.
    fn sub(self, start: usize, count: usize, rows: bool) -> Self {
        let stride = if rows { self.row_stride } else { self.col_stride };
        let data = &self.data[start * stride..];
        if rows { Self { data, rows: count, ..self } } else { Self { data, cols: count, ..self } }
    }
}

#[cfg(openblas)]
mod blas {
    use std::any::TypeId;

    use super::{MatRef, Real};

    const ROW_MAJOR: i32 = 101;
    const NO_TRANS: i32 = 111;
    const TRANS: i32 = 112;

    // Linked by build.rs (pkg-config: -lopenblas).
    unsafe extern "C" {
        fn cblas_sgemm(
            layout: i32,
            ta: i32,
            tb: i32,
            m: i32,
            n: i32,
            k: i32,
            alpha: f32,
            a: *const f32,
            lda: i32,
            b: *const f32,
            ldb: i32,
            beta: f32,
            c: *mut f32,
            ldc: i32,
        );
        fn cblas_dgemm(
            layout: i32,
            ta: i32,
            tb: i32,
            m: i32,
            n: i32,
            k: i32,
            alpha: f64,
            a: *const f64,
            lda: i32,
            b: *const f64,
            ldb: i32,
            beta: f64,
            c: *mut f64,
            ldc: i32,
        );
        fn openblas_set_num_threads(n: i32);
    }

    /// BLAS reads a matrix as stored (unit column stride) or transposed (unit row stride).
    fn layout<T>(v: &MatRef<T>) -> Option<(i32, usize)> {
        if v.col_stride == 1 && v.row_stride >= v.cols.max(1) {
            Some((NO_TRANS, v.row_stride))
        } else if v.row_stride == 1 && v.col_stride >= v.rows.max(1) {
            Some((TRANS, v.col_stride))
        } else {
            None
        }
    }

    pub(super) fn can_take<T: Real>(v: &MatRef<T>) -> bool {
        let small = |x: usize| x <= i32::MAX as usize;
        layout(v).is_some() && small(v.rows) && small(v.cols) && small(v.data.len())
    }

    /// `dst = alpha·a·b + beta·dst` on the calling thread.
    ///
    /// # Safety
    /// `dst` must hold `[a.rows, b.cols]` with rows `ld_dst` apart, not aliased by `a` or `b`;
    /// both views must satisfy [`can_take`].
    pub(super) unsafe fn gemm<T: Real>(dst: *mut T, ld_dst: usize, a: &MatRef<T>, b: &MatRef<T>, alpha: T, beta: T) {
        static ONE_THREAD: std::sync::Once = std::sync::Once::new();
        // SAFETY: only sets OpenBLAS' thread count; rayon supplies the parallelism.
        ONE_THREAD.call_once(|| unsafe { openblas_set_num_threads(1) });
        let ((ta, lda), (tb, ldb)) = (layout(a).expect("checked"), layout(b).expect("checked"));
        let (m, n, k) = (a.rows as i32, b.cols as i32, a.cols as i32);
        let (lda, ldb, ldc) = (lda as i32, ldb as i32, ld_dst as i32);
        // One call for either precision; `T` is f32 or f64 (the `Real` types).
        macro_rules! blas_gemm {
            ($gemm:ident, $to:ident) => {{
                let c = |x: T| num_traits::ToPrimitive::$to(&x).unwrap_or_default();
                let (pa, pb) = (a.data.as_ptr().cast(), b.data.as_ptr().cast());
                $gemm(ROW_MAJOR, ta, tb, m, n, k, c(alpha), pa, lda, pb, ldb, c(beta), dst.cast(), ldc)
            }};
        }
        // SAFETY: the caller's contract; the pointer casts only restate `T` as the type it is.
        unsafe {
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                blas_gemm!(cblas_sgemm, to_f32)
            } else {
                blas_gemm!(cblas_dgemm, to_f64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn products_transposes_and_accumulation_match_the_definition() {
        let (m, k, n) = (37, 70, 45); // big enough to take the parallel path
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 7) % 13) as f64 - 6.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 5) % 11) as f64 - 5.0).collect();
        let expected = naive(&a, &b, m, k, n);
        for parallel in [false, true] {
            let mut c = vec![0.0; m * n];
            matmul(&mut c, n, MatRef::new(&a, m, k), MatRef::new(&b, k, n), 1.0, false, parallel);
            assert_eq!(c, expected);
            // Accumulating 0.5·(a·b) on top gives 1.5·(a·b).
            matmul(&mut c, n, MatRef::new(&a, m, k), MatRef::new(&b, k, n), 0.5, true, parallel);
            assert!(c.iter().zip(&expected).all(|(x, y)| (x - 1.5 * y).abs() < 1e-9));
        }
        // (bᵀ aᵀ)ᵀ = a b: read both operands transposed.
        let at: Vec<f64> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect(); // [k, m]
        let bt: Vec<f64> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // [n, k]
        let mut c = vec![0.0; m * n];
        matmul(&mut c, n, MatRef::new(&at, k, m).t(), MatRef::new(&bt, n, k).t(), 1.0, false, true);
        assert_eq!(c, expected);
        // A column block: the first 10 columns of `a` as a strided view.
        let mut c = vec![0.0; m * n];
        matmul(&mut c, n, MatRef::strided(&a, m, 10, k), MatRef::new(&b[..10 * n], 10, n), 1.0, false, false);
        assert_eq!(c, naive(&a.chunks(k).flat_map(|r| r[..10].to_vec()).collect::<Vec<_>>(), &b[..10 * n], m, 10, n));
    }

    #[test]
    #[should_panic(expected = "overruns")]
    fn a_view_past_the_end_is_refused() {
        let data = [0f32; 10];
        let _ = MatRef::strided(&data, 3, 4, 4);
    }
}
