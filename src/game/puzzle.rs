//! A matrix or NF4 puzzle being played: the player's editable grids, a live evaluation done by
//! [`crate::math`] on every edit (never against a stored answer), hints, tries and scoring.
//! Plain Rust: the puzzle screens draw it and feed it keys.

use nalgebra::{DMatrix, DVector};

use crate::content::{CountAsk, Matrix, MatrixPuzzle, MatrixTask, Nf4Puzzle, Nf4Task, Reward, Text};
use crate::math;

use super::i18n::Tr;

/// Absolute tolerance for typed answers (players type at most a few decimals).
pub const ANSWER_TOLERANCE: f64 = 0.005;
/// Points added when a factorization uses the smallest possible rank.
pub const MIN_RANK_BONUS: u32 = 50;
/// Wrong tries after which the player may give up and see a solution.
pub const TRIES_BEFORE_GIVE_UP: u32 = 3;

/// How a cell compares with what the maths says. Drawn with a colour AND a symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Nothing typed yet.
    Empty,
    /// Typed; cannot be judged on its own (a factor of a product).
    Entered,
    /// Shown by the puzzle, not editable.
    Given,
    Match,
    Miss,
}

/// What a grid's cells hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridKind {
    /// Typed decimal numbers.
    Numbers,
    /// NF4 code indices 0..=15, moved up and down the ladder.
    Codes,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub text: String,
    pub editable: bool,
}

impl Cell {
    pub fn value(&self) -> Option<f64> {
        parse_number(&self.text)
    }
}

/// A matrix (or vector, or single number) the player fills in.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub label: String,
    pub rows: usize,
    pub cols: usize,
    pub kind: GridKind,
    pub cells: Vec<Cell>,
}

impl Grid {
    fn blank(label: &str, rows: usize, cols: usize, kind: GridKind) -> Grid {
        let cells = vec![
            Cell {
                text: String::new(),
                editable: true
            };
            rows * cols
        ];
        Grid {
            label: label.to_owned(),
            rows,
            cols,
            kind,
            cells,
        }
    }

    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        &self.cells[row * self.cols + col]
    }

    pub fn value(&self, row: usize, col: usize) -> Option<f64> {
        self.cell(row, col).value()
    }

    /// The grid as a matrix, empty cells read as 0 (for the live preview).
    pub fn matrix_or_zero(&self) -> DMatrix<f64> {
        DMatrix::from_fn(self.rows, self.cols, |r, c| self.value(r, c).unwrap_or(0.0))
    }

    pub fn is_complete(&self) -> bool {
        self.cells.iter().all(|c| c.value().is_some())
    }

    fn set(&mut self, row: usize, col: usize, value: f64) {
        self.cells[row * self.cols + col].text = format_number(value);
    }

    /// Resizes keeping the cells that still fit (for changing the rank of a factorization).
    fn resize(&mut self, rows: usize, cols: usize) {
        let mut cells = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                let keep = (r < self.rows && c < self.cols).then(|| self.cell(r, c).clone());
                cells.push(keep.unwrap_or(Cell {
                    text: String::new(),
                    editable: true,
                }));
            }
        }
        self.rows = rows;
        self.cols = cols;
        self.cells = cells;
    }
}

/// A read-only matrix drawn next to the inputs (the target, W, x, the live ΔW = B·A, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub label: String,
    pub matrix: DMatrix<f64>,
    /// Per-cell comparison with the target, when the figure is a live result.
    pub marks: Option<DMatrix<Mark>>,
}

impl Figure {
    fn plain(label: impl Into<String>, matrix: DMatrix<f64>) -> Figure {
        Figure {
            label: label.into(),
            matrix,
            marks: None,
        }
    }
}

/// A labelled number shown beside the puzzle.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub key: Tr,
    pub value: String,
}

