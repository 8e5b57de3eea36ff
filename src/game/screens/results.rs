//! Results of the level just played: score, stars, passed or not; back to the map or retry.

use bevy::prelude::*;
use bevy_egui::egui::{Align, Layout, Vec2};

use super::map::{kind_name, unlocked_line};
use super::{draw_while, with_menu};
use crate::content::LevelKind;
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::i18n::Tr;
use crate::game::ui::effects::Effects;
use crate::game::ui::{MenuCursor, ScreenUi, menu, theme, thousands};
use crate::game::{Course, GameCommand, LastOutcome, NewlyUnlocked, Screen};

pub fn plugin(app: &mut App) {
    with_menu::<ResultsMenu, _>(app, Screen::Results);
    app.add_systems(OnEnter(Screen::Results), |mut commands: Commands| {
        commands.spawn((CountUp::default(), DespawnOnExit(Screen::Results)));
    });
    draw_while(app, Screen::Results, results_ui);
}

/// Seconds the score takes to count up, then the pause between two stars.
const COUNT_SECONDS: f64 = 1.0;
const STAR_SECONDS: f64 = 0.35;

/// The score counting up and the stars landing one by one, as an arcade's results do; any
/// confirm key shows the end at once (and only the next one picks from the menu).
#[derive(Component, Default, Debug)]
pub struct CountUp {
    /// When the screen was first drawn (seconds of real time).
    started: Option<f64>,
    /// Stars already landed (each lands with a sound).
    stars_landed: u8,
    skipped: bool,
}

impl CountUp {
    /// The score and stars shown `t` seconds in, for a final `score` and `stars`.
    pub fn shown(t: f64, score: u32, stars: u8) -> (u32, u8) {
        let counted = (t / COUNT_SECONDS).clamp(0.0, 1.0);
        // Ease out: fast at first, settling on the score.
        let eased = 1.0 - (1.0 - counted).powi(3);
        let landed = ((t - COUNT_SECONDS) / STAR_SECONDS).floor() + 1.0;
        ((f64::from(score) * eased).round() as u32, landed.clamp(0.0, f64::from(stars)) as u8)
    }

    /// Seconds until everything has landed.
    pub fn seconds(stars: u8) -> f64 {
        COUNT_SECONDS + STAR_SECONDS * f64::from(stars.saturating_sub(1)) + 0.05
    }
}

/// The results' menu: back to the map, retry.
#[derive(Component, Default)]
pub struct ResultsMenu;

fn results_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    last: Res<LastOutcome>,
    unlocked: Res<NewlyUnlocked>,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<ResultsMenu>>,
    mut count_up: Single<&mut CountUp>,
    time: Res<Time<Real>>,
    effects: Res<Effects>,
    mut sfx: MessageWriter<PlaySfx>,
) -> Result {
    let mut frame = screen.frame()?;
    let lang = frame.lang;
    let Some(outcome) = &last.0 else {
        commands.write(GameCommand::Goto(Screen::Map));
        return Ok(());
    };
    let now = time.elapsed_secs_f64();
    let started = *count_up.started.get_or_insert(now);
    let scored = outcome.kind != LevelKind::Lessons;
    // Screenshots (effects off) show the end.
    let counting = scored && !effects.disabled && !count_up.skipped && now - started < CountUp::seconds(outcome.stars);
    if counting && frame.keys.confirm() {
        // The first key shows the end; the menu waits for the next.
        count_up.skipped = true;
        frame.keys = Default::default();
    }
    let (score_shown, stars_shown) = if count_up.skipped || !counting {
        (outcome.score, outcome.stars)
    } else {
        CountUp::shown(now - started, outcome.score, outcome.stars)
    };
    if scored && stars_shown > count_up.stars_landed {
        count_up.stars_landed = stars_shown;
        // The last star lands with the chime (and the burst) of a right answer.
        sfx.write(PlaySfx(if stars_shown == outcome.stars { Sfx::Correct } else { Sfx::Select }));
    }
    if counting {
        frame.ctx.request_repaint();
    }
    let index = course.levels.iter().position(|l| l.id == outcome.level_id);
    frame.show(|ui| {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(30.0);
            theme::title(ui, Tr::Results.tr(lang));
            if let Some(level) = index.map(|i| &course.levels[i]) {
                ui.label(theme::big(
                    &format!("{} · {}", kind_name(level.kind(), lang), level.title.get(lang)),
                    26.0,
                    theme::INK,
                ));
            }
            ui.add_space(20.0);
            let (headline, color) = if outcome.passed() { (Tr::Passed, theme::GOOD) } else { (Tr::Failed, theme::BAD) };
            ui.label(theme::big(headline.tr(lang), 48.0, color));
            ui.add_space(10.0);
            // Lessons score nothing: stars and points belong to the quizzes and puzzles.
            let (scored, how) = match outcome.kind {
                LevelKind::Lessons => (false, Tr::LessonsScoreNothing),
                LevelKind::Quiz => (true, Tr::QuizScoring),
                LevelKind::Matrix | LevelKind::Nf4 => (true, Tr::PuzzleScoring),
            };
            if scored {
                ui.label(theme::big(&theme::stars(stars_shown), 80.0, theme::ACCENT));
                ui.label(theme::big(
                    &format!("{} {}", Tr::Score.tr(lang), thousands(score_shown.into(), lang)),
                    36.0,
                    theme::INK,
                ));
            }
            ui.label(theme::big(how.tr(lang), 18.0, theme::DIM));
            if let Some(line) = unlocked_line(&course, &unlocked, lang) {
                ui.label(theme::big(&line, 24.0, theme::GOOD));
            }
            ui.label(theme::big(
                &format!("{} {}", Tr::TotalScore.tr(lang), screen.data().save.progress.total_score()),
                22.0,
                theme::DIM,
            ));
            ui.add_space(24.0);
            let items =
                vec![(Tr::BackToMap.tr(lang).to_owned(), true), (Tr::Retry.tr(lang).to_owned(), index.is_some())];
            ui.allocate_ui(Vec2::new(440.0, 140.0), |ui| match menu(ui, &frame.keys, &mut cursor, &items) {
                Some(0) => {
                    commands.write(GameCommand::Goto(Screen::Map));
                }
                Some(1) => {
                    if let Some(i) = index {
                        commands.write(GameCommand::OpenLevel(i));
                    }
                }
                _ => {}
            });
        });
        theme::footer(ui, Tr::ControlsMenus.tr(lang));
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_counts_up_then_the_stars_land_one_by_one() {
        assert_eq!(CountUp::shown(0.0, 1850, 2), (0, 0));
        let (half, stars) = CountUp::shown(0.5, 1850, 2);
        assert!(half > 925 && half < 1850, "eased: past half way at half time ({half})");
        assert_eq!(stars, 0);
        assert_eq!(CountUp::shown(COUNT_SECONDS, 1850, 2), (1850, 1));
        assert_eq!(CountUp::shown(COUNT_SECONDS + STAR_SECONDS, 1850, 2), (1850, 2));
        assert_eq!(CountUp::shown(60.0, 1850, 2), (1850, 2), "never past the stars earned");
        assert!(CountUp::seconds(2) > COUNT_SECONDS + STAR_SECONDS);
        // Monotonic: the score never counts down.
        let scores: Vec<u32> = (0..40).map(|i| CountUp::shown(f64::from(i) * 0.05, 777, 3).0).collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
    }
}
