/**
 * scripts/gpu-check.sh in its dry run (SIGNIN_GPU_DRY_RUN=1) on this machine, so that no minute of
 * a lent GPU goes to a typo: every step's CPU path runs (environment, Node, node_modules, the plain
 * cmake configure against Debian's libtorch, the smoke test, jest, both benchmarks with their
 * PyTorch twins at tiny sizes, the report) and must report ok. The compile itself is the same
 * ninja build that scripts/setup.sh runs; here the addon already built by setup stands in for it
 * (SIGNIN_GPU_ADDON), and the jest step runs one CUDA suite (its CPU part). scripts/gpu-pack.sh
 * is checked through its --list mode: the packages the GPU machine needs are in the closure.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PYTHON, pytorchAvailable } from '../helpers/pytorch';

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

describe('scripts/gpu-check.sh configure against a pip CUDA torch (a fake site-packages and toolkit)', () => {
  let site: string;
  let out: string;

  function touch(file: string, text = ''): void {
    fs.mkdirSync(path.dirname(path.join(site, file)), { recursive: true });
    fs.writeFileSync(path.join(site, file), text, { mode: 0o755 });
  }

  /**
   * The configure step as on the GPU machine: PYTHON answers torch.utils.cmake_prefix_path with the
   * fake torch, whose TorchConfig stops cmake at once (only the command line matters); the nvcc
   * first on PATH is a wrapper outside the fake toolkit that reports it as its TOP, as nvcc --dryrun
   * does (the development machine's /usr/local/bin/nvcc is such a wrapper).
   */
  function configure(): string {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-gpu-conf-'));
    touch('python3', `#!/bin/sh\necho ${path.join(site, 'torch/share/cmake')}\n`);
    touch('torch/share/cmake/Torch/TorchConfig.cmake', 'message(FATAL_ERROR "fake torch")\n');
    touch('bin/nvcc', `#!/bin/sh\necho '#$ TOP=${path.join(site, 'toolkit/bin')}/..' >&2\n`);
    touch('toolkit/bin/nvcc');
    spawnSync('bash', ['scripts/gpu-check.sh'], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000,
      env: {
        ...process.env, OUT: out, SIGNIN_GPU_DRY_RUN: '0', SIGNIN_GPU_STEPS: 'configure', PYTHON: path.join(site, 'python3'),
        SIGNIN_GPU_BUILD_DIR: path.join(out, 'build'), PATH: `${path.join(site, 'bin')}:${process.env.PATH}`,
      },
    });
    return fs.readFileSync(path.join(out, 'logs', 'configure.log'), 'utf8').split('\n').find((l) => l.startsWith('cmake '))!;
  }

  beforeEach(() => {
    site = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-site-'));
    // pip's layout: versioned libraries only, beside torch.
    for (const f of ['cuda_nvrtc/lib/libnvrtc.so.13', 'cuda_nvrtc/lib/libnvrtc-builtins.so.13.0', 'cu13/lib/libcublas.so.13',
      'cu13/lib/libcublasLt.so.13', 'cu13/lib/libcufft.so.12', 'cu13/lib/libcufftw.so.12', 'cu13/lib/libcurand.so.10']) touch(`nvidia/${f}`);
  });

  afterEach(() => {
    fs.rmSync(site, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("takes the toolkit nvcc reports, not the wrapper's folder, and the wheel's libraries the toolkit lacks", () => {
    const cmd = configure();
    expect(cmd).toContain(`-DTorch_DIR=${path.join(site, 'torch/share/cmake/Torch')}`);
    expect(cmd).toContain('-DTORCH_CUDA_ARCH_LIST=9.0');
    expect(cmd).toContain(`-DCMAKE_CUDA_COMPILER=${path.join(site, 'toolkit/bin/nvcc')} -DCUDA_TOOLKIT_ROOT_DIR=${path.join(site, 'toolkit')} `);
    // find_library takes only unversioned names, and the loader the versioned ones: both link to the wheel's file.
    const links = path.join(out, 'build', 'pip-cuda-libs');
    expect(cmd).toContain(`-DCMAKE_LIBRARY_PATH=${links}`);
    const wheel = (f: string) => path.join(site, 'nvidia', f);
    const expected: Record<string, string> = {
      'libnvrtc.so': wheel('cuda_nvrtc/lib/libnvrtc.so.13'), 'libcublas.so': wheel('cu13/lib/libcublas.so.13'),
      'libcublasLt.so': wheel('cu13/lib/libcublasLt.so.13'), 'libcufft.so': wheel('cu13/lib/libcufft.so.12'), 'libcurand.so': wheel('cu13/lib/libcurand.so.10'),
    };
    for (const target of Object.values(expected)) expected[path.basename(target)] = target;
    expect(Object.fromEntries(fs.readdirSync(links).sort().map((f) => [f, fs.readlinkSync(path.join(links, f))])))
      .toEqual(Object.fromEntries(Object.entries(expected).sort()));
  });

  it("leaves the toolkit's own libraries to CMake", () => {
    for (const l of ['libnvrtc.so.13', 'libcublas.so.13', 'libcublasLt.so', 'libcufft.so', 'libcurand.so.10']) touch(`toolkit/targets/x86_64-linux/lib/${l}`);
    expect(configure()).not.toContain('CMAKE_LIBRARY_PATH');
    expect(fs.existsSync(path.join(out, 'build', 'pip-cuda-libs'))).toBe(false);
  });
});

/**
 * Runs a benchmark until its first variant is reported on stderr, then stops it as gpu-check's
 * time box would (SIGTERM); resolves with the JSON it left in `out`, if any.
 */
function stopAfterFirstVariant(cmd: string, args: string[], out: string, line: RegExp): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, SIGNIN_TORCH_ADDON: ADDON }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (line.test(stderr)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('exit', () => {
      if (!line.test(stderr)) reject(new Error(`no variant reported:\n${stderr}`));
      else resolve(fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : undefined);
    });
  });
}

(runnable ? describe : describe.skip)('the training benchmarks stopped by a time box', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-gpu-bench-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keep the variants they measured (ours and the PyTorch twin)', async () => {
    const ours = path.join(dir, 'train-ours.json');
    const theirs = path.join(dir, 'train-pytorch.json');
    const [a, b] = await Promise.all([
      stopAfterFirstVariant(path.join(ROOT, 'node_modules/.bin/tsx'), ['bench/gpu-train.ts', '--out', ours, '--tiny'], ours, /gpu-train: \{/),
      stopAfterFirstVariant(PYTHON, ['bench/pytorch/gpu_train.py', '--out', theirs, '--tiny'], theirs, /gpu_train\.py: \{/),
    ]) as ({ results: unknown[] } | undefined)[];
    expect(a?.results.length).toBeGreaterThanOrEqual(1);
    expect(b?.results.length).toBeGreaterThanOrEqual(1);
  }, 120_000);
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
