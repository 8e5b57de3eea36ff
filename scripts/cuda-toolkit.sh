#!/usr/bin/env bash
# A CUDA compiler and the libraries candle links, from NVIDIA's PyPI wheels (no system CUDA
# toolkit, nothing outside the package registries), matched to this machine's NVIDIA driver.
# Prints the environment for `cargo build --features cuda`:
#   eval "$(scripts/cuda-toolkit.sh)"
# Idempotent: the toolkit is kept in $LORA_ARCADE_CUDA_DIR (default ~/.cache/lora-arcade/cuda).
#
# Which toolkit: CUDA 13.0 (the release tested on an H200 with driver 580), whose PTX every CUDA 13
# driver runs. NVIDIA publishes nvcc on PyPI only from CUDA 13 on (the cu12 "nvcc" wheels hold
# ptxas alone), so an older driver needs a system CUDA 12 toolkit or a driver update.
# For tests: NVIDIA_SMI names the nvidia-smi to ask (a fake one), CUDA_COMPUTE_CAP overrides the GPU's.
set -euo pipefail

smi="${NVIDIA_SMI:-nvidia-smi}"
python="${PYTHON:-python3}"
base="${LORA_ARCADE_CUDA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lora-arcade/cuda}"

driver_cuda="$("$smi" | grep -oE 'CUDA Version: *[0-9]+\.[0-9]+' | grep -oE '[0-9]+\.[0-9]+' | head -1 || true)"
if [[ -z "$driver_cuda" ]]; then
    echo "error: could not read the driver's CUDA version from '$smi'" >&2
    exit 1
fi
major="${driver_cuda%%.*}"
cap="${CUDA_COMPUTE_CAP:-$("$smi" --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')}"

if ((major < 13)); then
    echo "error: the driver supports CUDA $driver_cuda, and PyPI has a CUDA compiler only for CUDA 13." \
        "Install the CUDA 12 toolkit (nvcc) or update the NVIDIA driver to 580 or newer." >&2
    exit 1
fi
version="13.0"
wheels=(nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
    nvidia-cublas==13.0.0.19 nvidia-curand==10.4.0.35)

root="$base/$version"
if [[ ! -x "$root/bin/nvcc" ]]; then
    echo "installing the CUDA $version compiler and libraries from PyPI into $root (~1 GB, once)..." >&2
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$work/wheels" "${wheels[@]}" >&2
    "$python" -m pip install --quiet --no-deps --no-index --target "$work/site" "$work"/wheels/*.whl >&2
    # The wheels share one tree (nvidia/cu13): copy it out laid out like /usr/local/cuda. Hard
    # links, not symbolic ones: nvcc finds its headers and nvvm from its own path.
    rm -rf "$root.partial"
    mkdir -p "$root.partial"
    for package in "$work"/site/nvidia/*/; do
        cp -al "$package". "$root.partial/"
    done
    # The unversioned names the linker asks for.
    for lib in cudart cublas cublasLt curand nvrtc; do
        real="$(find "$root.partial/lib" -maxdepth 1 -name "lib$lib.so.*" | sort | head -1)"
        [[ -n "$real" ]] && ln -sf "$(basename "$real")" "$root.partial/lib/lib$lib.so"
    done
    ln -sfn lib "$root.partial/lib64"
    # The driver library comes from the driver; link against it by its unversioned name.
    driver_lib="$(ldconfig -p 2>/dev/null | grep -oE '/[^ ]*/libcuda\.so\.1$' | head -1 || true)"
    if [[ -n "$driver_lib" ]]; then
        ln -sf "$driver_lib" "$root.partial/lib/libcuda.so"
    fi
    rm -rf "$root"
    mv "$root.partial" "$root"
fi

echo "export CUDA_HOME='$root'"
echo "export CUDA_ROOT='$root'"
echo "export NVCC='$root/bin/nvcc'"
echo "export PATH='$root/bin':\"\$PATH\""
echo "export LD_LIBRARY_PATH='$root/lib':\"\${LD_LIBRARY_PATH:-}\""
echo "export CUDA_COMPUTE_CAP='$cap'"
echo "export CUDARC_CUDA_VERSION=13000"
