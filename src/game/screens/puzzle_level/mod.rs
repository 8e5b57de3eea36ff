//! Matrix and NF4 levels: a run of puzzles with editable grids, a live check on every edit
//! (✔/✖ per cell), hints after wrong tries, and scoring.
//!
//! `input` turns keys and clicks into changes of the [`PuzzleRun`]; `draw` only reads it.

mod draw;
mod input;
#[cfg(test)]
mod layout_tests;

use bevy::prelude::*;
use bevy_egui::EguiPrimaryContextPass;
use bevy_egui::egui::Key;

use crate::content::Items;
use crate::game::audio::PlaySfx;
use crate::game::progress::LevelOutcome;
use crate::game::puzzle::PuzzleRun;
use crate::game::ui::{ScreenUi, UiSet, ZoomCap};
use crate::game::{ActiveLevel, Course, GameCommand, Screen};

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Matrix), start_level(Screen::Matrix))
        .add_systems(OnEnter(Screen::Nf4), start_level(Screen::Nf4))
        .add_systems(
            EguiPrimaryContextPass,
            puzzle_ui.run_if(in_state(Screen::Matrix).or_else(in_state(Screen::Nf4))).in_set(UiSet::Screen),
        );
}

#[derive(Component, Debug)]
pub struct PuzzleLevel {
    pub level: usize,
    pub puzzles: Vec<PuzzleRun>,
    pub index: usize,
    pub reported: bool,
}

impl PuzzleLevel {
    pub fn new(level: usize, items: &Items) -> PuzzleLevel {
        let puzzles = match items {
            Items::Matrix(ps) => ps.iter().map(PuzzleRun::from_matrix).collect(),
            Items::Nf4(ps) => ps.iter().map(PuzzleRun::from_nf4).collect(),
            _ => Vec::new(),
        };
        PuzzleLevel { level, puzzles, index: 0, reported: false }
    }

    pub fn score(&self) -> u32 {
        self.puzzles.iter().map(PuzzleRun::score).sum()
    }

    /// The level's stars: the average of the puzzles' stars, rounded down.
    pub fn stars(&self) -> u8 {
        if self.puzzles.is_empty() {
            return 0;
        }
        let sum: u32 = self.puzzles.iter().map(|p| u32::from(p.stars())).sum();
        (sum / self.puzzles.len() as u32) as u8
    }
}

fn start_level(screen: Screen) -> impl Fn(Commands, Res<ActiveLevel>, Res<Course>) {
    move |mut commands, active, course| {
        if let Some(level) = course.levels.get(active.0) {
            commands.spawn((PuzzleLevel::new(active.0, &level.items), DespawnOnExit(screen)));
        }
    }
}

fn puzzle_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    mut state: Single<&mut PuzzleLevel>,
    mut commands: MessageWriter<GameCommand>,
    mut sfx: MessageWriter<PlaySfx>,
    mut cap: ResMut<ZoomCap>,
) -> Result {
    let frame = screen.frame()?;
    let state = &mut **state;
    let Some(level) = course.levels.get(state.level) else {
        return Ok(());
    };
    if state.index >= state.puzzles.len() {
        if !state.reported {
            state.reported = true;
            let outcome = LevelOutcome::of(level, state.score(), state.stars());
            commands.write(GameCommand::FinishLevel(outcome));
        }
        return Ok(());
    }
    let progress = draw::Progress { index: state.index, count: state.puzzles.len(), total_score: state.score() };
    let puzzle = &mut state.puzzles[state.index];

    // Keys: edit while playing; once solved or revealed, Enter (or a clicker) moves on.
    let keys = &frame.keys;
    let mut advance = false;
    if puzzle.is_playing() {
        sfx.write_batch(input::apply_keys(puzzle, keys, frame.presenter).into_iter().map(PlaySfx));
    } else if keys.confirm() || (frame.presenter && keys.forward()) {
        advance = true;
    }
    if keys.pressed(Key::Backspace) && !puzzle.is_playing() {
        advance = true;
    }

    // Each puzzle starts at the player's zoom; one too large for the window shrinks it.
    let mut clicks = None;
    frame.show_fitted(&mut cap, state.index, |ui| {
        let drawn = draw::draw_puzzle(ui, level, puzzle, &progress, frame.lang, frame.presenter);
        clicks = Some(drawn.clicks);
        drawn.overflow
    });
    let Some(clicks) = clicks else { return Ok(()) };

    if puzzle.is_playing() {
        sfx.write_batch(clicks.apply(puzzle).map(PlaySfx));
    } else if clicks.check {
        advance = true;
    }
    if advance {
        state.index += 1;
    }
    Ok(())
}
