//! Drawing a puzzle: the header, the work area for its kind of task (a factorization, a pick-one,
//! or grids to fill), the NF4 ladder, hints and verdicts, and the key help. The drawing only
//! reads the puzzle; what the mouse did comes back as [`Clicks`].

use bevy_egui::egui::{self, Align, Layout, Rect, RichText, Sense, Stroke, UiBuilder, pos2};

use super::input::Clicks;
use crate::content::answer::memory_gb;
use crate::content::{Lang, Level, MatrixTask, Nf4Task, Precision};
use crate::game::i18n::{Tr, label_in};
use crate::game::puzzle::{Evaluation, GridKind, HintRefused, LastTry, PuzzleRun, Status, Task, nf4_value};
use crate::game::ui::{gigabytes, grid, in_notation, overflow_below, theme, thousands};

/// Where the puzzle is in its level, and the level's score so far.
pub(super) struct Progress {
    pub index: usize,
    pub count: usize,
    pub total_score: u32,
}

/// What drawing the puzzle gave: the clicks, and how much larger than the window the drawing
/// is (≤ 1 when it fits; the screen shrinks its zoom otherwise).
pub(super) struct PuzzleDrawn {
    pub clicks: Clicks,
    pub overflow: f32,
}

/// Room kept for the key help at the bottom.
const FOOTER_ROOM: f32 = 30.0;

/// The whole puzzle screen.
pub(super) fn draw_puzzle(
    ui: &mut egui::Ui,
    level: &Level,
    puzzle: &PuzzleRun,
    progress: &Progress,
    lang: Lang,
    presenter: bool,
) -> PuzzleDrawn {
    let eval = puzzle.evaluate();
    let mut clicks = Clicks::default();
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(format!(
                "{} · {} {}/{}",
                level.title.get(lang),
                Tr::Puzzle.tr(lang),
                progress.index + 1,
                progress.count
            ))
            .size(17.0)
            .color(theme::DIM),
        );
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            ui.label(theme::big(&format!("{} {}", Tr::Score.tr(lang), progress.total_score), 22.0, theme::ACCENT));
            ui.add_space(20.0);
            let tries_color = if puzzle.wrong_tries > 0 { theme::BAD } else { theme::DIM };
            ui.label(theme::big(&format!("{} {}", Tr::Tries.tr(lang), puzzle.wrong_tries), 22.0, tries_color));
        });
    });
    ui.label(theme::big(puzzle.prompt.get(lang), 26.0, theme::INK));
    ui.add_space(6.0);
    if matches!(puzzle.task, Task::Nf4(Nf4Task::Quantize { .. } | Nf4Task::Dequantize { .. })) {
        // The ladder keeps a column of its own at the right, whatever the work area holds.
        let full = ui.available_rect_before_wrap();
        let split = full.max.x - LADDER_WIDTH;
        let work = Rect::from_min_max(full.min, pos2(split - 16.0, full.max.y));
        let side = Rect::from_min_max(pos2(split, full.min.y), full.max);
        ui.scope_builder(UiBuilder::new().max_rect(work).layout(Layout::top_down(Align::Min)), |ui| {
            draw_work_area(ui, puzzle, &eval, lang, &mut clicks);
            ui.add_space(6.0);
            draw_feedback(ui, puzzle, &eval, lang, presenter);
            draw_debrief(ui, &eval, lang);
        });
        ui.scope_builder(UiBuilder::new().max_rect(side).layout(Layout::top_down(Align::Min)), |ui| {
            draw_ladder(ui, puzzle, lang, &mut clicks);
        });
    } else {
        draw_work_area(ui, puzzle, &eval, lang, &mut clicks);
        ui.add_space(6.0);
        draw_feedback(ui, puzzle, &eval, lang, presenter);
        draw_debrief(ui, &eval, lang);
    }
    let overflow = overflow_below(ui, FOOTER_ROOM);
    theme::footer(ui, &controls_line(puzzle, lang, presenter));
    PuzzleDrawn { clicks, overflow }
}

/// Width of the NF4 ladder's column (its rungs never wrap).
const LADDER_WIDTH: f32 = 230.0;

