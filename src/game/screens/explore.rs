//! Drawing the lessons' explorable figures ([`crate::game::explorable`]): a knob line (▲ ▼ or
//! the − / + buttons), a picture and the numbers the maths gives at that setting.

use bevy_egui::egui::{self, Color32, Pos2, Rect, RichText, Sense, Stroke, Vec2};

use crate::content::{Explorable, Lang};
use crate::game::explorable::{
    self, AlphaView, BudgetView, CARDS_GB, Method, Nf4View, QUANTIZE_STEPS, RankView, alpha_view, budget_view,
    nf4_view, normal_pdf, rank_view,
};
use crate::game::i18n::pick;
use crate::game::ui::heatmap::diverging;
use crate::game::ui::{decimal, gigabytes, theme, thousands};

/// Draws `explorable` at `knob`; returns a step of the knob clicked with − / +.
pub fn draw(ui: &mut egui::Ui, explorable: Explorable, knob: usize, lang: Lang) -> Option<i32> {
    match explorable {
        Explorable::Rank => rank(ui, &rank_view(knob), lang),
        Explorable::Nf4Codes => nf4(ui, &nf4_view(knob), lang),
        Explorable::AlphaOverR => alpha(ui, &alpha_view(knob), lang),
        Explorable::MemoryBudget => budget(ui, &budget_view(knob), lang),
    }
}

/// "▲▼  label" with − and + buttons; returns the button clicked.
fn knob_line(ui: &mut egui::Ui, label: &str, lang: Lang) -> Option<i32> {
    let mut step = None;
    ui.horizontal(|ui| {
        if ui.button(RichText::new(" − ").size(22.0)).clicked() {
            step = Some(-1);
        }
        if ui.button(RichText::new(" + ").size(22.0)).clicked() {
            step = Some(1);
        }
        ui.label(RichText::new(label).size(24.0).color(theme::ACCENT));
        ui.label(
            RichText::new(pick(lang, ("(▲ ▼ para cambiarlo)", "(▲ ▼ to change it)"))).size(16.0).color(theme::DIM),
        );
    });
    step
}

fn note(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).size(18.0).color(theme::DIM));
}

/// A matrix as coloured squares (blue negative, orange positive), with its name above.
fn squares(ui: &mut egui::Ui, name: &str, m: &nalgebra::DMatrix<f64>, max_abs: f64, cell: f32) {
    ui.vertical(|ui| {
        ui.label(RichText::new(name).size(18.0).color(theme::ACCENT));
        let size = Vec2::new(m.ncols() as f32 * cell, m.nrows() as f32 * cell);
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        for r in 0..m.nrows() {
            for c in 0..m.ncols() {
                let min = rect.min + Vec2::new(c as f32 * cell, r as f32 * cell);
                let color = diverging(m[(r, c)] as f32, max_abs as f32);
                painter.rect_filled(Rect::from_min_size(min, Vec2::splat(cell - 2.0)), 0.0, color);
            }
        }
    });
}

/// Vertical bars with a value under each; `lit` bars in `on`, the rest dim.
fn bars(ui: &mut egui::Ui, values: &[f64], lit: usize, on: Color32, height: f32, lang: Lang) {
    let width = 44.0;
    let max = values.iter().copied().fold(0.0, f64::max).max(1e-12);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(values.len() as f32 * width, height + 22.0), Sense::hover());
    let painter = ui.painter_at(rect);
    for (i, v) in values.iter().enumerate() {
        let h = (v / max) as f32 * height;
        let x = rect.left() + i as f32 * width;
        let bar = Rect::from_min_max(
            Pos2::new(x + 6.0, rect.top() + height - h),
            Pos2::new(x + width - 6.0, rect.top() + height),
        );
        painter.rect_filled(bar, 0.0, if i < lit { on } else { theme::PANEL });
        painter.rect_stroke(bar, 0.0, Stroke::new(1.0, theme::DIM), egui::StrokeKind::Inside);
        painter.text(
            Pos2::new(x + width / 2.0, rect.top() + height + 11.0),
            egui::Align2::CENTER_CENTER,
            shown_short(*v, lang),
            egui::FontId::proportional(15.0),
            if i < lit { theme::INK } else { theme::DIM },
        );
    }
}

fn shown_short(v: f64, lang: Lang) -> String {
    crate::game::ui::fixed(v, if v >= 10.0 { 0 } else { 2 }, lang)
}

