#!/usr/bin/env bash
# Run the game from a fresh machine: installs the system packages, builds (release) and plays.
# Arguments go to `lora-arcade play`, e.g. scripts/play.sh --lang en --present
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec cargo run --release -- play "$@"
