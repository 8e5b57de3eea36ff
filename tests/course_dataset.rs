//! The boss stage's course dataset (`assets/datasets/course-{en,es}.{train,valid}.jsonl`): the
//! same examples in both languages, a held-out split that covers every topic, no near-duplicates,
//! short answers, clean language, and every line loadable by the trainer's own JSONL loader.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use lora_arcade::trainer::data::{DataOptions, load_jsonl};
use lora_arcade::trainer::fixture;
use lora_arcade::trainer::load::load_tokenizer;
use serde_json::Value;

const LANGS: [&str; 2] = ["en", "es"];
const SPLITS: [&str; 2] = ["train", "valid"];
/// Fewest examples per language (train + valid).
const MIN_EXAMPLES: usize = 150;
/// Longest answer, in whitespace-separated words (a game screen, a 135M model).
const MAX_ANSWER_WORDS: usize = 60;
/// Largest word-trigram Jaccard similarity allowed between two questions (or two answers).
const MAX_SIMILARITY: f64 = 0.6;
/// Vosotros forms the Spanish files must not use (they address the player as «tú»).
const VOSOTROS: [&str; 4] = ["sed ", "tenéis", "podéis", "habéis"];

fn path(lang: &str, split: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/datasets").join(format!("course-{lang}.{split}.jsonl"))
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    topic: String,
    question: String,
    answer: String,
}

/// Parses one file strictly: every line one object with an `id`, a `topic` and exactly one
/// user message followed by one assistant message, both non-empty.
fn read(lang: &str, split: &str) -> Vec<Item> {
    let path = path(lang, split);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: invalid JSON: {e}"));
        let field = |key: &str| -> String {
            value[key].as_str().unwrap_or_else(|| panic!("{at}: \"{key}\" must be a string")).to_string()
        };
        let (id, topic) = (field("id"), field("topic"));
        let suffix =
            id.strip_prefix(&format!("{topic}-")).unwrap_or_else(|| panic!("{at}: id {id:?} is not \"{topic}-nn\""));
        assert!(
            suffix.len() == 2 && suffix.chars().all(|c| c.is_ascii_digit()),
            "{at}: id {id:?} is not \"{topic}-nn\""
        );
        let messages = value["messages"].as_array().unwrap_or_else(|| panic!("{at}: \"messages\" must be an array"));
        assert_eq!(messages.len(), 2, "{at}: expected one user and one assistant message");
        let mut contents = Vec::new();
        for (message, role) in messages.iter().zip(["user", "assistant"]) {
            assert_eq!(message["role"].as_str(), Some(role), "{at}: expected a {role} message");
            let content = message["content"].as_str().unwrap_or_else(|| panic!("{at}: content must be a string"));
            assert!(!content.trim().is_empty(), "{at}: empty {role} content");
            assert_eq!(content, content.trim(), "{at}: {role} content has leading or trailing whitespace");
            contents.push(content.to_string());
        }
        let answer = contents.pop().unwrap();
        let question = contents.pop().unwrap();
        items.push(Item { id, topic, question, answer });
    }
    assert!(!items.is_empty(), "{}: no examples", path.display());
    items
}

fn read_all() -> BTreeMap<(&'static str, &'static str), Vec<Item>> {
    let mut all = BTreeMap::new();
    for lang in LANGS {
        for split in SPLITS {
            all.insert((lang, split), read(lang, split));
        }
    }
    all
}

fn ids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

#[test]
fn both_languages_hold_the_same_examples_in_the_same_splits() {
    let all = read_all();
    for lang in LANGS {
        let total = all[&(lang, "train")].len() + all[&(lang, "valid")].len();
        assert!(total >= MIN_EXAMPLES, "{lang}: {total} examples, expected at least {MIN_EXAMPLES}");
    }
    for split in SPLITS {
        let (en, es) = (&all[&("en", split)], &all[&("es", split)]);
        assert_eq!(ids(en), ids(es), "{split}: the English and Spanish files list different ids (or order)");
        for (a, b) in en.iter().zip(es) {
            assert_eq!(a.topic, b.topic, "{}: topic differs between languages", a.id);
        }
    }
}

