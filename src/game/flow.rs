//! The game's rules without a window: the screens as states, the commands screens send, and
//! the one system that applies them (unlocks, recording, saving). Runs headless in tests.

use bevy::prelude::*;

use super::audio::{PlaySfx, Sfx};
use super::high_scores::{HighScore, Initials};
use super::progress::{LevelOutcome, MapEntry};
use super::save::{SaveData, SaveStore};
use crate::content::{Lang, Level, LevelKind};

/// The screens, in the order a player meets them.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    #[default]
    Title,
    HowToPlay,
    Map,
    Lesson,
    Quiz,
    Matrix,
    Nf4,
    Results,
    /// The boss stage: a real fine-tune (see [`crate::game::screens::boss`]).
    Boss,
    GameOver,
}

impl Screen {
    /// The screen that plays a level of `kind`.
    pub fn for_kind(kind: LevelKind) -> Screen {
        match kind {
            LevelKind::Lessons => Screen::Lesson,
            LevelKind::Quiz => Screen::Quiz,
            LevelKind::Matrix => Screen::Matrix,
            LevelKind::Nf4 => Screen::Nf4,
        }
    }

    /// Names accepted by `play --screen`.
    pub const NAMES: [(&'static str, Screen); 10] = [
        ("title", Screen::Title),
        ("howto", Screen::HowToPlay),
        ("map", Screen::Map),
        ("lesson", Screen::Lesson),
        ("quiz", Screen::Quiz),
        ("matrix", Screen::Matrix),
        ("nf4", Screen::Nf4),
        ("results", Screen::Results),
        ("boss", Screen::Boss),
        ("gameover", Screen::GameOver),
    ];

    pub fn parse(name: &str) -> Option<Screen> {
        Screen::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, s)| *s)
    }

    pub fn level_kind(self) -> Option<LevelKind> {
        match self {
            Screen::Lesson => Some(LevelKind::Lessons),
            Screen::Quiz => Some(LevelKind::Quiz),
            Screen::Matrix => Some(LevelKind::Matrix),
            Screen::Nf4 => Some(LevelKind::Nf4),
            _ => None,
        }
    }
}

/// The pause overlay (Esc), over whatever screen is showing.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pause {
    #[default]
    Running,
    Paused,
}

/// A settings change from the settings menu or a hotkey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingChange {
    ToggleLang,
    SetLang(Lang),
    ToggleSound,
    NextUiScale,
    TogglePresenter,
    ToggleInstructorUnlock,
    ToggleReduceMotion,
}

/// Everything the screens ask the game to do. The flow system applies them in order.
#[derive(Message, Clone, Debug, PartialEq)]
pub enum GameCommand {
    /// Title → how to play.
    Start,
    /// Go straight to a screen that needs no level (title, how to play, map, game over).
    Goto(Screen),
    /// Play the level at this index of the course (ignored while locked).
    OpenLevel(usize),
    /// Results → the lesson slides with these ids, alone (what a quiz run missed).
    Review(Vec<String>),
    /// A level run ended: record it, save, show the results.
    FinishLevel(LevelOutcome),
    /// The initials for the high score the last level made (see [`PendingHighScore`]).
    EnterInitials(String),
    /// The boss door (ignored while locked).
    OpenBoss,
    Settings(SettingChange),
    Pause,
    Resume,
    Quit,
}

/// The course: every level, in map order.
#[derive(Resource, Clone, Debug, Default)]
pub struct Course {
    pub levels: Vec<Level>,
}

impl Course {
    pub fn new(mut levels: Vec<Level>) -> Course {
        levels.sort_by_key(|l| l.order);
        Course { levels }
    }

    pub fn map(&self) -> Vec<MapEntry> {
        self.levels.iter().map(|l| MapEntry { id: l.id.clone(), kind: l.kind() }).collect()
    }

    pub fn first_of(&self, kind: LevelKind) -> Option<usize> {
        self.levels.iter().position(|l| l.kind() == kind)
    }
}

