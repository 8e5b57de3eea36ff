#!/usr/bin/env bash
# Regenerates the README screenshots: every screen in Spanish and English, 1280×720.
# Usage: docs/screenshots/make.sh [path/to/lora-arcade]   (a release build makes the boss pictures faster)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/lora-arcade}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
wrap=()
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    wrap=(xvfb-run -a -s "-screen 0 1280x720x24")
fi
# boss-fight and boss-after train for real (a release build takes ~1 and ~2 minutes each on 2 cores);
# they need the model scripts/fetch-model.sh fetches.
# SKIP_TRAINING=1 leaves the two boss pictures that train for real as they are.
screens=(title howto map lesson quiz matrix nf4 results gameover boss)
[[ -n "${SKIP_TRAINING:-}" ]] || screens+=(boss-fight boss-after)
for screen in "${screens[@]}"; do
    for lang in es en; do
        LORA_ARCADE_DATA_DIR="$data" WGPU_BACKEND="${WGPU_BACKEND:-vulkan}" "${wrap[@]}" \
            "$bin" play --screen "$screen" --lang "$lang" --screenshot "$here/$screen-$lang.png"
    done
done
# Presenter mode (the projector's layout, speaker notes), in Spanish as the class is given.
for screen in lesson matrix results map; do
    LORA_ARCADE_DATA_DIR="$data" WGPU_BACKEND="${WGPU_BACKEND:-vulkan}" "${wrap[@]}" \
        "$bin" play --screen "$screen" --lang es --present --screenshot "$here/$screen-present-es.png"
done
