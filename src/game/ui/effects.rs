//! Arcade juice: a pixel dissolve between screens, a shake on a wrong answer, a burst of pixels
//! on a right one (a bigger one when a level is won). Each lasts a fraction of a second and asks
//! egui for frames only while it runs, so a game waiting for input still draws nothing.
//!
//! Effects follow the sounds: whatever plays the "wrong" sound also shakes, whatever plays the
//! "right" one also bursts, so every screen gets the same feedback without knowing about it.
//!
//! With the player's "reduce motion" setting nothing moves: a still frame round the screen, red
//! or green, fades instead of the shake and the burst, and screens change without a dissolve.

use bevy::prelude::*;
use bevy_egui::egui::{self, Color32, Id, LayerId, Order, Pos2, Rect, Vec2, emath::TSTransform};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::{UiSet, theme};
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::{GameData, Screen};

/// Seconds each effect lasts.
const WIPE_SECONDS: f64 = 0.3;
const SHAKE_SECONDS: f64 = 0.35;
const BURST_SECONDS: f64 = 0.75;
const FLASH_SECONDS: f64 = 0.4;
/// Width of the still frame that replaces motion, in points.
const FLASH_POINTS: f32 = 8.0;
/// Largest sideways shift of a shake, in points.
const SHAKE_POINTS: f32 = 9.0;
/// Blocks of the dissolve across and down (40×40 points at 1280×720).
const WIPE_BLOCKS: (usize, usize) = (32, 18);

/// The effects running now (start times in seconds of real time).
#[derive(Resource, Default, Debug, Clone, PartialEq)]
pub struct Effects {
    wipe: Option<f64>,
    shake: Option<f64>,
    burst: Option<Burst>,
    /// The still frame that replaces motion: when it started and its colour.
    flash: Option<(f64, Color32)>,
    /// Off for screenshots and benchmarks, which want a still frame.
    pub disabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Burst {
    start: f64,
    particles: usize,
}

impl Effects {
    /// Whether any effect is still running at `now`.
    pub fn active(&self, now: f64) -> bool {
        let running = |start: Option<f64>, seconds: f64| start.is_some_and(|s| now - s < seconds);
        running(self.wipe, WIPE_SECONDS)
            || running(self.shake, SHAKE_SECONDS)
            || running(self.burst.map(|b| b.start), BURST_SECONDS)
            || running(self.flash.map(|f| f.0), FLASH_SECONDS)
    }

    /// No effects at all (screenshots want a still frame).
    pub fn none() -> Effects {
        Effects { disabled: true, ..Effects::default() }
    }