/// The live state of the player's answer, recomputed by the maths on every edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Per input grid, per cell (row-major).
    pub marks: Vec<Vec<Mark>>,
    pub solved: bool,
    pub figures: Vec<Figure>,
    pub facts: Vec<Fact>,
    /// Solved with the smallest possible rank.
    pub min_rank: bool,
    /// A problem with the inputs (e.g. shapes), shown as is.
    pub note: Option<String>,
}

impl Evaluation {
    fn new(inputs: &[Grid]) -> Evaluation {
        Evaluation {
            marks: inputs
                .iter()
                .map(|g| {
                    g.cells
                        .iter()
                        .map(|c| match (c.editable, c.value()) {
                            (false, _) => Mark::Given,
                            (true, None) => Mark::Empty,
                            (true, Some(_)) => Mark::Entered,
                        })
                        .collect()
                })
                .collect(),
            solved: false,
            figures: Vec::new(),
            facts: Vec::new(),
            min_rank: false,
            note: None,
        }
    }

    /// Marks the editable cells of `grid` against `truth` (row-major); solved iff all match.
    fn judge_cells(&mut self, inputs: &[Grid], grid: usize, truth: &[f64], tol: f64) -> bool {
        let mut all = true;
        for (i, cell) in inputs[grid].cells.iter().enumerate() {
            if !cell.editable {
                continue;
            }
            let mark = match cell.value() {
                None => Mark::Empty,
                Some(v) if truth.get(i).is_some_and(|t| (v - t).abs() <= tol) => Mark::Match,
                Some(_) => Mark::Miss,
            };
            all &= mark == Mark::Match;
            self.marks[grid][i] = mark;
        }
        all
    }
}

/// Which puzzle family.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    Matrix(MatrixTask),
    Nf4(Nf4Task),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Playing,
    Solved {
        score: u32,
        bonus: u32,
        stars: u8,
    },
    /// Shown the solution (gave up, or presenter reveal): no points.
    Revealed,
}

/// Where the keyboard cursor is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    pub grid: usize,
    pub row: usize,
    pub col: usize,
}

#[derive(Clone, Debug)]
pub struct PuzzleRun {
    pub id: String,
    pub prompt: Text,
    pub hints: Vec<Text>,
    pub reward: Reward,
    pub task: Task,
    pub inputs: Vec<Grid>,
    /// Number of choices for a pick-one puzzle (0 otherwise).
    pub choices: usize,
    pub chosen: Option<usize>,
    pub cursor: Cursor,
    pub wrong_tries: u32,
    pub hints_shown: usize,
    pub status: Status,
    /// Set by a wrong submission, cleared by the next edit.
    pub last_wrong: bool,
}

impl PuzzleRun {
    pub fn from_matrix(p: &MatrixPuzzle) -> PuzzleRun {
        let (inputs, choices) = match &p.task {
            MatrixTask::Factorize { target, rank, .. } => (
                vec![
                    Grid::blank("B", target.rows(), *rank, GridKind::Numbers),
                    Grid::blank("A", *rank, target.cols(), GridKind::Numbers),
                ],
                0,
            ),
            MatrixTask::CompleteDelta { b, a, blanks, .. } => {
                let mut grid = Grid::blank("ΔW = B·A", b.rows(), a.cols(), GridKind::Numbers);
                // The shown cells come from the maths too, not from the stored ΔW.
                let delta = to_dmatrix(b)
                    .zip(to_dmatrix(a))
                    .and_then(|(b, a)| math::lora::delta_w(&b, &a).ok());
                for r in 0..grid.rows {
                    for c in 0..grid.cols {
                        if !blanks.contains(&(r, c)) {
                            let i = r * grid.cols + c;
                            grid.cells[i].editable = false;
                            if let Some(d) = &delta {
                                grid.cells[i].text = format_number(d[(r, c)]);
                            }
                        }
                    }
                }
                (vec![grid], 0)
            }
            MatrixTask::Forward { w, .. } => (vec![Grid::blank("y", w.rows(), 1, GridKind::Numbers)], 0),
            MatrixTask::CountParams { ask, .. } => {
                let label = match ask {
                    CountAsk::Lora => "r·(d_in + d_out)",
                    CountAsk::Full => "d_in·d_out",
                };
                (vec![Grid::blank(label, 1, 1, GridKind::Numbers)], 0)
            }
            MatrixTask::FindRank { .. } => (vec![Grid::blank("rank", 1, 1, GridKind::Numbers)], 0),
            MatrixTask::BestApprox { choices, .. } => (Vec::new(), choices.len()),
        };
        PuzzleRun::new(
            &p.id,
            &p.prompt,
            &p.hints,
            &p.reward,
            Task::Matrix(p.task.clone()),
            inputs,
            choices,
        )
    }

