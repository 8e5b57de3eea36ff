#!/usr/bin/env bash
# Run every test from a fresh machine: system packages, the small real model the trainer tests use,
# then `cargo test` under a virtual display (screenshot tests) with Mesa's software Vulkan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
scripts/fetch-model.sh
export LORA_ARCADE_GGUF="${LORA_ARCADE_GGUF:-${LORA_ARCADE_MODELS_DIR:-$PWD/models}/SmolLM2-135M-Instruct.Q4_1.gguf}"
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
# Everything a test needs is installed above: a test that would skip for want of it fails instead.
export LORA_ARCADE_REQUIRE_ALL=1
exec xvfb-run -a -s "-screen 0 1280x720x24" cargo test "$@"
