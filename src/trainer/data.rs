//! Training data: JSONL files in the formats people bring (chat messages, prompt/completion,
//! Alpaca, plain text), tokenized with loss only where the model should learn (assistant or
//! completion tokens), split for validation, and batched reproducibly with a resumable
//! position.

use std::ops::Range;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::load::TokenizerBundle;
use super::template::{ChatMessage, ChatTemplate};

/// Label of a position that contributes no loss (PyTorch's `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// The prompt the Alpaca dataset was trained with (Taori et al., 2023).
const ALPACA_WITH_INPUT: &str = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n";
const ALPACA_NO_INPUT: &str = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n";

/// One tokenized training sequence. `labels[i]` is `input_ids[i]` where the token is learned
/// and [`IGNORE_INDEX`] elsewhere; the model shifts (position i predicts label i + 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub input_ids: Vec<u32>,
    pub labels: Vec<i64>,
}

impl Example {
    /// Positions that produce a loss term after the shift (the first label is never predicted).
    pub fn n_targets(&self) -> usize {
        self.labels.iter().skip(1).filter(|&&l| l != IGNORE_INDEX).count()
    }

    pub fn len(&self) -> usize {
        self.input_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.input_ids.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataOptions {
    /// Also learn the prompt (user/system turns, instructions), not only the answers.
    pub train_on_prompt: bool,
    /// Longer sequences are truncated (the start is kept).
    pub max_seq_len: usize,
    /// A system message for chat examples that have none (it replaces a template's default
    /// one, such as SmolLM2's 20-token introduction: shorter, and it can ask for a language).
    pub system_prompt: Option<String>,
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions { train_on_prompt: false, max_seq_len: 512, system_prompt: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("{path}: the dataset has no examples")]
    Empty { path: PathBuf },
    #[error(
        "{path}: no example has a token to learn from ({skipped} skipped; is max_seq_len {max_seq_len} shorter than the prompts?)"
    )]
    NoTrainableTokens { path: PathBuf, skipped: usize, max_seq_len: usize },
    #[error("invalid data option: {0}")]
    Options(String),
    #[error("building a batch: {0}")]
    Candle(#[from] candle_core::Error),
}

/// A JSONL record, after format detection.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `{"messages": [{"role", "content"}, ...]}` (or ShareGPT's `{"conversations": [{"from",
    /// "value"}]}`), rendered with the chat template.
    Chat(Vec<ChatMessage>),
    /// `{"prompt", "completion"}` (also Alpaca `{"instruction", "input", "output"}`, turned
    /// into the Alpaca prompt): the text is prompt + completion, EOS appended.
    PromptCompletion { prompt: String, completion: String },
    /// `{"text"}`: tokenized as written (the tokenizer's post-processor only), all learned.
    Text(String),
}

fn field_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("field \"{key}\" must be a string, found {}", json_kind(other))),
        None => Err(format!("missing field \"{key}\"")),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Detects the format of one JSONL line and checks its fields. Errors are user-facing
