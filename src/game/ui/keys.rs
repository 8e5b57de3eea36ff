//! The keyboard as the screens read it: this frame's keys and text from egui, and the global
//! hotkeys (Esc pause, F5 presenter, M mute).

use bevy::prelude::*;
use bevy_egui::EguiContexts;
use bevy_egui::egui::{self, Event, Key};

use crate::game::{GameCommand, Pause, SettingChange};

/// A key press or typed text, as they came.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Key(Key),
    Text(String),
}

/// The keys pressed and text typed during this frame.
#[derive(Default, Debug)]
pub struct Keys {
    pub keys: Vec<Key>,
    pub text: String,
    /// Both, in the order they came: fast typing ("-", →, "3") can put several in one frame,
    /// and a cell editor must see the arrow between the characters.
    pub typed: Vec<Typed>,
}

impl Keys {
    pub fn read(ctx: &egui::Context) -> Keys {
        ctx.input(|i| {
            let mut keys = Keys::default();
            for event in &i.events {
                match event {
                    Event::Key { key, pressed: true, modifiers, .. } if !modifiers.ctrl && !modifiers.alt => {
                        keys.keys.push(*key);
                        keys.typed.push(Typed::Key(*key));
                    }
                    Event::Text(t) => {
                        keys.text.push_str(t);
                        keys.typed.push(Typed::Text(t.clone()));
                    }
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
        [Key::Num1, Key::Num2, Key::Num3, Key::Num4].iter().position(|k| self.pressed(*k))
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

/// Set while a screen takes free text (a path, a question): letter hotkeys such as M are then
/// letters.
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypingText(pub bool);

/// Esc pauses / resumes, F5 toggles presenter mode, M mutes (not while text is typed).
pub(super) fn global_keys(
    mut contexts: EguiContexts,
    pause: Res<State<Pause>>,
    typing: Res<TypingText>,
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
    if input.pressed(Key::M) && !typing.0 {
        commands.write(GameCommand::Settings(SettingChange::ToggleSound));
    }
    Ok(())
}
