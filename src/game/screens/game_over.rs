//! Game over: final score, GRACIAS and ¿PREGUNTAS?, as the deck ends; back to the title.

use bevy::prelude::*;
use bevy_egui::egui::{Align, Layout};

use super::draw_while;
use crate::game::i18n::Tr;
use crate::game::ui::{ScreenUi, theme, thousands};
use crate::game::{GameCommand, Screen};

pub fn plugin(app: &mut App) {
    draw_while(app, Screen::GameOver, game_over_ui);
}

fn game_over_ui(mut screen: ScreenUi, mut commands: MessageWriter<GameCommand>) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    if frame.keys.confirm() {
        commands.write(GameCommand::Goto(Screen::Title));
    }
    let progress = &screen.data().save.progress;
    frame.show(|ui| {
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
            if theme::menu_item(ui, &format!("ENTER · {}", Tr::BackToTitle.tr(lang)), true, true).clicked() {
                commands.write(GameCommand::Goto(Screen::Title));
            }
        });
    });
    Ok(())
}
