//! `--screenshot OUT.png`: render the start screen for a few frames, save it as a PNG, exit.

use std::path::PathBuf;
use std::time::Duration;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

use crate::game::{GameData, Screen};

/// Frames to wait on the target screen before capturing (egui lays out, fonts load).
const CAPTURE_AFTER_FRAMES: u32 = 12;
/// A screenshot run that has not finished by then has hung (e.g. no GPU): exit with an error.
const CAPTURE_WATCHDOG: Duration = Duration::from_secs(120);

/// Captures `target` once it has been drawn, writes `path` and exits.
pub struct ScreenshotPlugin {
    pub path: PathBuf,
    pub target: Screen,
}

impl Plugin for ScreenshotPlugin {
    fn build(&self, app: &mut App) {
        if let Some(mut data) = app.world_mut().get_resource_mut::<GameData>() {
            // Screenshots show the normal 1280×720 layout.
            data.save.settings.presenter = false;
            data.save.settings.ui_scale = 1.0;
        }
        spawn_watchdog();
        app.insert_resource(CaptureJob { path: self.path.clone(), target: self.target, frames: 0, requested: false })
            .add_systems(Update, capture_when_ready);
    }
}

fn spawn_watchdog() {
    std::thread::spawn(|| {
        std::thread::sleep(CAPTURE_WATCHDOG);
        eprintln!(
            "error: no frame was captured within {}s (is there a GPU adapter / display?)",
            CAPTURE_WATCHDOG.as_secs()
        );
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

fn capture_when_ready(mut commands: Commands, mut job: ResMut<CaptureJob>, screen: Res<State<Screen>>) {
    if job.requested || *screen.get() != job.target {
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
