/**
 * examples/imagenet/train-resnet50.ts end to end on a tiny generated ImageFolder (4 classes,
 * 12 + 4 JPEGs each, one more in val/ so that 2 workers get unequal shares, 80×64): ResNet-50 at
 * 32×32, Random-ERK 90% + Sign-In, one epoch of 3 steps, run in a child process as a user runs
 * it. Checks the run directory (metrics, final.json, config), the mask density in the checkpoint,
 * the printed accuracy, and that a second call finds the run finished and prints the same result
 * without training.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readConfig, readFinal, readMetrics } from '../../src/experiments';
import { loadSafetensors } from '../../src/nn/safetensors';
import { evalShard } from '../../examples/imagenet/evaluate';
import { fashionImages, tmpDir, writeImageFolder } from '../helpers/data-fixtures';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'imagenet', 'train-resnet50.ts');
const TSX = require.resolve('tsx');
const CLASSES = ['n01440764', 'n01443537', 'n01484850', 'n01491361'];

function runExample(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, EXAMPLE, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn' },
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('examples/imagenet/train-resnet50.ts', () => {
  const dir = tmpDir('signin-imagenet-example-');
  const root = path.join(dir, 'imagenet');
  const runsDir = path.join(dir, 'runs');
  const args = [
    root, '--pruner', 'random', '--sparsity', '0.9', '--signin', '--epochs', '1', '--batch-size', '8', '--image-size', '32',
    '--max-steps-per-epoch', '3', '--workers', '1', '--threads', '1', '--device', 'cpu', '--runs-dir', runsDir,
  ];

  beforeAll(async () => {
    const src = fashionImages(64);
    await writeImageFolder(path.join(root, 'train'), src, { classes: CLASSES, perClass: 12, format: 'jpeg', width: 80, height: 64 });
    await writeImageFolder(path.join(root, 'val'), src, { classes: CLASSES, perClass: 4, format: 'jpeg', width: 80, height: 64 });
    const first = path.join(root, 'val', CLASSES[1], 'img_0000.JPEG');
    fs.copyFileSync(first, path.join(path.dirname(first), 'img_extra.JPEG'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains a resumable run directory and prints its top-1/top-5', () => {
    const r = runExample(args);
    if (r.status !== 0) throw new Error(`example failed (${r.status}):\n${r.stdout}\n${r.stderr}`);

    const m = /^run directory: (.+) \(new\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    const runDir = m![1];
    expect(path.dirname(runDir)).toBe(runsDir);

    const config = readConfig(runDir);
    expect(config).toMatchObject({
      dataset: { name: 'imagenet', imageSize: 32, maxTrainBatches: 3, workers: 1 },
      model: { name: 'resnet50', options: { numClasses: 4 } },
      pruning: { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk' },
      signin: { enabled: true },
      optimizer: { lr: (0.1 * 8) / 256, momentum: 0.9, weightDecay: 1e-4 },
      schedule: { name: 'cosine', warmupEpochs: 0 },
      labelSmoothing: 0.1,
      epochs: 1,
      batchSize: 8,
    });

    const rows = readMetrics(runDir);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ epoch: 1, step: 3 });
    const final = readFinal(runDir)!;
    expect(final).toMatchObject({ epoch: 1, step: 3 });
    expect(final.testAcc).toBe(rows[0].testAcc);

    // Masks in the checkpoint: 10% of the prunable weights kept, a 4-class classifier.
    const tensors = loadSafetensors(path.join(runDir, 'checkpoint.safetensors'));
    try {
      let kept = 0;
      let total = 0;
      const masks = [...tensors.keys()].filter((k) => k.startsWith('model.') && k.endsWith('.weight_mask'));
      expect(masks.length).toBe(54); // 53 convs + fc
      for (const k of masks) {
        const v = tensors.get(k)!.toArray();
        kept += v.reduce((a, b) => a + b, 0);
        total += v.length;
      }
      expect(kept / total).toBeCloseTo(0.1, 3);
      expect(tensors.get('model.fc.weight_mask')!.shape).toEqual([4, 2048]);
      expect(tensors.has('model.fc.weight_m')).toBe(true); // Sign-In factors
    } finally {
      for (const t of tensors.values()) t.dispose();
    }

    const pct = (x: number | undefined) => `${((x ?? NaN) * 100).toFixed(2)}%`;
    const printed = /top-1 (\S+), top-5 (\S+) after 1 epochs/.exec(r.stdout);
    expect(printed).not.toBeNull();
    expect(printed![1]).toBe(pct(final.testAcc));
    expect(printed![2]).toBe(pct(final.testTop5));

    // The same command again: the run is finished, nothing is trained, the same result printed.
    const again = runExample(args);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`run directory: ${runDir} (finished earlier)`);
    expect(/top-1 \S+, top-5 \S+ after 1 epochs/.exec(again.stdout)![0]).toBe(printed![0]);
    expect(readMetrics(runDir)).toHaveLength(1);
  });

  it('--evaluate gives the run\'s final top-1/top-5, also sharded over 2 workers', () => {
    const runDir = fs.readdirSync(runsDir).map((d) => path.join(runsDir, d)).find((d) => fs.existsSync(path.join(d, 'final.json')))!;
    const final = readFinal(runDir)!;
    const pct = (x: number | undefined) => `${((x ?? NaN) * 100).toFixed(2)}%`;
    const expected = `val top-1 ${pct(final.testAcc)}, top-5 ${pct(final.testTop5)}`;
    const one = runExample([...args, '--evaluate']);
    if (one.status !== 0) throw new Error(`evaluate failed (${one.status}):\n${one.stdout}\n${one.stderr}`);
    expect(one.stdout).toContain(expected);
    const two = runExample([...args, '--evaluate', '--nproc-per-node', '2', '--resume', path.join(runDir, 'checkpoint.safetensors')]);
    if (two.status !== 0) throw new Error(`2-worker evaluate failed (${two.status}):\n${two.stdout}\n${two.stderr}`);
    expect(two.stdout.match(/val top-1/g)).toHaveLength(1); // rank 0 prints
    expect(two.stdout).toContain(expected);
  });

  it('--sync-bn names SyncBatchNorm in the config and another run directory', () => {
    const plain = runExample([...args, '--dry-run']);
    const synced = runExample([...args, '--dry-run', '--sync-bn']);
    const dirOf = (out: string) => /^run directory: (\S+) \(dry run\)$/m.exec(out)![1];
    const configOf = (out: string) => JSON.parse(out.slice(out.indexOf('{'))) as { syncBatchNorm: boolean };
    expect(configOf(plain.stdout).syncBatchNorm).toBe(false);
    expect(configOf(synced.stdout).syncBatchNorm).toBe(true);
    expect(dirOf(synced.stdout)).not.toBe(dirOf(plain.stdout));
  });

  it('rejects a root without train/ and val/', () => {
    const r = runExample([path.join(dir, 'missing'), '--runs-dir', runsDir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read .*missing.*train/);
  });
});

describe('examples/imagenet/evaluate.ts', () => {
  it('--evaluate shares the val images out among the workers, each exactly once', () => {
    for (const [n, world] of [[17, 2], [17, 3], [16, 4], [2, 4]]) {
      const shares = Array.from({ length: world }, (_, r) => Array.from(evalShard(n, r, world).indices()));
      expect(shares.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const [r, share] of shares.entries()) expect(evalShard(n, r, world).length).toBe(share.length);
    }
  });
});
