//! Results of the level just played: score, stars, passed or not; back to the map or retry.

use bevy::prelude::*;
use bevy_egui::egui::{self, Align, Key, Layout, Vec2};

use super::map::{kind_name, unlocked_line};
use super::{draw_while, with_menu};
use crate::content::{Lang, LevelKind};
use crate::game::audio::{PlaySfx, Sfx};
use crate::game::high_scores::{HighScore, Initials, TABLE_SIZE};
use crate::game::i18n::Tr;
use crate::game::progress::LevelOutcome;
use crate::game::ui::effects::Effects;
use crate::game::ui::keys::{Typed, TypingText};
use crate::game::ui::{FOOTER_ROOM, Keys, MenuCursor, ScreenUi, ZoomCap, menu, overflow_below, theme, thousands};
use crate::game::{Course, GameCommand, LastOutcome, NewlyUnlocked, PendingEntry, PendingHighScore, Screen};

pub fn plugin(app: &mut App) {
    with_menu::<ResultsMenu, _>(app, Screen::Results);
    app.init_resource::<TypingText>();
    app.add_systems(OnEnter(Screen::Results), |mut commands: Commands| {
        commands.spawn((CountUp::default(), DespawnOnExit(Screen::Results)));
    })
    .add_systems(OnExit(Screen::Results), enter_initials_left_unsaved);
    draw_while(app, Screen::Results, results_ui);
}

/// Leaving before the initials were entered (the pause menu's BACK TO MAP) keeps the score under
/// the initials offered, and lets a letter be a hotkey again.
fn enter_initials_left_unsaved(
    pending: Res<PendingHighScore>,
    data: Res<crate::game::GameData>,
    mut typing: ResMut<TypingText>,
    mut commands: MessageWriter<GameCommand>,
) {
    typing.0 = false;
    if pending.0.is_some() {
        commands.write(GameCommand::EnterInitials(data.save.high_scores.offered_initials().text()));
    }
}

/// Seconds the score takes to count up, then the pause between two stars.
const COUNT_SECONDS: f64 = 1.0;
const STAR_SECONDS: f64 = 0.35;

/// The score counting up and the stars landing one by one, as an arcade's results do; any
/// confirm key shows the end at once (and only the next one picks from the menu).
#[derive(Component, Default, Debug)]
pub struct CountUp {
    /// When the screen was first drawn (seconds of real time).
    started: Option<f64>,
    /// Stars already landed (each lands with a sound).
    stars_landed: u8,
    skipped: bool,
    /// The initials being entered for a new high score.
    initials: Option<Initials>,
    /// The place the new score took in the table, once entered.
    entered: Option<usize>,
}

impl CountUp {
    /// The score and stars shown `t` seconds in, for a final `score` and `stars`.
    pub fn shown(t: f64, score: u32, stars: u8) -> (u32, u8) {
        let counted = (t / COUNT_SECONDS).clamp(0.0, 1.0);
        // Ease out: fast at first, settling on the score.
        let eased = 1.0 - (1.0 - counted).powi(3);
        let landed = ((t - COUNT_SECONDS) / STAR_SECONDS).floor() + 1.0;
        ((f64::from(score) * eased).round() as u32, landed.clamp(0.0, f64::from(stars)) as u8)
    }

    /// Seconds until everything has landed.
    pub fn seconds(stars: u8) -> f64 {
        COUNT_SECONDS + STAR_SECONDS * f64::from(stars.saturating_sub(1)) + 0.05
    }
}

/// The results' menu: back to the map, retry.
#[derive(Component, Default)]
pub struct ResultsMenu;

