//! Playing a puzzle by keyboard: the cursor moves between editable cells only, and ENTER on an
//! unfinished answer is not a wrong try. On the shipped puzzles, so the content plays too.

#![cfg(feature = "gui")]

use lora_arcade::content::{self, Items, MatrixTask};
use lora_arcade::game::puzzle::{Cursor, LastTry, PuzzleRun, Status};

fn shipped_matrix_puzzle(id: &str) -> PuzzleRun {
    let report = content::builtin();
    for level in &report.levels {
        if let Items::Matrix(puzzles) = &level.items
            && let Some(p) = puzzles.iter().find(|p| p.id == id)
        {
            return PuzzleRun::from_matrix(p);
        }
    }
    panic!("no shipped matrix puzzle {id}");
}

fn at(run: &PuzzleRun) -> (usize, usize, usize) {
    let Cursor { grid, row, col } = run.cursor;
    (grid, row, col)
}

fn type_text(run: &mut PuzzleRun, text: &str) {
    text.chars().for_each(|ch| run.type_char(ch));
}

#[test]
fn arrows_and_tab_visit_every_blank_of_a_fill_in_puzzle() {
    // Blanks at (0,0), (1,2), (2,1), (3,3) of a 4×4 ΔW: every other cell is given.
    let mut run = shipped_matrix_puzzle("delta-deck");
    let MatrixTask::CompleteDelta { blanks, .. } = (match &run.task {
        lora_arcade::game::puzzle::Task::Matrix(t) => t.clone(),
        _ => unreachable!(),
    }) else {
        panic!("not a fill-in puzzle")
    };
    assert_eq!(at(&run), (0, 0, 0));
    let mut visited = vec![(run.cursor.row, run.cursor.col)];
    for _ in 1..blanks.len() {
        run.move_cursor(0, 1);
        visited.push((run.cursor.row, run.cursor.col));
    }
    assert_eq!(visited, blanks, "→ steps over the given cells, row after row");
    run.move_cursor(0, 1);
    assert_eq!(at(&run), (0, 3, 3), "→ stops at the last blank");
    run.move_cursor(-1, 0);
    assert_eq!(at(&run), (0, 2, 1), "↑ goes to the nearest blank above");
    run.move_cursor(0, -1);
    assert_eq!(at(&run), (0, 1, 2));
    // TAB goes on in reading order and wraps round.
    run.next_cell();
    assert_eq!(at(&run), (0, 2, 1));
    run.next_cell();
    run.next_cell();
    assert_eq!(at(&run), (0, 0, 0), "TAB wraps to the first blank");
    // Typing fills the blank under the cursor and never a given cell.
    type_text(&mut run, "-8");
    assert_eq!(run.inputs[0].cell(0, 0).text, "-8");
    assert_eq!(run.inputs[0].cell(0, 1).text, "-2", "a given cell is unchanged");
}

#[test]
fn keyboard_alone_solves_a_fill_in_puzzle() {
    let mut run = shipped_matrix_puzzle("delta-deck");
    for (i, value) in ["-8", "-3", "7", "-18"].iter().enumerate() {
        if i > 0 {
            run.next_cell();
        }
        type_text(&mut run, value);
    }
    assert!(run.submit(), "{:?}", run.last_try);
    assert!(matches!(run.status, Status::Solved { .. }));
}

