//! JSONL formats, loss masking, truncation, error reporting, validation split and batching.

use std::path::{Path, PathBuf};

use candle_core::Device;
use lora_arcade::trainer::data::{
    Batcher, BatcherState, DataError, DataOptions, Example, IGNORE_INDEX, load_jsonl, split_validation,
};
use lora_arcade::trainer::fixture;
use lora_arcade::trainer::load::{self, TokenizerBundle, load_tokenizer};

fn jsonl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jsonl").join(name)
}

/// The tiny byte-level tokenizer of the fixture folder (ChatML template, eos <|im_end|>).
fn tiny_tokenizer() -> (tempfile::TempDir, TokenizerBundle) {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture::tiny_config_untied();
    fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 1).unwrap();
    let tok = load_tokenizer(dir.path()).unwrap();
    (dir, tok)
}

/// Text of the learned tokens, in order, runs separated by "|".
fn learned_text(tok: &TokenizerBundle, example: &Example) -> String {
    let mut runs: Vec<Vec<u32>> = Vec::new();
    let mut previous_learned = false;
    for (&id, &label) in example.input_ids.iter().zip(&example.labels) {
        let learned = label != IGNORE_INDEX;
        if learned {
            assert_eq!(label, id as i64, "a learned label is its own token");
            if !previous_learned {
                runs.push(Vec::new());
            }
            runs.last_mut().unwrap().push(id);
        }
        previous_learned = learned;
    }
    runs.iter().map(|r| tok.decode(r, false).unwrap()).collect::<Vec<_>>().join("|")
}