fn rank(ui: &mut egui::Ui, view: &RankView, lang: Lang) -> Option<i32> {
    let step = knob_line(ui, &format!("r = {}", view.r), lang);
    let max_abs = view.delta.amax();
    ui.horizontal(|ui| {
        squares(ui, pick(lang, ("ΔW (ajuste completo)", "ΔW (full fine-tuning)")), &view.delta, max_abs, 22.0);
        ui.label(RichText::new("≈").size(40.0));
        squares(ui, &format!("ΔW_{} = B·A", view.r), &view.approx, max_abs, 22.0);
        ui.add_space(20.0);
        ui.vertical(|ui| {
            ui.label(
                RichText::new(pick(lang, ("valores singulares σ", "singular values σ")))
                    .size(18.0)
                    .color(theme::ACCENT),
            );
            bars(ui, &view.sigmas, view.r, theme::GOOD, 100.0, lang);
        });
    });
    let error = format!(
        "‖ΔW − ΔW_{}‖_F = {}  ({} % {})",
        view.r,
        decimal(view.error, 4, lang),
        decimal(100.0 * view.relative_error, 1, lang),
        pick(lang, ("de ‖ΔW‖", "of ‖ΔW‖"))
    );
    ui.label(RichText::new(error).size(22.0).color(theme::INK));
    let params = pick(lang, ("se entrenan r·(6 + 6) =", "r·(6 + 6) ="));
    let of = pick(lang, ("de 36 números", "of 36 numbers trained"));
    ui.label(RichText::new(format!("{params} {} {of}", view.lora_params)).size(22.0).color(theme::GOOD));
    note(
        ui,
        pick(
            lang,
            (
                "Quedarse con los r valores singulares mayores (SVD truncada) da la mejor aproximación de rango r \
                 (Eckart–Young); el error es lo que se deja fuera: √(σ²ᵣ₊₁ + …). Si σ cae rápido, un r pequeño basta.",
                "Keeping the r largest singular values (a truncated SVD) is the best rank-r approximation \
                 (Eckart–Young); the error is what is left out: √(σ²ᵣ₊₁ + …). When σ falls fast, a small r is enough.",
            ),
        ),
    );
    step
}

fn nf4(ui: &mut egui::Ui, view: &Nf4View, lang: Lang) -> Option<i32> {
    let names = [
        ("los pesos w de un bloque", "a block's weights w"),
        ("absmax = max |w|", "absmax = max |w|"),
        ("w / absmax: todo entre −1 y 1", "w / absmax: all within −1 and 1"),
        ("el código NF4 más cercano", "the nearest NF4 code"),
        ("ŵ = código × absmax, y el error", "ŵ = code × absmax, and the error"),
    ];
    let label = format!(
        "{} {}/{QUANTIZE_STEPS}: {}",
        pick(lang, ("paso", "step")),
        view.step + 1,
        pick(lang, names[view.step])
    );
    let step = knob_line(ui, &label, lang);
    // N(0, 1) with the 16 codes as its quantiles (in σ), and the block's values once normalised.
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width().min(900.0), 150.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let span = 2.3;
    let x_of = |sigma: f64| rect.left() + ((sigma + span) / (2.0 * span)) as f32 * rect.width();
    let base = rect.bottom() - 24.0;
    let y_of = |density: f64| base - (density / normal_pdf(0.0)) as f32 * (rect.height() - 40.0);
    let curve: Vec<Pos2> = (0..=120)
        .map(|i| -span + 2.0 * span * f64::from(i) / 120.0)
        .map(|s| Pos2::new(x_of(s), y_of(normal_pdf(s))))
        .collect();
    painter.add(egui::Shape::line(curve, Stroke::new(2.0, theme::INK)));
    painter.line_segment([Pos2::new(rect.left(), base), Pos2::new(rect.right(), base)], Stroke::new(1.0, theme::DIM));
    for (i, &s) in view.code_sigmas.iter().enumerate() {
        let used = view.step >= 3 && view.codes.contains(&(i as u8));
        let color = if used { theme::ACCENT } else { theme::GOOD };
        painter
            .line_segment([Pos2::new(x_of(s), base), Pos2::new(x_of(s), y_of(normal_pdf(s)))], Stroke::new(2.0, color));
        painter.text(
            Pos2::new(x_of(s), base + 12.0),
            egui::Align2::CENTER_CENTER,
            i.to_string(),
            egui::FontId::proportional(13.0),
            color,
        );
    }
    if view.step >= 2 {
        let top = view.code_sigmas[15];
        for (n, &v) in view.normalized.iter().enumerate() {
            let at = Pos2::new(x_of(v * top), base - 8.0 - (n % 2) as f32 * 10.0);
            painter.rect_filled(Rect::from_center_size(at, Vec2::splat(8.0)), 0.0, theme::HEART);
            if view.step >= 3 {
                let code = view.code_sigmas[view.codes[n] as usize];
                painter.line_segment([at, Pos2::new(x_of(code), base)], Stroke::new(1.5, theme::HEART));
            }
        }
    }
    // The block, one row per step reached.
    egui::Grid::new("nf4-walk").spacing([14.0, 4.0]).show(ui, |ui| {
        let row = |ui: &mut egui::Ui, name: &str, values: Vec<String>| {
            ui.label(RichText::new(name).size(18.0).color(theme::ACCENT));
            for v in values {
                ui.label(RichText::new(v).size(18.0));
            }
            ui.end_row();
        };
        row(ui, "w", view.block.iter().map(|v| decimal(*v, 4, lang)).collect());
        if view.step >= 1 {
            row(ui, "absmax", vec![decimal(view.absmax, 4, lang)]);
        }
        if view.step >= 2 {
            row(ui, "w/absmax", view.normalized.iter().map(|v| decimal(*v, 3, lang)).collect());
        }
        if view.step >= 3 {
            row(ui, pick(lang, ("código", "code")), view.codes.iter().map(u8::to_string).collect());
        }
        if view.step >= 4 {
            row(ui, "ŵ", view.restored.iter().map(|v| decimal(*v, 3, lang)).collect());
            row(ui, "|w−ŵ|", view.errors.iter().map(|v| decimal(*v, 3, lang)).collect());
        }
    });
    note(
        ui,
        pick(
            lang,
            (
                "Los 16 códigos parten N(0, 1) en trozos de igual probabilidad: más códigos cerca de 0, donde se \
                 amontonan los pesos. El 0 es exacto; el peso con |w| = absmax vuelve sin error.",
                "The 16 codes cut N(0, 1) into slices of equal probability: more codes near 0, where weights \
                 crowd. Zero is exact; the weight with |w| = absmax comes back with no error.",
            ),
        ),
    );
    step
}