/// The task's figures and inputs (by kind), its facts, and the CHECK / HINT buttons.
fn draw_work_area(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, clicks: &mut Clicks) {
    match &puzzle.task {
        Task::Matrix(MatrixTask::Factorize { .. }) => draw_factorization(ui, puzzle, eval, lang, clicks),
        Task::Matrix(MatrixTask::BestApprox { .. }) | Task::Nf4(Nf4Task::CompareError { .. }) => {
            draw_options(ui, puzzle, eval, lang, clicks)
        }
        _ => draw_figures_and_grids(ui, puzzle, eval, lang, clicks),
    }
    draw_facts(ui, eval, lang);
    // The memory calculator: every precision for this model, once solved.
    if let Task::Nf4(Nf4Task::Memory { model, params, .. }) = &puzzle.task
        && !puzzle.is_playing()
    {
        draw_memory_table(ui, model, *params, lang);
    }
    ui.add_space(6.0);
    draw_buttons(ui, puzzle, lang, clicks);
}

/// An editable grid, with the cursor while the puzzle is played; a click selects a cell.
fn input_grid(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, g: usize, lang: Lang, clicks: &mut Clicks) {
    let cursor = (puzzle.is_playing() && puzzle.cursor.grid == g).then_some((puzzle.cursor.row, puzzle.cursor.col));
    let label = label_in(&puzzle.inputs[g].label, lang);
    if let Some((r, c)) = grid::grid_input(ui, label, &puzzle.inputs[g], &eval.marks[g], cursor, lang) {
        clicks.cell = Some((g, r, c));
    }
}

/// target ΔW = B × A → the live B·A, and the rank buttons.
fn draw_factorization(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, clicks: &mut Clicks) {
    ui.horizontal_wrapped(|ui| {
        if let Some(target) = eval.figures.first() {
            grid::matrix_view(ui, &format!("{} ΔW", Tr::Target.tr(lang)), &target.matrix, None, lang);
        }
        ui.label(theme::big("=", 36.0, theme::INK));
        input_grid(ui, puzzle, eval, 0, lang, clicks);
        ui.label(theme::big("×", 36.0, theme::INK));
        input_grid(ui, puzzle, eval, 1, lang, clicks);
        ui.label(theme::big("→", 36.0, theme::INK));
        if let Some(live) = eval.figures.get(1) {
            grid::matrix_view(ui, "B·A", &live.matrix, live.marks.as_ref(), lang);
        }
    });
    ui.horizontal(|ui| {
        // The shapes follow the rank the player picks (the prompt names the smallest one).
        let (b, a) = (&puzzle.inputs[0], &puzzle.inputs[1]);
        let shapes = format!("B {}×{} · A {}×{}", b.rows, b.cols, a.rows, a.cols);
        let rank = puzzle.factor_rank().unwrap_or(0);
        ui.label(RichText::new(format!("{} r = {rank}   {shapes}", Tr::Rank.tr(lang))).size(20.0));
        if ui.button("[ −").clicked() {
            clicks.rank = Some(-1);
        }
        if ui.button("+ ]").clicked() {
            clicks.rank = Some(1);
        }
    });
}

/// A pick-one task: the matrix (for a best approximation), then the options, each clickable.
fn draw_options(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, clicks: &mut Clicks) {
    let mut figures = eval.figures.iter();
    if matches!(puzzle.task, Task::Matrix(_))
        && let Some(m) = figures.next()
    {
        grid::matrix_view(ui, &m.label, &m.matrix, None, lang);
        ui.add_space(6.0);
    }
    ui.horizontal_wrapped(|ui| {
        for (i, f) in figures.enumerate() {
            let selected = puzzle.chosen == Some(i);
            let color = if selected { theme::ACCENT } else { theme::DIM };
            let inner = egui::Frame::new()
                .stroke(Stroke::new(if selected { theme::BORDER } else { 2.0 }, color))
                .inner_margin(egui::Margin::same(8))
                .show(ui, |ui| {
                    grid::matrix_view(
                        ui,
                        &format!("{} {}", if selected { "▶" } else { "" }, f.label),
                        &f.matrix,
                        None,
                        lang,
                    )
                });
            if ui.interact(inner.response.rect, ui.id().with(("pick", i)), Sense::click()).clicked() {
                clicks.choice = Some(i);
            }
        }
    });
}

