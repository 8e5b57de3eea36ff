//! The screens without a window: their state is spawned when a screen opens and despawned when
//! it closes (their egui drawing never runs here).
#![cfg(feature = "gui")]

mod common;

use bevy::prelude::*;

use common::send;
use lora_arcade::content::builtin;
use lora_arcade::game::progress::LevelOutcome;
use lora_arcade::game::screens::ScreensPlugin;
use lora_arcade::game::screens::map::LevelMap;
use lora_arcade::game::screens::pause::PauseMenu;
use lora_arcade::game::screens::results::ResultsMenu;
use lora_arcade::game::screens::title::TitleMenu;
use lora_arcade::game::ui::MenuCursor;
use lora_arcade::game::{Course, GameCommand, Screen};

/// The game's rules and its screens over the shipped course, saving into `dir`.
fn app_with_screens(dir: &std::path::Path) -> App {
    let mut app = common::headless(Course::new(builtin().levels), dir);
    app.add_plugins(ScreensPlugin);
    app.update();
    app
}

/// The cursor of the menu marked `M`, if that menu is on screen.
fn menu_cursor<M: Component>(app: &mut App) -> Option<usize> {
    let world = app.world_mut();
    world.query_filtered::<&MenuCursor, With<M>>().iter(world).next().map(|c| c.0)
}

fn move_menu_cursor<M: Component>(app: &mut App, to: usize) {
    let world = app.world_mut();
    world.query_filtered::<&mut MenuCursor, With<M>>().single_mut(world).unwrap().0 = to;
}

#[test]
fn a_menu_cursor_starts_at_the_top_each_time_its_screen_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_screens(dir.path());

    assert_eq!(menu_cursor::<TitleMenu>(&mut app), Some(0));
    move_menu_cursor::<TitleMenu>(&mut app, 2);
    send(&mut app, GameCommand::Start);
    assert_eq!(menu_cursor::<TitleMenu>(&mut app), None, "the title's menu left with it");
    send(&mut app, GameCommand::Goto(Screen::Title));
    assert_eq!(menu_cursor::<TitleMenu>(&mut app), Some(0));

    // The map's selected card, through a level and its results.
    send(&mut app, GameCommand::Goto(Screen::Map));
    move_menu_cursor::<LevelMap>(&mut app, 4);
    send(&mut app, GameCommand::OpenLevel(0));
    assert_eq!(menu_cursor::<LevelMap>(&mut app), None);
    let lessons = app.world().resource::<Course>().levels[0].clone();
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(&lessons, 0, 3)));
    assert_eq!(menu_cursor::<ResultsMenu>(&mut app), Some(0));
    move_menu_cursor::<ResultsMenu>(&mut app, 1);
    send(&mut app, GameCommand::Goto(Screen::Map));
    assert_eq!(menu_cursor::<ResultsMenu>(&mut app), None);
    assert_eq!(menu_cursor::<LevelMap>(&mut app), Some(0));

    // The pause menu over the map: its own cursor, fresh each time it opens.
    send(&mut app, GameCommand::Pause);
    move_menu_cursor::<PauseMenu>(&mut app, 3);
    assert_eq!(menu_cursor::<LevelMap>(&mut app), Some(0), "the map keeps its cursor under the pause menu");
    send(&mut app, GameCommand::Resume);
    assert_eq!(menu_cursor::<PauseMenu>(&mut app), None);
    send(&mut app, GameCommand::Pause);
    assert_eq!(menu_cursor::<PauseMenu>(&mut app), Some(0));
}

/// Finishing a level says what it opened (on the results and then the map), once.
#[test]
fn a_finished_level_announces_what_it_unlocked() {
    use lora_arcade::content::LevelKind;
    use lora_arcade::game::NewlyUnlocked;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_screens(dir.path());
    let course = app.world().resource::<Course>().clone();
    let first_quiz = course.levels.iter().position(|l| l.kind() == LevelKind::Quiz).unwrap();
    let map = course.map();
    let next_quiz = (first_quiz + 1..map.len()).find(|&i| map[i].kind == LevelKind::Quiz);
    send(&mut app, GameCommand::Goto(Screen::Map));
    send(&mut app, GameCommand::OpenLevel(first_quiz));
    let level = &course.levels[first_quiz];
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(level, 900, 3)));
    assert_eq!(*app.world().resource::<State<Screen>>().get(), Screen::Results);
    let unlocked = app.world().resource::<NewlyUnlocked>().clone();
    if let Some(next) = next_quiz {
        assert!(unlocked.levels.contains(&next), "{unlocked:?}");
    }
    assert!(!unlocked.levels.contains(&first_quiz), "it was open already");
    assert!(!unlocked.boss, "one kind passed is not enough for the boss");
    send(&mut app, GameCommand::Goto(Screen::Map));
    assert_eq!(app.world().resource::<NewlyUnlocked>().clone(), unlocked, "still said on the map");
    send(&mut app, GameCommand::Goto(Screen::Title));
    assert_eq!(*app.world().resource::<NewlyUnlocked>(), NewlyUnlocked::default(), "said once");
}

