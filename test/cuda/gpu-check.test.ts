/**
 * scripts/gpu-check.sh in its dry run (SIGNIN_GPU_DRY_RUN=1) on this machine, so that no minute of
 * a lent GPU goes to a typo: every step's CPU path runs (environment, Node, node_modules, the plain
 * cmake configure against Debian's libtorch, the smoke test, jest, both benchmarks with their
 * PyTorch twins at tiny sizes, the report) and must report ok. The compile itself is the same
 * ninja build that scripts/setup.sh runs; here the addon already built by setup stands in for it
 * (SIGNIN_GPU_ADDON), and the jest step runs one CUDA suite (its CPU part). scripts/gpu-pack.sh
 * is checked through its --list mode: the packages the GPU machine needs are in the closure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pytorchAvailable } from '../helpers/pytorch';

const ROOT = path.resolve(__dirname, '..', '..');
const ADDON = path.join(ROOT, 'build-cmake', 'Release', 'signin_torch.node');
const STEPS = ['env', 'node', 'modules', 'configure', 'smoke', 'tests', 'bench-train', 'bench-signin', 'report'];

// Never from inside a run of the script itself (its jest step leaves this file out anyway).
const runnable = fs.existsSync(ADDON) && pytorchAvailable() && !process.env.SIGNIN_GPU_DRY_RUN;
(runnable ? describe : describe.skip)('scripts/gpu-check.sh dry run', () => {
  let out: string;
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-gpu-dry-'));
    result = spawnSync('bash', ['scripts/gpu-check.sh'], {
      cwd: ROOT, encoding: 'utf8', timeout: 900_000,
      env: {
        ...process.env, OUT: out, SIGNIN_GPU_DRY_RUN: '1', SIGNIN_GPU_STEPS: STEPS.join(' '), SIGNIN_GPU_ADDON: ADDON,
        SIGNIN_GPU_TESTS: 'test/cuda/errors.test.ts', SIGNIN_GPU_BUILD_DIR: path.join(out, 'build'),
      },
    });
  }, 900_000);

  afterAll(() => {
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('runs every step ok and exits 0', () => {
    const summary = fs.readFileSync(path.join(out, 'summary.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    expect(summary.map(([name, status]) => `${name}: ${status}`)).toEqual(STEPS.map((s) => `${s}: ok`));
    expect(result.status).toBe(0);
  });

  it('leaves the jest results, the benchmark JSON and the report under $OUT', () => {
    const jest = JSON.parse(fs.readFileSync(path.join(out, 'jest.json'), 'utf8')) as { success: boolean; numPassedTests: number };
    expect(jest.success).toBe(true);
    expect(jest.numPassedTests).toBeGreaterThan(0);
    for (const f of ['train-ours', 'train-pytorch', 'signin-ours', 'signin-pytorch']) {
      const j = JSON.parse(fs.readFileSync(path.join(out, 'bench', `${f}.json`), 'utf8')) as { results?: unknown[]; rows?: unknown[] };
      expect((j.results ?? j.rows)!.length).toBeGreaterThan(0);
    }
    const report = fs.readFileSync(path.join(out, 'BENCHMARKS.gpu.md'), 'utf8');
    expect(report).toMatch(/\| plain, fp32 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    expect(report).toMatch(/\| Sign-In, bf16 autocast, channels_last \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    expect(report).toMatch(/\| 100000 \| [\d.]+ \| \d+ \| \d+ \| \d+% \| [\d.]+ \|/);
    const configure = fs.readFileSync(path.join(out, 'logs', 'configure.log'), 'utf8');
    expect(configure).toMatch(/signin-torch: libtorch 1\.13/);
  });

  it('records a failing step and goes on to the next', () => {
    const out2 = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-gpu-dry-'));
    try {
      const r = spawnSync('bash', ['scripts/gpu-check.sh'], {
        cwd: ROOT, encoding: 'utf8', timeout: 120_000,
        env: { ...process.env, OUT: out2, SIGNIN_GPU_DRY_RUN: '1', SIGNIN_GPU_STEPS: 'smoke report', SIGNIN_GPU_ADDON: path.join(out2, 'missing.node') },
      });
      const summary = fs.readFileSync(path.join(out2, 'summary.tsv'), 'utf8');
      expect(summary).toMatch(/^smoke\tfailed \(1\)\t/m);
      expect(summary).toMatch(/^report\tok\t/m);
      expect(r.status).toBe(1);
    } finally {
      fs.rmSync(out2, { recursive: true, force: true });
    }
  });
});

describe('scripts/gpu-pack.sh --list', () => {
  it('packs what the GPU machine needs to build, test and benchmark', () => {
    const r = spawnSync('bash', ['scripts/gpu-pack.sh', '--list'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const dirs = r.stdout.trim().split('\n');
    for (const p of ['node-addon-api', 'node-api-headers', 'jest', 'ts-jest', 'typescript', 'tsx', 'esbuild', 'pino', 'zod']) {
      expect(dirs).toContain(`node_modules/${p}`);
    }
    // Packages the GPU check never loads stay behind (they would cost most of the 64 MiB).
    for (const p of ['sharp', 'vega', 'node-gyp', 'prebuildify']) expect(dirs).not.toContain(`node_modules/${p}`);
  });
});
