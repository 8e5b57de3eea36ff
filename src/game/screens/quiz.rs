//! The quiz: multiple choice by mouse or keys 1–4, countdown, hearts, score, streak, the
//! explanation after every answer; missed questions come back later in the run.
//!
//! The keys become [`QuizAction`]s, the actions change the [`QuizScreen`], and the drawing only
//! reads it (a click becomes an action too).

use std::collections::HashMap;

use bevy::prelude::*;
use bevy::window::RequestRedraw;
use bevy_egui::egui::{self, Align, Key, Layout, RichText, Sense, Stroke, Vec2};

use super::draw_while;
use crate::content::{Items, Lang, Level, Question, Text};
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::i18n::Tr;
use crate::game::progress::LevelOutcome;
use crate::game::quiz::{Phase, QuizRun, SECONDS_PER_QUESTION, START_HEARTS, Verdict};
use crate::game::ui::{Keys, ScreenUi, ZoomCap, theme};
use crate::game::{ActiveLevel, Course, GameCommand, GameData, Pause, Screen};

pub fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Screen::Quiz), start_quiz)
        .add_systems(Update, tick_quiz.run_if(in_state(Screen::Quiz)).run_if(in_state(Pause::Running)));
    draw_while(app, Screen::Quiz, quiz_ui);
}

#[derive(Component, Debug)]
pub struct QuizScreen {
    pub level: usize,
    pub run: QuizRun,
    pub cursor: usize,
    pub reported: bool,
    /// Per slide id a question can name: where to review it (“QLoRA: LoRA on a 4-bit model”,
    /// Lessons, slide 11).
    pub review: HashMap<String, Text>,
}

/// For each slide a question of `questions` names, the line that sends a player back to it.
fn review_lines(levels: &[Level], questions: &[Question]) -> HashMap<String, Text> {
    questions
        .iter()
        .filter_map(|q| q.taught_on.as_ref())
        .filter_map(|t| {
            let (pack, number, title) = crate::content::coverage::slide_place(levels, &t.slide)?;
            let line = |lang| {
                let (open, close) = if lang == Lang::Es { ("«", "»") } else { ("“", "”") };
                let (review, slide) = (Tr::Review.tr(lang), Tr::SlideNumber.tr(lang));
                format!("▶ {review} {open}{}{close} ({}, {slide} {number})", title.get(lang), pack.get(lang))
            };
            Some((t.slide.clone(), Text::new(line(Lang::Es), line(Lang::En))))
        })
        .collect()
}

