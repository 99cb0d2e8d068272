/**
 * Installing from git works: the checkout as it would be committed (tracked and untracked,
 * not ignored, files) becomes a git repository, and an empty project runs
 * `npm install git+file://<that repo>`, as a user would with a GitHub URL. npm clones it, runs
 * `npm install` there (the `install` script compiles the addon), then `prepare` (dist/ and the
 * prebuild), packs it and installs the tarball; the installed package then computes with
 * libtorch. Uses the npm cache when it has the packages and the registry otherwise, so it also
 * works with an empty cache. Needs libtorch and a C++ compiler; takes minutes (one addon build).
 */
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 1500000, ...opts });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: String(r.stdout ?? ''), error: r.error };
}

function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error}):\n${r.out.slice(-6000)}`);
  return r;
}

/** The parent's environment without npm_* (jest may run under npm) and addon overrides. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && !['SIGNIN_TORCH_ADDON', 'NODE_PATH', 'NODE_OPTIONS'].includes(k)) env[k] = v;
  }
  // node-gyp reads the Node headers from here rather than downloading them (offline machines).
  if (fs.existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
  env.JOBS ??= 'max';
  return env;
}

/** A git repository holding what `git add -A && git commit` would commit from the checkout. */
function snapshotRepo(dir: string): string {
  const listed = mustRun('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root }).stdout;
  const repo = path.join(dir, 'signin-torch');
  for (const f of listed.split('\0').filter(Boolean)) {
    const from = path.join(root, f);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    fs.copyFileSync(from, path.join(repo, f));
    fs.chmodSync(path.join(repo, f), fs.statSync(from).mode);
  }
  const git = (...args: string[]) => mustRun('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', ...args], { cwd: repo });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'snapshot');
  return repo;
}

describe('npm install from a git checkout', () => {
  let tmp: string;
  let consumer: string;
  let install: ReturnType<typeof run>;
  const env = cleanEnv();
  const installed = () => path.join(consumer, 'node_modules', 'signin-torch');

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-git-'));
    const repo = snapshotRepo(tmp);
    consumer = path.join(tmp, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    install = run('npm', ['install', `git+file://${repo}`, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: consumer, env });
  }, 1800000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs, with dist/, a prebuilt addon and the LICENSE in the package', () => {
    if (install.status !== 0) throw new Error(`npm install failed (${install.status}):\n${install.out.slice(-6000)}`);
    const prebuilds = path.join(installed(), 'prebuilds', `${process.platform}-${process.arch}`);
    expect({
      dist: fs.existsSync(path.join(installed(), 'dist', 'index.js')) && fs.existsSync(path.join(installed(), 'dist', 'index.d.ts')),
      prebuilds: fs.existsSync(prebuilds) ? fs.readdirSync(prebuilds).filter((f) => f.endsWith('.node')) : [],
      license: fs.readFileSync(path.join(installed(), 'LICENSE'), 'utf8').split('\n')[0],
      build: fs.existsSync(path.join(installed(), 'build')),
    }).toEqual({ dist: true, prebuilds: ['signin-torch.node'], license: 'MIT License', build: false });
  });

  it('the installed package loads and computes with libtorch', () => {
    const script = `
      const st = require('signin-torch');
      const a = st.tensor([[1, 2], [3, 4]]);
      console.log(JSON.stringify({ version: st.torchVersion(), mm: a.matmul(a).toArray() }));`;
    const r = mustRun(process.execPath, ['-e', script], { cwd: consumer, env });
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(got.version).toMatch(/^\d+\.\d+/);
    expect(got.mm).toEqual([7, 10, 15, 22]); // [[1,2],[3,4]]² by hand
  });
});
