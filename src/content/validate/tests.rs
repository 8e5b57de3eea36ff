//! The validator's rules, one small level at a time.

use super::*;

fn text(s: &str) -> Text {
    Text::new(s, s)
}

fn reward() -> Reward {
    Reward { points: 100, hint_cost: 10, miss_cost: 10, stars: [10, 20, 30] }
}

fn m(rows: &[&[f64]]) -> Matrix {
    Matrix(rows.iter().map(|r| r.to_vec()).collect())
}

/// A level of one puzzle with `task`, wrapped by `items` (`Items::Matrix` or `Items::Nf4`).
fn puzzle_level<T>(task: T, items: fn(Vec<Puzzle<T>>) -> Items) -> Level {
    Level {
        id: "t".into(),
        order: 1,
        title: text("t"),
        summary: text("s"),
        items: items(vec![Puzzle {
            id: "p".into(),
            difficulty: Difficulty::Easy,
            prompt: text("p"),
            hints: vec![text("h")],
            reward: reward(),
            task,
        }]),
    }
}

fn matrix_level(task: MatrixTask) -> Level {
    puzzle_level(task, Items::Matrix)
}

fn nf4_level(task: Nf4Task) -> Level {
    puzzle_level(task, Items::Nf4)
}

/// `level` has exactly one issue, and its message contains `part`.
fn assert_one_issue_saying(level: &Level, part: &str) {
    let issues = validate_level(level);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert!(issues[0].message.contains(part), "{issues:?}");
}

fn fields(level: &Level) -> Vec<String> {
    validate_level(level).into_iter().map(|i| i.field).collect()
}

#[test]
fn a_valid_puzzle_has_no_issue() {
    let level = matrix_level(MatrixTask::FindRank { matrix: Matrix(vec![vec![1.0, 2.0], vec![2.0, 4.0]]), rank: 1 });
    assert_eq!(fields(&level), Vec::<String>::new());
}

#[test]
fn reward_rules() {
    let mut level = matrix_level(MatrixTask::FindRank { matrix: Matrix(vec![vec![1.0]]), rank: 1 });
    let Items::Matrix(puzzles) = &mut level.items else { unreachable!() };
    puzzles[0].reward.stars = [30, 20, 200];
    puzzles[0].hints.clear();
    assert_eq!(fields(&level), ["items[0].hints", "items[0].reward.stars", "items[0].reward.stars"]);
}

#[test]
fn best_approx_must_be_well_posed() {
    // The matrix itself (rank 2) among rank-1 choices would beat the truncated SVD.
    let level = matrix_level(MatrixTask::BestApprox {
        matrix: m(&[&[5.0, 0.0], &[0.0, 2.0]]),
        rank: 1,
        choices: vec![m(&[&[5.0, 0.0], &[0.0, 0.0]]), m(&[&[5.0, 0.0], &[0.0, 2.0]])],
        answer: 0,
    });
    assert_one_issue_saying(&level, "choice 1 has rank 2");
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
    // A rank-1 target offered as a rank-2 puzzle: the example works but the rank is wrong.
    let level = matrix_level(MatrixTask::Factorize {
        target: m(&[&[2.0, 4.0], &[1.0, 2.0]]),
        rank: 2,
        example_b: m(&[&[2.0, 0.0], &[1.0, 0.0]]),
        example_a: m(&[&[1.0, 2.0], &[0.0, 0.0]]),
    });
    assert_one_issue_saying(&level, "rank 1, not 2");
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
    assert_one_issue_saying(&level, "any guess would pass");
}

#[test]
fn compare_error_must_be_unambiguous() {
    let level = nf4_level(Nf4Task::CompareError { blocks: vec![vec![1.0, 0.5], vec![1.0, 0.5]], answer: 0 });
    assert_eq!(fields(&level), ["items[0].task.answer"]);
}

#[test]
fn dequantize_codes_must_be_four_bit() {
    let level = nf4_level(Nf4Task::Dequantize { codes: vec![16], absmax: 1.0, values: vec![1.0], tolerance: 0.01 });
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
        taught_on: None,
    };
    let mut level = Level {
        id: "Bad Id".into(),
        order: 1,
        title: text("t"),
        summary: text("s"),
        items: Items::Quiz(vec![question.clone()]),
    };
    assert_eq!(fields(&level), ["id", "items[0].choices"]);
    let Items::Quiz(questions) = &mut level.items else { unreachable!() };
    questions[0].choices = vec![text("a"), text("b"), text("a")];
    level.id = "ok".into();
    assert_eq!(fields(&level), ["items[0].choices[2].es", "items[0].choices[2].en"]);
}
