//! `lora-arcade check-levels [DIR]`: validate every level file of a folder and say what is wrong.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::load::{self, LoadReport};

/// The folder checked when none is given.
pub const DEFAULT_LEVELS_DIR: &str = "levels";

/// Validates every level file in `dir` (or the one file `dir` names), writes one line per
/// problem (`file:line:col: field `path`: message`) and a summary to `out`, and returns the report.
pub fn run(dir: &Path, out: &mut impl Write) -> std::io::Result<LoadReport> {
    let (report, files) = if dir.is_file() {
        let report = match load::load_file(dir) {
            Ok(level) => LoadReport { levels: vec![level], problems: Vec::new() },
            Err(problems) => LoadReport { levels: Vec::new(), problems },
        };
        (report, 1)
    } else {
        let files = load::level_files(dir).map(|f| f.len()).unwrap_or(0);
        (load::load_dir(dir), files)
    };
    for problem in &report.problems {
        writeln!(out, "{problem}")?;
    }
    let items: usize = report.levels.iter().map(|l| l.items.len()).sum();
    writeln!(
        out,
        "{}: {files} level file(s), {} level(s) with {items} item(s) loaded, {} problem(s)",
        dir.display(),
        report.levels.len(),
        report.problems.len()
    )?;
    Ok(report)
}

/// The command: checks `dir` (default `levels`) on stdout; an error when any problem was found,
/// so the process exits non-zero.
pub fn main(dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_LEVELS_DIR));
    let stdout = std::io::stdout();
    let report = run(&dir, &mut stdout.lock())?;
    if report.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} problem(s) in the level files of {}", report.problems.len(), dir.display())
    }
}
