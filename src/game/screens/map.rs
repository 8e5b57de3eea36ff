//! The level map: every level with its stars, locks and what opens them, and the boss door.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, RichText, Sense, Vec2};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::{Keys, UiSet};
use crate::content::{Lang, LevelKind};
use crate::game::i18n::Tr;
use crate::game::{Course, GameCommand, GameData, Pause, Screen, theme};

pub fn plugin(app: &mut App) {
    app.add_systems(
        EguiPrimaryContextPass,
        map_ui.run_if(in_state(Screen::Map)).in_set(UiSet::Screen),
    );
}

const COLUMNS: usize = 3;

pub fn kind_name(kind: LevelKind, lang: Lang) -> String {
    kind.title().get(lang).to_uppercase()
}

pub fn kind_color(kind: LevelKind) -> egui::Color32 {
    match kind {
        LevelKind::Lessons => theme::INK,
        LevelKind::Quiz => theme::ACCENT,
        LevelKind::Matrix => theme::GOOD,
        LevelKind::Nf4 => theme::HEART,
    }
}

fn map_ui(
    mut contexts: EguiContexts,
    data: Res<GameData>,
    course: Res<Course>,
    pause: Res<State<Pause>>,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Local<usize>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let input = Keys::unless_paused(&ctx, pause.get());
    let lang = data.lang();
    let settings = &data.save.settings;
    let progress = &data.save.progress;
    let map = course.map();
    // The boss door is the last slot.
    let slots = map.len() + 1;
    let mut step = 0i32;
    if input.any(&[Key::ArrowRight, Key::D]) {
        step = 1;
    } else if input.any(&[Key::ArrowLeft, Key::A]) {
        step = -1;
    } else if input.any(&[Key::ArrowDown, Key::S]) {
        step = COLUMNS as i32;
    } else if input.any(&[Key::ArrowUp, Key::W]) {
        step = -(COLUMNS as i32);
    }
    *cursor = ((*cursor as i32 + step).clamp(0, slots as i32 - 1)) as usize;
    let mut activate = input.confirm().then_some(*cursor);
    if input.pressed(Key::Backspace) {
        commands.write(GameCommand::Goto(Screen::Title));
    }

    theme::screen(&ctx, |ui| {
        ui.horizontal(|ui| {
            theme::title(ui, Tr::LevelMap.tr(lang));
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.label(theme::big(
                    &format!("{} ★", progress.total_stars()),
                    28.0,
                    theme::ACCENT,
                ));
                ui.add_space(16.0);
                ui.label(theme::big(
                    &format!("{} {}", Tr::TotalScore.tr(lang), progress.total_score()),
                    28.0,
                    theme::INK,
                ));
            });
        });
        ui.add_space(6.0);
        let card = Vec2::new((ui.available_width() - 24.0) / COLUMNS as f32, 104.0);
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() - 36.0)
            .show(ui, |ui| {
                egui::Grid::new("levels").spacing(Vec2::new(12.0, 10.0)).show(ui, |ui| {
                    for slot in 0..slots {
                        let selected = slot == *cursor;
                        let response = if slot < map.len() {
                            let level = &course.levels[slot];
                            let unlocked = progress.is_unlocked(&map, slot, settings);
                            let color = if unlocked { kind_color(level.kind()) } else { theme::DIM };
                            level_card(ui, card, selected, color, |ui| {
                                ui.horizontal(|ui| {
                                    ui.label(RichText::new(kind_name(level.kind(), lang)).size(16.0).color(color));
                                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                                        if unlocked {
                                            ui.label(
                                                RichText::new(theme::stars(progress.stars(&level.id)))
                                                    .size(20.0)
                                                    .color(theme::ACCENT),
                                            );
                                        } else {
                                            ui.label(
                                                RichText::new(format!("■ {}", Tr::Locked.tr(lang)))
                                                    .size(16.0)
                                                    .color(theme::DIM),
                                            );
                                        }
                                    });
                                });
                                ui.label(RichText::new(level.title.get(lang)).size(22.0).color(if unlocked {
                                    theme::INK
                                } else {
                                    theme::DIM
                                }));
                                if !unlocked && let Some(req) = progress.unlock_requirement(&map, slot) {
                                    let title = course
                                        .levels
                                        .iter()
                                        .find(|l| l.id == req.id)
                                        .map_or("?", |l| l.title.get(lang));
                                    ui.label(
                                        RichText::new(format!("{} {title}", Tr::LockedNeeds.tr(lang)))
                                            .size(15.0)
                                            .color(theme::DIM),
                                    );
                                } else {
                                    ui.label(RichText::new(level.summary.get(lang)).size(15.0).color(theme::DIM));
                                }
                            })
                        } else {
                            let open = progress.boss_unlocked(&map, settings);
                            let color = if open { theme::ACCENT } else { theme::BAD };
                            level_card(ui, card, selected, color, |ui| {
                                let icon = if open { "▶" } else { "■" };
                                ui.label(
                                    RichText::new(format!("{icon} {}", Tr::BossDoor.tr(lang)))
                                        .size(22.0)
                                        .color(color),
                                );
                                if open {
                                    ui.label(RichText::new(Tr::BossOpen.tr(lang)).size(16.0));
                                } else {
                                    ui.label(RichText::new(Tr::BossLocked.tr(lang)).size(15.0).color(theme::DIM));
                                    let missing: Vec<String> = progress
                                        .boss_missing(&map)
                                        .into_iter()
                                        .map(|k| kind_name(k, lang))
                                        .collect();
                                    ui.label(
                                        RichText::new(format!("✖ {}", missing.join(" · ")))
                                            .size(15.0)
                                            .color(theme::BAD),
                                    );
                                }
                            })
                        };
                        if selected && step != 0 {
                            response.scroll_to_me(Some(Align::Center));
                        }
                        if response.clicked() {
                            *cursor = slot;
                            activate = Some(slot);
                        }
                        if (slot + 1) % COLUMNS == 0 {
                            ui.end_row();
                        }
                    }
                });
            });
        theme::footer(
            ui,
            &format!("{}   ·   {}", Tr::ControlsMenus.tr(lang), Tr::ControlsGlobal.tr(lang)),
        );
    });

    if let Some(slot) = activate {
        commands.write(if slot < map.len() {
            GameCommand::OpenLevel(slot)
        } else {
            GameCommand::OpenBoss
        });
    }
    Ok(())
}

fn level_card(
    ui: &mut egui::Ui,
    size: Vec2,
    selected: bool,
    color: egui::Color32,
    add: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    let stroke = if selected {
        egui::Stroke::new(theme::BORDER, theme::ACCENT)
    } else {
        egui::Stroke::new(2.0, color)
    };
    let inner = egui::Frame::new()
        .fill(if selected { theme::PANEL } else { theme::PANEL_DARK })
        .stroke(stroke)
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_min_size(size - Vec2::splat(20.0));
            ui.set_max_width(size.x - 20.0);
            ui.vertical(add);
        });
    ui.interact(inner.response.rect, inner.response.id.with("card"), Sense::click())
}
