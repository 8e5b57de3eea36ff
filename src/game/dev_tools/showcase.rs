//! What screenshots show instead of a fresh start: the lesson's factorization slide, an answered
//! question, a high score waiting for initials, and a puzzle part-way solved with one cell still wrong, so the pictures show the
//! explanations and the live ✔/✖ marks a player sees. The screens know nothing of it: each
//! observer adjusts a screen's state as it is spawned.

use bevy::prelude::*;

use crate::content::answer::{block_absmax, shown};
use crate::content::{Block, Items, MatrixTask, Nf4Task};
use crate::game::high_scores::HighScore;
use crate::game::puzzle::{Task, nf4_code_of};
use crate::game::screens::lesson::LessonRun;
use crate::game::screens::puzzle_level::PuzzleLevel;
use crate::game::screens::quiz::QuizScreen;
use crate::game::{Course, GameData, LastOutcome, PendingEntry, PendingHighScore};

pub struct ShowcasePlugin {
    /// `--slide ID[:SETTING]`: this lesson slide (its explorable figure at that setting) instead
    /// of the factorization slide.
    pub slide: Option<(String, usize)>,
}

/// The slide asked for with `--slide`.
#[derive(Resource, Clone)]
struct ShowSlide(String, usize);

impl Plugin for ShowcasePlugin {
    fn build(&self, app: &mut App) {
        if let Some((id, knob)) = &self.slide {
            app.insert_resource(ShowSlide(id.clone(), *knob));
        }
        app.add_observer(factorization_slide)
            .add_observer(answered_question)
            .add_observer(part_solved_puzzle)
            .add_systems(Startup, (progress_part_way, high_score_to_enter).chain());
    }
}

/// A player part-way along the road: the lessons and the first quiz passed (the map lights its
/// path up to them). Only into an empty save.
fn progress_part_way(course: Res<Course>, mut data: ResMut<GameData>) {
    if !data.save.progress.levels.is_empty() {
        return;
    }
    let mut done = 0;
    for level in &course.levels {
        let kind = level.kind();
        if done < 2 && matches!(kind, crate::content::LevelKind::Lessons | crate::content::LevelKind::Quiz) {
            let score = if kind == crate::content::LevelKind::Quiz { 4350 } else { 0 };
            data.save.progress.record(&crate::game::progress::LevelOutcome::of(level, score, 3 - done as u8));
            done += 1;
        }
    }
}

/// The results of a level whose table the score just made: three earlier players, and the
/// initials entry for the second place.
fn high_score_to_enter(last: Res<LastOutcome>, mut data: ResMut<GameData>, mut pending: ResMut<PendingHighScore>) {
    let Some(outcome) = &last.0 else { return };
    let scores = &mut data.save.high_scores;
    for (initials, score, stars) in [("ANA", 2400, 3), ("LUI", 1500, 2), ("MAR", 900, 1)] {
        scores.enter(&outcome.level_id, HighScore { initials: initials.into(), score, stars });
    }
    scores.last_initials = Some("JOE".into());
    if let Some(place) = scores.place_for(&outcome.level_id, outcome.score) {
        pending.0 = Some(PendingEntry {
            level_id: outcome.level_id.clone(),
            score: outcome.score,
            stars: outcome.stars,
            place,
        });
    }
}

/// The deck's own example: the first slide with a factorization figure.
fn factorization_slide(
    add: On<Add, LessonRun>,
    course: Res<Course>,
    asked: Option<Res<ShowSlide>>,
    mut runs: Query<&mut LessonRun>,
) {
    let Ok(mut run) = runs.get_mut(add.entity) else { return };
    if let Some(Items::Lessons(slides)) = course.levels.get(run.level).map(|l| &l.items) {
        run.slide = match asked.as_deref() {
            Some(ShowSlide(id, knob)) => {
                run.knob = *knob;
                slides.iter().position(|s| &s.id == id).unwrap_or(0)
            }
            None => {
                slides.iter().position(|s| s.body.iter().any(|b| matches!(b, Block::Factorization(_)))).unwrap_or(0)
            }
        };
    }
}

/// The first question answered wrong: the miss, the right answer and the explanation.
fn answered_question(add: On<Add, QuizScreen>, mut quizzes: Query<&mut QuizScreen>) {
    let Ok(mut quiz) = quizzes.get_mut(add.entity) else {
        return;
    };
    if let Some(q) = quiz.run.question() {
        let wrong = (q.answer + 1) % q.choices.len().max(1);
        quiz.run.answer(wrong);
    }
}

/// The first factorization (or NF4 quantization) puzzle, filled in with one cell still wrong.
fn part_solved_puzzle(add: On<Add, PuzzleLevel>, asked: Option<Res<ShowSlide>>, mut levels: Query<&mut PuzzleLevel>) {
    let Ok(mut state) = levels.get_mut(add.entity) else {
        return;
    };
    // `--slide ID` on a puzzle screen: that puzzle, over, with its debrief.
    if let Some(ShowSlide(id, _)) = asked.as_deref()
        && let Some(index) = state.puzzles.iter().position(|p| &p.id == id)
    {
        state.index = index;
        state.puzzles[index].reveal();
        return;
    }
    let found = state.puzzles.iter().position(|p| {
        matches!(p.task, Task::Matrix(MatrixTask::Factorize { .. }) | Task::Nf4(Nf4Task::Quantize { .. }))
    });
    let Some(index) = found else { return };
    state.index = index;
    let puzzle = &mut state.puzzles[index];
    match puzzle.task.clone() {
        Task::Matrix(MatrixTask::Factorize { example_b, example_a, .. }) => {
            for (g, m) in [(0, &example_b), (1, &example_a)] {
                for (r, row) in m.0.iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        // Leave A's last cell with the wrong sign.
                        let last = g == 1 && r + 1 == m.rows() && c + 1 == m.cols();
                        puzzle.select(g, r, c);
                        for ch in shown(if last { -v } else { *v }).chars() {
                            puzzle.type_char(ch);
                        }
                    }
                }
            }
            puzzle.select(1, example_a.rows() - 1, example_a.cols() - 1);
        }
        Task::Nf4(Nf4Task::Quantize { block, .. }) => {
            let scale = block_absmax(&block);
            let last = block.len().saturating_sub(1);
            for (i, w) in block.iter().enumerate().take(last) {
                puzzle.select(0, 0, i);
                puzzle.set_code(nf4_code_of(*w, scale));
            }
            puzzle.select(0, 0, last);
        }
        _ => {}
    }
}
