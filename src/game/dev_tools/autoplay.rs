//! `--autoplay-course`: the whole course played with the keyboard alone, as a player would —
//! title, how-to, map, every slide, every quiz question, every puzzle (fill-ins, factorizations,
//! NF4 codes), every results screen — then exit. Keys go in as bevy `KeyboardInput` messages of
//! the window, so they travel the same road as a player's (bevy → bevy_egui → the screens);
//! nothing is clicked and no game state is written directly. The answers come from the maths
//! (the answer engine), not from the levels' stored answers.
//!
//! It exits with an error naming the screen, level and puzzle when a key sequence does not move
//! the game on (a level that needs the mouse, a puzzle the keys cannot solve).

use std::collections::VecDeque;
use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use crate::content::MatrixTask;
use crate::content::answer::shown;
use crate::game::puzzle::{GridKind, PuzzleRun, Task, ZERO_CODE};
use crate::game::quiz::Phase;
use crate::game::screens::lesson::LessonRun;
use crate::game::screens::map::LevelMap;
use crate::game::screens::puzzle_level::PuzzleLevel;
use crate::game::screens::quiz::QuizScreen;
use crate::game::ui::MenuCursor;
use crate::game::{Course, GameData, Pause, Screen};

/// Frames between two keys: a screen reads a key on the frame after it is sent, and a change of
/// screen takes two more.
const FRAMES_PER_KEY: u32 = 2;
/// Frames to wait after a plan's last key before planning again.
const SETTLE_FRAMES: u32 = 4;
/// Plans in a row that leave the game where it was before the run is declared stuck.
const STUCK_AFTER_PLANS: u32 = 5;
/// The whole course must be played within this (a hang is an error, not a frozen test).
const WATCHDOG: Duration = Duration::from_secs(900);

/// Plays the course by keyboard and exits: success once every level is passed.
pub struct CourseAutoplayPlugin;

impl Plugin for CourseAutoplayPlugin {
    fn build(&self, app: &mut App) {
        std::thread::spawn(|| {
            std::thread::sleep(WATCHDOG);
            eprintln!("error: autoplay did not finish the course within {}s", WATCHDOG.as_secs());
            std::process::exit(3);
        });
        app.init_resource::<Autoplayer>().add_systems(Update, autoplay);
    }
}

/// One key as a keyboard sends it: the physical key and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Press {
    pub code: KeyCode,
    pub logical: Key,
}

impl Press {
    fn named(code: KeyCode, logical: Key) -> Press {
        Press { code, logical }
    }

    pub fn enter() -> Press {
        Press::named(KeyCode::Enter, Key::Enter)
    }

    pub fn tab() -> Press {
        Press::named(KeyCode::Tab, Key::Tab)
    }

    pub fn right() -> Press {
        Press::named(KeyCode::ArrowRight, Key::ArrowRight)
    }

    pub fn left() -> Press {
        Press::named(KeyCode::ArrowLeft, Key::ArrowLeft)
    }

    pub fn up() -> Press {
        Press::named(KeyCode::ArrowUp, Key::ArrowUp)
    }

    pub fn down() -> Press {
        Press::named(KeyCode::ArrowDown, Key::ArrowDown)
    }

    /// A character key of a US layout (digits, '-', '.', '[', ']').
    pub fn char(ch: char) -> Press {
        let code = match ch {
            '0' => KeyCode::Digit0,
            '1' => KeyCode::Digit1,
            '2' => KeyCode::Digit2,
            '3' => KeyCode::Digit3,
            '4' => KeyCode::Digit4,
            '5' => KeyCode::Digit5,
            '6' => KeyCode::Digit6,
            '7' => KeyCode::Digit7,
            '8' => KeyCode::Digit8,
            '9' => KeyCode::Digit9,
            '-' => KeyCode::Minus,
            '.' => KeyCode::Period,
            '[' => KeyCode::BracketLeft,
            ']' => KeyCode::BracketRight,
            other => panic!("autoplay types no {other:?}"),
        };
        Press { code, logical: Key::Character(ch.to_string().as_str().into()) }
    }

