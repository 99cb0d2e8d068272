#!/usr/bin/env node
// Locates libtorch for binding.gyp (node-gyp). The order follows architecture.md decision 6 and
// cmake/FindLibtorch.cmake: LIBTORCH / Torch_DIR from the environment, then a Python torch
// install's cmake prefix, then the system (Debian libtorch-dev). Nothing is ever downloaded.
//
//   node scripts/libtorch-paths.cjs include    include dirs, one per line (gyp <!@(...))
//   node scripts/libtorch-paths.cjs ldflags    -L and -Wl,-rpath for a non-system libtorch
//   node scripts/libtorch-paths.cjs libraries  -ltorch -ltorch_cpu -lc10
//   node scripts/libtorch-paths.cjs defines    _GLIBCXX_USE_CXX11_ABI=N, read from TorchConfig.cmake
//   node scripts/libtorch-paths.cjs describe   JSON: where libtorch was found and how
//
// SIGNIN_TORCH_NO_PYTHON=1 / SIGNIN_TORCH_NO_SYSTEM=1 skip those two steps (tests, bundled builds).
// When libtorch is not found it prints where it looked and the install command, and exits 1.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const SYSTEM_INCLUDE = '/usr/include';
const SYSTEM_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
const LIBRARIES = ['-ltorch', '-ltorch_cpu', '-lc10'];
const INSTALL_HINT = 'sudo apt-get install -y libtorch-dev';

/** A libtorch install prefix is usable when it has the headers and the three libraries. */
function checkPrefix(includeRoot, libDir) {
  const header = path.join(includeRoot, 'torch', 'csrc', 'api', 'include', 'torch', 'torch.h');
  const libs = ['libtorch.so', 'libtorch_cpu.so', 'libc10.so'].map((l) => path.join(libDir, l));
  const missing = [header, ...libs].filter((f) => !fs.existsSync(f));
  return missing;
}

function isSystemLibDir(dir) {
  let real = dir;
  try {
    real = fs.realpathSync(path.join(dir, 'libtorch.so'));
    real = path.dirname(real);
  } catch {
    /* keep dir */
  }
  return SYSTEM_LIB_DIRS.includes(real);
}

/** From a cmake dir (…/share/cmake/Torch, …/share/cmake, or a prefix) to the install prefix. */
function prefixFromCmakeDir(dir) {
  let p = path.resolve(dir);
  if (path.basename(p) === 'Torch') p = path.dirname(p);
  if (path.basename(p) === 'cmake') p = path.dirname(p);
  if (path.basename(p) === 'share') p = path.dirname(p);
  // Debian's system cmake dir (/usr/lib/x86_64-linux-gnu/cmake/Torch) maps to /usr/lib/<triplet>.
  if (SYSTEM_LIB_DIRS.includes(p)) return '/usr';
  return p;
}

function fromPrefix(prefix, source) {
  if (prefix === '/usr') return fromSystem(source);
  const includeRoot = path.join(prefix, 'include');
  const libDir = path.join(prefix, 'lib');
  return { source, prefix, includeRoot, libDir, missing: checkPrefix(includeRoot, libDir) };
}

function fromSystem(source = 'system') {
  const tried = [];
  for (const libDir of SYSTEM_LIB_DIRS) {
    const missing = checkPrefix(SYSTEM_INCLUDE, libDir);
    if (missing.length === 0) return { source, prefix: '/usr', includeRoot: SYSTEM_INCLUDE, libDir, missing };
    tried.push(...missing);
  }
  return { source, prefix: '/usr', includeRoot: SYSTEM_INCLUDE, libDir: SYSTEM_LIB_DIRS[0], missing: tried };
}

function pythonTorch() {
  const python = process.env.PYTHON || 'python3';
  const code = 'import torch.utils; print(torch.utils.cmake_prefix_path)';
  try {
    const out = execFileSync(python, ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000 });
    return { python, cmakePrefix: out.trim().split('\n').pop() || null };
  } catch {
    return { python, cmakePrefix: null };
  }
}

