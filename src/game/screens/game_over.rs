//! Game over: final score, GRACIAS and ¿PREGUNTAS?, as the deck ends; back to the title.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Layout};

use super::draw_while;
use crate::content::Lang;
use crate::game::i18n::Tr;
use crate::game::progress::Progress;
use crate::game::ui::{ScreenUi, ZoomCap, overflow_below, theme, thousands};
use crate::game::{GameCommand, Screen};

pub fn plugin(app: &mut App) {
    draw_while(app, Screen::GameOver, game_over_ui);
}

fn game_over_ui(mut screen: ScreenUi, mut commands: MessageWriter<GameCommand>, mut cap: ResMut<ZoomCap>) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    if frame.keys.confirm() {
        commands.write(GameCommand::Goto(Screen::Title));
    }
    let progress = &screen.data().save.progress;
    let mut back = false;
    frame.show_fitted(&mut cap, 0, |ui| {
        let overflow;
        (back, overflow) = draw_game_over(ui, progress, lang);
        overflow
    });
    if back {
        commands.write(GameCommand::Goto(Screen::Title));
    }
    Ok(())
}

/// GAME OVER, the final score, GRACIAS, ¿PREGUNTAS? and the way back; returns whether it was
/// clicked and how much taller than the window it all is (≤ 1 when it fits).
fn draw_game_over(ui: &mut egui::Ui, progress: &Progress, lang: Lang) -> (bool, f32) {
    let mut back = false;
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space(40.0);
        ui.label(theme::big(Tr::GameOver.tr(lang), 110.0, theme::BAD));
        ui.add_space(10.0);
        ui.label(theme::big(
            &format!(
                "{} {}   {} ★",
                Tr::FinalScore.tr(lang),
                thousands(progress.total_score(), lang),
                progress.total_stars()
            ),
            32.0,
            theme::ACCENT,
        ));
        ui.add_space(36.0);
        ui.label(theme::big(Tr::Thanks.tr(lang), 84.0, theme::GOOD));
        ui.add_space(24.0);
        ui.label(theme::big(Tr::Questions.tr(lang), 64.0, theme::HEART));
        ui.add_space(40.0);
        back = theme::menu_item(ui, &format!("ENTER · {}", Tr::BackToTitle.tr(lang)), true, true).clicked();
    });
    (back, overflow_below(ui, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn game_over_fits_and_reads_in_spanish() {
        let progress = Progress::default();
        let failures = crate::game::ui::layout_check::check_every_size("game over", |ui, lang, _| {
            draw_game_over(ui, &progress, lang).1
        });
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
