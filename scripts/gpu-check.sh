#!/usr/bin/env bash
# The whole GPU check in one call, on the lent GPU machine (docs/gpu.md: Python
# + PyTorch 2.x with CUDA, nvcc, cmake, ninja; no Node.js, no registry). Run from the repo root
# with .gpu/ carried (scripts/gpu-pack.sh):
#   bash scripts/gpu-check.sh            writes everything under $OUT
# Steps (each time-boxed; a failure is recorded and the next step still runs):
#   env        GPU, driver, torch, nvcc, cmake versions
#   node       unpack .gpu/node.xz
#   modules    unpack .gpu/node_modules.tar.xz into node_modules/ (when missing)
#   configure  cmake against the Python torch's libtorch (torch.utils.cmake_prefix_path), CUDA on
#   build      ninja: the addon, build-gpu/signin_torch.node (again without NCCL if nccl.cc fails)
#   smoke      load it: libtorch version, CUDA devices, a tensor round trip through the device
#   tests      jest: test/cuda (CUDA against CPU, NCCL) and test/amp
#   bench-*    bench/gpu-train.ts, bench/gpu-signin-step.ts and their PyTorch twins
#   report     $OUT/BENCHMARKS.gpu.md from the benchmark JSON
# $OUT/summary.tsv lists each step: name, status (ok / failed (rc) / timed out / skipped), seconds.
# The exit status is 0 when every step that ran passed.
#
# SIGNIN_GPU_DRY_RUN=1 runs the same steps on this (CPU) machine: Debian's libtorch, the local
# Node when .gpu/ is absent, /usr/bin/python3, tiny benchmark sizes; CUDA-only checks are
# skipped (the CUDA tests skip themselves with the reason). Other knobs: SIGNIN_GPU_BUDGET_S
# (total seconds, default 480; 4x in a dry run), SIGNIN_GPU_BOX_SCALE (multiplies every step's
# time box; default 1, 4 in a dry run), SIGNIN_GPU_STEPS (space-separated subset of the steps),
# SIGNIN_GPU_BUILD_DIR (default build-gpu, build-gpu-dry in a dry run), SIGNIN_GPU_ADDON (an
# addon built elsewhere, for the steps after build), SIGNIN_GPU_TESTS (jest arguments; default
# test/cuda and test/amp without gpu-check.test.ts), SIGNIN_CUDA_ARCH (default 90: the H200), PYTHON,
# SIGNIN_GPU_TORCH_DIR (dry run only: the Torch_DIR to build against instead of Debian's; set by
# scripts/libtorch2-check.sh, which runs this configure and build against a pip wheel's libtorch 2.x).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dry="${SIGNIN_GPU_DRY_RUN:-0}"
[[ "$dry" == 1 ]] || dry=0
if [[ -z "${OUT:-}" ]]; then
  OUT="$(mktemp -d /tmp/signin-gpu-out.XXXXXX)"
  echo "gpu-check: OUT is not set; writing to $OUT" >&2
fi
mkdir -p "$OUT/logs" "$OUT/bench"
# A dry run compiles and benchmarks on a small shared CPU machine: its time boxes are 4x longer.
scale="${SIGNIN_GPU_BOX_SCALE:-$([[ $dry == 1 ]] && echo 4 || echo 1)}"
budget="${SIGNIN_GPU_BUDGET_S:-$((480 * scale))}"
deadline=$((SECONDS + budget))
steps="${SIGNIN_GPU_STEPS:-env node modules configure build smoke tests bench-train bench-signin report}"
build="${SIGNIN_GPU_BUILD_DIR:-$root/build-gpu$([[ $dry == 1 ]] && echo -dry)}"
# The unpacked Node: inside the (ignored) build folder, never in the carried .gpu/.
work="$build/work"
addon="${SIGNIN_GPU_ADDON:-$build/signin_torch.node}"
# gpu-check.test.ts runs this script's dry run: not from inside it.
tests="${SIGNIN_GPU_TESTS:-test/cuda test/amp --testPathIgnorePatterns gpu-check}"
tiny=""
[[ $dry == 1 ]] && tiny="--tiny"
if [[ $dry == 1 ]]; then python="${PYTHON:-/usr/bin/python3}"; else python="${PYTHON:-python3}"; fi
# The Node found before this script puts $work/bin first on PATH (a dry run's fallback).
local_node="$(readlink -f "$(command -v node 2>/dev/null)" 2>/dev/null || true)"
summary="$OUT/summary.tsv"
printf 'step\tstatus\tseconds\n' > "$summary"
failures=0