fn alpha(ui: &mut egui::Ui, view: &AlphaView, lang: Lang) -> Option<i32> {
    let label = format!(
        "r = {}, α = {} → s = α/r = {}",
        view.r,
        decimal(explorable::ALPHA, 4, lang),
        decimal(view.scale, 4, lang)
    );
    let step = knob_line(ui, &label, lang);
    let max = view.all.iter().map(|(_, u, _)| *u).fold(0.0, f64::max);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width().min(900.0), 170.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let group = rect.width() / view.all.len() as f32;
    let floor = rect.bottom() - 22.0;
    for (i, &(r, unscaled, scaled)) in view.all.iter().enumerate() {
        let x = rect.left() + i as f32 * group;
        let here = r == view.r;
        for (k, (value, color)) in [(unscaled, theme::BAD), (scaled, theme::GOOD)].into_iter().enumerate() {
            let h = (value / max) as f32 * (rect.height() - 34.0);
            let left = x + 10.0 + k as f32 * (group - 20.0) / 2.0;
            let bar = Rect::from_min_max(Pos2::new(left, floor - h), Pos2::new(left + (group - 24.0) / 2.0, floor));
            painter.rect_filled(bar, 0.0, if here { color } else { color.gamma_multiply(0.35) });
        }
        painter.text(
            Pos2::new(x + group / 2.0, floor + 11.0),
            egui::Align2::CENTER_CENTER,
            format!("r={r}"),
            egui::FontId::proportional(15.0),
            if here { theme::ACCENT } else { theme::DIM },
        );
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("‖B·A·x‖ = {}", decimal(view.unscaled, 4, lang))).size(22.0).color(theme::BAD));
        ui.add_space(24.0);
        ui.label(
            RichText::new(format!("‖(α/r)·B·A·x‖ = {}", decimal(view.scaled, 4, lang))).size(22.0).color(theme::GOOD),
        );
    });
    note(
        ui,
        pick(
            lang,
            (
                "Si cada una de las r direcciones aprende el mismo paso (Adam mueve cada peso más o menos lo mismo), \
                 sin escala la actualización crece con r y habría que reajustar la tasa de aprendizaje; con α/r \
                 queda igual: se cambia r sin tocar nada más.",
                "If each of the r directions learns the same step (Adam moves every weight by about the same \
                 amount), without the scale the update grows with r and the learning rate would need retuning; \
                 with α/r it stays put: change r and nothing else.",
            ),
        ),
    );
    step
}