fn start_quiz(mut commands: Commands, active: Res<ActiveLevel>, course: Res<Course>, data: Res<GameData>) {
    let mut questions = match course.levels.get(active.0).map(|l| &l.items) {
        Some(Items::Quiz(q)) => q.clone(),
        _ => Vec::new(),
    };
    // After the written questions: compute-and-predict ones with new numbers every play.
    if !questions.is_empty() {
        let generated = crate::game::quiz_gen::for_pack(&questions, &mut rand::rng());
        questions.extend(generated);
    }
    // Presenter mode: no timers.
    let limit = (!data.save.settings.presenter).then_some(SECONDS_PER_QUESTION);
    let review = review_lines(&course.levels, &questions);
    commands.spawn((
        QuizScreen { level: active.0, run: QuizRun::new(questions, limit), cursor: 0, reported: false, review },
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

/// What the player does to the quiz.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuizAction {
    /// ▲▼: move the highlight over the choices.
    Move(i32),
    /// Answer with a choice (1–4, Enter on the highlight, or a click).
    Answer(usize),
    /// Presenter mode: show the answer without scoring.
    Reveal,
    /// On to the next question after the explanation.
    Next,
}

impl QuizAction {
    /// The actions this frame's keys ask for, in the phase the quiz is in.
    fn from_keys(keys: &Keys, quiz: &QuizScreen, presenter: bool) -> Vec<QuizAction> {
        let mut actions = Vec::new();
        match quiz.run.phase {
            Phase::Asking { .. } if quiz.run.question().is_some_and(|q| !q.choices.is_empty()) => {
                actions.push(QuizAction::Move(keys.vertical()));
                if presenter && keys.pressed(Key::R) {
                    actions.push(QuizAction::Reveal);
                }
                if let Some(choice) = keys.number_choice() {
                    actions.push(QuizAction::Answer(choice));
                }
                // Enter answers the highlighted choice, whatever number was pressed with it.
                if keys.pressed(Key::Enter) {
                    actions.push(QuizAction::Answer(quiz.cursor));
                }
            }
            Phase::Answered { .. } if keys.confirm() || (presenter && keys.forward()) => {
                actions.push(QuizAction::Next);
            }
            _ => {}
        }
        actions
    }
}

impl QuizScreen {
    /// Applies one action; returns the sound it makes.
    fn apply(&mut self, action: QuizAction) -> Option<Sfx> {
        match action {
            QuizAction::Move(step) => {
                let n = self.run.question().map_or(0, |q| q.choices.len()) as i32;
                if n > 0 {
                    self.cursor = (self.cursor as i32 + step).rem_euclid(n) as usize;
                }
                None
            }
            QuizAction::Answer(choice) if matches!(self.run.phase, Phase::Asking { .. }) => {
                self.cursor = choice;
                self.run.answer(choice);
                Some(match &self.run.phase {
                    Phase::Answered { verdict: Verdict::Correct { .. } } => Sfx::Correct,
                    Phase::Answered { .. } => Sfx::Wrong,
                    _ => Sfx::Move,
                })
            }
            QuizAction::Answer(_) => None,
            QuizAction::Reveal => {
                self.run.reveal();
                None
            }
            QuizAction::Next => {
                self.run.next();
                self.cursor = 0;
                None
            }
        }
    }

    /// The finished run's outcome, once.
    fn take_outcome(&mut self, level: &Level) -> Option<LevelOutcome> {
        if !self.run.is_finished() || self.reported {
            return None;
        }
        self.reported = true;
        let review = self.run.slides_to_review();
        Some(LevelOutcome { review, ..LevelOutcome::of(level, self.run.score, self.run.stars()) })
    }
}

fn quiz_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    mut quiz: Single<&mut QuizScreen>,
    mut commands: MessageWriter<GameCommand>,
    mut sfx: MessageWriter<PlaySfx>,
    mut cap: ResMut<ZoomCap>,
) -> Result {
    let frame = screen.frame()?;
    let quiz = &mut **quiz;
    let Some(level) = course.levels.get(quiz.level) else {
        return Ok(());
    };
    // Moving and moving on show at once; an answer is drawn from the next frame, as a click is.
    let (answers, actions): (Vec<_>, Vec<_>) = QuizAction::from_keys(&frame.keys, quiz, frame.presenter)
        .into_iter()
        .partition(|a| matches!(a, QuizAction::Answer(_)));
    for action in actions {
        sfx.write_batch(quiz.apply(action).map(PlaySfx));
    }
    if let Some(outcome) = quiz.take_outcome(level) {
        commands.write(GameCommand::FinishLevel(outcome));
        return Ok(());
    }
    // Each question is fitted to the window on its own (a long one on a projector is drawn smaller).
    let mut clicked = None;
    frame.show_fitted(&mut cap, quiz.run.asked as usize, |ui| {
        let overflow;
        (clicked, overflow) = draw_quiz(ui, quiz, level, frame.lang, frame.presenter);
        overflow
    });
    if let Some(action) = answers.last().copied().or(clicked.map(QuizAction::Answer)) {
        sfx.write_batch(quiz.apply(action).map(PlaySfx));
    }
    Ok(())
}

/// The status bar, the question and its choices, and after an answer the verdict with the
/// explanation. Returns the choice clicked, if any, and how much taller than the window it all
/// is (≤ 1 when it fits).
fn draw_quiz(ui: &mut egui::Ui, quiz: &QuizScreen, level: &Level, lang: Lang, presenter: bool) -> (Option<usize>, f32) {
    draw_status_bar(ui, &quiz.run, lang);
    ui.separator();
    let (Some(asked), Some(question)) = (quiz.run.current, quiz.run.question()) else {
        return (None, 0.0);
    };
    let again = if asked.retry { format!(" {}", Tr::AskedAgain.tr(lang)) } else { String::new() };
    let shown = quiz.run.asked;
    let total = shown as usize + quiz.run.remaining();
    ui.label(
        RichText::new(format!("{} · {} {shown}/{total}{again}", level.title.get(lang), Tr::Question.tr(lang)))
            .size(17.0)
            .color(theme::DIM),
    );
    ui.add_space(4.0);
    ui.label(theme::big(question.prompt.get(lang), 30.0, theme::INK));
    ui.add_space(12.0);
    let verdict = match &quiz.run.phase {
        Phase::Answered { verdict } => Some(verdict),
        _ => None,
    };
    let clicked = draw_choices(ui, question, verdict, quiz.cursor, lang);
    if let Some(verdict) = verdict {
        let review = question.taught_on.as_ref().and_then(|t| quiz.review.get(&t.slide));
        draw_verdict(ui, question, verdict, review.filter(|_| !matches!(verdict, Verdict::Correct { .. })), lang);
    }
    let help = match (verdict, presenter) {
        (Some(_), _) => format!("ENTER · {}", Tr::Continue.tr(lang)),
        (None, true) => format!("{}   ·   {}", Tr::ControlsQuiz.tr(lang), Tr::Reveal.tr(lang)),
        (None, false) => Tr::ControlsQuiz.tr(lang).to_owned(),
    };
    let overflow = crate::game::ui::overflow_below(ui, crate::game::ui::FOOTER_ROOM);
    theme::footer(ui, &help);
    (clicked, overflow)
}

/// Hearts, score, streak and the countdown.
fn draw_status_bar(ui: &mut egui::Ui, run: &QuizRun, lang: Lang) {
    ui.horizontal(|ui| {
        let lost = START_HEARTS.saturating_sub(run.hearts) as usize;
        ui.label(theme::big(&"♥".repeat(run.hearts as usize), 34.0, theme::HEART));
        ui.label(theme::big(&"♥".repeat(lost), 34.0, theme::PANEL));
        ui.add_space(24.0);
        theme::stat(ui, Tr::Score.tr(lang), &run.score.to_string(), theme::ACCENT);
        ui.add_space(16.0);
        theme::stat(ui, Tr::Streak.tr(lang), &format!("×{}", run.streak), theme::GOOD);
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if let Phase::Asking { time_left: Some(left) } = run.phase {
                let frac = (left / SECONDS_PER_QUESTION).clamp(0.0, 1.0);
                let (rect, _) = ui.allocate_exact_size(Vec2::new(240.0, 22.0), Sense::hover());
                let painter = ui.painter();
                painter.rect_stroke(rect, 0.0, Stroke::new(3.0, theme::INK), egui::StrokeKind::Inside);
                let mut fill = rect.shrink(4.0);
                fill.set_width(fill.width() * frac);
                painter.rect_filled(fill, 0.0, if frac < 0.3 { theme::BAD } else { theme::GOOD });
                ui.label(theme::big(&format!("{} {:>2}", Tr::Time.tr(lang), left.ceil() as i32), 24.0, theme::INK));
            }
        });
    });
}

