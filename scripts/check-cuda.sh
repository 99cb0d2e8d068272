#!/usr/bin/env bash
# Compile check of the CUDA kernels (native/signin/signin_cuda.cu) with nvcc, without a GPU and
# without libtorch: the .cu includes no torch header. CI runs it when nvcc exists.
# Usage: scripts/check-cuda.sh [arch]   (default sm_90; also honours $NVCC and $CUDA_ARCH)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nvcc="${NVCC:-nvcc}"
arch="${1:-${CUDA_ARCH:-sm_90}}"
if ! command -v "$nvcc" >/dev/null 2>&1; then
  echo "check-cuda: nvcc not found (set NVCC or put it on PATH)" >&2
  exit 2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$nvcc" --version | tail -n 1
set -x
"$nvcc" -std=c++17 -O3 -arch="$arch" -Xcompiler -fPIC -Werror all-warnings \
  -I "$root/native" -c "$root/native/signin/signin_cuda.cu" -o "$tmp/signin_cuda.o"
set +x
# Every launcher that signin.cc calls must be defined in the object.
symbols="$(nm -C "$tmp/signin_cuda.o")"
for sym in SigninStepCuda SigninSplitCuda; do
  if ! grep -q " T .*kernels::$sym(" <<<"$symbols"; then
    echo "check-cuda: $sym is not defined in signin_cuda.o" >&2
    exit 1
  fi
done
echo "check-cuda: native/signin/signin_cuda.cu compiles for $arch ($(stat -c %s "$tmp/signin_cuda.o") bytes)"
