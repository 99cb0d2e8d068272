/**
 * The published package works without a compiler: `npm pack` the repo (with a fresh
 * `npm run prebuild` and `npm run build:ts`), install the tarball into an empty project, with every
 * compiler and node-gyp replaced by a script that fails, and call into libtorch through the
 * installed prebuilt binary. A control install of the same tarball without prebuilds/ must fail at
 * the blocked compile, which shows the block is real.
 *
 * The install uses --prefer-offline, not --offline: `npm ci` caches tarballs but not the registry
 * metadata that a tarball install resolves its dependencies with, so on a machine whose npm cache
 * is empty (a fresh CI runner) --offline fails with ENOTCACHED. --prefer-offline fetches what the
 * cache lacks (the registry is reachable where CI runs) and costs nothing once the cache is warm.
 *
 * The prebuild and dist/ are rebuilt only when missing or older than their sources, so a second
 * run costs seconds. Needs libtorch (apt libtorch-dev).
 */
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const BLOCKED = 'pack test: blocked compile';

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 900000, ...opts });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: String(r.stdout ?? ''), error: r.error };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error}):\n${r.out.slice(-4000)}`);
  return r;
}

function files(dir: string, test: (f: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, test) : test(p) ? [p] : [];
  });
}

const newest = (list: string[]) => Math.max(0, ...list.map((f) => fs.statSync(f).mtimeMs));
const oldest = (list: string[]) => Math.min(...list.map((f) => fs.statSync(f).mtimeMs));

/** `npm run prebuild` when prebuilds/<platform>/*.node is missing or older than a native source. */
function ensurePrebuild(): string {
  const sources = [
    ...files(path.join(root, 'native'), () => true),
    path.join(root, 'binding.gyp'),
    path.join(root, 'scripts', 'libtorch-paths.cjs'),
  ];
  const built = files(platformDir, (f) => f.endsWith('.node'));
  if (built.length === 0 || oldest(built) < newest(sources)) {
    fs.rmSync(platformDir, { recursive: true, force: true });
    const env = { ...process.env };
    if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
    env.JOBS ??= 'max'; // prebuildify runs node-gyp without --jobs; node-gyp reads JOBS
    mustRun('npm', ['run', 'prebuild'], { cwd: root, env });
  }
  const out = files(platformDir, (f) => f.endsWith('.node'));
  if (out.length !== 1) throw new Error(`expected one prebuilt .node in ${platformDir}, found ${out.length}`);
  return path.relative(root, out[0]).split(path.sep).join('/');
}

/** `npm run build:ts` when dist/index.js is missing or older than src/. */
function ensureDist(): void {
  const sources = files(path.join(root, 'src'), (f) => f.endsWith('.ts'));
  const entry = path.join(root, 'dist', 'index.js');
  if (sources.length === 0) return;
  if (!fs.existsSync(entry) || fs.statSync(entry).mtimeMs < newest([...sources, path.join(root, 'tsconfig.build.json')])) {
    mustRun('npm', ['run', 'build:ts'], { cwd: root });
  }
}

/**
 * Where npm's own settings come from when jest runs under `npm test` or a CI that sets them: the
 * cache and the registry (and how to reach it) pass through, every other npm_* of the parent
 * (lifecycle, package fields, nodedir, build-from-source) would change the install under test.
 */
const NPM_PASS = /^npm_config_(cache|registry|userconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i;

/** An environment in which every way to compile fails loudly, and no other npm_* of the parent leaks. */
function blockedEnv(tmp: string): NodeJS.ProcessEnv {
  const shims = path.join(tmp, 'no-compile');
  fs.mkdirSync(shims);
  for (const tool of ['g++', 'gcc', 'c++', 'cc', 'clang', 'clang++', 'make', 'cmake', 'ninja', 'node-gyp', 'cmake-js']) {
    fs.writeFileSync(path.join(shims, tool), `#!/bin/sh\necho "${BLOCKED}: ${tool} $*" >&2\nexit 97\n`, { mode: 0o755 });
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((!/^npm_/i.test(k) || NPM_PASS.test(k)) && !['SIGNIN_TORCH_ADDON', 'NODE_PATH', 'NODE_OPTIONS'].includes(k)) env[k] = v;
  }
  return { ...env, PATH: `${shims}${path.delimiter}${process.env.PATH}`, CC: path.join(shims, 'cc'), CXX: path.join(shims, 'c++') };
}

function makeProject(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  return dir;
}

const npmInstall = (project: string, tarball: string, env: NodeJS.ProcessEnv) =>
  run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: project, env });

