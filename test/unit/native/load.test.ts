/**
 * The addon loader tells "libtorch missing" from "libtorch of another version". The dlopen
 * messages are real: small shared objects are compiled here that depend on a stand-in libtorch
 * (a versioned soname, a c10:: data symbol), which is then removed or replaced, and require()
 * reports what the dynamic loader said.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { classifyLoadError, findLibrary, loadError } from '../../../src/native/load';

const SYMBOL = '_ZN3c1019UndefinedTensorImpl10_singletonE'; // c10::UndefinedTensorImpl::_singleton
const SONAME = 'libc10_standin.so.1.13';

function cc(args: string[]): void {
  const r = spawnSync('cc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${args.join(' ')}: ${r.stderr}`);
}

/** require()'s error message for a .node file (dlopen's, when the loader fails). */
function requireError(file: string): string {
  try {
    require(file);
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
  throw new Error(`${file} loaded`);
}

describe('native addon loader', () => {
  let tmp: string;
  let lib: string;
  let addon: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-load-'));
    lib = path.join(tmp, 'lib');
    fs.mkdirSync(lib);
    fs.writeFileSync(path.join(tmp, 'torch.c'), `int ${SYMBOL} = 1;\n`);
    fs.writeFileSync(path.join(tmp, 'empty.c'), 'int unrelated = 1;\n');
    fs.writeFileSync(path.join(tmp, 'addon.c'), `extern int ${SYMBOL};\nint *use = &${SYMBOL};\n`);
    cc(['-shared', '-fPIC', `-Wl,-soname,${SONAME}`, '-o', path.join(lib, SONAME), path.join(tmp, 'torch.c')]);
    addon = path.join(tmp, 'addon.node');
    cc(['-shared', '-fPIC', '-o', addon, path.join(tmp, 'addon.c'), path.join(lib, SONAME), `-Wl,-rpath,${lib}`, '-Wl,-z,now']);
  });

  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('libtorch missing: the soname is nowhere on the loader path', () => {
    fs.renameSync(path.join(lib, SONAME), path.join(tmp, 'moved.so'));
    try {
      const message = requireError(addon);
      expect(message).toBe(`${SONAME}: cannot open shared object file: No such file or directory`);
      const find = (name: string) => findLibrary(name, [lib]);
      expect(classifyLoadError(message, find)).toBe('libtorch-missing');
      const err = loadError([{ label: 'build-cmake/Release/signin_torch.node', message }], find);
      expect(err.code).toBe('ERR_ADDON_LOAD');
      expect(err.message).toContain(`build-cmake/Release/signin_torch.node: ${message}`);
      expect(err.message).toMatch(/libtorch is not on the loader path: sudo apt-get install -y libtorch-dev/);
      expect(err.message).not.toMatch(/another version/);

      // Another version of the same library present: the build's libtorch is not the installed one.
      fs.writeFileSync(path.join(lib, 'libc10_standin.so.2.1'), '');
      expect(classifyLoadError(message, find)).toBe('libtorch-version');
      expect(loadError([{ label: 'x', message }], find).message).toMatch(/not the version the addon was built with[^]*npm run build:native/);
    } finally {
      fs.rmSync(path.join(lib, 'libc10_standin.so.2.1'), { force: true });
      fs.renameSync(path.join(tmp, 'moved.so'), path.join(lib, SONAME));
    }
  });

  it('libtorch of another version: the soname loads but lacks a c10:: symbol the addon uses', () => {
    cc(['-shared', '-fPIC', `-Wl,-soname,${SONAME}`, '-o', path.join(lib, SONAME), path.join(tmp, 'empty.c')]);
    const message = requireError(addon);
    expect(message).toBe(`${addon}: undefined symbol: ${SYMBOL}`);
    expect(classifyLoadError(message, () => [])).toBe('libtorch-version');
    const err = loadError([{ label: '$SIGNIN_TORCH_ADDON', message }, { label: 'prebuilds/ (node-gyp-build)', message: 'no prebuilds folder' }], () => []);
    expect(err.message).toMatch(/libtorch was found, but not the version the addon was built with/);
    expect(err.message).not.toMatch(/libtorch is not on the loader path/);
  });

  it('an unbuilt checkout gets the install-and-build fixes', () => {
    expect(classifyLoadError('not built')).toBe('not-built');
    expect(loadError([{ label: 'build/Release/signin_torch.node', message: 'not built' }]).message)
      .toMatch(/install libtorch: sudo apt-get install -y libtorch-dev[^]*build the addon: npm run build:native/);
  });
});