/// messages (without the line number, which the caller adds).
pub fn parse_record(line: &str) -> Result<Record, String> {
    if line.trim().is_empty() {
        return Err("empty line (every line must be one JSON object)".into());
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err(format!("expected a JSON object, found {}", json_kind(&value)));
    };
    // OpenAI-style {"messages": [{"role", "content"}]} or ShareGPT-style
    // {"conversations": [{"from", "value"}]} (roles human/gpt mapped to user/assistant).
    let chat = [("messages", "role", "content"), ("conversations", "from", "value")]
        .into_iter()
        .find(|(key, _, _)| obj.contains_key(*key));
    if let Some((key, role_key, content_key)) = chat {
        let messages = &obj[key];
        let Value::Array(items) = messages else {
            return Err(format!("field \"{key}\" must be an array, found {}", json_kind(messages)));
        };
        if items.is_empty() {
            return Err(format!("field \"{key}\" is empty"));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                return Err(format!(
                    "{key}[{i}] must be an object with \"{role_key}\" and \"{content_key}\", found {}",
                    json_kind(item)
                ));
            };
            let role = field_str(m, role_key).map_err(|e| format!("{key}[{i}]: {e}"))?;
            let content = field_str(m, content_key).map_err(|e| format!("{key}[{i}]: {e}"))?;
            let role = match (key, role) {
                (_, "") => return Err(format!("{key}[{i}]: \"{role_key}\" is empty")),
                ("conversations", "human" | "user") => "user",
                ("conversations", "gpt" | "assistant" | "model") => "assistant",
                ("conversations", "system") => "system",
                ("conversations", other) => {
                    return Err(format!("{key}[{i}]: unknown \"from\" {other:?} (expected human, gpt or system)"));
                }
                (_, role @ ("system" | "user" | "assistant" | "tool")) => role,
                (_, other) => {
                    return Err(format!(
                        "{key}[{i}]: unknown \"{role_key}\" {other:?} (expected system, user, assistant or tool)"
                    ));
                }
            };
            out.push(ChatMessage::new(role, content));
        }
        return Ok(Record::Chat(out));
    }
    if obj.contains_key("prompt") || obj.contains_key("completion") {
        let prompt = field_str(&obj, "prompt")?;
        let completion = field_str(&obj, "completion")?;
        if completion.is_empty() {
            return Err("field \"completion\" is empty".into());
        }
        return Ok(Record::PromptCompletion { prompt: prompt.into(), completion: completion.into() });
    }
    if obj.contains_key("instruction") || obj.contains_key("output") {
        let instruction = field_str(&obj, "instruction")?;
        let output = field_str(&obj, "output")?;
        let input = match obj.get("input") {
            None | Some(Value::Null) => "",
            Some(_) => field_str(&obj, "input")?,
        };
        if instruction.is_empty() || output.is_empty() {
            return Err("fields \"instruction\" and \"output\" must not be empty".into());
        }
        let prompt = if input.is_empty() {
            ALPACA_NO_INPUT.replace("{instruction}", instruction)
        } else {
            ALPACA_WITH_INPUT.replace("{instruction}", instruction).replace("{input}", input)
        };
        return Ok(Record::PromptCompletion { prompt, completion: output.into() });
    }
    if obj.contains_key("text") {
        let text = field_str(&obj, "text")?;
        if text.is_empty() {
            return Err("field \"text\" is empty".into());
        }
        return Ok(Record::Text(text.into()));
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    Err(format!(
        "unknown format (keys {keys:?}); expected {{\"messages\"}}, {{\"conversations\"}}, {{\"prompt\", \"completion\"}}, {{\"instruction\", \"input\", \"output\"}} or {{\"text\"}}"
    ))
}

/// Labels every token whose text starts inside one of `spans` (byte ranges of `text`);
/// tokens the post-processor added (zero-width offsets) are never learned.
fn label_by_spans(ids: &[u32], offsets: &[(usize, usize)], spans: &[Range<usize>]) -> Vec<i64> {
    ids.iter()
        .zip(offsets)
        .map(
            |(&id, &(start, end))| {
                if end > start && spans.iter().any(|s| s.contains(&start)) { id as i64 } else { IGNORE_INDEX }
            },
        )
        .collect()
}

