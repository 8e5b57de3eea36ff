//! The pause overlay (Esc from any screen): resume, the settings, back to the map (from a
//! level), back to the title, quit.

use bevy::prelude::*;
use bevy_egui::EguiPrimaryContextPass;
use bevy_egui::egui::{self, Align, Align2, Color32, Layout, Vec2, emath::TSTransform};

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
    current: Res<State<Screen>>,
) -> Result {
    let frame = screen.overlay_frame()?;
    let (ctx, lang) = (&frame.ctx, frame.lang);
    let s = &screen.data().save.settings;
    let screen_rect = ctx.viewport_rect();
    // Dim whatever is behind.
    egui::Area::new("pause-dim".into()).order(egui::Order::Foreground).fixed_pos(screen_rect.min).show(ctx, |ui| {
        ui.painter().rect_filled(screen_rect, 0.0, Color32::from_black_alpha(170));
    });
    // Not pushed inside the window: when it is taller, it is drawn smaller below (unclipped).
    let pause_area = egui::Area::new("pause".into())
        .order(egui::Order::Tooltip)
        .anchor(Align2::CENTER_CENTER, Vec2::ZERO)
        .constrain(false);
    let layer = pause_area.layer();
    let shown = pause_area.show(ctx, |ui| {
        ui.set_clip_rect(egui::Rect::EVERYTHING);
        theme::boxed(theme::ACCENT).show(ui, |ui| {
            ui.set_width(560.0);
            ui.with_layout(Layout::top_down(Align::Center), |ui| {
                theme::title(ui, Tr::Paused.tr(lang));
                ui.label(theme::big(Tr::Settings.tr(lang), 22.0, theme::DIM));
                let lang_name = match lang {
                    Lang::Es => "ESPAÑOL",
                    Lang::En => "ENGLISH",
                };
                let setting = |change| GameCommand::Settings(change);
                let mut entries = vec![
                    (Tr::Resume.tr(lang).to_owned(), GameCommand::Resume),
                    (format!("{}: {lang_name}", Tr::Language.tr(lang)), setting(SettingChange::ToggleLang)),
                    (format!("{}: {}", Tr::Sound.tr(lang), on_off(s.sound, lang)), setting(SettingChange::ToggleSound)),
                    (
                        format!("{}: {:.0}%", Tr::UiScale.tr(lang), s.ui_scale * 100.0),
                        setting(SettingChange::NextUiScale),
                    ),
                    (
                        format!("{}: {}", Tr::Presenter.tr(lang), on_off(s.presenter, lang)),
                        setting(SettingChange::TogglePresenter),
                    ),
                    (
                        format!("{}: {}", Tr::InstructorUnlock.tr(lang), on_off(s.instructor_unlock, lang)),
                        setting(SettingChange::ToggleInstructorUnlock),
                    ),
                    (
                        format!("{}: {}", Tr::ReduceMotion.tr(lang), on_off(s.reduce_motion, lang)),
                        setting(SettingChange::ToggleReduceMotion),
                    ),
                ];
                // Inside a level (or the boss stage), the way back to the map.
                if !matches!(current.get(), Screen::Title | Screen::HowToPlay | Screen::Map) {
                    entries.push((Tr::BackToMap.tr(lang).to_owned(), GameCommand::Goto(Screen::Map)));
                }
                entries.push((Tr::BackToTitle.tr(lang).to_owned(), GameCommand::Goto(Screen::Title)));
                entries.push((Tr::Quit.tr(lang).to_owned(), GameCommand::Quit));
                let items: Vec<(String, bool)> = entries.iter().map(|(label, _)| (label.clone(), true)).collect();
                if let Some(i) = menu(ui, &frame.keys, &mut cursor, &items) {
                    commands.write(entries.swap_remove(i).1);
                }
                ui.add_space(6.0);
                ui.label(theme::big("ESC", 18.0, theme::DIM));
            });
        });
    });
    // A long menu on a short window (presenter zoom on a 720p projector): draw the box smaller,
    // centred, rather than cut off its title and its last entries. Input follows the transform.
    let room = screen_rect.height() - 16.0;
    let natural = shown.response.rect;
    let scale = if natural.height() > room { room / natural.height() } else { 1.0 };
    let translation = screen_rect.center().to_vec2() - natural.center().to_vec2() * scale;
    ctx.set_transform_layer(layer, TSTransform::new(translation, scale));
    Ok(())
}