    /// Starts the effect `sfx` goes with; `calm` is the player's "reduce motion" setting.
    fn react(&mut self, sfx: Sfx, now: f64, calm: bool) {
        if calm {
            match sfx {
                Sfx::Wrong => self.flash = Some((now, theme::BAD)),
                Sfx::Correct | Sfx::Win | Sfx::BossVictory => self.flash = Some((now, theme::GOOD)),
                _ => {}
            }
            return;
        }
        match sfx {
            Sfx::Wrong => self.shake = Some(now),
            Sfx::Correct => self.burst = Some(Burst { start: now, particles: 28 }),
            Sfx::Win | Sfx::BossVictory => self.burst = Some(Burst { start: now, particles: 72 }),
            _ => {}
        }
    }
}

pub fn plugin(app: &mut App) {
    app.init_resource::<Effects>()
        .add_systems(Update, (start_wipe, follow_sounds))
        .add_systems(EguiPrimaryContextPass, draw_effects.in_set(UiSet::Overlay));
}

fn start_wipe(screen: Res<State<Screen>>, time: Res<Time<Real>>, data: Res<GameData>, mut effects: ResMut<Effects>) {
    if screen.is_changed() && !screen.is_added() && !data.save.settings.reduce_motion {
        effects.wipe = Some(time.elapsed_secs_f64());
    }
}

fn follow_sounds(
    mut sounds: MessageReader<PlaySfx>,
    time: Res<Time<Real>>,
    data: Res<GameData>,
    mut effects: ResMut<Effects>,
) {
    let now = time.elapsed_secs_f64();
    for PlaySfx(sfx) in sounds.read() {
        effects.react(*sfx, now, data.save.settings.reduce_motion);
    }
}

fn draw_effects(mut contexts: EguiContexts, time: Res<Time<Real>>, mut effects: ResMut<Effects>) -> Result {
    let ctx = contexts.ctx_mut()?;
    let now = time.elapsed_secs_f64();
    if effects.disabled || !effects.active(now) {
        effects.flash = None;
        if effects.shake.take().is_some() || effects.wipe.take().is_some() || effects.burst.take().is_some() {
            // Leave the screen where it belongs after a shake.
            ctx.set_transform_layer(LayerId::background(), TSTransform::IDENTITY);
        }
        return Ok(());
    }
    let painter = ctx.layer_painter(LayerId::new(Order::Foreground, Id::new("arcade-effects")));
    let screen = ctx.viewport_rect();
    let progress = |start: f64, seconds: f64| ((now - start) / seconds) as f32;

    let shift = match effects.shake {
        Some(start) if progress(start, SHAKE_SECONDS) < 1.0 => shake_offset(progress(start, SHAKE_SECONDS)),
        _ => 0.0,
    };
    ctx.set_transform_layer(LayerId::background(), TSTransform::from_translation(Vec2::new(shift, 0.0)));

    if let Some(start) = effects.wipe {
        for block in dissolve(screen, progress(start, WIPE_SECONDS)) {
            painter.rect_filled(block, 0.0, theme::BG);
        }
    }
    if let Some(burst) = effects.burst {
        let t = (now - burst.start) as f32;
        let origin = Pos2::new(screen.center().x, screen.top() + screen.height() * 0.4);
        for (rect, color) in burst_particles(origin, burst.particles, t, BURST_SECONDS as f32) {
            painter.rect_filled(rect, 0.0, color);
        }
    }
    if let Some((start, color)) = effects.flash {
        let fade = 1.0 - progress(start, FLASH_SECONDS).clamp(0.0, 1.0);
        let stroke = egui::Stroke::new(FLASH_POINTS, color.gamma_multiply(fade));
        painter.rect_stroke(screen.shrink(FLASH_POINTS / 2.0), 0.0, stroke, egui::StrokeKind::Middle);
    }
    ctx.request_repaint();
    Ok(())
}

/// A shake's sideways shift at `progress` (0..1): a fast wobble that dies away.
pub fn shake_offset(progress: f32) -> f32 {
    if !(0.0..1.0).contains(&progress) {
        return 0.0;
    }
    SHAKE_POINTS * (1.0 - progress) * (progress * std::f32::consts::TAU * 5.0).sin()
}

/// The blocks of the old screen still covering the new one at `progress` (0..1): every block
/// at 0, none at 1, each leaving at its own (pseudo-random, fixed) moment.
pub fn dissolve(screen: Rect, progress: f32) -> Vec<Rect> {
    let (across, down) = WIPE_BLOCKS;
    let size = Vec2::new(screen.width() / across as f32, screen.height() / down as f32);
    (0..across * down)
        .filter(|&i| progress < 0.15 + 0.85 * unit_hash(i as u32))
        .map(|i| {
            let min = screen.min + Vec2::new((i % across) as f32 * size.x, (i / across) as f32 * size.y);
            Rect::from_min_size(min, size + Vec2::splat(0.5))
        })
        .collect()
}

/// The pixels of a burst `t` seconds after it started from `origin`: squares flung out in all
/// directions, falling, fading over their last third.
pub fn burst_particles(origin: Pos2, count: usize, t: f32, seconds: f32) -> Vec<(Rect, Color32)> {
    if t >= seconds {
        return Vec::new();
    }
    let colors = [theme::ACCENT, theme::GOOD, theme::HEART, theme::INK];
    let fade = ((seconds - t) / (seconds / 3.0)).min(1.0);
    (0..count)
        .map(|i| {
            let angle = std::f32::consts::TAU * (i as f32 + unit_hash(i as u32 + 7)) / count as f32;
            let speed = 260.0 + 320.0 * unit_hash(i as u32 * 3 + 1);
            let velocity = Vec2::angled(angle) * speed;
            let at = origin + velocity * t + Vec2::new(0.0, 700.0 * t * t);
            let size = if i % 3 == 0 { 12.0 } else { 8.0 };
            let color = colors[i % colors.len()].gamma_multiply(fade);
            (Rect::from_center_size(at, Vec2::splat(size)), color)
        })
        .collect()
}

/// A fixed pseudo-random number in [0, 1) for `i` (the same every frame).
fn unit_hash(i: u32) -> f32 {
    let mut x = i.wrapping_mul(0x9E37_79B9).wrapping_add(0x7F4A_7C15);
    x ^= x >> 15;
    x = x.wrapping_mul(0x2C1B_3C6D);
    x ^= x >> 12;
    (x >> 8) as f32 / (1u32 << 24) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen() -> Rect {
        Rect::from_min_size(Pos2::ZERO, Vec2::new(1280.0, 720.0))
    }

    #[test]
    fn the_dissolve_covers_everything_then_nothing() {
        let (across, down) = WIPE_BLOCKS;
        assert_eq!(dissolve(screen(), 0.0).len(), across * down);
        let half = dissolve(screen(), 0.6).len();
        assert!(half > 0 && half < across * down, "{half}");
        assert!(dissolve(screen(), 1.0).is_empty());
        // The blocks tile the screen.
        let blocks = dissolve(screen(), 0.0);
        let covered: f32 = blocks.iter().map(|r| r.intersect(screen()).area()).sum();
        assert!(covered >= screen().area(), "{covered}");
        assert!(blocks.iter().all(|r| screen().expand(1.0).contains_rect(*r)));
    }

    #[test]
    fn a_shake_wobbles_and_comes_to_rest() {
        let shifts: Vec<f32> = (0..20).map(|i| shake_offset(i as f32 / 20.0)).collect();
        assert!(shifts.iter().any(|s| *s > 3.0) && shifts.iter().any(|s| *s < -3.0), "{shifts:?}");
        assert!(shifts.iter().all(|s| s.abs() <= SHAKE_POINTS));
        assert_eq!(shake_offset(1.0), 0.0);
        assert!(shake_offset(0.97).abs() < 1.0);
    }

    #[test]
    fn a_burst_flies_out_falls_and_ends() {
        let origin = Pos2::new(640.0, 300.0);
        let start = burst_particles(origin, 28, 0.0, 0.75);
        assert_eq!(start.len(), 28);
        assert!(start.iter().all(|(r, _)| r.center().distance(origin) < 1.0));
        let later = burst_particles(origin, 28, 0.4, 0.75);
        let away = later.iter().filter(|(r, _)| r.center().distance(origin) > 50.0).count();
        assert!(away >= 24, "the pixels have left the origin: {away} of 28");
        let directions = later.iter().filter(|(r, _)| r.center().x < origin.x).count();
        assert!((8..=20).contains(&directions), "both ways: {directions} of 28 go left");
        assert!(burst_particles(origin, 28, 0.75, 0.75).is_empty());
    }

    #[test]
    fn sounds_start_the_matching_effect() {
        let mut fx = Effects::default();
        fx.react(Sfx::Move, 1.0, false);
        assert!(!fx.active(1.0));
        fx.react(Sfx::Wrong, 1.0, false);
        assert!(fx.shake.is_some() && fx.burst.is_none());
        fx.react(Sfx::Win, 1.0, false);
        assert_eq!(fx.burst.map(|b| b.particles), Some(72));
        assert!(fx.active(1.2));
        assert!(!fx.active(1.0 + BURST_SECONDS + 0.01), "over after its last effect");
    }

    #[test]
    fn reduced_motion_marks_answers_with_a_still_frame_only() {
        let mut fx = Effects::default();
        fx.react(Sfx::Wrong, 1.0, true);
        assert_eq!((fx.shake, fx.burst, fx.wipe), (None, None, None), "nothing moves");
        assert_eq!(fx.flash, Some((1.0, theme::BAD)));
        fx.react(Sfx::Win, 2.0, true);
        assert_eq!(fx.flash, Some((2.0, theme::GOOD)));
        assert!(fx.active(2.1) && !fx.active(2.0 + FLASH_SECONDS + 0.01));
    }
}