#[test]
fn ids_are_unique_and_the_validation_split_is_about_ten_percent_of_every_topic() {
    let all = read_all();
    for lang in LANGS {
        let (train, valid) = (&all[&(lang, "train")], &all[&(lang, "valid")]);
        let mut seen = HashSet::new();
        for item in train.iter().chain(valid) {
            assert!(seen.insert(item.id.as_str()), "{lang}: id {} appears twice (or in both splits)", item.id);
        }
        let share = valid.len() as f64 / (train.len() + valid.len()) as f64;
        assert!(
            (0.08..=0.15).contains(&share),
            "{lang}: validation is {:.1} % of the data, expected 8–15 %",
            share * 100.0
        );

        let mut per_topic: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for item in train {
            per_topic.entry(&item.topic).or_default().0 += 1;
        }
        for item in valid {
            per_topic.entry(&item.topic).or_default().1 += 1;
        }
        for (topic, (n_train, n_valid)) in &per_topic {
            assert!(*n_valid >= 1, "{lang}: topic {topic} has no validation example");
            assert!(*n_train >= 1, "{lang}: topic {topic} has no training example");
            assert!(n_train + n_valid >= 5, "{lang}: topic {topic} has only {} examples", n_train + n_valid);
        }
    }
}

#[test]
fn answers_are_short() {
    for ((lang, split), items) in read_all() {
        for item in &items {
            let words = item.answer.split_whitespace().count();
            assert!(
                words <= MAX_ANSWER_WORDS,
                "{lang}.{split} {}: answer has {words} words, at most {MAX_ANSWER_WORDS}",
                item.id
            );
        }
    }
}

/// Lower-cased words: runs of alphanumeric characters.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(String::from).collect()
}

fn trigrams(text: &str) -> HashSet<[String; 3]> {
    words(text).windows(3).map(|w| [w[0].clone(), w[1].clone(), w[2].clone()]).collect()
}

/// Word-trigram Jaccard similarity; texts too short for a trigram count as identical only when
/// their words are.
fn similarity(a: &str, b: &str) -> f64 {
    let (ta, tb) = (trigrams(a), trigrams(b));
    if ta.is_empty() || tb.is_empty() {
        return if words(a) == words(b) { 1.0 } else { 0.0 };
    }
    ta.intersection(&tb).count() as f64 / ta.union(&tb).count() as f64
}

#[test]
fn no_two_questions_or_answers_are_near_duplicates() {
    let all = read_all();
    for lang in LANGS {
        let items: Vec<&Item> = all[&(lang, "train")].iter().chain(&all[&(lang, "valid")]).collect();
        for what in ["questions", "answers"] {
            let texts: Vec<&str> = items
                .iter()
                .map(|i| if what == "questions" { i.question.as_str() } else { i.answer.as_str() })
                .collect();
            let mut worst = (0.0, "", "");
            for a in 0..items.len() {
                for b in a + 1..items.len() {
                    let s = similarity(texts[a], texts[b]);
                    if s > worst.0 {
                        worst = (s, items[a].id.as_str(), items[b].id.as_str());
                    }
                }
            }
            println!("{lang} {what}: highest trigram Jaccard {:.3} ({} vs {})", worst.0, worst.1, worst.2);
            assert!(
                worst.0 <= MAX_SIMILARITY,
                "{lang}: {what} of {} and {} are near-duplicates (trigram Jaccard {:.3} > {MAX_SIMILARITY})",
                worst.1,
                worst.2,
                worst.0
            );
        }
    }
}

#[test]
fn spanish_uses_no_vosotros_and_english_no_spanish_characters() {
    for ((lang, split), items) in read_all() {
        for item in &items {
            for text in [&item.question, &item.answer] {
                if lang == "es" {
                    let lower = text.to_lowercase();
                    for form in VOSOTROS {
                        assert!(!lower.contains(form), "es.{split} {}: vosotros form {form:?} in {text:?}", item.id);
                    }
                } else {
                    assert!(
                        !text.contains(['¿', '¡', 'ñ', 'Ñ']),
                        "en.{split} {}: Spanish-only character in {text:?}",
                        item.id
                    );
                }
            }
            if lang == "es" && item.question.contains('?') {
                assert!(item.question.contains('¿'), "es.{split} {}: question without ¿: {:?}", item.id, item.question);
            }
        }
    }
}

#[test]
fn the_trainer_loads_every_example_with_something_to_learn() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 1).unwrap();
    let tok = load_tokenizer(dir.path()).unwrap();
    let opts = DataOptions::default();
    let topics: BTreeSet<String> = read("en", "train").into_iter().map(|i| i.topic).collect();
    assert!(topics.len() >= 10, "only {} topics", topics.len());
    for lang in LANGS {
        for split in SPLITS {
            let path = path(lang, split);
            let lines = read(lang, split).len();
            let examples = load_jsonl(&path, &tok, &opts).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(examples.len(), lines, "{}: the loader skipped examples", path.display());
            for (i, example) in examples.iter().enumerate() {
                assert!(example.n_targets() >= 1, "{}:{}: no target token", path.display(), i + 1);
                assert!(
                    example.len() < opts.max_seq_len,
                    "{}:{}: truncated at max_seq_len {}",
                    path.display(),
                    i + 1,
                    opts.max_seq_len
                );
            }
        }
    }
}