/// Byte ranges of `rendered` (the whole conversation) produced by each assistant turn,
/// found by rendering the conversation up to each turn: the text after the generation prompt
/// of turn k up to the end of turn k is what the assistant said (with its end-of-turn tokens).
fn assistant_spans(
    template: &ChatTemplate,
    messages: &[ChatMessage],
    rendered: &str,
) -> Result<Vec<Range<usize>>, String> {
    let mut spans = Vec::new();
    for (k, message) in messages.iter().enumerate().filter(|(_, m)| m.role == "assistant") {
        let prefix = template.render(&messages[..k], true).map_err(|e| e.to_string())?;
        let through = template.render(&messages[..=k], false).map_err(|e| e.to_string())?;
        if !through.starts_with(&prefix) || !rendered.starts_with(&through) {
            return Err(format!(
                "cannot locate assistant message {k} in the rendered conversation (the chat template renders earlier turns differently once later ones exist); use train_on_prompt or the prompt/completion format"
            ));
        }
        if !message.content.is_empty() {
            spans.push(prefix.len()..through.len());
        }
    }
    Ok(spans)
}

/// Tokenizes one record. `template` is needed only for chat records (see
/// [`ChatTemplate::for_tokenizer`]). Errors are user-facing messages.
pub fn tokenize_record(
    record: &Record,
    tokenizer: &TokenizerBundle,
    template: Option<&ChatTemplate>,
    opts: &DataOptions,
) -> Result<Example, String> {
    let tok_err = |e: tokenizers::Error| format!("tokenizer: {e}");
    let (input_ids, labels) = match record {
        Record::Chat(messages) => {
            let template = template.ok_or("a chat record needs a chat template")?;
            if !opts.train_on_prompt && !messages.iter().any(|m| m.role == "assistant" && !m.content.is_empty()) {
                return Err("conversation has no assistant message to learn from".into());
            }
            let with_system;
            let messages = match &opts.system_prompt {
                Some(system) if messages.first().is_none_or(|m| m.role != "system") => {
                    with_system = [vec![ChatMessage::new("system", system)], messages.clone()].concat();
                    &with_system
                }
                _ => messages,
            };
            let rendered = template.render(messages, false).map_err(|e| e.to_string())?;
            // Like transformers' apply_chat_template: the template writes any BOS itself.
            let enc = tokenizer.tokenizer.encode(rendered.as_str(), false).map_err(tok_err)?;
            let ids = enc.get_ids().to_vec();
            let labels = if opts.train_on_prompt {
                ids.iter().map(|&i| i as i64).collect()
            } else {
                let spans = assistant_spans(template, messages, &rendered)?;
                label_by_spans(&ids, enc.get_offsets(), &spans)
            };
            (ids, labels)
        }
        Record::PromptCompletion { prompt, completion } => {
            let text = format!("{prompt}{completion}");
            let enc = tokenizer.tokenizer.encode(text.as_str(), true).map_err(tok_err)?;
            let mut ids = enc.get_ids().to_vec();
            let learned = if opts.train_on_prompt { 0..text.len() } else { prompt.len()..text.len() };
            let mut labels = label_by_spans(&ids, enc.get_offsets(), &[learned]);
            // Teach the model to stop after the completion.
            if let Some(&eos) = tokenizer.eos_ids.first() {
                if ids.last() != Some(&eos) {
                    ids.push(eos);
                    labels.push(eos as i64);
                } else if let Some(last) = labels.last_mut() {
                    *last = eos as i64;
                }
            }
            (ids, labels)
        }
        Record::Text(text) => {
            let ids = tokenizer.encode(text, true).map_err(tok_err)?;
            let labels = ids.iter().map(|&i| i as i64).collect();
            (ids, labels)
        }
    };
    let keep = input_ids.len().min(opts.max_seq_len);
    Ok(Example { input_ids: input_ids[..keep].to_vec(), labels: labels[..keep].to_vec() })
}

