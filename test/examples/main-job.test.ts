/**
 * The main job (examples/fashion-mnist.ts, run by scripts/main.sh) end to end on a small
 * Fashion-MNIST fixture (100 training and 100 test images, through
 * SIGNIN_TORCH_FASHION_MNIST_ROOT): two epochs of one batch, both runs at once in their own
 * processes. The table's accuracies, flips and β are those of the run directories; the two runs
 * share everything but Sign-In; a second invocation trains nothing and prints the same table,
 * with the peak RSS read from the end of a 1 GiB train.log.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nonDefaultFields, readConfig, readFinal, readMetrics, scanRuns } from '../../src/experiments';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'fashion-mnist.ts');
const TSX = require.resolve('tsx');

describe('examples/fashion-mnist.ts (the main job)', () => {
  const dir = tmpDir('signin-main-job-');
  const runsDir = path.join(dir, 'runs');
  writeIdxSet(path.join(dir, 'data'), fashionImages(200), true);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[] = []) => spawnSync(process.execPath, ['--import', TSX, EXAMPLE, '--runs-dir', runsDir, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, SIGNIN_TORCH_FASHION_MNIST_ROOT: path.join(dir, 'data'), SIGNIN_MAIN_EPOCHS: '2', SIGNIN_MAIN_TRAIN_BATCHES: '1', SIGNIN_TORCH_LOG_LEVEL: 'warn' },
    timeout: 280_000,
  });

  test('--parallel takes 2 or 1, as its help says', () => {
    for (const bad of ['3', '0', 'two']) {
      const r = run(['--parallel', bad]);
      expect({ bad, status: r.status, stderr: r.stderr.split('\n')[0] }).toEqual({ bad, status: 1, stderr: `error: option '--parallel <n>' argument '${bad}' is invalid. --parallel: expected 2 or 1, got '${bad}'` });
    }
    expect(fs.existsSync(runsDir)).toBe(false);
  }, 120_000);

  test('table from the run directories, paired configs, idempotent', () => {
    const first = run();
    expect(first.stderr).not.toMatch(/ERROR|failed/);
    expect(first.status).toBe(0);
    const runs = scanRuns(runsDir).runs;
    expect(runs).toHaveLength(2);
    const plain = runs.find((r) => !r.config.signin.enabled)!;
    const signin = runs.find((r) => r.config.signin.enabled)!;
    const strip = (c: typeof plain.config) => {
      const { signin: _s, ...rest } = nonDefaultFields(c) as Record<string, unknown>;
      return rest;
    };
    expect(strip(signin.config)).toEqual(strip(plain.config));
    expect(readConfig(plain.dir)).toMatchObject({
      dataset: { augment: { crop: { padding: 2 }, flip: true }, maxTrainBatches: 1 }, model: { name: 'cifar_resnet_20' },
      pruning: { method: 'random', sparsity: 0.95, distribution: 'erk' }, optimizer: { lr: 0.1, weightDecay: 5e-4 }, epochs: 2, threads: 1,
    });

    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const p = readFinal(plain.dir)!;
    const s = readFinal(signin.dir)!;
    const beta = readMetrics(signin.dir).at(-1)!.meanBeta!;
    expect(beta).toBeGreaterThan(0.5);
    expect(beta).toBeLessThan(1);
    expect(first.stdout).toContain(`| Random | ${pct(p.testAcc)} | ${pct(p.signFlips!.fromInit)} | ${pct(p.signFlips!.fromPrev)} | – |`);
    expect(first.stdout).toContain(`| Random + Sign-In | ${pct(s.testAcc)} | ${pct(s.signFlips!.fromInit)} | ${pct(s.signFlips!.fromPrev)} | ${beta.toFixed(3)} |`);
    expect(first.stdout).toContain('on 100 test images');
    expect(first.stdout).toContain('One pair is one sample');
    expect(first.stdout).toMatch(/Peak resident memory: \d+ and \d+ MiB \(the training processes\)/);

    // A long run's train.log: its child's peak-RSS line after 1 GiB (a sparse file), which is
    // longer than V8's longest string, so only a tail read finds the line.
    const log = path.join(plain.dir, 'train.log');
    fs.truncateSync(log, 2 ** 30);
    fs.appendFileSync(log, '\npeak resident memory of this run (MiB): 4242\n');
    const second = run();
    expect(second.status).toBe(0);
    const table = (out: string) => out.slice(out.indexOf('| method'), out.indexOf('Report,'));
    expect(table(second.stdout)).toBe(table(first.stdout));
    expect(second.stdout).toMatch(/Peak resident memory: 4242 and \d+ MiB \(the training processes\)/);
    expect(readMetrics(plain.dir)).toHaveLength(2);
  }, 300_000);
});
