//! The shipped levels: they parse, every answer is re-derived by the maths (and a corrupted
//! answer is caught), every string has Spanish and English, and the course is complete.

use std::path::Path;

use lora_arcade::content::validate::validate_level;
use lora_arcade::content::*;

fn course() -> LoadReport {
    let report = builtin();
    assert!(
        report.problems.is_empty(),
        "shipped levels have problems:\n{}",
        report
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    report
}

fn level(kind: LevelKind) -> Level {
    course().of_kind(kind).next().expect("a level of this kind").clone()
}

#[test]
fn every_shipped_level_loads_from_disk_and_matches_the_embedded_copy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("levels");
    let disk = load_dir(&dir);
    assert!(disk.problems.is_empty(), "{:#?}", disk.problems);
    assert_eq!(disk.levels, course().levels, "levels/ and the embedded copies differ");
}

#[test]
fn course_is_complete() {
    let course = course();
    let count = |kind| course.of_kind(kind).map(|l| l.items.len()).sum::<usize>();
    assert!(count(LevelKind::Quiz) >= 30, "quiz: {}", count(LevelKind::Quiz));
    assert!(count(LevelKind::Matrix) >= 12, "matrix: {}", count(LevelKind::Matrix));
    assert!(count(LevelKind::Nf4) >= 10, "nf4: {}", count(LevelKind::Nf4));
    // The lessons follow the deck, slide by slide, in order.
    let lessons = level(LevelKind::Lessons);
    let Items::Lessons(slides) = &lessons.items else {
        unreachable!()
    };
    let ids: Vec<&str> = slides.iter().map(|s| s.id.as_str()).collect();
    let deck_order = [
        "title",
        "how-to-play",
        "why-costly",
        "fine-tuning",
        "lora-idea",
        "rank-one-example",
        "trainable-share",
        "key-benefit",
        "qlora",
        "sixty-five-b",
        "linear-layer",
        "down-up",
        "forward",
        "exercises",
        "benchmarks",
        "questions",
        "game-over",
    ];
    let mut positions = deck_order.iter().map(|id| {
        ids.iter()
            .position(|x| x == id)
            .unwrap_or_else(|| panic!("slide `{id}` missing"))
    });
    let mut last = positions.next().unwrap();
    for p in positions {
        assert!(p > last, "slides out of deck order: {ids:?}");
        last = p;
    }
    // Matrix puzzles rise in difficulty.
    let matrix = level(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else {
        unreachable!()
    };
    assert!(puzzles.windows(2).all(|w| w[0].difficulty <= w[1].difficulty));
    // Every quiz question has 2-4 choices and every topic is covered.
    let mut topics = std::collections::BTreeSet::new();
    for level in course.of_kind(LevelKind::Quiz) {
        let Items::Quiz(questions) = &level.items else {
            unreachable!()
        };
        for q in questions {
            assert!((2..=4).contains(&q.choices.len()));
            topics.insert(q.topic);
        }
    }
    assert_eq!(topics.len(), 6, "{topics:?}");
}

/// Walks the serialized form of a level and returns every `{es, en}` pair, with its path —
/// independent of the validator, so a Text the validator forgot would still be seen.
fn every_text(value: &serde_json::Value, path: String, out: &mut Vec<(String, String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.len() == 2 && map.contains_key("es") && map.contains_key("en") {
                let get = |k: &str| map[k].as_str().unwrap_or_default().to_owned();
                out.push((path, get("es"), get("en")));
                return;
            }
            for (key, v) in map {
                every_text(v, format!("{path}.{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                every_text(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn spanish_and_english_are_complete_for_every_string() {
    let mut total = 0;
    for level in &course().levels {
        let value = serde_json::to_value(level).unwrap();
        let mut texts = Vec::new();
        every_text(&value, level.id.clone(), &mut texts);
        assert!(!texts.is_empty());
        for (path, es, en) in &texts {
            assert!(!es.trim().is_empty(), "{path}: Spanish missing");
            assert!(!en.trim().is_empty(), "{path}: English missing");
        }
        total += texts.len();
    }
    assert!(total > 300, "only {total} texts found");
}

#[test]
fn a_blank_translation_anywhere_is_reported_at_its_path() {
    let mut quiz = level(LevelKind::Quiz);
    let Items::Quiz(questions) = &mut quiz.items else {
        unreachable!()
    };
    questions[3].explanation.en = " ".into();
    questions[5].choices[1].es.clear();
    let issues = validate_level(&quiz);
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["items[3].explanation.en", "items[5].choices[1].es"]);
}

/// Corrupts one stored answer of each kind and checks the maths rejects it at the right field.
#[test]
fn every_kind_of_corrupted_answer_is_rejected() {
    fn rejected(level: &Level, field: &str) {
        let issues = validate_level(level);
        assert!(
            issues.iter().any(|i| i.field == field),
            "expected an issue at `{field}`, got {issues:#?}"
        );
    }
    let matrix = level(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else {
        unreachable!()
    };
    assert!(validate_level(&matrix).is_empty());
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..puzzles.len() {
        let mut broken = matrix.clone();
        let Items::Matrix(list) = &mut broken.items else {
            unreachable!()
        };
        let field = match &mut list[i].task {
            MatrixTask::Factorize { example_a, .. } => {
                example_a.0[0][0] += 1.0;
                "example_b"
            }
            MatrixTask::CompleteDelta { delta, .. } => {
                delta.0[0][0] += 1.0;
                "delta"
            }
            MatrixTask::Forward { y, .. } => {
                y[0] += 0.5;
                "y"
            }
            MatrixTask::CountParams { lora, full, .. } => {
                if i % 2 == 0 {
                    *lora += 1;
                    "lora"
                } else {
                    *full -= 1;
                    "full"
                }
            }
            MatrixTask::FindRank { rank, .. } => {
                *rank += 1;
                "rank"
            }
            MatrixTask::BestApprox { answer, choices, .. } => {
                *answer = (*answer + 1) % choices.len();
                "answer"
            }
        };
        seen.insert(field);
        rejected(&broken, &format!("items[{i}].task.{field}"));
    }
    assert!(seen.len() >= 6, "{seen:?}");

    let nf4 = level(LevelKind::Nf4);
    let Items::Nf4(puzzles) = &nf4.items else {
        unreachable!()
    };
    for i in 0..puzzles.len() {
        let mut broken = nf4.clone();
        let Items::Nf4(list) = &mut broken.items else {
            unreachable!()
        };
        let field = match &mut list[i].task {
            Nf4Task::Absmax { absmax, .. } => {
                *absmax *= -1.0;
                "absmax"
            }
            Nf4Task::Quantize { codes, .. } => {
                codes[1] = (codes[1] + 1) % 16;
                "codes"
            }
            Nf4Task::Dequantize { values, tolerance, .. } => {
                values[0] += 2.0 * *tolerance;
                "values"
            }
            Nf4Task::CompareError { answer, blocks } => {
                *answer = (*answer + 1) % blocks.len();
                "answer"
            }
            Nf4Task::Memory { gb, tolerance_gb, .. } => {
                *gb += 2.0 * *tolerance_gb;
                "gb"
            }
        };
        rejected(&broken, &format!("items[{i}].task.{field}"));
    }

    // Lesson figures: the rank-1 product, the trainable share and the memory rows.
    let lessons = level(LevelKind::Lessons);
    let Items::Lessons(slides) = &lessons.items else {
        unreachable!()
    };
    let with_block = |s: usize, b: usize, change: &dyn Fn(&mut Block)| {
        let mut broken = lessons.clone();
        let Items::Lessons(list) = &mut broken.items else {
            unreachable!()
        };
        change(&mut list[s].body[b]);
        broken
    };
    let mut figures = 0;
    for (s, slide) in slides.iter().enumerate() {
        for (b, block) in slide.body.iter().enumerate() {
            let path = format!("items[{s}].body[{b}]");
            match block {
                Block::Factorization(_) => {
                    let broken = with_block(s, b, &|block| {
                        if let Block::Factorization(f) = block {
                            f.product.0[3][3] = 18.0;
                        }
                    });
                    rejected(&broken, &path);
                }
                Block::TrainableShare(_) => {
                    let broken = with_block(s, b, &|block| {
                        if let Block::TrainableShare(f) = block {
                            f.rows[0].trainable += 1;
                        }
                    });
                    rejected(&broken, &format!("{path}.rows[0]"));
                    let broken = with_block(s, b, &|block| {
                        if let Block::TrainableShare(f) = block {
                            f.rows[1].percent *= 1.1;
                        }
                    });
                    rejected(&broken, &format!("{path}.rows[1]"));
                    let broken = with_block(s, b, &|block| {
                        if let Block::TrainableShare(f) = block {
                            f.total_params += 1;
                        }
                    });
                    rejected(&broken, &format!("{path}.total_params"));
                }
                Block::Memory(_) => {
                    let broken = with_block(s, b, &|block| {
                        if let Block::Memory(f) = block {
                            f.rows[0].gb *= 1.5;
                        }
                    });
                    rejected(&broken, &format!("{path}.rows[0].gb"));
                }
                _ => continue,
            }
            figures += 1;
        }
    }
    assert!(figures >= 4, "{figures} checked figures in the lessons");
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
    for level in &course().levels {
        match &level.items {
            Items::Matrix(puzzles) => {
                for p in puzzles {
                    assert!(p.task.grade(&p.task.solution()).correct, "{}", p.id);
                    assert!(
                        !p.task.grade(&one_step_off_matrix(p.task.solution())).correct,
                        "{}",
                        p.id
                    );
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
    let matrix = level(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else {
        unreachable!()
    };
    let factorize = puzzles
        .iter()
        .find(|p| matches!(&p.task, MatrixTask::Factorize { rank: 1, .. }))
        .unwrap();
    let MatrixTask::Factorize {
        example_b, example_a, ..
    } = &factorize.task
    else {
        unreachable!()
    };
    // B·2 and A/2: a different pair with the same product.
    let b = Matrix(
        example_b
            .0
            .iter()
            .map(|r| r.iter().map(|x| x * 2.0).collect())
            .collect(),
    );
    let a = Matrix(
        example_a
            .0
            .iter()
            .map(|r| r.iter().map(|x| x / 2.0).collect())
            .collect(),
    );
    assert_ne!(b, *example_b);
    assert!(
        factorize
            .task
            .grade(&MatrixAnswer::Factors {
                b: b.clone(),
                a: a.clone()
            })
            .correct
    );
    // One wrong entry: rejected, with the count of wrong cells.
    let mut wrong_a = a.clone();
    wrong_a.0[0][0] += 1.0;
    let grade = factorize.task.grade(&MatrixAnswer::Factors {
        b: b.clone(),
        a: wrong_a,
    });
    assert!(!grade.correct);
    assert!(grade.feedback.en.contains("4 cell(s)"), "{}", grade.feedback.en);
    // Wrong shapes are explained, not a panic.
    let grade = factorize.task.grade(&MatrixAnswer::Factors { b: a, a: b });
    assert!(!grade.correct);
    assert!(grade.feedback.en.contains("must be"), "{}", grade.feedback.en);
}

#[test]
fn instructor_folder_adds_and_overrides_levels() {
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("levels/02-quiz-basics.ron")).unwrap();
    let replaced = original.replace("Preguntas: ajuste fino y LoRA", "Preguntas del profesor");
    std::fs::write(dir.path().join("override.ron"), replaced).unwrap();
    let extra = original
        .replace("id: \"quiz-basics\"", "id: \"quiz-extra\"")
        .replace("order: 20", "order: 25");
    std::fs::write(dir.path().join("extra.ron"), extra).unwrap();

    let course = load_course(Some(dir.path()));
    assert!(course.problems.is_empty(), "{:#?}", course.problems);
    assert_eq!(course.levels.len(), builtin().levels.len() + 1);
    assert_eq!(course.level("quiz-basics").unwrap().title.es, "Preguntas del profesor");
    let ids: Vec<&str> = course.levels.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        ["lessons", "quiz-basics", "quiz-extra", "matrix", "quiz-qlora", "nf4"]
    );
}

#[test]
fn lang_parsing_and_text_lookup() {
    assert_eq!(Lang::parse("es"), Some(Lang::Es));
    assert_eq!(Lang::parse("EN"), Some(Lang::En));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!(Lang::from_locale("es-MX"), Lang::Es);
    assert_eq!(Lang::from_locale("es_ES.UTF-8"), Lang::Es);
    assert_eq!(Lang::from_locale("de-DE"), Lang::En);
    let text = Text::new("hola", "hello");
    assert_eq!(text.get(Lang::Es), "hola");
    assert_eq!(text.get(Lang::En), "hello");
    assert_eq!(Lang::Es.other(), Lang::En);
}

#[test]
fn reward_scoring_and_stars() {
    let reward = Reward {
        points: 100,
        hint_cost: 20,
        miss_cost: 30,
        stars: [40, 70, 100],
    };
    assert_eq!(reward.score(0, 0), 100);
    assert_eq!(reward.stars_for(reward.score(0, 0)), 3);
    assert_eq!(reward.score(1, 0), 80);
    assert_eq!(reward.stars_for(80), 2);
    assert_eq!(reward.score(1, 1), 50);
    assert_eq!(reward.stars_for(50), 1);
    assert_eq!(reward.score(3, 3), 0);
    assert_eq!(reward.stars_for(0), 0);
}

/// The game asks the same answer engine as `check-levels` and the grading above.
#[cfg(feature = "gui")]
mod in_the_game {
    use lora_arcade::content::answer::shown;
    use lora_arcade::game::puzzle::PuzzleRun;

    use super::*;

    /// Types `value` into a cell as the game shows it.
    fn type_number(run: &mut PuzzleRun, grid: usize, row: usize, col: usize, value: f64) {
        run.select(grid, row, col);
        while !run.inputs[grid].cell(row, col).text.is_empty() {
            run.backspace();
        }
        for ch in shown(value).chars() {
            run.type_char(ch);
        }
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
            assert!(
                !stored || graded,
                "{id}: check-levels accepts what a player may not type"
            );
            assert!(
                task.tolerance(GivenBy::LevelFile).absolute <= task.tolerance(GivenBy::Player).absolute,
                "{id}: a level may be looser than its players"
            );
            stored && graded && solved
        }

        let mut puzzles = 0;
        for level in &course().levels {
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
}
