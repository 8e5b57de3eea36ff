//! What each kind of puzzle task needs beyond the shared puzzle fields: usable inputs, and a
//! stored answer the maths agrees with.

use super::{MAX_DIMENSION, MAX_MATRIX_SIDE, MAX_PARAMS, Validator, derived};
use crate::content::schema::*;

/// A task the validator knows how to check, at `path` (the task's field path).
pub(super) trait CheckTask {
    fn check(&self, v: &mut Validator, path: &str);
}

impl CheckTask for MatrixTask {
    fn check(&self, v: &mut Validator, path: &str) {
        let field = |name: &str| format!("{path}.{name}");
        match self {
            MatrixTask::Factorize { target, rank, example_b, example_a } => {
                let ok = v.matrix(&field("target"), target)
                    & v.matrix(&field("example_b"), example_b)
                    & v.matrix(&field("example_a"), example_a);
                if *rank == 0 || *rank > MAX_MATRIX_SIDE {
                    v.issue(&field("rank"), format!("rank must be between 1 and {MAX_MATRIX_SIDE}"));
                } else if ok {
                    v.derived(&field("example_b"), derived::check_factorize_example(self));
                }
            }
            MatrixTask::CompleteDelta { b, a, blanks, delta } => {
                let ok = v.matrix(&field("b"), b) & v.matrix(&field("a"), a) & v.matrix(&field("delta"), delta);
                if blanks.is_empty() {
                    v.issue(&field("blanks"), "no blank cell to fill");
                }
                for (i, &(row, col)) in blanks.iter().enumerate() {
                    if row >= delta.rows() || col >= delta.cols() {
                        v.issue(
                            &format!("{path}.blanks[{i}]"),
                            format!("cell ({row}, {col}) is outside the {}×{} ΔW", delta.rows(), delta.cols()),
                        );
                    }
                }
                if ok {
                    v.derived(&field("delta"), derived::check_delta(self, delta));
                }
            }
            MatrixTask::Forward { w, a, b, x, alpha, y } => {
                let ok = v.matrix(&field("w"), w)
                    & v.matrix(&field("a"), a)
                    & v.matrix(&field("b"), b)
                    & v.vector(&field("x"), x)
                    & v.vector(&field("y"), y)
                    & v.number(&field("alpha"), *alpha);
                if ok {
                    v.derived(&field("y"), derived::check_forward(self, y));
                }
            }
            MatrixTask::CountParams { d_in, d_out, rank, ask: _, lora, full } => {
                let mut ok = true;
                for (name, value) in [("d_in", *d_in), ("d_out", *d_out), ("rank", *rank)] {
                    if value == 0 || value > MAX_DIMENSION {
                        v.issue(&field(name), format!("{value} is out of range 1..={MAX_DIMENSION}"));
                        ok = false;
                    }
                }
                if ok {
                    v.derived(&field("lora"), derived::check_lora_count(*d_in, *d_out, *rank, *lora));
                    v.derived(&field("full"), derived::check_full_count(*d_in, *d_out, *full));
                }
            }
            MatrixTask::FindRank { matrix, rank } => {
                if v.matrix(&field("matrix"), matrix) {
                    v.derived(&field("rank"), derived::check_rank(self, *rank));
                }
            }
            MatrixTask::BestApprox { matrix, rank, choices, answer } => {
                let mut ok = v.matrix(&field("matrix"), matrix);
                ok &= v.pick_one(path, "choices", choices, *answer, Validator::matrix);
                if *rank == 0 || *rank > MAX_MATRIX_SIDE {
                    v.issue(&field("rank"), format!("rank must be between 1 and {MAX_MATRIX_SIDE}"));
                    ok = false;
                }
                if ok {
                    v.derived(&field("answer"), derived::check_best_approx(matrix, *rank, choices, *answer));
                }
            }
        }
    }
}

impl CheckTask for Nf4Task {
    fn check(&self, v: &mut Validator, path: &str) {
        let field = |name: &str| format!("{path}.{name}");
        match self {
            Nf4Task::Absmax { block, absmax } => {
                if v.vector(&field("block"), block) & v.number(&field("absmax"), *absmax) {
                    v.derived(&field("absmax"), derived::check_absmax(self, *absmax));
                }
            }
            Nf4Task::Quantize { block, codes } => {
                if v.vector(&field("block"), block) {
                    v.derived(&field("codes"), derived::check_quantize(self, codes));
                }
            }
            Nf4Task::Dequantize { codes, absmax, values, tolerance } => {
                let ok = v.number(&field("absmax"), *absmax)
                    & v.vector(&field("values"), values)
                    & v.tolerance(&field("tolerance"), *tolerance);
                if codes.is_empty() {
                    v.issue(&field("codes"), "no code to dequantize");
                } else if ok {
                    v.derived(&field("values"), derived::check_dequantize(self, values, *tolerance));
                }
            }
            Nf4Task::CompareError { blocks, answer } => {
                let ok = v.pick_one(path, "blocks", blocks, *answer, |v, field, block| v.vector(field, block));
                if ok {
                    v.derived(&field("answer"), derived::check_compare_error(blocks, *answer));
                }
            }
            Nf4Task::Memory { model, params, gb, tolerance_gb, .. } => {
                if model.trim().is_empty() {
                    v.issue(&field("model"), "empty model name");
                }
                let mut ok = v.number(&field("gb"), *gb) & v.tolerance(&field("tolerance_gb"), *tolerance_gb);
                if *params == 0 || *params > MAX_PARAMS {
                    v.issue(&field("params"), format!("{params} is out of range 1..={MAX_PARAMS}"));
                    ok = false;
                }
                if ok {
                    v.derived(&field("gb"), derived::check_memory_gb(self));
                }
            }
        }
    }
}
