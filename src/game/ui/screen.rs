//! What every screen's UI system opens with, as one system parameter.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{Keys, ZoomCap, theme};
use crate::content::Lang;
use crate::game::{GameData, Pause};

/// The egui context, this frame's keys with the pause rule, the language and presenter mode:
/// `let frame = screen.frame()?;` and the screen draws with `frame.show(|ui| …)`.
#[derive(SystemParam)]
pub struct ScreenUi<'w, 's> {
    contexts: EguiContexts<'w, 's>,
    data: Res<'w, GameData>,
    pause: Res<'w, State<Pause>>,
}

/// One frame of a screen.
pub struct UiFrame {
    pub ctx: egui::Context,
    /// Empty while the pause menu has the keyboard.
    pub keys: Keys,
    pub lang: Lang,
    pub presenter: bool,
}

impl UiFrame {
    /// Draws the screen: a full-window panel with the background colour and margins. Returns
    /// how much larger than the window the drawing grew (≤ 1 when it fits).
    pub fn show(&self, add: impl FnOnce(&mut egui::Ui)) -> f32 {
        theme::screen(&self.ctx, add)
    }

    /// Draws the screen fitted to the window: `add` draws `content` (a slide's or puzzle's index
    /// on its screen, a page's number) and returns how much taller than its room it is
    /// ([`super::overflow_below`]); content that does not fit at the player's zoom is drawn
    /// smaller from the next frame on ([`ZoomCap`]).
    pub fn show_fitted(&self, cap: &mut ZoomCap, content: usize, add: impl FnOnce(&mut egui::Ui) -> f32) {
        cap.show(content);
        let mut overflow = 0.0;
        let grown = self.show(|ui| overflow = add(ui));
        cap.fit(&self.ctx, grown.max(overflow));
    }
}

impl ScreenUi<'_, '_> {
    /// This frame, for a screen: no keys while the game is paused.
    pub fn frame(&mut self) -> Result<UiFrame> {
        let running = *self.pause.get() == Pause::Running;
        self.frame_with_keys(running)
    }

    /// This frame, for the pause overlay: it has the keyboard.
    pub fn overlay_frame(&mut self) -> Result<UiFrame> {
        self.frame_with_keys(true)
    }

    fn frame_with_keys(&mut self, keys: bool) -> Result<UiFrame> {
        let ctx = self.contexts.ctx_mut()?.clone();
        let keys = if keys { Keys::read(&ctx) } else { Keys::default() };
        let settings = &self.data.save.settings;
        Ok(UiFrame { ctx, keys, lang: settings.lang, presenter: settings.presenter })
    }

    /// Settings, progress and the save warning.
    pub fn data(&self) -> &GameData {
        &self.data
    }
}
