//! The written quiz questions cannot be gamed: the longest choice is the right one in at most
//! 35 % of them, and no position holds more than 40 % of the answers — in the files, in each
//! language (play shuffles the choices on top of that).

use lora_arcade::content::{Items, Lang, Question, builtin};

fn written_questions() -> Vec<Question> {
    builtin()
        .levels
        .into_iter()
        .filter_map(|level| match level.items {
            Items::Quiz(questions) => Some(questions),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn the_longest_choice_is_not_a_tell() {
    let questions = written_questions();
    assert!(questions.len() >= 30, "{} written questions", questions.len());
    for lang in [Lang::Es, Lang::En] {
        let tells: Vec<&str> = questions
            .iter()
            .filter(|q| {
                let lengths: Vec<usize> = q.choices.iter().map(|c| c.get(lang).chars().count()).collect();
                let longest = *lengths.iter().max().unwrap();
                lengths[q.answer] == longest && lengths.iter().filter(|&&l| l == longest).count() == 1
            })
            .map(|q| q.id.as_str())
            .collect();
        let share = tells.len() as f64 / questions.len() as f64;
        assert!(
            share <= 0.35,
            "{lang:?}: the longest choice is right in {:.0} % of questions: {tells:?}",
            share * 100.0
        );
    }
}

#[test]
fn no_position_holds_the_answer_too_often() {
    let questions = written_questions();
    let mut by_position = [0usize; 4];
    for q in &questions {
        by_position[q.answer] += 1;
    }
    for (position, count) in by_position.iter().enumerate() {
        let share = *count as f64 / questions.len() as f64;
        assert!(
            share <= 0.40,
            "position {} holds {:.0} % of the answers: {by_position:?}",
            position + 1,
            share * 100.0
        );
    }
}

#[test]
fn both_languages_ask_the_same_thing() {
    for q in written_questions() {
        for lang in [Lang::Es, Lang::En] {
            assert!(!q.prompt.get(lang).trim().is_empty(), "{}", q.id);
            assert!(!q.explanation.get(lang).trim().is_empty(), "{}", q.id);
            assert!(q.choices.iter().all(|c| !c.get(lang).trim().is_empty()), "{}", q.id);
        }
        assert!((2..=4).contains(&q.choices.len()), "{}", q.id);
    }
}

#[test]
fn each_pack_goes_from_easy_to_hard() {
    for level in builtin().levels {
        if let Items::Quiz(questions) = &level.items {
            let order: Vec<_> = questions.iter().map(|q| q.difficulty).collect();
            assert!(order.windows(2).all(|w| w[0] <= w[1]), "{}: {order:?}", level.id);
        }
    }
}