fn write_temp(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn every_format_masks_all_but_the_answers() {
    let (_dir, tok) = tiny_tokenizer();
    let opts = DataOptions { train_on_prompt: false, max_seq_len: 4096, ..Default::default() };
    let examples = load_jsonl(&jsonl("mixed_formats.jsonl"), &tok, &opts).unwrap();
    assert_eq!(examples.len(), 5);
    for e in &examples {
        assert_eq!(e.input_ids.len(), e.labels.len());
    }
    // Chat: both assistant turns, each with its end-of-turn marker.
    assert_eq!(
        learned_text(&tok, &examples[0]),
        "The rank of the update.<|im_end|>\n|A scale: s = alpha / r.<|im_end|>\n"
    );
    let full = tok.decode(&examples[0].input_ids, false).unwrap();
    assert!(full.starts_with("<|im_start|>system\nYou teach LoRA.<|im_end|>\n<|im_start|>user\nWhat is r?"), "{full}");
    // Prompt/completion: the completion, then EOS.
    assert_eq!(learned_text(&tok, &examples[1]), " The frozen base weights, to 4-bit NF4.<|im_end|>");
    assert!(tok.decode(&examples[1].input_ids, false).unwrap().starts_with("Q: What does QLoRA quantize?\nA:"));
    // Alpaca with and without input.
    assert_eq!(learned_text(&tok, &examples[2]), "adaptador de rango bajo<|im_end|>");
    let alpaca = tok.decode(&examples[2].input_ids, false).unwrap();
    assert!(
        alpaca.contains("### Instruction:\nTranslate to Spanish.\n\n### Input:\nlow-rank adapter\n\n### Response:\n"),
        "{alpaca}"
    );
    assert_eq!(learned_text(&tok, &examples[3]), "B<|im_end|>");
    assert!(!tok.decode(&examples[3].input_ids, false).unwrap().contains("### Input:"));
    // Text: everything, nothing added.
    let text = "LoRA trains two small matrices per adapted layer.";
    assert_eq!(examples[4].input_ids, tok.encode(text, true).unwrap());
    assert_eq!(learned_text(&tok, &examples[4]), text);
}

#[test]
fn train_on_prompt_learns_every_token() {
    let (_dir, tok) = tiny_tokenizer();
    let opts = DataOptions { train_on_prompt: true, max_seq_len: 4096, ..Default::default() };
    let examples = load_jsonl(&jsonl("mixed_formats.jsonl"), &tok, &opts).unwrap();
    for e in &examples {
        let all: Vec<i64> = e.input_ids.iter().map(|&i| i as i64).collect();
        assert_eq!(e.labels, all);
    }
    let masked = load_jsonl(
        &jsonl("mixed_formats.jsonl"),
        &tok,
        &DataOptions { train_on_prompt: false, max_seq_len: 4096, ..Default::default() },
    )
    .unwrap();
    // Same tokens either way; only the labels change.
    for (a, b) in examples.iter().zip(&masked) {
        assert_eq!(a.input_ids, b.input_ids);
        assert!(a.n_targets() > b.n_targets() || a.labels == b.labels);
    }
}

#[test]
fn truncation_keeps_the_start_and_drops_examples_left_without_targets() {
    let (dir, tok) = tiny_tokenizer();
    let path = write_temp(
        dir.path(),
        "t.jsonl",
        "{\"prompt\": \"a long prompt that will not fit in eight tokens at all\", \"completion\": \" yes\"}\n{\"text\": \"short text here\"}\n",
    );
    let opts = DataOptions { train_on_prompt: false, max_seq_len: 8, ..Default::default() };
    let examples = load_jsonl(&path, &tok, &opts).unwrap();
    assert_eq!(examples.len(), 1, "the prompt/completion pair lost its completion and is skipped");
    let full = tok.encode("short text here", true).unwrap();
    assert_eq!(examples[0].input_ids, full[..8.min(full.len())].to_vec());

    let only_long = write_temp(
        dir.path(),
        "long.jsonl",
        "{\"prompt\": \"a long prompt that will not fit in eight tokens at all\", \"completion\": \" yes\"}\n",
    );
    let err = load_jsonl(&only_long, &tok, &opts).unwrap_err();
    assert!(matches!(err, DataError::NoTrainableTokens { skipped: 1, .. }), "{err}");
}

fn line_error(name: &str) -> (usize, String) {
    let (_dir, tok) = tiny_tokenizer();
    match load_jsonl(&jsonl(name), &tok, &DataOptions::default()) {
        Err(DataError::Line { path, line, message }) => {
            assert_eq!(path, jsonl(name));
            let shown = DataError::Line { path: path.clone(), line, message: message.clone() }.to_string();
            assert!(shown.contains(&format!("{name}:{line}:")), "{shown}");
            (line, message)
        }
        other => panic!("{name}: expected a line error, got {other:?}"),
    }
}

#[test]
fn bad_lines_are_reported_with_their_line_number() {
    let (line, msg) = line_error("wrong_type.jsonl");
    assert_eq!(line, 3);
    assert!(msg.contains("messages[1]") && msg.contains("content") && msg.contains("a number"), "{msg}");

    let (line, msg) = line_error("invalid_json.jsonl");
    assert_eq!(line, 2);
    assert!(msg.contains("invalid JSON"), "{msg}");

    let (line, msg) = line_error("unknown_format.jsonl");
    assert_eq!(line, 3);
    assert!(msg.contains("unknown format") && msg.contains("question"), "{msg}");

    let (line, msg) = line_error("blank_line.jsonl");
    assert_eq!(line, 2);
    assert!(msg.contains("empty line"), "{msg}");

    let (line, msg) = line_error("empty_messages.jsonl");
    assert_eq!(line, 2);
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn empty_dataset_and_conversation_without_answers_are_errors() {
    let (dir, tok) = tiny_tokenizer();
    let err = load_jsonl(&jsonl("empty_file.jsonl"), &tok, &DataOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Empty { .. }), "{err}");

    let path = write_temp(dir.path(), "q.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
    let err = load_jsonl(&path, &tok, &DataOptions::default()).unwrap_err();
    assert!(matches!(&err, DataError::Line { line: 1, message, .. } if message.contains("no assistant")), "{err}");
    // With train_on_prompt the user turn itself is the lesson.
    let ok =
        load_jsonl(&path, &tok, &DataOptions { train_on_prompt: true, max_seq_len: 64, ..Default::default() }).unwrap();
    assert_eq!(ok.len(), 1);

    let missing = dir.path().join("missing.jsonl");
    let err = load_jsonl(&missing, &tok, &DataOptions::default()).unwrap_err();
    assert!(err.to_string().contains("missing.jsonl"), "{err}");
}

#[test]
fn chat_masking_on_smollm2_real_template() {
    let Some(path) = load::test_model_path() else {
        return;
    };
    let tok = load_tokenizer(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = write_temp(
        dir.path(),
        "chat.jsonl",
        concat!(
            r#"{"messages": [{"role": "user", "content": "¿Qué es LoRA?"}, {"role": "assistant", "content": "Una adaptación de rango bajo: ΔW = BA."}, {"role": "user", "content": "And QLoRA?"}, {"role": "assistant", "content": "LoRA on a 4-bit NF4 base."}]}"#,
            "\n",
            r#"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "r?"}, {"role": "assistant", "content": "Rank."}]}"#,
            "\n"
        ),
    );
    let examples =
        load_jsonl(&data, &tok, &DataOptions { train_on_prompt: false, max_seq_len: 512, ..Default::default() })
            .unwrap();
    assert_eq!(
        learned_text(&tok, &examples[0]),
        "Una adaptación de rango bajo: ΔW = BA.<|im_end|>\n|LoRA on a 4-bit NF4 base.<|im_end|>\n"
    );
    // SmolLM2's template adds its default system prompt when none is given; it is not learned.
    let rendered = tok.decode(&examples[0].input_ids, false).unwrap();
    assert!(rendered.starts_with("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"), "{rendered}");
    assert_eq!(learned_text(&tok, &examples[1]), "Rank.<|im_end|>\n");
}

#[test]
fn validation_split_is_seeded_disjoint_and_complete() {
    let examples: Vec<Example> =
        (0..20u32).map(|i| Example { input_ids: vec![i, i + 1], labels: vec![IGNORE_INDEX, (i + 1) as i64] }).collect();
    let (train, valid) = split_validation(examples.clone(), 0.2, 42);
    assert_eq!((train.len(), valid.len()), (16, 4));
    let mut all: Vec<u32> = train.iter().chain(&valid).map(|e| e.input_ids[0]).collect();
    all.sort();
    assert_eq!(all, (0..20).collect::<Vec<_>>());
    // File order is kept inside each part.
    assert!(train.windows(2).all(|w| w[0].input_ids[0] < w[1].input_ids[0]));
    assert_eq!(split_validation(examples.clone(), 0.2, 42), (train.clone(), valid.clone()));
    assert_ne!(split_validation(examples.clone(), 0.2, 43).1, valid, "another seed picks other examples");
    assert_eq!(split_validation(examples.clone(), 0.0, 42).1.len(), 0);
    assert_eq!(split_validation(examples[..3].to_vec(), 0.01, 1).1.len(), 1, "at least one validation example");
    assert_eq!(split_validation(examples[..2].to_vec(), 0.99, 1).0.len(), 1, "at least one training example");
}

fn numbered(n: u32) -> Vec<Example> {
    // Example i has i % 4 + 2 tokens, the first one masked.
    (0..n)
        .map(|i| {
            let len = (i % 4 + 2) as usize;
            let ids: Vec<u32> = (0..len as u32).map(|k| 1000 * i + k).collect();
            let mut labels: Vec<i64> = ids.iter().map(|&x| x as i64).collect();
            labels[0] = IGNORE_INDEX;
            Example { input_ids: ids, labels }
        })
        .collect()
}

fn batch_rows(batch: &lora_arcade::trainer::data::Batch) -> (Vec<Vec<u32>>, Vec<Vec<i64>>) {
    (batch.input_ids.to_vec2().unwrap(), batch.labels.to_vec2().unwrap())
}

#[test]
fn batches_are_padded_masked_and_cover_each_epoch_once() {
    let pad = 7;
    let mut batcher = Batcher::new(numbered(10), 4, pad, true, 3).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 3);
    let mut seen_epochs: Vec<Vec<u32>> = Vec::new();
    for _epoch in 0..2 {
        let mut seen = Vec::new();
        for b in 0..3 {
            let batch = batcher.next_batch(&Device::Cpu).unwrap();
            let (ids, labels) = batch_rows(&batch);
            assert_eq!(ids.len(), if b < 2 { 4 } else { 2 }, "the last batch of an epoch is smaller");
            let width = ids[0].len();
            let mut real = 0;
            let mut targets = 0;
            for (row, lab) in ids.iter().zip(&labels) {
                let example = row[0] / 1000;
                let len = (example % 4 + 2) as usize;
                real += len;
                targets += len - 1;
                assert_eq!(row.len(), width);
                assert!(row[len..].iter().all(|&t| t == pad), "right padding with the pad id");
                assert!(lab[len..].iter().all(|&l| l == IGNORE_INDEX), "padding is never learned");
                assert_eq!(lab[0], IGNORE_INDEX);
                seen.push(example);
            }
            assert_eq!(width, ids.iter().map(|r| r.iter().take_while(|&&t| t != pad).count()).max().unwrap());
            assert_eq!(batch.n_tokens, real);
            assert_eq!(batch.n_target_tokens, targets);
        }
        assert_eq!(batcher.epoch(), seen_epochs.len() + 1);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>(), "each example exactly once per epoch");
        seen_epochs.push(seen);
    }
    assert_ne!(seen_epochs[0], seen_epochs[1], "a new order every epoch");
    assert_ne!(seen_epochs[0], (0..10).collect::<Vec<_>>(), "shuffled");

    let mut plain = Batcher::new(numbered(5), 2, pad, false, 3).unwrap();
    let firsts: Vec<u32> =
        (0..3).flat_map(|_| batch_rows(&plain.next_batch(&Device::Cpu).unwrap()).0).map(|r| r[0] / 1000).collect();
    assert_eq!(firsts, vec![0, 1, 2, 3, 4], "no shuffle: file order");
}

#[test]
fn batcher_state_round_trip_resumes_exactly() {
    let mut original = Batcher::new(numbered(11), 3, 0, true, 99).unwrap();
    for _ in 0..5 {
        original.next_batch(&Device::Cpu).unwrap();
    }
    let saved = serde_json::to_string(&original.state()).unwrap();
    let state: BatcherState = serde_json::from_str(&saved).unwrap();
    assert_eq!(state, original.state());
    assert_eq!((state.epoch, state.cursor, state.seed), (1, 3, 99));

    let mut resumed = Batcher::resume(numbered(11), 3, 0, true, state).unwrap();
    for _ in 0..9 {
        let (a, b) = (original.next_batch(&Device::Cpu).unwrap(), resumed.next_batch(&Device::Cpu).unwrap());
        assert_eq!(batch_rows(&a), batch_rows(&b));
        assert_eq!(original.state(), resumed.state());
    }
    let bad = BatcherState { epoch: 0, cursor: 11, seed: 1 };
    assert!(Batcher::resume(numbered(11), 3, 0, true, bad).is_err(), "a position past the data is refused");
    assert!(Batcher::new(Vec::new(), 3, 0, true, 1).is_err());
    assert!(Batcher::new(numbered(2), 0, 0, true, 1).is_err());
}

#[test]
fn course_dataset_loads_with_targets_on_every_line() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/datasets/lora-course.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines = text.lines().count();
    assert!((60..=150).contains(&lines), "{lines} examples");
    let (_dir, tiny) = tiny_tokenizer();
    let opts = DataOptions { train_on_prompt: false, max_seq_len: 4096, ..Default::default() };
    assert_eq!(load_jsonl(&path, &tiny, &opts).unwrap().len(), lines);
    if let Some(model) = load::test_model_path() {
        let tok = load_tokenizer(&model).unwrap();
        let examples =
            load_jsonl(&path, &tok, &DataOptions { train_on_prompt: false, max_seq_len: 512, ..Default::default() })
                .unwrap();
        assert_eq!(examples.len(), lines);
        let longest = examples.iter().map(|e| e.len()).max().unwrap();
        assert!(longest < 512, "no example needs truncation at 512 tokens ({longest})");
    }
}

