//! Whatever text the loader is given, it answers with a level or with problems: never a panic.

use std::path::Path;

use lora_arcade::content::{self, parse_level, source_map};
use proptest::prelude::*;

const SHIPPED: &str = include_str!("../levels/03-matrix.ron");
const NF4: &str = include_str!("../levels/05-nf4.ron");

fn check_never_panics(source: &str) {
    let file = Path::new("fuzz.ron");
    match parse_level(source, file) {
        Ok(level) => assert!(!level.id.is_empty()),
        Err(problems) => {
            assert!(!problems.is_empty());
            for p in problems {
                assert_eq!(p.file, file);
                // Positions, when given, point inside the text (or just past its end).
                if let Some(line) = p.line {
                    assert!(line >= 1 && line <= source.lines().count() + 1, "{p}");
                }
                let _ = p.to_string();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(source in ".{0,400}") {
        check_never_panics(&source);
    }

    #[test]
    fn ron_like_text_never_panics(source in r#"[()\[\]{}:,"a-z0-9_ .\-#!/*\n]{0,300}"#) {
        check_never_panics(&source);
        let _ = source_map::SourceMap::build(&source);
    }

    #[test]
    fn cut_shipped_levels_never_panic(cut in 0usize..SHIPPED.len(), len in 0usize..64) {
        // Remove a slice of a real level: a truncation, a missing comma, half a number…
        let mut bytes = SHIPPED.as_bytes().to_vec();
        let end = (cut + len).min(bytes.len());
        bytes.drain(cut..end);
        if let Ok(source) = String::from_utf8(bytes) {
            check_never_panics(&source);
        }
    }

    #[test]
    fn digit_swaps_in_shipped_levels_never_panic(at in 0usize..NF4.len(), digit in 0u8..10) {
        // Change one digit: a wrong answer, an index out of range or a huge number.
        let mut bytes = NF4.as_bytes().to_vec();
        if bytes[at].is_ascii_digit() {
            bytes[at] = b'0' + digit;
        }
        check_never_panics(std::str::from_utf8(&bytes).unwrap());
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let source = "(".repeat(100_000);
    check_never_panics(&source);
    let source = "[".repeat(100_000);
    check_never_panics(&source);
    let _ = content::builtin();
    // The source map is linear too (a quadratic scan would make this test crawl).
    let _ = source_map::SourceMap::build(&"[".repeat(200_000));
    let long_line = format!("(id: \"x\", items: [{}])", "1, ".repeat(200_000));
    let map = source_map::SourceMap::build(&long_line);
    assert_eq!(map.position("items[199999]").map(|p| p.line), Some(1));
}