fn budget(ui: &mut egui::Ui, view: &BudgetView, lang: Lang) -> Option<i32> {
    let billions = decimal(view.params as f64 / 1e9, 1, lang);
    let label = format!("{} ({billions} {})", view.model, pick(lang, ("mil millones de pesos", "billion weights")));
    let step = knob_line(ui, &label, lang);
    let cap = 120.0;
    egui::Grid::new("budget").spacing([16.0, 6.0]).show(ui, |ui| {
        ui.label("");
        ui.label(
            RichText::new(pick(lang, ("GB (pesos + estado de entrenamiento)", "GB (weights + training state)")))
                .size(16.0)
                .color(theme::DIM),
        );
        for card in CARDS_GB {
            ui.label(RichText::new(format!("{card:.0} GB")).size(18.0).color(theme::ACCENT));
        }
        ui.end_row();
        for row in &view.rows {
            let name = match row.method {
                Method::FullF32 => pick(lang, ("ajuste completo f32", "full fine-tuning f32")),
                Method::LoraBf16 => pick(lang, ("LoRA, base bf16", "LoRA, bf16 base")),
                Method::QloraNf4 => pick(lang, ("QLoRA, base NF4 + DQ", "QLoRA, NF4 + DQ base")),
            };
            ui.label(RichText::new(name).size(19.0));
            let (rect, _) = ui.allocate_exact_size(Vec2::new(380.0, 22.0), Sense::hover());
            let painter = ui.painter_at(rect);
            let x_of = |gb: f64| rect.left() + (gb.min(cap) / cap) as f32 * (rect.width() - 70.0);
            let weights = Rect::from_min_max(rect.min, Pos2::new(x_of(row.weights), rect.bottom()));
            let state = Rect::from_min_max(
                Pos2::new(x_of(row.weights), rect.top()),
                Pos2::new(x_of(row.total()), rect.bottom()),
            );
            painter.rect_filled(weights, 0.0, theme::ACCENT);
            painter.rect_filled(state, 0.0, theme::HEART);
            for card in CARDS_GB {
                painter.line_segment(
                    [Pos2::new(x_of(card), rect.top() - 2.0), Pos2::new(x_of(card), rect.bottom() + 2.0)],
                    Stroke::new(1.0, theme::INK),
                );
            }
            let total = if row.total() > cap {
                format!("→ {}", gigabytes(row.total(), lang))
            } else {
                gigabytes(row.total(), lang)
            };
            painter.text(
                Pos2::new(x_of(row.total()) + 6.0, rect.center().y),
                egui::Align2::LEFT_CENTER,
                total,
                egui::FontId::proportional(15.0),
                theme::INK,
            );
            for card in CARDS_GB {
                let (mark, color) = if row.fits(card) { ("✔", theme::GOOD) } else { ("✖", theme::BAD) };
                ui.label(RichText::new(mark).size(20.0).color(color));
            }
            ui.end_row();
        }
    });
    let adapter = thousands(view.adapter_params, lang);
    let legend = pick(lang, ("pesos", "weights"));
    let state = pick(
        lang,
        ("gradientes + 2 momentos de AdamW de lo que se entrena", "gradients + AdamW's 2 moments of what is trained"),
    );
    let rank = pick(lang, ("adaptador r = 64 en las 7 proyecciones", "adapter r = 64 on all 7 projections"));
    ui.horizontal(|ui| {
        ui.label(RichText::new("■").color(theme::ACCENT));
        ui.label(RichText::new(legend).size(16.0));
        ui.label(RichText::new("■").color(theme::HEART));
        ui.label(RichText::new(state).size(16.0));
        ui.label(RichText::new(format!("· {rank}: {adapter}")).size(16.0).color(theme::DIM));
    });
    note(
        ui,
        pick(
            lang,
            (
                "Falta sumar las activaciones (crecen con lote × secuencia) y sus picos: los optimizadores paginados \
                 de QLoRA pasan los estados de AdamW a la RAM de la CPU cuando un pico no cabe, en vez de fallar.",
                "Add the activations (they grow with batch × sequence) and their spikes: QLoRA's paged optimizers \
                 move AdamW's states to CPU RAM when a spike would not fit, instead of crashing.",
            ),
        ),
    );
    step
}
