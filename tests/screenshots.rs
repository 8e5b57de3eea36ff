//! Renders every screen with `lora-arcade play --screenshot` and checks the PNGs: the expected
//! size and not blank (many distinct colours). Needs a display and a GPU adapter (CI runs it
//! under `xvfb-run` with WGPU_BACKEND=vulkan and Mesa's lavapipe).
#![cfg(feature = "gui")]

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

const SCREENS: [(&str, &str); 11] = [
    ("title", "es"),
    ("howto", "en"),
    ("map", "es"),
    ("lesson", "en"),
    ("quiz", "es"),
    ("matrix", "en"),
    ("nf4", "es"),
    ("results", "en"),
    ("gameover", "es"),
    ("gameover", "en"),
    // The boss's setup panel (its fight and after screens train for real: see docs/screenshots).
    ("boss", "es"),
];

fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
}

/// (width, height, number of distinct RGB colours).
fn inspect(path: &Path) -> (u32, u32, usize) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let colours: HashSet<[u8; 3]> =
        buf[..info.buffer_size()].chunks_exact(channels).map(|p| [p[0], p[1], p[2]]).collect();
    (info.width, info.height, colours.len())
}

#[test]
fn every_screen_renders_a_non_blank_1280x720_png() {
    if !has_display() {
        lora_arcade::testing::prerequisite_missing("screenshot tests need a display (run under xvfb-run)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    for (screen, lang) in SCREENS {
        let png = out.path().join(format!("{screen}-{lang}.png"));
        let status = Command::new(env!("CARGO_BIN_EXE_lora-arcade"))
            .args(["play", "--screen", screen, "--lang", lang, "--screenshot"])
            .arg(&png)
            .env("LORA_ARCADE_DATA_DIR", out.path().join("data"))
            .status()
            .expect("run lora-arcade");
        assert!(status.success(), "{screen} ({lang}): {status}");
        let (w, h, colours) = inspect(&png);
        assert_eq!((w, h), (1280, 720), "{screen} ({lang})");
        assert!(colours >= 8, "{screen} ({lang}) looks blank: {colours} colours");
    }
}

#[test]
fn an_unknown_screen_is_an_error_not_a_hang() {
    let output = Command::new(env!("CARGO_BIN_EXE_lora-arcade"))
        .args(["play", "--screen", "nowhere", "--screenshot", "x.png"])
        .output()
        .expect("run lora-arcade");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown screen"));
}

/// The whole course played with keyboard events alone (the game's own `--autoplay-course`,
/// whose keys go through bevy and bevy_egui as a player's do), in Spanish at the player's
/// layout and in English in presenter mode: every level from the title to its results.
#[test]
fn every_level_can_be_played_to_its_results_with_the_keyboard_alone() {
    if !has_display() {
        lora_arcade::testing::prerequisite_missing("the keyboard playthrough needs a display (run under xvfb-run)");
        return;
    }
    let course = lora_arcade::content::builtin().levels;
    for (lang, presenter) in [("es", false), ("en", true)] {
        let data = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_lora-arcade"));
        command.args(["play", "--autoplay-course", "--lang", lang]).env("LORA_ARCADE_DATA_DIR", data.path());
        if presenter {
            command.arg("--present");
        }
        let output = command.output().expect("run lora-arcade");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{lang} presenter={presenter}: {}\n{stdout}\n{stderr}", output.status);
        assert!(stdout.contains(&format!("all {} levels passed", course.len())), "{stdout}");
        // What the save says, not what the game printed: every level passed.
        let loaded = lora_arcade::game::save::SaveStore::in_dir(data.path()).load();
        let progress = &loaded.data.progress;
        for level in &course {
            assert!(progress.passed(&level.id), "{lang}: {} not passed in the save: {progress:?}", level.id);
        }
    }
}
