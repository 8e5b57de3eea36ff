//! Whatever bytes a dataset holds, the reader answers with examples or with an error naming the
//! file (and the line, when one is to blame): never a panic. Mutations of real lines of every
//! format, as the level fuzz test does for levels.

use std::path::Path;

use lora_arcade::trainer::data::{DataError, DataOptions, load_jsonl};
use lora_arcade::trainer::fixture;
use lora_arcade::trainer::load::{TokenizerBundle, load_tokenizer};
use proptest::prelude::*;

/// One line of each format the reader knows (chat with a system turn, ShareGPT, prompt /
/// completion, instruction / input / output, plain text).
const SEED: &str = concat!(
    r#"{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "what is r?"}, {"role": "assistant", "content": "the rank"}]}"#,
    "\n",
    r#"{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}"#,
    "\n",
    r#"{"prompt": "the cat sat on", "completion": " the mat"}"#,
    "\n",
    r#"{"instruction": "add", "input": "2 and 3", "output": "5"}"#,
    "\n",
    r#"{"text": "one two three four five"}"#,
    "\n",
);

fn tokenizer() -> &'static (tempfile::TempDir, TokenizerBundle) {
    static TOKENIZER: std::sync::OnceLock<(tempfile::TempDir, TokenizerBundle)> = std::sync::OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let config = fixture::tiny_config_untied();
        fixture::write_hf_folder(dir.path(), &config, &fixture::tiny_weights(&config, 1), 1).unwrap();
        let tok = load_tokenizer(dir.path()).unwrap();
        (dir, tok)
    })
}

fn check_never_panics(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.jsonl");
    std::fs::write(&path, bytes).unwrap();
    let opts = DataOptions { max_seq_len: 64, ..DataOptions::default() };
    let lines = bytes.split(|&b| b == b'\n').count();
    match load_jsonl(&path, &tokenizer().1, &opts) {
        Ok(examples) => {
            assert!(!examples.is_empty());
            for e in &examples {
                assert!(e.input_ids.len() <= 64 && e.input_ids.len() == e.labels.len());
            }
        }
        Err(DataError::Line { path: p, line, message }) => {
            assert_eq!(p, path);
            assert!(line >= 1 && line <= lines, "line {line} of {lines}: {message}");
            assert!(!message.is_empty());
        }
        Err(e @ (DataError::Empty { .. } | DataError::NoTrainableTokens { .. })) => {
            assert!(e.to_string().contains("fuzz.jsonl"), "{e}");
        }
        Err(other) => panic!("unexpected kind of error: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn cut_lines_never_panic(cut in 0usize..SEED.len(), len in 0usize..48) {
        // A truncation, a missing brace or quote, half a key…
        let mut bytes = SEED.as_bytes().to_vec();
        let end = (cut + len).min(bytes.len());
        bytes.drain(cut..end);
        check_never_panics(&bytes);
    }

    #[test]
    fn replaced_bytes_never_panic(at in 0usize..SEED.len(), byte in any::<u8>()) {
        // Any byte anywhere: not UTF-8, a control character, a stray newline, a digit for a quote.
        let mut bytes = SEED.as_bytes().to_vec();
        bytes[at] = byte;
        check_never_panics(&bytes);
    }

    #[test]
    fn arbitrary_json_like_lines_never_panic(text in r#"[{}\[\]:,"a-z0-9 \n\\]{0,200}"#) {
        check_never_panics(text.as_bytes());
    }
}

#[test]
fn a_file_that_is_not_text_names_its_first_bad_line() {
    let mut bytes = SEED.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"text\": \"\xff\xfe\"}\n");
    check_never_panics(&bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, &bytes).unwrap();
    let err = load_jsonl(&path, &tokenizer().1, &DataOptions::default()).unwrap_err().to_string();
    assert!(err.contains("bad.jsonl:6:") && err.contains("not UTF-8"), "{err}");
    assert!(Path::new(&path).exists());
}
