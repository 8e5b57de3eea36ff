//! The `check-levels` command, run as the real binary.

use std::path::Path;
use std::process::Command;

fn check_levels(dir: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_lora-arcade"))
        .arg("check-levels")
        .arg(dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run lora-arcade");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn shipped_levels_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("levels");
    let (ok, stdout) = check_levels(&dir);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("5 level file(s), 5 level(s)"), "{stdout}");
    assert!(stdout.trim_end().ends_with("0 problem(s)"), "{stdout}");
}

#[test]
fn bad_levels_fail_with_one_line_per_problem() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad_levels");
    let (ok, stdout) = check_levels(&dir);
    assert!(!ok, "a bad folder must exit non-zero");
    let wrong_answer = format!("{}:18:17: field `items[0].task.delta`: B·A = ", dir.join("wrong_answer.ron").display());
    assert!(stdout.lines().any(|l| l.starts_with(&wrong_answer)), "{stdout}");
    let files = std::fs::read_dir(&dir).unwrap().count();
    let problem_lines = stdout.lines().filter(|l| l.contains(".ron")).count();
    assert_eq!(problem_lines, files, "{stdout}");
    assert!(stdout.contains(&format!("{files} problem(s)")), "{stdout}");
}

#[test]
fn default_folder_is_levels() {
    let output = Command::new(env!("CARGO_BIN_EXE_lora-arcade"))
        .arg("check-levels")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run lora-arcade");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("levels: "));
}

#[test]
fn a_single_file_can_be_checked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, stdout) = check_levels(&root.join("levels/05-nf4.ron"));
    assert!(ok, "{stdout}");
    let (ok, stdout) = check_levels(&root.join("tests/data/bad_levels/wrong_type.ron"));
    assert!(!ok);
    assert!(stdout.contains("wrong_type.ron:13:29: field `items[0].reward.points`"), "{stdout}");
}
