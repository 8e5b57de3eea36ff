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
        report.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
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
    let Items::Lessons(slides) = &lessons.items else { unreachable!() };
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
    let mut positions =
        deck_order.iter().map(|id| ids.iter().position(|x| x == id).unwrap_or_else(|| panic!("slide `{id}` missing")));
    let mut last = positions.next().unwrap();
    for p in positions {
        assert!(p > last, "slides out of deck order: {ids:?}");
        last = p;
    }
    // Matrix puzzles rise in difficulty.
    let matrix = level(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else { unreachable!() };
    assert!(puzzles.windows(2).all(|w| w[0].difficulty <= w[1].difficulty));
    // Every quiz question has 2-4 choices and every topic is covered.
    let mut topics = std::collections::BTreeSet::new();
    for level in course.of_kind(LevelKind::Quiz) {
        let Items::Quiz(questions) = &level.items else { unreachable!() };
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
    let Items::Quiz(questions) = &mut quiz.items else { unreachable!() };
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
        assert!(issues.iter().any(|i| i.field == field), "expected an issue at `{field}`, got {issues:#?}");
    }
    let matrix = level(LevelKind::Matrix);
    let Items::Matrix(puzzles) = &matrix.items else { unreachable!() };
    assert!(validate_level(&matrix).is_empty());
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..puzzles.len() {
        let mut broken = matrix.clone();
        let Items::Matrix(list) = &mut broken.items else { unreachable!() };
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
    let Items::Nf4(puzzles) = &nf4.items else { unreachable!() };
    for i in 0..puzzles.len() {
        let mut broken = nf4.clone();
        let Items::Nf4(list) = &mut broken.items else { unreachable!() };
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
    let Items::Lessons(slides) = &lessons.items else { unreachable!() };
    let with_block = |s: usize, b: usize, change: &dyn Fn(&mut Block)| {
        let mut broken = lessons.clone();
        let Items::Lessons(list) = &mut broken.items else { unreachable!() };
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

#[test]
fn instructor_folder_adds_and_overrides_levels() {
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("levels/02-quiz-basics.ron")).unwrap();
    let replaced = original.replace("Preguntas: ajuste fino y LoRA", "Preguntas del profesor");
    std::fs::write(dir.path().join("override.ron"), replaced).unwrap();
    let extra = original.replace("id: \"quiz-basics\"", "id: \"quiz-extra\"").replace("order: 20", "order: 25");
    std::fs::write(dir.path().join("extra.ron"), extra).unwrap();

    let course = load_course(Some(dir.path()));
    assert!(course.problems.is_empty(), "{:#?}", course.problems);
    assert_eq!(course.levels.len(), builtin().levels.len() + 1);
    assert_eq!(course.level("quiz-basics").unwrap().title.es, "Preguntas del profesor");
    let ids: Vec<&str> = course.levels.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["lessons", "quiz-basics", "quiz-extra", "matrix", "quiz-qlora", "nf4"]);
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
    let reward = Reward { points: 100, hint_cost: 20, miss_cost: 30, stars: [40, 70, 100] };
    assert_eq!(reward.score(0, 0), 100);
    assert_eq!(reward.stars_for(reward.score(0, 0)), 3);
    assert_eq!(reward.score(1, 0), 80);
    assert_eq!(reward.stars_for(80), 2);
    assert_eq!(reward.score(1, 1), 50);
    assert_eq!(reward.stars_for(50), 1);
    assert_eq!(reward.score(3, 3), 0);
    assert_eq!(reward.stars_for(0), 0);
}

/// Every (Spanish, English) text of the shipped levels.
fn all_texts() -> Vec<(String, String, String)> {
    let mut texts = Vec::new();
    for level in &course().levels {
        every_text(&serde_json::to_value(level).unwrap(), level.id.clone(), &mut texts);
    }
    texts
}

/// The Spanish of the levels writes decimals with a comma, groups thousands with non-breaking
/// spaces (never a point, never a space a line could break at), and has no English word.
#[test]
fn spanish_level_text_uses_spanish_numbers_and_words() {
    let mut found = Vec::new();
    for (path, es, _) in all_texts() {
        found.extend(spanish_slips(&es).into_iter().map(|slip| format!("{path}: {slip}")));
        let chars: Vec<char> = es.chars().collect();
        for (i, w) in chars.windows(5).enumerate() {
            let next_is_digit = chars.get(i + 5).is_some_and(char::is_ascii_digit);
            if w[0].is_ascii_digit() && w[1] == ' ' && w[2..].iter().all(char::is_ascii_digit) && !next_is_digit {
                found.push(format!("{path}: thousands split by a breaking space in {es:?}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// One convention for rows and columns: hints and prompts name them by ordinal ("the third
/// row"), never by a number that leaves the player guessing whether counting starts at 0 or 1.
#[test]
fn rows_and_columns_are_named_by_ordinals() {
    let mut found = Vec::new();
    for (path, es, en) in all_texts() {
        for (text, words) in
            [(&es, ["fila ", "filas ", "columna ", "columnas "]), (&en, ["row ", "rows ", "column ", "columns "])]
        {
            let lower = text.to_lowercase();
            for word in words {
                for (at, _) in lower.match_indices(word) {
                    if lower[at + word.len()..].starts_with(|c: char| c.is_ascii_digit()) {
                        found.push(format!("{path}: {text:?}"));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
