//! A matrix or NF4 puzzle being played: the player's editable grids, a live evaluation on every
//! edit, hints, tries and scoring. Whether an answer is right is the answer engine's verdict
//! ([`crate::content::answer`]), never a comparison with a stored answer.
//! Plain Rust: the puzzle screens draw it and feed it keys.
//!
//! - [`grid`]: the grids, the cursor, typing;
//! - [`evaluation`]: marks, figures and facts;
//! - [`matrix`], [`nf4`]: what each kind of task puts on screen and reads back as an answer.

pub mod evaluation;
pub mod grid;
pub mod matrix;
pub mod nf4;

pub use evaluation::{Evaluation, Fact, Figure, Mark};
pub use grid::{Cell, Cursor, Grid, GridKind, parse_number};
pub use nf4::{ZERO_CODE, nf4_code_of, nf4_value};

use crate::content::answer::{Expected, Grade, PuzzleTask, Tolerance};
use crate::content::{MatrixPuzzle, MatrixTask, Nf4Puzzle, Nf4Task, Puzzle, Reward, Text};

/// Points added when a factorization uses the smallest possible rank.
pub const MIN_RANK_BONUS: u32 = 50;
/// Wrong tries after which the player may give up and see a solution.
pub const TRIES_BEFORE_GIVE_UP: u32 = 3;

/// What the last ENTER said, until the next edit.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LastTry {
    #[default]
    None,
    /// Some cell was still empty: not a try, nothing counted.
    Incomplete,
    /// A wrong answer, with the answer engine's words on what is wrong.
    Wrong(Text),
}

/// Why H opened no hint (said on screen instead of nothing happening).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintRefused {
    /// Hints open one per wrong try.
    AfterAWrongTry,
    /// Every hint is already shown.
    NoneLeft,
    /// This puzzle has none.
    NoHints,
}

/// Which puzzle family.
#[derive(Clone, Debug, PartialEq)]
pub enum Task {
    Matrix(MatrixTask),
    Nf4(Nf4Task),
}

impl From<MatrixTask> for Task {
    fn from(task: MatrixTask) -> Task {
        Task::Matrix(task)
    }
}

impl From<Nf4Task> for Task {
    fn from(task: Nf4Task) -> Task {
        Task::Nf4(task)
    }
}

/// What the game adds to a kind of task ([`matrix`], [`nf4`]): the grids a player fills, the
/// answer read back from them, and the figures and facts that explain the task.
trait Playable: PuzzleTask + Clone + Into<Task> {
    /// The grids to fill, and the number of options of a pick-one task (0 otherwise).
    fn inputs(&self) -> (Vec<Grid>, usize);
    /// The player's answer, once every cell it needs holds a number.
    fn answer(&self, inputs: &[Grid], chosen: Option<usize>) -> Option<Self::Answer>;
    /// Read-only figures and facts beside the grids.
    fn explain(&self, run: &PuzzleRun, eval: &mut Evaluation);
}

/// Runs `$body` with `$task` bound to the task of either family.
macro_rules! with_task {
    ($task:expr, $t:ident => $body:expr) => {
        match $task {
            Task::Matrix($t) => $body,
            Task::Nf4($t) => $body,
        }
    };
}

impl Task {
    /// The answer, from the maths.
    pub fn expected(&self) -> Result<Expected, String> {
        with_task!(self, t => t.expected())
    }

    /// Whether ✔/✖ per cell waits for a check: choosing an NF4 code until the cell turns ✔
    /// would otherwise solve a quantize puzzle without thinking.
    pub fn hides_until_checked(&self) -> bool {
        matches!(self, Task::Nf4(Nf4Task::Quantize { .. }))
    }

    /// How close a typed number must be.
    pub fn tolerance(&self) -> Tolerance {
        with_task!(self, t => t.tolerance(crate::content::GivenBy::Player))
    }

    /// The answer engine's verdict on the grids and choice as they stand; `None` while the
    /// answer is incomplete.
    pub fn grade(&self, inputs: &[Grid], chosen: Option<usize>) -> Option<Grade> {
        with_task!(self, t => t.answer(inputs, chosen).map(|answer| t.grade(&answer)))
    }
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
    /// Set by a submission that was not right, cleared by the next edit.
    pub last_try: LastTry,
    /// Set when H could not open a hint, cleared by the next edit.
    pub hint_refused: Option<HintRefused>,
}

impl PuzzleRun {
    pub fn from_matrix(p: &MatrixPuzzle) -> PuzzleRun {
        PuzzleRun::new(p)
    }

    pub fn from_nf4(p: &Nf4Puzzle) -> PuzzleRun {
        PuzzleRun::new(p)
    }