    pub fn from_nf4(p: &Nf4Puzzle) -> PuzzleRun {
        let (inputs, choices) = match &p.task {
            Nf4Task::Absmax { .. } => (vec![Grid::blank("absmax", 1, 1, GridKind::Numbers)], 0),
            Nf4Task::Quantize { block, .. } => {
                let mut grid = Grid::blank("code", 1, block.len(), GridKind::Codes);
                // Every weight starts on the 0.0 rung (index 7) so ↑ ↓ have somewhere to go.
                for cell in &mut grid.cells {
                    cell.text = ZERO_CODE.to_string();
                }
                (vec![grid], 0)
            }
            Nf4Task::Dequantize { codes, .. } => (vec![Grid::blank("w", 1, codes.len(), GridKind::Numbers)], 0),
            Nf4Task::CompareError { blocks, .. } => (Vec::new(), blocks.len()),
            Nf4Task::Memory { .. } => (vec![Grid::blank("GB", 1, 1, GridKind::Numbers)], 0),
        };
        PuzzleRun::new(
            &p.id,
            &p.prompt,
            &p.hints,
            &p.reward,
            Task::Nf4(p.task.clone()),
            inputs,
            choices,
        )
    }

    fn new(
        id: &str,
        prompt: &Text,
        hints: &[Text],
        reward: &Reward,
        task: Task,
        inputs: Vec<Grid>,
        choices: usize,
    ) -> PuzzleRun {
        let mut run = PuzzleRun {
            id: id.to_owned(),
            prompt: prompt.clone(),
            hints: hints.to_vec(),
            reward: reward.clone(),
            task,
            inputs,
            choices,
            chosen: None,
            cursor: Cursor::default(),
            wrong_tries: 0,
            hints_shown: 0,
            status: Status::Playing,
            last_wrong: false,
        };
        run.cursor = run.first_editable(0).unwrap_or_default();
        run
    }

    pub fn is_playing(&self) -> bool {
        self.status == Status::Playing
    }

    // ---------------------------------------------------------------------------------------
    // Editing
    // ---------------------------------------------------------------------------------------

    fn first_editable(&self, grid: usize) -> Option<Cursor> {
        let g = self.inputs.get(grid)?;
        let i = g.cells.iter().position(|c| c.editable)?;
        Some(Cursor {
            grid,
            row: i / g.cols,
            col: i % g.cols,
        })
    }

    /// Moves the cursor by (d_row, d_col) inside the current grid, skipping shown cells.
    pub fn move_cursor(&mut self, d_row: i32, d_col: i32) {
        let Some(g) = self.inputs.get(self.cursor.grid) else {
            return;
        };
        let (mut r, mut c) = (self.cursor.row as i32, self.cursor.col as i32);
        for _ in 0..(g.rows * g.cols) {
            r += d_row;
            c += d_col;
            if r < 0 || c < 0 || r >= g.rows as i32 || c >= g.cols as i32 {
                return;
            }
            if g.cell(r as usize, c as usize).editable {
                self.cursor.row = r as usize;
                self.cursor.col = c as usize;
                return;
            }
        }
    }

    /// TAB: the next grid that has an editable cell.
    pub fn next_grid(&mut self) {
        let n = self.inputs.len();
        for step in 1..=n {
            let grid = (self.cursor.grid + step) % n;
            if let Some(cursor) = self.first_editable(grid) {
                self.cursor = cursor;
                return;
            }
        }
    }