/// A score that makes its level's table waits for initials; entered, it is saved with them (and
/// read back by a new game); lessons and zero scores never ask.
#[test]
fn a_high_score_is_kept_with_the_players_initials() {
    use lora_arcade::content::LevelKind;
    use lora_arcade::game::PendingHighScore;
    use lora_arcade::game::save::SaveStore;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_screens(dir.path());
    let course = app.world().resource::<Course>().clone();
    let quiz = course.levels.iter().position(|l| l.kind() == LevelKind::Quiz).unwrap();
    let level = course.levels[quiz].clone();
    send(&mut app, GameCommand::Goto(Screen::Map));
    send(&mut app, GameCommand::OpenLevel(quiz));
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(&level, 1200, 2)));
    let pending = app.world().resource::<PendingHighScore>().0.clone().expect("a first score makes the table");
    assert_eq!((pending.place, pending.score), (0, 1200));
    send(&mut app, GameCommand::EnterInitials("bad initials".into()));
    assert!(app.world().resource::<PendingHighScore>().0.is_some(), "not three letters: still waiting");
    send(&mut app, GameCommand::EnterInitials("abc".into()));
    assert!(app.world().resource::<PendingHighScore>().0.is_none());

    // A better run of the same level goes above it.
    send(&mut app, GameCommand::OpenLevel(quiz));
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(&level, 2000, 3)));
    assert_eq!(app.world().resource::<PendingHighScore>().0.as_ref().map(|p| p.place), Some(0));
    send(&mut app, GameCommand::EnterInitials("ZED".into()));

    let saved = SaveStore::in_dir(dir.path()).load().data.high_scores;
    let table: Vec<(&str, u32)> = saved.table(&level.id).iter().map(|e| (e.initials.as_str(), e.score)).collect();
    assert_eq!(table, [("ZED", 2000), ("ABC", 1200)]);
    assert_eq!(saved.offered_initials().text(), "ZED", "the last initials are offered next time");

    // Lessons score nothing, and a score of 0 never makes a table.
    send(&mut app, GameCommand::OpenLevel(0));
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(&course.levels[0], 0, 3)));
    assert!(app.world().resource::<PendingHighScore>().0.is_none());
    send(&mut app, GameCommand::OpenLevel(quiz));
    send(&mut app, GameCommand::FinishLevel(LevelOutcome::of(&level, 0, 0)));
    assert!(app.world().resource::<PendingHighScore>().0.is_none());
}

/// A save written before high scores existed loads with empty tables and its progress intact.
#[test]
fn a_save_from_before_high_scores_still_loads() {
    use lora_arcade::game::save::SaveStore;
    let dir = tempfile::tempdir().unwrap();
    let old = "(version: 1, settings: (lang: Es, sound: false), progress: (levels: {\"quiz-basics\": (stars: 2, best_score: 900)}))";
    std::fs::write(dir.path().join("save.ron"), old).unwrap();
    let loaded = SaveStore::in_dir(dir.path()).load();
    assert!(loaded.warning.is_none(), "{:?}", loaded.warning);
    assert!(loaded.data.progress.passed("quiz-basics"));
    assert!(loaded.data.high_scores.tables.is_empty());
}

/// A quiz's results offer the slides that teach what it missed: the review opens the lessons on
/// those slides alone, in deck order; opening the lessons afterwards shows the whole deck again.
#[test]
fn a_review_opens_only_the_missed_slides_then_the_deck_is_whole_again() {
    use lora_arcade::game::screens::lesson::LessonRun;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app_with_screens(dir.path());
    let course = app.world().resource::<Course>().clone();
    let lessons = course.levels.iter().position(|l| l.id == "lessons").unwrap();
    let lesson_run = |app: &mut App| {
        let world = app.world_mut();
        world.query::<&LessonRun>().iter(world).next().map(|r| (r.level, r.slide, r.review.clone()))
    };
    let lessons_items = match &course.levels[lessons].items {
        lora_arcade::content::Items::Lessons(slides) => slides.clone(),
        _ => unreachable!(),
    };
    let at = |id: &str| lessons_items.iter().position(|s| s.id == id).unwrap();

    send(&mut app, GameCommand::Goto(Screen::Map));
    send(&mut app, GameCommand::Review(vec!["qlora".into(), "fine-tuning".into(), "no-such-slide".into()]));
    assert_eq!(*app.world().resource::<State<Screen>>().get(), Screen::Lesson);
    let (fine_tuning, qlora) = (at("fine-tuning"), at("qlora"));
    assert_eq!(lesson_run(&mut app), Some((lessons, fine_tuning, vec![fine_tuning, qlora])));

    send(&mut app, GameCommand::Goto(Screen::Map));
    send(&mut app, GameCommand::OpenLevel(lessons));
    assert_eq!(lesson_run(&mut app), Some((lessons, 0, vec![])), "the review was used up");
}
