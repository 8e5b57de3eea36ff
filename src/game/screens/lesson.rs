//! Lessons: the course's slides, one at a time, moved with arrows, space or a clicker.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Layout, RichText};

use super::draw_while;
use crate::content::{Block, Explorable, Items, Lang, Level, Slide, Tone};
use crate::game::i18n::{Tr, pick};
use crate::game::progress::LevelOutcome;
use crate::game::ui::{ScreenUi, ZoomCap, fixed, gigabytes, grid, overflow_below, theme, thousands};
use crate::game::{ActiveLevel, Course, GameCommand, ReviewDeck, Screen};

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Lesson), start_lesson);
    draw_while(app, Screen::Lesson, lesson_ui);
}

/// The slide on screen; despawned when the lesson screen closes.
#[derive(Component, Debug)]
pub struct LessonRun {
    pub level: usize,
    pub slide: usize,
    /// The setting of the slide's explorable figure (▲ ▼); back to 0 on every slide.
    pub knob: usize,
    /// Reviewing: only these slides (indices, in deck order); empty for the whole deck.
    pub review: Vec<usize>,
}

fn start_lesson(mut commands: Commands, active: Res<ActiveLevel>, mut review: ResMut<ReviewDeck>) {
    // A review (from a quiz's results) shows only its slides; opening the lessons, all of them.
    let review = std::mem::take(&mut review.0);
    let slide = review.first().copied().unwrap_or(0);
    commands.spawn((LessonRun { level: active.0, slide, knob: 0, review }, DespawnOnExit(Screen::Lesson)));
}

/// The explorable figure of a slide, if it has one.
fn explorable(slide: &Slide) -> Option<Explorable> {
    slide.body.iter().find_map(|b| match b {
        Block::Explore(e) => Some(*e),
        _ => None,
    })
}

/// A step through the deck, by key or by button.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Back,
    Forward,
}

impl LessonRun {
    /// Moves through a deck of `slides`; returns the command that leaves the lesson, if any:
    /// back before the first slide is the map, forward past the last finishes the level.
    fn step(&mut self, step: Step, level: &Level, slides: usize) -> Option<GameCommand> {
        self.knob = 0;
        // A review walks its own slides and ends back on the map (it is not the level's pass).
        if let Some(at) = self.review.iter().position(|&s| s == self.slide) {
            match step {
                Step::Forward if at + 1 < self.review.len() => self.slide = self.review[at + 1],
                Step::Back if at > 0 => self.slide = self.review[at - 1],
                _ => return Some(GameCommand::Goto(Screen::Map)),
            }
            return None;
        }
        match step {
            Step::Forward if self.slide + 1 < slides => self.slide += 1,
            Step::Forward => {
                return Some(GameCommand::FinishLevel(LevelOutcome::of(level, 0, 3)));
            }
            Step::Back if self.slide == 0 => return Some(GameCommand::Goto(Screen::Map)),
            Step::Back => self.slide -= 1,
        }
        None
    }
}

fn lesson_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    mut run: Single<&mut LessonRun>,
    mut commands: MessageWriter<GameCommand>,
    mut cap: ResMut<ZoomCap>,
) -> Result {
    let frame = screen.frame()?;
    let Some(level) = course.levels.get(run.level) else {
        return Ok(());
    };
    let Items::Lessons(slides) = &level.items else {
        return Ok(());
    };
    if slides.is_empty() {
        return Ok(());
    }
    let keyed = if frame.keys.forward() {
        Some(Step::Forward)
    } else if frame.keys.backward() {
        Some(Step::Back)
    } else {
        None
    };
    if let Some(step) = keyed {
        commands.write_batch(run.step(step, level, slides.len()));
    }
    let index = run.slide.min(slides.len() - 1);
    let slide = &slides[index];
    // ▲ ▼ turn the slide's explorable figure (up = more).
    let explore = explorable(slide);
    if let Some(e) = explore {
        run.knob = e.turn(run.knob, -frame.keys.vertical());
    }
    let mut drawn = None;
    let knob = run.knob;
    frame.show_fitted(&mut cap, index, |ui| {
        let review = run.review.iter().position(|&s| s == index).map(|at| (at, run.review.len()));
        let at = SlideAt { index, count: slides.len(), knob, review };
        let slide_drawn = draw_slide(ui, level, slide, at, frame.lang, frame.presenter);
        let overflow = slide_drawn.overflow;
        drawn = Some(slide_drawn);
        overflow
    });
    let Some(SlideDrawn { clicked, knob_step, .. }) = drawn else { return Ok(()) };
    if let (Some(e), Some(step)) = (explore, knob_step) {
        run.knob = e.turn(run.knob, step);
    }
    // The buttons only go back within the deck: "previous" is hidden on the first slide.
    if let Some(step) = clicked {
        commands.write_batch(run.step(step, level, slides.len()));
    }
    Ok(())
}

