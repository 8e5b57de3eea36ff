//! The one answer engine (`content::answer`): the shipped stored answers grade as right and one
//! step off as wrong, any factorization with the right product counts, and — with the arcade
//! built — the game, `check-levels` and the grading agree on every shipped puzzle, down to the
//! edge of the tolerance.

use lora_arcade::content::*;

/// The shipped level of `kind`.
fn shipped(kind: LevelKind) -> Level {
    builtin().levels.into_iter().find(|l| l.kind() == kind).expect("a shipped level of that kind")
}

/// An answer one step off: a wrong digit, the next code, the next option.
fn one_step_off_matrix(answer: MatrixAnswer) -> MatrixAnswer {
    match answer {
        MatrixAnswer::Factors { b, mut a } => {
            a.0[0][0] += 1.0;
            MatrixAnswer::Factors { b, a }
        }
        MatrixAnswer::Cells(mut v) => {
            v[0] += 1.0;
            MatrixAnswer::Cells(v)
        }
        MatrixAnswer::Vector(mut v) => {
            v[0] += 1.0;
            MatrixAnswer::Vector(v)
        }
        MatrixAnswer::Count(n) => MatrixAnswer::Count(n + 1),
        MatrixAnswer::Rank(r) => MatrixAnswer::Rank(r + 1),
        MatrixAnswer::Choice(c) => MatrixAnswer::Choice(c + 1),
    }
}

fn one_step_off_nf4(answer: Nf4Answer) -> Nf4Answer {
    match answer {
        Nf4Answer::Number(x) => Nf4Answer::Number(2.0 * x + 1.0),
        Nf4Answer::Codes(mut c) => {
            c[0] = (c[0] + 1) % 16;
            Nf4Answer::Codes(c)
        }
        Nf4Answer::Values(mut v) => {
            v[0] += 1.0;
            Nf4Answer::Values(v)
        }
        Nf4Answer::Choice(c) => Nf4Answer::Choice(c + 1),
    }
}

#[test]
fn stored_solutions_grade_as_correct_and_wrong_answers_do_not() {
    for level in &builtin().levels {
        match &level.items {
            Items::Matrix(puzzles) => {
                for p in puzzles {
                    assert!(p.task.grade(&p.task.solution()).correct, "{}", p.id);
                    assert!(!p.task.grade(&one_step_off_matrix(p.task.solution())).correct, "{}", p.id);
                }
            }
            Items::Nf4(puzzles) => {
                for p in puzzles {
                    assert!(p.task.grade(&p.task.solution()).correct, "{}", p.id);
                    assert!(!p.task.grade(&one_step_off_nf4(p.task.solution())).correct, "{}", p.id);
                }
            }
            Items::Quiz(questions) => {
                for q in questions {
                    assert!(q.is_correct(q.answer));
                    assert!(!q.is_correct((q.answer + 1) % q.choices.len()));
                }
            }
            Items::Lessons(_) => {}
        }
    }
}

