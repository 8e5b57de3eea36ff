//! Title: the game's name, START, settings, quit, and the save warning if there is one.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Color32, Layout, Pos2, Rect, RichText, Stroke, Vec2};

use super::{draw_while, with_menu};
use crate::content::Lang;
use crate::game::i18n::Tr;
use crate::game::ui::{MenuCursor, ScreenUi, menu, theme};
use crate::game::{GameCommand, Screen};

pub fn plugin(app: &mut App) {
    with_menu::<TitleMenu, _>(app, Screen::Title);
    draw_while(app, Screen::Title, title_ui);
}

/// The title's menu: START, settings, quit.
#[derive(Component, Default)]
pub struct TitleMenu;

fn title_ui(
    mut screen: ScreenUi,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<TitleMenu>>,
) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    let warning = screen.data().warning.as_deref();
    frame.show(|ui| {
        ui.with_layout(Layout::top_down(Align::Center), |ui| {
            ui.add_space(24.0);
            ui.label(theme::big("LORA", 96.0, theme::ACCENT));
            // The deck's title is "LoRA y QLoRA"; the conjunction follows the language.
            let and = match lang {
                Lang::Es => "Y",
                Lang::En => "AND",
            };
            ui.label(theme::big(and, 40.0, theme::INK));
            ui.label(theme::big("QLORA", 96.0, theme::GOOD));
            ui.add_space(8.0);
            factorization_picture(ui);
            ui.add_space(16.0);
            let items = vec![
                (Tr::Start.tr(lang).to_owned(), true),
                (Tr::Settings.tr(lang).to_owned(), true),
                (Tr::Quit.tr(lang).to_owned(), true),
            ];
            ui.allocate_ui(Vec2::new(420.0, 200.0), |ui| {
                ui.with_layout(Layout::top_down(Align::Center), |ui| {
                    let command = match menu(ui, &frame.keys, &mut cursor, &items) {
                        Some(0) => Some(GameCommand::Start),
                        Some(1) => Some(GameCommand::Pause),
                        Some(2) => Some(GameCommand::Quit),
                        _ => None,
                    };
                    if let Some(command) = command {
                        commands.write(command);
                    }
                });
            });
            ui.add_space(8.0);
            ui.label(RichText::new(Tr::PressStart.tr(lang)).size(20.0).color(theme::DIM));
            if let Some(warning) = warning {
                ui.add_space(8.0);
                theme::boxed(theme::BAD).show(ui, |ui| {
                    ui.label(RichText::new(format!("⚠ {}", Tr::SaveWarning.tr(lang))).color(theme::BAD));
                    ui.label(RichText::new(warning).size(16.0));
                });
            }
        });
        theme::footer(ui, Tr::ControlsGlobal.tr(lang));
    });
    Ok(())
}

/// ΔW = B × A drawn as blocks: a tall thin B, a wide flat A, a square product.
fn factorization_picture(ui: &mut egui::Ui) {
    let cell = 12.0;
    let (rect, _) = ui.allocate_exact_size(Vec2::new(360.0, 6.0 * cell), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let origin = rect.min;
    let block = |col: f32, row: f32, color: Color32| {
        let min = Pos2::new(origin.x + col * cell, origin.y + row * cell);
        painter.rect_filled(Rect::from_min_size(min, Vec2::splat(cell - 2.0)), 0.0, color);
    };
    // ΔW: 6×6
    for r in 0..6 {
        for c in 0..6 {
            let shade = if (r + c) % 2 == 0 { theme::ACCENT } else { Color32::from_rgb(200, 160, 40) };
            block(c as f32, r as f32, shade);
        }
    }
    let sign = |col: f32, text: &str| {
        painter.text(
            Pos2::new(origin.x + col * cell, origin.y + 3.0 * cell),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(36.0),
            theme::INK,
        );
    };
    sign(7.5, "=");
    // B: 6×1
    for r in 0..6 {
        block(9.0, r as f32, theme::GOOD);
    }
    sign(11.5, "×");
    // A: 1×6
    for c in 0..6 {
        block(13.0 + c as f32, 2.5, theme::HEART);
    }
    painter.rect_stroke(rect.shrink(1.0), 0.0, Stroke::NONE, egui::StrokeKind::Inside);
}
