//! Field paths ↔ positions in RON source text.
//!
//! ron reports *where* a parse error is (line and column) but not *which field* it is in, and the
//! semantic validator knows the field (`items[3].explanation.en`) but not where it is. A light
//! scanner over the RON tokens tracks the nesting of structs, lists and tuples and recovers
//! both directions. It never fails: on text that is not valid RON it simply knows less.

use std::collections::HashMap;

/// 1-based line and column (in characters), like ron's `Position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Deeper than this nothing is recorded (ron refuses input nested past 128 levels anyway), so
/// pathological nesting costs linear time.
const MAX_DEPTH: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delim {
    Paren,
    Bracket,
    Brace,
}

#[derive(Debug)]
struct Frame {
    delim: Delim,
    /// For a struct: the field whose value is being read.
    field: Option<String>,
    /// Whether `name:` was seen inside this paren (a struct, not a tuple or newtype).
    has_fields: bool,
    /// Element index in a list or tuple.
    index: usize,
    /// Whether the current list element has started (its position is recorded once).
    element_started: bool,
}

impl Frame {
    fn new(delim: Delim) -> Frame {
        Frame { delim, field: None, has_fields: false, index: 0, element_started: false }
    }
}

/// Where every field and list element of a RON text starts.
#[derive(Debug, Default)]
pub struct SourceMap {
    starts: HashMap<String, Pos>,
}

impl SourceMap {
    /// Scans the whole text.
    pub fn build(source: &str) -> SourceMap {
        let mut map = SourceMap::default();
        scan(source, None, &mut |path, pos| {
            map.starts.entry(path.to_owned()).or_insert(pos);
        });
        map
    }

    /// Position of `path`, or of its closest recorded ancestor (a field whose value is missing
    /// points at its parent).
    pub fn position(&self, path: &str) -> Option<Pos> {
        let mut path = path;
        loop {
            if let Some(pos) = self.starts.get(path) {
                return Some(*pos);
            }
            path = parent_path(path)?;
        }
    }
}