#[test]
fn any_valid_factorization_is_accepted() {
    let matrix = shipped(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else { unreachable!() };
    let factorize = puzzles.iter().find(|p| matches!(&p.task, MatrixTask::Factorize { rank: 1, .. })).unwrap();
    let MatrixTask::Factorize { example_b, example_a, .. } = &factorize.task else { unreachable!() };
    // B·2 and A/2: a different pair with the same product.
    let b = Matrix(example_b.0.iter().map(|r| r.iter().map(|x| x * 2.0).collect()).collect());
    let a = Matrix(example_a.0.iter().map(|r| r.iter().map(|x| x / 2.0).collect()).collect());
    assert_ne!(b, *example_b);
    assert!(factorize.task.grade(&MatrixAnswer::Factors { b: b.clone(), a: a.clone() }).correct);
    // One wrong entry: rejected, with the count of wrong cells.
    let mut wrong_a = a.clone();
    wrong_a.0[0][0] += 1.0;
    let grade = factorize.task.grade(&MatrixAnswer::Factors { b: b.clone(), a: wrong_a });
    assert!(!grade.correct);
    assert!(grade.feedback.en.contains("4 cell(s)"), "{}", grade.feedback.en);
    // Wrong shapes are explained, not a panic.
    let grade = factorize.task.grade(&MatrixAnswer::Factors { b: a, a: b });
    assert!(!grade.correct);
    assert!(grade.feedback.en.contains("must be"), "{}", grade.feedback.en);
}

/// The game asks the same engine as `check-levels` and the grading above.
#[cfg(feature = "gui")]
mod in_the_game {
    use lora_arcade::content::answer::shown;
    use lora_arcade::content::validate::validate_level;
    use lora_arcade::game::puzzle::{Mark, PuzzleRun};

    use super::*;

    /// Types `text` into a cell, key by key.
    fn type_text(run: &mut PuzzleRun, grid: usize, row: usize, col: usize, text: &str) {
        run.select(grid, row, col);
        while !run.inputs[grid].cell(row, col).text.is_empty() {
            run.backspace();
        }
        for ch in text.chars() {
            run.type_char(ch);
        }
    }

    /// Types `value` into a cell as the game shows it.
    fn type_number(run: &mut PuzzleRun, grid: usize, row: usize, col: usize, value: f64) {
        type_text(run, grid, row, col, &shown(value));
    }

    fn type_row_major(run: &mut PuzzleRun, grid: usize, values: &[f64]) {
        let cols = run.inputs[grid].cols;
        for (i, v) in values.iter().enumerate() {
            type_number(run, grid, i / cols, i % cols, *v);
        }
    }

    /// Enters a matrix answer into the game's grids, as a player would.
    fn play_matrix_answer(run: &mut PuzzleRun, task: &MatrixTask, answer: &MatrixAnswer) {
        match (task, answer) {
            (_, MatrixAnswer::Factors { b, a }) => {
                for (g, m) in [(0, b), (1, a)] {
                    type_row_major(run, g, &m.0.concat());
                }
            }
            (MatrixTask::CompleteDelta { blanks, .. }, MatrixAnswer::Cells(cells)) => {
                for (&(r, c), v) in blanks.iter().zip(cells) {
                    type_number(run, 0, r, c, *v);
                }
            }
            (_, MatrixAnswer::Vector(y)) => type_row_major(run, 0, y),
            (_, MatrixAnswer::Count(n)) => type_number(run, 0, 0, 0, *n as f64),
            (_, MatrixAnswer::Rank(r)) => type_number(run, 0, 0, 0, *r as f64),
            (_, MatrixAnswer::Choice(c)) => run.choose(*c),
            (task, answer) => panic!("{answer:?} does not answer {task:?}"),
        }
    }

    /// Enters an NF4 answer into the game's grids, as a player would.
    fn play_nf4_answer(run: &mut PuzzleRun, answer: &Nf4Answer) {
        match answer {
            Nf4Answer::Number(x) => type_number(run, 0, 0, 0, *x),
            Nf4Answer::Codes(codes) => {
                for (i, code) in codes.iter().enumerate() {
                    run.select(0, 0, i);
                    run.set_code(*code);
                }
            }
            Nf4Answer::Values(values) => type_row_major(run, 0, values),
            Nf4Answer::Choice(c) => run.choose(*c),
        }
    }

    /// The game, `check-levels` and the grading all ask the one answer engine: on every shipped
    /// puzzle, the level's stored answer passes `check-levels`, grades as right, and typed into the
    /// game as the game shows numbers it solves the puzzle; one step off, all three refuse it.
    #[test]
    fn the_game_check_levels_and_grading_agree_on_every_shipped_puzzle() {
        fn agree<T: PuzzleTask>(
            id: &str,
            task: &T,
            answer: &T::Answer,
            in_the_game: impl FnOnce(&mut PuzzleRun),
            mut run: PuzzleRun,
        ) -> bool {
            let stored = task.judge(answer, GivenBy::LevelFile).correct;
            let graded = task.grade(answer).correct;
            in_the_game(&mut run);
            let solved = run.evaluate().solved;
            assert_eq!(graded, solved, "{id}: the grading and the game disagree");
            assert!(!stored || graded, "{id}: check-levels accepts what a player may not type");
            assert!(
                task.tolerance(GivenBy::LevelFile).absolute <= task.tolerance(GivenBy::Player).absolute,
                "{id}: a level may be looser than its players"
            );
            stored && graded && solved
        }

        let mut puzzles = 0;
        for level in &builtin().levels {
            match &level.items {
                Items::Matrix(list) => {
                    for p in list {
                        let right = p.task.solution();
                        let wrong = one_step_off_matrix(right.clone());
                        for (answer, is_right) in [(right, true), (wrong, false)] {
                            let play = |run: &mut PuzzleRun| play_matrix_answer(run, &p.task, &answer);
                            let run = PuzzleRun::from_matrix(p);
                            assert_eq!(agree(&p.id, &p.task, &answer, play, run), is_right, "{}", p.id);
                        }
                        puzzles += 1;
                    }
                }
                Items::Nf4(list) => {
                    for p in list {
                        let right = p.task.solution();
                        let wrong = one_step_off_nf4(right.clone());
                        for (answer, is_right) in [(right, true), (wrong, false)] {
                            let play = |run: &mut PuzzleRun| play_nf4_answer(run, &answer);
                            assert_eq!(
                                agree(&p.id, &p.task, &answer, play, PuzzleRun::from_nf4(p)),
                                is_right,
                                "{}",
                                p.id
                            );
                        }
                        puzzles += 1;
                    }
                }
                _ => {}
            }
            // check-levels itself: the shipped levels have no issue.
            assert_eq!(validate_level(level), [], "{}", level.id);
        }
        assert!(puzzles >= 29, "{puzzles} puzzles");
    }

    /// The first shipped matrix puzzle whose task `pick` accepts.
    fn shipped_matrix_puzzle(pick: fn(&MatrixTask) -> bool) -> MatrixPuzzle {
        let Items::Matrix(puzzles) = shipped(LevelKind::Matrix).items else { unreachable!() };
        puzzles.into_iter().find(|p| pick(&p.task)).expect("a shipped puzzle of that kind")
    }

    /// At the edge of the tolerance: a typed number counts within half a hundredth of the maths,
    /// in the game's marks, its verdict and the engine's grade alike; a level's stored number must
    /// be exact; a count is a whole number.
    #[test]
    fn typed_numbers_count_within_half_a_hundredth_and_stored_ones_must_be_exact() {
        let forward = shipped_matrix_puzzle(|t| matches!(t, MatrixTask::Forward { .. }));
        let MatrixTask::Forward { y, .. } = &forward.task else { unreachable!() };
        assert!(y.iter().all(|v| v.fract() == 0.0), "whole numbers keep the edge exact: {y:?}");
        for (off, counts) in [(0.0049, true), (-0.0049, true), (0.0051, false), (-0.0051, false)] {
            let mut typed = y.clone();
            typed[0] += off;
            let answer = MatrixAnswer::Vector(typed.clone());
            assert_eq!(forward.task.grade(&answer).correct, counts, "{off}");
            assert!(!forward.task.judge(&answer, GivenBy::LevelFile).correct, "stored {off}");
            let mut run = PuzzleRun::from_matrix(&forward);
            type_row_major(&mut run, 0, &typed);
            let eval = run.evaluate();
            assert_eq!(eval.solved, counts, "{off}");
            assert_eq!(eval.marks[0][0], if counts { Mark::Match } else { Mark::Miss }, "{off}");
        }

        let count = shipped_matrix_puzzle(|t| matches!(t, MatrixTask::CountParams { .. }));
        let MatrixAnswer::Count(n) = count.task.solution() else { unreachable!() };
        let typed = [n.to_string(), format!("{n}.0"), format!("{n}.001"), (n + 1).to_string()];
        for (text, counts) in typed.iter().zip([true, true, false, false]) {
            let mut run = PuzzleRun::from_matrix(&count);
            type_text(&mut run, 0, 0, 0, text);
            assert_eq!(run.evaluate().solved, counts, "{text}");
            assert_eq!(run.submit(), counts, "{text}");
        }
    }
}