/// The task's figures in a row, then the grids to fill.
fn draw_figures_and_grids(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, clicks: &mut Clicks) {
    ui.horizontal_wrapped(|ui| {
        for f in &eval.figures {
            grid::matrix_view(ui, label_in(&f.label, lang), &f.matrix, f.marks.as_ref(), lang);
        }
    });
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        for g in 0..puzzle.inputs.len() {
            ui.label(RichText::new(format!("{}:", Tr::YourAnswer.tr(lang))).size(18.0).color(theme::DIM));
            input_grid(ui, puzzle, eval, g, lang, clicks);
        }
    });
}

/// Parameter counts, absmax, errors.
fn draw_facts(ui: &mut egui::Ui, eval: &Evaluation, lang: Lang) {
    if eval.facts.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        for fact in &eval.facts {
            ui.label(RichText::new(format!("{}: ", fact.key.tr(lang))).size(18.0).color(theme::DIM));
            // A plain count reads better grouped: 134 515 008 / 134,515,008.
            let value = match fact.value.parse::<u64>() {
                Ok(n) => thousands(n, lang),
                Err(_) => in_notation(&fact.value, lang),
            };
            ui.label(RichText::new(value).size(20.0).color(theme::INK));
            ui.add_space(16.0);
        }
    });
}

fn draw_memory_table(ui: &mut egui::Ui, model: &str, params: u64, lang: Lang) {
    egui::Grid::new("memory").striped(true).spacing([28.0, 4.0]).show(ui, |ui| {
        for p in [Precision::Fp32, Precision::Bf16, Precision::Int8, Precision::Nf4, Precision::Nf4DoubleQuant] {
            ui.label(RichText::new(format!("{model} {}", p.label())).size(19.0));
            ui.label(RichText::new(gigabytes(memory_gb(params, p), lang)).size(19.0).color(theme::GOOD));
            ui.end_row();
        }
    });
}

/// ENTER · CHECK (NEXT once over) and, while playing, H · HINT (n/m).
/// Two buttons share the row in equal columns, so neither runs into the NF4 ladder beside them.
fn draw_buttons(ui: &mut egui::Ui, puzzle: &PuzzleRun, lang: Lang, clicks: &mut Clicks) {
    let label = if puzzle.is_playing() { Tr::Check } else { Tr::Next };
    let check = format!("ENTER · {}", label.tr(lang));
    if !puzzle.is_playing() || puzzle.hints.is_empty() {
        ui.horizontal(|ui| clicks.check |= theme::menu_item(ui, &check, true, true).clicked());
        return;
    }
    let enabled = puzzle.hint_available();
    let hint = format!("H · {} ({}/{})", Tr::Hint.tr(lang), puzzle.hints_shown, puzzle.hints.len());
    ui.columns(2, |columns| {
        clicks.check |= theme::menu_item(&mut columns[0], &check, true, true).clicked();
        clicks.hint |= theme::menu_item(&mut columns[1], &hint, false, enabled).clicked() && enabled;
    });
}

/// The 16-rung NF4 ladder; the selected weight's rung is highlighted, rungs are clickable.
fn draw_ladder(ui: &mut egui::Ui, puzzle: &PuzzleRun, lang: Lang, clicks: &mut Clicks) {
    let selected: Option<u8> = puzzle
        .inputs
        .first()
        .filter(|g| g.kind == GridKind::Codes)
        .and_then(|g| g.value(0, puzzle.cursor.col))
        .map(|v| v as u8);
    theme::boxed(theme::HEART).show(ui, |ui| {
        ui.vertical(|ui| {
            ui.spacing_mut().item_spacing.y = 1.0;
            ui.label(theme::big(Tr::Nf4Ladder.tr(lang), 20.0, theme::HEART));
            for code in (0..16u8).rev() {
                let is_sel = selected == Some(code);
                let text = in_notation(&format!("{:>2} │ {:>+8.4}", code, nf4_value(code)), lang);
                let color = if is_sel { theme::ACCENT } else { theme::INK };
                let r = ui.add(
                    egui::Label::new(
                        RichText::new(if is_sel { format!("▶{text}") } else { format!(" {text}") })
                            .size(17.0)
                            .color(color),
                    )
                    .extend()
                    .sense(Sense::click()),
                );
                if r.clicked() {
                    clicks.rung = Some(code);
                }
            }
        })
    });
}

