//! Matrix and NF4 levels: a run of puzzles with editable grids, a live check by the maths on
//! every edit (✔/✖ per cell), hints after wrong tries, and scoring.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, RichText, Sense, Stroke};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::{Keys, UiSet, grid};
use crate::content::{Items, Lang, MatrixTask, Nf4Task, Precision};
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::i18n::Tr;
use crate::game::progress::LevelOutcome;
use crate::game::puzzle::{Evaluation, GridKind, PuzzleRun, Status, Task, memory_gb, nf4_value};
use crate::game::{ActiveLevel, Course, GameCommand, GameData, Pause, Screen, Showcase, theme};

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Matrix), start_level(Screen::Matrix))
        .add_systems(OnEnter(Screen::Nf4), start_level(Screen::Nf4))
        .add_systems(
            EguiPrimaryContextPass,
            puzzle_ui
                .run_if(in_state(Screen::Matrix).or_else(in_state(Screen::Nf4)))
                .in_set(UiSet::Screen),
        );
}

#[derive(Component, Debug)]
pub struct PuzzleLevel {
    pub level: usize,
    pub puzzles: Vec<PuzzleRun>,
    pub index: usize,
    pub reported: bool,
}

impl PuzzleLevel {
    pub fn new(level: usize, items: &Items) -> PuzzleLevel {
        let puzzles = match items {
            Items::Matrix(ps) => ps.iter().map(PuzzleRun::from_matrix).collect(),
            Items::Nf4(ps) => ps.iter().map(PuzzleRun::from_nf4).collect(),
            _ => Vec::new(),
        };
        PuzzleLevel {
            level,
            puzzles,
            index: 0,
            reported: false,
        }
    }

    pub fn score(&self) -> u32 {
        self.puzzles.iter().map(PuzzleRun::score).sum()
    }

    /// The level's stars: the average of the puzzles' stars, rounded down.
    pub fn stars(&self) -> u8 {
        if self.puzzles.is_empty() {
            return 0;
        }
        let sum: u32 = self.puzzles.iter().map(|p| u32::from(p.stars())).sum();
        (sum / self.puzzles.len() as u32) as u8
    }
}

fn start_level(screen: Screen) -> impl Fn(Commands, Res<ActiveLevel>, Res<Course>, Option<Res<Showcase>>) {
    move |mut commands, active, course, showcase| {
        let Some(level) = course.levels.get(active.0) else {
            return;
        };
        let mut state = PuzzleLevel::new(active.0, &level.items);
        if showcase.is_some() {
            showcase_puzzle(&mut state);
        }
        commands.spawn((state, DespawnOnExit(screen)));
    }
}

