//! The look: a small palette that never relies on red vs green alone, a pixel font compiled into
//! the binary, chunky borders, and the few widgets every screen shares.

use bevy_egui::egui::{
    self, Align, Color32, CornerRadius, FontData, FontDefinitions, FontFamily, FontId, Frame, Margin, RichText, Sense,
    Stroke, TextStyle, Ui, UiBuilder, Vec2,
};

use crate::game::puzzle::Mark;

/// Spleen 16×32 by Frederic Cambus (BSD-2-Clause, licence in assets/fonts/LICENSE-spleen.txt),
/// with α and the padlocks added on its pixel grid by scripts/make_pixel_glyphs.py (a sans α
/// read as "a", and the lock fell back to a plain square).
pub const PIXEL_FONT: &[u8] = include_bytes!("../../../assets/fonts/spleen-16x32-arcade.otf");
const PIXEL_FONT_NAME: &str = "spleen-16x32-arcade";
/// A subset of DejaVu Sans (Bitstream Vera licence, assets/fonts/LICENSE-dejavu.txt) for the
/// mathematical symbols the lessons use (ℝ, ≪, ∈, …) that neither Spleen nor Hack draws.
pub const SYMBOL_FONT: &[u8] = include_bytes!("../../../assets/fonts/dejavu-sans-symbols.ttf");
const SYMBOL_FONT_NAME: &str = "dejavu-sans-symbols";

// Palette: dark blue screen, cream ink, yellow highlight; "right" is blue (✔) and "wrong" is
// orange (✖), a pair that stays apart for the common colour-vision deficiencies.
pub const BG: Color32 = Color32::from_rgb(16, 14, 40);
pub const PANEL: Color32 = Color32::from_rgb(34, 30, 78);
pub const PANEL_DARK: Color32 = Color32::from_rgb(24, 21, 58);
pub const INK: Color32 = Color32::from_rgb(244, 238, 220);
pub const DIM: Color32 = Color32::from_rgb(150, 144, 190);
pub const ACCENT: Color32 = Color32::from_rgb(255, 210, 63);
pub const GOOD: Color32 = Color32::from_rgb(64, 180, 255);
pub const BAD: Color32 = Color32::from_rgb(255, 128, 32);
pub const HEART: Color32 = Color32::from_rgb(255, 82, 160);
pub const BORDER: f32 = 4.0;
/// The text style of plot legends (small: curves need the room).
pub const PLOT_TEXT: &str = "plot";

/// The game's fonts: the pixel font first, then egui's defaults, Hack (arrows, ▲▼, boxes) and a
/// DejaVu subset (maths symbols) for glyphs it lacks.
pub fn font_definitions() -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert(PIXEL_FONT_NAME.to_owned(), std::sync::Arc::new(FontData::from_static(PIXEL_FONT)));
    fonts.font_data.insert(SYMBOL_FONT_NAME.to_owned(), std::sync::Arc::new(FontData::from_static(SYMBOL_FONT)));
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        let list = fonts.families.entry(family).or_default();
        list.insert(0, PIXEL_FONT_NAME.to_owned());
        list.push(SYMBOL_FONT_NAME.to_owned());
    }
    if fonts.font_data.contains_key("Hack") {
        let list = fonts.families.entry(FontFamily::Proportional).or_default();
        let at = list.len() - 1;
        list.insert(at, "Hack".to_owned());
    }
    fonts
}

/// Installs the fonts and the retro style. Called once per egui context.
pub fn install(ctx: &egui::Context) {
    ctx.set_fonts(font_definitions());
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (TextStyle::Heading, FontId::proportional(44.0)),
            (TextStyle::Body, FontId::proportional(22.0)),
            (TextStyle::Button, FontId::proportional(24.0)),
            (TextStyle::Small, FontId::proportional(17.0)),
            (TextStyle::Monospace, FontId::monospace(22.0)),
            (TextStyle::Name(PLOT_TEXT.into()), FontId::proportional(14.0)),
        ]
        .into();
        style.spacing.item_spacing = Vec2::new(10.0, 8.0);
        style.spacing.button_padding = Vec2::new(14.0, 6.0);
        let v = &mut style.visuals;
        v.dark_mode = true;
        v.override_text_color = Some(INK);
        v.panel_fill = BG;
        v.window_fill = PANEL;
        v.window_stroke = Stroke::new(BORDER, INK);
        v.window_corner_radius = CornerRadius::ZERO;
        v.extreme_bg_color = PANEL_DARK;
        v.selection.bg_fill = ACCENT;
        v.selection.stroke = Stroke::new(2.0, BG);
        for w in [
            &mut v.widgets.noninteractive,
            &mut v.widgets.inactive,
            &mut v.widgets.hovered,
            &mut v.widgets.active,
            &mut v.widgets.open,
        ] {
            w.corner_radius = CornerRadius::ZERO;
        }
        v.widgets.inactive.bg_fill = PANEL;
        v.widgets.inactive.weak_bg_fill = PANEL;
        v.widgets.inactive.bg_stroke = Stroke::new(2.0, DIM);
        v.widgets.hovered.bg_fill = PANEL;
        v.widgets.hovered.weak_bg_fill = PANEL;
        v.widgets.hovered.bg_stroke = Stroke::new(3.0, ACCENT);
        v.widgets.active.bg_fill = ACCENT;
        v.widgets.active.weak_bg_fill = ACCENT;
    });
}