# A step: name, its time box in seconds, then the command. Output goes to $OUT/logs/<name>.log.
step() {
  local name="$1" box=$(($2 * scale))
  shift 2
  if ! grep -qw -- "$name" <<<"$steps"; then return 0; fi
  local left=$((deadline - SECONDS))
  ((box > left)) && box=$left
  if ((box < 5)); then
    printf '%s\tskipped (no time left)\t0\n' "$name" >> "$summary"
    echo "gpu-check: $name skipped: no time left" >&2
    failures=$((failures + 1))
    return 0
  fi
  local t0=$SECONDS rc
  echo "gpu-check: $name (up to ${box} s)" >&2
  timeout -k 10 "$box" bash -c "$*" > "$OUT/logs/$name.log" 2>&1
  rc=$?
  local status=ok
  if ((rc == 124 || rc == 137)); then
    status="timed out after ${box} s"
  elif ((rc != 0)); then
    status="failed ($rc)"
  fi
  [[ $status == ok ]] || failures=$((failures + 1))
  printf '%s\t%s\t%s\n' "$name" "$status" "$((SECONDS - t0))" >> "$summary"
  echo "gpu-check: $name: $status ($((SECONDS - t0)) s)" >&2
  [[ $status == ok ]] || tail -n 30 "$OUT/logs/$name.log" >&2
}

step_env() {
  echo "dry run: $dry"
  uname -a
  nproc
  if [[ $dry == 0 ]]; then nvidia-smi || return 1; fi
  "$python" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count())'
  command -v nvcc && nvcc --version | tail -n 2
  cmake --version | head -n 1
  command -v ninja && ninja --version
}

step_node() {
  mkdir -p "$work/bin"
  if [[ -f .gpu/node.xz ]]; then
    xz -dc .gpu/node.xz > "$work/bin/node.tmp" && chmod +x "$work/bin/node.tmp" && mv "$work/bin/node.tmp" "$work/bin/node"
  elif [[ $dry == 1 && -x "$local_node" && "$local_node" != "$work/bin/node" ]]; then
    echo "no .gpu/node.xz (run scripts/gpu-pack.sh to check the packed one): using $local_node"
    ln -sf "$local_node" "$work/bin/node"
  else
    echo "no .gpu/node.xz: run scripts/gpu-pack.sh on the development machine and carry .gpu"
    return 1
  fi
  "$work/bin/node" -v
}

step_modules() {
  if [[ -d node_modules/jest && -d node_modules/node-addon-api ]]; then
    echo "node_modules present; not unpacking"
    [[ -f .gpu/node_modules.tar.xz ]] && echo "packed: $(tar -tJf .gpu/node_modules.tar.xz | grep -c '/package.json$') package.json files"
    return 0
  fi
  [[ -f .gpu/node_modules.tar.xz ]] || { echo "no .gpu/node_modules.tar.xz: run scripts/gpu-pack.sh and carry .gpu"; return 1; }
  tar -xJf .gpu/node_modules.tar.xz
  ls node_modules | wc -l
}

# The CUDA toolkit as nvcc reports it ("#$ TOP=" of a dry run): the nvcc on PATH may be a wrapper
# script outside the toolkit (here /usr/local/bin/nvcc), from whose folder Torch's FindCUDA would
# take /usr/local for the toolkit, find no CUDA headers there and stop the configure.
cuda_toolkit_top() {
  local top
  top="$("$1" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -n 1)"
  [[ -n "$top" ]] || top="$(dirname "$(readlink -f "$1")")/.."
  readlink -f "$top"
}