/// What drawing a slide found: the button clicked, and how much taller than its room the body
/// is (≤ 1 when it fits).
struct SlideDrawn {
    clicked: Option<Step>,
    overflow: f32,
    /// − or + clicked on an explorable figure.
    knob_step: Option<i32>,
}

/// Where a slide is: its index in a deck of `count`, its knob's setting, and while reviewing its
/// place among the slides reviewed (from 0) and how many they are.
#[derive(Clone, Copy)]
struct SlideAt {
    index: usize,
    count: usize,
    knob: usize,
    review: Option<(usize, usize)>,
}

/// The slide with its position in the deck, the previous / next buttons and, for a presenter,
/// the speaker notes.
fn draw_slide(ui: &mut egui::Ui, level: &Level, slide: &Slide, at: SlideAt, lang: Lang, presenter: bool) -> SlideDrawn {
    let SlideAt { index, count, knob, review } = at;
    let mut clicked = None;
    let mut knob_step = None;
    ui.horizontal(|ui| {
        match review {
            Some((at, of)) => ui.label(
                RichText::new(format!("{} {}/{of} · {}", Tr::Reviewing.tr(lang), at + 1, level.title.get(lang)))
                    .size(18.0)
                    .color(theme::ACCENT),
            ),
            None => ui.label(RichText::new(level.title.get(lang)).size(18.0).color(theme::DIM)),
        };
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(
                RichText::new(format!("{} {}/{}", Tr::Slide.tr(lang), index + 1, count)).size(18.0).color(theme::DIM),
            );
            if !presenter {
                ui.label(RichText::new(format!("{}   ", Tr::LessonKeys.tr(lang))).size(15.0).color(theme::DIM));
            }
        });
    });
    theme::title(ui, slide.title.get(lang));
    ui.add_space(8.0);
    // Under the body: the buttons, and for a presenter the notes and the key hint, measured
    // (a fixed reserve let long notes run off the bottom however small the zoom).
    let footer_h =
        80.0 + if presenter { presenter_lines(slide, lang).iter().map(|t| text_height(ui, t)).sum() } else { 0.0 };
    // Each slide its own scroll position (none carries over to the next); the body keeps its
    // full height, so PREVIOUS / NEXT stay in one place from slide to slide.
    let body = egui::ScrollArea::vertical()
        .id_salt(("slide", index))
        .auto_shrink([false, false])
        .max_height(ui.available_height() - footer_h)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            for block in &slide.body {
                match block {
                    Block::Explore(e) => knob_step = super::explore::draw(ui, *e, knob, lang),
                    _ => draw_block(ui, block, lang),
                }
                ui.add_space(10.0);
            }
        });
    let body_overflow = (body.content_size.y / body.inner_rect.height().max(1.0))
        .max(body.content_size.x / body.inner_rect.width().max(1.0));
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if index > 0 && theme::menu_item(ui, &format!("◀ {}", Tr::Previous.tr(lang)), false, true).clicked() {
            clicked = Some(Step::Back);
        }
        let next = if index + 1 == count { Tr::Finish } else { Tr::Next };
        if theme::menu_item(ui, next.tr(lang), true, true).clicked() {
            clicked = Some(Step::Forward);
        }
    });
    if presenter {
        for line in presenter_lines(slide, lang) {
            ui.label(line);
        }
    }
    SlideDrawn { clicked, overflow: body_overflow.max(overflow_below(ui, 0.0)), knob_step }
}

