//! Results of the level just played: score, stars, passed or not; back to the map or retry.

use bevy::prelude::*;
use bevy_egui::egui::{Align, Layout, Vec2};

use super::map::{kind_name, unlocked_line};
use super::{draw_while, with_menu};
use crate::content::LevelKind;
use crate::game::i18n::Tr;
use crate::game::ui::{MenuCursor, ScreenUi, menu, theme, thousands};
use crate::game::{Course, GameCommand, LastOutcome, NewlyUnlocked, Screen};

pub fn plugin(app: &mut App) {
    with_menu::<ResultsMenu, _>(app, Screen::Results);
    draw_while(app, Screen::Results, results_ui);
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
) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    let Some(outcome) = &last.0 else {
        commands.write(GameCommand::Goto(Screen::Map));
        return Ok(());
    };
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
                ui.label(theme::big(&theme::stars(outcome.stars), 80.0, theme::ACCENT));
                ui.label(theme::big(
                    &format!("{} {}", Tr::Score.tr(lang), thousands(outcome.score.into(), lang)),
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
