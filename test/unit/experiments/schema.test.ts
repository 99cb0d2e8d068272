import { IssuesError } from '../../../src/errors';
import {
  DEFAULTS, ExperimentConfig, flattenDotted, formatPath, getDotted, parseConfig, safeParseConfig, setDotted,
} from '../../../src/experiments/schema';
import { registerModel } from '../../../src/models/registry';

const minimal = { dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 160 };

function issuesOf(input: unknown): { path: string; message: string }[] {
  const res = safeParseConfig(input);
  if (res.success) throw new Error('expected issues');
  return res.issues.map(({ path, message }) => ({ path, message }));
}

describe('ExperimentConfig', () => {
  test('a minimal config gets every documented default', () => {
    const c = parseConfig(minimal);
    expect(c).toEqual({
      dataset: { name: 'cifar10', augment: true, dropLast: false },
      model: { name: 'cifar_resnet_20', options: {} },
      pruning: {
        method: 'none', sparsity: 0, scope: 'global', denseFirst: false, denseLast: false, synflowDtype: 'float64', dataSamples: 128, dataBalanced: false,
      },
      signin: { enabled: false, beta: 1, resetPeriod: 1, resetUnit: 'epochs', momentumAtReset: 'keep' },
      optimizer: {
        lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-4, excludeBnAndBias: false, name: 'sgd', betas: [0.9, 0.999], eps: 1e-8,
      },
      schedule: { name: 'cosine', warmupEpochs: 0, milestones: [], gamma: 0.1, minLr: 0 },
      labelSmoothing: 0,
      epochs: 160,
      batchSize: 128,
      gradAccumSteps: 1,
      seed: 0,
      device: 'auto',
      threads: 0,
      evalEvery: 1,
      amp: false,
      channelsLast: 'auto',
      syncBatchNorm: false,
      checkpoint: { keepEpochs: [], keepEvery: 0 },
    });
    expect(c.optimizer.lr).toBe(DEFAULTS.optimizer.lr);
  });

  test('random pruning defaults to layerwise ERK; score-based pruners to one global threshold', () => {
    expect(parseConfig({ ...minimal, pruning: { method: 'random', sparsity: 0.9 } }).pruning)
      .toMatchObject({ method: 'random', scope: 'layerwise', distribution: 'erk' });
    const snip = parseConfig({ ...minimal, pruning: { method: 'snip', sparsity: 0.9 } }).pruning;
    expect(snip).toMatchObject({ scope: 'global' });
    expect(snip.distribution).toBeUndefined();
    expect(parseConfig({ ...minimal, pruning: { method: 'snip', sparsity: 0.9, scope: 'layerwise', distribution: 'uniform' } }).pruning)
      .toMatchObject({ scope: 'layerwise', distribution: 'uniform' });
  });

  test('parsing its own output again gives the same config (config.json round trip)', () => {
    for (const input of [
      minimal,
      { ...minimal, pruning: { method: 'random', sparsity: 0.95 }, signin: { enabled: true, layers: ['conv1'] } },
      { ...minimal, pruning: { method: 'synflow', sparsity: 0.9, iterations: 100 }, schedule: { name: 'step', milestones: [80, 120] }, gradClip: 5 },
    ]) {
      const once = parseConfig(input);
      expect(parseConfig(JSON.parse(JSON.stringify(once)))).toEqual(once);
    }
  });

  // Found by the file fuzz: a run's config.json with such a value took seconds per read (the
  // "did you mean" table had a row per character), and list runs, report and train read it 4 times.
  test('a value or key of a million characters is refused at once, without a suggestion', () => {
    const long = 'x'.repeat(1e6);
    const start = performance.now();
    const issues = issuesOf({ dataset: { name: long }, model: { name: 'cifar_resnet_20' }, pruning: { method: long, [long]: 1 }, epochs: 1 });
    const ms = performance.now() - start;
    expect(issues.map((i) => i.path)).toEqual(['dataset.name', 'pruning.method', `pruning.${'x'.repeat(200)}… (1000000 characters)`]);
    expect(issues.map((i) => i.message).join('\n')).not.toContain('did you mean');
    // The value is quoted by its first 200 characters and its length, not whole.
    expect(issues[1].message).toContain(`but received '${'x'.repeat(200)}…' (1000000 characters) of type string`);
    for (const i of issues) expect(i.path.length + i.message.length).toBeLessThan(2000);
    // 45 ms here at load 4, 66 s before; the bound holds on a loaded machine.
    expect(ms).toBeLessThan(2000);
  });

  test('a key of a million characters is shown by its first 200 in the path of a too-deep value', () => {
    const long = 'k'.repeat(1e6);
    const deep = JSON.parse(`${'['.repeat(100)}1${']'.repeat(100)}`) as unknown;
    const issues = issuesOf({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, [long]: deep });
    expect(issues.map((i) => i.path)).toEqual([`${'k'.repeat(200)}… (1000000 characters).${'0.'.repeat(62)}0`]);
  });

  test('every issue is reported at once, with dotted paths and the allowed values', () => {
    const bad = {
      dataset: { name: 'cifar11' },
      model: { name: 'ResNet20' },
      pruning: { method: 'rnd', sparsity: 1, sparsty: 0.5 },
      signin: { beta: 0, momentumAtReset: 'reset' },
      schedule: { milestones: [3, 2] },
      optimizr: {},
      epochs: 1.5,
      device: 'gpu',
    };
    expect(issuesOf(bad)).toMatchInlineSnapshot(`
[
  {
    "message": "Expected one of 'fashion_mnist', 'mnist', 'cifar10', 'cifar100', 'imagenet' but received 'cifar11' of type string (did you mean 'cifar10'?)",
    "path": "dataset.name",
  },
  {
    "message": "Expected one of 'cifar_resnet', 'cifar_resnet_20', 'cifar_resnet_32', 'cifar_resnet_44', 'cifar_resnet_56', 'cifar_resnet_110', 'resnet18', 'resnet34', 'resnet50', 'cifar_resnet18', 'cifar_resnet34', 'cifar_resnet50', 'vgg11_bn', 'vgg13_bn', 'vgg16_bn', 'vgg19_bn', 'wide_resnet', 'wrn_16_8', 'wrn_28_10', 'wrn_40_4', 'lenet5', 'mlp', 'vit', 'deit_tiny', 'deit_small', 'cifar_resnet_<6n+2>', 'wrn_<6n+4>_<k>' but received 'ResNet20' of type string (did you mean 'cifar_resnet_20'?)",
    "path": "model.name",
  },
  {
    "message": "Expected one of 'none', 'random', 'magnitude', 'snip', 'grasp', 'synflow' but received 'rnd' of type string",
    "path": "pruning.method",
  },
  {
    "message": "Expected a number < 1 but received 1 of type number",
    "path": "pruning.sparsity",
  },
  {
    "message": "Unknown key (did you mean 'sparsity'?); valid keys: method, sparsity, distribution, scope, denseFirst, denseLast, iterations, synflowDtype, dataSamples, dataBalanced, dataBatches, mode, temperature",
    "path": "pruning.sparsty",
  },
  {
    "message": "Expected a number > 0 but received 0 of type number",
    "path": "signin.beta",
  },
  {
    "message": "Expected one of 'keep', 'zero' but received 'reset' of type string",
    "path": "signin.momentumAtReset",
  },
  {
    "message": "Expected strictly increasing epochs",
    "path": "schedule.milestones",
  },
  {
    "message": "Expected integer but received 1.5 of type number",
    "path": "epochs",
  },
  {
    "message": "Expected 'auto', 'cpu', 'cuda' or 'cuda:N' but received 'gpu' of type string",
    "path": "device",
  },
  {
    "message": "Unknown key (did you mean 'optimizer'?); valid keys: dataset, model, pruning, signin, sparsify, transfer, optimizer, schedule, labelSmoothing, gradClip, epochs, batchSize, gradAccumSteps, seed, device, threads, evalEvery, hessian, amp, channelsLast, syncBatchNorm, checkpoint",
    "path": "optimizr",
  },
]
`);
  });

  // A field given at the top level that belongs in a section ({ "lr": 0.05 }) got no suggestion, or a
  // wrong one ('sparsity' suggested 'sparsify'): the section that holds the key exactly is named first.
  // model.name was only a snake_case pattern, refused when the model was built; now, as dataset.name and
  // pruning.method, the registry as it stands when the config is parsed (a family's members included).
  test('model.name is a name the model registry holds when the config is parsed', () => {
    const withModel = (name: string) => ({ ...minimal, model: { name } });
    for (const name of ['cifar_resnet_20', 'lenet5', 'deit_small', 'cifar_resnet_8', 'cifar_resnet_1202', 'wrn_10_2']) {
      expect({ name, ok: safeParseConfig(withModel(name)).success }).toEqual({ name, ok: true });
    }
    for (const name of ['resnet51', 'cifar_resnet_', 'wrn_10', 'my_net']) {
      expect(issuesOf(withModel(name))).toEqual([{ path: 'model.name', message: expect.stringMatching(new RegExp(`^Expected one of 'cifar_resnet', .*, 'wrn_<6n\\+4>_<k>' but received '${name}' of type string`)) }]);
    }
    expect(issuesOf(withModel('resnet51'))[0].message).toMatch(/ \(did you mean 'resnet50'\?\)$/);
    registerModel({ name: 'my_net', description: 'registered after the schema loaded', options: {}, create: () => { throw new Error('not built by a parse'); } });
    expect(parseConfig(withModel('my_net')).model).toEqual({ name: 'my_net', options: {} });
    expect(issuesOf(withModel('my_nett'))[0].message).toMatch(/'deit_small', 'my_net', 'cifar_resnet_<6n\+2>', .* \(did you mean 'my_net'\?\)$/);
  });

  test('a key given outside its section is pointed to the section that holds it', () => {
    const issues = issuesOf({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, lr: 0.05, sparsity: 0.9, pruning: { beta: 2 } });
    const hint = (path: string) => issues.find((i) => i.path === path)?.message.replace(/; valid keys: .*/, '');
    expect(hint('lr')).toBe("Unknown key (did you mean 'optimizer.lr'?)");
    expect(hint('sparsity')).toBe("Unknown key (did you mean 'pruning.sparsity' or 'sparsify.sparsity'?)");
    // Only the sections of the level where the key was given are looked in: signin.beta is not one of pruning's.
    expect(hint('pruning.beta')).toBe('Unknown key');
  });

  test('parseConfig throws ONE IssuesError with code ERR_CONFIG whose message lists every issue', () => {
    let err: unknown;
    try {
      parseConfig({ dataset: { name: 'cifar10' }, model: {}, epochs: 0 }, 'in test.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IssuesError);
    const e = err as IssuesError;
    expect(e.code).toBe('ERR_CONFIG');
    expect(e.issues.map((i) => i.path)).toEqual(['model.name', 'epochs']);
    expect(e.message).toBe([
      'Invalid experiment config in test.json (2 issues):',
      '\tmodel.name: Required: expected string',
      '\tepochs: Expected a number >= 1 but received 0 of type number',
    ].join('\n'));
  });

  test('required fields and a non-object input', () => {
    expect(issuesOf({})).toEqual([
      { path: 'dataset', message: 'Required: expected object' },
      { path: 'model', message: 'Required: expected object' },
      { path: 'epochs', message: 'Required: expected number' },
    ]);
    expect(issuesOf(5)).toEqual([{ path: '', message: 'Expected object but received 5 of type number' }]);
    expect(issuesOf({ ...minimal, pruning: 'random' })).toEqual([{ path: 'pruning', message: "Expected object but received 'random' of type string" }]);
  });

  test('cross-field checks are reported together with field errors', () => {
    expect(issuesOf({ ...minimal, batchSize: 0, pruning: { sparsity: 0.9 } })).toEqual([
      { path: 'batchSize', message: 'Expected a number >= 1 but received 0 of type number' },
      { path: 'pruning.sparsity', message: "Expected 0 when pruning.method is 'none' but received 0.9 of type number; set pruning.method to one of 'random', 'magnitude', 'snip', 'grasp', 'synflow'" },
    ]);
    expect(issuesOf({ ...minimal, schedule: { name: 'step' } })).toEqual([
      { path: 'schedule.milestones', message: "Expected at least one epoch when schedule.name is 'step'" },
    ]);
    expect(issuesOf({ ...minimal, epochs: 5, schedule: { warmupEpochs: 5 } })).toEqual([
      { path: 'schedule.warmupEpochs', message: 'Expected a number < epochs (5) but received 5 of type number' },
    ]);
    expect(issuesOf({ ...minimal, pruning: { method: 'snip', sparsity: 0.5, distribution: 'erk' } })).toEqual([
      { path: 'pruning.distribution', message: "Layer densities apply only with pruning.scope 'layerwise' (the scope here is 'global'); set pruning.scope to 'layerwise' or remove pruning.distribution" },
    ]);
  });

  test('ranges: sparsity in [0, 1), label smoothing in [0, 1), integers where counts are meant', () => {
    expect(safeParseConfig({ ...minimal, pruning: { method: 'random', sparsity: 0 } }).success).toBe(true);
    expect(safeParseConfig({ ...minimal, pruning: { method: 'random', sparsity: 0.999 } }).success).toBe(true);
    expect(issuesOf({ ...minimal, pruning: { method: 'random', sparsity: -0.1 } })).toEqual([
      { path: 'pruning.sparsity', message: 'Expected a number >= 0 but received -0.1 of type number' },
    ]);
    expect(issuesOf({ ...minimal, labelSmoothing: 1, seed: -1, signin: { resetPeriod: 0.5, layers: [] } }).map((i) => i.path))
      .toEqual(['signin.resetPeriod', 'signin.layers', 'labelSmoothing', 'seed']);
    expect(safeParseConfig({ ...minimal, signin: { enabled: true, resetPeriod: 0 } }).success).toBe(true);
    expect(safeParseConfig({ ...minimal, device: 'cuda:1' }).success).toBe(true);
  });

  test('the zod schema itself is exported for tooling', () => {
    expect(ExperimentConfig.safeParse(minimal).success).toBe(true);
  });
});

describe('dotted paths', () => {
  test('setDotted creates objects, getDotted reads, flattenDotted lists leaves', () => {
    const o: Record<string, unknown> = { a: 1 };
    setDotted(o, 'pruning.sparsity', 0.9);
    setDotted(o, 'a', 2);
    expect(o).toEqual({ a: 2, pruning: { sparsity: 0.9 } });
    expect(getDotted(o, 'pruning.sparsity')).toBe(0.9);
    expect(getDotted(o, 'pruning.nope.deeper')).toBeUndefined();
    expect(flattenDotted({ a: { b: 1, c: [1, 2], d: {} }, e: undefined })).toEqual({ 'a.b': 1, 'a.c': [1, 2], 'a.d': {} });
    expect(() => setDotted({}, 'a..b', 1)).toThrow(/dotted path/);
  });

  test('formatPath', () => {
    expect(formatPath(['schedule', 'milestones', 1])).toBe('schedule.milestones[1]');
    expect(formatPath([])).toBe('');
  });
});