    fn new<T: Playable>(p: &Puzzle<T>) -> PuzzleRun {
        let (inputs, choices) = p.task.inputs();
        let mut run = PuzzleRun {
            id: p.id.clone(),
            prompt: p.prompt.clone(),
            hints: p.hints.clone(),
            reward: p.reward.clone(),
            task: p.task.clone().into(),
            inputs,
            choices,
            chosen: None,
            cursor: Cursor::default(),
            wrong_tries: 0,
            hints_shown: 0,
            status: Status::Playing,
            last_try: LastTry::None,
            hint_refused: None,
        };
        run.cursor = run.first_editable(0).unwrap_or_default();
        run
    }

    pub fn is_playing(&self) -> bool {
        self.status == Status::Playing
    }

    /// The live evaluation: marks, figures and facts, and the answer engine's verdict.
    pub fn evaluate(&self) -> Evaluation {
        let mut eval = Evaluation::new(&self.inputs);
        match self.task.expected() {
            Ok(expected) => {
                let marks_shown = !self.task.hides_until_checked() || self.checked();
                if let Some(truth) = expected.cells().filter(|_| marks_shown) {
                    eval.mark_cells(&self.inputs, 0, &truth, self.task.tolerance());
                }
            }
            Err(_) => {
                eval.note = Some(crate::content::Text::new(
                    "las matrices del puzle no encajan entre sí",
                    "the puzzle's matrices do not fit together",
                ))
            }
        }
        eval.solved = self.task.grade(&self.inputs, self.chosen).is_some_and(|g| g.correct);
        with_task!(&self.task, t => t.explain(self, &mut eval));
        eval
    }

    // ---------------------------------------------------------------------------------------
    // Hints, submitting, revealing
    // ---------------------------------------------------------------------------------------

    /// Hints open only after a wrong try, one per try at most.
    pub fn hint_available(&self) -> bool {
        self.is_playing() && self.hints_shown < self.hints.len() && self.hints_shown < self.wrong_tries as usize
    }

    /// H: opens the next hint, or says why there is none now.
    pub fn open_hint(&mut self) -> bool {
        if self.hint_available() {
            self.hints_shown += 1;
            self.hint_refused = None;
            return true;
        }
        if self.is_playing() {
            self.hint_refused = Some(match () {
                _ if self.hints.is_empty() => HintRefused::NoHints,
                _ if self.hints_shown >= self.hints.len() => HintRefused::NoneLeft,
                _ => HintRefused::AfterAWrongTry,
            });
        }
        false
    }

    /// An edit: what the last ENTER or H said no longer applies.
    pub(super) fn edited(&mut self) {
        self.last_try = LastTry::None;
        self.hint_refused = None;
    }

    pub fn can_give_up(&self) -> bool {
        self.is_playing() && self.wrong_tries >= TRIES_BEFORE_GIVE_UP
    }

    /// ENTER: asks the answer engine. Returns whether the answer was right. An answer with an
    /// empty cell is not judged and costs no try: the live preview reads empty cells as 0, so a
    /// product can look right before every cell is filled.
    pub fn submit(&mut self) -> bool {
        if !self.is_playing() {
            return false;
        }
        let Some(grade) = self.task.grade(&self.inputs, self.chosen) else {
            self.last_try = LastTry::Incomplete;
            return false;
        };
        if grade.correct {
            let eval = self.evaluate();
            let bonus = if eval.min_rank { MIN_RANK_BONUS } else { 0 };
            let base = self.reward.score(self.hints_shown as u32, self.wrong_tries);
            let stars = self.reward.stars_for(base).max(1);
            self.status = Status::Solved { score: base + bonus, bonus, stars };
            true
        } else {
            self.wrong_tries += 1;
            self.last_try = LastTry::Wrong(grade.feedback);
            false
        }
    }

    /// Whether the answer as it stands has been checked: right after a wrong ENTER (until the
    /// next edit), or once the puzzle is over. Tasks that trial and error would solve show their
    /// verdict per cell only then ([`Task::hides_until_checked`]).
    pub fn checked(&self) -> bool {
        !self.is_playing() || self.last_wrong()
    }

    /// Whether the last ENTER was a wrong answer (and nothing was edited since).
    pub fn last_wrong(&self) -> bool {
        matches!(self.last_try, LastTry::Wrong(_))
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

    /// Fills in a correct answer (the maths'; for a factorization the level's example pair) and
    /// ends the puzzle without points.
    pub fn reveal(&mut self) {
        if !self.is_playing() {
            return;
        }
        if let Task::Matrix(MatrixTask::Factorize { target, example_b, example_a, .. }) = self.task.clone() {
            self.fill_example(&target, &example_b, &example_a);
        } else if let Ok(expected) = self.task.expected() {
            if let (Some(truth), Some(grid)) = (expected.cells(), self.inputs.first_mut()) {
                grid.fill_editable(&truth);
            }
            if let Expected::Choice(right) = expected {
                self.chosen = Some(right);
            }
        }
        self.cursor = Cursor::default();
        self.status = Status::Revealed;
    }
}
