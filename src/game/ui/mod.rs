//! What every screen shares: the theme and fonts, the keyboard read from egui, the
//! [`ScreenUi`] system parameter, menus and matrix grids.

pub mod effects;
pub mod grid;
pub mod heatmap;
pub mod keys;
#[cfg(test)]
pub mod layout_check;
pub mod menu;
pub mod screen;
pub mod sprites;
pub mod theme;

use bevy::prelude::*;
use bevy_egui::egui::{self, Event};
use bevy_egui::{EguiContexts, EguiInput, EguiPreUpdateSet, EguiPrimaryContextPass};

pub use keys::Keys;
pub use menu::{MenuCursor, menu};
pub use screen::{ScreenUi, UiFrame};

use crate::content::Lang;
use crate::game::{GameData, Screen};

/// Decimals in each language's notation (0,5 / 0.5): every number a screen shows goes through
/// [`crate::content::answer::in_notation`], through these or directly.
pub use crate::content::answer::{decimal, fixed, in_notation, thousands};

/// Gigabytes with about three significant digits, so 0.135, 0.0677 and 0.0710 GB stay apart.
pub fn gigabytes(gb: f64, lang: Lang) -> String {
    let decimals = match gb {
        g if g >= 100.0 => 0,
        g if g >= 10.0 => 1,
        g if g >= 1.0 => 2,
        g if g >= 0.1 => 3,
        _ => 4,
    };
    format!("{} GB", fixed(gb, decimals, lang))
}

/// Order of the UI systems inside egui's pass: prepare, then the screen, then overlays on top.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum UiSet {
    Prepare,
    Screen,
    Overlay,
}

/// A ceiling on the zoom for what is on screen now: a slide or a puzzle that would not fit at
/// the player's zoom is shown smaller instead of cut off (cleared when it changes).
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq)]
pub struct ZoomCap {
    zoom: Option<f32>,
    /// The slide or puzzle (its index on its screen) the zoom was fitted to.
    content: Option<usize>,
    /// The zoom of the last frame measured: egui sizes some widgets on the first pass at a new
    /// zoom, so only a second frame at the same zoom is measured.
    measured_at: Option<f32>,
}

/// How far over its room content may seem from rounding alone (a ratio): 0.05 %.
const OVERFLOW_NOISE: f32 = 5e-4;

/// The smallest zoom content is shrunk to.
pub const MIN_FIT_ZOOM: f32 = 0.6;

impl ZoomCap {
    /// The ceiling, if the content on screen needed one.
    pub fn zoom(&self) -> Option<f32> {
        self.zoom
    }

    /// Shows `content` (a slide's or puzzle's index on its screen): another one than last frame's
    /// starts again at the player's zoom.
    pub fn show(&mut self, content: usize) {
        if self.content != Some(content) {
            *self = ZoomCap { zoom: None, content: Some(content), measured_at: None };
        }
    }

    /// After drawing content `overflow` times larger than its room (the larger of its height and
    /// width ratios), lowers the cap so the next frame fits, and asks for that frame.
    pub fn fit(&mut self, ctx: &egui::Context, overflow: f32) {
        let now = ctx.zoom_factor();
        if self.measured_at.replace(now) != Some(now) {
            // The first frame at this zoom: look again on the next one.
            ctx.request_repaint();
            return;
        }
        // A hair over is egui's float rounding of a full-width row, not content cut off:
        // shrinking for it would shrink again every frame.
        if overflow < 1.0 + OVERFLOW_NOISE {
            return;
        }
        if let Some(zoom) = fit_zoom(now, overflow) {
            // Never raise it: the context's zoom lags the cap by a frame, so a frame drawn at
            // the old zoom must not undo a smaller cap already set (the map's zoom hunted).
            self.zoom = Some(self.zoom.map_or(zoom, |cap| cap.min(zoom)));
            ctx.request_repaint();
        }
    }
}

/// Every screen starts at the player's zoom: the cap is forgotten whenever the screen changes
/// (within a screen, [`ZoomCap::show`] starts again for each new slide, puzzle or page).
fn forget_zoom_cap_on_new_screen(screen: Res<State<Screen>>, mut cap: ResMut<ZoomCap>) {
    if screen.is_changed() {
        *cap = ZoomCap::default();
    }
}

/// Room a one-line footer takes at the bottom of a screen, counted when measuring overflow.
pub const FOOTER_ROOM: f32 = 30.0;

/// A smaller zoom for content `overflow` times larger than its room (never below
/// [`MIN_FIT_ZOOM`]); `None` when it fits or cannot shrink further.
pub fn fit_zoom(zoom: f32, overflow: f32) -> Option<f32> {
    let fitted = (zoom / overflow * 0.98).max(MIN_FIT_ZOOM);
    (overflow > 1.0 && fitted < zoom - 1e-3).then_some(fitted)
}

