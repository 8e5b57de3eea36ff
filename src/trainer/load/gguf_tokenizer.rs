//! Rebuilds a Hugging Face tokenizer from a GGUF's `tokenizer.ggml.*` metadata, by writing
//! the `tokenizer.json` the original model shipped with (byte-level BPE, the pre-tokenizer
//! llama.cpp names in `tokenizer.ggml.pre`, added special tokens) and parsing it.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use serde_json::{Value as Json, json};
use tokenizers::Tokenizer;

use super::LoadError;
use super::tokenizer::TokenizerBundle;

// llama.cpp's token types (`llama_token_type`).
const TOKEN_TYPE_UNKNOWN: i64 = 2;
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_REGEX: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// `tokenizer.ggml.pre` values we can reproduce exactly.
pub const SUPPORTED_PRE_TOKENIZERS: &[&str] =
    &["default", "gpt2", "gpt-2", "smollm", "starcoder", "refact", "llama-bpe", "llama3", "qwen2"];

fn invalid(path: &Path, field: &str, message: impl Into<String>) -> LoadError {
    LoadError::invalid(path, field, message)
}

/// The GGUF array `key`, each item converted by `item` (`None` if the key is absent).
fn array<T>(
    path: &Path,
    meta: &HashMap<String, Value>,
    key: &str,
    item: impl Fn(&Value) -> Result<T, String>,
) -> Result<Option<Vec<T>>, LoadError> {
    let Some(value) = meta.get(key) else {
        return Ok(None);
    };
    let items = value.to_vec().map_err(|e| invalid(path, key, e.to_string()))?;
    items
        .iter()
        .map(|v| item(v).map_err(|message| invalid(path, key, message)))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn required<T>(path: &Path, key: &str, array: Option<Vec<T>>) -> Result<Vec<T>, LoadError> {
    array.ok_or_else(|| invalid(path, key, "missing from GGUF metadata"))
}

fn string_array(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Vec<String>, LoadError> {
    let strings = array(path, meta, key, |v| v.to_string().cloned().map_err(|e| e.to_string()))?;
    required(path, key, strings)
}

fn int_array(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Option<Vec<i64>>, LoadError> {
    array(path, meta, key, |v| match v {
        Value::I32(x) => Ok(*x as i64),
        Value::I64(x) => Ok(*x),
        other => other.to_u64().map(|x| x as i64).map_err(|e| e.to_string()),
    })
}

fn float_array(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Vec<f32>, LoadError> {
    let floats = array(path, meta, key, |v| match v {
        Value::F32(x) => Ok(*x),
        Value::F64(x) => Ok(*x as f32),
        other => Err(format!("expected floats, found {other:?}")),
    })?;
    required(path, key, floats)
}

/// BPE merges implied by a SentencePiece vocabulary, exactly as transformers'
/// `generate_merges` derives them: every split of a token into two vocabulary tokens is a
/// merge ranked by the whole token's score (best first; ties: longer left, then longer right
/// part first, else vocabulary order).
fn merges_from_scores(tokens: &[String], scores: &[f32]) -> Vec<(String, String)> {
    // token → id with later duplicates winning; scores likewise, but iteration follows each
    // token's first appearance (Python dict semantics).
    let mut id_of: HashMap<&str, usize> = HashMap::with_capacity(tokens.len());
    let mut score_of: HashMap<&str, f32> = HashMap::with_capacity(tokens.len());
    let mut order: Vec<&str> = Vec::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        if id_of.insert(token, id).is_none() {
            order.push(token);
        }
        score_of.insert(token, scores[id]);
    }
    let mut merges: Vec<(&str, &str, f32)> = Vec::new();
    for token in order {
        let score = score_of[token];
        let mut local: Vec<(&str, &str, f32)> = token
            .char_indices()
            .skip(1)
            .map(|(i, _)| (&token[..i], &token[i..]))
            .filter(|(l, r)| id_of.contains_key(l) && id_of.contains_key(r))
            .map(|(l, r)| (l, r, score))
            .collect();
        local.sort_by_key(|(l, r, _)| (id_of[l], id_of[r]));
        merges.extend(local);
    }
    let key = |m: &(&str, &str, f32)| (m.2, m.0.chars().count(), m.1.chars().count());
    // Stable sort, descending: equal keys keep their order, as Python's sorted(reverse=True).
    merges.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        kb.0.total_cmp(&ka.0).then(kb.1.cmp(&ka.1)).then(kb.2.cmp(&ka.2))
    });
    merges.into_iter().map(|(l, r, _)| (l.to_string(), r.to_string())).collect()
}

fn opt_id(path: &Path, meta: &HashMap<String, Value>, key: &str) -> Result<Option<u32>, LoadError> {
    match meta.get(key) {
        None => Ok(None),
        Some(Value::I32(x)) if *x < 0 => Ok(None),
        Some(v) => v.to_u64().map(|x| Some(x as u32)).map_err(|e| invalid(path, key, e.to_string())),
    }
}

fn opt_bool(meta: &HashMap<String, Value>, key: &str) -> Option<bool> {
    meta.get(key).and_then(|v| v.to_bool().ok())
}

/// The pre-tokenizer (and normalizer, and whether merges are skipped for whole-vocab words)
/// that llama.cpp's `tokenizer.ggml.pre` stands for, as Hugging Face tokenizer.json parts.
fn pre_tokenizer_for(path: &Path, pre: &str) -> Result<(Json, Json, bool), LoadError> {
    let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
    let split =
        |regex: &str| json!({"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": false});
    Ok(match pre {
        "default" | "gpt2" | "gpt-2" => (Json::Null, byte_level(true), false),
        // StarCoder-family vocabularies (SmolLM, Refact) split every digit first.
        "smollm" | "starcoder" | "refact" => (
            Json::Null,
            json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true}, byte_level(true)]}),
            false,
        ),
        "llama-bpe" | "llama3" => {
            (Json::Null, json!({"type": "Sequence", "pretokenizers": [split(LLAMA3_REGEX), byte_level(false)]}), true)
        }
        "qwen2" => (
            json!({"type": "NFC"}),
            json!({"type": "Sequence", "pretokenizers": [split(QWEN2_REGEX), byte_level(false)]}),
            false,
        ),
        other => {
            return Err(invalid(
                path,
                "tokenizer.ggml.pre",
                format!(
                    "pre-tokenizer {other:?} is not supported (supported: {})",
                    SUPPORTED_PRE_TOKENIZERS.join(", ")
                ),
            ));
        }
    })
}

