//! A real matrix drawn as a texture, one texel an entry: blue below zero, orange above, dark at
//! zero, brightness by magnitude against the largest |value|. A 576 × 576 ΔW is one texture,
//! not a widget per cell; it is uploaded again only when the matrix changes.

use bevy_egui::egui::{self, Color32, ColorImage, TextureHandle, TextureOptions, Vec2};

use super::theme;

/// A matrix view that keeps its texture between frames.
#[derive(Default)]
pub struct Heatmap {
    texture: Option<TextureHandle>,
    /// The data the texture shows (to skip unchanged uploads), and its largest |value|.
    shown: Option<(usize, usize, u64)>,
    pub max_abs: f32,
}

/// The colour of `v` on the scale `max_abs`.
pub fn diverging(v: f32, max_abs: f32) -> Color32 {
    let t = if max_abs > 0.0 { (v / max_abs).clamp(-1.0, 1.0) } else { 0.0 };
    let (hi, base) = if t >= 0.0 { (theme::BAD, theme::BG) } else { (theme::GOOD, theme::BG) };
    let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * t.abs().sqrt()) as u8;
    Color32::from_rgb(mix(base.r(), hi.r()), mix(base.g(), hi.g()), mix(base.b(), hi.b()))
}

impl Heatmap {
    /// Shows `values` (`rows × cols`, row-major), uploading a new texture when they changed.
    pub fn update(&mut self, ctx: &egui::Context, name: &str, values: &[f32], (rows, cols): (usize, usize)) {
        let fingerprint = values.iter().fold(0u64, |h, v| h.rotate_left(5) ^ u64::from(v.to_bits()));
        if self.shown == Some((rows, cols, fingerprint)) || values.len() != rows * cols || values.is_empty() {
            return;
        }
        self.max_abs = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let pixels: Vec<Color32> = values.iter().map(|&v| diverging(v, self.max_abs)).collect();
        let image = ColorImage { size: [cols, rows], source_size: Vec2::new(cols as f32, rows as f32), pixels };
        match &mut self.texture {
            Some(t) => t.set(image, TextureOptions::NEAREST),
            None => self.texture = Some(ctx.load_texture(name, image, TextureOptions::NEAREST)),
        }
        self.shown = Some((rows, cols, fingerprint));
    }

    /// Draws the texture stretched to `size` (nothing until the first update).
    pub fn show(&self, ui: &mut egui::Ui, size: Vec2) -> egui::Response {
        match &self.texture {
            Some(t) => ui.add(egui::Image::new((t.id(), size))),
            None => ui.allocate_response(size, egui::Sense::hover()),
        }
    }
}