/// A full-window UI on the background layer (egui 0.36 panels draw inside a `Ui`).
pub fn screen_ui(ctx: &egui::Context) -> Ui {
    Ui::new(
        ctx.clone(),
        "screen".into(),
        UiBuilder::new().layer_id(egui::LayerId::background()).max_rect(ctx.viewport_rect()),
    )
}

/// Runs `add` in a full-window panel with the background colour and margins.
/// Returns how much larger than the window the panel grew to hold what was drawn (≤ 1 when
/// everything fits): a row wider than the window widens the panel past it.
pub fn screen(ctx: &egui::Context, add: impl FnOnce(&mut Ui)) -> f32 {
    let mut root = screen_ui(ctx);
    let panel = egui::CentralPanel::default()
        .frame(Frame::new().fill(BG).inner_margin(Margin::symmetric(36, 24)))
        .show(&mut root, add);
    let (used, window) = (panel.response.rect, ctx.viewport_rect());
    (used.width() / window.width().max(1.0)).max(used.height() / window.height().max(1.0))
}

/// A boxed area with a chunky border.
pub fn boxed(stroke: Color32) -> Frame {
    Frame::new()
        .fill(PANEL)
        .stroke(Stroke::new(BORDER, stroke))
        .inner_margin(Margin::same(14))
        .corner_radius(CornerRadius::ZERO)
}

pub fn title(ui: &mut Ui, text: &str) {
    ui.label(RichText::new(text).size(44.0).color(ACCENT));
}

pub fn big(text: &str, size: f32, color: Color32) -> RichText {
    RichText::new(text).size(size).color(color)
}

/// Small key help at the bottom of a screen.
pub fn footer(ui: &mut Ui, text: &str) {
    ui.with_layout(egui::Layout::bottom_up(Align::Min), |ui| {
        ui.label(RichText::new(text).size(17.0).color(DIM));
    });
}

/// A menu entry: highlighted (▶ and yellow border) when selected by keyboard, clickable.
pub fn menu_item(ui: &mut Ui, text: &str, selected: bool, enabled: bool) -> egui::Response {
    let ink = if !enabled {
        DIM
    } else if selected {
        ACCENT
    } else {
        INK
    };
    let marker = if selected { "▶ " } else { "  " };
    let frame = Frame::new()
        .fill(if selected { PANEL } else { PANEL_DARK })
        .stroke(Stroke::new(if selected { BORDER } else { 2.0 }, if selected { ACCENT } else { DIM }))
        .inner_margin(Margin::symmetric(16, 6));
    let inner = frame.show(ui, |ui| {
        ui.set_min_width(ui.available_width().min(560.0));
        ui.label(RichText::new(format!("{marker}{text}")).size(26.0).color(ink));
    });
    ui.interact(inner.response.rect, ui.id().with(text), Sense::click())
}

/// "★★☆".
pub fn stars(n: u8) -> String {
    (0..3).map(|i| if i < n { '★' } else { '☆' }).collect()
}

/// Colour and symbol of a cell mark: never colour alone.
pub fn mark_style(mark: Mark) -> (Color32, &'static str) {
    match mark {
        Mark::Empty => (DIM, "·"),
        Mark::Entered => (INK, ""),
        Mark::Given => (DIM, ""),
        Mark::Match => (GOOD, "✔"),
        Mark::Miss => (BAD, "✖"),
    }
}

/// A one-line label pair "NAME value".
pub fn stat(ui: &mut Ui, name: &str, value: &str, color: Color32) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(name).size(18.0).color(DIM));
        ui.label(RichText::new(value).size(28.0).color(color));
    });
}
