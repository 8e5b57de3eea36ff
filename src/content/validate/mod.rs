//! Checks a parsed [`Level`] beyond what serde can: translations present, indices in range,
//! ids unique, sizes sane, and every stored answer re-derived by the maths (`derived`).
//!
//! - this file: the `Validator` and what every kind of item uses (texts, numbers, matrices,
//!   rewards), questions, and the one path every puzzle takes;
//! - `lessons`: slides and their figures; `tasks`: what each matrix and NF4 task needs.

mod derived;
mod lessons;
mod tasks;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use super::schema::*;
use tasks::CheckTask;

/// A problem found in a parsed level, at a field path such as `items[3].explanation.en`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub field: String,
    pub message: String,
}

/// Largest matrix side in a puzzle or a slide (puzzles are worked by hand).
pub const MAX_MATRIX_SIDE: usize = 8;
/// Largest magnitude of a number in a puzzle.
pub const MAX_ABS_VALUE: f64 = 1.0e6;
/// Largest layer dimension in a count puzzle.
pub const MAX_DIMENSION: u64 = 1 << 20;
/// Largest model size (weights) in a memory puzzle: 10 trillion.
pub const MAX_PARAMS: u64 = 10_000_000_000_000;
/// Longest player-facing string, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest list in a level (slides, questions, puzzles, choices…).
pub const MAX_ITEMS: usize = 500;

/// Every problem of `level`, in file order as far as possible.
pub fn validate_level(level: &Level) -> Vec<Issue> {
    let mut v = Validator::default();
    v.id("id", &level.id);
    v.text("title", &level.title);
    v.text("summary", &level.summary);
    let items = "items";
    if level.items.is_empty() {
        v.issue(items, "a level needs at least one item");
    }
    if level.items.len() > MAX_ITEMS {
        v.issue(items, format!("more than {MAX_ITEMS} items"));
    }
    match &level.items {
        Items::Lessons(slides) => v.list(items, slides, |s| s.id.as_str(), Validator::slide),
        Items::Quiz(questions) => v.list(items, questions, |q| q.id.as_str(), Validator::question),
        Items::Matrix(puzzles) => v.list(items, puzzles, |p| p.id.as_str(), Validator::puzzle),
        Items::Nf4(puzzles) => v.list(items, puzzles, |p| p.id.as_str(), Validator::puzzle),
    }
    v.issues
}

/// Collects the issues of one level, each at its field path.
#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
}

impl Validator {
    fn issue(&mut self, field: &str, message: impl Into<String>) {
        self.issues.push(Issue { field: field.to_owned(), message: message.into() });
    }

    /// Runs a maths check; its error becomes an issue at `field`.
    fn derived(&mut self, field: &str, check: Result<(), String>) {
        if let Err(message) = check {
            self.issue(field, message);
        }
    }

