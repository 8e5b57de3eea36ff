//! After the fight: the same course questions answered by the base model and by the adapted one
//! (same decoding), a question of the player's own, the deck's benchmark table filled with this
//! machine's runs, where the adapter was saved — then game over.

use bevy::prelude::*;
use bevy_egui::egui::{self, Key, RichText};

use super::text::Say;
use super::{BossPhase, BossStage, BossViews};
use crate::content::Lang;
use crate::game::ui::keys::TypingText;
use crate::game::ui::{ScreenUi, fixed, theme};
use crate::game::{GameCommand, Screen};

pub(super) fn ui(
    mut screen: ScreenUi,
    mut cap: ResMut<crate::game::ui::ZoomCap>,
    mut stage: ResMut<BossStage>,
    mut typing: ResMut<TypingText>,
    mut next: ResMut<NextState<BossPhase>>,
    mut commands: MessageWriter<GameCommand>,
    views: Res<BossViews>,
) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    let keys = &frame.keys;
    typing.0 = true;
    if keys.pressed(Key::Backspace) {
        stage.typed.pop();
    }
    stage.typed.extend(keys.text.chars().filter(|c| !c.is_control()));
    if keys.pressed(Key::Enter) && !stage.typed.trim().is_empty() && !stage.busy() {
        let question = std::mem::take(&mut stage.typed).trim().to_string();
        stage.ask(lang, vec![question]);
    }
    if keys.pressed(Key::F2) {
        typing.0 = false;
        next.set(BossPhase::Setup);
    }
    if keys.pressed(Key::F10) {
        typing.0 = false;
        commands.write(GameCommand::Goto(Screen::GameOver));
    }
    let benchmarks = screen.data().save.boss.benchmarks.clone();
    // Fitted to the window like the fight (the answers scroll inside their own box).
    // Setup, fight and after are three pages of the stage, each fitted on its own.
    frame.show_fitted(&mut cap, 2, |ui| {
        summary(ui, &stage, lang);
        ui.columns(2, |cols| {
            answers(&mut cols[0], &stage, lang);
            cols[1].label(theme::big(Say::Benchmark.tr(lang), 26.0, theme::ACCENT));
            super::bench_table(&mut cols[1], &benchmarks, lang);
            cols[1].add_space(10.0);
            cols[1].label(RichText::new(Say::AdapterSaved.tr(lang)).color(theme::DIM).size(16.0));
            cols[1].label(RichText::new(stage.out_dir.display().to_string()).color(theme::GOOD).size(16.0));
            cols[1].add_space(10.0);
            if theme::menu_item(&mut cols[1], Say::Retry.tr(lang), false, true).clicked() {
                next.set(BossPhase::Setup);
            }
            if theme::menu_item(&mut cols[1], Say::ToCredits.tr(lang), false, true).clicked() {
                commands.write(GameCommand::Goto(Screen::GameOver));
            }
            trophy(&mut cols[1], &stage, &views, lang);
        });
        let overflow = crate::game::ui::overflow_below(ui, crate::game::ui::FOOTER_ROOM);
        theme::footer(ui, &format!("{} · F2 · F10", Say::AskKeys.tr(lang)));
        overflow
    });
    Ok(())
}

fn summary(ui: &mut egui::Ui, stage: &BossStage, lang: Lang) {
    let Some(fight) = &stage.fight else { return };
    let (title, color) = match fight.defeated() {
        true => (Say::Defeated, theme::ACCENT),
        false => (Say::Survived, theme::BAD),
    };
    ui.vertical_centered(|ui| {
        ui.label(theme::big(title.tr(lang), 44.0, color));
        let series = if fight.valid_loss.is_empty() { &fight.train_loss } else { &fight.valid_loss };
        if let (Some(first), Some(last)) = (series.first(), series.last()) {
            let drop = 100.0 * (first[1] - last[1]) / first[1];
            let name = if fight.valid_loss.is_empty() { Say::TrainLoss } else { Say::ValidLoss };
            ui.label(theme::big(
                &format!("{} {} → {} (−{drop:.0} %)", name.tr(lang), fixed(first[1], 3, lang), fixed(last[1], 3, lang)),
                24.0,
                theme::INK,
            ));
        }
    });
}

/// Height kept below the answers for the player's question, its box and the footer.
const QUESTION_BOX: f32 = 150.0;

/// The before/after answers, then the player's question being typed.
fn answers(ui: &mut egui::Ui, stage: &BossStage, lang: Lang) {
    ui.label(theme::big(Say::BeforeAfter.tr(lang), 26.0, theme::GOOD));
    // The course questions from the top; the player's own, once asked, scrolled into view.
    let own_asked = stage.asked.len() > super::QUESTIONS;
    let height = (ui.available_height() - QUESTION_BOX).max(120.0);
    let scroll = egui::ScrollArea::vertical().max_height(height).stick_to_bottom(own_asked);
    // Left-aligned, not justified: ragged lines read better than stretched ones.
    scroll.show(ui, |ui| {
        ui.with_layout(egui::Layout::top_down(egui::Align::LEFT), |ui| {
            for (question, answer) in &stage.asked {
                ui.label(RichText::new(format!("❯ {question}")).color(theme::ACCENT).size(18.0));
                match answer {
                    None => {
                        ui.label(RichText::new(Say::Thinking.tr(lang)).color(theme::DIM).size(16.0));
                    }
                    Some(a) => {
                        ui.label(
                            RichText::new(format!("{}: {}", Say::Base.tr(lang), a.base.trim()))
                                .color(theme::DIM)
                                .size(16.0),
                        );
                        ui.label(
                            RichText::new(format!("{}: {}", Say::Adapted.tr(lang), a.adapted.trim()))
                                .color(theme::INK)
                                .size(16.0),
                        );
                    }
                }
                ui.add_space(6.0);
            }
        })
    });
    ui.add_space(6.0);
    ui.label(RichText::new(Say::AskYourOwn.tr(lang)).color(theme::GOOD).size(18.0));
    theme::boxed(theme::GOOD).show(ui, |ui| {
        ui.set_min_width(ui.available_width());
        ui.label(RichText::new(format!("{}▏", stage.typed)).color(theme::INK).size(18.0));
    });
    if let Some(notice) = &stage.notice {
        ui.label(RichText::new(notice).color(theme::BAD).size(16.0));
    }
}

/// What the fight left in the watched layer: ΔW and its singular values — at most r of them.
fn trophy(ui: &mut egui::Ui, stage: &BossStage, views: &BossViews, lang: Lang) {
    let Some(fight) = &stage.fight else { return };
    if fight.singular_values.is_empty() {
        return;
    }
    ui.add_space(10.0);
    ui.label(RichText::new(Say::SingularValues.tr(lang)).size(14.0).color(theme::ACCENT));
    ui.horizontal(|ui| {
        views.delta.show(ui, egui::Vec2::splat(120.0));
        ui.vertical(|ui| {
            let sigmas = fight.singular_values.iter().take(24).enumerate().map(|(i, v)| (i as f64 + 1.0, *v));
            super::fight::bar_chart(ui, "σ", 90.0, theme::ACCENT, sigmas);
            ui.label(RichText::new(Say::SingularHelp.tr(lang)).size(13.0).color(theme::DIM));
        });
    });
}
