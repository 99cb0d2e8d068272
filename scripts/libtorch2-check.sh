#!/usr/bin/env bash
# The addon against a libtorch 2.x, on this CPU machine (issue 16). The GPU machine builds it
# against its PyTorch 2.x, and a compile error found there costs a whole scarce GPU session. This
# finds a CPU torch 2.x wheel, unpacks its libtorch (include/, lib/, share/cmake/) into
# build-torch2/libtorch/, and runs scripts/gpu-check.sh's configure, build, smoke and tests steps
# against it (its dry run with SIGNIN_GPU_TORCH_DIR: the GPU machine's cmake and ninja invocation,
# without CUDA). Then it parses the CUDA-only code (#ifdef SIGNIN_WITH_CUDA) against the wheel's
# c10/cuda headers, with the same flags, and compiles the .cu kernels with that toolkit's nvcc,
# where a CUDA toolkit is here; with NCCL_INCLUDE_DIR (a folder holding nccl.h) it also parses
# native/distributed/nccl.cc, the ProcessGroupNCCL code the GPU machine builds.
#
#   bash scripts/libtorch2-check.sh          the native, amp, distributed, vit and leak suites
#   bash scripts/libtorch2-check.sh --quick  only the suites of the version-dependent code
#                                            (what test/compat/libtorch2.test.ts runs in CI)
#   bash scripts/libtorch2-check.sh --find   print the wheel it would use; exit 3, saying why on
#                                            stderr, when there is none
#
# The wheel: $SIGNIN_TORCH2_WHEEL, else the newest torch-2.* wheel for this machine in the folders
# of $PIP_FIND_LINKS. Nothing is downloaded. Everything it writes is under build-torch2/ (ignored):
# libtorch/, build/ (incremental), out/ (or $OUT): gpu-check's summary.tsv (plus a cuda-syntax
# line), logs/ and jest.json. The PyTorch references of the tests stay /usr/bin/python3's torch
# 1.13. Exit 0 when every step passed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-full}"

find_wheel() {
  if [[ -n "${SIGNIN_TORCH2_WHEEL:-}" ]]; then
    [[ -f "$SIGNIN_TORCH2_WHEEL" ]] && { echo "$SIGNIN_TORCH2_WHEEL"; return 0; }
    echo "SIGNIN_TORCH2_WHEEL=$SIGNIN_TORCH2_WHEEL is not a file" >&2
    return 3
  fi
  local dir found=()
  shopt -s nullglob
  for dir in ${PIP_FIND_LINKS:-}; do
    dir="${dir#file://}"
    [[ -d "$dir" ]] && found+=("$dir"/torch-2.*linux*_"$(uname -m)".whl)
  done
  shopt -u nullglob
  if ((${#found[@]} == 0)); then
    echo "no torch 2.x wheel for linux $(uname -m) in \$PIP_FIND_LINKS (${PIP_FIND_LINKS:-unset}); set SIGNIN_TORCH2_WHEEL" >&2
    return 3
  fi
  printf '%s\n' "${found[@]}" | awk -F/ '{ print $NF "\t" $0 }' | sort -V | tail -n 1 | cut -f 2
}

case "$mode" in
  --find) find_wheel; exit ;;
  --quick)
    tests="test/native/aten.test.ts test/native/dispatch.test.ts test/native/cpu-allocator.test.ts
      test/native/tensor.test.ts test/native/sgd.test.ts test/amp/autocast.test.ts test/distributed/ddp.test.ts
      test/vit/layers.test.ts" ;;
  full)
    # README block 1 compares the addon's libtorch version with /usr/bin/python3's torch (1.13).
    tests="test/native test/amp test/distributed test/vit test/leak --testPathIgnorePatterns docs/readme" ;;
  *) echo "usage: bash scripts/libtorch2-check.sh [--quick | --find]" >&2; exit 2 ;;
esac

wheel="$(find_wheel)" || exit 3
work="$root/build-torch2"
libtorch="$work/libtorch"
export OUT="${OUT:-$work/out}"
mkdir -p "$OUT/logs"
echo "libtorch2-check: $wheel" >&2

# Unpacked once per wheel; a wheel stores no symlinks, and dlopen needs no exec bit.
stamp="$(basename "$wheel") $(stat -c %s "$wheel")"
if [[ "$(cat "$libtorch/.wheel" 2>/dev/null)" != "$stamp" ]]; then
  echo "libtorch2-check: unpacking into $libtorch" >&2
  rm -rf "$libtorch"
  /usr/bin/python3 - "$wheel" "$libtorch" <<'PY' || exit 1
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(("torch/include/", "torch/lib/", "torch/share/cmake/"))])
PY
  echo "$stamp" > "$libtorch/.wheel"
fi

SIGNIN_GPU_DRY_RUN=1 SIGNIN_GPU_TORCH_DIR="$libtorch/torch/share/cmake/Torch" SIGNIN_GPU_BUILD_DIR="$work/build" \
  SIGNIN_GPU_STEPS="configure build smoke tests" SIGNIN_GPU_TESTS="$tests" \
  SIGNIN_GPU_BOX_SCALE="${SIGNIN_GPU_BOX_SCALE:-10}" SIGNIN_GPU_BUDGET_S="${SIGNIN_GPU_BUDGET_S:-7200}" \
  bash scripts/gpu-check.sh
rc=$?

