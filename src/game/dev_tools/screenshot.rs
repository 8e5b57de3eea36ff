//! `--screenshot OUT.png`: render the start screen for a few frames, save it as a PNG, exit.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

use crate::game::{GameData, Screen};

/// Frames to wait on the target screen before capturing (egui lays out, fonts load).
const CAPTURE_AFTER_FRAMES: u32 = 12;
/// A screenshot run that has not finished by then has hung (e.g. no GPU): exit with an error.
/// A boss fight that plays itself trains for real first, and gets longer.
const CAPTURE_WATCHDOG: Duration = Duration::from_secs(120);
const BOSS_CAPTURE_WATCHDOG: Duration = Duration::from_secs(900);

/// Captures `target` once it has been drawn, writes `path` and exits.
pub struct ScreenshotPlugin {
    pub path: PathBuf,
    pub target: Screen,
    /// Presenter mode (`--present`): the projector's layout, larger text and speaker notes.
    pub presenter: bool,
}

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut data) = app.world_mut().get_resource_mut::<GameData>() {
            // Screenshots show the 1280×720 layout at the default scale (presenter mode if asked).
            data.save.settings.presenter = self.presenter;
            data.save.settings.ui_scale = 1.0;
        }
        // A still frame: no dissolve, shake or burst in the picture.
        app.insert_resource(crate::game::ui::effects::Effects::none());
        let boss = app.world().contains_resource::<crate::game::screens::boss::Autoplay>();
        spawn_watchdog(if boss { BOSS_CAPTURE_WATCHDOG } else { CAPTURE_WATCHDOG });
        app.insert_resource(CaptureJob { path: self.path.clone(), target: self.target, frames: 0, requested: false })
            .add_systems(Update, capture_when_ready);
    }
}

fn spawn_watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("error: no frame was captured within {}s (is there a GPU adapter / display?)", limit.as_secs());
        std::process::exit(3);
    });
}

#[derive(Resource)]
struct CaptureJob {
    path: PathBuf,
    target: Screen,
    frames: u32,
    requested: bool,
}

fn capture_when_ready(
    mut commands: Commands,
    mut job: ResMut<CaptureJob>,
    screen: Res<State<Screen>>,
    autoplay: Option<Res<crate::game::screens::boss::Autoplay>>,
    ready: Option<Res<crate::game::screens::boss::ShowcaseReady>>,
) {
    if job.requested || *screen.get() != job.target {
        return;
    }
    // A boss stage that plays itself is captured once it shows what it waits for.
    if autoplay.is_some() && !ready.is_some_and(|r| r.0) {
        return;
    }
    job.frames += 1;
    if job.frames < CAPTURE_AFTER_FRAMES {
        return;
    }
    job.requested = true;
    let path = job.path.clone();
    let mut save = save_to_disk(path.clone());
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            save(captured);
            if path.is_file() {
                exit.write(AppExit::Success);
            } else {
                eprintln!("error: could not write the screenshot {}", path.display());
                exit.write(AppExit::error());
            }
        },
    );
}
