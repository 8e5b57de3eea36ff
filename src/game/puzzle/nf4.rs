//! NF4 puzzles in play: codes picked on the 16-rung ladder with the live dequantized values and
//! error, typed absmax, dequantized values and gigabytes, and the block that loses the most.

use super::evaluation::{Evaluation, Figure, in_both_notations};
use super::grid::{Grid, GridKind};
use super::{Playable, PuzzleRun};
use crate::content::answer::{block_absmax, memory_gb, nf4_block_errors, shown};
use crate::content::{Nf4Answer, Nf4Task};
use crate::game::i18n::Tr;
use crate::math::nf4;

/// Index of the 0.0 rung of the NF4 ladder.
pub const ZERO_CODE: u8 = nf4::NF4_ZERO_INDEX;

/// The NF4 ladder's value at `code` (0..=15).
pub fn nf4_value(code: u8) -> f64 {
    f64::from(nf4::NF4_CODE[usize::from(code.min(15))])
}

/// The NF4 code of weight `w` in a block with absmax `scale`.
pub fn nf4_code_of(w: f64, scale: f64) -> u8 {
    if scale == 0.0 {
        return ZERO_CODE;
    }
    nf4::nearest_code(((w / scale) as f32).clamp(-1.0, 1.0))
}

impl Playable for Nf4Task {
    fn inputs(&self) -> (Vec<Grid>, usize) {
        let number = |label: &str| vec![Grid::blank(label, 1, 1, GridKind::Numbers)];
        match self {
            Nf4Task::Absmax { .. } => (number("absmax"), 0),
            Nf4Task::Quantize { block, .. } => {
                let mut grid = Grid::blank("code", 1, block.len(), GridKind::Codes);
                // Every weight starts on the 0.0 rung so ↑ ↓ have somewhere to go.
                for cell in &mut grid.cells {
                    cell.text = ZERO_CODE.to_string();
                }
                (vec![grid], 0)
            }
            Nf4Task::Dequantize { codes, .. } => (vec![Grid::blank("w", 1, codes.len(), GridKind::Numbers)], 0),
            Nf4Task::CompareError { blocks, .. } => (Vec::new(), blocks.len()),
            Nf4Task::Memory { .. } => (number("GB"), 0),
        }
    }

    fn answer(&self, inputs: &[Grid], chosen: Option<usize>) -> Option<Nf4Answer> {
        let first = inputs.first();
        Some(match self {
            Nf4Task::Absmax { .. } | Nf4Task::Memory { .. } => Nf4Answer::Number(first?.value(0, 0)?),
            Nf4Task::Quantize { .. } => Nf4Answer::Codes(first?.values()?.into_iter().map(|c| c as u8).collect()),
            Nf4Task::Dequantize { .. } => Nf4Answer::Values(first?.values()?),
            Nf4Task::CompareError { .. } => Nf4Answer::Choice(chosen?),
        })
    }

    fn explain(&self, run: &PuzzleRun, eval: &mut Evaluation) {
        if !run.is_playing() {
            eval.debrief = self.debrief().map(|(numbers, why)| (in_both_notations(numbers), why));
        }
        match self {
            Nf4Task::Absmax { block, .. } => eval.figures.push(Figure::row("w", block)),
            Nf4Task::Quantize { block, .. } => {
                let scale = block_absmax(block);
                eval.figures.push(Figure::row("w", block));
                eval.fact(Tr::Absmax, shown(scale));
                // What the chosen codes dequantize to, and how far that is from w: shown only
                // after a check (it would otherwise answer the puzzle by trial and error).
                if !run.checked() {
                    eval.fact(Tr::AfterCheck, "");
                    return;
                }
                let codes = &run.inputs[0];
                let restored: Vec<f64> = (0..codes.cols)
                    .map(|i| nf4_value(codes.value(0, i).unwrap_or(f64::from(ZERO_CODE)) as u8) * scale)
                    .collect();
                let errors: Vec<f64> = block.iter().zip(&restored).map(|(w, d)| (w - d).abs()).collect();
                let max_error = errors.iter().copied().fold(0.0, f64::max);
                eval.figures.push(Figure::row("ŵ", &restored));
                eval.figures.push(Figure::row("|w−ŵ|", &errors));
                eval.fact(Tr::MaxError, format!("{max_error:.4}"));
            }
            Nf4Task::Dequantize { codes, absmax, .. } => {
                let codes: Vec<f64> = codes.iter().map(|c| f64::from(*c)).collect();
                eval.figures.push(Figure::row("code", &codes));
                eval.fact(Tr::Absmax, shown(*absmax));
            }
            Nf4Task::CompareError { blocks, .. } => {
                for (i, block) in blocks.iter().enumerate() {
                    eval.figures.push(Figure::row(&format!("{}", i + 1), block));
                }
                // Once over: each block's absmax and its error, quantized for real.
                if !run.is_playing()
                    && let Ok(errors) = nf4_block_errors(blocks)
                {
                    let per_block: Vec<String> = blocks
                        .iter()
                        .zip(&errors)
                        .enumerate()
                        .map(|(i, (b, e))| format!("{}) absmax {} → max |w−ŵ| {e:.4}", i + 1, shown(block_absmax(b))))
                        .collect();
                    eval.debrief = Some((in_both_notations(per_block.join("   ")), Tr::CompareErrorWhy));
                }
            }
            Nf4Task::Memory { model, params, .. } => eval.fact(Tr::Weight, format!("{model}: {params}")),
        }
    }
}

impl Nf4Task {
    /// Once the puzzle is over: the numbers it showed and why they matter for QLoRA (the
    /// compare-error puzzle writes its own, per block).
    fn debrief(&self) -> Option<(String, Tr)> {
        Some(match self {
            Nf4Task::Absmax { block, .. } => {
                let scale = block_absmax(block);
                // c: the code (código), one letter that reads in both languages.
                (format!("absmax = {}: ŵ = NF4[c] × {}", shown(scale), shown(scale)), Tr::AbsmaxWhy)
            }
            Nf4Task::Quantize { block, .. } => {
                let error = nf4_block_errors(std::slice::from_ref(block)).ok()?.first().copied()?;
                (format!("max |w−ŵ| = {error:.4}  (absmax {})", shown(block_absmax(block))), Tr::QuantizeWhy)
            }
            Nf4Task::Dequantize { codes, absmax, .. } => {
                let values: Vec<String> = codes.iter().map(|&c| shown(nf4_value(c) * absmax)).collect();
                (format!("ŵ = ({})", values.join(", ")), Tr::DequantizeWhy)
            }
            Nf4Task::Memory { params, precision, .. } => {
                let gb = crate::game::ui::gigabytes(memory_gb(*params, *precision), crate::content::Lang::En);
                (format!("{} bits/w → {gb}", precision.bits_per_weight()), Tr::MemoryWhy)
            }
            Nf4Task::CompareError { .. } => return None,
        })
    }
}
