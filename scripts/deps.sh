#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages LoRA Arcade needs to build and test, skipping what is there.
#   scripts/deps.sh          build packages (the game: audio, input, windowing)
#   scripts/deps.sh --test   plus what the tests need (Xvfb + Mesa's software Vulkan, pip for the test model)
set -euo pipefail
packages=(pkg-config libasound2-dev libudev-dev libwayland-dev libxkbcommon-dev libopenblas-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(xvfb xauth mesa-vulkan-drivers python3 python3-pip unzip)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null; then
  echo "error: cargo not found. Install Rust 1.95 or newer (https://rustup.rs) and run this again." >&2
  exit 1
fi