/// Reads and tokenizes a JSONL file (format detected per line). Bad lines are errors naming
/// the file and line; examples left with nothing to learn after truncation are skipped
/// (logged); a dataset with no examples, or none with a target, is an error.
pub fn load_jsonl(path: &Path, tokenizer: &TokenizerBundle, opts: &DataOptions) -> Result<Vec<Example>, DataError> {
    if opts.max_seq_len < 2 {
        return Err(DataError::Options(format!("max_seq_len must be at least 2, got {}", opts.max_seq_len)));
    }
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let text = utf8_text(path, &bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Built once, but only its use is an error: a model whose template minijinja cannot
    // compile still trains on prompt/completion and text data.
    let template = ChatTemplate::for_tokenizer(tokenizer);
    if let Ok(t) = &template
        && t.is_fallback()
    {
        tracing::info!(path = %path.display(), "model has no chat template; chat examples use ChatML");
    }

    let lines: Vec<&str> = text.lines().collect();
    // Blank lines at the end of a file are editor leftovers, not records.
    let last_record = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(0, |i| i + 1);
    let mut examples = Vec::new();
    let mut skipped = 0;
    for (index, line) in lines[..last_record].iter().enumerate() {
        let line_error = |message: String| DataError::Line { path: path.to_path_buf(), line: index + 1, message };
        let record = parse_record(line).map_err(line_error)?;
        let chat_template = match (&record, &template) {
            (_, Ok(t)) => Some(t),
            (Record::Chat(_), Err(e)) => {
                return Err(line_error(format!("the model's chat template is unusable: {e}")));
            }
            (_, Err(_)) => None,
        };
        let example = tokenize_record(&record, tokenizer, chat_template, opts).map_err(line_error)?;
        if example.n_targets() == 0 {
            skipped += 1;
            tracing::warn!(path = %path.display(), line = index + 1, "skipping example: no token left to learn (too short, or truncated at max_seq_len {})", opts.max_seq_len);
            continue;
        }
        examples.push(example);
    }
    if last_record == 0 {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    if examples.is_empty() {
        return Err(DataError::NoTrainableTokens { path: path.to_path_buf(), skipped, max_seq_len: opts.max_seq_len });
    }
    Ok(examples)
}

/// The file as text, or an error naming the line and column of its first byte that is not UTF-8.
fn utf8_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, DataError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.len() - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        DataError::Line {
            path: path.to_path_buf(),
            line,
            message: format!("byte {column} of the line is not UTF-8 (save the file as UTF-8)"),
        }
    })
}

/// Splits off `fraction` of the examples for validation, chosen with a seeded shuffle; both
/// parts keep the file order. With at least two examples and `fraction > 0`, each side gets
/// at least one.
pub fn split_validation(examples: Vec<Example>, fraction: f64, seed: u64) -> (Vec<Example>, Vec<Example>) {
    let n = examples.len();
    if fraction.is_nan() || fraction <= 0.0 || n < 2 {
        return (examples, Vec::new());
    }
    let n_valid = ((n as f64 * fraction).round() as usize).clamp(1, n - 1);
    let mut indices: Vec<usize> = (0..n).collect();
    indices.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut is_valid = vec![false; n];
    for &i in &indices[..n_valid] {
        is_valid[i] = true;
    }
    let (mut train, mut valid) = (Vec::with_capacity(n - n_valid), Vec::with_capacity(n_valid));
    for (example, valid_flag) in examples.into_iter().zip(is_valid) {
        if valid_flag { valid.push(example) } else { train.push(example) }
    }
    (train, valid)
}

/// Where a [`Batcher`] stands: the number of finished epochs, the next position in this
/// epoch's order, and the seed the orders derive from. Saved in checkpoints to resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatcherState {
    pub epoch: usize,
    pub cursor: usize,
    pub seed: u64,
}

/// A batch, right-padded to its longest sequence (pad id as input, −100 as label). Causal
/// attention means real tokens never see the padding after them, so no mask is needed.
#[derive(Debug, Clone)]
pub struct Batch {
    /// u32 `[B, S]`
    pub input_ids: Tensor,
    /// i64 `[B, S]`, −100 where ignored
    pub labels: Tensor,
    /// Loss terms in this batch after the shift (sum of [`Example::n_targets`]).
    pub n_target_tokens: usize,
    /// Real (non-padding) tokens in this batch.
    pub n_tokens: usize,
}