    /// Clicks a cell.
    pub fn select(&mut self, grid: usize, row: usize, col: usize) {
        if let Some(g) = self.inputs.get(grid)
            && row < g.rows
            && col < g.cols
            && g.cell(row, col).editable
        {
            self.cursor = Cursor { grid, row, col };
        }
    }

    fn current_cell(&mut self) -> Option<&mut Cell> {
        if !self.is_playing() {
            return None;
        }
        let Cursor { grid, row, col } = self.cursor;
        let g = self.inputs.get_mut(grid)?;
        if row >= g.rows || col >= g.cols {
            return None;
        }
        let cols = g.cols;
        let cell = &mut g.cells[row * cols + col];
        cell.editable.then_some(cell)
    }

    fn cursor_kind(&self) -> Option<GridKind> {
        self.inputs.get(self.cursor.grid).map(|g| g.kind)
    }

    /// Types one character (digit, '.', '-') into the selected number cell.
    pub fn type_char(&mut self, ch: char) {
        if self.cursor_kind() != Some(GridKind::Numbers) {
            return;
        }
        let Some(cell) = self.current_cell() else {
            return;
        };
        match ch {
            '0'..='9' if cell.text.len() < 12 => cell.text.push(ch),
            '.' | ',' if !cell.text.contains('.') => cell.text.push('.'),
            // '-' toggles the sign wherever the caret is.
            '-' => match cell.text.strip_prefix('-') {
                Some(rest) => cell.text = rest.to_owned(),
                None => cell.text.insert(0, '-'),
            },
            _ => return,
        }
        self.last_wrong = false;
    }

    pub fn backspace(&mut self) {
        if self.cursor_kind() != Some(GridKind::Numbers) {
            return;
        }
        if let Some(cell) = self.current_cell() {
            cell.text.pop();
        }
        self.last_wrong = false;
    }

    /// Moves the selected NF4 code one rung up (+1) or down (−1) the ladder.
    pub fn step_code(&mut self, delta: i32) {
        if self.cursor_kind() != Some(GridKind::Codes) {
            return;
        }
        if let Some(cell) = self.current_cell() {
            let code = cell.text.parse::<i32>().unwrap_or(ZERO_CODE as i32);
            cell.text = (code + delta).clamp(0, 15).to_string();
        }
        self.last_wrong = false;
    }

    /// Sets the selected NF4 code (clicking a ladder rung).
    pub fn set_code(&mut self, code: u8) {
        if self.cursor_kind() != Some(GridKind::Codes) {
            return;
        }
        if let Some(cell) = self.current_cell() {
            cell.text = code.min(15).to_string();
        }
        self.last_wrong = false;
    }

    /// Picks choice `index` of a pick-one puzzle.
    pub fn choose(&mut self, index: usize) {
        if self.is_playing() && index < self.choices {
            self.chosen = Some(index);
            self.last_wrong = false;
        }
    }

    /// The rank a factorization puzzle is being answered with (columns of B).
    pub fn factor_rank(&self) -> Option<usize> {
        match &self.task {
            Task::Matrix(MatrixTask::Factorize { .. }) => self.inputs.first().map(|b| b.cols),
            _ => None,
        }
    }

    /// Changes the rank of a factorization answer by `delta` (1 ..= min(d_out, d_in)).
    pub fn change_rank(&mut self, delta: i32) {
        let Task::Matrix(MatrixTask::Factorize { target, .. }) = &self.task else {
            return;
        };
        if !self.is_playing() {
            return;
        }
        let max = target.rows().min(target.cols()).max(1);
        let Some(r) = self.factor_rank() else { return };
        let new = (r as i32 + delta).clamp(1, max as i32) as usize;
        let (rows, cols) = (target.rows(), target.cols());
        self.inputs[0].resize(rows, new);
        self.inputs[1].resize(new, cols);
        let g = &self.inputs[self.cursor.grid];
        if self.cursor.row >= g.rows || self.cursor.col >= g.cols {
            self.cursor = self.first_editable(self.cursor.grid).unwrap_or_default();
        }
        self.last_wrong = false;
    }

