#!/usr/bin/env bash
# Launch → first drawn title frame, and idle CPU use of the arcade's title screen.
# Not a test: run by hand (or in CI for a record). Usage:
#   benches/bench-startup.sh [RUNS] [IDLE_SECONDS]
# Needs a display; without one it uses xvfb-run (WGPU_BACKEND=vulkan picks Mesa's lavapipe there).
set -euo pipefail
runs="${1:-3}"
idle="${2:-10}"
bin="${LORA_ARCADE_BIN:-${CARGO_TARGET_DIR:-target}/release/lora-arcade}"
if [[ ! -x "$bin" ]]; then
    echo "build first: cargo build --release (or set LORA_ARCADE_BIN)" >&2
    exit 1
fi
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
wrap=()
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    wrap=(xvfb-run -a -s "-screen 0 1280x720x24")
fi
for i in $(seq "$runs"); do
    echo "# run $i"
    LORA_ARCADE_DATA_DIR="$data" "${wrap[@]}" "$bin" play --bench-startup --idle-seconds "$idle" --lang en
done
