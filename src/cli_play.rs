//! `lora-arcade play`: the arcade's command-line arguments and entry point.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

/// Play the arcade (the default when no subcommand is given).
#[derive(Args, Debug, Clone, Default)]
pub struct PlayArgs {
    /// Language of the game (default: the saved setting, else the system locale).
    #[arg(long, value_parser = ["es", "en"])]
    pub lang: Option<String>,
    /// Presenter mode: fullscreen, larger text, no timers, answers revealed on demand (F5 toggles).
    #[arg(long)]
    pub present: bool,
    /// Open this screen directly: title, howto, map, lesson, quiz, matrix, nf4, results, boss, gameover;
    /// boss-fight and boss-after play a default boss fight for real (a few minutes on a CPU).
    #[arg(long)]
    pub screen: Option<String>,
    /// Render --screen (default title), save it as a PNG at this path and exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// Print the time to the first drawn title frame and the idle CPU use, then exit.
    #[arg(long)]
    pub bench_startup: bool,
    /// Play the default boss fight (the game redrawing as it does for a player), print its time,
    /// loss drop and the frames drawn per second while training, then exit.
    #[arg(long)]
    pub bench_fight: bool,
    /// With --screenshot: on the lesson screen, the slide with this id (ID or ID:SETTING, the
    /// setting of its explorable figure); on a puzzle screen, that puzzle solved, with its debrief.
    #[arg(long, hide = true, value_name = "ID[:SETTING]")]
    pub slide: Option<String>,
    /// Play the whole course with keyboard input alone (a test of the game), then exit: an error
    /// names the screen and puzzle where the keys got stuck.
    #[arg(long, hide = true)]
    pub autoplay_course: bool,
    /// A folder of extra level files (an instructor's); same id replaces a built-in level.
    #[arg(long, value_name = "DIR")]
    pub levels: Option<PathBuf>,
    /// Seconds of idle measured by --bench-startup.
    #[arg(long, default_value_t = 10.0)]
    pub idle_seconds: f64,
}

/// Runs `play`. `started` is when the process started (for --bench-startup).
pub fn run(args: PlayArgs, started: Instant) -> anyhow::Result<()> {
    #[cfg(feature = "gui")]
    {
        use anyhow::Context;
        use lora_arcade::content::Lang;
        use lora_arcade::game::{LaunchOptions, Screen};

        use lora_arcade::game::screens::boss::Autoplay;
        let (screen, boss_autoplay) = match args.screen.as_deref() {
            None => (None, None),
            Some("boss-fight") => (Some(Screen::Boss), Some(Autoplay::Fight)),
            Some("boss-after") => (Some(Screen::Boss), Some(Autoplay::After)),
            Some(name) => {
                let screen = Screen::parse(name).with_context(|| {
                    let names: Vec<&str> = Screen::NAMES.iter().map(|(n, _)| *n).collect();
                    format!("unknown screen `{name}`; expected one of: {}, boss-fight, boss-after", names.join(", "))
                })?;
                (Some(screen), None)
            }
        };
        let opts = LaunchOptions {
            lang: args.lang.as_deref().and_then(Lang::parse),
            present: args.present,
            screen,
            screenshot: args.screenshot,
            bench_idle_seconds: args.bench_startup.then_some(args.idle_seconds),
            levels_dir: args.levels,
            window: (1280, 720),
            boss_autoplay,
            bench_fight: args.bench_fight,
            autoplay_course: args.autoplay_course,
            slide: args.slide.as_deref().map(|s| match s.split_once(':') {
                Some((id, knob)) => (id.to_owned(), knob.parse().unwrap_or(0)),
                None => (s.to_owned(), 0),
            }),
        };
        lora_arcade::game::run(opts, started)
    }
    #[cfg(not(feature = "gui"))]
    {
        let _ = (args, started);
        anyhow::bail!("this build has no arcade: rebuild with the `gui` feature (on by default)")
    }
}