# The CUDA-only code compiles only on the GPU machine; its torch API use is checked here against
# the 2.x headers (the CPU wheel ships c10/cuda/ and ATen/cuda/, but not the generated
# cuda_cmake_macros.h, which C10_CUDA_NO_CMAKE_CONFIGURE_FILE skips).
cuda_inc=""
for dir in ${CUDA_HOME:+"$CUDA_HOME/include"} "$(dirname "$(command -v nvcc || echo /nonexistent)")/../include" /usr/local/cuda/include; do
  [[ -f "$dir/cuda_runtime_api.h" ]] && { cuda_inc="$dir"; break; }
done
t0=$SECONDS
if [[ -z "$cuda_inc" ]]; then
  status="skipped (no CUDA toolkit headers)"
else
  status=ok
  : > "$OUT/logs/cuda-syntax.log"
  # Parses $1 with the compile command CMake wrote for $2 (default $1), the CUDA defines and the
  # extra flags $3. Returns 1 only when there is no such command.
  parse() {
    local src="$1" like="${2:-$1}" cmd
    cmd="$(node -e '
      const [db, like, src] = process.argv.slice(1);
      const e = require(db).find((x) => x.file.endsWith("/" + like));
      if (!e) process.exit(1);
      console.log(e.command.replace(/ -o \S+/, "").replace(e.file, e.file.slice(0, -like.length) + src));
    ' "$work/build/compile_commands.json" "$like" "$src")" || { status="failed (no compile command for $like)"; return 1; }
    echo "$src" >> "$OUT/logs/cuda-syntax.log"
    if ! (cd "$work/build" && eval "$cmd -fsyntax-only -DSIGNIN_WITH_CUDA -DSIGNIN_WITH_NCCL -DSIGNIN_REQUIRE_KNOWN_REDUCER -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE -isystem $cuda_inc ${3:-}") \
      >> "$OUT/logs/cuda-syntax.log" 2>&1; then
      status="failed ($src)"
    fi
  }
  # process_group.cc and reducer.cc: their c10d halves, which a build with NCCL compiles (the
  # wheel has no Gloo headers, so its own build leaves them out).
  for src in $(grep -rl '^#ifdef SIGNIN_WITH_CUDA' native --include='*.cc') native/distributed/process_group.cc native/distributed/reducer.cc; do
    parse "$src" || break
  done
  # nccl.cc itself needs NCCL's nccl.h (NCCL_INCLUDE_DIR: pip's nvidia-nccl, or one generated from
  # NVIDIA/nccl's src/nccl.h.in) and ATen's CUDAContext.h, which includes the cuBLAS, cuSPARSE and
  # cuSOLVER headers for their handle types. A toolkit without those libraries gets opaque
  # typedefs in their place: enough to parse c10d's NCCL API use, never to link.
  if [[ $status == ok && -f "${NCCL_INCLUDE_DIR:-}/nccl.h" ]]; then
    stubs="$work/build/cuda-math-stubs"
    mkdir -p "$stubs"
    stub() { [[ -f "$cuda_inc/$1" ]] || printf '#pragma once\n%s\n' "$2" > "$stubs/$1"; }
    stub cublas_v2.h 'typedef struct cublasContext* cublasHandle_t; typedef int cublasStatus_t;'
    stub cublasLt.h 'typedef struct cublasLtContext* cublasLtHandle_t;'
    stub cusparse.h 'typedef struct cusparseContext* cusparseHandle_t; typedef int cusparseStatus_t;'
    stub cusolverDn.h 'typedef struct cusolverDnContext* cusolverDnHandle_t;'
    stub cusolver_common.h 'typedef int cusolverStatus_t;'
    # Not in the build without nccl.h: process_group.cc's flags are its own.
    parse native/distributed/nccl.cc native/distributed/process_group.cc "-isystem $NCCL_INCLUDE_DIR -isystem $stubs"
  else
    echo "native/distributed/nccl.cc: skipped (no nccl.h in NCCL_INCLUDE_DIR=${NCCL_INCLUDE_DIR:-unset})" >> "$OUT/logs/cuda-syntax.log"
  fi
  # The kernels themselves: nvcc compiles the .cu files against the same headers (no link: the
  # wheel has no libtorch_cuda).
  nvcc="$cuda_inc/../bin/nvcc"
  if [[ $status == ok && -x "$nvcc" ]]; then
    for src in $(find native -name '*.cu'); do
      echo "$src (nvcc)" >> "$OUT/logs/cuda-syntax.log"
      if ! "$nvcc" -std=c++17 -arch="sm_${SIGNIN_CUDA_ARCH:-90}" -c "$src" -o "$work/build/cuda-check.o" -Inative \
        -I"$libtorch/torch/include" -I"$libtorch/torch/include/torch/csrc/api/include" \
        -DSIGNIN_WITH_CUDA -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE >> "$OUT/logs/cuda-syntax.log" 2>&1; then
        status="failed ($src)"
      fi
    done
    rm -f "$work/build/cuda-check.o"
  fi
fi
printf 'cuda-syntax\t%s\t%s\n' "$status" "$((SECONDS - t0))" >> "$OUT/summary.tsv"
echo "libtorch2-check: cuda-syntax: $status" >&2
[[ $status == ok || $status == skipped* ]] || { tail -n 30 "$OUT/logs/cuda-syntax.log" >&2; rc=1; }
cat "$OUT/summary.tsv" >&2
exit "$rc"
