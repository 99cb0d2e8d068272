#!/usr/bin/env bash
# Prepares a checkout to run: system packages, node_modules, the native addon, dist/.
# Idempotent and cheap when nothing changed (~2 s): `bash scripts/setup.sh` (or `source` it).
# Called by scripts/test.sh (npm test), scripts/main.sh and .ci/run.
#
#  1. apt: libtorch-dev libgloo-dev python3-torch python3-torchvision dataset-fashion-mnist libopenblas0-openmp libjpeg-dev.
#     (libjpeg-dev: libjpeg-turbo's headers, for the addon's JPEG decode path in ImageFolder; the
#     addon builds without them and then decodes with sharp.)
#     (libgloo-dev: the Gloo headers that libtorch's c10d ProcessGroupGloo.hpp includes; without
#     them native/distributed/ builds without c10d and initProcessGroup reports it.)
#     (Debian's libtorch calls BLAS through libblas.so.3, which is the slow reference BLAS unless
#     OpenBLAS is installed: linear layers ran ~50x faster with it. The OpenMP flavour shares
#     libtorch's OpenMP thread pool instead of oversubscribing the cores.) Installed when
#     missing and we are root (apt-get update only when apt does not know a package); otherwise
#     the exact command is printed and setup fails. SIGNIN_SKIP_APT=1 skips this step (a libtorch
#     given by LIBTORCH / Torch_DIR, or a machine without apt).
#  2. npm ci, when node_modules is missing or package-lock.json is newer than
#     node_modules/.package-lock.json. --ignore-scripts: the package's own `install` script
#     (node-gyp-build) would compile a second copy of the addon with node-gyp; step 3 builds it.
#  3. The addon, with cmake-js into build-cmake/ (`npm run build:native`), every time: it is
#     incremental (ninja; ~0.5 s when nothing changed), it notices any changed or removed source,
#     it builds the CUDA kernels where libtorch has CUDA, and src/native/load.ts tries it first.
#     node-gyp is not used here because `npm run prebuild` (prebuildify) always does a full
#     `node-gyp rebuild` in build/ and moves the result away, so build/ cannot be a cache.
#  4. dist/ (`npm run build:ts`) when dist/index.js is older than src/ or the tsconfigs. A failure
#     is only a warning here: `npm run typecheck` reports the same errors and the pack test fails.
# Thread counts are left to the application (setNumThreads / SIGNIN_TORCH_THREADS if it reads one).

_signin_setup() (
  set -euo pipefail
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  log() { echo "setup: $*" >&2; }

  # 1. System packages.
  local pkgs=(libtorch-dev libgloo-dev python3-torch python3-torchvision dataset-fashion-mnist libopenblas0-openmp libjpeg-dev)
  if [[ "${SIGNIN_SKIP_APT:-}" != 1 ]] && command -v dpkg-query >/dev/null; then
    local missing=() p
    for p in "${pkgs[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]})); then
      if [[ "$(id -u)" != 0 ]]; then
        log "missing system packages: ${missing[*]}. Install them with:"
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
      fi
      for p in "${missing[@]}"; do
        if ! apt-cache show "$p" >/dev/null 2>&1; then
          log "apt-get update (apt does not know $p yet)"
          apt-get update -q >&2
          break
        fi
      done
      log "apt-get install ${missing[*]}"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    fi
  elif [[ "${SIGNIN_SKIP_APT:-}" != 1 ]]; then
    log "no dpkg here: not checking system packages (libtorch is located by LIBTORCH / Torch_DIR / python3)"
  fi

  # 2. node_modules.
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci"
    local t=$SECONDS
    npm ci --ignore-scripts --no-audit --no-fund >&2
    log "npm ci done in $((SECONDS - t)) s"
  fi

  # node-gyp (prebuildify, the node-gyp-build fallback) reads headers from here, never downloads.
  if [[ -z "${npm_config_nodedir:-}" && -f /usr/include/node/node_api.h ]]; then export npm_config_nodedir=/usr; fi

  # 3. The native addon (incremental).
  log "native addon: cmake-js compile -O build-cmake"
  local cmlog t=$SECONDS
  cmlog="$(mktemp)"
  if ! npx --no-install cmake-js compile -O build-cmake >"$cmlog" 2>&1; then
    cat "$cmlog" >&2
    rm -f "$cmlog"
    log "the native build failed (output above)"
    exit 1
  fi
  rm -f "$cmlog"
  [[ -f build-cmake/Release/signin_torch.node ]] || { log "cmake-js did not produce build-cmake/Release/signin_torch.node"; exit 1; }
  log "native addon up to date ($((SECONDS - t)) s)"

  # 4. dist/.
  if [[ -f src/index.ts ]]; then
    local stale=0
    if [[ ! -f dist/index.js ]]; then
      stale=1
    elif [[ -n "$(find src tsconfig.json tsconfig.build.json -newer dist/index.js -print -quit 2>/dev/null)" ]]; then
      stale=1
    fi
    if ((stale)); then
      log "npm run build:ts"
      npm run --silent build:ts >&2 || log "WARNING: npm run build:ts failed; dist/ is stale"
    fi
  fi
  log "ok"
)

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _signin_setup "$@"
  return $?
fi
_signin_setup "$@"