/// Yields batches of `batch_size` examples forever, epoch after epoch, in an order that is
/// a pure function of (seed, epoch): resuming from a [`BatcherState`] continues exactly.
/// The last batch of an epoch may be smaller.
#[derive(Debug, Clone)]
pub struct Batcher {
    examples: Vec<Example>,
    batch_size: usize,
    pad_id: u32,
    shuffle: bool,
    state: BatcherState,
    order: Vec<usize>,
}

impl Batcher {
    pub fn new(
        examples: Vec<Example>,
        batch_size: usize,
        pad_id: u32,
        shuffle: bool,
        seed: u64,
    ) -> Result<Self, DataError> {
        Self::resume(examples, batch_size, pad_id, shuffle, BatcherState { epoch: 0, cursor: 0, seed })
    }

    /// Continues from a saved position (same examples, batch size and shuffle setting).
    pub fn resume(
        examples: Vec<Example>,
        batch_size: usize,
        pad_id: u32,
        shuffle: bool,
        state: BatcherState,
    ) -> Result<Self, DataError> {
        if examples.is_empty() {
            return Err(DataError::Options("cannot batch an empty dataset".into()));
        }
        if batch_size == 0 {
            return Err(DataError::Options("batch size must be at least 1".into()));
        }
        if state.cursor >= examples.len() {
            return Err(DataError::Options(format!(
                "saved batcher position {} is beyond the dataset's {} examples (different dataset?)",
                state.cursor,
                examples.len()
            )));
        }
        let order = epoch_order(examples.len(), shuffle, state.seed, state.epoch);
        Ok(Batcher { examples, batch_size, pad_id, shuffle, state, order })
    }

    pub fn state(&self) -> BatcherState {
        self.state
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.state.epoch
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.examples.len().div_ceil(self.batch_size)
    }

    pub fn len(&self) -> usize {
        self.examples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// The next batch; moves to the next epoch (new order) after the last one.
    pub fn next_batch(&mut self, device: &Device) -> Result<Batch, DataError> {
        let end = (self.state.cursor + self.batch_size).min(self.examples.len());
        let chosen: Vec<&Example> = self.order[self.state.cursor..end].iter().map(|&i| &self.examples[i]).collect();
        self.state.cursor = end;
        if self.state.cursor == self.examples.len() {
            self.state.epoch += 1;
            self.state.cursor = 0;
            self.order = epoch_order(self.examples.len(), self.shuffle, self.state.seed, self.state.epoch);
        }
        collate(&chosen, self.pad_id, device)
    }
}

/// The example order of one epoch: a seeded permutation, or file order without shuffling.
fn epoch_order(n: usize, shuffle: bool, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        let epoch_seed = seed ^ (epoch as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        order.shuffle(&mut StdRng::seed_from_u64(epoch_seed));
    }
    order
}

/// Pads `examples` to the longest and stacks them into tensors.
pub fn collate(examples: &[&Example], pad_id: u32, device: &Device) -> Result<Batch, DataError> {
    let seq_len = examples.iter().map(|e| e.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(examples.len() * seq_len);
    let mut labels = Vec::with_capacity(examples.len() * seq_len);
    for example in examples {
        ids.extend_from_slice(&example.input_ids);
        ids.extend(std::iter::repeat_n(pad_id, seq_len - example.len()));
        labels.extend_from_slice(&example.labels);
        labels.extend(std::iter::repeat_n(IGNORE_INDEX, seq_len - example.len()));
    }
    let shape = (examples.len(), seq_len);
    Ok(Batch {
        input_ids: Tensor::from_vec(ids, shape, device)?,
        labels: Tensor::from_vec(labels, shape, device)?,
        n_target_tokens: examples.iter().map(|e| e.n_targets()).sum(),
        n_tokens: examples.iter().map(|e| e.len()).sum(),
    })
}