/// Settings + progress, where they are saved, and what went wrong with the save.
#[derive(Resource, Debug)]
pub struct GameData {
    pub save: SaveData,
    /// `None`: do not save (no data folder, or a bad save that could not be moved aside).
    pub store: Option<SaveStore>,
    /// Shown on the title screen.
    pub warning: Option<String>,
}

impl GameData {
    /// Loads the save from `store` (warning on a corrupt one).
    pub fn load(store: Option<SaveStore>) -> GameData {
        match store {
            Some(store) => {
                let loaded = store.load();
                GameData { save: loaded.data, store: loaded.writable.then_some(store), warning: loaded.warning }
            }
            None => GameData { save: SaveData::default(), store: None, warning: None },
        }
    }

    pub fn persist(&mut self) {
        if let Some(store) = &self.store
            && let Err(e) = store.store(&self.save)
        {
            tracing::warn!("{e}");
            self.warning = Some(e.to_string());
        }
    }

    pub fn lang(&self) -> Lang {
        self.save.settings.lang
    }
}

/// The lesson slides (indices in the lessons level) the next lesson screen shows alone: set by
/// [`GameCommand::Review`], taken when the lesson starts.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReviewDeck(pub Vec<usize>);

/// The level being played (index into [`Course::levels`]).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActiveLevel(pub usize);

/// The outcome shown on the results screen.
#[derive(Resource, Clone, Debug, Default)]
pub struct LastOutcome(pub Option<LevelOutcome>);

/// What the last finished level opened (map indices, and the boss door), for the results
/// screen and the map to announce instead of unlocking silently.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct NewlyUnlocked {
    pub levels: Vec<usize>,
    pub boss: bool,
}

/// A score that made its level's high-score table, waiting for the player's initials.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingHighScore(pub Option<PendingEntry>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    pub level_id: String,
    pub score: u32,
    pub stars: u8,
    /// Its place in the table (0 = top).
    pub place: usize,
}

/// States, commands and rules: everything but drawing. Runs headless in tests.
pub struct GameCorePlugin {
    pub course: Course,
    pub store: Option<SaveStore>,
}

impl Plugin for GameCorePlugin {
    fn build(&self, app: &mut App) {
        app.init_state::<Screen>()
            .init_state::<Pause>()
            .add_message::<GameCommand>()
            .add_message::<PlaySfx>()
            // Registered here too so the core runs headless (no WindowPlugin).
            .add_message::<bevy::window::RequestRedraw>()
            .insert_resource(self.course.clone())
            .insert_resource(GameData::load(self.store.clone()))
            .init_resource::<ActiveLevel>()
            .init_resource::<ReviewDeck>()
            .init_resource::<LastOutcome>()
            .init_resource::<NewlyUnlocked>()
            .init_resource::<PendingHighScore>()
            .add_systems(Update, apply_commands);
    }
}