/// For screenshots: the first factorization (or NF4 quantization) puzzle, part-way solved with
/// one cell still wrong, so both marks show.
fn showcase_puzzle(state: &mut PuzzleLevel) {
    let found = state.puzzles.iter().position(|p| {
        matches!(
            p.task,
            Task::Matrix(MatrixTask::Factorize { .. }) | Task::Nf4(Nf4Task::Quantize { .. })
        )
    });
    let Some(index) = found else { return };
    state.index = index;
    let puzzle = &mut state.puzzles[index];
    match puzzle.task.clone() {
        Task::Matrix(MatrixTask::Factorize {
            example_b, example_a, ..
        }) => {
            for (g, m) in [(0, &example_b), (1, &example_a)] {
                for (r, row) in m.0.iter().enumerate() {
                    for (c, v) in row.iter().enumerate() {
                        // Leave A's last cell with the wrong sign.
                        let last = g == 1 && r + 1 == m.rows() && c + 1 == m.cols();
                        let v = if last { -v } else { *v };
                        puzzle.select(g, r, c);
                        for ch in crate::game::puzzle::format_number(v).chars() {
                            puzzle.type_char(ch);
                        }
                    }
                }
            }
            puzzle.select(1, example_a.rows() - 1, example_a.cols() - 1);
        }
        Task::Nf4(Nf4Task::Quantize { block, .. }) => {
            let scale = block.iter().fold(0.0_f64, |m, w| m.max(w.abs()));
            for (i, w) in block.iter().enumerate().take(block.len().saturating_sub(1)) {
                puzzle.select(0, 0, i);
                puzzle.set_code(crate::game::puzzle::nf4_code_of(*w, scale));
            }
            puzzle.select(0, 0, block.len().saturating_sub(1));
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn puzzle_ui(
    mut contexts: EguiContexts,
    data: Res<GameData>,
    course: Res<Course>,
    pause: Res<State<Pause>>,
    mut state: Single<&mut PuzzleLevel>,
    mut commands: MessageWriter<GameCommand>,
    mut sfx: MessageWriter<PlaySfx>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let input = Keys::unless_paused(&ctx, pause.get());
    let lang = data.lang();
    let presenter = data.save.settings.presenter;
    let state = &mut **state;
    let Some(level) = course.levels.get(state.level) else {
        return Ok(());
    };

    if state.index >= state.puzzles.len() {
        if !state.reported {
            state.reported = true;
            commands.write(GameCommand::FinishLevel(LevelOutcome {
                level_id: level.id.clone(),
                kind: level.kind(),
                score: state.score(),
                stars: state.stars(),
            }));
        }
        return Ok(());
    }
    let count = state.puzzles.len();
    let index = state.index;
    let total_score = state.score();
    let puzzle = &mut state.puzzles[index];

    // Keyboard.
    let mut advance = false;
    if puzzle.is_playing() {
        handle_keys(puzzle, &input, presenter, &mut sfx);
    } else if input.confirm() || (presenter && input.forward()) {
        advance = true;
    }
    if input.pressed(Key::Backspace) && !puzzle.is_playing() {
        advance = true;
    }

    let eval = puzzle.evaluate();
    let mut clicks = Clicks::default();
    theme::screen(&ctx, |ui| {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!(
                    "{} · {} {}/{}",
                    level.title.get(lang),
                    Tr::Puzzle.tr(lang),
                    index + 1,
                    count
                ))
                .size(17.0)
                .color(theme::DIM),
            );
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                ui.label(theme::big(
                    &format!("{} {total_score}", Tr::Score.tr(lang)),
                    22.0,
                    theme::ACCENT,
                ));
                ui.add_space(20.0);
                let tries_color = if puzzle.wrong_tries > 0 { theme::BAD } else { theme::DIM };
                ui.label(theme::big(
                    &format!("{} {}", Tr::Tries.tr(lang), puzzle.wrong_tries),
                    22.0,
                    tries_color,
                ));
            });
        });
        ui.label(theme::big(puzzle.prompt.get(lang), 26.0, theme::INK));
        ui.add_space(6.0);
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_max_width(if matches!(puzzle.task, Task::Nf4(Nf4Task::Quantize { .. })) {
                    860.0
                } else {
                    1200.0
                });
                draw_work_area(ui, puzzle, &eval, lang, &mut clicks);
            });
            if matches!(
                puzzle.task,
                Task::Nf4(Nf4Task::Quantize { .. } | Nf4Task::Dequantize { .. })
            ) {
                ui.add_space(12.0);
                draw_ladder(ui, puzzle, lang, &mut clicks);
            }
        });
        ui.add_space(6.0);
        draw_feedback(ui, puzzle, &eval, lang, presenter);
        theme::footer(ui, &controls_line(puzzle, lang, presenter));
    });

    // Mouse.
    if puzzle.is_playing() {
        if let Some((g, r, c)) = clicks.cell {
            puzzle.select(g, r, c);
        }
        if let Some(code) = clicks.rung {
            puzzle.set_code(code);
        }
        if let Some(choice) = clicks.choice {
            puzzle.choose(choice);
        }
        if let Some(d) = clicks.rank {
            puzzle.change_rank(d);
        }
        if clicks.check {
            submit(puzzle, &mut sfx);
        }
        if clicks.hint {
            puzzle.open_hint();
        }
    } else if clicks.check {
        advance = true;
    }
    if advance {
        state.index += 1;
    }
    Ok(())
}

fn submit(puzzle: &mut PuzzleRun, sfx: &mut MessageWriter<PlaySfx>) {
    let ok = puzzle.submit();
    sfx.write(PlaySfx(if ok { Sfx::Correct } else { Sfx::Wrong }));
}

