//! What every screen's UI system opens with, as one system parameter.

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{Keys, theme};
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
