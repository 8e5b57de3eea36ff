//! One plugin per screen. A screen spawns its state when its `Screen` is
//! entered, tagged `DespawnOnExit` so nothing of it outlives the screen (coming back starts
//! afresh), and draws with egui in [`UiSet::Screen`](crate::game::ui::UiSet) through the
//! [`ScreenUi`](crate::game::ui::ScreenUi) parameter; the pause menu draws over it in
//! `UiSet::Overlay`.
//!
//! Every system here runs without a window too, except the egui ones (headless tests see the
//! screens' state come and go).

pub mod boss;
pub mod explore;
pub mod game_over;
pub mod how_to_play;
pub mod lesson;
pub mod map;
pub mod pause;
pub mod puzzle_level;
pub mod quiz;
pub mod results;
pub mod title;

use bevy::ecs::system::ScheduleSystem;
use bevy::prelude::*;
use bevy_egui::EguiPrimaryContextPass;

use super::Screen;
use super::ui::{MenuCursor, UiSet};

pub struct ScreensPlugin;

impl Plugin for ScreensPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            title::plugin,
            how_to_play::plugin,
            map::plugin,
            lesson::plugin,
            quiz::plugin,
            puzzle_level::plugin,
            results::plugin,
            boss::plugin,
            game_over::plugin,
            pause::plugin,
        ));
    }
}

/// Draws a screen with the egui system `ui` while `screen` is shown.
fn draw_while<M>(app: &mut App, screen: Screen, ui: impl IntoScheduleConfigs<ScheduleSystem, M>) {
    app.add_systems(EguiPrimaryContextPass, ui.run_if(in_state(screen)).in_set(UiSet::Screen));
}

/// Gives the menu marked `M` a fresh [`MenuCursor`] each time `state` is entered; it is
/// despawned when the state is left.
fn with_menu<M: Component + Default, S: States>(app: &mut App, state: S) {
    app.add_systems(OnEnter(state.clone()), move |mut commands: Commands| {
        commands.spawn((M::default(), MenuCursor::default(), DespawnOnExit(state.clone())));
    });
}
