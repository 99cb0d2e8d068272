/** Every example sweep file validates; each but the layer-β one compares Random with Random + Sign-In under one recipe. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configHash, nonDefaultFields } from '../../../src/experiments/hash';
import { expandSweep, loadSweepFile } from '../../../src/experiments/sweep';

const dir = path.join(__dirname, '..', '..', '..', 'examples', 'configs');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
// Sign-In in both arms: uniform β against a larger β in the outer layers (docs/results/README.md).
const LAYER_BETA = 'fashion-mnist-layer-beta.json';

test('the expected example files exist', () => {
  const expected = ['cifar10-resnet20', 'cifar100-resnet18', 'imagenet-resnet50'].flatMap((s) => [`${s}.json`, ...[80, 90, 95].map((p) => `${s}-${p}.json`)]);
  const vit = ['fashion-mnist-vit-90.json', 'fashion-mnist-vit-90-quick.json', 'imagenet-deit-small-90.json'];
  expect(files).toEqual([...expected, 'fashion-mnist-sweep.json', 'fashion-mnist-sweep-5ep.json', LAYER_BETA, ...vit].sort());
});

describe.each(files)('%s', (file) => {
  const { spec, runs } = loadSweepFile(path.join(dir, file));

  test('expands into valid configs', () => {
    expect(runs.length).toBeGreaterThan(0);
    expect(spec.seeds.length).toBeGreaterThan(0);
  });
});

describe.each(files.filter((f) => f !== LAYER_BETA))('%s', (file) => {
  const { runs } = loadSweepFile(path.join(dir, file));

  test('Random vs Random + Sign-In, sharing every other hyperparameter', () => {
    expect(new Set(runs.map((r) => r.config.signin.enabled))).toEqual(new Set([false, true]));
    for (const r of runs) expect(r.config.pruning).toMatchObject({ method: 'random', scope: 'layerwise', distribution: 'erk' });
    const strip = (c: (typeof runs)[number]['config']) => {
      const { signin: _s, ...rest } = nonDefaultFields(c) as Record<string, unknown>;
      return JSON.stringify(rest);
    };
    const plain = runs.filter((r) => !r.config.signin.enabled).map((r) => strip(r.config)).sort();
    const signin = runs.filter((r) => r.config.signin.enabled).map((r) => strip(r.config)).sort();
    expect(signin).toEqual(plain);
  });
});

test('CIFAR and ImageNet recipes (signin-method.md)', () => {
  const recipe = (f: string) => loadSweepFile(path.join(dir, f)).runs[0].config;
  for (const [f, wd] of [['cifar10-resnet20.json', 1e-4], ['cifar100-resnet18.json', 1e-3]] as const) {
    expect(recipe(f)).toMatchObject({
      optimizer: { lr: 0.1, momentum: 0.9, weightDecay: wd },
      schedule: { name: 'cosine', warmupEpochs: 0 },
      labelSmoothing: 0.1,
      epochs: 160,
      batchSize: 256,
    });
  }
  expect(recipe('imagenet-resnet50.json')).toMatchObject({
    dataset: { name: 'imagenet' },
    model: { name: 'resnet50' },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    schedule: { name: 'cosine', warmupEpochs: 5 },
    labelSmoothing: 0.1,
    epochs: 90,
    batchSize: 256,
  });
});

test('per-sparsity files are exactly the slices of the combined sweep (same run directories)', () => {
  for (const s of ['cifar10-resnet20', 'cifar100-resnet18', 'imagenet-resnet50']) {
    const all = loadSweepFile(path.join(dir, `${s}.json`)).runs;
    expect(new Set(all.map((r) => r.config.pruning.sparsity))).toEqual(new Set([0.8, 0.9, 0.95]));
    const parts = [80, 90, 95].flatMap((p) => loadSweepFile(path.join(dir, `${s}-${p}.json`)).runs);
    expect(parts.map((r) => configHash(r.config)).sort()).toEqual(all.map((r) => configHash(r.config)).sort());
  }
});

test.each(['fashion-mnist-sweep.json', 'fashion-mnist-sweep-5ep.json'])('%s: Random-ERK at 90/95/98%%, plain vs Sign-In, 3 seeds = 18 runs', (file) => {
  const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const runs = expandSweep(raw);
  expect(runs).toHaveLength(18);
  expect(new Set(runs.map((r) => r.config.pruning.sparsity))).toEqual(new Set([0.9, 0.95, 0.98]));
  expect(new Set(runs.map((r) => r.config.seed))).toEqual(new Set([0, 1, 2]));
  expect(runs[0].config.dataset.name).toBe('fashion_mnist');
});

test(`${LAYER_BETA}: Sign-In with uniform β 1 vs β 4 in layer3 and fc, the main job's Sign-In recipe otherwise, 3 seeds = 6 runs`, () => {
  const { runs } = loadSweepFile(path.join(dir, LAYER_BETA));
  expect(runs).toHaveLength(6);
  for (const r of runs) {
    expect(r.config).toMatchObject({
      dataset: { name: 'fashion_mnist', augment: { crop: { padding: 2 }, flip: true }, maxTrainBatches: 120 },
      model: { name: 'cifar_resnet_20', options: { shortcut: 'B' } },
      pruning: { method: 'random', sparsity: 0.95, scope: 'layerwise', distribution: 'erk' },
      signin: { enabled: true, beta: 1, resetPeriod: 1 },
      optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
      epochs: 5,
      batchSize: 128,
    });
  }
  const uniform = runs.filter((r) => r.config.signin.layerBeta === undefined);
  const outer = runs.filter((r) => r.config.signin.layerBeta !== undefined);
  expect(uniform.map((r) => r.config.seed).sort()).toEqual([0, 1, 2]);
  expect(outer.map((r) => r.config.seed).sort()).toEqual([0, 1, 2]);
  const layer3 = [0, 1, 2].flatMap((b) => [`layer3.${b}.conv1`, `layer3.${b}.conv2`]);
  for (const r of outer) {
    expect(r.config.signin.layerBeta).toEqual(Object.fromEntries([...layer3, 'layer3.0.downsample.0', 'fc'].map((n) => [n, 4])));
  }
  const strip = (c: (typeof runs)[number]['config']) => {
    const { signin: { layerBeta: _l, ...signin }, ...rest } = c;
    return JSON.stringify({ ...rest, signin });
  };
  expect(outer.map((r) => strip(r.config)).sort()).toEqual(uniform.map((r) => strip(r.config)).sort());
});
