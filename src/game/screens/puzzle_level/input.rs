//! A puzzle's input: keys and clicks become edits, submissions and hints on the [`PuzzleRun`].

use bevy_egui::egui::Key;

use crate::game::audio::Sfx;
use crate::game::puzzle::{GridKind, PuzzleRun};
use crate::game::ui::Keys;
use crate::game::ui::keys::Typed;

/// What the mouse did on the puzzle this frame (filled in by the drawing).
#[derive(Default)]
pub(super) struct Clicks {
    pub cell: Option<(usize, usize, usize)>,
    pub rung: Option<u8>,
    pub choice: Option<usize>,
    pub rank: Option<i32>,
    /// ENTER · CHECK (or NEXT once the puzzle is over).
    pub check: bool,
    pub hint: bool,
}

impl Clicks {
    /// Applies the clicks to a puzzle being played; returns the sound they make.
    pub(super) fn apply(&self, puzzle: &mut PuzzleRun) -> Option<Sfx> {
        if let Some((g, r, c)) = self.cell {
            puzzle.select(g, r, c);
        }
        if let Some(code) = self.rung {
            puzzle.set_code(code);
        }
        if let Some(choice) = self.choice {
            puzzle.choose(choice);
        }
        if let Some(d) = self.rank {
            puzzle.change_rank(d);
        }
        let sound = self.check.then(|| submit(puzzle));
        if self.hint {
            puzzle.open_hint();
        }
        sound
    }
}

/// Asks the answer engine; a right answer and a wrong one sound different.
fn submit(puzzle: &mut PuzzleRun) -> Sfx {
    if puzzle.submit() { Sfx::Correct } else { Sfx::Wrong }
}

/// Applies this frame's keys to a puzzle being played; returns the sounds they make.
pub(super) fn apply_keys(puzzle: &mut PuzzleRun, input: &Keys, presenter: bool) -> Vec<Sfx> {
    let mut sounds = Vec::new();
    let typing = puzzle.choices == 0;
    for typed in &input.typed {
        let key = match typed {
            Typed::Text(text) if typing => {
                text.chars().for_each(|ch| puzzle.type_char(ch));
                continue;
            }
            Typed::Text(_) => continue,
            Typed::Key(key) => key,
        };
        let codes = puzzle.inputs.get(puzzle.cursor.grid).is_some_and(|g| g.kind == GridKind::Codes);
        match key {
            Key::ArrowLeft => puzzle.move_cursor(0, -1),
            Key::ArrowRight => puzzle.move_cursor(0, 1),
            Key::ArrowUp if codes => puzzle.step_code(1),
            Key::ArrowDown if codes => puzzle.step_code(-1),
            Key::ArrowUp => puzzle.move_cursor(-1, 0),
            Key::ArrowDown => puzzle.move_cursor(1, 0),
            Key::Tab => puzzle.next_cell(),
            Key::Backspace | Key::Delete => puzzle.backspace(),
            Key::Enter => sounds.push(submit(puzzle)),
            Key::H if puzzle.open_hint() => sounds.push(Sfx::Select),
            Key::G if puzzle.can_give_up() => puzzle.reveal(),
            Key::R if presenter => puzzle.reveal(),
            Key::OpenBracket => puzzle.change_rank(-1),
            Key::CloseBracket => puzzle.change_rank(1),
            _ => {}
        }
    }
    if !typing && let Some(i) = input.number_choice() {
        puzzle.choose(i);
    }
    sounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Difficulty, Matrix, MatrixPuzzle, MatrixTask, Reward, Text};

    /// A 2×2 ΔW = B·A with both cells of the first row blank.
    fn fill_in() -> PuzzleRun {
        let t = |s: &str| Text::new(s, s);
        PuzzleRun::from_matrix(&MatrixPuzzle {
            id: "fill".into(),
            difficulty: Difficulty::Easy,
            prompt: t("fill"),
            hints: Vec::new(),
            reward: Reward { points: 100, hint_cost: 10, miss_cost: 10, stars: [50, 80, 100] },
            task: MatrixTask::CompleteDelta {
                b: Matrix(vec![vec![1.0], vec![2.0]]),
                a: Matrix(vec![vec![3.0, 4.0]]),
                blanks: vec![(0, 0), (0, 1)],
                delta: Matrix(vec![vec![3.0, 4.0], vec![6.0, 8.0]]),
            },
        })
    }

    #[test]
    fn keys_and_text_of_one_frame_apply_in_the_order_they_came() {
        let mut run = fill_in();
        // Typed fast: "-", →, "33" all in one frame.
        let keys = Keys {
            typed: vec![Typed::Text("-".into()), Typed::Key(Key::ArrowRight), Typed::Text("33".into())],
            ..Default::default()
        };
        apply_keys(&mut run, &keys, false);
        assert_eq!(run.inputs[0].cell(0, 0).text, "-");
        assert_eq!(run.inputs[0].cell(0, 1).text, "33");
    }
}