/// The choices: highlighted while asking, ✔/✖ once answered. Returns the choice clicked.
fn draw_choices(
    ui: &mut egui::Ui,
    question: &Question,
    verdict: Option<&Verdict>,
    cursor: usize,
    lang: Lang,
) -> Option<usize> {
    let mut clicked = None;
    for (i, choice) in question.choices.iter().enumerate() {
        let is_answer = question.is_correct(i);
        let (color, symbol) = match verdict {
            Some(Verdict::Wrong { chosen }) if *chosen == i => (theme::BAD, "✖"),
            Some(_) if is_answer => (theme::GOOD, "✔"),
            Some(_) => (theme::DIM, " "),
            None if i == cursor => (theme::ACCENT, "▶"),
            None => (theme::INK, " "),
        };
        let selected = verdict.is_none() && i == cursor;
        let frame = egui::Frame::new()
            .fill(if selected { theme::PANEL } else { theme::PANEL_DARK })
            .stroke(Stroke::new(if selected || symbol != " " { theme::BORDER } else { 2.0 }, color))
            .inner_margin(egui::Margin::symmetric(14, 8));
        let ink = if verdict.is_some() && !is_answer { theme::DIM } else { theme::INK };
        let inner = frame.show(ui, |ui| {
            ui.set_width(ui.available_width() - 30.0);
            ui.horizontal_wrapped(|ui| {
                ui.label(theme::big(&format!("{symbol} {})", i + 1), 26.0, color));
                ui.label(RichText::new(choice.get(lang)).size(24.0).color(ink));
            });
        });
        if verdict.is_none() && ui.interact(inner.response.rect, ui.id().with(("choice", i)), Sense::click()).clicked()
        {
            clicked = Some(i);
        }
        ui.add_space(4.0);
    }
    clicked
}

/// Right, wrong, out of time or revealed, and why the right answer is right.
/// The verdict and the explanation; after a miss, `review` says which slide teaches it.
fn draw_verdict(ui: &mut egui::Ui, question: &Question, verdict: &Verdict, review: Option<&Text>, lang: Lang) {
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
        if let Some(review) = review {
            ui.label(RichText::new(review.get(lang)).size(17.0).color(theme::ACCENT));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::ui::layout_check::check_every_size;

    /// Every question of both packs, generated ones included, asked and then answered wrongly
    /// (the longest verdict): inside the window at every size and zoom, and its Spanish free of
    /// English words and decimal points.
    #[test]
    fn every_question_fits_and_reads_in_spanish() {
        let mut failures = Vec::new();
        let course = crate::content::builtin();
        assert!(course.is_clean(), "{:?}", course.problems);
        for (index, level) in course.levels.iter().enumerate() {
            let Items::Quiz(written) = &level.items else { continue };
            let mut questions = written.clone();
            questions.extend(crate::game::quiz_gen::for_pack(written, &mut rand::rng()));
            let count = questions.len();
            let mut run = QuizRun::with_seed(questions, Some(SECONDS_PER_QUESTION), 7);
            for _ in 0..count {
                let Some(question) = run.question().cloned() else { break };
                let review = HashMap::new();
                let asking = QuizScreen { level: index, run: run.clone(), cursor: 0, reported: false, review };
                let wrong = (question.answer + 1) % question.choices.len();
                run.answer(wrong);
                let review = review_lines(&course.levels, std::slice::from_ref(&question));
                assert!(
                    question.taught_on.as_ref().is_some_and(|t| review.contains_key(&t.slide)),
                    "{}: no slide to review",
                    question.id
                );
                let answered = QuizScreen { level: index, run: run.clone(), cursor: wrong, reported: false, review };
                for (state, screen) in [("asked", &asking), ("answered", &answered)] {
                    let name = format!("{} {} {state}", level.id, question.id);
                    failures.extend(check_every_size(&name, |ui, lang, presenter| {
                        draw_quiz(ui, screen, level, lang, presenter).1
                    }));
                }
                run.next();
            }
        }
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