    // ---------------------------------------------------------------------------------------
    // Hints, submitting, revealing
    // ---------------------------------------------------------------------------------------

    /// Hints open only after a wrong try, one per try at most.
    pub fn hint_available(&self) -> bool {
        self.is_playing() && self.hints_shown < self.hints.len() && self.hints_shown < self.wrong_tries as usize
    }

    pub fn open_hint(&mut self) -> bool {
        if self.hint_available() {
            self.hints_shown += 1;
            true
        } else {
            false
        }
    }

    pub fn can_give_up(&self) -> bool {
        self.is_playing() && self.wrong_tries >= TRIES_BEFORE_GIVE_UP
    }

    /// ENTER: checks the answer with the maths. Returns whether it was right.
    pub fn submit(&mut self) -> bool {
        if !self.is_playing() {
            return false;
        }
        let eval = self.evaluate();
        if eval.solved {
            let bonus = if eval.min_rank { MIN_RANK_BONUS } else { 0 };
            let base = self.reward.score(self.hints_shown as u32, self.wrong_tries);
            let stars = self.reward.stars_for(base).max(1);
            self.status = Status::Solved {
                score: base + bonus,
                bonus,
                stars,
            };
            true
        } else {
            self.wrong_tries += 1;
            self.last_wrong = true;
            false
        }
    }

    pub fn score(&self) -> u32 {
        match self.status {
            Status::Solved { score, .. } => score,
            _ => 0,
        }
    }

    pub fn stars(&self) -> u8 {
        match self.status {
            Status::Solved { stars, .. } => stars,
            _ => 0,
        }
    }

    /// Fills in a correct answer (computed by the maths; for a factorization the level's
    /// example pair) and ends the puzzle without points.
    pub fn reveal(&mut self) {
        if !self.is_playing() {
            return;
        }
        match self.task.clone() {
            Task::Matrix(MatrixTask::Factorize {
                example_b,
                example_a,
                target,
                ..
            }) => {
                let r = example_b.cols();
                self.inputs[0].resize(target.rows(), r);
                self.inputs[1].resize(r, target.cols());
                fill(&mut self.inputs[0], &example_b);
                fill(&mut self.inputs[1], &example_a);
            }
            _ => {
                if let Some(truths) = self.truth() {
                    for (grid, truth) in self.inputs.iter_mut().zip(truths) {
                        for (i, value) in truth.into_iter().enumerate() {
                            if grid.cells[i].editable {
                                grid.cells[i].text = format_number(value);
                            }
                        }
                    }
                }
                if self.choices > 0 {
                    self.chosen = self.correct_choice();
                }
            }
        }
        self.cursor = Cursor {
            grid: 0,
            row: 0,
            col: 0,
        };
        self.status = Status::Revealed;
    }

    // ---------------------------------------------------------------------------------------
    // The maths
    // ---------------------------------------------------------------------------------------

