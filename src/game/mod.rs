//! The arcade: bevy states, one plugin per screen, egui for every screen.
//!
//! - [`flow`]: the game's rules as states and commands ([`GameCorePlugin`]); runs headless, so
//!   tests drive the whole flow with [`GameCommand`]s.
//! - [`progress`], [`save`], [`quiz`], [`puzzle`]: plain-Rust rules and state, no bevy.
//! - [`app`]: the windowed App ([`run`]): window, egui, sound, [`ui`] and [`screens`].
//! - [`ui`]: what every screen shares (theme, keys, the screen system parameter, menus, grids).
//! - [`screens`]: one plugin per screen.
//! - [`dev_tools`]: screenshots, the start-up benchmark and the showcase puzzles they show.

pub mod app;
pub mod audio;
pub mod boss;
pub mod dev_tools;
pub mod explorable;
pub mod flow;
pub mod high_scores;
pub mod i18n;
pub mod progress;
pub mod puzzle;
pub mod quiz;
pub mod quiz_gen;
pub mod save;
pub mod screens;
pub mod ui;

pub use app::{LaunchOptions, run};
pub use flow::{
    ActiveLevel, Course, GameCommand, GameCorePlugin, GameData, LastOutcome, NewlyUnlocked, Pause, PendingEntry,
    PendingHighScore, ReviewDeck, Screen, SettingChange, apply_commands,
};
pub use ui::theme;