# Libraries that libtorch's CMake config makes every user link, and that the CUDA finders look
# for in the toolkit only: libnvrtc (TORCH_LIBRARIES) and cuBLAS, cuBLASLt, cuFFT, cuRAND
# (torch_cuda's public CUDA dependencies). A toolkit of nvcc and cudart alone, such as the
# development machine's (assembled from NVIDIA's pip packages), has none of them: CMake then
# refuses to generate (CUDA_nvrtc_LIBRARY NOTFOUND; target CUDA::cublas not found). pip's CUDA
# wheels carry each beside torch (site-packages/nvidia/<package>/lib) under its versioned name
# only, which find_library does not take, and a -D of the path is undone by Torch's FindCUDA
# (it clears its library cache entries on a first configure). So: links named both ways in
# <dir> for each library the toolkit lacks and the wheel has; prints <dir> for
# CMAKE_LIBRARY_PATH, nothing when no link was needed (args: site-packages, toolkit, dir).
pip_cuda_libs() {
  local site="$1" tk="$2" dir="$3" lib so found made=""
  for lib in nvrtc cublas cublasLt cufft curand; do
    found=""
    for so in "$tk"/lib64/lib"$lib".so* "$tk"/lib/lib"$lib".so* "$tk"/targets/*/lib/lib"$lib".so*; do
      [[ -e "$so" ]] && found=1
    done
    [[ -n "$found" ]] && continue
    so="$(ls "$site"/nvidia/*/lib/lib"$lib".so.* 2>/dev/null | sort | head -n 1)"
    [[ -n "$so" ]] || continue
    mkdir -p "$dir" && ln -sf "$so" "$dir/lib$lib.so" && ln -sf "$so" "$dir/$(basename "$so")" && made=1
  done
  [[ -n "$made" ]] && echo "$dir"
  return 0
}

step_configure() {
  local args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
    "-DCMAKE_JS_INC=$root/node_modules/node-api-headers/include")
  if [[ $dry == 0 ]]; then
    local prefix
    prefix="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')" || return 1
    # Torch's CMake config (Caffe2 public/cuda.cmake) sets CMAKE_CUDA_ARCHITECTURES to OFF and adds
    # -gencode flags for TORCH_CUDA_ARCH_LIST; unset, it probes the GPU and, where that fails, adds
    # "common" archs down to sm_50, which CUDA 13's nvcc rejects (seen with the 2.13 wheel's config).
    local arch="${SIGNIN_CUDA_ARCH:-90}" digits
    digits="${arch%%[!0-9]*}"
    args+=("-DTorch_DIR=$prefix/Torch" -DCMAKE_CUDA_ARCHITECTURES="$arch"
      "-DTORCH_CUDA_ARCH_LIST=${digits:0:${#digits}-1}.${digits: -1}${arch#"$digits"}")
    local nvcc top libs
    if nvcc="$(command -v nvcc)"; then
      top="$(cuda_toolkit_top "$nvcc")"
      args+=("-DCMAKE_CUDA_COMPILER=$top/bin/nvcc" "-DCUDA_TOOLKIT_ROOT_DIR=$top")
      libs="$(pip_cuda_libs "$(readlink -f "$prefix/../../..")" "$top" "$build/pip-cuda-libs")"
      [[ -n "$libs" ]] && args+=("-DCMAKE_LIBRARY_PATH=$libs")
    fi
  else
    # The python3 first on PATH may be another torch than Debian's: build against the system one,
    # or against SIGNIN_GPU_TORCH_DIR (scripts/libtorch2-check.sh: a pip wheel's CPU libtorch 2.x).
    export SIGNIN_TORCH_NO_PYTHON=1
    [[ -n "${SIGNIN_GPU_TORCH_DIR:-}" ]] && args+=("-DTorch_DIR=$SIGNIN_GPU_TORCH_DIR")
  fi
  echo "cmake ${args[*]}"
  local out rc
  out="$(cmake "${args[@]}" 2>&1)"
  rc=$?
  echo "$out"
  ((rc == 0)) || return 1
  if [[ $dry == 0 ]] && ! grep -q 'building the CUDA kernels' <<<"$out"; then
    echo "configured WITHOUT CUDA: the CUDA kernels and tests would not run"
    return 1
  fi
}

