/**
 * Finds and loads the addon, once SIGNIN_TORCH_CPU_ALLOCATOR checks out (cpu-allocator-env.ts).
 * Tries, in order: $SIGNIN_TORCH_ADDON, the cmake-js build (build-cmake/Release), the node-gyp
 * build (build/Release), then a prebuilt binary (prebuilds/, via node-gyp-build). On failure the
 * error lists every attempt and the fix for what the loader said: libtorch missing, libtorch of
 * another version than the build's, or a Node.js mismatch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolkitError } from '../errors';
import type { NativeBinding } from './binding';
import { cpuAllocatorFromEnv } from './cpu-allocator-env';

export const packageRoot = path.resolve(__dirname, '..', '..');

/** A place the addon may be: why it is not there (without trying it), or how to load it. */
interface Candidate {
  label: string;
  absent(): string | undefined;
  load(): NativeBinding;
}

function candidates(): Candidate[] {
  const file = (label: string, p: string): Candidate => ({
    label,
    absent: () => (fs.existsSync(p) ? undefined : 'not built'),
    load: () => require(p) as NativeBinding,
  });
  const list: Candidate[] = [];
  if (process.env.SIGNIN_TORCH_ADDON) {
    list.push(file(`$SIGNIN_TORCH_ADDON (${process.env.SIGNIN_TORCH_ADDON})`, path.resolve(process.env.SIGNIN_TORCH_ADDON)));
  }
  list.push(file('build-cmake/Release/signin_torch.node', path.join(packageRoot, 'build-cmake', 'Release', 'signin_torch.node')));
  list.push(file('build/Release/signin_torch.node', path.join(packageRoot, 'build', 'Release', 'signin_torch.node')));
  list.push({
    label: 'prebuilds/ (node-gyp-build)',
    absent: () => (fs.existsSync(path.join(packageRoot, 'prebuilds')) ? undefined : 'no prebuilds folder'),
    load: () => require('node-gyp-build')(packageRoot) as NativeBinding,
  });
  return list;
}

/** Why one candidate did not load, read from the dynamic loader's (dlopen's) message. */
export type LoadFailureKind = 'not-built' | 'libtorch-missing' | 'libtorch-version' | 'node-abi' | 'other';

const MISSING_LIB = /^(lib(?:torch\w*|c10\w*)\.so)((?:\.\d+)*): cannot open shared object file/;
// Mangled C++ names of libtorch's namespaces: c10::, at::, torch::, caffe2::.
const TORCH_SYMBOL = /undefined symbol: _ZN\w*?(?:3c10|2at|5torch|6caffe2)/;

/** Folders the dynamic loader searches by default or by LD_LIBRARY_PATH (ld.so.cache aside). */
function loaderDirs(): string[] {
  const env = (process.env.LD_LIBRARY_PATH ?? '').split(path.delimiter).filter(Boolean);
  return [...env, `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`, '/usr/lib', '/usr/local/lib', '/lib'];
}

/** Files named `<lib>` or `<lib>.<version>` in the loader's folders. */
export function findLibrary(lib: string, dirs: readonly string[] = loaderDirs()): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n === lib || n.startsWith(`${lib}.`)) found.push(path.join(dir, n));
  }
  return found;
}

/**
 * `find` lists the files of a library name on the loader path: a missing versioned soname
 * (libc10.so.1.13) is "another version" when some other libc10.so* is there, else "missing".
 */
export function classifyLoadError(message: string, find: (lib: string) => string[] = findLibrary): LoadFailureKind {
  if (message === 'not built' || message === 'no prebuilds folder' || /^No native build was found/.test(message)) return 'not-built';
  const missing = MISSING_LIB.exec(message);
  if (missing) return find(missing[1]).some((f) => path.basename(f) !== `${missing[1]}${missing[2]}`) ? 'libtorch-version' : 'libtorch-missing';
  if (TORCH_SYMBOL.test(message) || /version `[^']*' not found.*lib(?:torch|c10)/.test(message)) return 'libtorch-version';
  if (/NODE_MODULE_VERSION|did not self-register/.test(message)) return 'node-abi';
  return 'other';
}

/** The fix for each kind of failure, most specific first. */
export function fixesFor(kinds: readonly LoadFailureKind[]): string[] {
  const fixes: string[] = [];
  if (kinds.includes('libtorch-version')) {
    fixes.push(
      '  - libtorch was found, but not the version the addon was built with (undefined symbol or another soname):',
      '    rebuild the addon against the installed libtorch: npm run build:native in a checkout,',
      '    npm rebuild signin-torch --build-from-source where signin-torch is a dependency,',
      '    or put the libtorch it was built with first: export LD_LIBRARY_PATH=<that libtorch>/lib',
    );
  }
  if (kinds.includes('libtorch-missing')) {
    fixes.push(
      '  - libtorch is not on the loader path: sudo apt-get install -y libtorch-dev',
      '    (or export LD_LIBRARY_PATH=<your libtorch>/lib for a libtorch unpacked elsewhere)',
    );
  }
  if (kinds.includes('node-abi')) fixes.push('  - the addon was built for another Node.js: rebuild it (npm run build:native, or npm rebuild signin-torch --build-from-source)');
  if (fixes.length === 0) {
    fixes.push(
      '  - install libtorch: sudo apt-get install -y libtorch-dev (or set LIBTORCH / Torch_DIR)',
      '  - build the addon: npm run build:native (cmake-js) or npx node-gyp rebuild',
    );
  }
  return fixes;
}

/** The error for a load in which every candidate failed: each attempt, then the fixes. */
export function loadError(failures: readonly { label: string; message: string }[], find?: (lib: string) => string[]): ToolkitError {
  const kinds = failures.map((f) => classifyLoadError(f.message, find));
  return new ToolkitError(
    'ERR_ADDON_LOAD',
    [
      'signin-torch: could not load the native addon. Tried:',
      ...failures.map((f) => `  - ${f.label}: ${f.message}`),
      'To fix:',
      ...fixesFor(kinds),
    ].join('\n'),
  );
}

let cached: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  if (cached) return cached;
  cpuAllocatorFromEnv();
  const failures: { label: string; message: string }[] = [];
  for (const c of candidates()) {
    const absent = c.absent();
    if (absent) {
      failures.push({ label: c.label, message: absent });
      continue;
    }
    try {
      cached = c.load();
      return cached;
    } catch (e) {
      // dlopen's first line names the library or symbol at fault; loadError turns it into a fix.
      failures.push({ label: c.label, message: String((e as Error)?.message ?? e).split('\n')[0] });
    }
  }
  throw loadError(failures);
}
