//! Every shipped matrix and NF4 puzzle drawn by egui without a window — fresh, after a wrong try
//! with a hint open, revealed and solved — at 1280×720 and 1920×1080, in both languages, with and
//! without the presenter's zoom: no shape may end outside the window.

use super::draw::{Progress, draw_puzzle};
use crate::content::{self, Items};
use crate::game::puzzle::{PuzzleRun, Status};
use crate::game::ui::layout_check::check_every_size;

/// The states a puzzle screen is seen in.
fn states(fresh: &PuzzleRun) -> Vec<(&'static str, PuzzleRun)> {
    let mut wrong = fresh.clone();
    // Every cell filled with something wrong, submitted, and a hint opened.
    for g in 0..wrong.inputs.len() {
        for i in 0..wrong.inputs[g].cells.len() {
            let (cols, editable) = (wrong.inputs[g].cols, wrong.inputs[g].cells[i].editable);
            if editable {
                wrong.select(g, i / cols, i % cols);
                "-12345.678".chars().for_each(|ch| wrong.type_char(ch));
                wrong.set_code(0);
            }
        }
    }
    if wrong.choices > 0 {
        wrong.choose(0);
    }
    wrong.submit();
    wrong.open_hint();
    let mut revealed = fresh.clone();
    revealed.reveal();
    let mut solved = revealed.clone();
    solved.status = Status::Playing;
    solved.submit();
    assert!(matches!(solved.status, Status::Solved { .. }), "{}: the revealed answer is right", fresh.id);
    vec![("fresh", fresh.clone()), ("wrong", wrong), ("revealed", revealed), ("solved", solved)]
}

#[test]
fn no_puzzle_draws_outside_the_window() {
    let mut failures = Vec::new();
    for level in &content::builtin().levels {
        let puzzles: Vec<PuzzleRun> = match &level.items {
            Items::Matrix(ps) => ps.iter().map(PuzzleRun::from_matrix).collect(),
            Items::Nf4(ps) => ps.iter().map(PuzzleRun::from_nf4).collect(),
            _ => continue,
        };
        for puzzle in &puzzles {
            for (state, run) in states(puzzle) {
                let progress = Progress { index: 0, count: 1, total_score: 12_345 };
                failures.extend(check_every_size(&format!("{} {state}", run.id), |ui, lang, presenter| {
                    draw_puzzle(ui, level, &run, &progress, lang, presenter).overflow
                }));
            }
        }
    }
    assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
}