    fn id(&mut self, field: &str, id: &str) {
        if id.trim().is_empty() {
            self.issue(field, "id is empty");
        } else if !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            self.issue(field, format!("id `{id}` may only use lowercase ASCII letters, digits, `-` and `_`"));
        }
    }

    /// Checks each entry of the list `list` at `list[i]`, then that their ids are unique.
    fn list<T>(&mut self, list: &str, entries: &[T], id: impl Fn(&T) -> &str, check: impl Fn(&mut Self, &str, &T)) {
        for (i, entry) in entries.iter().enumerate() {
            check(self, &format!("{list}[{i}]"), entry);
        }
        self.unique_ids(list, entries.iter().map(id));
    }

    /// A pick-one task: 2 to 4 options at `{path}.{list}`, each checked by `check`, and an
    /// `answer` index into them. Returns whether all of it is usable.
    fn pick_one<T>(
        &mut self,
        path: &str,
        list: &str,
        options: &[T],
        answer: usize,
        check: impl Fn(&mut Self, &str, &T) -> bool,
    ) -> bool {
        let mut ok = true;
        if !(2..=4).contains(&options.len()) {
            self.issue(&format!("{path}.{list}"), format!("{} {list}: need 2 to 4", options.len()));
            ok = false;
        }
        for (i, option) in options.iter().enumerate() {
            ok &= check(self, &format!("{path}.{list}[{i}]"), option);
        }
        if answer >= options.len() {
            self.issue(
                &format!("{path}.answer"),
                format!("answer index {answer} is out of range: there are {} {list}", options.len()),
            );
            ok = false;
        }
        ok
    }

    fn unique_ids<'a>(&mut self, list: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if !seen.insert(id) {
                self.issue(&format!("{list}[{i}].id"), format!("duplicate id `{id}`"));
            }
        }
    }

    fn text(&mut self, field: &str, text: &Text) {
        for lang in Lang::ALL {
            let s = text.get(lang);
            let path = format!("{field}.{}", lang.code());
            if s.trim().is_empty() {
                let name = match lang {
                    Lang::Es => "Spanish",
                    Lang::En => "English",
                };
                self.issue(&path, format!("missing {name} translation (blank text)"));
            } else if s.chars().count() > MAX_TEXT_CHARS {
                self.issue(&path, format!("text longer than {MAX_TEXT_CHARS} characters"));
            }
        }
    }

    fn opt_text(&mut self, field: &str, text: &Option<Text>) {
        if let Some(text) = text {
            self.text(field, text);
        }
    }

    fn texts(&mut self, field: &str, texts: &[Text]) {
        if texts.len() > MAX_ITEMS {
            self.issue(field, format!("more than {MAX_ITEMS} entries"));
        }
        for (i, text) in texts.iter().enumerate() {
            self.text(&format!("{field}[{i}]"), text);
        }
    }

    fn number(&mut self, field: &str, x: f64) -> bool {
        if !x.is_finite() {
            self.issue(field, format!("{x} is not a finite number"));
            false
        } else if x.abs() > MAX_ABS_VALUE {
            self.issue(field, format!("{x} is too large (|x| ≤ {MAX_ABS_VALUE} in a puzzle)"));
            false
        } else {
            true
        }
    }

    fn vector(&mut self, field: &str, values: &[f64]) -> bool {
        let mut ok = true;
        if values.is_empty() {
            self.issue(field, "empty vector");
            ok = false;
        }
        if values.len() > MAX_MATRIX_SIDE * MAX_MATRIX_SIDE {
            self.issue(field, "vector too long");
            return false;
        }
        for (i, &x) in values.iter().enumerate() {
            ok &= self.number(&format!("{field}[{i}]"), x);
        }
        ok
    }

    /// Rectangular, non-empty, small, finite. Returns whether the matrix is usable by the maths.
    fn matrix(&mut self, field: &str, m: &Matrix) -> bool {
        if m.0.is_empty() || m.cols() == 0 {
            self.issue(field, "empty matrix");
            return false;
        }
        if m.rows() > MAX_MATRIX_SIDE || m.0.iter().any(|r| r.len() > MAX_MATRIX_SIDE) {
            self.issue(field, format!("matrix larger than {MAX_MATRIX_SIDE}×{MAX_MATRIX_SIDE}"));
            return false;
        }
        let mut ok = true;
        let cols = m.cols();
        for (i, row) in m.0.iter().enumerate() {
            if row.len() != cols {
                self.issue(
                    &format!("{field}[{i}]"),
                    format!("row {i} has {} values, row 0 has {cols}: rows must have equal length", row.len()),
                );
                ok = false;
            }
            for (j, &x) in row.iter().enumerate() {
                ok &= self.number(&format!("{field}[{i}][{j}]"), x);
            }
        }
        ok
    }

    fn reward(&mut self, field: &str, reward: &Reward) {
        if reward.points == 0 || reward.points > 100_000 {
            self.issue(&format!("{field}.points"), "points must be between 1 and 100000");
        }
        let [one, two, three] = reward.stars;
        if !(one < two && two < three) {
            self.issue(&format!("{field}.stars"), format!("star thresholds must rise: got [{one}, {two}, {three}]"));
        }
        if three > reward.points {
            self.issue(
                &format!("{field}.stars"),
                format!("3 stars need {three} points but the puzzle gives at most {}", reward.points),
            );
        }
        if reward.hint_cost > reward.points || reward.miss_cost > reward.points {
            self.issue(field, "a hint or a miss cannot cost more than the puzzle's points");
        }
    }

    /// Every puzzle, matrix or NF4: its id, prompt, hints and reward, then its task.
    fn puzzle<T: CheckTask>(&mut self, path: &str, puzzle: &Puzzle<T>) {
        self.id(&format!("{path}.id"), &puzzle.id);
        self.text(&format!("{path}.prompt"), &puzzle.prompt);
        if puzzle.hints.is_empty() {
            self.issue(&format!("{path}.hints"), "a puzzle needs at least one hint");
        }
        self.texts(&format!("{path}.hints"), &puzzle.hints);
        self.reward(&format!("{path}.reward"), &puzzle.reward);
        puzzle.task.check(self, &format!("{path}.task"));
    }

    fn question(&mut self, path: &str, q: &Question) {
        self.id(&format!("{path}.id"), &q.id);
        self.text(&format!("{path}.prompt"), &q.prompt);
        self.text(&format!("{path}.explanation"), &q.explanation);
        let choices = format!("{path}.choices");
        if !(2..=4).contains(&q.choices.len()) {
            self.issue(&choices, format!("{} choices: a question needs 2 to 4", q.choices.len()));
        }
        self.texts(&choices, &q.choices);
        if q.answer >= q.choices.len() {
            self.issue(
                &format!("{path}.answer"),
                format!(
                    "answer index {} is out of range: there are {} choices (indices from 0)",
                    q.answer,
                    q.choices.len()
                ),
            );
        }
        if let Some(taught) = &q.taught_on {
            self.id(&format!("{path}.taught_on.slide"), &taught.slide);
            self.text(&format!("{path}.taught_on.quote"), &taught.quote);
        }
        for lang in Lang::ALL {
            let mut seen = HashSet::new();
            for (i, choice) in q.choices.iter().enumerate() {
                if !seen.insert(choice.get(lang).trim()) {
                    self.issue(&format!("{choices}[{i}].{}", lang.code()), "two choices read the same");
                }
            }
        }
    }

    fn tolerance(&mut self, field: &str, tolerance: f64) -> bool {
        if !(tolerance.is_finite() && tolerance > 0.0 && tolerance <= 1000.0) {
            self.issue(field, format!("tolerance {tolerance} must be a positive number up to 1000"));
            false
        } else {
            true
        }
    }
}