#[test]
fn a_broken_chat_template_only_fails_chat_lines() {
    let (_dir, mut tok) = tiny_tokenizer();
    tok.chat_template = Some("{% for message in messages %}{{ message.content }".into());
    let dir = tempfile::tempdir().unwrap();
    let text =
        write_temp(dir.path(), "text.jsonl", "{\"prompt\": \"Q:\", \"completion\": \" A\"}\n{\"text\": \"plain\"}\n");
    assert_eq!(load_jsonl(&text, &tok, &DataOptions::default()).unwrap().len(), 2);
    let err = load_jsonl(&jsonl("mixed_formats.jsonl"), &tok, &DataOptions::default()).unwrap_err();
    assert!(matches!(&err, DataError::Line { line: 1, message, .. } if message.contains("chat template")), "{err}");
}

#[test]
fn a_model_without_template_gets_chatml() {
    let (_dir, mut tok) = tiny_tokenizer();
    tok.chat_template = None;
    let examples = load_jsonl(&jsonl("mixed_formats.jsonl"), &tok, &DataOptions::default()).unwrap();
    let rendered = tok.decode(&examples[0].input_ids, false).unwrap();
    assert!(rendered.starts_with("<|im_start|>system\nYou teach LoRA.<|im_end|>\n<|im_start|>user\n"), "{rendered}");
}

