#!/usr/bin/env python3
"""PEFT reference for the trainer's adapter files.

  gen_peft_ref.py reference OUT_DIR
      Builds a tiny random LlamaForCausalLM (the trainer's fixture `tiny_config`: 2 layers,
      hidden 64, 4 heads / 2 kv heads, intermediate 128, vocab 265), wraps it with
      LoraConfig(r=4, lora_alpha=8, target_modules=all seven projections), save_pretrained, and
      writes OUT_DIR/adapter_config.json + OUT_DIR/keys.json ([[key, shape], ...] sorted).
  gen_peft_ref.py check ADAPTER_DIR
      Loads OUR adapter onto the same tiny base with peft.PeftModel.from_pretrained and prints
      missing/unexpected keys as JSON (a manual check: `lora-arcade train` output works too).
  gen_peft_ref.py loss MODEL_DIR [SEQ] > REFERENCE.json
      transformers' causal-LM loss of a Hugging Face folder on the fixed batch below, or on two
      rows of SEQ tokens. The committed pairs: tests/data/peft_ref/tiny-model → loss.json, and
      tests/data/peft_ref/tiny-llama3 (Llama 3.1 RoPE scaling) with SEQ 200 → llama3_loss.json;
      the folders are the trainer's fixtures as tests/trainer_model.rs writes them when run with
      LORA_ARCADE_BLESS=1.
Needs a Python with torch, transformers, peft (e.g. python3 -m venv ~/.cache/lora-arcade/venv;
~/.cache/lora-arcade/venv/bin/pip install torch transformers peft safetensors).
"""
import json, os, sys, tempfile

import torch
from safetensors import safe_open
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def tiny_base():
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=265, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
                      rope_theta=10000.0, tie_word_embeddings=True)
    return LlamaForCausalLM(cfg)


def reference(out):
    os.makedirs(out, exist_ok=True)
    model = get_peft_model(tiny_base(), LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0,
                                                   target_modules=TARGETS, task_type="CAUSAL_LM"))
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        with open(os.path.join(d, "adapter_config.json")) as f:
            config = json.load(f)
        with safe_open(os.path.join(d, "adapter_model.safetensors"), "pt") as f:
            keys = sorted([k, list(f.get_slice(k).get_shape())] for k in f.keys())
            metadata = f.metadata()
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    with open(os.path.join(out, "keys.json"), "w") as f:
        json.dump({"keys": keys, "metadata": metadata}, f, indent=1)
    print(f"wrote {out}: {len(keys)} tensors")


def check(adapter_dir):
    base = tiny_base()
    model = PeftModel.from_pretrained(base, adapter_dir)
    from peft.utils import load_peft_weights, set_peft_model_state_dict
    weights = load_peft_weights(adapter_dir)
    result = set_peft_model_state_dict(model, weights)
    report = {"missing_lora_keys": [k for k in result.missing_keys if "lora_" in k],
              "unexpected_keys": list(result.unexpected_keys),
              "r": model.peft_config["default"].r,
              "lora_alpha": model.peft_config["default"].lora_alpha,
              "target_modules": sorted(model.peft_config["default"].target_modules)}
    print(json.dumps(report))
    ok = not report["missing_lora_keys"] and not report["unexpected_keys"]
    sys.exit(0 if ok else 1)


# The batch of tests/trainer_model.rs `tiny_batch`: two rows of 8, -100 = not predicted.
BATCH = {"input_ids": [[1, 5, 9, 13, 17, 21, 3, 7], [2, 40, 41, 42, 43, 44, 45, 46]],
         "labels": [[-100, -100, 9, 13, 17, 21, 3, 7], [-100, 40, 41, 42, 43, -100, 45, 46]]}


def loss(model_dir, seq=None):
    """transformers' own loss (shift + mean over labels != -100) on BATCH (or two rows of `seq`
    tokens), printed as the JSON the Rust test compares with."""
    batch = BATCH
    if seq is not None:
        rows = [[(7 * i + 3 + 11 * r) % 265 for i in range(int(seq))] for r in range(2)]
        batch = {"input_ids": rows, "labels": [[-100] + row[1:] for row in rows]}
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        out = model(input_ids=torch.tensor(batch["input_ids"]), labels=torch.tensor(batch["labels"]))
    print(json.dumps({**batch, "loss": out.loss.item(), "made_by": "scripts/gen_peft_ref.py loss",
                      "transformers": __import__("transformers").__version__}))


if __name__ == "__main__":
    {"reference": reference, "check": check, "loss": loss}[sys.argv[1]](*sys.argv[2:])