/// `items[3].title.en` → `items[3].title`, `items[3]` → `items`, `items` → None.
pub fn parent_path(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// The field path at a 1-based line/column (where a parse error was reported), if inside a field.
pub fn path_at(source: &str, pos: Pos) -> Option<String> {
    let stack = scan(source, Some(byte_offset(source, pos)), &mut |_, _| {});
    Some(render(&stack)).filter(|path| !path.is_empty())
}

/// The path of the struct, list or tuple that encloses a 1-based line/column (for an unknown or
/// missing field, reported inside the struct that should or should not have it). `None` at the
/// top level.
pub fn container_path_at(source: &str, pos: Pos) -> Option<String> {
    let stack = scan(source, Some(byte_offset(source, pos)), &mut |_, _| {});
    let outer = stack.len().checked_sub(1)?;
    Some(render(&stack[..outer])).filter(|path| !path.is_empty())
}

/// Byte offset of a 1-based line/column; the end of the text if past it.
fn byte_offset(source: &str, pos: Pos) -> usize {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in source.char_indices() {
        if line > pos.line || (line == pos.line && column >= pos.column) {
            return i;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    source.len()
}

fn render(stack: &[Frame]) -> String {
    let mut path = String::new();
    // Each frame names the slot being read *inside* it.
    for frame in stack {
        match frame.delim {
            Delim::Paren if frame.has_fields => {
                if let Some(field) = &frame.field {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(field);
                }
            }
            // A newtype (`Some(x)`, `Quiz([..])`) is transparent; a tuple names its elements.
            Delim::Paren => {
                if frame.index > 0 {
                    path.push('.');
                    path.push_str(&frame.index.to_string());
                }
            }
            Delim::Bracket | Delim::Brace => {
                path.push('[');
                path.push_str(&frame.index.to_string());
                path.push(']');
            }
        }
    }
    path
}

/// Tokenizes `source` (up to `stop` bytes when given), calling `record(path, pos)` at each field
/// name and each list element start. Returns the frame stack at the stop point.
fn scan(source: &str, stop: Option<usize>, record: &mut dyn FnMut(&str, Pos)) -> Vec<Frame> {
    let bytes = source.as_bytes();
    let stop = stop.unwrap_or(bytes.len()).min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    // An identifier waiting to see whether it is followed by `:` (a field name).
    let mut pending_ident: Option<(String, Pos)> = None;

    // Column of the last position asked for, so long lines are counted once, not per token.
    let mut column_cache = (0usize, 1usize);
    let mut pos_of = |i: usize, line: usize, line_start: usize| {
        let (from, column) =
            if column_cache.0 >= line_start && column_cache.0 <= i { column_cache } else { (line_start, 1) };
        let column = column + source[from..i].chars().count();
        column_cache = (i, column);
        Pos { line, column }
    };

    // Called when a value token starts: records a list element's start once.
    fn element_start(stack: &mut [Frame], pos: Pos, record: &mut dyn FnMut(&str, Pos)) {
        if stack.len() > MAX_DEPTH {
            return;
        }
        if let Some(top) = stack.last_mut()
            && matches!(top.delim, Delim::Bracket | Delim::Brace)
            && !top.element_started
        {
            top.element_started = true;
            let path = render(stack);
            record(&path, pos);
        }
    }

    while i < stop {
        let c = bytes[i];
        match c {
            b'\n' => {
                i += 1;
                line += 1;
                line_start = i;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if bytes[i] == b'\n' {
                            line += 1;
                            line_start = i + 1;
                        }
                        i += 1;
                    }
                }
            }
            b'#' => {
                // `#![enable(..)]`: skip to the closing `]`.
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i += 1;
            }
            b'"' | b'\'' => {
                pending_ident = None;
                element_start(&mut stack, pos_of(i, line, line_start), record);
                let quote = c;
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    if i < bytes.len() && bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'r' if matches!(bytes.get(i + 1), Some(b'"' | b'#')) => {
                // Raw string r#"…"#.
                pending_ident = None;
                element_start(&mut stack, pos_of(i, line, line_start), record);
                let mut j = i + 1;
                let mut hashes = 0;
                while j < bytes.len() && bytes[j] == b'#' {
                    hashes += 1;
                    j += 1;
                }
                if bytes.get(j) != Some(&b'"') {
                    // `r#ident`: a raw identifier.
                    let start = j;
                    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                        j += 1;
                    }
                    pending_ident = Some((source[start..j].to_owned(), pos_of(i, line, line_start)));
                    i = j;
                    continue;
                }
                j += 1;
                let closing: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                while j < bytes.len() && !bytes[j..].starts_with(&closing) {
                    if bytes[j] == b'\n' {
                        line += 1;
                        line_start = j + 1;
                    }
                    j += 1;
                }
                i = (j + closing.len()).min(bytes.len());
            }
            b'(' | b'[' | b'{' => {
                let named = pending_ident.take().is_some();
                if !named {
                    element_start(&mut stack, pos_of(i, line, line_start), record);
                }
                let delim = match c {
                    b'(' => Delim::Paren,
                    b'[' => Delim::Bracket,
                    _ => Delim::Brace,
                };
                stack.push(Frame::new(delim));
                i += 1;
            }
            b')' | b']' | b'}' => {
                pending_ident = None;
                stack.pop();
                i += 1;
            }
            b',' => {
                pending_ident = None;
                if let Some(top) = stack.last_mut() {
                    match top.delim {
                        Delim::Paren if top.has_fields => top.field = None,
                        _ => {
                            top.index += 1;
                            top.element_started = false;
                        }
                    }
                }
                i += 1;
            }
            b':' => {
                if let Some((name, pos)) = pending_ident.take() {
                    let shallow = stack.len() <= MAX_DEPTH;
                    if let Some(top) = stack.last_mut()
                        && top.delim == Delim::Paren
                        && shallow
                    {
                        top.has_fields = true;
                        top.field = Some(name);
                        let path = render(&stack);
                        record(&path, pos);
                    }
                }
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let pos = pos_of(start, line, line_start);
                // An identifier may be a field name, a variant name or a value; a value starts
                // an element, a field name does not — decide when the next token comes. Record
                // the element start now only for lists (fields never appear directly in one).
                if matches!(stack.last().map(|f| f.delim), Some(Delim::Bracket | Delim::Brace)) {
                    element_start(&mut stack, pos, record);
                }
                pending_ident = Some((source[start..i].to_owned(), pos));
            }
            _ => {
                // Numbers, signs and anything else: a value token.
                pending_ident = None;
                element_start(&mut stack, pos_of(i, line, line_start), record);
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'_' | b'+' | b'-'))
                {
                    i += 1;
                }
                if i == start {
                    // A byte we do not know (non-ASCII outside a string): step over the char.
                    i += source[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"(
    id: "quiz",
    title: (es: "Hola", en: "Hello"),
    items: Quiz([
        (
            id: "a",
            choices: [(es: "x", en: "x"), (es: "y", en: "y")],
            answer: 1,
        ),
        (
            id: "b", // a comment: with colon
            blanks: [(0, 1), (2, 3)],
            notes: Some((es: "n", en: "m")),
        ),
    ]),
)"#;

    #[test]
    fn records_fields_and_elements() {
        let map = SourceMap::build(SAMPLE);
        assert_eq!(map.position("id"), Some(Pos { line: 2, column: 5 }));
        assert_eq!(map.position("title.en"), Some(Pos { line: 3, column: 25 }));
        assert_eq!(map.position("items[0]"), Some(Pos { line: 5, column: 9 }));
        assert_eq!(map.position("items[0].choices[1].en"), Some(Pos { line: 7, column: 53 }));
        assert_eq!(map.position("items[1].id"), Some(Pos { line: 11, column: 13 }));
        assert_eq!(map.position("items[1].notes.es"), Some(Pos { line: 13, column: 26 }));
        // Unknown leaf: its closest ancestor.
        assert_eq!(map.position("items[1].explanation.en"), map.position("items[1]"));
    }

    #[test]
    fn path_at_a_position() {
        // Inside the value of `answer` of the first question.
        assert_eq!(path_at(SAMPLE, Pos { line: 8, column: 21 }).as_deref(), Some("items[0].answer"));
        assert_eq!(path_at(SAMPLE, Pos { line: 12, column: 31 }).as_deref(), Some("items[1].blanks[1]"));
        assert_eq!(path_at(SAMPLE, Pos { line: 12, column: 34 }).as_deref(), Some("items[1].blanks[1].1"));
    }

    #[test]
    fn container_of_a_position() {
        // Inside the `notes` text of the second question, after `es: "n", `.
        assert_eq!(container_path_at(SAMPLE, Pos { line: 13, column: 35 }).as_deref(), Some("items[1].notes"));
        assert_eq!(container_path_at(SAMPLE, Pos { line: 2, column: 5 }), None);
    }

    #[test]
    fn never_panics_on_garbage() {
        for text in ["", "(", ")))", "r#", "\"unterminated", "/* open", "é: (", "#![", "a:b:c"] {
            let _ = SourceMap::build(text);
            let _ = path_at(text, Pos { line: 1, column: 3 });
            let _ = path_at(text, Pos { line: 9, column: 99 });
            let _ = container_path_at(text, Pos { line: 1, column: 2 });
        }
    }
}