    /// The right value of every input cell (row-major per grid), from the maths. `None` for a
    /// factorization (many answers) or when the puzzle's data do not fit together.
    fn truth(&self) -> Option<Vec<Vec<f64>>> {
        let grids = match &self.task {
            Task::Matrix(task) => match task {
                MatrixTask::Factorize { .. } | MatrixTask::BestApprox { .. } => return None,
                MatrixTask::CompleteDelta { b, a, .. } => {
                    let d = math::lora::delta_w(&to_dmatrix(b)?, &to_dmatrix(a)?).ok()?;
                    vec![row_major(&d)]
                }
                MatrixTask::Forward { w, a, b, x, alpha, .. } => {
                    let y = math::lora::lora_forward(
                        &to_dmatrix(w)?,
                        &to_dmatrix(a)?,
                        &to_dmatrix(b)?,
                        &DVector::from_column_slice(x),
                        *alpha,
                        math::lora::Scaling::Standard,
                    )
                    .ok()?;
                    vec![y.iter().copied().collect()]
                }
                MatrixTask::CountParams {
                    d_in, d_out, rank, ask, ..
                } => {
                    let n = match ask {
                        CountAsk::Lora => math::lora::lora_params(*d_in, *d_out, *rank),
                        CountAsk::Full => math::lora::full_params(*d_in, *d_out),
                    };
                    vec![vec![n as f64]]
                }
                MatrixTask::FindRank { matrix, .. } => {
                    vec![vec![math::lora::rank(&to_dmatrix(matrix)?) as f64]]
                }
            },
            Task::Nf4(task) => match task {
                Nf4Task::Absmax { block, .. } => vec![vec![absmax(block)]],
                Nf4Task::Quantize { block, .. } => {
                    vec![quantize_block(block)?.codes().into_iter().map(f64::from).collect()]
                }
                Nf4Task::Dequantize { codes, absmax, .. } => {
                    vec![codes.iter().map(|c| nf4_value(*c) * absmax).collect()]
                }
                Nf4Task::CompareError { .. } => return None,
                Nf4Task::Memory { params, precision, .. } => vec![vec![memory_gb(*params, *precision)]],
            },
        };
        Some(grids)
    }

    /// The right choice of a pick-one puzzle, from the maths.
    pub fn correct_choice(&self) -> Option<usize> {
        match &self.task {
            Task::Matrix(MatrixTask::BestApprox {
                matrix, rank, choices, ..
            }) => {
                let (best, _) = math::lora::best_rank_approx(&to_dmatrix(matrix)?, *rank).ok()?;
                argmin(
                    choices
                        .iter()
                        .map(|c| to_dmatrix(c).map_or(f64::INFINITY, |c| (c - &best).norm())),
                )
            }
            Task::Nf4(Nf4Task::CompareError { blocks, .. }) => argmin(blocks.iter().map(|b| -nf4_block_error(b))),
            _ => None,
        }
    }

    /// Tolerance for typed answers of this puzzle.
    fn tolerance(&self) -> f64 {
        match &self.task {
            Task::Nf4(Nf4Task::Dequantize { tolerance, .. }) => tolerance.max(ANSWER_TOLERANCE),
            Task::Nf4(Nf4Task::Memory { tolerance_gb, .. }) => tolerance_gb.max(ANSWER_TOLERANCE),
            Task::Nf4(Nf4Task::Quantize { .. }) => 0.0,
            _ => ANSWER_TOLERANCE,
        }
    }

    /// The live evaluation: marks, derived figures and facts, solved or not.
    pub fn evaluate(&self) -> Evaluation {
        let mut eval = Evaluation::new(&self.inputs);
        match &self.task {
            Task::Matrix(MatrixTask::Factorize { target, .. }) => self.evaluate_factorization(target, &mut eval),
            Task::Matrix(MatrixTask::BestApprox { .. }) | Task::Nf4(Nf4Task::CompareError { .. }) => {
                eval.solved = self.chosen.is_some() && self.chosen == self.correct_choice();
            }
            _ => match self.truth() {
                Some(truths) => {
                    let tol = self.tolerance();
                    let mut solved = true;
                    for (g, truth) in truths.iter().enumerate() {
                        solved &= eval.judge_cells(&self.inputs, g, truth, tol);
                    }
                    eval.solved = solved;
                }
                None => eval.note = Some("the puzzle's matrices do not fit together".into()),
            },
        }
        self.add_context(&mut eval);
        eval
    }

