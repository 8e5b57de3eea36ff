#!/usr/bin/env bash
# Training throughput and peak memory: `lora-arcade bench` against PyTorch + PEFT (LoRA) or
# PEFT + bitsandbytes (QLoRA: NF4, double quantization) — ../shared/bench/peft_anchor.py — on the
# same shapes: SmolLM2-135M, r16 on all seven projections, f32, seq 128, batch 4, 10 timed steps,
# run alternately, ROUNDS times.
# A shared or virtual machine drifts by ±15 % over minutes, so compare the pairs taken back to
# back (and their medians), never figures from different hours. Not a test: run by hand.
#   benches/bench-vs-peft.sh [ROUNDS] [lora|qlora]   (default 3 rounds of LoRA; ~2-3 minutes a round)
# Needs: a release build (cargo build --release --no-default-features --bin lora-arcade, or set
# LORA_ARCADE_BIN) and a Python with torch, transformers and peft, plus bitsandbytes for QLoRA
# (PYTHON, default python3).
set -euo pipefail
rounds="${1:-3}"
method="${2:-lora}"
bin="${LORA_ARCADE_BIN:-${CARGO_TARGET_DIR:-target}/release/lora-arcade}"
python="${PYTHON:-python3}"
anchor="${PEFT_ANCHOR:-$(dirname "$0")/../../shared/bench/peft_anchor.py}"
if [[ ! -x "$bin" ]]; then
    echo "build first: cargo build --release --no-default-features --bin lora-arcade (or set LORA_ARCADE_BIN)" >&2
    exit 1
fi
if [[ ! -f "$anchor" ]]; then
    echo "peft_anchor.py not found at $anchor (set PEFT_ANCHOR)" >&2
    exit 1
fi
shape=(--seq 128 --batch 4 --dtype f32 --steps 10)
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for i in $(seq "$rounds"); do
    ours="$("$bin" bench --model smollm2-135m --method "$method" --rank 16 "${shape[@]}" --json | tail -n 1)"
    theirs="$("$python" "$anchor" --device cpu --model smollm2-135m --method "$method" "${shape[@]}" 2>/dev/null | tail -n 1)"
    printf '%s\n%s\n' "$ours" "$theirs" >> "$results"
    "$python" - "$ours" "$theirs" "$i" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"round {sys.argv[3]} ({ours['method']}): lora-arcade {ours['tokens_per_s']:.1f} tokens/s, {ours['peak_rss_mib']:.0f} MiB | "
      f"{theirs['framework']} {theirs['tokens_per_s']:.1f} tokens/s, {theirs['peak_rss_mib']:.0f} MiB | "
      f"ratio {ours['tokens_per_s'] / theirs['tokens_per_s']:.2f}")
PY
done
"$python" - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ours, theirs = rows[0::2], rows[1::2]
med = lambda rs, k: statistics.median(r[k] for r in rs)
ratios = [o["tokens_per_s"] / t["tokens_per_s"] for o, t in zip(ours, theirs)]
print(f"median ({ours[0]['method']}): lora-arcade {med(ours, 'tokens_per_s'):.1f} tokens/s ({med(ours, 'peak_rss_mib'):.0f} MiB), "
      f"{theirs[0]['framework']} {med(theirs, 'tokens_per_s'):.1f} tokens/s ({med(theirs, 'peak_rss_mib'):.0f} MiB), "
      f"ratio of pairs {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
PY
