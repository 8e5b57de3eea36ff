//! The quiz: multiple choice by mouse or keys 1–4, countdown, hearts, score, streak, the
//! explanation after every answer; missed questions come back later in the run.

use bevy::prelude::*;
use bevy::window::RequestRedraw;
use bevy_egui::egui::{self, Align, Key, Layout, RichText, Sense, Stroke, Vec2};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass};

use super::{Keys, UiSet};
use crate::content::Items;
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::i18n::Tr;
use crate::game::progress::LevelOutcome;
use crate::game::quiz::{Phase, QuizRun, SECONDS_PER_QUESTION, START_HEARTS, Verdict};
use crate::game::{ActiveLevel, Course, GameCommand, GameData, Pause, Screen, Showcase, theme};

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Quiz), start_quiz)
        .add_systems(
            Update,
            tick_quiz
                .run_if(in_state(Screen::Quiz))
                .run_if(in_state(Pause::Running)),
        )
        .add_systems(
            EguiPrimaryContextPass,
            quiz_ui.run_if(in_state(Screen::Quiz)).in_set(UiSet::Screen),
        );
}

#[derive(Component, Debug)]
pub struct QuizScreen {
    pub level: usize,
    pub run: QuizRun,
    pub cursor: usize,
    pub reported: bool,
}

fn start_quiz(
    mut commands: Commands,
    active: Res<ActiveLevel>,
    course: Res<Course>,
    data: Res<GameData>,
    showcase: Option<Res<Showcase>>,
) {
    let questions = match course.levels.get(active.0).map(|l| &l.items) {
        Some(Items::Quiz(q)) => q.clone(),
        _ => Vec::new(),
    };
    // Presenter mode: no timers.
    let limit = (!data.save.settings.presenter).then_some(SECONDS_PER_QUESTION);
    let mut run = QuizRun::new(questions, limit);
    if showcase.is_some()
        && let Some(q) = run.question()
    {
        // Screenshots show an answered question: the miss, the right answer, the explanation.
        let wrong = (q.answer + 1) % q.choices.len().max(1);
        run.answer(wrong);
    }
    commands.spawn((
        QuizScreen {
            level: active.0,
            run,
            cursor: 0,
            reported: false,
        },
        DespawnOnExit(Screen::Quiz),
    ));
}

fn tick_quiz(
    time: Res<Time>,
    mut quiz: Single<&mut QuizScreen>,
    mut redraw: MessageWriter<RequestRedraw>,
    mut sfx: MessageWriter<PlaySfx>,
) {
    if let Phase::Asking { time_left: Some(_) } = quiz.run.phase {
        quiz.run.tick(time.delta_secs());
        if matches!(quiz.run.phase, Phase::Answered { .. }) {
            sfx.write(PlaySfx(Sfx::Wrong));
        }
        // Keep frames coming while the countdown runs (the app is otherwise reactive).
        redraw.write(RequestRedraw);
    }
}

