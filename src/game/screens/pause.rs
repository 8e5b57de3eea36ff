//! The pause overlay (Esc from any screen): resume, the settings, back to the title, quit.

use bevy::prelude::*;
use bevy_egui::EguiPrimaryContextPass;
use bevy_egui::egui::{self, Align, Align2, Color32, Layout, Vec2};

use super::with_menu;
use crate::content::Lang;
use crate::game::i18n::Tr;
use crate::game::ui::{MenuCursor, ScreenUi, UiSet, menu, theme};
use crate::game::{GameCommand, Pause, Screen, SettingChange};

pub fn plugin(app: &mut App) {
    with_menu::<PauseMenu, _>(app, Pause::Paused);
    // Over whatever screen is showing.
    app.add_systems(EguiPrimaryContextPass, pause_ui.run_if(in_state(Pause::Paused)).in_set(UiSet::Overlay));
}

/// The pause menu: resume, the settings, back to the title, quit.
#[derive(Component, Default)]
pub struct PauseMenu;

fn on_off(on: bool, lang: Lang) -> &'static str {
    if on { Tr::On.tr(lang) } else { Tr::Off.tr(lang) }
}

fn pause_ui(
    mut screen: ScreenUi,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<PauseMenu>>,
) -> Result {
    let frame = screen.overlay_frame()?;
    let (ctx, lang) = (&frame.ctx, frame.lang);
    let s = &screen.data().save.settings;
    let screen_rect = ctx.viewport_rect();
    // Dim whatever is behind.
    egui::Area::new("pause-dim".into()).order(egui::Order::Foreground).fixed_pos(screen_rect.min).show(ctx, |ui| {
        ui.painter().rect_filled(screen_rect, 0.0, Color32::from_black_alpha(170));
    });
    egui::Area::new("pause".into()).order(egui::Order::Tooltip).anchor(Align2::CENTER_CENTER, Vec2::ZERO).show(
        ctx,
        |ui| {
            theme::boxed(theme::ACCENT).show(ui, |ui| {
                ui.set_width(560.0);
                ui.with_layout(Layout::top_down(Align::Center), |ui| {
                    theme::title(ui, Tr::Paused.tr(lang));
                    ui.label(theme::big(Tr::Settings.tr(lang), 22.0, theme::DIM));
                    let lang_name = match lang {
                        Lang::Es => "ESPAÑOL",
                        Lang::En => "ENGLISH",
                    };
                    let items = vec![
                        (Tr::Resume.tr(lang).to_owned(), true),
                        (format!("{}: {lang_name}", Tr::Language.tr(lang)), true),
                        (format!("{}: {}", Tr::Sound.tr(lang), on_off(s.sound, lang)), true),
                        (format!("{}: {:.0}%", Tr::UiScale.tr(lang), s.ui_scale * 100.0), true),
                        (format!("{}: {}", Tr::Presenter.tr(lang), on_off(s.presenter, lang)), true),
                        (format!("{}: {}", Tr::InstructorUnlock.tr(lang), on_off(s.instructor_unlock, lang)), true),
                        (Tr::BackToTitle.tr(lang).to_owned(), true),
                        (Tr::Quit.tr(lang).to_owned(), true),
                    ];
                    let chosen = menu(ui, &frame.keys, &mut cursor, &items);
                    let command = match chosen {
                        Some(0) => Some(GameCommand::Resume),
                        Some(1) => Some(GameCommand::Settings(SettingChange::ToggleLang)),
                        Some(2) => Some(GameCommand::Settings(SettingChange::ToggleSound)),
                        Some(3) => Some(GameCommand::Settings(SettingChange::NextUiScale)),
                        Some(4) => Some(GameCommand::Settings(SettingChange::TogglePresenter)),
                        Some(5) => Some(GameCommand::Settings(SettingChange::ToggleInstructorUnlock)),
                        Some(6) => Some(GameCommand::Goto(Screen::Title)),
                        Some(7) => Some(GameCommand::Quit),
                        _ => None,
                    };
                    if let Some(c) = command {
                        commands.write(c);
                    }
                    ui.add_space(6.0);
                    ui.label(theme::big("ESC", 18.0, theme::DIM));
                });
            });
        },
    );
    Ok(())
}
