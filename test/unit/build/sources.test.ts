/**
 * CMakeLists.txt (cmake-js: development and CUDA builds) and binding.gyp (node-gyp: prebuilt
 * binaries and the install fallback) must compile the same C++ sources, and every .cc under
 * native/ must be in them: a file missing from one list links in one build and not the other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

function cmakeSources(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
  const block = /set\(SIGNIN_SOURCES\s+([^)]*)\)/.exec(text);
  if (!block) throw new Error('CMakeLists.txt has no set(SIGNIN_SOURCES ...)');
  return block[1].split(/\s+/).filter(Boolean).sort();
}

function gypSources(): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8').replace(/#.*$/gm, '');
  const block = /"sources"\s*:\s*\[([^\]]*)\]/.exec(text);
  if (!block) throw new Error('binding.gyp has no "sources" list');
  return [...block[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
}

function nativeCc(dir = path.join(ROOT, 'native')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return nativeCc(p);
    return e.name.endsWith('.cc') ? [path.relative(ROOT, p)] : [];
  }).sort();
}

it('binding.gyp and CMakeLists.txt list the same sources', () => {
  expect(gypSources()).toEqual(cmakeSources());
});

it('every .cc under native/ is built', () => {
  expect(cmakeSources()).toEqual(nativeCc());
});
