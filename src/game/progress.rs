//! The player's progress and settings, and the rules that read them: stars, total score, which
//! levels are open and whether the boss door is. Plain Rust, testable without a window.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::{Lang, Level, LevelKind};

/// Player settings, saved with the progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub lang: Lang,
    pub sound: bool,
    /// egui zoom factor for the whole UI (1.0 = designed for 1280×720).
    pub ui_scale: f32,
    /// Fullscreen, larger zoom, no timers, answers on demand.
    pub presenter: bool,
    /// Opens every level and the boss door (for an instructor presenting out of order).
    pub instructor_unlock: bool,
    /// No shake, dissolve or flying pixels, no counting up: answers are marked by a still
    /// coloured frame instead (for players whom motion bothers, and for projectors).
    pub reduce_motion: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lang: Lang::from_system(),
            sound: true,
            ui_scale: 1.0,
            presenter: false,
            instructor_unlock: false,
            reduce_motion: false,
        }
    }
}

impl Settings {
    /// UI scales the settings screen cycles through.
    pub const UI_SCALES: [f32; 5] = [0.8, 1.0, 1.25, 1.5, 2.0];
    /// Extra zoom presenter mode adds on top of `ui_scale`, for a projector.
    pub const PRESENTER_ZOOM: f32 = 1.3;

    /// The next UI scale in [`Self::UI_SCALES`] (wrapping); an unknown value goes to 1.0.
    pub fn next_ui_scale(&self) -> f32 {
        let i = Self::UI_SCALES.iter().position(|s| (s - self.ui_scale).abs() < 1e-3);
        match i {
            Some(i) => Self::UI_SCALES[(i + 1) % Self::UI_SCALES.len()],
            None => 1.0,
        }
    }

    /// The zoom the UI is drawn with.
    pub fn zoom(&self) -> f32 {
        let scale = self.ui_scale.clamp(0.5, 3.0);
        if self.presenter { scale * Self::PRESENTER_ZOOM } else { scale }
    }
}

/// The best result of one level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRecord {
    pub stars: u8,
    pub best_score: u32,
}

/// Stars and scores of every level played, keyed by level id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub levels: BTreeMap<String, LevelRecord>,
}

/// What one finished level run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelOutcome {
    pub level_id: String,
    pub kind: LevelKind,
    pub score: u32,
    pub stars: u8,
    /// Lesson slides (ids) that teach what the run missed: the results screen offers them.
    pub review: Vec<String>,
}

impl LevelOutcome {
    /// The outcome of a run of `level`.
    pub fn of(level: &Level, score: u32, stars: u8) -> LevelOutcome {
        LevelOutcome { level_id: level.id.clone(), kind: level.kind(), score, stars, review: Vec::new() }
    }

    /// A level is passed with at least one star.
    pub fn passed(&self) -> bool {
        self.stars > 0
    }
}

/// One level as the unlock rules see it, in map order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    pub id: String,
    pub kind: LevelKind,
}

/// The kinds that must each have a passed level before the boss door opens.
pub const BOSS_KINDS: [LevelKind; 3] = [LevelKind::Quiz, LevelKind::Matrix, LevelKind::Nf4];

impl Progress {
    /// Keeps the better stars and the better score of `outcome` (a worse replay never loses
    /// progress). Returns whether anything improved.
    pub fn record(&mut self, outcome: &LevelOutcome) -> bool {
        let entry = self.levels.entry(outcome.level_id.clone()).or_default();
        let before = *entry;
        entry.stars = entry.stars.max(outcome.stars.min(3));
        entry.best_score = entry.best_score.max(outcome.score);
        *entry != before
    }

    pub fn stars(&self, level_id: &str) -> u8 {
        self.levels.get(level_id).map_or(0, |r| r.stars)
    }

    pub fn passed(&self, level_id: &str) -> bool {
        self.stars(level_id) > 0
    }

    /// Sum of the best score of every level.
    pub fn total_score(&self) -> u64 {
        self.levels.values().map(|r| u64::from(r.best_score)).sum()
    }

    pub fn total_stars(&self) -> u32 {
        self.levels.values().map(|r| u32::from(r.stars)).sum()
    }

    /// The level that must be passed before `map[index]` opens, if any.
    ///
    /// Rules: lessons are always open; the first level of each game kind is open; any other
    /// level opens when the previous level of the same kind (in map order) is passed. So a
    /// player can try each game type right away and climbs each track separately.
    pub fn unlock_requirement<'a>(&self, map: &'a [MapEntry], index: usize) -> Option<&'a MapEntry> {
        let entry = map.get(index)?;
        if entry.kind == LevelKind::Lessons {
            return None;
        }
        map[..index].iter().rev().find(|e| e.kind == entry.kind)
    }

    /// Whether `map[index]` can be played.
    pub fn is_unlocked(&self, map: &[MapEntry], index: usize, settings: &Settings) -> bool {
        if settings.instructor_unlock {
            return index < map.len();
        }
        match self.unlock_requirement(map, index) {
            Some(previous) => self.passed(&previous.id),
            None => index < map.len(),
        }
    }

    /// The kinds of [`BOSS_KINDS`] without a passed level yet.
    pub fn boss_missing(&self, map: &[MapEntry]) -> Vec<LevelKind> {
        BOSS_KINDS.into_iter().filter(|kind| !map.iter().any(|e| e.kind == *kind && self.passed(&e.id))).collect()
    }

    /// The boss door opens when one level of each game type is passed, or for an instructor.
    pub fn boss_unlocked(&self, map: &[MapEntry], settings: &Settings) -> bool {
        settings.instructor_unlock || self.boss_missing(map).is_empty()
    }
}
