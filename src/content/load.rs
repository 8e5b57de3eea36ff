//! Loading level files: RON → [`Level`], then validation, with every problem located.
//!
//! A bad file never stops the others: it is reported in [`LoadReport::problems`] and skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ron::extensions::Extensions;

use super::coverage;
use super::problem::Problem;
use super::schema::{Level, LevelKind, Slide};
use super::source_map::{self, Pos, SourceMap};
use super::validate;

/// Level files larger than this are refused unread (no level needs more than a few hundred KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The extension level files must have.
pub const LEVEL_EXTENSION: &str = "ron";

/// The shipped levels, embedded in the binary so it runs without the `levels/` folder.
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("levels/01-lessons.ron", include_str!("../../levels/01-lessons.ron")),
    ("levels/02-quiz-basics.ron", include_str!("../../levels/02-quiz-basics.ron")),
    ("levels/03-matrix.ron", include_str!("../../levels/03-matrix.ron")),
    ("levels/04-quiz-qlora.ron", include_str!("../../levels/04-quiz-qlora.ron")),
    ("levels/05-nf4.ron", include_str!("../../levels/05-nf4.ron")),
];

/// The levels that loaded and the problems found. Levels are sorted by `(order, id)`.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub levels: Vec<Level>,
    pub problems: Vec<Problem>,
}

impl LoadReport {
    /// No problem at all.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The level with this id.
    pub fn level(&self, id: &str) -> Option<&Level> {
        self.levels.iter().find(|level| level.id == id)
    }

    /// The levels of one kind, in order.
    pub fn of_kind(&self, kind: LevelKind) -> impl Iterator<Item = &Level> {
        self.levels.iter().filter(move |level| level.kind() == kind)
    }

    fn sort(&mut self) {
        self.levels.sort_by(|a, b| (a.order, a.id.as_str()).cmp(&(b.order, b.id.as_str())));
    }
}

/// The RON options level files are read with: `implicit_some` (write an optional field without
/// `Some(..)`) and `unwrap_variant_newtypes` (`Paragraph(es: "..", en: "..")`).
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// Parses and validates one level from its text; `file` is only used to name problems.
pub fn parse_level(source: &str, file: &Path) -> Result<Level, Vec<Problem>> {
    if source.len() as u64 > MAX_FILE_BYTES {
        return Err(vec![Problem::file(file, format!("file is larger than {MAX_FILE_BYTES} bytes"))]);
    }
    if is_blank_ron(source) {
        return Err(vec![Problem::file(file, "empty file: expected a level `( id: .., .. )`")]);
    }
    let level: Level = ron_options().from_str(source).map_err(|error| vec![parse_problem(source, file, &error)])?;

    let issues = validate::validate_level(&level);
    if issues.is_empty() {
        return Ok(level);
    }
    let map = SourceMap::build(source);
    Err(issues
        .into_iter()
        .map(|issue| {
            let pos = map.position(&issue.field);
            Problem {
                file: file.to_owned(),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                field: Some(issue.field).filter(|f| !f.is_empty()),
                message: issue.message,
            }
        })
        .collect())
}

/// Reads, parses and validates one level file.
pub fn load_file(path: &Path) -> Result<Level, Vec<Problem>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            return Err(vec![Problem::file(
                path,
                format!("file is {} bytes, more than the {MAX_FILE_BYTES} allowed", meta.len()),
            )]);
        }
        Ok(_) => {}
        Err(error) => return Err(vec![Problem::file(path, format!("cannot read: {error}"))]),
    }
    let bytes = std::fs::read(path).map_err(|error| vec![Problem::file(path, format!("cannot read: {error}"))])?;
    let source =
        String::from_utf8(bytes).map_err(|error| vec![Problem::file(path, format!("not UTF-8 text: {error}"))])?;
    parse_level(&source, path)
}

/// Loads every `*.ron` file in `dir` (not recursive), in file-name order. A bad file is reported
/// and skipped; a level whose id was already loaded from another file is a problem and skipped.
/// Questions are checked against the folder's own slides or, when it has none, the shipped ones.
pub fn load_dir(dir: &Path) -> LoadReport {
    load_dir_beside(dir, None)
}

/// [`load_dir`], with the shipped levels already loaded (`shipped`) so a course does not parse
/// and check them twice.
fn load_dir_beside(dir: &Path, shipped: Option<&[Level]>) -> LoadReport {
    let mut report = LoadReport::default();
    let files = match level_files(dir) {
        Ok(files) => files,
        Err(problem) => {
            report.problems.push(problem);
            return report;
        }
    };
    if files.is_empty() {
        report.problems.push(Problem::file(dir, format!("no `*.{LEVEL_EXTENSION}` level files in this folder")));
    }
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in files {
        tracing::debug!(file = %path.display(), "loading level");
        match load_file(&path) {
            Ok(level) => {
                let source = || std::fs::read_to_string(&path).unwrap_or_default();
                add_unique(&mut report, &mut seen, level, path.clone(), source)
            }
            Err(problems) => report.problems.extend(problems),
        }
    }
    // Questions may point at the folder's own slides or, when it has none, the shipped ones.
    let loaded;
    let mut lessons: Vec<&Slide> = coverage::slides(&report.levels).collect();
    if lessons.is_empty() {
        let shipped = match shipped {
            Some(levels) => levels,
            None => {
                loaded = builtin();
                &loaded.levels
            }
        };
        lessons = coverage::slides(shipped).collect();
    }
    let problems =
        untaught_problems(&report.levels, &lessons, &seen, |path| std::fs::read_to_string(path).unwrap_or_default());
    report.problems.extend(problems);
    report.sort();
    report
}

