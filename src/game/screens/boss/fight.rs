//! During the fight: the boss (its health is the validation loss), a gradient shot each training
//! step, the curves (training and validation loss, learning rate, tokens/s), and the real A, B
//! and ΔW = (α/r)·B·A of one layer with ΔW's singular values — the rank puzzle, live — and NF4
//! applied to a real block of that layer's weights — the 4-bit puzzle, live.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align2, Color32, Key, RichText, Vec2, pos2};
use egui_plot::{Bar, BarChart, HLine, Legend, Line, Plot};

use super::text::Say;
use super::{BossPhase, BossStage, BossViews};
use crate::content::Lang;
use crate::game::boss::{Fight, Phase};
use crate::game::ui::sprites::{BossArt, boss_frame};
use crate::game::ui::{ScreenUi, fixed, theme};

/// Seconds a gradient shot flies from the ship to the boss.
pub const SHOT_FLIGHT: f64 = 0.6;

pub(super) fn ui(
    mut screen: ScreenUi,
    mut stage: ResMut<BossStage>,
    mut views: ResMut<BossViews>,
    time: Res<Time>,
    mut next: ResMut<NextState<BossPhase>>,
    mut typing: ResMut<crate::game::ui::keys::TypingText>,
    mut cap: ResMut<crate::game::ui::ZoomCap>,
) -> Result {
    let frame = screen.frame()?;
    let lang = frame.lang;
    typing.0 = false;
    let now = time.elapsed_secs_f64();
    if views.art.is_none() {
        views.art = Some(BossArt::load(&frame.ctx));
    }
    let failed = matches!(stage.fight.as_ref().map(|f| &f.phase), Some(Phase::Failed(_)));
    if frame.keys.pressed(Key::C) && !failed {
        stage.cancel();
    }
    if failed && frame.keys.pressed(Key::Enter) {
        next.set(BossPhase::Setup);
    }
    let Some(fight) = stage.fight.clone() else {
        next.set(BossPhase::Setup);
        return Ok(());
    };
    if let (Some(s), Some((delta, shape))) = (&fight.snapshot, &fight.delta_w) {
        views.a.update(&frame.ctx, "lora-a", &s.a, s.a_shape);
        views.b.update(&frame.ctx, "lora-b", &s.b, s.b_shape);
        views.delta.update(&frame.ctx, "lora-delta", delta, *shape);
    }
    // A projector's zoom would cut the instruments off at the bottom: the fight is drawn smaller.
    // Setup, fight and after are three pages of the stage, each fitted on its own.
    frame.show_fitted(&mut cap, 1, |ui| {
        header(ui, &fight, lang);
        match &fight.phase {
            Phase::Loading => loading(ui, &fight, lang),
            Phase::Failed(message) => failure(ui, message, lang),
            _ => {
                ui.columns(2, |cols| {
                    arena(&mut cols[0], &stage, &fight, views.art.as_ref().and_then(|a| a.as_ref().ok()), lang, now);
                    instruments(&mut cols[1], &fight, &views, lang);
                });
            }
        }
        let overflow = crate::game::ui::overflow_below(ui, crate::game::ui::FOOTER_ROOM);
        let footer = if stage.cancelling { Say::Cancelling } else { Say::Cancel };
        theme::footer(ui, footer.tr(lang));
        overflow
    });
    Ok(())
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn header(ui: &mut egui::Ui, fight: &Fight, lang: Lang) {
    let (done, total) = fight.progress();
    let mut parts = vec![format!("{} {done}/{total}", Say::Step.tr(lang))];
    if let Some(eta) = fight.eta_seconds() {
        parts.push(format!("{} {}", Say::TimeLeft.tr(lang), clock(eta)));
    }
    if let Some(s) = &fight.last_step {
        parts.push(format!("{:.0} {}", s.tokens_per_s, Say::TokensPerS.tr(lang)));
        parts.push(format!("{} {} GB", Say::Memory.tr(lang), fixed(s.memory_bytes as f64 / 1e9, 2, lang)));
    }
    parts.push(clock(fight.elapsed()));
    let stats = parts.join("  ·  ");
    // The title and the stats share a line when both fit; on a narrow (or zoomed-in) window the
    // stats go under the title instead of running over it.
    let width = |text: &str, size: f32| {
        ui.painter().layout_no_wrap(text.to_owned(), egui::FontId::proportional(size), theme::INK).size().x
    };
    let fits = width(Say::Title.tr(lang), 26.0) + width(&stats, 22.0) + 40.0 < ui.available_width();
    ui.horizontal(|ui| {
        ui.label(theme::big(Say::Title.tr(lang), 26.0, theme::ACCENT));
        if fits {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(theme::big(&stats, 22.0, theme::INK));
            });
        }
    });
    if !fits {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
            ui.label(theme::big(&stats, 22.0, theme::INK));
        });
    }
}