    fn evaluate_factorization(&self, target: &Matrix, eval: &mut Evaluation) {
        let Some(w) = to_dmatrix(target) else { return };
        let (b, a) = (self.inputs[0].matrix_or_zero(), self.inputs[1].matrix_or_zero());
        let r = b.ncols() as u64;
        let (d_out, d_in) = (w.nrows() as u64, w.ncols() as u64);
        eval.facts.push(Fact {
            key: Tr::TrainableParams,
            value: math::lora::lora_params(d_in, d_out, r).to_string(),
        });
        eval.facts.push(Fact {
            key: Tr::FullParams,
            value: math::lora::full_params(d_in, d_out).to_string(),
        });
        match math::lora::check_factorization(&w, &b, &a, ANSWER_TOLERANCE) {
            Ok(check) => {
                let marks = check.cell_ok.map(|ok| if ok { Mark::Match } else { Mark::Miss });
                let complete = self.inputs.iter().all(Grid::is_complete);
                eval.solved = check.ok && complete;
                eval.min_rank = eval.solved && b.ncols() == math::lora::rank(&w);
                eval.figures.push(Figure {
                    label: "B·A".into(),
                    matrix: check.product,
                    marks: Some(marks),
                });
            }
            Err(e) => eval.note = Some(e.to_string()),
        }
        eval.figures.insert(0, Figure::plain("ΔW", w));
    }

    /// Read-only figures and facts that explain the task.
    fn add_context(&self, eval: &mut Evaluation) {
        let grids = |ms: &[(&str, &Matrix)]| -> Vec<Figure> {
            ms.iter()
                .filter_map(|(l, m)| Some(Figure::plain(*l, to_dmatrix(m)?)))
                .collect()
        };
        match &self.task {
            Task::Matrix(task) => match task {
                MatrixTask::Factorize { .. } => {}
                MatrixTask::CompleteDelta { b, a, .. } => eval.figures.extend(grids(&[("B", b), ("A", a)])),
                MatrixTask::Forward { w, a, b, x, alpha, .. } => {
                    eval.figures.extend(grids(&[("W", w), ("A", a), ("B", b)]));
                    eval.figures
                        .push(Figure::plain("x", DMatrix::from_column_slice(x.len(), 1, x)));
                    eval.facts.push(Fact {
                        key: Tr::Rank,
                        value: a.rows().to_string(),
                    });
                    eval.facts.push(Fact {
                        key: Tr::Layer,
                        value: format!("α = {}, s = α/r", format_number(*alpha)),
                    });
                }
                MatrixTask::CountParams { d_in, d_out, rank, .. } => {
                    eval.facts.push(Fact {
                        key: Tr::Layer,
                        value: format!("d_in = {d_in}, d_out = {d_out}, r = {rank}"),
                    });
                    if !self.is_playing() {
                        eval.facts.push(Fact {
                            key: Tr::TrainableParams,
                            value: math::lora::lora_params(*d_in, *d_out, *rank).to_string(),
                        });
                        eval.facts.push(Fact {
                            key: Tr::FullParams,
                            value: math::lora::full_params(*d_in, *d_out).to_string(),
                        });
                    }
                }
                MatrixTask::FindRank { matrix, .. } => eval.figures.extend(grids(&[("M", matrix)])),
                MatrixTask::BestApprox { matrix, choices, .. } => {
                    eval.figures.extend(grids(&[("M", matrix)]));
                    for (i, c) in choices.iter().enumerate() {
                        if let Some(m) = to_dmatrix(c) {
                            eval.figures.push(Figure::plain(format!("{}", i + 1), m));
                        }
                    }
                }
            },
            Task::Nf4(task) => match task {
                Nf4Task::Absmax { block, .. } => eval.figures.push(row_figure("w", block)),
                Nf4Task::Quantize { block, .. } => {
                    let scale = absmax(block);
                    eval.figures.push(row_figure("w", block));
                    eval.facts.push(Fact {
                        key: Tr::Absmax,
                        value: format_number(scale),
                    });
                    // Live: what the chosen codes dequantize to, and how far that is from w.
                    let codes = &self.inputs[0];
                    let deq: Vec<f64> = (0..codes.cols)
                        .map(|i| nf4_value(codes.value(0, i).unwrap_or(ZERO_CODE as f64) as u8) * scale)
                        .collect();
                    let err: Vec<f64> = block.iter().zip(&deq).map(|(w, d)| (w - d).abs()).collect();
                    let max_err = err.iter().copied().fold(0.0, f64::max);
                    eval.figures.push(row_figure("ŵ", &deq));
                    eval.figures.push(row_figure("|w−ŵ|", &err));
                    eval.facts.push(Fact {
                        key: Tr::MaxError,
                        value: format!("{max_err:.4}"),
                    });
                }
                Nf4Task::Dequantize { codes, absmax, .. } => {
                    let c: Vec<f64> = codes.iter().map(|c| f64::from(*c)).collect();
                    eval.figures.push(row_figure("code", &c));
                    eval.facts.push(Fact {
                        key: Tr::Absmax,
                        value: format_number(*absmax),
                    });
                }
                Nf4Task::CompareError { blocks, .. } => {
                    for (i, b) in blocks.iter().enumerate() {
                        eval.figures.push(row_figure(&format!("{}", i + 1), b));
                    }
                }
                Nf4Task::Memory { model, params, .. } => {
                    eval.facts.push(Fact {
                        key: Tr::Weight,
                        value: format!("{model}: {params}"),
                    });
                }
            },
        }
    }
}