/// How far down a full-window `ui` has been filled — to its layout cursor, plus `below` points
/// still to come — as a ratio of its height (≤ 1 when it fits). Content drawn at the bottom
/// (a footer) overlaps instead of growing the panel, so it is counted here; widths are counted
/// by [`theme::screen`].
pub fn overflow_below(ui: &egui::Ui, below: f32) -> f32 {
    let room = ui.max_rect();
    (ui.cursor().top() + below - room.top()) / room.height().max(1.0)
}

/// The theme, the zoom and the global hotkeys, before any screen draws.
pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(EguiPrimaryContextPass, (UiSet::Prepare, UiSet::Screen, UiSet::Overlay).chain())
            .init_resource::<keys::TypingText>()
            .init_resource::<ZoomCap>()
            .add_systems(Update, forget_zoom_cap_on_new_screen)
            .add_plugins(effects::plugin)
            .add_systems(EguiPrimaryContextPass, (prepare_ui, keys::global_keys).chain().in_set(UiSet::Prepare))
            .add_systems(
                PreUpdate,
                drop_unchanged_modifiers.after(EguiPreUpdateSet::ProcessInput).before(EguiPreUpdateSet::BeginPass),
            );
    }
}

/// Installs the theme once, keeps the zoom in step with the settings, and keeps egui's own
/// keyboard focus off widgets: every key is handled by the screens, so Space/Enter never
/// "click" a focused button a second time.
fn prepare_ui(
    mut contexts: EguiContexts,
    data: Res<GameData>,
    cap: Res<ZoomCap>,
    mut installed: Local<bool>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !*installed {
        theme::install(ctx);
        *installed = true;
    }
    let zoom = data.save.settings.zoom().min(cap.zoom().unwrap_or(f32::INFINITY));
    if (ctx.zoom_factor() - zoom).abs() > 1e-3 {
        ctx.set_zoom_factor(zoom);
    }
    if let Some(id) = ctx.memory(|m| m.focused()) {
        ctx.memory_mut(|m| m.surrender_focus(id));
    }
    Ok(())
}

/// bevy_egui 0.42 pushes `ModifiersChanged` into egui's input every frame, and egui repaints
/// immediately whenever its input has an event: the app would redraw forever and never idle.
/// Keep only real modifier changes, so a game waiting for input draws nothing.
fn drop_unchanged_modifiers(mut inputs: Query<&mut EguiInput>, mut last: Local<Option<egui::Modifiers>>) {
    for mut input in &mut inputs {
        input.events.retain(|event| match event {
            Event::ModifiersChanged(modifiers) => {
                let changed = *last != Some(*modifiers);
                *last = Some(*modifiers);
                changed
            }
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zoom_cap_only_comes_down() {
        let ctx = egui::Context::default();
        let mut cap = ZoomCap::default();
        ctx.set_zoom_factor(1.3);
        cap.fit(&ctx, 1.5);
        assert_eq!(cap.zoom(), None, "the first frame at a new zoom is not measured");
        cap.fit(&ctx, 1.2);
        let first = cap.zoom().unwrap();
        assert!(first < 1.3 / 1.2, "{first}");
        // A late frame still drawn at the old zoom overflows less: the cap stays down.
        cap.fit(&ctx, 1.05);
        assert_eq!(cap.zoom(), Some(first));
        cap.fit(&ctx, 1.0 + OVERFLOW_NOISE / 2.0);
        assert_eq!(cap.zoom(), Some(first), "a hair over is rounding, not an overflow");
    }

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(decimal(0.5, 3, Lang::Es), "0,5");
        assert_eq!(decimal(0.5, 3, Lang::En), "0.5");
        assert_eq!(decimal(2.0, 3, Lang::Es), "2", "no trailing zeros");
        assert_eq!(gigabytes(33.534, Lang::Es), "33,5 GB");
        assert_eq!(gigabytes(0.0677, Lang::En), "0.0677 GB");
        assert_eq!(thousands(134_515_008, Lang::Es), "134\u{a0}515\u{a0}008");
        assert_eq!(thousands(4096, Lang::Es), "4096", "four digits stay together in Spanish");
        assert_eq!(thousands(4096, Lang::En), "4,096");
        assert_eq!(thousands(134_515_008, Lang::En), "134,515,008");
        let both = crate::game::puzzle::evaluation::in_both_notations("ŵ = (0.5, -1, 2.25)".into());
        assert_eq!(both.es, "ŵ = (0,5; -1; 2,25)");
        assert_eq!(both.en, "ŵ = (0.5, -1, 2.25)");
        assert_eq!(crate::game::puzzle::evaluation::in_both_notations("(1, 2)".into()).es, "(1, 2)");
    }
}
