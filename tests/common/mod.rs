//! What the arcade's headless tests share: the game without a window, and sending it commands.

use std::path::Path;

use bevy::prelude::*;
use bevy::state::app::StatesPlugin;

use lora_arcade::game::save::SaveStore;
use lora_arcade::game::{Course, GameCommand, GameCorePlugin};

/// The game's rules over `course` (MinimalPlugins + StatesPlugin), saving into `dir`. Not yet
/// updated, so a test can add more plugins first.
pub fn headless(course: Course, dir: &Path) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin));
    app.add_plugins(GameCorePlugin { course, store: Some(SaveStore::in_dir(dir)) });
    app
}

pub fn send(app: &mut App, command: GameCommand) {
    app.world_mut().write_message(command);
    // One update applies the command, the next runs the state transition.
    app.update();
    app.update();
}
