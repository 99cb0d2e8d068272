/**
 * Finds and loads the addon. Tries, in order: $SIGNIN_TORCH_ADDON, the cmake-js build
 * (build-cmake/Release), the node-gyp build (build/Release), then a prebuilt binary (prebuilds/,
 * via node-gyp-build). On failure the error lists every attempt and how to fix it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolkitError } from '../errors';
import type { NativeBinding } from './binding';

export const packageRoot = path.resolve(__dirname, '..', '..');

function candidates(): { label: string; load: () => NativeBinding }[] {
  const file = (p: string) => () => {
    if (!fs.existsSync(p)) throw new Error('not built');
    return require(p) as NativeBinding;
  };
  const list: { label: string; load: () => NativeBinding }[] = [];
  if (process.env.SIGNIN_TORCH_ADDON) {
    list.push({ label: `$SIGNIN_TORCH_ADDON (${process.env.SIGNIN_TORCH_ADDON})`, load: file(path.resolve(process.env.SIGNIN_TORCH_ADDON)) });
  }
  list.push({ label: 'build-cmake/Release/signin_torch.node', load: file(path.join(packageRoot, 'build-cmake', 'Release', 'signin_torch.node')) });
  list.push({ label: 'build/Release/signin_torch.node', load: file(path.join(packageRoot, 'build', 'Release', 'signin_torch.node')) });
  list.push({
    label: 'prebuilds/ (node-gyp-build)',
    load: () => {
      const dir = path.join(packageRoot, 'prebuilds');
      if (!fs.existsSync(dir)) throw new Error('no prebuilds folder');
      return require('node-gyp-build')(packageRoot) as NativeBinding;
    },
  });
  return list;
}

let cached: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  if (cached) return cached;
  const failures: string[] = [];
  for (const c of candidates()) {
    try {
      cached = c.load();
      return cached;
    } catch (e) {
      failures.push(`  - ${c.label}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const libtorchMissing = failures.some((f) => /libtorch|libc10|libtorch_cpu/.test(f));
  throw new ToolkitError(
    'ERR_ADDON_LOAD',
    [
      'signin-torch: could not load the native addon. Tried:',
      ...failures,
      'To fix:',
      libtorchMissing
        ? '  - libtorch is not on the loader path: sudo apt-get install -y libtorch-dev (or set LD_LIBRARY_PATH to your libtorch/lib)'
        : '  - install libtorch: sudo apt-get install -y libtorch-dev (or set LIBTORCH / Torch_DIR)',
      '  - build the addon: npm run build:native (cmake-js) or npx node-gyp rebuild',
    ].join('\n'),
  );
}
