#!/usr/bin/env python3
"""Reference training losses of PyTorch + PEFT (LoRA) and PEFT + bitsandbytes (QLoRA) on CPU.

    gen_train_ref.py            (run from the repository root)

Reads the trainer's committed tiny fixture model (tests/data/peft_ref/tiny-model), makes a PEFT
LoRA adapter (r 4, alpha 8, all seven projections, dropout 0, PEFT's own init, torch seed 0) and
saves it untrained to tests/data/peft_ref/init-adapter. Then, from that same adapter, it trains
STEPS AdamW steps (lr LR, PyTorch's betas and eps, no weight decay, no clipping) on one fixed
batch, twice:
  - LoRA: the base in f32;
  - QLoRA: the base loaded with BitsAndBytesConfig(load_in_4bit, nf4, double quant, f32
    compute) on the CPU, as QLoRA does;
and writes the loss of every step to tests/data/peft_ref/train_ref.json. tests/trainer_qlora.rs
replays the same steps with our trainer and compares.

Needs torch, transformers, peft, bitsandbytes (CPU): e.g. python3 -m venv ~/.cache/lora-arcade/venv
&& ~/.cache/lora-arcade/venv/bin/pip install torch transformers peft bitsandbytes accelerate.
"""
import json, os

import torch
from transformers import BitsAndBytesConfig, LlamaForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model

REF = "tests/data/peft_ref"
MODEL = os.path.join(REF, "tiny-model")
INIT = os.path.join(REF, "init-adapter")
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
STEPS, LR = 6, 5e-3
# One batch of two sequences over the tiny vocabulary (265 tokens); -100 = not predicted.
IDS = [[1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 2],
       [1, 100, 7, 9, 200, 13, 17, 210, 3, 31, 37, 2, 0]]
LABELS = [[-100, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 2],
          [-100, -100, -100, 9, 200, 13, 17, 210, 3, 31, 37, 2, -100]]


def make_init_adapter():
    torch.manual_seed(0)
    base = LlamaForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=TARGETS, task_type="CAUSAL_LM")
    get_peft_model(base, cfg).save_pretrained(INIT)
    os.remove(os.path.join(INIT, "README.md"))  # a generated model card, not part of the adapter


def train(quantized):
    if quantized:
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.float32)
        base = LlamaForCausalLM.from_pretrained(MODEL, quantization_config=q, dtype=torch.float32, device_map="cpu")
    else:
        base = LlamaForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, INIT, is_trainable=True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=0.0)
    ids, labels = torch.tensor(IDS), torch.tensor(LABELS)
    losses = []
    for _ in range(STEPS):
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


def main():
    make_init_adapter()
    import bitsandbytes, peft, transformers
    out = {"made_by": "scripts/gen_train_ref.py", "steps": STEPS, "lr": LR,
           "input_ids": IDS, "labels": LABELS,
           "lora": train(False), "qlora": train(True),
           "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "peft": peft.__version__, "bitsandbytes": bitsandbytes.__version__}}
    with open(os.path.join(REF, "train_ref.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: out[k] for k in ("lora", "qlora")}))


if __name__ == "__main__":
    main()