/// A problem for every question among `levels` whose `taught_on` slide does not show its quote,
/// located in the level's file (`files`: level id → file, `source`: that file's text).
fn untaught_problems(
    levels: &[Level],
    lessons: &[&Slide],
    files: &HashMap<String, PathBuf>,
    source: impl Fn(&Path) -> String,
) -> Vec<Problem> {
    coverage::untaught(levels, lessons)
        .into_iter()
        .map(|found| {
            let file = files.get(&found.level).cloned().unwrap_or_default();
            let pos = SourceMap::build(&source(&file)).position(&found.field);
            Problem {
                file,
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                field: Some(found.field),
                message: found.message,
            }
        })
        .collect()
}

/// The shipped levels, from the text embedded in the binary.
pub fn builtin() -> LoadReport {
    let mut report = LoadReport::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (name, source) in BUILTIN_FILES {
        match parse_level(source, Path::new(name)) {
            Ok(level) => add_unique(&mut report, &mut seen, level, PathBuf::from(name), || (*source).to_owned()),
            Err(problems) => report.problems.extend(problems),
        }
    }
    let lessons: Vec<&Slide> = coverage::slides(&report.levels).collect();
    let problems = untaught_problems(&report.levels, &lessons, &seen, |path| {
        BUILTIN_FILES.iter().find(|(name, _)| Path::new(name) == path).map(|(_, s)| (*s).to_owned()).unwrap_or_default()
    });
    report.problems.extend(problems);
    report.sort();
    report
}

/// The course: the shipped levels, plus an instructor's folder whose levels are added, or
/// replace the shipped level with the same id.
pub fn load_course(instructor_dir: Option<&Path>) -> LoadReport {
    let mut course = builtin();
    let Some(dir) = instructor_dir else {
        return course;
    };
    let extra = load_dir_beside(dir, Some(&course.levels));
    course.problems.extend(extra.problems);
    for level in extra.levels {
        match course.levels.iter_mut().find(|l| l.id == level.id) {
            Some(slot) => {
                tracing::info!(id = %level.id, "instructor level replaces the built-in one");
                *slot = level;
            }
            None => course.levels.push(level),
        }
    }
    course.sort();
    course
}

/// Adds `level` unless its id was already loaded; `source` (read only in that case) locates
/// the `id` field for the problem.
fn add_unique(
    report: &mut LoadReport,
    seen: &mut HashMap<String, PathBuf>,
    level: Level,
    path: PathBuf,
    source: impl FnOnce() -> String,
) {
    if let Some(first) = seen.get(&level.id) {
        let pos = SourceMap::build(&source()).position("id");
        report.problems.push(Problem {
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            field: Some("id".into()),
            message: format!("duplicate level id `{}`: already used by {}", level.id, first.display()),
            file: path,
        });
        return;
    }
    seen.insert(level.id.clone(), path);
    report.levels.push(level);
}

/// The level files (`*.ron`) of a folder, sorted by name.
pub(crate) fn level_files(dir: &Path) -> Result<Vec<PathBuf>, Problem> {
    let entries =
        std::fs::read_dir(dir).map_err(|error| Problem::file(dir, format!("cannot read the folder: {error}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == LEVEL_EXTENSION))
        .collect();
    files.sort();
    Ok(files)
}

/// Whether the text holds nothing but whitespace and comments.
fn is_blank_ron(source: &str) -> bool {
    let mut rest = source.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            match after.find("*/") {
                Some(end) => rest = after[end + 2..].trim_start(),
                None => return false, // an unclosed comment is a syntax error, let ron say so
            }
        } else {
            return rest.is_empty();
        }
    }
}

/// A ron parse error as a [`Problem`] with its line, column and, where the scanner can tell,
/// the field it is in.
fn parse_problem(source: &str, file: &Path, error: &ron::error::SpannedError) -> Problem {
    use ron::error::Error;
    let start = Pos { line: error.span.start.line, column: error.span.start.col };
    let field = match &error.code {
        // The span covers the unknown name: it belongs to the struct around it.
        Error::NoSuchStructField { found, .. } => {
            Some(join(source_map::container_path_at(source, start).as_deref(), found))
        }
        // Reported at the closing parenthesis of the struct that lacks the field.
        Error::MissingStructField { field: name, .. } => {
            let end = Pos { line: error.span.end.line, column: error.span.end.col };
            Some(join(source_map::container_path_at(source, end).as_deref(), name))
        }
        _ => source_map::path_at(source, start),
    };
    Problem {
        file: file.to_owned(),
        line: Some(start.line),
        column: Some(start.column),
        field,
        message: error.code.to_string(),
    }
}

fn join(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(parent) if !parent.is_empty() => format!("{parent}.{name}"),
        _ => name.to_owned(),
    }
}
