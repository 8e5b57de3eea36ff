//! The one answer engine: whether an answer to a puzzle is right. The game asks it about a
//! player's submission, `check-levels` about a level's stored answer, and the tests about both.
//!
//! - [`Expected`]: what the maths says the answer is — never the stored answer.
//! - [`Tolerance`]: how close a number must be, by who gave it ([`GivenBy`]): one policy.
//! - [`PuzzleTask::judge`]: the verdict ([`Grade`]), for [`MatrixAnswer`]s and [`Nf4Answer`]s.
//! - [`format_number`] ([`shown`], [`reported`]): how a number is written, in the game and in
//!   `check-levels`' messages.

mod expected;
mod judge;
mod numbers;

pub(crate) use expected::math_err;
pub use expected::{
    Expected, block_absmax, dmatrix, lora_output, memory_gb, nf4_block_errors, nf4_codes, nf4_dequantize,
};
pub use judge::{GivenBy, Grade, MatrixAnswer, Nf4Answer, PuzzleTask};
pub use numbers::{
    REPORTED_DECIMALS, SHOWN_DECIMALS, Tolerance, decimal, fixed, format_number, in_notation, reported, shown,
    thousands,
};
