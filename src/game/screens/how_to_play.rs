//! How to play: the three game types, the lessons, and every control.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, RichText};

use super::draw_while;
use crate::content::Lang;
use crate::game::i18n::Tr;
use crate::game::ui::{ScreenUi, ZoomCap, overflow_below, theme};
use crate::game::{GameCommand, Screen};

pub fn plugin(app: &mut App) {
    draw_while(app, Screen::HowToPlay, how_to_play_ui);
}

fn how_to_play_ui(mut screen: ScreenUi, mut commands: MessageWriter<GameCommand>, mut cap: ResMut<ZoomCap>) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    if frame.keys.confirm() {
        commands.write(GameCommand::Goto(Screen::Map));
    } else if frame.keys.pressed(Key::Backspace) {
        commands.write(GameCommand::Goto(Screen::Title));
    }
    // On a projector's zoom the cards and controls are drawn smaller rather than cut off.
    let mut go_on = false;
    frame.show_fitted(&mut cap, 0, |ui| {
        let overflow;
        (go_on, overflow) = draw_how_to_play(ui, lang);
        overflow
    });
    if go_on {
        commands.write(GameCommand::Goto(Screen::Map));
    }
    Ok(())
}

/// The three games, the lessons and the controls; returns whether CONTINUE was clicked and how
/// much taller than the window it all is (≤ 1 when it fits).
fn draw_how_to_play(ui: &mut egui::Ui, lang: Lang) -> (bool, f32) {
    let mut go_on = false;
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        theme::title(ui, Tr::HowToPlay.tr(lang));
        ui.label(theme::big(Tr::HowIntro.tr(lang), 26.0, theme::INK));
    });
    ui.add_space(10.0);
    ui.columns(3, |cols| {
        let games = [
            (Tr::GameQuiz, Tr::GameQuizHelp, theme::ACCENT),
            (Tr::GameMatrix, Tr::GameMatrixHelp, theme::GOOD),
            (Tr::GameNf4, Tr::GameNf4Help, theme::HEART),
        ];
        for (col, (name, help, color)) in cols.iter_mut().zip(games) {
            theme::boxed(color).show(col, |ui| {
                // Columns lay out justified, which stretches wrapped lines letter by
                // letter; plain left-aligned text reads better.
                ui.with_layout(Layout::top_down(Align::Min), |ui| {
                    // Every card as wide as its column, whatever the length of its text.
                    ui.set_width(ui.available_width());
                    ui.set_min_height(150.0);
                    ui.label(theme::big(name.tr(lang), 24.0, color));
                    ui.add_space(4.0);
                    ui.label(RichText::new(help.tr(lang)).size(19.0));
                });
            });
        }
    });
    ui.add_space(6.0);
    ui.label(RichText::new(format!("{}: {}", Tr::GameLessons.tr(lang), Tr::GameLessonsHelp.tr(lang))).size(19.0));
    ui.add_space(6.0);
    theme::boxed(theme::DIM).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(theme::big(Tr::Controls.tr(lang), 22.0, theme::ACCENT));
        for line in [Tr::ControlsMenus, Tr::ControlsQuiz, Tr::ControlsGrid, Tr::ControlsNf4, Tr::ControlsGlobal] {
            ui.label(RichText::new(line.tr(lang)).size(18.0));
        }
    });
    ui.add_space(10.0);
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        go_on = theme::menu_item(ui, Tr::Continue.tr(lang), true, true).clicked();
    });
    (go_on, overflow_below(ui, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_to_play_fits_and_reads_in_spanish() {
        let failures =
            crate::game::ui::layout_check::check_every_size("how to play", |ui, lang, _| draw_how_to_play(ui, lang).1);
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