fn loading(ui: &mut egui::Ui, fight: &Fight, lang: Lang) {
    ui.add_space(120.0);
    ui.vertical_centered(|ui| {
        ui.label(theme::big(Say::Loading.tr(lang), 36.0, theme::GOOD));
        if let Some((file, bytes, total)) = &fight.download {
            ui.label(theme::big(&format!("{} {file}", Say::Downloading.tr(lang)), 22.0, theme::DIM));
            let fraction = total.map_or(0.0, |t| *bytes as f32 / t.max(1) as f32);
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(500.0)
                    .text(format!("{} MB", fixed(*bytes as f64 / 1e6, 1, lang))),
            );
        }
        ui.label(RichText::new(&fight.setup.model).color(theme::DIM).size(16.0));
    });
}

fn failure(ui: &mut egui::Ui, message: &str, lang: Lang) {
    ui.add_space(100.0);
    ui.vertical_centered(|ui| {
        ui.label(theme::big(Say::Failed.tr(lang), 44.0, theme::BAD));
        ui.add_space(16.0);
        ui.label(RichText::new(message).color(theme::INK).size(20.0));
        ui.add_space(16.0);
        ui.label(RichText::new(Say::FailedHint.tr(lang)).color(theme::DIM).size(20.0));
    });
}

/// The boss with its health bar, the ship and the shots in flight.
fn arena(ui: &mut egui::Ui, stage: &BossStage, fight: &Fight, art: Option<&BossArt>, lang: Lang, now: f64) {
    let health = fight.health();
    // Health bar: the validation loss, and the target that defeats the boss.
    let last = fight.valid_loss.last().or(fight.train_loss.last()).map(|p| p[1]);
    let label = match (last, fight.target_loss()) {
        (Some(l), Some(t)) => format!("{}  {} → {}", Say::Health.tr(lang), fixed(l, 3, lang), fixed(t, 3, lang)),
        _ => Say::Health.tr(lang).to_string(),
    };
    ui.label(RichText::new(label).color(theme::DIM).size(16.0));
    let bar = egui::ProgressBar::new(health).fill(if health > 0.33 { theme::HEART } else { theme::BAD });
    ui.add(bar.desired_height(18.0));
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), 430.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, theme::PANEL_DARK);
    let Some(art) = art else { return };
    let t = now as f32;
    let since = |at: Option<f64>| at.map(|a| (now - a) as f32).filter(|s| *s >= 0.0);
    let boss_size = Vec2::splat(288.0);
    let boss_rect = egui::Rect::from_center_size(pos2(rect.center().x, rect.top() + 170.0), boss_size);
    let frame = boss_frame(health, since(stage.defeated_at), since(stage.hit_at), t);
    art.boss.image(frame, boss_size).paint_at(ui, boss_rect);
    let ship_size = Vec2::splat(64.0);
    let ship_center = pos2(rect.center().x, rect.bottom() - 50.0);
    let ship_frame = if (t * 11.0) as i32 % 2 == 0 { "player_0" } else { "player_1" };
    art.player.image(ship_frame, ship_size).paint_at(ui, egui::Rect::from_center_size(ship_center, ship_size));
    let target = pos2(boss_rect.center().x, boss_rect.center().y);
    for &fired in &stage.shots {
        let p = ((now - fired) / SHOT_FLIGHT).clamp(0.0, 1.0) as f32;
        let at = ship_center + (target - ship_center) * p;
        art.shot.image("shot", Vec2::splat(24.0)).paint_at(ui, egui::Rect::from_center_size(at, Vec2::splat(24.0)));
    }
    let banner = match &fight.phase {
        _ if fight.defeated() => Some((Say::Defeated, theme::ACCENT)),
        Phase::Finished { .. } => Some((Say::Survived, theme::BAD)),
        _ => None,
    };
    if let Some((say, color)) = banner {
        painter.text(
            rect.center_top() + Vec2::new(0.0, 30.0),
            Align2::CENTER_CENTER,
            say.tr(lang),
            egui::FontId::proportional(40.0),
            color,
        );
    }
}

