//! Game over: final score, GRACIAS and ¿PREGUNTAS?, as the deck ends; back to the title.

use bevy::prelude::*;
use bevy_egui::egui::{Align, Layout};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::{Keys, UiSet};
use crate::content::Lang;
use crate::game::i18n::Tr;
use crate::game::{GameCommand, GameData, Pause, Screen, theme};

pub fn plugin(app: &mut App) {
    app.add_systems(
        EguiPrimaryContextPass,
        game_over_ui.run_if(in_state(Screen::GameOver)).in_set(UiSet::Screen),
    );
}

fn game_over_ui(
    mut contexts: EguiContexts,
    data: Res<GameData>,
    pause: Res<State<Pause>>,
    mut commands: MessageWriter<GameCommand>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let input = Keys::unless_paused(&ctx, pause.get());
    let lang = data.lang();
    if input.confirm() {
        commands.write(GameCommand::Goto(Screen::Title));
    }
    let progress = &data.save.progress;
    theme::screen(&ctx, |ui| {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(40.0);
            ui.label(theme::big(Tr::GameOver.tr(lang), 110.0, theme::BAD));
            ui.add_space(10.0);
            ui.label(theme::big(
                &format!(
                    "{} {}   {} ★",
                    Tr::FinalScore.tr(lang),
                    progress.total_score(),
                    progress.total_stars()
                ),
                32.0,
                theme::ACCENT,
            ));
            ui.add_space(36.0);
            ui.label(theme::big(Tr::Thanks.tr(lang), 84.0, theme::GOOD));
            if lang == Lang::En {
                ui.label(theme::big("¡GRACIAS!", 28.0, theme::DIM));
            }
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