fn draw_feedback(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, presenter: bool) {
    for hint in puzzle.hints.iter().take(puzzle.hints_shown) {
        ui.label(RichText::new(format!("💡 {}", hint.get(lang))).size(19.0).color(theme::ACCENT));
    }
    if let Some(refused) = puzzle.hint_refused {
        let why = match refused {
            HintRefused::AfterAWrongTry => Tr::HintAfterWrongTry,
            HintRefused::NoneLeft => Tr::NoHintsLeft,
            HintRefused::NoHints => Tr::NoHints,
        };
        ui.label(RichText::new(format!("💡 {}", why.tr(lang))).size(18.0).color(theme::DIM));
    }
    if let Some(note) = &eval.note {
        ui.label(RichText::new(note.get(lang)).size(17.0).color(theme::BAD));
    }
    match puzzle.status {
        Status::Solved { score, bonus, stars } => {
            theme::boxed(theme::GOOD).show(ui, |ui| {
                ui.label(theme::big(
                    &format!("✔ {} +{score}  {}", Tr::Solved.tr(lang), theme::stars(stars)),
                    26.0,
                    theme::GOOD,
                ));
                if bonus > 0 {
                    ui.label(
                        RichText::new(format!("{} +{bonus}", Tr::RankBonus.tr(lang))).size(19.0).color(theme::ACCENT),
                    );
                }
            });
        }
        Status::Revealed => {
            ui.label(theme::big(Tr::TheAnswerWas.tr(lang), 22.0, theme::ACCENT));
        }
        Status::Playing if puzzle.last_try == LastTry::Incomplete => {
            ui.label(theme::big(Tr::FillEveryCell.tr(lang), 21.0, theme::ACCENT));
        }
        Status::Playing if puzzle.last_wrong() => {
            let mut text = format!("✖ {}", Tr::NotYet.tr(lang));
            if let LastTry::Wrong(why) = &puzzle.last_try {
                text = format!("✖ {}", why.get(lang));
            }
            if puzzle.hint_available() {
                text.push_str(&format!("  H · {}", Tr::Hint.tr(lang)));
            }
            if puzzle.can_give_up() {
                text.push_str(match lang {
                    Lang::Es => "  G · ver una solución",
                    Lang::En => "  G · show a solution",
                });
            }
            ui.label(theme::big(&text, 21.0, theme::BAD));
        }
        Status::Playing if presenter => {
            ui.label(RichText::new(Tr::Reveal.tr(lang)).size(17.0).color(theme::DIM));
        }
        Status::Playing => {}
    }
}

/// After a pick-one puzzle: the numbers behind the right option and why it wins.
fn draw_debrief(ui: &mut egui::Ui, eval: &Evaluation, lang: Lang) {
    if let Some((numbers, why)) = &eval.debrief {
        ui.label(RichText::new(numbers.get(lang)).size(17.0).color(theme::INK));
        ui.label(RichText::new(why.tr(lang)).size(18.0).color(theme::GOOD));
    }
}

fn controls_line(puzzle: &PuzzleRun, lang: Lang, presenter: bool) -> String {
    let base = match (&puzzle.task, puzzle.choices > 0) {
        (_, true) => Tr::ControlsQuiz.tr(lang).to_owned(),
        (Task::Nf4(Nf4Task::Quantize { .. }), _) => Tr::ControlsNf4.tr(lang).to_owned(),
        (Task::Matrix(MatrixTask::Factorize { .. }), _) => {
            format!("{}  · [ ] {}", Tr::ControlsGrid.tr(lang), Tr::Rank.tr(lang))
        }
        // One number to type (a count, a rank, an absmax, a memory size): no cells to move between.
        _ if puzzle.inputs.iter().map(|g| g.cells.len()).sum::<usize>() == 1 => Tr::ControlsNumber.tr(lang).to_owned(),
        _ => Tr::ControlsGrid.tr(lang).to_owned(),
    };
    if presenter { format!("{base}  ·  {}", Tr::Reveal.tr(lang)) } else { base }
}