/// Applies [`GameCommand`]s: screen changes, unlock rules, recording and saving.
#[allow(clippy::too_many_arguments)]
pub fn apply_commands(
    mut commands: MessageReader<GameCommand>,
    mut next_screen: ResMut<NextState<Screen>>,
    mut next_pause: ResMut<NextState<Pause>>,
    course: Res<Course>,
    mut data: ResMut<GameData>,
    mut active: ResMut<ActiveLevel>,
    mut review: ResMut<ReviewDeck>,
    mut last: ResMut<LastOutcome>,
    mut unlocked: ResMut<NewlyUnlocked>,
    mut pending: ResMut<PendingHighScore>,
    mut sfx: MessageWriter<PlaySfx>,
    mut exit: MessageWriter<AppExit>,
    mut redraw: MessageWriter<bevy::window::RequestRedraw>,
) {
    for command in commands.read() {
        // The app is reactive: ask for the frames that apply the change and draw it.
        redraw.write(bevy::window::RequestRedraw);
        match command {
            GameCommand::Start => {
                next_screen.set(Screen::HowToPlay);
                sfx.write(PlaySfx(Sfx::Select));
            }
            GameCommand::Goto(target) => {
                if target.level_kind().is_none() && *target != Screen::Results {
                    next_pause.set(Pause::Running);
                    next_screen.set(*target);
                }
            }
            GameCommand::OpenLevel(index) => {
                let map = course.map();
                if data.save.progress.is_unlocked(&map, *index, &data.save.settings) {
                    active.0 = *index;
                    next_screen.set(Screen::for_kind(map[*index].kind));
                    sfx.write(PlaySfx(Sfx::Select));
                } else {
                    sfx.write(PlaySfx(Sfx::Wrong));
                }
            }
            GameCommand::Review(slide_ids) => {
                // The slides found, in the first lessons level that has any of them, in deck order.
                let found: Vec<(usize, usize)> =
                    slide_ids.iter().filter_map(|id| crate::content::coverage::locate(&course.levels, id)).collect();
                if let Some(lessons) = found.iter().map(|&(level, _)| level).min() {
                    let mut picked: Vec<usize> =
                        found.iter().filter(|&&(level, _)| level == lessons).map(|&(_, slide)| slide).collect();
                    picked.sort_unstable();
                    active.0 = lessons;
                    review.0 = picked;
                    next_screen.set(Screen::Lesson);
                    sfx.write(PlaySfx(Sfx::Select));
                }
            }
            GameCommand::FinishLevel(outcome) => {
                let map = course.map();
                let open = |data: &GameData| {
                    let (progress, settings) = (&data.save.progress, &data.save.settings);
                    let levels: Vec<bool> = (0..map.len()).map(|i| progress.is_unlocked(&map, i, settings)).collect();
                    (levels, progress.boss_unlocked(&map, settings))
                };
                let before = open(&data);
                data.save.progress.record(outcome);
                let after = open(&data);
                // Lessons score nothing; a quiz or puzzle score may make its level's table.
                let scored = outcome.kind != crate::content::LevelKind::Lessons;
                pending.0 =
                    data.save.high_scores.place_for(&outcome.level_id, outcome.score).filter(|_| scored).map(|place| {
                        PendingEntry {
                            level_id: outcome.level_id.clone(),
                            score: outcome.score,
                            stars: outcome.stars,
                            place,
                        }
                    });
                *unlocked = NewlyUnlocked {
                    levels: (0..map.len()).filter(|&i| after.0[i] && !before.0[i]).collect(),
                    boss: after.1 && !before.1,
                };
                data.persist();
                sfx.write(PlaySfx(if outcome.passed() { Sfx::Win } else { Sfx::GameOver }));
                last.0 = Some(outcome.clone());
                next_screen.set(Screen::Results);
            }
            GameCommand::EnterInitials(initials) => {
                if let Some(initials) = Initials::parse(initials)
                    && let Some(entry) = pending.0.take()
                {
                    let line = HighScore { initials: initials.text(), score: entry.score, stars: entry.stars };
                    data.save.high_scores.enter(&entry.level_id, line);
                    data.persist();
                    sfx.write(PlaySfx(Sfx::Select));
                }
            }
            GameCommand::OpenBoss => {
                if data.save.progress.boss_unlocked(&course.map(), &data.save.settings) {
                    next_screen.set(Screen::Boss);
                    sfx.write(PlaySfx(Sfx::Win));
                } else {
                    sfx.write(PlaySfx(Sfx::Wrong));
                }
            }
            GameCommand::Settings(change) => {
                let settings = &mut data.save.settings;
                match change {
                    SettingChange::ToggleLang => settings.lang = settings.lang.other(),
                    SettingChange::SetLang(lang) => settings.lang = *lang,
                    SettingChange::ToggleSound => settings.sound = !settings.sound,
                    SettingChange::NextUiScale => settings.ui_scale = settings.next_ui_scale(),
                    SettingChange::TogglePresenter => settings.presenter = !settings.presenter,
                    SettingChange::ToggleInstructorUnlock => settings.instructor_unlock = !settings.instructor_unlock,
                    SettingChange::ToggleReduceMotion => settings.reduce_motion = !settings.reduce_motion,
                }
                data.persist();
                sfx.write(PlaySfx(Sfx::Move));
            }
            GameCommand::Pause => next_pause.set(Pause::Paused),
            GameCommand::Resume => next_pause.set(Pause::Running),
            GameCommand::Quit => {
                exit.write(AppExit::Success);
            }
        }
    }
}
