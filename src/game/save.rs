//! The save file: settings + progress as RON in the platform data folder.
//!
//! Writes go to a temporary file that is then renamed over the save, so a crash mid-write never
//! leaves half a file; the previous save is kept as `save.ron.bak`. A save that cannot be read
//! or parsed is moved aside (`save.ron.corrupt-<unix seconds>`), never overwritten, and the game
//! starts fresh with a warning the title screen shows.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::high_scores::HighScores;
use super::progress::{Progress, Settings};

/// Environment variable that overrides the data folder (tests, portable installs).
pub const DATA_DIR_ENV: &str = "LORA_ARCADE_DATA_DIR";
/// File name of the save inside the data folder.
pub const SAVE_FILE: &str = "save.ron";
/// Version written into new saves.
pub const SAVE_VERSION: u32 = 1;

/// Everything the game remembers between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SaveData {
    pub version: u32,
    pub settings: Settings,
    pub progress: Progress,
    pub boss: BossMemory,
    /// The levels' high-score tables (saves from before them load with none).
    pub high_scores: HighScores,
}

impl Default for SaveData {
    fn default() -> Self {
        SaveData {
            version: SAVE_VERSION,
            settings: Settings::default(),
            progress: Progress::default(),
            boss: BossMemory::default(),
            high_scores: HighScores::default(),
        }
    }
}

/// What the boss stage remembers: the last setup (model path included) and every finished fight
/// as a row of the benchmark table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BossMemory {
    pub setup: Option<super::boss::FightSetup>,
    pub benchmarks: Vec<super::boss::BenchRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("no data folder: set {DATA_DIR_ENV} or a HOME directory")]
    NoDataDir,
    #[error("cannot write the save {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode the save: {0}")]
    Encode(#[from] ron::Error),
}

/// What loading found.
#[derive(Debug)]
pub struct Loaded {
    pub data: SaveData,
    /// Set when the save was unreadable: what happened and where the bad file went.
    pub warning: Option<String>,
    /// False when a bad save could not be moved aside: then nothing may be written over it.
    pub writable: bool,
}

/// The data folder: `$LORA_ARCADE_DATA_DIR`, else the platform's (e.g. `~/.local/share/lora-arcade`).
pub fn data_dir() -> Result<PathBuf, SaveError> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "LoRA Arcade", "lora-arcade")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or(SaveError::NoDataDir)
}

/// A save file at a fixed path.
#[derive(Clone, Debug)]
pub struct SaveStore {
    path: PathBuf,
}

impl SaveStore {
    /// The save in the default data folder.
    pub fn default_location() -> Result<SaveStore, SaveError> {
        Ok(SaveStore::in_dir(&data_dir()?))
    }

    pub fn in_dir(dir: &Path) -> SaveStore {
        SaveStore { path: dir.join(SAVE_FILE) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".bak")
    }

    /// Reads the save. A missing file gives defaults silently; an unreadable or corrupt one gives
    /// defaults plus a warning, after moving the bad file aside so nothing overwrites it.
    pub fn load(&self) -> Loaded {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded { data: SaveData::default(), warning: None, writable: true };
            }
            Err(e) => return self.quarantine(&format!("cannot read: {e}")),
        };
        match ron::from_str::<SaveData>(&text) {
            Ok(mut data) => {
                data.high_scores.sanitize();
                Loaded { data, warning: None, writable: true }
            }
            Err(e) => self.quarantine(&format!("not a valid save ({e})")),
        }
    }

    fn quarantine(&self, problem: &str) -> Loaded {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        // Never replace an earlier quarantined file.
        let aside = (0..)
            .map(|n| match n {
                0 => with_suffix(&self.path, &format!(".corrupt-{stamp}")),
                n => with_suffix(&self.path, &format!(".corrupt-{stamp}-{n}")),
            })
            .find(|p| !p.exists())
            .unwrap_or_else(|| with_suffix(&self.path, ".corrupt"));
        let moved = fs::rename(&self.path, &aside);
        let writable = moved.is_ok();
        let warning = match moved {
            Ok(()) => format!("{}: {problem}; moved to {} and started fresh", self.path.display(), aside.display()),
            // Could not move it: leave it untouched and never write over it this run.
            Err(e) => format!(
                "{}: {problem}; could not move it aside ({e}); progress will not be saved over it",
                self.path.display()
            ),
        };
        tracing::warn!("{warning}");
        Loaded { data: SaveData::default(), warning: Some(warning), writable }
    }

    /// Writes `data` atomically (see [`crate::atomic_file`]), the previous save copied to `.bak`
    /// first.
    pub fn store(&self, data: &SaveData) -> Result<(), SaveError> {
        let text = ron::ser::to_string_pretty(data, ron::ser::PrettyConfig::default())?;
        let write_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SaveError::Write { path, source }
        };
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(write_err(dir))?;
        }
        if self.path.exists() {
            let bak = self.backup_path();
            fs::copy(&self.path, &bak).map_err(write_err(&bak))?;
        }
        crate::atomic_file::write(&self.path, text.as_bytes()).map_err(write_err(&self.path))
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}
