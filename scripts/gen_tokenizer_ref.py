#!/usr/bin/env python3
"""Reference data for the GGUF loader tests, made with Hugging Face transformers.

Writes into tests/data/tokenizer/:
  ref_tokens.json   test strings -> token ids (with and without special tokens) and decodes,
                    plus chat-template renderings of a few conversations;
  ref_spm_tiny.json a tiny SentencePiece ("llama") vocabulary and how transformers tokenizes
                    with it once written to a GGUF (merges derived from scores, byte fallback);
  ref_logits.json   the first 8 logits at the last position for a short prompt, and probes of
                    a few dequantized weights (to check the q/k un-permutation directly).

transformers (>= 4.45) reads a GGUF (`gguf_file=`), dequantizes it and rebuilds its tokenizer.
One correction: transformers 5.x has no split rule for llama.cpp's pre-tokenizer "smollm", so
it falls back to plain GPT-2 byte-level splitting. llama.cpp (LLAMA_VOCAB_PRE_TYPE_SMOLLM) and
SmolLM2's own tokenizer.json split every digit first (`Digits(individual_digits=True)`), so we
set that pre-tokenizer before taking the reference; the JSON records which strings the
uncorrected tokenizer would have tokenized differently (none, for SmolLM2's vocabulary: it has
no multi-digit tokens, so the correction is a safeguard rather than a change).

Usage: venv/bin/python scripts/gen_tokenizer_ref.py [path/to/model.gguf]
"""
import json
import os
import sys
from pathlib import Path

import torch
from tokenizers import pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "tokenizer"
DEFAULT_MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

TEST_STRINGS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "LoRA freezes the pretrained weights and learns a low-rank update ΔW = B·A.",
    "¿Qué es QLoRA? Cuantización de 4 bits (NF4) con adaptadores de rango bajo: ¡mañana será más fácil!",
    "Ñandú, pingüino, acción, corazón, élite, ÁÉÍÓÚ áéíóú ü ñ",
    "def lora_forward(x, W, A, B, alpha, r):\n    return x @ W.T + (alpha / r) * (x @ A.T) @ B.T\n",
    "fn main() {\n\tlet v: Vec<u32> = (0..10).collect();\n\tprintln!(\"{:?}\", v);\n}",
    "Emoji: 🤖🦙🔥 👩‍💻 ✨ and flags 🇪🇸🇬🇧",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHola<|im_end|>\n<|im_start|>assistant\n",
    "Text with <|endoftext|> in the middle and <|im_end|> too.",
    "   leading spaces, double  spaces,   triple   and tabs\t\there   ",
    "line one\n\nline three\n\n\n\nafter four newlines \r\n windows",
    "Numbers: 0 7 42 1234567890 3.14159 -2.5e-3 65B 48GB 4.127 bits 2024-11-28 1,000,000",
    "r=16, alpha=32 -> s = alpha/r = 2; 4.88 M of 139.4 M parameters ≈ 3.5 %",
    "中文，日本語のテキスト、한국어 텍스트, русский текст, ελληνικά, עברית, العربية",
    "can't won't I'm you're they've we'll she'd IT'S",
    "",
    " ",
    "a",
]

CONVERSATIONS = [
    [{"role": "user", "content": "¿Qué es LoRA?"}],
    [
        {"role": "system", "content": "Eres un profesor."},
        {"role": "user", "content": "What does r mean?"},
        {"role": "assistant", "content": "The rank of the update ΔW = BA."},
        {"role": "user", "content": "¿Y alpha?"},
        {"role": "assistant", "content": "El factor de escala: s = α / r."},
    ],
]

PROMPT = "The capital of France is"


SPM_PIECES = ["\u2581", "e", "l", "o", "h", "\u2581h", "ll", "\u2581he", "llo", "\u2581hello", "w", "r", "d",
              "\u2581w", "or", "\u2581wor", "ld", "\u2581world", "a", "\u2581a", "n", "i", "\u00f1", "\u2581\u00f1", "an",
              "\u2581\u00f1an", "du", "\u00fa", "\u2581\u2581", "he", "lo", "wor"]
SPM_STRINGS = ["hello world", " hello", "hello  world", "\u00f1and\u00fa", "emoji \U0001f999", "<s>hello</s> world",
               "\n", "", "a ni\u00f1o"]


