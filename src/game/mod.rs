//! The bevy + egui arcade.
