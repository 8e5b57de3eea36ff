//! LoRA Arcade: a retro arcade game that teaches LoRA and QLoRA, and a real LoRA/QLoRA trainer.
//!
//! Layers, from the bottom up (each only uses the ones above it in this list):
//! - [`math`]: nalgebra maths for LoRA and NF4 — the single source every answer is checked with.
//! - [`content`]: the course as data (RON levels), loaded and validated against [`math`].
//! - [`trainer`]: a candle LoRA/QLoRA trainer for Llama-family models; never touches bevy.
//! - `game` (feature `gui`): the bevy + egui arcade, talking to the trainer only through
//!   [`trainer::run`]'s API.

pub mod atomic_file;
pub mod content;
pub mod math;
pub mod testing;
pub mod trainer;

#[cfg(feature = "gui")]
pub mod game;