#[test]
fn an_unfinished_answer_is_not_a_wrong_try() {
    // Rank 2 with the second column of B and row of A left empty: the live product reads the
    // blanks as 0 and matches, but the answer is not finished.
    let mut run = shipped_matrix_puzzle("factor-deck");
    run.change_rank(1);
    assert_eq!(run.factor_rank(), Some(2));
    for (i, v) in ["-2", "-1", "7", "6"].iter().enumerate() {
        run.select(0, i, 0);
        type_text(&mut run, v);
    }
    for (i, v) in ["4", "1", "3", "-3"].iter().enumerate() {
        run.select(1, 0, i);
        type_text(&mut run, v);
    }
    assert!(!run.submit());
    assert_eq!(run.last_try, LastTry::Incomplete);
    assert_eq!(run.wrong_tries, 0, "no try counted");
    assert!(!run.last_wrong());
    // A wrong finished answer says what is wrong, from the answer engine.
    for (i, v) in ["0", "0", "0", "1"].iter().enumerate() {
        run.select(0, i, 1);
        type_text(&mut run, v);
    }
    for i in 0..4 {
        run.select(1, 1, i);
        type_text(&mut run, "1");
    }
    assert!(!run.submit());
    assert_eq!(run.wrong_tries, 1);
    let LastTry::Wrong(why) = &run.last_try else { panic!("{:?}", run.last_try) };
    assert!(why.en.contains("4 cell(s) of B·A differ"), "{}", why.en);
    // Fixed: right, at rank 2 (no minimum-rank bonus).
    run.select(0, 3, 1);
    run.backspace();
    type_text(&mut run, "0");
    assert!(run.submit());
}

#[test]
fn h_says_why_no_hint_opens() {
    use lora_arcade::game::puzzle::HintRefused;
    let mut run = shipped_matrix_puzzle("factor-deck");
    assert!(!run.open_hint());
    assert_eq!(run.hint_refused, Some(HintRefused::AfterAWrongTry));
    run.select(0, 0, 0);
    run.type_char('1');
    assert_eq!(run.hint_refused, None, "an edit clears it");
    for (g, n) in [(0, 4), (1, 4)] {
        for i in 0..n {
            run.select(g, if g == 0 { i } else { 0 }, if g == 0 { 0 } else { i });
            run.type_char('9');
        }
    }
    let hints = run.hints.len();
    for _ in 0..hints {
        assert!(!run.submit());
        assert!(run.open_hint());
    }
    assert!(!run.submit());
    assert!(!run.open_hint());
    assert_eq!(run.hint_refused, Some(HintRefused::NoneLeft));
}

#[test]
fn a_fresh_factorization_shows_no_crosses_until_a_row_and_column_are_typed() {
    use lora_arcade::game::puzzle::Mark;
    let mut run = shipped_matrix_puzzle("factor-deck");
    let live = |run: &PuzzleRun| run.evaluate().figures.into_iter().find(|f| f.label == "B·A").unwrap();
    assert!(live(&run).marks.unwrap().iter().all(|m| *m == Mark::Empty), "no ✖ before anything is typed");
    run.select(0, 0, 0);
    type_text(&mut run, "-2");
    run.select(1, 0, 0);
    type_text(&mut run, "4");
    let marks = live(&run).marks.unwrap();
    assert_eq!(marks[(0, 0)], Mark::Match, "row 0 of B and column 0 of A are typed");
    assert_eq!(marks[(0, 1)], Mark::Empty);
    assert_eq!(marks[(1, 0)], Mark::Empty);
}

/// After a pick-one puzzle the maths says why the answer wins: each option's distance from M
/// (the right one at the Eckart–Young optimum), or each block's real NF4 error.
#[test]
fn pick_one_puzzles_end_with_the_numbers_behind_the_answer() {
    use lora_arcade::game::puzzle::Task;
    let mut run = shipped_matrix_puzzle("best-diagonal");
    assert!(run.evaluate().debrief.is_none(), "nothing is given away while playing");
    run.reveal();
    let (numbers, _) = run.evaluate().debrief.expect("a debrief once over");
    let numbers = numbers.en;
    let Task::Matrix(MatrixTask::BestApprox { matrix, choices, rank, answer }) = &run.task else { panic!() };
    let m = matrix.to_dmatrix().unwrap();
    let (_, best) = lora_arcade::math::lora::best_rank_approx(&m, *rank).unwrap();
    let right = (&m - choices[*answer].to_dmatrix().unwrap()).norm();
    assert!((right - best).abs() < 1e-9, "the answer is the optimum: {right} vs {best}");
    assert!(
        numbers.contains(&format!("{}) {right:.3}", answer + 1)) && numbers.ends_with(&format!("{best:.3}")),
        "{numbers}"
    );

    let report = content::builtin();
    let compare = report
        .levels
        .iter()
        .find_map(|l| match &l.items {
            Items::Nf4(ps) => ps.iter().find(|p| p.id == "compare-three"),
            _ => None,
        })
        .expect("a shipped compare puzzle");
    let mut run = PuzzleRun::from_nf4(compare);
    run.reveal();
    let (numbers, _) = run.evaluate().debrief.expect("a debrief once over");
    assert_eq!(numbers.en.matches("max |w−ŵ|").count(), run.choices, "{}", numbers.en);
    assert!(numbers.es.contains("0,") && !numbers.es.contains("0."), "decimal commas in Spanish: {}", numbers.es);
}

