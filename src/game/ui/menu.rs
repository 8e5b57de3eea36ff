//! Keyboard-driven vertical menus, and the cursor each screen's menu keeps while it is shown.

use bevy::prelude::*;
use bevy_egui::egui;

use super::{Keys, theme};

/// The highlighted entry of a screen's menu (or the selected card on the map). It lives on the
/// screen's entity and is despawned with it, so coming back to a screen starts at the top.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MenuCursor(pub usize);

/// A vertical menu moved by ▲▼ (W S), chosen by Enter/Space or a click: returns the index
/// activated this frame, if any.
pub fn menu(ui: &mut egui::Ui, input: &Keys, cursor: &mut MenuCursor, items: &[(String, bool)]) -> Option<usize> {
    if items.is_empty() {
        return None;
    }
    let cursor = &mut cursor.0;
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
