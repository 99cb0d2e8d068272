#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on the GPU machine, which has Python + PyTorch (CUDA),
# nvcc and cmake but no Node.js and no package registry (see docs/gpu.md):
#   .gpu/node.xz               this machine's Node binary (self-contained: only libc/libstdc++)
#   .gpu/node_modules.tar.xz   the packages to build the addon (node-addon-api,
#                              node-api-headers) and to run the tests and benchmarks (jest,
#                              ts-jest, typescript, tsx and the toolkit's runtime dependencies),
#                              each with its dependency closure
#   .gpu/manifest.txt          what was packed, from which commit, and the sizes
# The addon is not packed: it is built there against the GPU machine's libtorch. sharp and
# vega are left out (image folders and plots are not exercised there).
# Everything lands in one folder that git ignores; the device tool carries it (`carry: [".gpu"]`)
# and allows 64 MiB in all, which this script checks.
#
# Usage: bash scripts/gpu-pack.sh [--list]    (--list: print the packages and exit)
# SIGNIN_GPU_PACK_DIR overrides the folder (default .gpu).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${SIGNIN_GPU_PACK_DIR:-.gpu}"
limit=$((64 * 1024 * 1024))
roots=(node-addon-api node-api-headers jest ts-jest typescript tsx pino pino-pretty zod commander cli-progress node-gyp-build)
log() { echo "gpu-pack: $*" >&2; }

[[ -d node_modules ]] || { log "node_modules is missing: run scripts/setup.sh first"; exit 1; }

# Each root package and everything it depends on, as folders under node_modules (npm's nested
# node_modules resolve like Node's require: the nearest one up the tree).
closure="$(node - "${roots[@]}" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const root = process.cwd();
const seen = new Set();
function find(name, from) {
  for (let d = from; ; ) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (d === root) return null;
    d = path.dirname(d);
    if (path.basename(d) === 'node_modules') d = path.dirname(d);
  }
}
function walk(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies, ...pj.peerDependencies })) {
    const d = find(dep, dir);
    if (d) walk(d);
  }
}
for (const name of process.argv.slice(2)) {
  const d = find(name, root);
  if (!d) { console.error(`gpu-pack: ${name} is not installed in node_modules`); process.exit(1); }
  walk(d);
}
// A nested folder travels with its parent: list only the outermost ones.
const dirs = [...seen].map((d) => path.relative(root, d)).sort();
console.log(dirs.filter((d) => !dirs.some((o) => o !== d && d.startsWith(o + path.sep))).join('\n'));
JS
)"
if [[ "${1:-}" == --list ]]; then
  echo "$closure"
  exit 0
fi

mkdir -p "$dir"
node_bin="$(readlink -f "$(command -v node)")"
# Only system libraries may be linked: the GPU machine has its own libc and libstdc++.
if ldd "$node_bin" | grep -v -E '(linux-vdso|ld-linux|lib(c|m|dl|pthread|rt|stdc\+\+|gcc_s)\.so)' | grep -q '=>'; then
  log "$node_bin links libraries beyond libc/libstdc++ (ldd below); carry them too or use a self-contained Node"
  ldd "$node_bin" >&2
  exit 1
fi
if [[ ! -f "$dir/node.xz" || "$node_bin" -nt "$dir/node.xz" ]]; then
  log "compressing $node_bin ($(node -v))"
  xz -T2 -6 -c "$node_bin" > "$dir/node.xz.tmp" && mv "$dir/node.xz.tmp" "$dir/node.xz"
fi
log "packing $(wc -l <<<"$closure") package folders"
# shellcheck disable=SC2086
tar -cf - $closure | xz -T2 -6 > "$dir/node_modules.tar.xz.tmp" && mv "$dir/node_modules.tar.xz.tmp" "$dir/node_modules.tar.xz"

total=$(du -cb "$dir/node.xz" "$dir/node_modules.tar.xz" | tail -1 | cut -f1)
{
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "node: $(node -v) ($node_bin, $(stat -c %s "$node_bin") bytes, $(stat -c %s "$dir/node.xz") compressed)"
  echo "node_modules.tar.xz: $(stat -c %s "$dir/node_modules.tar.xz") bytes, roots: ${roots[*]}"
  echo "total: $total bytes (limit $limit)"
  echo "packages:"
  echo "$closure"
} > "$dir/manifest.txt"
log "$dir: $total bytes in all ($(( total * 100 / limit ))% of the 64 MiB carry limit)"
if (( total > limit )); then
  log "over the 64 MiB limit"
  exit 1
fi