fn handle_keys(puzzle: &mut PuzzleRun, input: &Keys, presenter: bool, sfx: &mut MessageWriter<PlaySfx>) {
    let codes = puzzle
        .inputs
        .get(puzzle.cursor.grid)
        .is_some_and(|g| g.kind == GridKind::Codes);
    for key in &input.keys {
        match key {
            Key::ArrowLeft => puzzle.move_cursor(0, -1),
            Key::ArrowRight => puzzle.move_cursor(0, 1),
            Key::ArrowUp if codes => puzzle.step_code(1),
            Key::ArrowDown if codes => puzzle.step_code(-1),
            Key::ArrowUp => puzzle.move_cursor(-1, 0),
            Key::ArrowDown => puzzle.move_cursor(1, 0),
            Key::Tab => puzzle.next_grid(),
            Key::Backspace | Key::Delete => puzzle.backspace(),
            Key::Enter => submit(puzzle, sfx),
            Key::H => {
                if puzzle.open_hint() {
                    sfx.write(PlaySfx(Sfx::Select));
                }
            }
            Key::G if puzzle.can_give_up() => puzzle.reveal(),
            Key::R if presenter => puzzle.reveal(),
            Key::OpenBracket => puzzle.change_rank(-1),
            Key::CloseBracket => puzzle.change_rank(1),
            _ => {}
        }
    }
    if puzzle.choices > 0 {
        if let Some(i) = input.number_choice() {
            puzzle.choose(i);
        }
    } else {
        for ch in input.text.chars() {
            puzzle.type_char(ch);
        }
    }
}

#[derive(Default)]
struct Clicks {
    cell: Option<(usize, usize, usize)>,
    rung: Option<u8>,
    choice: Option<usize>,
    rank: Option<i32>,
    check: bool,
    hint: bool,
}

