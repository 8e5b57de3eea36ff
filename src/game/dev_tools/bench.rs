//! `--bench-startup`: the time to the first drawn title frame, then the idle CPU use.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::winit::WinitSettings;

use crate::game::Screen;

/// Prints `startup_to_first_title_frame_ms` and the idle figures, then exits.
pub struct StartupBenchPlugin {
    /// When the process started.
    pub started: Instant,
    /// How long to measure idle CPU.
    pub idle: Duration,
}

impl Plugin for StartupBenchPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(BenchJob { started: self.started, idle: self.idle, frames: 0, requested: false })
            .init_resource::<FramesRun>()
            .add_systems(Update, (bench_first_frame, count_frames));
    }
}

/// Frames run so far, shared with the idle-measuring thread.
#[derive(Resource, Clone, Default)]
struct FramesRun(Arc<AtomicU64>);

fn count_frames(frames: Res<FramesRun>) {
    frames.0.fetch_add(1, Ordering::Relaxed);
}

#[derive(Resource)]
struct BenchJob {
    started: Instant,
    idle: Duration,
    frames: u32,
    requested: bool,
}

/// Captures the title once it has been drawn (the capture proves a frame reached the screen),
/// then goes reactive and measures idle CPU on a side thread.
fn bench_first_frame(
    mut commands: Commands,
    mut job: ResMut<BenchJob>,
    screen: Res<State<Screen>>,
    frames: Res<FramesRun>,
) {
    if job.requested || *screen.get() != Screen::Title {
        return;
    }
    job.frames += 1;
    // Frame 1 installs the fonts; frame 2 is the first drawn with them.
    if job.frames < 2 {
        return;
    }
    job.requested = true;
    let (started, idle) = (job.started, job.idle);
    let frames = frames.0.clone();
    commands.spawn(Screenshot::primary_window()).observe(
        move |_: On<ScreenshotCaptured>, mut winit: ResMut<WinitSettings>| {
            let startup = started.elapsed();
            println!("startup_to_first_title_frame_ms {:.0}", startup.as_secs_f64() * 1e3);
            *winit = WinitSettings::desktop_app();
            let frames = frames.clone();
            std::thread::spawn(move || {
                // Let the last capture frames settle before measuring.
                std::thread::sleep(Duration::from_millis(500));
                let before = process_cpu_seconds();
                let frames_before = frames.load(Ordering::Relaxed);
                let t0 = Instant::now();
                std::thread::sleep(idle);
                let after = process_cpu_seconds();
                let idle_frames = frames.load(Ordering::Relaxed) - frames_before;
                let wall = t0.elapsed().as_secs_f64();
                match (before, after) {
                    (Some(b), Some(a)) => {
                        println!("idle_seconds {wall:.1}");
                        println!("idle_frames {idle_frames}");
                        println!("idle_cpu_seconds {:.3}", a - b);
                        println!("idle_cpu_percent_of_one_core {:.2}", 100.0 * (a - b) / wall);
                    }
                    _ => println!("idle_cpu unavailable (/proc/self/stat unreadable)"),
                }
                std::process::exit(0);
            });
        },
    );
}

/// utime + stime of this process in seconds, from /proc/self/stat (Linux).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}
