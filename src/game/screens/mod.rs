//! One plugin per screen, plus what every screen shares: fonts and zoom, keyboard input read
//! from egui, global hotkeys (Esc pause, F5 presenter, M mute) and the pause/settings overlay.

pub mod game_over;
pub mod grid;
pub mod how_to_play;
pub mod lesson;
pub mod map;
pub mod pause;
pub mod puzzle_level;
pub mod quiz;
pub mod results;
pub mod title;

use bevy::prelude::*;
use bevy_egui::egui::{self, Event, Key};
use bevy_egui::{EguiContexts, EguiInput, EguiPreUpdateSet, EguiPrimaryContextPass};

use super::{GameCommand, GameData, Pause, SettingChange, theme};

/// Order of the UI systems inside egui's pass.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum UiSet {
    Prepare,
    Screen,
    Overlay,
}

pub struct ScreensPlugin;

impl Plugin for ScreensPlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(
            EguiPrimaryContextPass,
            (UiSet::Prepare, UiSet::Screen, UiSet::Overlay).chain(),
        )
        .add_systems(Startup, spawn_camera)
        .add_systems(
            EguiPrimaryContextPass,
            (prepare_ui, global_keys).chain().in_set(UiSet::Prepare),
        )
        .add_systems(
            PreUpdate,
            drop_unchanged_modifiers
                .after(EguiPreUpdateSet::ProcessInput)
                .before(EguiPreUpdateSet::BeginPass),
        )
        .add_plugins((
            title::plugin,
            how_to_play::plugin,
            map::plugin,
            lesson::plugin,
            quiz::plugin,
            puzzle_level::plugin,
            results::plugin,
            game_over::plugin,
            pause::plugin,
        ));
    }
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
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

/// Esc pauses / resumes, F5 toggles presenter mode, M mutes.
fn global_keys(
    mut contexts: EguiContexts,
    pause: Res<State<Pause>>,
    mut commands: MessageWriter<GameCommand>,
) -> Result {
    let input = Keys::read(contexts.ctx_mut()?);
    if input.pressed(Key::Escape) {
        commands.write(match pause.get() {
            Pause::Running => GameCommand::Pause,
            Pause::Paused => GameCommand::Resume,
        });
    }
    if input.pressed(Key::F5) {
        commands.write(GameCommand::Settings(SettingChange::TogglePresenter));
    }
    if input.pressed(Key::M) {
        commands.write(GameCommand::Settings(SettingChange::ToggleSound));
    }
    Ok(())
}

/// The keys pressed and text typed during this frame.
#[derive(Default, Debug)]
pub struct Keys {
    pub keys: Vec<Key>,
    pub text: String,
}

impl Keys {
    /// This frame's keys for a screen, or none while the pause menu has the keyboard.
    pub fn unless_paused(ctx: &egui::Context, pause: &Pause) -> Keys {
        if *pause == Pause::Running {
            Keys::read(ctx)
        } else {
            Keys::default()
        }
    }

    pub fn read(ctx: &egui::Context) -> Keys {
        ctx.input(|i| {
            let mut keys = Keys::default();
            for event in &i.events {
                match event {
                    Event::Key {
                        key,
                        pressed: true,
                        modifiers,
                        ..
                    } if !modifiers.ctrl && !modifiers.alt => keys.keys.push(*key),
                    Event::Text(t) => keys.text.push_str(t),
                    _ => {}
                }
            }
            keys
        })
    }

    pub fn pressed(&self, key: Key) -> bool {
        self.keys.contains(&key)
    }

    pub fn any(&self, keys: &[Key]) -> bool {
        keys.iter().any(|k| self.pressed(*k))
    }

    /// Enter or Space.
    pub fn confirm(&self) -> bool {
        self.any(&[Key::Enter, Key::Space])
    }

    /// Up/W = -1, Down/S = +1.
    pub fn vertical(&self) -> i32 {
        let up = self.any(&[Key::ArrowUp, Key::W]) as i32;
        let down = self.any(&[Key::ArrowDown, Key::S]) as i32;
        down - up
    }

    /// 1..=4 → Some(0..=3).
    pub fn number_choice(&self) -> Option<usize> {
        [Key::Num1, Key::Num2, Key::Num3, Key::Num4]
            .iter()
            .position(|k| self.pressed(*k))
    }

    /// Forward in a deck: Right, Space, PageDown (clickers), D.
    pub fn forward(&self) -> bool {
        self.any(&[Key::ArrowRight, Key::Space, Key::PageDown, Key::D, Key::Enter])
    }

    /// Back in a deck: Left, PageUp (clickers), A, Backspace.
    pub fn backward(&self) -> bool {
        self.any(&[Key::ArrowLeft, Key::PageUp, Key::A, Key::Backspace])
    }
}

/// A keyboard-driven vertical menu: returns the index activated this frame, if any.
pub fn menu(ui: &mut egui::Ui, input: &Keys, cursor: &mut usize, items: &[(String, bool)]) -> Option<usize> {
    if items.is_empty() {
        return None;
    }
    let n = items.len() as i32;
    let step = input.vertical();
    if step != 0 {
        *cursor = ((*cursor as i32 + step).rem_euclid(n)) as usize;
    }
    *cursor = (*cursor).min(items.len() - 1);
    let mut activated = None;
    for (i, (label, enabled)) in items.iter().enumerate() {
        let response = theme::menu_item(ui, label, i == *cursor, *enabled);
        if response.hovered() && ui.input(|inp| inp.pointer.delta() != egui::Vec2::ZERO) {
            *cursor = i;
        }
        if response.clicked() {
            *cursor = i;
            activated = Some(i);
        }
    }
    if input.confirm() {
        activated = Some(*cursor);
    }
    activated
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