/// Curves, matrices, singular values and the NF4 block.
fn instruments(ui: &mut egui::Ui, fight: &Fight, views: &BossViews, lang: Lang) {
    let legend = || {
        Legend::default()
            .position(egui_plot::Corner::RightTop)
            .text_style(egui::TextStyle::Name(theme::PLOT_TEXT.into()))
    };
    Plot::new("boss-loss").height(170.0).legend(legend()).allow_drag(false).allow_zoom(false).allow_scroll(false).show(
        ui,
        |p| {
            p.line(Line::new(Say::TrainLoss.tr(lang), fight.train_loss.clone()).color(theme::GOOD));
            p.line(Line::new(Say::ValidLoss.tr(lang), fight.valid_loss.clone()).color(theme::HEART).width(3.0));
            if let Some(t) = fight.target_loss() {
                p.hline(HLine::new(Say::Target.tr(lang), t).color(theme::ACCENT));
            }
        },
    );
    ui.horizontal(|ui| {
        let small = |id: &str, name: &str, series: &[[f64; 2]], color: Color32, ui: &mut egui::Ui| {
            Plot::new(id)
                .height(70.0)
                .width(ui.available_width() / 2.0 - 4.0)
                .show_axes([false, true])
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .legend(legend())
                .show(ui, |p| {
                    p.line(Line::new(name, series.to_vec()).color(color));
                });
        };
        small("boss-lr", Say::LearningRateCurve.tr(lang), &fight.learning_rate, theme::ACCENT, ui);
        small("boss-tps", Say::TokensPerS.tr(lang), &fight.tokens_per_s, theme::DIM, ui);
    });
    let Some(s) = &fight.snapshot else { return };
    ui.label(
        RichText::new(format!(
            "{} {} · q_proj · A {}×{} · B {}×{} · ΔW = (α/r)·B·A {}×{}",
            Say::Layer.tr(lang),
            s.layer,
            s.a_shape.0,
            s.a_shape.1,
            s.b_shape.0,
            s.b_shape.1,
            s.b_shape.0,
            s.a_shape.1
        ))
        .size(15.0)
        .color(theme::INK),
    );
    ui.horizontal(|ui| {
        // B (tall, r wide), ΔW (square), and A (wide, r tall) below ΔW.
        let h = 150.0;
        ui.vertical(|ui| {
            ui.label(RichText::new("B").color(theme::BAD));
            views.b.show(ui, Vec2::new(24.0, h));
        });
        ui.vertical(|ui| {
            ui.label(RichText::new("ΔW").color(theme::ACCENT));
            views.delta.show(ui, Vec2::splat(h));
            ui.label(RichText::new("A").color(theme::GOOD));
            views.a.show(ui, Vec2::new(h, 24.0));
        });
        ui.vertical(|ui| {
            ui.label(RichText::new(Say::SingularValues.tr(lang)).size(14.0).color(theme::ACCENT));
            let sigmas = fight.singular_values.iter().take(24).enumerate().map(|(i, v)| (i as f64 + 1.0, *v));
            bar_chart(ui, "σ", 100.0, theme::ACCENT, sigmas);
            ui.label(RichText::new(Say::SingularHelp.tr(lang)).size(13.0).color(theme::DIM));
            if let Some(nf4) = &fight.nf4 {
                ui.label(
                    RichText::new(format!(
                        "{} · {} {}",
                        Say::Nf4Block.tr(lang),
                        Say::MaxError.tr(lang),
                        fixed(f64::from(nf4.max_error), 4, lang)
                    ))
                    .size(14.0)
                    .color(theme::GOOD),
                );
                let counts = nf4.histogram.iter().enumerate().map(|(i, n)| (i as f64, *n as f64));
                bar_chart(ui, "NF4", 70.0, theme::GOOD, counts);
            }
        });
    });
}

/// A fixed bar chart (no drag or zoom: the keys belong to the game) of `(x, height)` bars.
pub(super) fn bar_chart(
    ui: &mut egui::Ui,
    name: &str,
    height: f32,
    color: Color32,
    bars: impl Iterator<Item = (f64, f64)>,
) {
    let bars: Vec<Bar> = bars.map(|(x, h)| Bar::new(x, h).fill(color)).collect();
    Plot::new(("boss-bars", name))
        .height(height)
        .show_axes([true, false])
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, |p| p.bar_chart(BarChart::new(name, bars)));
}