/// Index of the 0.0 rung of the NF4 ladder.
pub const ZERO_CODE: u8 = math::nf4::NF4_ZERO_INDEX;

/// The NF4 ladder's value at `code` (0..=15).
pub fn nf4_value(code: u8) -> f64 {
    f64::from(math::nf4::NF4_CODE[usize::from(code.min(15))])
}

/// The NF4 code of weight `w` in a block with absmax `scale`.
pub fn nf4_code_of(w: f64, scale: f64) -> u8 {
    if scale == 0.0 {
        return ZERO_CODE;
    }
    math::nf4::nearest_code(((w / scale) as f32).clamp(-1.0, 1.0))
}

/// One block quantized by the maths (one absmax for the whole block).
fn quantize_block(block: &[f64]) -> Option<math::nf4::Nf4Tensor> {
    let values: Vec<f32> = block.iter().map(|w| *w as f32).collect();
    math::nf4::quantize(&values, values.len().max(1)).ok()
}

/// The block's absmax as the maths stores it.
fn absmax(block: &[f64]) -> f64 {
    quantize_block(block)
        .and_then(|q| q.absmax.first().copied())
        .map_or(0.0, f64::from)
}

/// max |w − dequantize(quantize(w))| over the block.
fn nf4_block_error(block: &[f64]) -> f64 {
    let Some(q) = quantize_block(block) else {
        return f64::NAN;
    };
    block
        .iter()
        .zip(q.dequantize())
        .map(|(w, d)| (w - f64::from(d)).abs())
        .fold(0.0, f64::max)
}

/// Weight memory in GB (10⁹ bytes): the same figure the level checker derives.
pub use crate::content::answers::memory_gb;

fn argmin(values: impl Iterator<Item = f64>) -> Option<usize> {
    values
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

fn to_dmatrix(m: &Matrix) -> Option<DMatrix<f64>> {
    m.to_dmatrix()
}

fn row_major(m: &DMatrix<f64>) -> Vec<f64> {
    (0..m.nrows())
        .flat_map(|r| (0..m.ncols()).map(move |c| m[(r, c)]))
        .collect()
}

fn row_figure(label: &str, values: &[f64]) -> Figure {
    Figure::plain(label, DMatrix::from_row_slice(1, values.len(), values))
}

fn fill(grid: &mut Grid, m: &Matrix) {
    for r in 0..grid.rows.min(m.rows()) {
        for c in 0..grid.cols.min(m.cols()) {
            grid.set(r, c, m.0[r][c]);
        }
    }
}

/// Parses what a player typed: "", "-" and "." are not numbers yet.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t == "-" || t == "." || t == "-." {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A number for a grid cell: integers without decimals, others with up to 4.
pub fn format_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e12 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}