/// Builds the tokenizer bundle from GGUF metadata.
pub(super) fn tokenizer_from_metadata(
    path: &Path,
    meta: &HashMap<String, Value>,
) -> Result<TokenizerBundle, LoadError> {
    let model = meta
        .get("tokenizer.ggml.model")
        .and_then(|v| v.to_string().ok())
        .ok_or_else(|| invalid(path, "tokenizer.ggml.model", "missing from GGUF metadata"))?
        .clone();
    let tokens = string_array(path, meta, "tokenizer.ggml.tokens")?;
    let token_types = int_array(path, meta, "tokenizer.ggml.token_type")?;
    if let Some(types) = &token_types
        && types.len() != tokens.len()
    {
        return Err(invalid(
            path,
            "tokenizer.ggml.token_type",
            format!("{} entries for {} tokens", types.len(), tokens.len()),
        ));
    }
    // Later duplicates win, as in llama.cpp's token_to_id map and transformers' converter.
    let mut vocab = serde_json::Map::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        vocab.insert(token.clone(), json!(id));
    }

    let (normalizer, pre_tokenizer, decoder, model_json, default_add_bos) = match model.as_str() {
        "gpt2" => {
            let merges = string_array(path, meta, "tokenizer.ggml.merges")?;
            let pre = meta
                .get("tokenizer.ggml.pre")
                .and_then(|v| v.to_string().ok())
                .map(String::as_str)
                .unwrap_or("default");
            let (normalizer, pre_tokenizer, ignore_merges) = pre_tokenizer_for(path, pre)?;
            let merges: Vec<Json> = merges
                .iter()
                .map(|m| {
                    // A merge is "left right"; a left part never starts with a space in
                    // byte-level BPE, so the first space after position 0 separates the two.
                    let split_at = m.char_indices().skip(1).find(|(_, c)| *c == ' ').map(|(i, _)| i);
                    match split_at {
                        Some(i) => Ok(json!([&m[..i], &m[i + 1..]])),
                        None => {
                            Err(invalid(path, "tokenizer.ggml.merges", format!("merge {m:?} has no separating space")))
                        }
                    }
                })
                .collect::<Result<_, _>>()?;
            let decoder =
                json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true});
            let model_json = json!({
                "type": "BPE", "dropout": null,
                // Byte-level BPE covers every byte, so an unknown token never occurs.
                "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false,
                "byte_fallback": false, "ignore_merges": ignore_merges,
                "vocab": vocab, "merges": merges,
            });
            (normalizer, pre_tokenizer, decoder, model_json, false)
        }
        "llama" => {
            // SentencePiece BPE (Llama 2, TinyLlama, Mistral v0.1): merges are not stored,
            // they follow from the scores; bytes missing from the vocabulary fall back to <0xNN>.
            let scores = float_array(path, meta, "tokenizer.ggml.scores")?;
            if scores.len() != tokens.len() {
                return Err(invalid(
                    path,
                    "tokenizer.ggml.scores",
                    format!("{} scores for {} tokens", scores.len(), tokens.len()),
                ));
            }
            let merges: Vec<Json> =
                merges_from_scores(&tokens, &scores).into_iter().map(|(l, r)| json!([l, r])).collect();
            let add_prefix_space = opt_bool(meta, "tokenizer.ggml.add_space_prefix").unwrap_or(true);
            let pre_tokenizer = json!({"type": "Metaspace", "replacement": "\u{2581}", "split": false,
                "prepend_scheme": if add_prefix_space { "first" } else { "never" }});
            let mut decoders = vec![
                json!({"type": "Replace", "pattern": {"String": "\u{2581}"}, "content": " "}),
                json!({"type": "ByteFallback"}),
                json!({"type": "Fuse"}),
            ];
            if add_prefix_space {
                decoders.push(json!({"type": "Strip", "content": " ", "start": 1, "stop": 0}));
            }
            let model_json = json!({
                "type": "BPE", "dropout": null, "unk_token": null,
                "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": true,
                "byte_fallback": true, "ignore_merges": false,
                "vocab": vocab, "merges": merges,
            });
            (Json::Null, pre_tokenizer, json!({"type": "Sequence", "decoders": decoders}), model_json, true)
        }
        other => {
            return Err(invalid(
                path,
                "tokenizer.ggml.model",
                format!(
                    "tokenizer {other:?} is not supported from GGUF (supported: byte-level BPE \"gpt2\", SentencePiece BPE \"llama\"); load the Hugging Face folder instead"
                ),
            ));
        }
    };

    let bos_id = opt_id(path, meta, "tokenizer.ggml.bos_token_id")?;
    let eos_id = opt_id(path, meta, "tokenizer.ggml.eos_token_id")?;
    let pad_id = opt_id(path, meta, "tokenizer.ggml.padding_token_id")?;
    let mut eos_ids: Vec<u32> = eos_id.into_iter().collect();
    for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
        if let Some(id) = opt_id(path, meta, key)?
            && !eos_ids.contains(&id)
        {
            eos_ids.push(id);
        }
    }
    let add_bos = opt_bool(meta, "tokenizer.ggml.add_bos_token").unwrap_or(default_add_bos);
    let add_eos = opt_bool(meta, "tokenizer.ggml.add_eos_token").unwrap_or(false);
    for (key, id) in [
        ("tokenizer.ggml.bos_token_id", bos_id),
        ("tokenizer.ggml.eos_token_id", eos_id),
        ("tokenizer.ggml.padding_token_id", pad_id),
    ] {
        if let Some(id) = id
            && id as usize >= tokens.len()
        {
            return Err(invalid(path, key, format!("id {id} is outside the vocabulary of {}", tokens.len())));
        }
    }

    let mut added_tokens = Vec::new();
    for (id, token) in tokens.iter().enumerate() {
        let token_type = token_types.as_ref().map(|t| t[id]).unwrap_or(1);
        if matches!(token_type, TOKEN_TYPE_UNKNOWN | TOKEN_TYPE_CONTROL | TOKEN_TYPE_USER_DEFINED) {
            added_tokens.push(json!({
                "id": id, "content": token, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true,
            }));
        }
    }

    let post_processor = if add_bos || add_eos {
        let token = |id: Option<u32>, field: &str| -> Result<String, LoadError> {
            id.map(|i| tokens[i as usize].clone())
                .ok_or_else(|| invalid(path, field, "needed by add_*_token but missing"))
        };
        let mut single = Vec::new();
        let mut specials = serde_json::Map::new();
        if add_bos {
            let bos = token(bos_id, "tokenizer.ggml.bos_token_id")?;
            single.push(json!({"SpecialToken": {"id": bos, "type_id": 0}}));
            specials.insert(bos.clone(), json!({"id": bos, "ids": [bos_id], "tokens": [bos]}));
        }
        single.push(json!({"Sequence": {"id": "A", "type_id": 0}}));
        if add_eos {
            let eos = token(eos_id, "tokenizer.ggml.eos_token_id")?;
            single.push(json!({"SpecialToken": {"id": eos, "type_id": 0}}));
            specials.insert(eos.clone(), json!({"id": eos, "ids": [eos_id], "tokens": [eos]}));
        }
        let mut pair = single.clone();
        pair.extend(single.iter().map(|piece| match piece.get("Sequence") {
            Some(_) => json!({"Sequence": {"id": "B", "type_id": 1}}),
            None => piece.clone(),
        }));
        json!({"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials})
    } else {
        json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true})
    };

    let tokenizer_json = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added_tokens,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor,
        "decoder": decoder,
        "model": model_json,
    });
    let tokenizer = Tokenizer::from_bytes(serde_json::to_vec(&tokenizer_json).expect("JSON values serialise"))
        .map_err(|e| LoadError::Tokenizer { path: path.to_path_buf(), message: e.to_string() })?;

    let chat_template = meta.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned();
    let bundle = TokenizerBundle::assemble(tokenizer, bos_id, eos_ids, pad_id, chat_template);
    debug_assert_eq!(bundle.add_bos, add_bos && bos_id.is_some());
    Ok(bundle)
}
