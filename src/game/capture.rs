//! Starting the windowed game, and its two non-interactive modes: `--screenshot` (render one
//! screen, save a PNG, exit) and `--bench-startup` (time to the first drawn title frame, then
//! idle CPU use).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::window::{MonitorSelection, WindowMode, WindowResolution};
use bevy::winit::WinitSettings;
use bevy_egui::EguiPlugin;

use super::save::SaveStore;
use super::{ActiveLevel, Course, GameCorePlugin, GameData, LaunchOptions, Screen, audio, screens};

/// Frames to wait on the target screen before capturing (egui lays out, fonts load).
const CAPTURE_AFTER_FRAMES: u32 = 12;
/// A screenshot run that has not finished by then has hung (e.g. no GPU): exit with an error.
const CAPTURE_WATCHDOG: Duration = Duration::from_secs(120);

/// Opens the game window and runs until the player quits.
pub fn run(opts: LaunchOptions, started: Instant) -> anyhow::Result<()> {
    let store = match SaveStore::default_location() {
        Ok(store) => Some(store),
        Err(e) => {
            tracing::warn!("progress will not be saved: {e}");
            None
        }
    };
    let report = crate::content::load_course(opts.levels_dir.as_deref());
    for problem in &report.problems {
        tracing::warn!("{problem}");
    }
    let course = Course::new(report.levels);
    if course.levels.is_empty() {
        bail!("the course has no levels (problems: {})", report.problems.len());
    }

    // Bevy panics when there is no GPU adapter or display; say what to check, then exit 101.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!(
            "error: the arcade stopped. Without a GPU adapter or display it cannot start: \
             check the graphics driver (on a headless machine: xvfb-run with WGPU_BACKEND=vulkan)."
        );
    }));
    let capture = opts.screenshot.is_some() || opts.bench_idle_seconds.is_some();
    let mut app = App::new();
    let (w, h) = opts.window;
    let mut resolution = WindowResolution::new(w, h);
    if opts.screenshot.is_some() {
        // The PNG is exactly w×h whatever the desktop's DPI.
        resolution = resolution.with_scale_factor_override(1.0);
    }
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "LoRA Arcade".into(),
                    resolution,
                    resizable: opts.screenshot.is_none(),
                    ..default()
                }),
                ..default()
            })
            .set(bevy::log::LogPlugin {
                filter: "wgpu=error,naga=warn,bevy_render=warn,bevy_winit=warn,bevy_audio=error".into(),
                ..default()
            }),
    );
    app.add_plugins(EguiPlugin::default());
    // Menus wait for input: an idle game uses almost no CPU. Capture runs need steady frames.
    app.insert_resource(if capture {
        WinitSettings::continuous()
    } else {
        WinitSettings::desktop_app()
    });
    app.add_plugins(GameCorePlugin {
        course: course.clone(),
        store,
    });
    app.add_plugins((audio::AudioPlugin, screens::ScreensPlugin));

    {
        let mut data = app.world_mut().resource_mut::<GameData>();
        if let Some(lang) = opts.lang {
            data.save.settings.lang = lang;
        }
        if opts.present {
            data.save.settings.presenter = true;
        }
        if opts.screenshot.is_some() {
            // Screenshots show the normal 1280×720 layout.
            data.save.settings.presenter = false;
            data.save.settings.ui_scale = 1.0;
        }
    }
    let start = opts.screen.unwrap_or(Screen::Title);
    if let Some(kind) = start.level_kind() {
        let index = course
            .first_of(kind)
            .with_context(|| format!("the course has no {kind:?} level for --screen"))?;
        app.insert_resource(ActiveLevel(index));
    }
    if start == Screen::Results {
        app.insert_resource(super::LastOutcome(Some(super::progress::LevelOutcome {
            level_id: course.levels[0].id.clone(),
            kind: course.levels[0].kind(),
            score: 850,
            stars: 2,
        })));
    }
    app.insert_state(start);
    app.add_systems(Update, apply_presenter_window);

    if let Some(path) = opts.screenshot.clone() {
        spawn_watchdog();
        app.insert_resource(super::Showcase);
        app.insert_resource(CaptureJob {
            path,
            target: start,
            frames: 0,
            requested: false,
        });
        app.add_systems(Update, capture_when_ready);
    }
    if let Some(seconds) = opts.bench_idle_seconds {
        app.insert_resource(BenchJob {
            started,
            idle: Duration::from_secs_f64(seconds.max(0.5)),
            frames: 0,
            requested: false,
        });
        app.init_resource::<FramesRun>();
        app.add_systems(Update, (bench_first_frame, count_frames));
    }

    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => bail!("the game exited with code {code}"),
    }
}

/// Fullscreen while presenter mode is on, windowed otherwise.
fn apply_presenter_window(data: Res<GameData>, mut windows: Query<&mut Window>, mut last: Local<Option<bool>>) {
    let presenter = data.save.settings.presenter;
    if *last == Some(presenter) {
        return;
    }
    *last = Some(presenter);
    for mut window in &mut windows {
        window.mode = if presenter {
            WindowMode::BorderlessFullscreen(MonitorSelection::Current)
        } else {
            WindowMode::Windowed
        };
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

/// Frames run so far, shared with the idle-measuring thread.
#[derive(Resource, Clone, Default)]
struct FramesRun(std::sync::Arc<std::sync::atomic::AtomicU64>);

fn count_frames(frames: Res<FramesRun>) {
    frames.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
                let frames_before = frames.load(std::sync::atomic::Ordering::Relaxed);
                let t0 = Instant::now();
                std::thread::sleep(idle);
                let after = process_cpu_seconds();
                let idle_frames = frames.load(std::sync::atomic::Ordering::Relaxed) - frames_before;
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