fn draw_work_area(ui: &mut egui::Ui, puzzle: &PuzzleRun, eval: &Evaluation, lang: Lang, clicks: &mut Clicks) {
    let cursor_in =
        |g: usize| (puzzle.is_playing() && puzzle.cursor.grid == g).then_some((puzzle.cursor.row, puzzle.cursor.col));
    let mut input_grid = |ui: &mut egui::Ui, g: usize| {
        if let Some((r, c)) = grid::grid_input(ui, &puzzle.inputs[g], &eval.marks[g], cursor_in(g)) {
            clicks.cell = Some((g, r, c));
        }
    };
    match &puzzle.task {
        Task::Matrix(MatrixTask::Factorize { .. }) => {
            ui.horizontal_wrapped(|ui| {
                if let Some(target) = eval.figures.first() {
                    grid::matrix_view(ui, &format!("{} ΔW", Tr::Target.tr(lang)), &target.matrix, None);
                }
                ui.label(theme::big("=", 36.0, theme::INK));
                input_grid(ui, 0);
                ui.label(theme::big("×", 36.0, theme::INK));
                input_grid(ui, 1);
                ui.label(theme::big("→", 36.0, theme::INK));
                if let Some(live) = eval.figures.get(1) {
                    grid::matrix_view(ui, "B·A", &live.matrix, live.marks.as_ref());
                }
            });
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{} r = {}",
                        Tr::Rank.tr(lang),
                        puzzle.factor_rank().unwrap_or(0)
                    ))
                    .size(20.0),
                );
                if ui.button("[ −").clicked() {
                    clicks.rank = Some(-1);
                }
                if ui.button("+ ]").clicked() {
                    clicks.rank = Some(1);
                }
            });
        }
        Task::Matrix(MatrixTask::BestApprox { .. }) | Task::Nf4(Nf4Task::CompareError { .. }) => {
            let mut figures = eval.figures.iter();
            if matches!(puzzle.task, Task::Matrix(_))
                && let Some(m) = figures.next()
            {
                grid::matrix_view(ui, &m.label, &m.matrix, None);
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
                            )
                        });
                    if ui
                        .interact(inner.response.rect, ui.id().with(("pick", i)), Sense::click())
                        .clicked()
                    {
                        clicks.choice = Some(i);
                    }
                }
            });
        }
        _ => {
            ui.horizontal_wrapped(|ui| {
                for f in &eval.figures {
                    grid::matrix_view(ui, &f.label, &f.matrix, f.marks.as_ref());
                }
            });
            ui.add_space(6.0);
            ui.horizontal_wrapped(|ui| {
                for g in 0..puzzle.inputs.len() {
                    ui.label(
                        RichText::new(format!("{}:", Tr::YourAnswer.tr(lang)))
                            .size(18.0)
                            .color(theme::DIM),
                    );
                    input_grid(ui, g);
                }
            });
        }
    }
    // Facts (parameter counts, absmax, errors).
    if !eval.facts.is_empty() {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            for fact in &eval.facts {
                ui.label(
                    RichText::new(format!("{}: ", fact.key.tr(lang)))
                        .size(18.0)
                        .color(theme::DIM),
                );
                ui.label(RichText::new(&fact.value).size(20.0).color(theme::INK));
                ui.add_space(16.0);
            }
        });
    }
    // The memory calculator: every precision for this model, once solved.
    if let Task::Nf4(Nf4Task::Memory { model, params, .. }) = &puzzle.task
        && !puzzle.is_playing()
    {
        egui::Grid::new("memory")
            .striped(true)
            .spacing([28.0, 4.0])
            .show(ui, |ui| {
                for p in [
                    Precision::Fp32,
                    Precision::Bf16,
                    Precision::Int8,
                    Precision::Nf4,
                    Precision::Nf4DoubleQuant,
                ] {
                    ui.label(RichText::new(format!("{model} {}", p.label())).size(19.0));
                    ui.label(
                        RichText::new(format!("{:.1} GB", memory_gb(*params, p)))
                            .size(19.0)
                            .color(theme::GOOD),
                    );
                    ui.end_row();
                }
            });
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let label = if puzzle.is_playing() { Tr::Check } else { Tr::Next };
        if theme::menu_item(ui, &format!("ENTER · {}", label.tr(lang)), true, true).clicked() {
            clicks.check = true;
        }
        if puzzle.is_playing() && !puzzle.hints.is_empty() {
            let enabled = puzzle.hint_available();
            if theme::menu_item(
                ui,
                &format!(
                    "H · {} ({}/{})",
                    Tr::Hint.tr(lang),
                    puzzle.hints_shown,
                    puzzle.hints.len()
                ),
                false,
                enabled,
            )
            .clicked()
                && enabled
            {
                clicks.hint = true;
            }
        }
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
            ui.label(theme::big(Tr::Nf4Ladder.tr(lang), 20.0, theme::HEART));
            for code in (0..16u8).rev() {
                let is_sel = selected == Some(code);
                let text = format!("{:>2} │ {:>+8.4}", code, nf4_value(code));
                let color = if is_sel { theme::ACCENT } else { theme::INK };
                let r = ui.add(
                    egui::Label::new(
                        RichText::new(if is_sel {
                            format!("▶{text}")
                        } else {
                            format!(" {text}")
                        })
                        .size(17.0)
                        .color(color),
                    )
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
        ui.label(
            RichText::new(format!("💡 {}", hint.get(lang)))
                .size(19.0)
                .color(theme::ACCENT),
        );
    }
    if let Some(note) = &eval.note {
        ui.label(RichText::new(note).size(17.0).color(theme::BAD));
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
                        RichText::new(format!("{} +{bonus}", Tr::RankBonus.tr(lang)))
                            .size(19.0)
                            .color(theme::ACCENT),
                    );
                }
            });
        }
        Status::Revealed => {
            ui.label(theme::big(Tr::TheAnswerWas.tr(lang), 22.0, theme::ACCENT));
        }
        Status::Playing if puzzle.last_wrong => {
            let mut text = format!("✖ {}", Tr::NotYet.tr(lang));
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

fn controls_line(puzzle: &PuzzleRun, lang: Lang, presenter: bool) -> String {
    let base = match (&puzzle.task, puzzle.choices > 0) {
        (_, true) => Tr::ControlsQuiz.tr(lang).to_owned(),
        (Task::Nf4(Nf4Task::Quantize { .. }), _) => Tr::ControlsNf4.tr(lang).to_owned(),
        (Task::Matrix(MatrixTask::Factorize { .. }), _) => {
            format!("{}  · [ ] {}", Tr::ControlsGrid.tr(lang), Tr::Rank.tr(lang))
        }
        _ => Tr::ControlsGrid.tr(lang).to_owned(),
    };
    if presenter {
        format!("{base}  ·  {}", Tr::Reveal.tr(lang))
    } else {
        base
    }
}