step_build() {
  local nccl=ok
  if ! cmake --build "$build" -j "$(nproc)"; then
    # The NCCL backend (native/distributed/nccl.cc) is compiled only on this machine: should it
    # fail, build without it so that the CUDA tests and benchmarks still run, and report the step.
    grep -q '^SIGNIN_NCCL_INCLUDE_DIR:PATH=/' "$build/CMakeCache.txt" || return 1
    echo "gpu-check: the build failed; retrying without the NCCL backend (-DSIGNIN_NCCL=OFF)"
    cmake -S . -B "$build" -DSIGNIN_NCCL=OFF && cmake --build "$build" -j "$(nproc)" || return 1
    nccl="failed: built without NCCL (the NCCL tests skip)"
  fi
  [[ -f "$addon" ]] || { echo "no $addon after the build"; return 1; }
  ls -l "$addon"
  echo "NCCL backend: $nccl"
  [[ $nccl == ok ]]
}

step_smoke() {
  node -e '
    const b = require(process.env.SIGNIN_TORCH_ADDON);
    const n = b.cudaDeviceCount();
    console.log(JSON.stringify({ torch: b.torchVersion(), cudaDevices: n }));
    if (process.env.DRY !== "1" && n < 1) { console.error("no CUDA device visible to the addon"); process.exit(1); }
  ' || return 1
  node node_modules/tsx/dist/cli.mjs -e '
    import { randn, tidy, cuda } from "./src";
    tidy(() => {
      const x = randn([1000]);
      const dev = cuda.isAvailable() ? "cuda" : "cpu";
      const back = x.to(dev).mul(2).to("cpu");
      const err = back.sub(x.mul(2)).abs().max().item();
      console.log(JSON.stringify({ device: dev, roundTripMaxError: err }));
      if (err !== 0) process.exit(1);
    });
  '
}

step_tests() {
  # shellcheck disable=SC2086
  node node_modules/jest/bin/jest.js $tests --ci --json --outputFile="$OUT/jest.json"
}

step_bench_train() {
  node node_modules/tsx/dist/cli.mjs bench/gpu-train.ts --out "$OUT/bench/train-ours.json" $tiny || return 1
  "$python" bench/pytorch/gpu_train.py --out "$OUT/bench/train-pytorch.json" $tiny
}

step_bench_signin() {
  node node_modules/tsx/dist/cli.mjs bench/gpu-signin-step.ts --out "$OUT/bench/signin-ours.json" $tiny || return 1
  "$python" bench/pytorch/gpu_signin_step.py --out "$OUT/bench/signin-pytorch.json" $tiny
}

step_report() {
  node node_modules/tsx/dist/cli.mjs bench/gpu-report.ts "$OUT/bench" > "$OUT/BENCHMARKS.gpu.md" && cat "$OUT/BENCHMARKS.gpu.md"
}

export -f cuda_toolkit_top pip_cuda_libs step_env step_node step_modules step_configure step_build step_smoke step_tests step_bench_train \
  step_bench_signin step_report
export OUT root dry work build addon python tests tiny local_node
export PATH="$work/bin:$PATH"
export SIGNIN_TORCH_ADDON="$addon"
export SIGNIN_TORCH_PYTHON="$python"
export DRY="$dry"
export SIGNIN_GPU_DRY_RUN="$dry"

step env 60 step_env
step node 60 step_node
step modules 90 step_modules
step configure 120 step_configure
step build 330 step_build
step smoke 60 step_smoke
step tests 200 step_tests
step bench-train 240 step_bench_train
step bench-signin 90 step_bench_signin
step report 30 step_report

echo "gpu-check: $failures step(s) not ok; summary in $summary" >&2
cat "$summary" >&2
((failures == 0))