#[allow(clippy::too_many_arguments)]
fn results_ui(
    mut screen: ScreenUi,
    course: Res<Course>,
    last: Res<LastOutcome>,
    unlocked: Res<NewlyUnlocked>,
    pending: Res<PendingHighScore>,
    mut commands: MessageWriter<GameCommand>,
    mut cursor: Single<&mut MenuCursor, With<ResultsMenu>>,
    mut count_up: Single<&mut CountUp>,
    (time, effects, mut typing, mut cap): (Res<Time<Real>>, Res<Effects>, ResMut<TypingText>, ResMut<ZoomCap>),
    mut sfx: MessageWriter<PlaySfx>,
) -> Result {
    let mut frame = screen.frame()?;
    let lang = frame.lang;
    let Some(outcome) = &last.0 else {
        commands.write(GameCommand::Goto(Screen::Map));
        return Ok(());
    };
    let now = time.elapsed_secs_f64();
    let started = *count_up.started.get_or_insert(now);
    let scored = outcome.kind != LevelKind::Lessons;
    // Screenshots (effects off) and players who asked for less motion see the end at once.
    let animate = !effects.disabled && !screen.data().save.settings.reduce_motion;
    let counting = scored && animate && !count_up.skipped && now - started < CountUp::seconds(outcome.stars);
    if counting && frame.keys.confirm() {
        // The first key shows the end; the menu waits for the next.
        count_up.skipped = true;
        frame.keys = Default::default();
    }
    let (score_shown, stars_shown) = if count_up.skipped || !counting {
        (outcome.score, outcome.stars)
    } else {
        CountUp::shown(now - started, outcome.score, outcome.stars)
    };
    if scored && stars_shown > count_up.stars_landed {
        count_up.stars_landed = stars_shown;
        // The last star lands with the chime (and the burst) of a right answer.
        sfx.write(PlaySfx(if stars_shown == outcome.stars { Sfx::Correct } else { Sfx::Select }));
    }
    if counting {
        frame.ctx.request_repaint();
    }

    // A score that made the level's table asks for initials before the menu comes back.
    let entering = pending.0.as_ref().filter(|p| p.level_id == outcome.level_id && !counting);
    typing.0 = entering.is_some();
    if let Some(entry) = entering {
        let count_up = &mut **count_up;
        let initials = count_up.initials.get_or_insert_with(|| screen.data().save.high_scores.offered_initials());
        if edit_initials(initials, &frame.keys) {
            count_up.entered = Some(entry.place);
            commands.write(GameCommand::EnterInitials(initials.text()));
        }
        frame.keys = Default::default();
    }
    let data = screen.data();
    let table = scored.then(|| data.save.high_scores.table(&outcome.level_id));
    let view = TableView {
        table: table.unwrap_or_default(),
        entering: entering.zip(count_up.initials),
        highlight: count_up.entered,
    };

    let results = ResultsView {
        course: &course,
        outcome,
        shown: (score_shown, stars_shown),
        table: view,
        unlocked: unlocked_line(&course, &unlocked, lang),
        total_score: data.save.progress.total_score(),
        lang,
    };
    let mut command = None;
    frame.show_fitted(&mut cap, 0, |ui| {
        let drawn = draw_results(ui, &results, &frame.keys, &mut cursor);
        command = drawn.command;
        drawn.below
    });
    commands.write_batch(command);
    Ok(())
}

/// Everything the results screen shows.
struct ResultsView<'a> {
    course: &'a Course,
    outcome: &'a LevelOutcome,
    /// The score and stars shown so far (they count up).
    shown: (u32, u8),
    table: TableView<'a>,
    /// What the level opened, said under the summary.
    unlocked: Option<String>,
    total_score: u64,
    lang: Lang,
}

/// What drawing the results found: the command chosen, and how much taller than the window
/// they are (≤ 1 when they fit).
struct ResultsDrawn {
    command: Option<GameCommand>,
    below: f32,
}