fn shipped_quantize_puzzle() -> PuzzleRun {
    let report = content::builtin();
    for level in &report.levels {
        if let Items::Nf4(puzzles) = &level.items
            && let Some(p) = puzzles.iter().find(|p| matches!(p.task, lora_arcade::content::Nf4Task::Quantize { .. }))
        {
            return PuzzleRun::from_nf4(p);
        }
    }
    panic!("no shipped quantize puzzle");
}

/// Choosing codes shows no ✔/✖ and no ŵ or error until ENTER checks (a wrong check costs a
/// try): otherwise stepping a code until its cell turns ✔ would solve the puzzle unread.
#[test]
fn a_quantize_puzzle_shows_its_verdict_only_after_a_check() {
    use lora_arcade::game::puzzle::Mark;
    let mut run = shipped_quantize_puzzle();
    let truth = run.task.expected().unwrap().cells().unwrap();
    for (col, code) in truth.iter().enumerate() {
        run.select(0, 0, col);
        run.set_code(*code as u8);
    }
    // One code wrong, all others right.
    run.select(0, 0, 0);
    run.set_code((truth[0] as u8 + 1) % 16);
    let eval = run.evaluate();
    assert!(eval.marks[0].iter().all(|m| !matches!(m, Mark::Match | Mark::Miss)), "{:?}", eval.marks[0]);
    assert!(eval.figures.iter().all(|f| f.label != "ŵ"), "ŵ hidden while choosing");
    assert!(!run.submit());
    assert_eq!(run.wrong_tries, 1);
    let eval = run.evaluate();
    assert_eq!(eval.marks[0][0], Mark::Miss, "after the check the wrong cell is marked");
    assert!(eval.marks[0][1..].iter().all(|m| *m == Mark::Match));
    assert!(eval.figures.iter().any(|f| f.label == "ŵ"), "and ŵ and the error show");
    // The next edit hides them again until the next check.
    run.set_code(truth[0] as u8);
    assert!(run.evaluate().figures.iter().all(|f| f.label != "ŵ"));
    assert!(run.submit());
    assert!(run.evaluate().figures.iter().any(|f| f.label == "ŵ"), "solved: shown for good");
}

/// Every shipped puzzle ends with a debrief: the numbers it showed and why they matter.
#[test]
fn every_puzzle_ends_with_a_debrief() {
    let report = content::builtin();
    let mut seen = 0;
    for level in &report.levels {
        let runs: Vec<PuzzleRun> = match &level.items {
            Items::Matrix(ps) => ps.iter().map(PuzzleRun::from_matrix).collect(),
            Items::Nf4(ps) => ps.iter().map(PuzzleRun::from_nf4).collect(),
            _ => continue,
        };
        for mut run in runs {
            assert!(run.evaluate().debrief.is_none(), "{}: no debrief while it is played", run.id);
            run.reveal();
            let (numbers, why) = run.evaluate().debrief.unwrap_or_else(|| panic!("{}: no debrief", run.id));
            assert!(!numbers.en.is_empty() && !numbers.es.is_empty(), "{}", run.id);
            for lang in [lora_arcade::content::Lang::Es, lora_arcade::content::Lang::En] {
                assert!(why.tr(lang).len() > 40, "{}: {:?}", run.id, why.tr(lang));
            }
            seen += 1;
        }
    }
    assert!(seen >= 29, "{seen} puzzles");
}