describe('npm pack → install in an empty project → the prebuilt addon runs', () => {
  let tmp: string;
  let tarball: string;
  let packed: string[];
  let prebuild: string;
  let env: NodeJS.ProcessEnv;
  let consumer: string;
  let install: ReturnType<typeof run>;
  const installed = () => path.join(consumer, 'node_modules', 'signin-torch');

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-pack-'));
    prebuild = ensurePrebuild();
    ensureDist();
    const pack = mustRun('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: root });
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')))[0];
    tarball = path.join(tmp, info.filename);
    packed = info.files.map((f: { path: string }) => f.path);
    env = blockedEnv(tmp);
    consumer = makeProject(path.join(tmp, 'consumer'));
    install = npmInstall(consumer, tarball, env);
  }, 1200000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds the prebuild, dist/, and everything a fallback source build needs', () => {
    const cmake = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8').replace(/#[^\n]*/g, '');
    const sources = (/set\s*\(\s*SIGNIN_SOURCES\b([^)]*)\)/.exec(cmake)?.[1] ?? '').split(/\s+/).filter(Boolean);
    const needed = [prebuild, 'package.json', 'binding.gyp', 'scripts/libtorch-paths.cjs', ...sources];
    if (fs.existsSync(path.join(root, 'src', 'index.ts'))) needed.push('dist/index.js', 'dist/index.d.ts');
    expect(needed.filter((f) => !packed.includes(f))).toEqual([]);
    expect(packed.filter((f) => /^(build|build-cmake|node_modules|test|src)\//.test(f))).toEqual([]);
  });

  it('installs without compiling anything', () => {
    expect({ status: install.status, blocked: install.out.includes(BLOCKED) }).toEqual({ status: 0, blocked: false });
    expect(fs.existsSync(path.join(installed(), 'build'))).toBe(false);
  });

  it('node-gyp-build resolves the installed prebuild, and it computes with libtorch', () => {
    const script = `
      const dir = ${JSON.stringify(installed())};
      const gypBuild = require(require.resolve('node-gyp-build', { paths: [dir] }));
      const file = gypBuild.resolve(dir);
      const addon = gypBuild(dir);
      const x = addon.fromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2]);
      const y = addon.callOp(addon.opHandle('aten::mm'), [x, x]);
      console.log(JSON.stringify({ file, version: addon.torchVersion(), mm: Array.from(y.toTypedArray()) }));`;
    const r = mustRun(process.execPath, ['-e', script], { cwd: consumer, env });
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(got.file).toBe(path.join(installed(), prebuild));
    expect(got.version).toMatch(/^\d+\.\d+/);
    expect(got.mm).toEqual([7, 10, 15, 22]);
  });

  it('the package entry loads from the consumer and runs a tensor op', () => {
    if (!fs.existsSync(path.join(root, 'src', 'index.ts'))) return; // no public entry yet
    const script = `
      const st = require('signin-torch');
      const t = st.tensor([[1, 2], [3, 4]]);
      console.log(JSON.stringify({ version: st.torchVersion(), sum: t.mul(2).sum().item() }));`;
    const r = mustRun(process.execPath, ['-e', script], { cwd: consumer, env });
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(got.version).toMatch(/^\d+\.\d+/);
    expect(got.sum).toBe(20);
  });

  it('control: without prebuilds/ the same install reaches the compiler and is stopped', () => {
    const x = path.join(tmp, 'x');
    fs.mkdirSync(x);
    mustRun('tar', ['-xzf', tarball, '-C', x]);
    fs.rmSync(path.join(x, 'package', 'prebuilds'), { recursive: true, force: true });
    // The control is about the compile block, not about the file list (tested above).
    fs.mkdirSync(path.join(x, 'package', 'scripts'), { recursive: true });
    fs.copyFileSync(path.join(root, 'scripts', 'libtorch-paths.cjs'), path.join(x, 'package', 'scripts', 'libtorch-paths.cjs'));
    // Only what the install script and binding.gyp use, so the control installs quickly.
    const pkgFile = path.join(x, 'package', 'package.json');
    const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
    pkg.dependencies = { 'node-gyp-build': pkg.dependencies['node-gyp-build'], 'node-addon-api': pkg.dependencies['node-addon-api'] };
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    const bare = path.join(tmp, 'no-prebuild.tgz');
    mustRun('tar', ['-czf', bare, '-C', x, 'package']);
    const r = npmInstall(makeProject(path.join(tmp, 'control')), bare, env);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(BLOCKED);
  });
});
