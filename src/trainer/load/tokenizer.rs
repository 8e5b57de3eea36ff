//! The tokenizer plus what training and chat need around it: special token ids, whether a
//! BOS is added, and the chat template.

use std::path::Path;

use serde_json::Value;
use tokenizers::Tokenizer;

use super::LoadError;
use crate::trainer::config::LlamaConfig;

/// A tokenizer with the model's special tokens and chat template.
#[derive(Debug, Clone)]
pub struct TokenizerBundle {
    pub tokenizer: Tokenizer,
    pub bos_id: Option<u32>,
    /// Every id that ends a generation (`eos_token`, plus extra ids from config.json).
    pub eos_ids: Vec<u32>,
    pub pad_id: Option<u32>,
    /// Jinja chat template (Hugging Face conventions); `None` → callers fall back to ChatML.
    pub chat_template: Option<String>,
    /// Whether the tokenizer's post-processor puts BOS in front when encoding with special
    /// tokens (measured on the tokenizer itself, so it never disagrees with what it does).
    pub add_bos: bool,
}

impl TokenizerBundle {
    /// Builds a bundle from a tokenizer and the special tokens given by name, measuring
    /// `add_bos` on the tokenizer's own post-processor.
    pub(crate) fn assemble(
        tokenizer: Tokenizer,
        bos_id: Option<u32>,
        eos_ids: Vec<u32>,
        pad_id: Option<u32>,
        chat_template: Option<String>,
    ) -> Self {
        let add_bos = match (bos_id, tokenizer.encode("a", true)) {
            (Some(bos), Ok(enc)) => enc.get_ids().first() == Some(&bos),
            _ => false,
        };
        TokenizerBundle { tokenizer, bos_id, eos_ids, pad_id, chat_template, add_bos }
    }

    /// Token ids of `text`; `add_special_tokens` runs the post-processor (BOS where the model
    /// wants one). Special tokens written in the text (`<|im_start|>`) are always recognised.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, tokenizers::Error> {
        Ok(self.tokenizer.encode(text, add_special_tokens)?.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, tokenizers::Error> {
        self.tokenizer.decode(ids, skip_special_tokens)
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    pub fn token_text(&self, id: u32) -> Option<String> {
        self.tokenizer.id_to_token(id)
    }

    /// The id batches are padded with: the pad token, else the first EOS, else 0. Padding is
    /// always masked (label −100, never attended to as a target) so the choice is harmless.
    pub fn padding_id(&self) -> u32 {
        self.pad_id.or_else(|| self.eos_ids.first().copied()).unwrap_or(0)
    }

    pub fn is_eos(&self, id: u32) -> bool {
        self.eos_ids.contains(&id)
    }

    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// Reads `tokenizer.json` and, when present, `tokenizer_config.json` (special tokens,
    /// chat template) from a Hugging Face folder. `config` supplies bos/eos ids the tokenizer
    /// config leaves out.
    pub fn from_hf_folder(dir: &Path, config: &LlamaConfig) -> Result<Self, LoadError> {
        let tokenizer_path = dir.join("tokenizer.json");
        if !tokenizer_path.is_file() {
            return Err(LoadError::NotFound { path: tokenizer_path });
        }
        let tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| LoadError::Tokenizer { path: tokenizer_path.clone(), message: e.to_string() })?;

        let config_path = dir.join("tokenizer_config.json");
        let tok_config: Value = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path).map_err(LoadError::io(&config_path))?;
            serde_json::from_str(&text).map_err(|source| LoadError::Json { path: config_path.clone(), source })?
        } else {
            Value::Null
        };

        let lookup = |field: &str| -> Result<Option<u32>, LoadError> {
            match special_token_content(&tok_config, field) {
                None => Ok(None),
                Some(content) => tokenizer.token_to_id(&content).map(Some).ok_or_else(|| {
                    LoadError::invalid(&config_path, field, format!("token {content:?} is not in tokenizer.json"))
                }),
            }
        };
        let bos_id = lookup("bos_token")?.or(config.bos_token_id);
        let mut eos_ids: Vec<u32> = lookup("eos_token")?.into_iter().collect();
        // generation_config.json often lists more end ids (Llama 3: <|eot_id|>, <|eom_id|>).
        let generation_path = dir.join("generation_config.json");
        let mut extra_eos = config.eos_token_ids();
        if generation_path.is_file() {
            let text = std::fs::read_to_string(&generation_path).map_err(LoadError::io(&generation_path))?;
            let generation: Value = serde_json::from_str(&text)
                .map_err(|source| LoadError::Json { path: generation_path.clone(), source })?;
            match generation.get("eos_token_id") {
                Some(Value::Number(n)) => extra_eos.extend(n.as_u64().map(|id| id as u32)),
                Some(Value::Array(ids)) => extra_eos.extend(ids.iter().filter_map(Value::as_u64).map(|id| id as u32)),
                _ => {}
            }
        }
        for id in extra_eos {
            if !eos_ids.contains(&id) {
                eos_ids.push(id);
            }
        }
        let pad_id = lookup("pad_token")?;
        let chat_template = match chat_template_from_config(&tok_config, &config_path)? {
            Some(t) => Some(t),
            None => {
                // Newer transformers save the template beside the config.
                let jinja = dir.join("chat_template.jinja");
                if jinja.is_file() {
                    Some(std::fs::read_to_string(&jinja).map_err(LoadError::io(&jinja))?)
                } else {
                    None
                }
            }
        };
        Ok(Self::assemble(tokenizer, bos_id, eos_ids, pad_id, chat_template))
    }
}

/// `"bos_token": "<s>"` or `"bos_token": {"content": "<s>", ...}` (an AddedToken); null → None.
fn special_token_content(config: &Value, field: &str) -> Option<String> {
    match config.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// `chat_template` is a string, or a list of `{name, template}` of which "default" is used.
fn chat_template_from_config(config: &Value, path: &Path) -> Result<Option<String>, LoadError> {
    match config.get("chat_template") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => {
            let named = |name: &str| items.iter().find(|item| item.get("name").and_then(Value::as_str) == Some(name));
            let chosen = named("default").or_else(|| items.first());
            Ok(chosen.and_then(|item| item.get("template")).and_then(Value::as_str).map(str::to_string))
        }
        Some(other) => Err(LoadError::invalid(
            path,
            "chat_template",
            format!("expected a string or a list of {{name, template}}, found {other}"),
        )),
    }
}
