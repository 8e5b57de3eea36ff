//! Layout checks without a window: a screen's drawing run by egui alone at 1280×720 and
//! 1920×1080, in both languages, at the player's zoom and the presenter's, shrinking the zoom
//! as the game does when content does not fit ([`super::ZoomCap`]). Nothing may end outside
//! the window.

use bevy_egui::egui::{self, Rect, Ui, pos2, vec2};

use super::{fit_zoom, theme};
use crate::content::Lang;
use crate::content::spanish_slips;
use crate::game::progress::Settings;

/// The screen rectangles and the texts of what a pass drew (the output's textures are not needed).
fn drawn(output: egui::FullOutput) -> (Vec<Rect>, Vec<String>) {
    let rects = output.shapes.iter().map(|c| c.shape.visual_bounding_rect()).filter(|r| r.is_positive()).collect();
    let mut texts = Vec::new();
    let mut shapes: Vec<&egui::Shape> = output.shapes.iter().map(|c| &c.shape).collect();
    while let Some(shape) = shapes.pop() {
        match shape {
            egui::Shape::Text(t) => texts.push(t.galley.text().to_owned()),
            egui::Shape::Vec(inner) => shapes.extend(inner),
            _ => {}
        }
    }
    output.drop_without_applying_deltas();
    (rects, texts)
}

/// Draws with `draw` (which returns its overflow) until the zoom settles; returns the zoom, the
/// last overflow, the rectangles drawn outside the window and every text drawn.
fn settle(
    ctx: &egui::Context,
    size: egui::Vec2,
    zoom: f32,
    draw: &mut dyn FnMut(&mut Ui) -> f32,
) -> (f32, f32, Vec<Rect>, Vec<String>) {
    let mut zoom = zoom;
    let mut seen = Vec::new();
    for _ in 0..10 {
        ctx.set_zoom_factor(zoom);
        let screen = Rect::from_min_size(pos2(0.0, 0.0), size / zoom);
        let (mut overflow, mut rects, mut texts) = (0.0, Vec::new(), Vec::new());
        // Twice: egui sizes some widgets on a first pass.
        for _ in 0..2 {
            ctx.begin_pass(egui::RawInput { screen_rect: Some(screen), ..Default::default() });
            let grown = theme::screen(ctx, |ui| overflow = draw(ui));
            overflow = overflow.max(grown);
            (rects, texts) = drawn(ctx.end_pass());
        }
        seen.push((zoom, overflow));
        match fit_zoom(zoom, overflow) {
            Some(smaller) => zoom = smaller,
            None => {
                let allowed = screen.expand(0.5);
                return (zoom, overflow, rects.into_iter().filter(|r| !allowed.contains_rect(*r)).collect(), texts);
            }
        }
    }
    let (zoom, overflow) = seen.last().copied().unwrap_or((zoom, f32::NAN));
    (zoom, overflow, vec![Rect::NOTHING; usize::from(overflow > 1.0)], Vec::new())
}

/// Every size, language and zoom: a line per case where the content does not fit or draws
/// outside the window, and per Spanish text drawn with an English word or a decimal point
/// ([`spanish_slips`]).
pub fn check_every_size(name: &str, mut draw: impl FnMut(&mut Ui, Lang, bool) -> f32) -> Vec<String> {
    let ctx = egui::Context::default();
    theme::install(&ctx);
    let mut failures = Vec::new();
    for lang in [Lang::Es, Lang::En] {
        for size in [vec2(1280.0, 720.0), vec2(1920.0, 1080.0)] {
            for presenter in [false, true] {
                let zoom = if presenter { Settings::PRESENTER_ZOOM } else { 1.0 };
                let (settled, overflow, outside, texts) = settle(&ctx, size, zoom, &mut |ui| draw(ui, lang, presenter));
                if lang == Lang::Es && size.x < 1300.0 && !presenter {
                    for text in &texts {
                        failures.extend(
                            spanish_slips(text).into_iter().map(|slip| format!("{name} Es: {slip} in {text:?}")),
                        );
                    }
                }
                if overflow > 1.0 || !outside.is_empty() {
                    failures.push(format!(
                        "{name} {lang:?} {}×{} zoom {zoom} → {settled:.2}: overflow {overflow:.2}, {} shape(s) outside{}",
                        size.x,
                        size.y,
                        outside.len(),
                        outside.first().map(|r| format!(", e.g. {r:?}")).unwrap_or_default()
                    ));
                }
            }
        }
    }
    failures
}
