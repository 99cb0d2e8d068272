/**
 * The issue-12 configs in configs/: each validates, holds the regime, and pairs every
 * Sign-In run with a plain run of the same seed that differs only in signin.* (so the report's
 * paired table can match them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nonDefaultFields } from '../../../src/experiments/hash';
import { parseConfig } from '../../../src/experiments/schema';
import { loadSweepFile } from '../../../src/experiments/sweep';

const dir = path.join(__dirname, '..', '..', '..', 'configs');
const sweeps = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'fashion-mnist-resnet20.json').sort();

const REGIME = {
  dataset: { name: 'fashion_mnist', augment: { crop: { padding: 2 }, flip: true } },
  model: { name: 'cifar_resnet_20', options: { shortcut: 'B' } },
  pruning: { denseFirst: false, denseLast: false },
  optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, excludeBnAndBias: false, nesterov: false },
  schedule: { name: 'cosine', warmupEpochs: 0 },
  epochs: 6,
  batchSize: 128,
  labelSmoothing: 0,
};

test('the single config is the regime at 95%, Random-ERK, Sign-In reset every epoch with β = 1', () => {
  const c = parseConfig(JSON.parse(fs.readFileSync(path.join(dir, 'fashion-mnist-resnet20.json'), 'utf8')));
  expect(c).toMatchObject({ ...REGIME, pruning: { method: 'random', sparsity: 0.95, scope: 'layerwise', distribution: 'erk' }, signin: { beta: 1, resetPeriod: 1, resetUnit: 'epochs' } });
});

test('the expected sweep files exist', () => {
  expect(sweeps).toEqual([
    'fashion-mnist-resnet20-ablations-quick.json', 'fashion-mnist-resnet20-ablations.json', 'fashion-mnist-resnet20-masks-quick.json',
    'fashion-mnist-resnet20-masks.json', 'fashion-mnist-resnet20-sweep-quick.json', 'fashion-mnist-resnet20-sweep.json',
  ]);
});

describe.each(sweeps)('%s', (file) => {
  const { spec, runs } = loadSweepFile(path.join(dir, file));

  test('the regime, at least 4 seeds', () => {
    expect(spec.seeds.length).toBeGreaterThanOrEqual(4);
    for (const r of runs) expect(r.config).toMatchObject(REGIME);
  });

  test('every Sign-In run has a plain twin: same seed, every field but signin.* equal', () => {
    const strip = (c: (typeof runs)[number]['config']) => {
      const { signin: _s, ...rest } = nonDefaultFields(c) as Record<string, unknown>;
      return JSON.stringify(rest);
    };
    const plain = new Set(runs.filter((r) => !r.config.signin.enabled).map((r) => strip(r.config)));
    const signin = runs.filter((r) => r.config.signin.enabled);
    expect(signin.length).toBeGreaterThan(0);
    for (const r of signin) expect(plain.has(strip(r.config))).toBe(true);
  });
});

test('the sweep covers 90/95/98/99% × plain/Sign-In × seeds 0–3; the ablations and masks what the issue lists', () => {
  const cells = (file: string, key: (c: ReturnType<typeof parseConfig>) => string) => new Set(loadSweepFile(path.join(dir, file)).runs.map((r) => key(r.config)));
  expect(cells('fashion-mnist-resnet20-sweep.json', (c) => `${c.pruning.sparsity}/${c.signin.enabled}/${c.seed}`).size).toBe(4 * 2 * 4);
  const abl = cells('fashion-mnist-resnet20-ablations.json', (c) => (c.signin.enabled ? JSON.stringify([c.signin.resetPeriod, c.signin.beta, c.signin.momentumAtReset, c.signin.layers ?? 'all']) : 'plain'));
  expect([...abl].sort()).toEqual([
    '[0,1,"keep","all"]', '[1,0.5,"keep","all"]', '[1,1,"keep","all"]', '[1,1,"keep",["layer3.0.conv1","layer3.0.conv2","layer3.0.downsample.0","layer3.1.conv1","layer3.1.conv2","layer3.2.conv1","layer3.2.conv2","fc"]]',
    '[1,1,"zero","all"]', '[1,2,"keep","all"]', '[2,1,"keep","all"]', '[5,1,"keep","all"]', 'plain',
  ]);
  expect([...cells('fashion-mnist-resnet20-masks.json', (c) => c.pruning.method)].sort()).toEqual(['grasp', 'magnitude', 'snip', 'synflow']);
});

test('each quick config is its full config with the quick sweep\'s base: same grid and seeds, fewer batches per epoch, fewer Hessian iterations', () => {
  const quickBase = loadSweepFile(path.join(dir, 'fashion-mnist-resnet20-sweep-quick.json')).spec.base;
  for (const name of ['ablations', 'masks']) {
    const full = loadSweepFile(path.join(dir, `fashion-mnist-resnet20-${name}.json`)).spec;
    const quick = loadSweepFile(path.join(dir, `fashion-mnist-resnet20-${name}-quick.json`)).spec;
    expect(quick.grid).toEqual(full.grid);
    expect(quick.seeds).toEqual(full.seeds);
    expect(quick.base).toEqual(quickBase);
  }
});
