//! What every screen shares: the theme and fonts, the keyboard read from egui, the
//! [`ScreenUi`] system parameter, menus and matrix grids.

pub mod grid;
pub mod heatmap;
pub mod keys;
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
use crate::game::GameData;

/// `n` with its thousands grouped as the language writes them: 134.515.008 / 134,515,008.
pub fn thousands(n: u64, lang: Lang) -> String {
    let digits = n.to_string();
    let separator = match lang {
        Lang::Es => '.',
        Lang::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// Order of the UI systems inside egui's pass: prepare, then the screen, then overlays on top.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum UiSet {
    Prepare,
    Screen,
    Overlay,
}

/// The theme, the zoom and the global hotkeys, before any screen draws.
pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(EguiPrimaryContextPass, (UiSet::Prepare, UiSet::Screen, UiSet::Overlay).chain())
            .init_resource::<keys::TypingText>()
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
fn prepare_ui(mut contexts: EguiContexts, data: Res<GameData>, mut installed: Local<bool>) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !*installed {
        theme::install(ctx);
        *installed = true;
    }
    let zoom = data.save.settings.zoom();
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