    fn text(&self) -> Option<String> {
        match &self.logical {
            Key::Character(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

/// Where the game was when a plan was made: a plan that leaves it there did nothing.
#[derive(Clone, Debug, PartialEq)]
struct Place {
    screen: Screen,
    detail: String,
}

#[derive(Resource, Default)]
struct Autoplayer {
    keys: VecDeque<Press>,
    wait: u32,
    last_place: Option<Place>,
    same_place: u32,
    sent: usize,
}

/// What the autoplayer reads of the game to choose its keys.
#[derive(bevy::ecs::system::SystemParam)]
struct GameView<'w, 's> {
    screen: Res<'w, State<Screen>>,
    pause: Res<'w, State<Pause>>,
    course: Res<'w, Course>,
    data: Res<'w, GameData>,
    map: Query<'w, 's, &'static MenuCursor, With<LevelMap>>,
    lesson: Query<'w, 's, &'static LessonRun>,
    quiz: Query<'w, 's, &'static QuizScreen>,
    puzzles: Query<'w, 's, &'static PuzzleLevel>,
}

fn autoplay(
    view: GameView,
    mut player: ResMut<Autoplayer>,
    window: Query<Entity, With<PrimaryWindow>>,
    mut input: MessageWriter<KeyboardInput>,
    mut exit: MessageWriter<AppExit>,
) {
    if player.wait > 0 {
        player.wait -= 1;
        return;
    }
    let Ok(window) = window.single() else { return };
    if let Some(press) = player.keys.pop_front() {
        send(&mut input, window, &press);
        player.sent += 1;
        player.wait = if player.keys.is_empty() { SETTLE_FRAMES } else { FRAMES_PER_KEY };
        return;
    }
    let plan = match plan(&view) {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            println!(
                "autoplay: all {} levels passed with {} keys, score {}",
                view.course.levels.len(),
                player.sent,
                view.data.save.progress.total_score()
            );
            exit.write(AppExit::Success);
            return;
        }
        Err(why) => {
            eprintln!("error: autoplay: {why}");
            exit.write(AppExit::error());
            return;
        }
    };
    let (place, keys) = plan;
    if player.last_place.as_ref() == Some(&place) {
        player.same_place += 1;
        if player.same_place >= STUCK_AFTER_PLANS {
            eprintln!("error: autoplay: the keys {keys:?} leave the game where it was: {place:?}");
            exit.write(AppExit::error());
            return;
        }
    } else {
        player.same_place = 0;
        player.last_place = Some(place);
    }
    player.keys = keys.into();
}

/// A press and its release, to the window (bevy_egui turns it into egui's key and text events).
fn send(input: &mut MessageWriter<KeyboardInput>, window: Entity, press: &Press) {
    for state in [ButtonState::Pressed, ButtonState::Released] {
        input.write(KeyboardInput {
            key_code: press.code,
            logical_key: press.logical.clone(),
            state,
            text: if state == ButtonState::Pressed { press.text().map(|t| t.as_str().into()) } else { None },
            repeat: false,
            window,
        });
    }
}

type Plan = (Place, Vec<Press>);

/// The next keys for where the game is; `None` once the course is done (every level passed,
/// back on the map).
fn plan(view: &GameView) -> Result<Option<Plan>, String> {
    let screen = *view.screen.get();
    let place = |detail: String| Place { screen, detail };
    if *view.pause.get() == Pause::Paused {
        return Err(format!("the game paused itself on {screen:?}"));
    }
    let keys = match screen {
        Screen::Title | Screen::HowToPlay | Screen::Results => (place(String::new()), vec![Press::enter()]),
        Screen::Map => {
            let progress = &view.data.save.progress;
            let map = view.course.map();
            let next = map
                .iter()
                .enumerate()
                .find(|(i, entry)| {
                    !progress.passed(&entry.id) && progress.is_unlocked(&map, *i, &view.data.save.settings)
                })
                .map(|(i, _)| i);
            let Some(target) = next else {
                if let Some(locked) = map.iter().find(|e| !progress.passed(&e.id)) {
                    return Err(format!("level {} is still locked with nothing left to play", locked.id));
                }
                return Ok(None);
            };
            let cursor = view.map.single().map_err(|_| "no map cursor on the map")?.0;
            let step = if target > cursor { Press::right() } else { Press::left() };
            let mut keys = vec![step; target.abs_diff(cursor)];
            keys.push(Press::enter());
            (place(format!("cursor {cursor} → level {target}")), keys)
        }
        Screen::Lesson => {
            let lesson = view.lesson.single().map_err(|_| "no lesson on the lesson screen")?;
            (place(format!("level {} slide {}", lesson.level, lesson.slide)), vec![Press::right()])
        }
        Screen::Quiz => {
            let quiz = view.quiz.single().map_err(|_| "no quiz on the quiz screen")?;
            let at = format!("level {} question {:?} {:?}", quiz.level, quiz.run.current, quiz.run.phase);
            let keys = match (&quiz.run.phase, quiz.run.question()) {
                (Phase::Asking { .. }, Some(q)) => {
                    let digit = char::from_digit(q.answer as u32 + 1, 10).ok_or("a quiz answer past choice 9")?;
                    vec![Press::char(digit)]
                }
                (Phase::Answered { .. }, _) => vec![Press::enter()],
                _ => return Err(format!("the quiz waits in {at}")),
            };
            (place(at), keys)
        }
        Screen::Matrix | Screen::Nf4 => {
            let level = view.puzzles.single().map_err(|_| "no puzzle level on the puzzle screen")?;
            let Some(puzzle) = level.puzzles.get(level.index) else {
                return Err(format!("level {} ended its puzzles without the results", level.level));
            };
            let at = format!("level {} puzzle {} ({}) {:?}", level.level, level.index, puzzle.id, puzzle.last_try);
            let keys = if puzzle.is_playing() { solve(puzzle)? } else { vec![Press::enter()] };
            (place(at), keys)
        }
        Screen::Boss | Screen::GameOver => return Err(format!("autoplay does not play {screen:?}")),
    };
    Ok(Some(keys))
}

/// The keys that solve a puzzle from where its cursor is: the rank first for a factorization,
/// then each editable cell in TAB order, then ENTER. Values are the maths' answers.
pub fn solve(run: &PuzzleRun) -> Result<Vec<Press>, String> {
    let expected = run.task.expected()?;
    if run.choices > 0 {
        let crate::content::answer::Expected::Choice(right) = expected else {
            return Err(format!("{}: a pick-one puzzle without a right choice", run.id));
        };
        let digit = char::from_digit(right as u32 + 1, 10).ok_or("a choice past 9")?;
        return Ok(vec![Press::char(digit), Press::enter()]);
    }
    let mut keys = Vec::new();
    let mut planned = run.clone();
    // What each editable cell must hold: (grid, row, col) → number.
    let value_of: Box<dyn Fn(usize, usize, usize) -> Option<f64>> = match &run.task {
        Task::Matrix(MatrixTask::Factorize { example_b, example_a, .. }) => {
            let rank = example_b.cols();
            let now = run.factor_rank().unwrap_or(rank);
            let bracket = if rank > now { ']' } else { '[' };
            for _ in 0..rank.abs_diff(now) {
                keys.push(Press::char(bracket));
                planned.change_rank(if rank > now { 1 } else { -1 });
            }
            let (b, a) = (example_b.clone(), example_a.clone());
            Box::new(move |grid, row, col| {
                let m = if grid == 0 { &b } else { &a };
                m.0.get(row).and_then(|r| r.get(col)).copied()
            })
        }
        _ => {
            let truth = expected.cells().ok_or_else(|| format!("{}: no cells to fill", run.id))?;
            let cols = run.inputs.first().map_or(1, |g| g.cols);
            Box::new(move |grid, row, col| if grid == 0 { truth.get(row * cols + col).copied() } else { None })
        }
    };
    let cells = planned.editable_cells();
    let start = cells.iter().position(|c| *c == planned.cursor).unwrap_or(0);
    for (n, cell) in cells.iter().cycle().skip(start).take(cells.len()).enumerate() {
        if n > 0 {
            keys.push(Press::tab());
        }
        let value = value_of(cell.grid, cell.row, cell.col)
            .ok_or_else(|| format!("{}: no answer for cell {cell:?}", run.id))?;
        let grid = &planned.inputs[cell.grid];
        let held = &grid.cell(cell.row, cell.col).text;
        match grid.kind {
            GridKind::Codes => {
                // ▲ ▼ step a code; an empty cell steps from the zero code.
                let from = held.parse::<i64>().unwrap_or(i64::from(ZERO_CODE));
                let to = value.round() as i64;
                let mut steps: Vec<Press> = if to >= from {
                    vec![Press::up(); (to - from) as usize]
                } else {
                    vec![Press::down(); (from - to) as usize]
                };
                if steps.is_empty() && held.is_empty() {
                    steps = vec![Press::up(), Press::down()];
                }
                keys.extend(steps);
            }
            GridKind::Numbers => {
                if !held.is_empty() {
                    return Err(format!("{}: cell {cell:?} already holds {held:?}", run.id));
                }
                keys.extend(shown(value).chars().map(Press::char));
            }
        }
    }
    keys.push(Press::enter());
    Ok(keys)
}
