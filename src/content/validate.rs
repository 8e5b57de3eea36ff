//! Checks a parsed [`Level`] beyond what serde can: translations present, indices in range,
//! ids unique, sizes sane, and every stored answer re-derived by the maths ([`super::answers`]).

use std::collections::HashSet;

use super::answers;
use super::schema::*;

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
        Items::Matrix(puzzles) => v.list(items, puzzles, |p| p.id.as_str(), Validator::matrix_puzzle),
        Items::Nf4(puzzles) => v.list(items, puzzles, |p| p.id.as_str(), Validator::nf4_puzzle),
    }
    v.issues
}

#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
}

impl Validator {
    fn issue(&mut self, field: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            field: field.to_owned(),
            message: message.into(),
        });
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
        } else if !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            self.issue(
                field,
                format!("id `{id}` may only use lowercase ASCII letters, digits, `-` and `_`"),
            );
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
            self.issue(
                &format!("{path}.{list}"),
                format!("{} {list}: need 2 to 4", options.len()),
            );
            ok = false;
        }
        for (i, option) in options.iter().enumerate() {
            ok &= check(self, &format!("{path}.{list}[{i}]"), option);
        }
        if answer >= options.len() {
            self.issue(
                &format!("{path}.answer"),
                format!(
                    "answer index {answer} is out of range: there are {} {list}",
                    options.len()
                ),
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
                    format!(
                        "row {i} has {} values, row 0 has {cols}: rows must have equal length",
                        row.len()
                    ),
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
            self.issue(
                &format!("{field}.stars"),
                format!("star thresholds must rise: got [{one}, {two}, {three}]"),
            );
        }
        if three > reward.points {
            self.issue(
                &format!("{field}.stars"),
                format!(
                    "3 stars need {three} points but the puzzle gives at most {}",
                    reward.points
                ),
            );
        }
        if reward.hint_cost > reward.points || reward.miss_cost > reward.points {
            self.issue(field, "a hint or a miss cannot cost more than the puzzle's points");
        }
    }

    fn puzzle_common(&mut self, path: &str, id: &str, prompt: &Text, hints: &[Text], reward: &Reward) {
        self.id(&format!("{path}.id"), id);
        self.text(&format!("{path}.prompt"), prompt);
        if hints.is_empty() {
            self.issue(&format!("{path}.hints"), "a puzzle needs at least one hint");
        }
        self.texts(&format!("{path}.hints"), hints);
        self.reward(&format!("{path}.reward"), reward);
    }

    // ---- lessons ----------------------------------------------------------------------------

    fn slide(&mut self, path: &str, slide: &Slide) {
        self.id(&format!("{path}.id"), &slide.id);
        self.text(&format!("{path}.title"), &slide.title);
        self.opt_text(&format!("{path}.notes"), &slide.notes);
        if slide.body.len() > MAX_ITEMS {
            self.issue(&format!("{path}.body"), format!("more than {MAX_ITEMS} blocks"));
        }
        for (i, block) in slide.body.iter().enumerate() {
            self.block(&format!("{path}.body[{i}]"), block);
        }
    }

    fn block(&mut self, path: &str, block: &Block) {
        match block {
            Block::Paragraph(text) => self.text(path, text),
            Block::Bullets(items) => {
                if items.is_empty() {
                    self.issue(path, "empty bullet list");
                }
                self.texts(path, items);
            }
            Block::Formula(formula) => {
                if formula.text.trim().is_empty() {
                    self.issue(&format!("{path}.text"), "empty formula");
                }
                self.opt_text(&format!("{path}.caption"), &formula.caption);
            }
            Block::Callout(callout) => self.text(&format!("{path}.text"), &callout.text),
            Block::Matrix(figure) => {
                self.matrix(&format!("{path}.matrix"), &figure.matrix);
                self.opt_text(&format!("{path}.caption"), &figure.caption);
            }
            Block::Factorization(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                let ok = self.matrix(&format!("{path}.product"), &figure.product)
                    & self.matrix(&format!("{path}.left"), &figure.left)
                    & self.matrix(&format!("{path}.right"), &figure.right);
                if ok {
                    self.derived(path, answers::check_figure_product(figure));
                }
            }
            Block::Table(table) => {
                self.opt_text(&format!("{path}.caption"), &table.caption);
                if table.header.is_empty() {
                    self.issue(&format!("{path}.header"), "a table needs a header");
                }
                self.texts(&format!("{path}.header"), &table.header);
                for (i, row) in table.rows.iter().enumerate() {
                    let row_path = format!("{path}.rows[{i}]");
                    if row.len() != table.header.len() {
                        self.issue(
                            &row_path,
                            format!("row has {} cells, the header has {}", row.len(), table.header.len()),
                        );
                    }
                    self.texts(&row_path, row);
                }
            }
            Block::TrainableShare(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                let before = self.issues.len();
                self.model_shape(&format!("{path}.model"), &figure.model);
                if figure.rows.is_empty() {
                    self.issue(&format!("{path}.rows"), "no configuration to show");
                }
                if self.issues.len() == before {
                    for (i, row) in figure.rows.iter().enumerate() {
                        let row_path = format!("{path}.rows[{i}]");
                        if row.rank == 0 || row.rank > MAX_DIMENSION || row.targets.is_empty() {
                            self.issue(&row_path, "rank must be ≥ 1 and targets non-empty");
                            continue;
                        }
                        if !row.percent.is_finite() {
                            self.issue(&format!("{row_path}.percent"), "not a finite number");
                            continue;
                        }
                        self.derived(&row_path, answers::check_share_row(figure, row));
                    }
                    self.derived(&format!("{path}.total_params"), answers::check_total_params(figure));
                }
            }
            Block::Memory(figure) => {
                self.opt_text(&format!("{path}.caption"), &figure.caption);
                if figure.params == 0 || figure.params > MAX_PARAMS {
                    self.issue(
                        &format!("{path}.params"),
                        format!("params must be between 1 and {MAX_PARAMS}"),
                    );
                    return;
                }
                for (i, row) in figure.rows.iter().enumerate() {
                    let row_path = format!("{path}.rows[{i}].gb");
                    if self.number(&row_path, row.gb) {
                        self.derived(
                            &row_path,
                            answers::check_memory_figure_gb(figure.params, row.precision, row.gb),
                        );
                    }
                }
            }
        }
    }

    fn model_shape(&mut self, path: &str, shape: &ModelShape) {
        if shape.name.trim().is_empty() {
            self.issue(&format!("{path}.name"), "empty model name");
        }
        let dims = [
            ("vocab", shape.vocab),
            ("hidden", shape.hidden),
            ("intermediate", shape.intermediate),
            ("layers", shape.layers),
            ("heads", shape.heads),
            ("kv_heads", shape.kv_heads),
            ("head_dim", shape.head_dim),
        ];
        for (name, value) in dims {
            if value == 0 || value > MAX_DIMENSION {
                self.issue(
                    &format!("{path}.{name}"),
                    format!("must be between 1 and {MAX_DIMENSION}"),
                );
            }
        }
        if shape.kv_heads > shape.heads || (shape.kv_heads != 0 && !shape.heads.is_multiple_of(shape.kv_heads)) {
            self.issue(&format!("{path}.kv_heads"), "heads must be a multiple of kv_heads");
        }
    }

    // ---- quiz -------------------------------------------------------------------------------

    fn question(&mut self, path: &str, q: &Question) {
        self.id(&format!("{path}.id"), &q.id);
        self.text(&format!("{path}.prompt"), &q.prompt);
        self.text(&format!("{path}.explanation"), &q.explanation);
        let choices = format!("{path}.choices");
        if !(2..=4).contains(&q.choices.len()) {
            self.issue(
                &choices,
                format!("{} choices: a question needs 2 to 4", q.choices.len()),
            );
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
        for lang in Lang::ALL {
            let mut seen = HashSet::new();
            for (i, choice) in q.choices.iter().enumerate() {
                if !seen.insert(choice.get(lang).trim()) {
                    self.issue(&format!("{choices}[{i}].{}", lang.code()), "two choices read the same");
                }
            }
        }
    }

    // ---- matrix puzzles ---------------------------------------------------------------------

    fn matrix_puzzle(&mut self, path: &str, puzzle: &MatrixPuzzle) {
        self.puzzle_common(path, &puzzle.id, &puzzle.prompt, &puzzle.hints, &puzzle.reward);
        self.matrix_task(&format!("{path}.task"), &puzzle.task);
    }

    fn matrix_task(&mut self, path: &str, task: &MatrixTask) {
        let field = |name: &str| format!("{path}.{name}");
        match task {
            MatrixTask::Factorize {
                target,
                rank,
                example_b,
                example_a,
            } => {
                let ok = self.matrix(&field("target"), target)
                    & self.matrix(&field("example_b"), example_b)
                    & self.matrix(&field("example_a"), example_a);
                if *rank == 0 || *rank > MAX_MATRIX_SIDE {
                    self.issue(&field("rank"), format!("rank must be between 1 and {MAX_MATRIX_SIDE}"));
                } else if ok {
                    self.derived(
                        &field("example_b"),
                        answers::check_factorize_example(target, *rank, example_b, example_a),
                    );
                }
            }
            MatrixTask::CompleteDelta { b, a, blanks, delta } => {
                let ok =
                    self.matrix(&field("b"), b) & self.matrix(&field("a"), a) & self.matrix(&field("delta"), delta);
                if blanks.is_empty() {
                    self.issue(&field("blanks"), "no blank cell to fill");
                }
                for (i, &(row, col)) in blanks.iter().enumerate() {
                    if row >= delta.rows() || col >= delta.cols() {
                        self.issue(
                            &format!("{path}.blanks[{i}]"),
                            format!(
                                "cell ({row}, {col}) is outside the {}×{} ΔW",
                                delta.rows(),
                                delta.cols()
                            ),
                        );
                    }
                }
                if ok {
                    self.derived(&field("delta"), answers::check_delta(b, a, delta));
                }
            }
            MatrixTask::Forward { w, a, b, x, alpha, y } => {
                let ok = self.matrix(&field("w"), w)
                    & self.matrix(&field("a"), a)
                    & self.matrix(&field("b"), b)
                    & self.vector(&field("x"), x)
                    & self.vector(&field("y"), y)
                    & self.number(&field("alpha"), *alpha);
                if ok {
                    self.derived(&field("y"), answers::check_forward(w, a, b, x, *alpha, y));
                }
            }
            MatrixTask::CountParams {
                d_in,
                d_out,
                rank,
                ask: _,
                lora,
                full,
            } => {
                let mut ok = true;
                for (name, value) in [("d_in", *d_in), ("d_out", *d_out), ("rank", *rank)] {
                    if value == 0 || value > MAX_DIMENSION {
                        self.issue(&field(name), format!("{value} is out of range 1..={MAX_DIMENSION}"));
                        ok = false;
                    }
                }
                if ok {
                    self.derived(&field("lora"), answers::check_lora_count(*d_in, *d_out, *rank, *lora));
                    self.derived(&field("full"), answers::check_full_count(*d_in, *d_out, *full));
                }
            }
            MatrixTask::FindRank { matrix, rank } => {
                if self.matrix(&field("matrix"), matrix) {
                    self.derived(&field("rank"), answers::check_rank(matrix, *rank));
                }
            }
            MatrixTask::BestApprox {
                matrix,
                rank,
                choices,
                answer,
            } => {
                let mut ok = self.matrix(&field("matrix"), matrix);
                ok &= self.pick_one(path, "choices", choices, *answer, Self::matrix);
                if *rank == 0 || *rank > MAX_MATRIX_SIDE {
                    self.issue(&field("rank"), format!("rank must be between 1 and {MAX_MATRIX_SIDE}"));
                    ok = false;
                }
                if ok {
                    self.derived(
                        &field("answer"),
                        answers::check_best_approx(matrix, *rank, choices, *answer),
                    );
                }
            }
        }
    }

    // ---- NF4 puzzles ------------------------------------------------------------------------

    fn nf4_puzzle(&mut self, path: &str, puzzle: &Nf4Puzzle) {
        self.puzzle_common(path, &puzzle.id, &puzzle.prompt, &puzzle.hints, &puzzle.reward);
        self.nf4_task(&format!("{path}.task"), &puzzle.task);
    }

    fn nf4_task(&mut self, path: &str, task: &Nf4Task) {
        let field = |name: &str| format!("{path}.{name}");
        match task {
            Nf4Task::Absmax { block, absmax } => {
                if self.vector(&field("block"), block) & self.number(&field("absmax"), *absmax) {
                    self.derived(&field("absmax"), answers::check_absmax(block, *absmax));
                }
            }
            Nf4Task::Quantize { block, codes } => {
                if self.vector(&field("block"), block) {
                    self.derived(&field("codes"), answers::check_quantize(block, codes));
                }
            }
            Nf4Task::Dequantize {
                codes,
                absmax,
                values,
                tolerance,
            } => {
                let ok = self.number(&field("absmax"), *absmax)
                    & self.vector(&field("values"), values)
                    & self.tolerance(&field("tolerance"), *tolerance);
                if codes.is_empty() {
                    self.issue(&field("codes"), "no code to dequantize");
                } else if ok {
                    self.derived(
                        &field("values"),
                        answers::check_dequantize(codes, *absmax, values, *tolerance),
                    );
                }
            }
            Nf4Task::CompareError { blocks, answer } => {
                let ok = self.pick_one(path, "blocks", blocks, *answer, |v, field, block| {
                    v.vector(field, block)
                });
                if ok {
                    self.derived(&field("answer"), answers::check_compare_error(blocks, *answer));
                }
            }
            Nf4Task::Memory {
                model,
                params,
                precision,
                gb,
                tolerance_gb,
            } => {
                if model.trim().is_empty() {
                    self.issue(&field("model"), "empty model name");
                }
                let mut ok = self.number(&field("gb"), *gb) & self.tolerance(&field("tolerance_gb"), *tolerance_gb);
                if *params == 0 || *params > MAX_PARAMS {
                    self.issue(&field("params"), format!("{params} is out of range 1..={MAX_PARAMS}"));
                    ok = false;
                }
                if ok {
                    self.derived(
                        &field("gb"),
                        answers::check_memory_gb(*params, *precision, *gb, *tolerance_gb),
                    );
                }
            }
        }
    }

    fn tolerance(&mut self, field: &str, tolerance: f64) -> bool {
        if !(tolerance.is_finite() && tolerance > 0.0 && tolerance <= 1000.0) {
            self.issue(
                field,
                format!("tolerance {tolerance} must be a positive number up to 1000"),
            );
            false
        } else {
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Text {
        Text::new(s, s)
    }

    fn reward() -> Reward {
        Reward {
            points: 100,
            hint_cost: 10,
            miss_cost: 10,
            stars: [10, 20, 30],
        }
    }

    fn matrix_level(task: MatrixTask) -> Level {
        Level {
            id: "t".into(),
            order: 1,
            title: text("t"),
            summary: text("s"),
            items: Items::Matrix(vec![MatrixPuzzle {
                id: "p".into(),
                difficulty: Difficulty::Easy,
                prompt: text("p"),
                hints: vec![text("h")],
                reward: reward(),
                task,
            }]),
        }
    }

    fn nf4_level(task: Nf4Task) -> Level {
        Level {
            id: "t".into(),
            order: 1,
            title: text("t"),
            summary: text("s"),
            items: Items::Nf4(vec![Nf4Puzzle {
                id: "p".into(),
                difficulty: Difficulty::Easy,
                prompt: text("p"),
                hints: vec![text("h")],
                reward: reward(),
                task,
            }]),
        }
    }

    fn fields(level: &Level) -> Vec<String> {
        validate_level(level).into_iter().map(|i| i.field).collect()
    }

    #[test]
    fn a_valid_puzzle_has_no_issue() {
        let level = matrix_level(MatrixTask::FindRank {
            matrix: Matrix(vec![vec![1.0, 2.0], vec![2.0, 4.0]]),
            rank: 1,
        });
        assert_eq!(fields(&level), Vec::<String>::new());
    }

    #[test]
    fn reward_rules() {
        let mut level = matrix_level(MatrixTask::FindRank {
            matrix: Matrix(vec![vec![1.0]]),
            rank: 1,
        });
        let Items::Matrix(puzzles) = &mut level.items else {
            unreachable!()
        };
        puzzles[0].reward.stars = [30, 20, 200];
        puzzles[0].hints.clear();
        assert_eq!(
            fields(&level),
            ["items[0].hints", "items[0].reward.stars", "items[0].reward.stars"]
        );
    }

    #[test]
    fn best_approx_must_be_well_posed() {
        let m = |rows: &[&[f64]]| Matrix(rows.iter().map(|r| r.to_vec()).collect());
        // The matrix itself (rank 2) among rank-1 choices would beat the truncated SVD.
        let level = matrix_level(MatrixTask::BestApprox {
            matrix: m(&[&[5.0, 0.0], &[0.0, 2.0]]),
            rank: 1,
            choices: vec![m(&[&[5.0, 0.0], &[0.0, 0.0]]), m(&[&[5.0, 0.0], &[0.0, 2.0]])],
            answer: 0,
        });
        let issues = validate_level(&level);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("choice 1 has rank 2"), "{issues:?}");
        // A choice index that does not exist.
        let level = matrix_level(MatrixTask::BestApprox {
            matrix: m(&[&[5.0, 0.0], &[0.0, 2.0]]),
            rank: 1,
            choices: vec![m(&[&[5.0, 0.0], &[0.0, 0.0]]), m(&[&[0.0, 0.0], &[0.0, 2.0]])],
            answer: 2,
        });
        assert_eq!(fields(&level), ["items[0].task.answer"]);
    }

    #[test]
    fn factorization_at_the_wrong_rank() {
        let m = |rows: &[&[f64]]| Matrix(rows.iter().map(|r| r.to_vec()).collect());
        // A rank-1 target offered as a rank-2 puzzle: the example works but the rank is wrong.
        let level = matrix_level(MatrixTask::Factorize {
            target: m(&[&[2.0, 4.0], &[1.0, 2.0]]),
            rank: 2,
            example_b: m(&[&[2.0, 0.0], &[1.0, 0.0]]),
            example_a: m(&[&[1.0, 2.0], &[0.0, 0.0]]),
        });
        let issues = validate_level(&level);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("rank 1, not 2"), "{issues:?}");
    }

    #[test]
    fn memory_tolerance_must_discriminate() {
        let level = nf4_level(Nf4Task::Memory {
            model: "7B".into(),
            params: 7_000_000_000,
            precision: Precision::Bf16,
            gb: 14.0,
            tolerance_gb: 5.0,
        });
        let issues = validate_level(&level);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("any guess would pass"), "{issues:?}");
    }

    #[test]
    fn compare_error_must_be_unambiguous() {
        let level = nf4_level(Nf4Task::CompareError {
            blocks: vec![vec![1.0, 0.5], vec![1.0, 0.5]],
            answer: 0,
        });
        assert_eq!(fields(&level), ["items[0].task.answer"]);
    }

    #[test]
    fn dequantize_codes_must_be_four_bit() {
        let level = nf4_level(Nf4Task::Dequantize {
            codes: vec![16],
            absmax: 1.0,
            values: vec![1.0],
            tolerance: 0.01,
        });
        let issues = validate_level(&level);
        assert!(issues[0].message.contains("0 to 15"), "{issues:?}");
    }

    #[test]
    fn quiz_choice_count_and_duplicates() {
        let question = Question {
            id: "q".into(),
            topic: Topic::Lora,
            difficulty: Difficulty::Easy,
            prompt: text("p"),
            choices: vec![text("a")],
            answer: 0,
            explanation: text("e"),
        };
        let mut level = Level {
            id: "Bad Id".into(),
            order: 1,
            title: text("t"),
            summary: text("s"),
            items: Items::Quiz(vec![question.clone()]),
        };
        assert_eq!(fields(&level), ["id", "items[0].choices"]);
        let Items::Quiz(questions) = &mut level.items else {
            unreachable!()
        };
        questions[0].choices = vec![text("a"), text("b"), text("a")];
        level.id = "ok".into();
        assert_eq!(fields(&level), ["items[0].choices[2].es", "items[0].choices[2].en"]);
    }
}