fn quiz_ui(
    mut contexts: EguiContexts,
    data: Res<GameData>,
    course: Res<Course>,
    pause: Res<State<Pause>>,
    mut quiz: Single<&mut QuizScreen>,
    mut commands: MessageWriter<GameCommand>,
    mut sfx: MessageWriter<PlaySfx>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let input = Keys::unless_paused(&ctx, pause.get());
    let lang = data.lang();
    let presenter = data.save.settings.presenter;
    let quiz = &mut **quiz;
    let Some(level) = course.levels.get(quiz.level) else {
        return Ok(());
    };

    // Input.
    let mut pick = input.number_choice();
    match &quiz.run.phase {
        Phase::Asking { .. } => {
            let n = quiz.run.question().map_or(0, |q| q.choices.len());
            if n > 0 {
                let step = input.vertical();
                quiz.cursor = ((quiz.cursor as i32 + step).rem_euclid(n as i32)) as usize;
                if input.pressed(Key::Enter) {
                    pick = Some(quiz.cursor);
                }
                if presenter && input.pressed(Key::R) {
                    quiz.run.reveal();
                }
            }
        }
        Phase::Answered { .. } => {
            if input.confirm() || (presenter && input.forward()) {
                quiz.run.next();
                quiz.cursor = 0;
            }
            pick = None;
        }
        Phase::Finished => pick = None,
    }

    if quiz.run.is_finished() && !quiz.reported {
        quiz.reported = true;
        commands.write(GameCommand::FinishLevel(LevelOutcome {
            level_id: level.id.clone(),
            kind: level.kind(),
            score: quiz.run.score,
            stars: quiz.run.stars(),
        }));
        return Ok(());
    }

    let mut clicked = None;
    theme::screen(&ctx, |ui| {
        // Status bar.
        ui.horizontal(|ui| {
            let lost = START_HEARTS.saturating_sub(quiz.run.hearts) as usize;
            ui.label(theme::big(&"♥".repeat(quiz.run.hearts as usize), 34.0, theme::HEART));
            ui.label(theme::big(&"♥".repeat(lost), 34.0, theme::PANEL));
            ui.add_space(24.0);
            theme::stat(ui, Tr::Score.tr(lang), &quiz.run.score.to_string(), theme::ACCENT);
            ui.add_space(16.0);
            theme::stat(ui, Tr::Streak.tr(lang), &format!("×{}", quiz.run.streak), theme::GOOD);
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if let Phase::Asking { time_left: Some(left) } = quiz.run.phase {
                    let frac = (left / SECONDS_PER_QUESTION).clamp(0.0, 1.0);
                    let (rect, _) = ui.allocate_exact_size(Vec2::new(240.0, 22.0), Sense::hover());
                    let painter = ui.painter();
                    painter.rect_stroke(rect, 0.0, Stroke::new(3.0, theme::INK), egui::StrokeKind::Inside);
                    let mut fill = rect.shrink(4.0);
                    fill.set_width(fill.width() * frac);
                    painter.rect_filled(fill, 0.0, if frac < 0.3 { theme::BAD } else { theme::GOOD });
                    ui.label(theme::big(
                        &format!("{} {:>2}", Tr::Time.tr(lang), left.ceil() as i32),
                        24.0,
                        theme::INK,
                    ));
                }
            });
        });
        ui.separator();
        let Some(asked) = quiz.run.current else {
            return;
        };
        let Some(question) = quiz.run.question() else {
            return;
        };
        let again = if asked.retry {
            format!(" {}", Tr::AskedAgain.tr(lang))
        } else {
            String::new()
        };
        let shown = quiz.run.asked;
        let total = shown as usize + quiz.run.remaining();
        ui.label(
            RichText::new(format!(
                "{} · {} {shown}/{total}{again}",
                level.title.get(lang),
                Tr::Question.tr(lang)
            ))
            .size(17.0)
            .color(theme::DIM),
        );
        ui.add_space(4.0);
        ui.label(theme::big(question.prompt.get(lang), 30.0, theme::INK));
        ui.add_space(12.0);

        let answered = match &quiz.run.phase {
            Phase::Answered { verdict } => Some(verdict.clone()),
            _ => None,
        };
        for (i, choice) in question.choices.iter().enumerate() {
            let is_answer = i == question.answer;
            let (color, symbol) = match &answered {
                Some(Verdict::Wrong { chosen }) if *chosen == i => (theme::BAD, "✖"),
                Some(_) if is_answer => (theme::GOOD, "✔"),
                Some(_) => (theme::DIM, " "),
                None if i == quiz.cursor => (theme::ACCENT, "▶"),
                None => (theme::INK, " "),
            };
            let selected = answered.is_none() && i == quiz.cursor;
            let frame = egui::Frame::new()
                .fill(if selected { theme::PANEL } else { theme::PANEL_DARK })
                .stroke(Stroke::new(
                    if selected || symbol != " " { theme::BORDER } else { 2.0 },
                    color,
                ))
                .inner_margin(egui::Margin::symmetric(14, 8));
            let inner =
                frame.show(ui, |ui| {
                    ui.set_width(ui.available_width() - 30.0);
                    ui.horizontal_wrapped(|ui| {
                        ui.label(theme::big(&format!("{symbol} {}", i + 1), 26.0, color));
                        ui.label(RichText::new(choice.get(lang)).size(24.0).color(
                            if answered.is_some() && !is_answer {
                                theme::DIM
                            } else {
                                theme::INK
                            },
                        ));
                    });
                });
            if answered.is_none()
                && ui
                    .interact(inner.response.rect, ui.id().with(("choice", i)), Sense::click())
                    .clicked()
            {
                clicked = Some(i);
            }
            ui.add_space(4.0);
        }

        if let Some(verdict) = &answered {
            ui.add_space(8.0);
            let (headline, color) = match verdict {
                Verdict::Correct { points } => (format!("{} +{points}", Tr::Correct.tr(lang)), theme::GOOD),
                Verdict::Wrong { .. } => (Tr::Wrong.tr(lang).to_owned(), theme::BAD),
                Verdict::TimeUp => (Tr::TimeUp.tr(lang).to_owned(), theme::BAD),
                Verdict::Revealed => (Tr::TheAnswerWas.tr(lang).to_owned(), theme::ACCENT),
            };
            theme::boxed(color).show(ui, |ui| {
                ui.set_width(ui.available_width() - 30.0);
                ui.label(theme::big(&headline, 28.0, color));
                ui.label(RichText::new(question.explanation.get(lang)).size(21.0));
            });
        }
        let help = match (&answered, presenter) {
            (Some(_), _) => format!("ENTER · {}", Tr::Continue.tr(lang)),
            (None, true) => format!("{}   ·   {}", Tr::ControlsQuiz.tr(lang), Tr::Reveal.tr(lang)),
            (None, false) => Tr::ControlsQuiz.tr(lang).to_owned(),
        };
        theme::footer(ui, &help);
    });

    if let Some(i) = pick.or(clicked)
        && matches!(quiz.run.phase, Phase::Asking { .. })
    {
        quiz.cursor = i;
        quiz.run.answer(i);
        match &quiz.run.phase {
            Phase::Answered {
                verdict: Verdict::Correct { .. },
            } => sfx.write(PlaySfx(Sfx::Correct)),
            Phase::Answered { .. } => sfx.write(PlaySfx(Sfx::Wrong)),
            _ => sfx.write(PlaySfx(Sfx::Move)),
        };
    }
    Ok(())
}