#[test]
fn sharegpt_conversations_are_chat() {
    let (dir, tok) = tiny_tokenizer();
    let first_line = std::fs::read_to_string(jsonl("sharegpt.jsonl")).unwrap().lines().next().unwrap().to_string();
    let good = write_temp(dir.path(), "one.jsonl", &first_line);
    let examples = load_jsonl(&good, &tok, &DataOptions::default()).unwrap();
    assert_eq!(learned_text(&tok, &examples[0]), "Zero.<|im_end|>\n");
    let rendered = tok.decode(&examples[0].input_ids, false).unwrap();
    assert!(rendered.starts_with("<|im_start|>system\nShort answers.<|im_end|>\n<|im_start|>user\n"), "{rendered}");
    let (line, msg) = line_error("sharegpt.jsonl");
    assert_eq!(line, 2);
    assert!(msg.contains("conversations[1]") && msg.contains("robot"), "{msg}");
}

/// A system prompt replaces the template's default system message in examples that have none,
/// and leaves one that an example brings; the masked labels still cover only the answer.
#[test]
fn a_system_prompt_goes_before_chats_without_one() {
    use lora_arcade::trainer::data::{Record, tokenize_record};
    use lora_arcade::trainer::template::{ChatMessage, ChatTemplate};
    let (_dir, tok) = tiny_tokenizer();
    let template = ChatTemplate::for_tokenizer(&tok).unwrap();
    let chat = |with_system: bool| {
        let mut m = vec![ChatMessage::new("user", "hi"), ChatMessage::new("assistant", "hello")];
        if with_system {
            m.insert(0, ChatMessage::new("system", "own"));
        }
        Record::Chat(m)
    };
    let opts = DataOptions { system_prompt: Some("answer briefly".into()), ..Default::default() };
    let text = |r: &Record, o: &DataOptions| {
        let e = tokenize_record(r, &tok, Some(&template), o).unwrap();
        (tok.decode(&e.input_ids, false).unwrap(), e.n_targets())
    };
    let (plain, plain_targets) = text(&chat(false), &DataOptions::default());
    let (prompted, prompted_targets) = text(&chat(false), &opts);
    assert!(
        !plain.contains("answer briefly") && prompted.starts_with("<|im_start|>system\nanswer briefly"),
        "{prompted}"
    );
    assert_eq!(plain_targets, prompted_targets, "only the answer is learned either way");
    let (own, _) = text(&chat(true), &opts);
    assert!(own.contains("own") && !own.contains("answer briefly"), "{own}");
}
