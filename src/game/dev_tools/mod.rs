//! Tools around the game rather than the game: `--screen` (open one screen directly),
//! `--screenshot` (render it to a PNG and exit), `--bench-startup` (time to the first title
//! frame, then idle CPU use), `--bench-fight` (the default boss fight's time and redraw rate),
//! `--autoplay-course` (the whole course played by keyboard) and the showcase state the
//! screenshots show.

mod autoplay;
mod bench;
mod fight_bench;
mod screenshot;
mod showcase;

pub use autoplay::{CourseAutoplayPlugin, Press, solve};
pub use bench::StartupBenchPlugin;
pub use fight_bench::FightBenchPlugin;
pub use screenshot::ScreenshotPlugin;
pub use showcase::ShowcasePlugin;

use anyhow::Context;
use bevy::prelude::*;

use crate::game::progress::LevelOutcome;
use crate::game::{ActiveLevel, Course, LastOutcome, Screen};

/// Opens the game on `screen`: a level screen with the course's first level of its kind, the
/// results with a sample outcome of the first quiz.
pub fn start_on(app: &mut App, course: &Course, screen: Screen) -> anyhow::Result<()> {
    if let Some(kind) = screen.level_kind() {
        let index = course.first_of(kind).with_context(|| format!("the course has no {kind:?} level for --screen"))?;
        app.insert_resource(ActiveLevel(index));
    }
    if screen == Screen::Results {
        // A scored level (lessons score nothing): the first quiz, part-way to 3 stars, with two
        // missed questions whose slides the results offer to review.
        let index = course.first_of(crate::content::LevelKind::Quiz).unwrap_or(0);
        let review = vec!["lora-idea".to_owned(), "forward".to_owned()];
        let outcome = LevelOutcome { review, ..LevelOutcome::of(&course.levels[index], 1850, 2) };
        app.insert_resource(LastOutcome(Some(outcome)));
    }
    app.insert_state(screen);
    Ok(())
}
