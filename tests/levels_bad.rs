//! Malformed level files: each gives the expected located problem, never a panic, and a bad
//! file never stops the good ones from loading.

use std::path::{Path, PathBuf};

use lora_arcade::content::{self, Problem};

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad_levels").join(name)
}

/// Loads a bad file and returns its single problem.
fn only_problem(name: &str) -> Problem {
    let problems = content::load_file(&bad(name)).expect_err("a bad level must not load");
    assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
    let problem = problems.into_iter().next().unwrap();
    assert_eq!(problem.file, bad(name));
    problem
}

fn assert_problem(name: &str, line: usize, field: &str, message_part: &str) {
    let problem = only_problem(name);
    assert_eq!(problem.line, Some(line), "{name}: {problem}");
    assert!(problem.column.is_some(), "{name}: {problem}");
    assert_eq!(problem.field.as_deref(), Some(field), "{name}: {problem}");
    assert!(problem.message.contains(message_part), "{name}: `{}` does not mention `{message_part}`", problem.message);
    // The display names file, line, column and field.
    let shown = problem.to_string();
    let prefix = format!("{}:{line}:", bad(name).display());
    assert!(shown.starts_with(&prefix), "{shown}");
    assert!(shown.contains(&format!("field `{field}`: ")), "{shown}");
}

#[test]
fn truncated_file() {
    assert_problem("truncated.ron", 21, "items[1].prompt.en", "end of string");
}

#[test]
fn wrong_type() {
    assert_problem("wrong_type.ron", 13, "items[0].reward.points", "Expected integer");
}

#[test]
fn unknown_field() {
    assert_problem("unknown_field.ron", 16, "items[0].explanaton", "Unexpected field named `explanaton`");
}

#[test]
fn missing_field() {
    assert_problem("missing_field.ron", 15, "items[0].explanation", "missing field named `explanation`");
}

#[test]
fn missing_translation() {
    assert_problem("missing_translation.ron", 24, "items[1].explanation.en", "missing English translation");
}

#[test]
fn huge_integer() {
    assert_problem("huge_number.ron", 14, "items[0].task.full", "out of bounds");
}

#[test]
fn huge_float() {
    assert_problem("huge_float.ron", 15, "items[0].task.matrix[1][1]", "not a finite number");
}

#[test]
fn empty_files() {
    for name in ["empty.ron", "only_comment.ron"] {
        let problem = only_problem(name);
        assert_eq!(problem.line, None);
        assert_eq!(problem.field, None);
        assert!(problem.message.contains("empty file"), "{problem}");
    }
}

#[test]
fn wrong_answer_is_re_derived() {
    assert_problem("wrong_answer.ron", 18, "items[0].task.delta", "B·A = [[-8, -2, -6, 6]");
}

#[test]
fn answer_index_out_of_range() {
    assert_problem("answer_out_of_range.ron", 14, "items[0].answer", "out of range");
}

#[test]
fn unequal_matrix_rows() {
    assert_problem("unequal_rows.ron", 15, "items[0].task.target[1]", "equal length");
}

#[test]
fn duplicate_item_ids() {
    assert_problem("duplicate_ids.ron", 17, "items[1].id", "duplicate id `same`");
}

#[test]
fn every_bad_file_is_reported_and_none_loads() {
    let dir = bad("");
    let report = content::load_dir(&dir);
    assert!(report.levels.is_empty(), "{:?}", report.levels.iter().map(|l| &l.id).collect::<Vec<_>>());
    let files = std::fs::read_dir(&dir).unwrap().count();
    let mut reported: Vec<&Path> = report.problems.iter().map(|p| p.file.as_path()).collect();
    reported.dedup();
    assert_eq!(reported.len(), files, "every file has at least one problem");
}

#[test]
fn one_bad_file_does_not_stop_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let levels = Path::new(env!("CARGO_MANIFEST_DIR")).join("levels");
    std::fs::copy(levels.join("03-matrix.ron"), dir.path().join("good.ron")).unwrap();
    std::fs::copy(bad("wrong_answer.ron"), dir.path().join("bad.ron")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a level").unwrap();
    let report = content::load_dir(dir.path());
    assert_eq!(report.levels.len(), 1);
    assert_eq!(report.levels[0].id, "matrix");
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].file, dir.path().join("bad.ron"));
}

#[test]
fn duplicate_level_ids_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("levels/05-nf4.ron")).unwrap();
    std::fs::write(dir.path().join("a.ron"), &source).unwrap();
    std::fs::write(dir.path().join("b.ron"), &source).unwrap();
    let report = content::load_dir(dir.path());
    assert_eq!(report.levels.len(), 1);
    assert_eq!(report.problems.len(), 1);
    let problem = &report.problems[0];
    assert_eq!(problem.file, dir.path().join("b.ron"));
    assert_eq!(problem.field.as_deref(), Some("id"));
    assert!(problem.line.is_some());
    assert!(problem.message.contains("duplicate level id `nf4`"), "{problem}");
}

#[test]
fn missing_or_empty_folder_is_a_problem_not_a_panic() {
    let missing = content::load_dir(Path::new("/definitely/not/here"));
    assert!(missing.levels.is_empty());
    assert_eq!(missing.problems.len(), 1);
    let empty = tempfile::tempdir().unwrap();
    let report = content::load_dir(empty.path());
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].message.contains("no `*.ron`"));
}

#[test]
fn oversized_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.ron");
    std::fs::write(&path, " ".repeat(content::load::MAX_FILE_BYTES as usize + 1)).unwrap();
    let problems = content::load_file(&path).unwrap_err();
    assert!(problems[0].message.contains("bytes"), "{}", problems[0]);
}

/// A fact moved off its slide (here into the presenter notes) is caught at the question that
/// asks it, located in the quiz file; a slide id that does not exist is caught too.
#[test]
fn a_question_whose_slide_no_longer_shows_the_fact_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let levels = Path::new(env!("CARGO_MANIFEST_DIR")).join("levels");
    for file in ["01-lessons.ron", "04-quiz-qlora.ron"] {
        std::fs::copy(levels.join(file), dir.path().join(file)).unwrap();
    }
    assert!(content::load_dir(dir.path()).is_clean());
    let lessons = dir.path().join("01-lessons.ron");
    let source = std::fs::read_to_string(&lessons).unwrap();
    let moved =
        source.replace(" (el primero en el medio byte alto)", "").replace(" (the first in the high nibble)", "");
    assert_ne!(moved, source);
    std::fs::write(&lessons, moved).unwrap();
    let report = content::load_dir(dir.path());
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.file, dir.path().join("04-quiz-qlora.ron"));
    let quiz = std::fs::read_to_string(dir.path().join("04-quiz-qlora.ron")).unwrap();
    let line = quiz.lines().position(|l| l.contains("el primero en el medio byte alto")).unwrap() + 1;
    assert_eq!(problem.line, Some(line), "{problem}");
    assert!(problem.field.as_deref().unwrap().ends_with(".taught_on"), "{problem}");
    assert!(problem.message.contains("`nf4-packing`") && problem.message.contains("(es) nor"), "{problem}");

    // A quiz folder with no lessons of its own is checked against the shipped slides.
    std::fs::remove_file(&lessons).unwrap();
    let quiz_file = dir.path().join("04-quiz-qlora.ron");
    std::fs::write(&quiz_file, quiz.replace("slide: \"benchmarks\"", "slide: \"no-such-slide\"")).unwrap();
    let report = content::load_dir(dir.path());
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    assert!(
        report.problems[0].message.contains("no lesson slide has the id `no-such-slide`"),
        "{}",
        report.problems[0]
    );
}