/// What a presenter sees under the buttons: the speaker notes and the key hint.
fn presenter_lines(slide: &Slide, lang: Lang) -> Vec<RichText> {
    let notes = slide.notes.as_ref().map(|n| RichText::new(n.get(lang)).size(16.0).color(theme::DIM));
    notes.into_iter().chain([RichText::new(Tr::PresenterHint.tr(lang)).size(15.0).color(theme::DIM)]).collect()
}

/// The height `text` takes wrapped to the width of `ui`, with the spacing after it.
fn text_height(ui: &egui::Ui, text: &RichText) -> f32 {
    let galley = egui::WidgetText::from(text.clone()).into_galley(
        ui,
        Some(egui::TextWrapMode::Wrap),
        ui.available_width(),
        egui::TextStyle::Body,
    );
    galley.size().y + ui.spacing().item_spacing.y
}

/// Draws one slide block.
pub fn draw_block(ui: &mut egui::Ui, block: &Block, lang: Lang) {
    match block {
        Block::Paragraph(text) => {
            ui.label(RichText::new(text.get(lang)).size(24.0));
        }
        Block::Bullets(items) => {
            for item in items {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("■").size(16.0).color(theme::ACCENT));
                    ui.label(RichText::new(item.get(lang)).size(22.0));
                });
            }
        }
        Block::Formula(f) => {
            theme::boxed(theme::GOOD).show(ui, |ui| {
                ui.label(RichText::new(&f.text).size(28.0).color(theme::GOOD));
                if let Some(c) = &f.caption {
                    ui.label(RichText::new(c.get(lang)).size(17.0).color(theme::DIM));
                }
            });
        }
        Block::Callout(c) => {
            let (color, tag) = match (c.tone, lang) {
                (Tone::Info, _) => (theme::GOOD, "ℹ"),
                (Tone::Correction, Lang::Es) => (theme::ACCENT, "! CORRECCIÓN A LA PRESENTACIÓN:"),
                (Tone::Correction, Lang::En) => (theme::ACCENT, "! DECK CORRECTION:"),
                (Tone::Warning, _) => (theme::BAD, "⚠"),
            };
            theme::boxed(color).show(ui, |ui| {
                ui.set_width(ui.available_width() - 30.0);
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(tag).size(20.0).color(color));
                    ui.label(RichText::new(c.text.get(lang)).size(21.0));
                });
            });
        }
        Block::Matrix(m) => {
            if let Some(matrix) = m.matrix.to_dmatrix() {
                grid::matrix_view(ui, &m.label, &matrix, None, lang);
            }
            caption(ui, &m.caption, lang);
        }
        Block::Factorization(f) => {
            ui.horizontal(|ui| {
                let parts = [(&f.labels[0], &f.product), (&f.labels[1], &f.left), (&f.labels[2], &f.right)];
                for (i, (label, m)) in parts.into_iter().enumerate() {
                    if let Some(matrix) = m.to_dmatrix() {
                        grid::matrix_view(ui, label, &matrix, None, lang);
                    }
                    if i < 2 {
                        ui.label(RichText::new(if i == 0 { "=" } else { "×" }).size(36.0));
                    }
                }
            });
            caption(ui, &f.caption, lang);
        }
        Block::Table(t) => {
            table(ui, |ui| {
                for h in &t.header {
                    ui.label(RichText::new(h.get(lang)).size(20.0).color(theme::ACCENT));
                }
                ui.end_row();
                for row in &t.rows {
                    for cell in row {
                        ui.label(RichText::new(cell.get(lang)).size(20.0));
                    }
                    ui.end_row();
                }
            });
            caption(ui, &t.caption, lang);
        }
        Block::TrainableShare(s) => {
            ui.label(
                RichText::new(format!(
                    "{}: {} {}",
                    s.model.name,
                    thousands(s.total_params, lang),
                    pick(lang, ("parámetros", "parameters"))
                ))
                .size(20.0)
                .color(theme::ACCENT),
            );
            table(ui, |ui| {
                for h in ["r", pick(lang, ("módulos", "targets")), "LoRA", "%"] {
                    ui.label(RichText::new(h).size(19.0).color(theme::ACCENT));
                }
                ui.end_row();
                for row in &s.rows {
                    ui.label(RichText::new(row.rank.to_string()).size(19.0));
                    let targets: Vec<&str> = row.targets.iter().map(|t| t.module_name()).collect();
                    ui.label(RichText::new(targets.join(", ")).size(17.0));
                    ui.label(RichText::new(thousands(row.trainable, lang)).size(19.0));
                    ui.label(RichText::new(format!("{} %", fixed(row.percent, 2, lang))).size(19.0));
                    ui.end_row();
                }
            });
            caption(ui, &s.caption, lang);
        }
        // Drawn with its knob by the slide (see `draw_slide`).
        Block::Explore(_) => {}
        Block::Memory(m) => {
            let weights = thousands(m.params, lang);
            let word = pick(lang, ("pesos", "weights"));
            ui.label(RichText::new(format!("{} ({weights} {word})", m.model)).size(20.0).color(theme::ACCENT));
            table(ui, |ui| {
                for row in &m.rows {
                    ui.label(RichText::new(row.precision.label()).size(19.0));
                    ui.label(RichText::new(gigabytes(row.gb, lang)).size(19.0));
                    ui.end_row();
                }
            });
            caption(ui, &m.caption, lang);
        }
    }
}