/// The headline, stars, score and table, what the level opened, the slides to review and the
/// menu.
fn draw_results(ui: &mut egui::Ui, r: &ResultsView, keys: &Keys, cursor: &mut MenuCursor) -> ResultsDrawn {
    let (course, outcome, lang, view) = (r.course, r.outcome, r.lang, &r.table);
    let (score_shown, stars_shown) = r.shown;
    let scored = outcome.kind != LevelKind::Lessons;
    let index = course.levels.iter().position(|l| l.id == outcome.level_id);
    let mut below = 0.0;
    let mut command = None;
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space(12.0);
        theme::title(ui, Tr::Results.tr(lang));
        if let Some(level) = index.map(|i| &course.levels[i]) {
            ui.label(theme::big(
                &format!("{} · {}", kind_name(level.kind(), lang), level.title.get(lang)),
                26.0,
                theme::INK,
            ));
        }
        ui.add_space(10.0);
        let summary = |ui: &mut egui::Ui| {
            ui.with_layout(Layout::top_down(Align::Center), |ui| {
                let (headline, color) =
                    if outcome.passed() { (Tr::Passed, theme::GOOD) } else { (Tr::Failed, theme::BAD) };
                ui.label(theme::big(headline.tr(lang), 42.0, color));
                // Lessons score nothing: stars and points belong to the quizzes and puzzles.
                let how = match outcome.kind {
                    LevelKind::Lessons => Tr::LessonsScoreNothing,
                    LevelKind::Quiz => Tr::QuizScoring,
                    LevelKind::Matrix | LevelKind::Nf4 => Tr::PuzzleScoring,
                };
                if scored {
                    ui.label(theme::big(&theme::stars(stars_shown), 68.0, theme::ACCENT));
                    ui.label(theme::big(
                        &format!("{} {}", Tr::Score.tr(lang), thousands(score_shown.into(), lang)),
                        34.0,
                        theme::INK,
                    ));
                }
                ui.label(theme::big(how.tr(lang), 18.0, theme::DIM));
            });
        };
        if scored {
            ui.columns(2, |cols| {
                summary(&mut cols[0]);
                high_score_panel(&mut cols[1], view, lang);
            });
        } else {
            summary(ui);
        }
        ui.add_space(6.0);
        if let Some(line) = &r.unlocked {
            ui.label(theme::big(line, 22.0, theme::GOOD));
        }
        ui.label(theme::big(
            &format!("{} {}", Tr::TotalScore.tr(lang), thousands(r.total_score, lang)),
            20.0,
            theme::DIM,
        ));
        // What the run missed, and where the lessons teach it.
        let review: Vec<String> = outcome
            .review
            .iter()
            .filter_map(|id| crate::content::coverage::slide_place(&course.levels, id))
            .map(|(_, number, _)| number.to_string())
            .collect();
        if !review.is_empty() {
            let line = format!("▶ {} {}", Tr::ToReview.tr(lang), review.join(" · "));
            ui.label(theme::big(&line, 20.0, theme::ACCENT));
        }
        ui.add_space(12.0);
        if view.entering.is_none() {
            let mut items =
                vec![(Tr::BackToMap.tr(lang).to_owned(), true), (Tr::Retry.tr(lang).to_owned(), index.is_some())];
            if !review.is_empty() {
                items.push((Tr::ReviewSlides.tr(lang).to_owned(), true));
            }
            let height = 60.0 * items.len() as f32;
            ui.allocate_ui(Vec2::new(440.0, height), |ui| match menu(ui, keys, cursor, &items) {
                Some(0) => command = Some(GameCommand::Goto(Screen::Map)),
                Some(1) => command = index.map(GameCommand::OpenLevel),
                Some(2) => command = Some(GameCommand::Review(outcome.review.clone())),
                _ => {}
            });
        }
        below = overflow_below(ui, FOOTER_ROOM);
    });
    theme::footer(ui, if view.entering.is_some() { Tr::InitialsHelp.tr(lang) } else { Tr::ControlsMenus.tr(lang) });
    ResultsDrawn { command, below }
}

/// Initials keys: ▲ ▼ letter, ◀ ▶ (or BACKSPACE) move, typed letters; true on ENTER.
fn edit_initials(initials: &mut Initials, keys: &Keys) -> bool {
    for typed in &keys.typed {
        match typed {
            Typed::Text(text) => text.chars().for_each(|c| initials.type_char(c)),
            Typed::Key(Key::ArrowUp) => initials.step(1),
            Typed::Key(Key::ArrowDown) => initials.step(-1),
            Typed::Key(Key::ArrowLeft | Key::Backspace) => initials.move_cursor(-1),
            Typed::Key(Key::ArrowRight) => initials.move_cursor(1),
            Typed::Key(Key::Enter) => return true,
            Typed::Key(_) => {}
        }
    }
    false
}

/// What the high-score panel shows.
struct TableView<'a> {
    table: &'a [HighScore],
    /// The entry waiting for initials, and the initials so far.
    entering: Option<(&'a PendingEntry, Initials)>,
    /// The place just entered (highlighted).
    highlight: Option<usize>,
}

/// The level's table; while a new score waits for initials, its line is the letter entry.
fn high_score_panel(ui: &mut egui::Ui, view: &TableView, lang: Lang) {
    theme::boxed(theme::ACCENT).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let heading = if view.entering.is_some() { Tr::NewHighScore } else { Tr::HighScores };
        ui.label(theme::big(heading.tr(lang), 26.0, theme::ACCENT));
        let mut lines: Vec<Option<&HighScore>> = view.table.iter().map(Some).collect();
        if let Some((entry, _)) = view.entering {
            lines.insert(entry.place, None);
        }
        if lines.is_empty() {
            ui.label(theme::big(Tr::NoHighScores.tr(lang), 18.0, theme::DIM));
        }
        egui::Grid::new("high-scores").num_columns(4).spacing(Vec2::new(18.0, 6.0)).show(ui, |ui| {
            for (place, line) in lines.iter().take(TABLE_SIZE).enumerate() {
                ui.label(theme::big(&format!("{}.", place + 1), 22.0, theme::DIM));
                match (line, view.entering) {
                    (Some(entry), _) => {
                        let color = if view.highlight == Some(place) { theme::GOOD } else { theme::INK };
                        ui.label(theme::big(&entry.initials, 24.0, color));
                        ui.label(theme::big(&thousands(entry.score.into(), lang), 22.0, color));
                        ui.label(theme::big(&theme::stars(entry.stars), 20.0, theme::ACCENT));
                    }
                    (None, Some((entry, initials))) => {
                        ui.horizontal(|ui| initials_entry(ui, &initials));
                        ui.label(theme::big(&thousands(entry.score.into(), lang), 22.0, theme::GOOD));
                        ui.label(theme::big(&format!("◀ {}", Tr::YourInitials.tr(lang)), 16.0, theme::GOOD));
                    }
                    (None, None) => {}
                }
                ui.end_row();
            }
        });
    });
}