/** libtorch's own TorchConfig.cmake records the C++ ABI it was built with; match it. */
function cxx11Abi(found) {
  const configs = [
    path.join(found.prefix, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'),
    path.join(found.libDir, 'cmake', 'Torch', 'TorchConfig.cmake'),
  ];
  for (const file of configs) {
    try {
      const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(file, 'utf8'));
      if (m) return Number(m[1]);
    } catch {
      /* next */
    }
  }
  return null;
}

function locate() {
  const looked = [];
  const candidates = [];
  if (process.env.LIBTORCH) candidates.push(() => fromPrefix(path.resolve(process.env.LIBTORCH), `LIBTORCH=${process.env.LIBTORCH}`));
  if (process.env.Torch_DIR) candidates.push(() => fromPrefix(prefixFromCmakeDir(process.env.Torch_DIR), `Torch_DIR=${process.env.Torch_DIR}`));
  if (!process.env.SIGNIN_TORCH_NO_PYTHON) {
    candidates.push(() => {
      const py = pythonTorch();
      if (!py.cmakePrefix) return { source: `${py.python} (import torch failed)`, missing: [`a torch package importable by ${py.python}`] };
      return fromPrefix(prefixFromCmakeDir(py.cmakePrefix), `${py.python}: torch.utils.cmake_prefix_path=${py.cmakePrefix}`);
    });
  }
  if (!process.env.SIGNIN_TORCH_NO_SYSTEM) candidates.push(() => fromSystem('system'));
  for (const make of candidates) {
    let found = make();
    if (found.missing.length === 0 && found.prefix !== '/usr' && isSystemLibDir(found.libDir)) {
      // e.g. Debian's python3-torch: its include/ and lib/ are symlinks to the system install.
      found = { ...fromSystem(found.source), via: found.prefix };
    }
    if (found.missing.length === 0) {
      // An explicit LIBTORCH / Torch_DIR that is unusable is worth a word, even when a later step works.
      for (const l of looked.filter((x) => /^ {2}(LIBTORCH|Torch_DIR)=/.test(x))) {
        process.stderr.write(`signin-torch: ignoring${l.slice(1)}; using ${found.source}\n`);
      }
      found.system = isSystemLibDir(found.libDir);
      found.abi = cxx11Abi(found);
      return found;
    }
    looked.push(`  ${found.source}: missing ${found.missing.join(', ')}`);
  }
  process.stderr.write(
    'signin-torch: libtorch was not found. Looked in (in this order):\n' +
      looked.join('\n') +
      '\nInstall it with:\n  ' +
      INSTALL_HINT +
      '\nor set LIBTORCH to an unpacked libtorch (with include/ and lib/), or Torch_DIR to its share/cmake/Torch.\n',
  );
  process.exit(1);
}

function main(what) {
  const t = locate();
  let lines;
  switch (what) {
    case 'include':
      lines = [t.includeRoot, path.join(t.includeRoot, 'torch', 'csrc', 'api', 'include')];
      // Debian's libtorch-dev lacks the header c10d's reducer.hpp includes (see the stub there).
      if (!fs.existsSync(path.join(t.includeRoot, 'torch', 'csrc', 'distributed', 'autograd', 'context', 'context.h'))) {
        lines.push(path.join(__dirname, '..', 'native', 'compat', 'dist-autograd'));
      }
      break;
    case 'ldflags':
      lines = t.system ? [] : [`-L${t.libDir}`, `-Wl,-rpath,${t.libDir}`];
      break;
    case 'libraries':
      lines = LIBRARIES;
      break;
    case 'defines':
      lines = t.abi === null ? [] : [`_GLIBCXX_USE_CXX11_ABI=${t.abi}`];
      break;
    case 'describe':
      lines = [JSON.stringify(t, null, 2)];
      break;
    default:
      process.stderr.write(`usage: libtorch-paths.cjs include|ldflags|libraries|defines|describe (got ${what})\n`);
      process.exit(2);
  }
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
}

if (require.main === module) main(process.argv[2]);

module.exports = { locate, prefixFromCmakeDir };