/// A striped table, one `ui.end_row()` per row.
fn table(ui: &mut egui::Ui, rows: impl FnOnce(&mut egui::Ui)) {
    egui::Grid::new(ui.next_auto_id()).striped(true).spacing([24.0, 6.0]).show(ui, rows);
}

fn caption(ui: &mut egui::Ui, caption: &Option<crate::content::Text>, lang: Lang) {
    if let Some(c) = caption {
        ui.label(RichText::new(c.get(lang)).size(17.0).color(theme::DIM));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::ui::layout_check::check_every_size;

    #[test]
    fn a_review_walks_its_own_slides_and_ends_on_the_map() {
        let level = crate::content::builtin().levels.into_iter().find(|l| l.id == "lessons").unwrap();
        let mut run = LessonRun { level: 0, slide: 3, knob: 2, review: vec![3, 10, 11] };
        assert_eq!(run.step(Step::Forward, &level, 22), None);
        assert_eq!((run.slide, run.knob), (10, 0), "the next reviewed slide, its knob reset");
        assert_eq!(run.step(Step::Back, &level, 22), None);
        assert_eq!(run.slide, 3);
        assert_eq!(run.step(Step::Back, &level, 22), Some(GameCommand::Goto(Screen::Map)));
        run.slide = 11;
        assert_eq!(run.step(Step::Forward, &level, 22), Some(GameCommand::Goto(Screen::Map)), "not the level's pass");
        let mut whole = LessonRun { level: 0, slide: 3, knob: 0, review: vec![] };
        assert_eq!(whole.step(Step::Forward, &level, 22), None);
        assert_eq!(whole.slide, 4);
    }

    #[test]
    fn every_slide_fits_the_window_without_scrolling() {
        let mut failures = Vec::new();
        for level in &crate::content::builtin().levels {
            let Items::Lessons(slides) = &level.items else { continue };
            for (index, slide) in slides.iter().enumerate() {
                // An explorable slide must fit at every setting of its knob.
                let settings = explorable(slide).map_or(1, |e| e.settings());
                for knob in 0..settings {
                    let name = format!("slide {} setting {knob}", index + 1);
                    failures.extend(check_every_size(&name, |ui, lang, presenter| {
                        let at = SlideAt { index, count: slides.len(), knob, review: None };
                        draw_slide(ui, level, slide, at, lang, presenter).overflow
                    }));
                }
            }
        }
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