/// Three letter boxes, the one under the cursor highlighted with ▲ ▼ marks.
fn initials_entry(ui: &mut egui::Ui, initials: &Initials) {
    for (slot, letter) in initials.text().chars().enumerate() {
        let here = slot == initials.cursor;
        let frame = egui::Frame::new()
            .fill(if here { theme::PANEL_DARK } else { theme::PANEL })
            .stroke(egui::Stroke::new(if here { 3.0 } else { 1.0 }, if here { theme::ACCENT } else { theme::DIM }))
            .inner_margin(egui::Margin::symmetric(6, 0));
        frame.show(ui, |ui| {
            ui.label(theme::big(&letter.to_string(), 24.0, if here { theme::ACCENT } else { theme::INK }));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_counts_up_then_the_stars_land_one_by_one() {
        assert_eq!(CountUp::shown(0.0, 1850, 2), (0, 0));
        let (half, stars) = CountUp::shown(0.5, 1850, 2);
        assert!(half > 925 && half < 1850, "eased: past half way at half time ({half})");
        assert_eq!(stars, 0);
        assert_eq!(CountUp::shown(COUNT_SECONDS, 1850, 2), (1850, 1));
        assert_eq!(CountUp::shown(COUNT_SECONDS + STAR_SECONDS, 1850, 2), (1850, 2));
        assert_eq!(CountUp::shown(60.0, 1850, 2), (1850, 2), "never past the stars earned");
        assert!(CountUp::seconds(2) > COUNT_SECONDS + STAR_SECONDS);
        // Monotonic: the score never counts down.
        let scores: Vec<u32> = (0..40).map(|i| CountUp::shown(f64::from(i) * 0.05, 777, 3).0).collect();
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
    }

    /// The results of the lessons, of a quiz with slides to review (its menu of three), and of a
    /// puzzle level whose score waits for initials beside a full table: every one fits at every
    /// size and zoom (shrunk as the game does where needed), and its Spanish reads as Spanish.
    #[test]
    fn every_kind_of_results_fits_and_reads_in_spanish() {
        use crate::game::ui::layout_check::check_every_size;
        let course = Course::new(crate::content::builtin().levels);
        let level = |kind| &course.levels[course.first_of(kind).unwrap()];
        let table: Vec<HighScore> = ["ANA", "LUI", "MAR", "PAZ", "BEA"]
            .iter()
            .enumerate()
            .map(|(i, name)| HighScore { initials: (*name).into(), score: 2400 - 300 * i as u32, stars: 2 })
            .collect();
        let quiz = LevelOutcome {
            review: vec!["lora-idea".into(), "forward".into(), "qlora".into()],
            ..LevelOutcome::of(level(LevelKind::Quiz), 1850, 2)
        };
        let puzzles = LevelOutcome::of(level(LevelKind::Matrix), 2250, 3);
        let lessons = LevelOutcome::of(level(LevelKind::Lessons), 0, 3);
        let pending = PendingEntry { level_id: puzzles.level_id.clone(), score: 2250, stars: 3, place: 1 };
        let initials = Initials::parse("JOE").unwrap();
        let cases = [("lessons", &lessons, None), ("quiz", &quiz, None), ("puzzles", &puzzles, Some(&pending))];
        let mut failures = Vec::new();
        for (name, outcome, entering) in cases {
            failures.extend(check_every_size(&format!("results {name}"), |ui, lang, _| {
                let view = ResultsView {
                    course: &course,
                    outcome,
                    shown: (outcome.score, outcome.stars),
                    table: TableView { table: &table, entering: entering.map(|e| (e, initials)), highlight: None },
                    unlocked: Some(format!("» {}: {}", Tr::NowOpen.tr(lang), level(LevelKind::Nf4).title.get(lang))),
                    total_score: 12_345,
                    lang,
                };
                draw_results(ui, &view, &Keys::default(), &mut MenuCursor::default()).below
            }));
        }
        assert!(failures.is_empty(), "{} cases:\n{}", failures.len(), failures.join("\n"));
    }
}
