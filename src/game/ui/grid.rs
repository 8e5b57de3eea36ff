//! Matrices drawn as chunky grids: read-only (with optional ✔/✖ marks) and editable.

use bevy_egui::egui::{self, Color32, RichText, Sense, Stroke, Vec2};
use nalgebra::DMatrix;

use super::theme;
use crate::content::Lang;
use crate::content::answer::{in_notation, shown};
use crate::game::puzzle::{Grid, GridKind, Mark};

/// Width of one cell for the numbers in `texts`.
fn cell_width(texts: impl Iterator<Item = usize>) -> f32 {
    let longest = texts.max().unwrap_or(1).max(2) as f32;
    (longest * 12.0 + 22.0).clamp(44.0, 130.0)
}

const CELL_H: f32 = 34.0;

/// A cell's ✔/✖ in its top-right corner, beside the number.
fn corner_symbol(painter: &egui::Painter, cell: egui::Rect, symbol: &str, size: f32, color: Color32) {
    painter.text(
        cell.right_top() + Vec2::new(-3.0, 1.0),
        egui::Align2::RIGHT_TOP,
        symbol,
        egui::FontId::proportional(size),
        color,
    );
}

/// A number in a grid, in `lang`'s notation.
fn cell_number(v: f64, lang: Lang) -> String {
    in_notation(&shown(v), lang)
}

/// What a player has typed so far, in `lang`'s notation: a cell holds one number, so its point
/// is always the decimal one, even before the digits after it are typed ("0," in Spanish).
fn typed(text: &str, lang: Lang) -> String {
    match lang {
        Lang::Es => text.replace('.', ","),
        Lang::En => text.to_owned(),
    }
}

/// A labelled read-only matrix; `marks` adds a colour and a ✔/✖ per cell.
pub fn matrix_view(ui: &mut egui::Ui, label: &str, m: &DMatrix<f64>, marks: Option<&DMatrix<Mark>>, lang: Lang) {
    ui.vertical(|ui| {
        ui.label(RichText::new(label).size(20.0).color(theme::ACCENT));
        let w = cell_width(m.iter().map(|v| shown(*v).chars().count() + 1));
        let (rect, _) = ui.allocate_exact_size(
            Vec2::new(w * m.ncols() as f32 + 8.0, CELL_H * m.nrows() as f32 + 8.0),
            Sense::hover(),
        );
        let painter = ui.painter_at(rect.expand(2.0));
        painter.rect_stroke(rect, 0.0, Stroke::new(3.0, theme::INK), egui::StrokeKind::Inside);
        for r in 0..m.nrows() {
            for c in 0..m.ncols() {
                let min = rect.min + Vec2::new(4.0 + c as f32 * w, 4.0 + r as f32 * CELL_H);
                let cell = egui::Rect::from_min_size(min, Vec2::new(w - 2.0, CELL_H - 2.0));
                let (color, symbol) = marks.map_or((theme::INK, ""), |ms| theme::mark_style(ms[(r, c)]));
                if marks.is_some() {
                    painter.rect_stroke(cell, 0.0, Stroke::new(2.0, color), egui::StrokeKind::Inside);
                }
                painter.text(
                    cell.center(),
                    egui::Align2::CENTER_CENTER,
                    cell_number(m[(r, c)], lang),
                    egui::FontId::proportional(20.0),
                    color,
                );
                if !symbol.is_empty() {
                    corner_symbol(&painter, cell, symbol, 12.0, color);
                }
            }
        }
    });
}

/// An editable grid: the cursor cell is framed in yellow; clicking a cell selects it.
/// Returns the (row, col) clicked, if any.
pub fn grid_input(
    ui: &mut egui::Ui,
    label: &str,
    grid: &Grid,
    marks: &[Mark],
    cursor: Option<(usize, usize)>,
    lang: Lang,
) -> Option<(usize, usize)> {
    let mut clicked = None;
    ui.vertical(|ui| {
        ui.label(RichText::new(label).size(20.0).color(theme::ACCENT));
        let w = cell_width(grid.cells.iter().map(|c| c.text.chars().count() + 1))
            .max(if grid.kind == GridKind::Codes { 56.0 } else { 64.0 });
        let (rect, _) = ui.allocate_exact_size(
            Vec2::new(w * grid.cols as f32 + 8.0, (CELL_H + 6.0) * grid.rows as f32 + 8.0),
            Sense::hover(),
        );
        let painter = ui.painter_at(rect.expand(2.0));
        painter.rect_stroke(rect, 0.0, Stroke::new(3.0, theme::INK), egui::StrokeKind::Inside);
        for r in 0..grid.rows {
            for c in 0..grid.cols {
                let i = r * grid.cols + c;
                let min = rect.min + Vec2::new(4.0 + c as f32 * w, 4.0 + r as f32 * (CELL_H + 6.0));
                let cell_rect = egui::Rect::from_min_size(min, Vec2::new(w - 4.0, CELL_H + 2.0));
                let cell = &grid.cells[i];
                let mark = marks.get(i).copied().unwrap_or(Mark::Empty);
                let (color, symbol) = theme::mark_style(mark);
                let selected = cursor == Some((r, c));
                let fill = if !cell.editable {
                    theme::BG
                } else if selected {
                    theme::PANEL
                } else {
                    theme::PANEL_DARK
                };
                painter.rect_filled(cell_rect, 0.0, fill);
                let stroke = if selected {
                    Stroke::new(4.0, theme::ACCENT)
                } else if matches!(mark, Mark::Match | Mark::Miss) {
                    Stroke::new(2.0, color)
                } else {
                    Stroke::new(1.0, theme::DIM)
                };
                painter.rect_stroke(cell_rect, 0.0, stroke, egui::StrokeKind::Inside);
                let text = if cell.text.is_empty() { "_".to_owned() } else { typed(&cell.text, lang) };
                let ink: Color32 = if !cell.editable {
                    theme::DIM
                } else if mark == Mark::Entered {
                    theme::INK
                } else {
                    color
                };
                painter.text(
                    cell_rect.center(),
                    egui::Align2::CENTER_CENTER,
                    text,
                    egui::FontId::proportional(22.0),
                    ink,
                );
                if !symbol.is_empty() && cell.editable && mark != Mark::Empty {
                    corner_symbol(&painter, cell_rect, symbol, 13.0, color);
                }
                if cell.editable && ui.interact(cell_rect, ui.id().with((&grid.label, r, c)), Sense::click()).clicked()
                {
                    clicked = Some((r, c));
                }
            }
        }
    });
    clicked
}