def spm_reference():
    """A SentencePiece vocabulary small enough to commit, tokenized by transformers' GGUF path."""
    import tempfile

    import gguf

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + SPM_PIECES
    types = [2, 3, 3] + [6] * 256 + [1] * len(SPM_PIECES)
    scores = [0.0] * 259 + [-float(i) for i in range(len(SPM_PIECES))]
    with tempfile.TemporaryDirectory() as tmp:
        writer = gguf.GGUFWriter(f"{tmp}/spm.gguf", "llama")
        writer.add_block_count(1)
        writer.add_context_length(64)
        writer.add_embedding_length(8)
        writer.add_feed_forward_length(16)
        writer.add_head_count(2)
        writer.add_head_count_kv(2)
        writer.add_layer_norm_rms_eps(1e-5)
        writer.add_tokenizer_model("llama")
        writer.add_token_list(tokens)
        writer.add_token_scores(scores)
        writer.add_token_types(types)
        writer.add_bos_token_id(1)
        writer.add_eos_token_id(2)
        writer.add_unk_token_id(0)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file="spm.gguf")
    cases = [
        {
            "text": text,
            "ids": tok(text, add_special_tokens=False)["input_ids"],
            "ids_with_special_tokens": tok(text, add_special_tokens=True)["input_ids"],
        }
        for text in SPM_STRINGS
    ]
    return {"generator": "scripts/gen_tokenizer_ref.py", "tokens": tokens, "token_types": types, "scores": scores,
            "cases": cases}


def main():
    model_path = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LORA_ARCADE_GGUF", DEFAULT_MODEL))
    if not model_path.is_file():
        sys.exit(f"{model_path} not found: run scripts/fetch-model.sh")
    folder, name = str(model_path.parent), model_path.name

    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    uncorrected = [tok(s, add_special_tokens=False)["input_ids"] for s in TEST_STRINGS]
    backend = tok.backend_tokenizer
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
    )

    cases = []
    for text, before in zip(TEST_STRINGS, uncorrected):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        cases.append(
            {
                "text": text,
                "ids": ids,
                "ids_with_special_tokens": tok(text, add_special_tokens=True)["input_ids"],
                "decoded": tok.decode(ids, skip_special_tokens=False),
                "differs_without_digit_split": before != ids,
            }
        )
    renders = []
    for messages in CONVERSATIONS:
        for add_generation_prompt in (False, True):
            renders.append(
                {
                    "messages": messages,
                    "add_generation_prompt": add_generation_prompt,
                    "text": tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt),
                }
            )
    tokens = {
        "model": name,
        "generator": "scripts/gen_tokenizer_ref.py",
        "transformers": __import__("transformers").__version__,
        "tokenizers": __import__("tokenizers").__version__,
        "vocab_size": len(tok),
        "bos_token": tok.bos_token,
        "eos_token": tok.eos_token,
        "pad_token": tok.pad_token,
        "cases": cases,
        "chat_renders": renders,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ref_tokens.json").write_text(json.dumps(tokens, ensure_ascii=False, indent=1) + "\n")

    (OUT / "ref_spm_tiny.json").write_text(json.dumps(spm_reference(), ensure_ascii=False, indent=1) + "\n")

    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    ids = tok(PROMPT, add_special_tokens=True, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(ids).logits[0, -1]
    top = torch.topk(logits, 5)
    state = model.state_dict()
    cfg = model.config
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    probes = []
    for name_, rows in [
        ("model.embed_tokens.weight", [0, 1, 1000]),
        ("model.layers.0.self_attn.q_proj.weight", [0, 1, head_dim // 2, head_dim - 1, head_dim]),
        ("model.layers.0.self_attn.k_proj.weight", [0, 1, head_dim // 2, head_dim + 3]),
        ("model.layers.0.self_attn.v_proj.weight", [0, 5]),
        ("model.layers.0.self_attn.o_proj.weight", [0, 7]),
        ("model.layers.0.mlp.gate_proj.weight", [0]),
        ("model.layers.29.mlp.down_proj.weight", [3]),
        ("model.layers.0.input_layernorm.weight", None),
        ("model.norm.weight", None),
    ]:
        t = state[name_].float()
        probe = {"name": name_, "shape": list(t.shape), "sum": float(t.double().sum())}
        if rows is None:
            probe["first8"] = t[:8].tolist()
        else:
            probe["rows"] = {str(r): t[r, :8].tolist() for r in rows}
        probes.append(probe)
    ref = {
        "model": name,
        "generator": "scripts/gen_tokenizer_ref.py",
        "dtype": "float32",
        "prompt": PROMPT,
        "input_ids": ids[0].tolist(),
        "last_logits_first8": logits[:8].tolist(),
        "top5_ids": top.indices.tolist(),
        "top5_logits": top.values.tolist(),
        "top5_tokens": [tok.decode([i]) for i in top.indices.tolist()],
        "weight_probes": probes,
    }
    (OUT / "ref_logits.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {OUT}/ref_tokens.json and ref_logits.json; top-5 next tokens: {ref['top5_tokens']}")


if __name__ == "__main__":
    main()
