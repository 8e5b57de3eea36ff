//! The windowed App: loads the course, opens the window, and plugs in egui, the game's rules
//! ([`GameCorePlugin`]), sound, the shared [`ui`] and one plugin per screen. The
//! `--screen`, `--screenshot` and `--bench-startup` modes add their [`dev_tools`] on top.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use bevy::prelude::*;
use bevy::window::{MonitorSelection, WindowMode, WindowResolution};
use bevy::winit::WinitSettings;
use bevy_egui::EguiPlugin;

use super::save::SaveStore;
use super::{Course, GameCorePlugin, GameData, Screen, audio, dev_tools, screens, ui};
use crate::content::Lang;

/// How `play` starts the game.
#[derive(Clone, Debug, Default)]
pub struct LaunchOptions {
    /// Overrides the saved language.
    pub lang: Option<Lang>,
    /// Presenter mode from the start.
    pub present: bool,
    /// Open this screen directly (with the first level of its kind).
    pub screen: Option<Screen>,
    /// Save a PNG of the first frames of `screen` and exit.
    pub screenshot: Option<PathBuf>,
    /// Measure start-up time and idle CPU for this many seconds, print them and exit.
    pub bench_idle_seconds: Option<f64>,
    /// An instructor's folder of level files, added to (or replacing) the built-in ones.
    pub levels_dir: Option<PathBuf>,
    /// Window size in logical pixels.
    pub window: (u32, u32),
    /// The boss stage plays itself (`--screen boss-fight` / `boss-after`).
    pub boss_autoplay: Option<screens::boss::Autoplay>,
    /// Play the default boss fight, print its time and redraw rate, and exit.
    pub bench_fight: bool,
    /// With `--screen lesson --screenshot`: this slide id, its explorable figure at a setting.
    pub slide: Option<(String, usize)>,
    /// Play every level with keyboard input alone, then exit (an error where the keys get stuck).
    pub autoplay_course: bool,
}

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
    explain_a_missing_gpu();

    let mut app = App::new();
    app.add_plugins(window_plugins(&opts))
        .add_plugins(EguiPlugin::default())
        // Menus wait for input: an idle game uses almost no CPU. Capture runs need steady frames.
        .insert_resource(if opts.screenshot.is_some() || opts.bench_idle_seconds.is_some() || opts.autoplay_course {
            WinitSettings::continuous()
        } else {
            WinitSettings::desktop_app()
        })
        .add_plugins(GameCorePlugin { course: course.clone(), store })
        .add_plugins((audio::AudioPlugin, ui::UiPlugin, screens::ScreensPlugin))
        .add_systems(Startup, spawn_camera)
        .add_systems(Update, apply_presenter_window);
    {
        let mut data = app.world_mut().resource_mut::<GameData>();
        if let Some(lang) = opts.lang {
            data.save.settings.lang = lang;
        }
        if opts.present {
            data.save.settings.presenter = true;
        }
    }

    let start = if opts.bench_fight { Screen::Boss } else { opts.screen.unwrap_or(Screen::Title) };
    dev_tools::start_on(&mut app, &course, start)?;
    if let Some(mode) = opts.boss_autoplay {
        app.insert_resource(mode);
    }
    if let Some(path) = opts.screenshot.clone() {
        app.add_plugins((
            dev_tools::ShowcasePlugin { slide: opts.slide.clone() },
            dev_tools::ScreenshotPlugin { path, target: start, presenter: opts.present },
        ));
    }
    if let Some(seconds) = opts.bench_idle_seconds {
        app.add_plugins(dev_tools::StartupBenchPlugin { started, idle: Duration::from_secs_f64(seconds.max(0.5)) });
    }
    if opts.bench_fight {
        app.add_plugins(dev_tools::FightBenchPlugin);
    }
    if opts.autoplay_course {
        app.add_plugins(dev_tools::CourseAutoplayPlugin);
    }

    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => bail!("the game exited with code {code}"),
    }
}

/// Bevy's defaults with the game's window and a quieter log.
fn window_plugins(opts: &LaunchOptions) -> impl PluginGroup {
    let (w, h) = opts.window;
    let mut resolution = WindowResolution::new(w, h);
    if opts.screenshot.is_some() {
        // The PNG is exactly w×h whatever the desktop's DPI.
        resolution = resolution.with_scale_factor_override(1.0);
    }
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
        })
}

/// Bevy panics when there is no GPU adapter or display; say what to check, then exit 101.
fn explain_a_missing_gpu() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!(
            "error: the arcade stopped. Without a GPU adapter or display it cannot start: \
             check the graphics driver (on a headless machine: xvfb-run with WGPU_BACKEND=vulkan)."
        );
    }));
}

fn spawn_camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// Fullscreen while presenter mode is on, windowed otherwise.
fn apply_presenter_window(data: Res<GameData>, mut windows: Query<&mut Window>, mut last: Local<Option<bool>>) {
    let presenter = data.save.settings.presenter;
    if *last == Some(presenter) {
        return;
    }
    *last = Some(presenter);
    for mut window in &mut windows {
        window.mode =
            if presenter { WindowMode::BorderlessFullscreen(MonitorSelection::Current) } else { WindowMode::Windowed };
    }
}
