/**
 * The sparsify section of the experiment config, the example configs, and bad input: errors name
 * the argument and what was expected, and a rejected mask change writes nothing.
 */
import * as path from 'node:path';
import {
  Acdc, Gmp, InvalidArgumentError, magnitudeMasks, Rigl, SparsityRecorder, Str, changeMasks, expandSweep, loadSweepFile, manualSeed, maskedLayers, ones, parseConfig,
  signTransfer, sparsifyCallbacksFromConfig, sparsifyScheduleIssues, tidy, zeros, type TransferKind,
} from '../../src';
import { errorOf } from '../helpers/error-of';
import { createToyModel } from '../helpers/toy-model';

const CONFIGS = path.join(__dirname, '../../examples/configs/sparsify');

describe('sparsify configs', () => {
  it.each([
    ['imagenet-resnet50-acdc.json', 6], ['imagenet-resnet50-rigl.json', 6], ['imagenet-resnet50-gmp.json', 6], ['fashion-mnist-sparsify-90.json', (4 * 2 + 2 + 2 * 2) * 3], ['imagenet-resnet50-str-90.json', 1],
  ])('%s expands into %i valid runs', (file, n) => {
    const { runs } = loadSweepFile(path.join(CONFIGS, file));
    expect(runs).toHaveLength(n);
    for (const r of runs) {
      const cbs = sparsifyCallbacksFromConfig(r.config, 100);
      if (r.config.sparsify) expect(cbs.map((c) => c.name)).toEqual([r.config.sparsify.method, 'sparsity-stats']);
      else expect(cbs).toEqual([]);
    }
  });

  it.each(['imagenet-resnet50-acdc.json', 'imagenet-resnet50-rigl.json', 'imagenet-resnet50-gmp.json', 'fashion-mnist-sparsify-90.json'])(
    '%s pairs every plain run with a Sign-In run sharing every other field', (file) => {
      const { runs } = loadSweepFile(path.join(CONFIGS, file));
      const strip = (c: (typeof runs)[number]['config']) => JSON.stringify({ ...c, signin: { ...c.signin, enabled: undefined } });
      const plain = runs.filter((r) => !r.config.signin.enabled).map((r) => strip(r.config)).sort();
      const signin = runs.filter((r) => r.config.signin.enabled).map((r) => strip(r.config)).sort();
      expect(plain.length).toBe(runs.length / 2);
      expect(signin).toEqual(plain);
    },
  );

  it('builds each method with the config knobs and its defaults', () => {
    const { runs } = loadSweepFile(path.join(CONFIGS, 'fashion-mnist-sparsify-90.json'));
    const byMethod = new Map(runs.filter((r) => r.config.sparsify && !r.config.signin.enabled).map((r) => [r.config.sparsify!.method, r.config]));
    const [gmp, stats] = sparsifyCallbacksFromConfig(byMethod.get('gmp')!, 469);
    expect(gmp).toBeInstanceOf(Gmp);
    expect(stats).toBeInstanceOf(SparsityRecorder);
    expect([(gmp as Gmp).endEpoch, (gmp as Gmp).frequency, (gmp as Gmp).sparsity, (gmp as Gmp).scope]).toEqual([3.75, 100, 0.9, 'global']);
    const rigl = sparsifyCallbacksFromConfig(byMethod.get('rigl')!, 469)[0] as Rigl;
    expect([rigl.name, rigl.totalSteps, rigl.tEnd, rigl.deltaT, rigl.alpha, rigl.distribution]).toEqual(['rigl', 2345, 1758, 100, 0.3, 'erk']);
    expect((sparsifyCallbacksFromConfig(byMethod.get('set')!, 469)[0] as Rigl).growth).toBe('random');
    const str = sparsifyCallbacksFromConfig(loadSweepFile(path.join(CONFIGS, 'imagenet-resnet50-str-90.json')).runs[0].config, 5005)[0] as Str;
    expect([str.name, str.sInit, str.momentum, str.weightDecay]).toEqual(['str', -3200, 0.875, 2.251757813e-05]);
    const acdc = sparsifyCallbacksFromConfig(byMethod.get('acdc')!, 469)[0] as Acdc;
    expect([0, 1, 2, 3, 4].map((e) => acdc.phaseAt(e))).toEqual(['dense', 'sparse', 'dense', 'sparse', 'sparse']);
    expect([acdc.scope, rigl.denseFirst]).toEqual(['global', false]);
  });

  it('the ImageNet configs follow their reference code: RiGL\'s first conv dense, AC/DC\'s one global threshold', () => {
    const first = (file: string) => sparsifyCallbacksFromConfig(loadSweepFile(path.join(CONFIGS, file)).runs[0].config, 5005)[0];
    expect((first('imagenet-resnet50-rigl.json') as Rigl).denseFirst).toBe(true);
    const acdc = first('imagenet-resnet50-acdc.json') as Acdc;
    expect([acdc.scope, acdc.resetMomentumAfterDecompress]).toEqual(['global', true]);
  });

  it('rejects a sparsify section next to a pruning method, and bad section values, naming the field', () => {
    const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 2 };
    const both = parseConfig({ ...base, pruning: { method: 'random', sparsity: 0.9 }, sparsify: { method: 'rigl', sparsity: 0.9 } });
    expect(() => sparsifyCallbacksFromConfig(both, 10)).toThrow(InvalidArgumentError);
    expect(() => sparsifyCallbacksFromConfig(both, 10)).toThrow(/pruning\.method/);
    expect(() => parseConfig({ ...base, sparsify: { method: 'snip', sparsity: 0.9 } })).toThrow(/sparsify\.method/);
    expect(() => parseConfig({ ...base, sparsify: { method: 'gmp', sparsity: 1 } })).toThrow(/sparsify\.sparsity/);
    expect(() => parseConfig({ ...base, sparsify: { method: 'gmp', sparsity: 0.5, deltaT: 0 } })).toThrow(/sparsify\.deltaT/);
    expect(() => expandSweep({ base, grid: { 'sparsify.method': ['acdc'] } })).toThrow(/sparsify\.sparsity/);
  });

  it("refuses STR with an optimizer other than the reference's plain-momentum SGD, at parse time, naming the field", () => {
    const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 2, sparsify: { method: 'str', sparsity: 0.9 } };
    const issues = (optimizer: object) => {
      const e = errorOf(() => parseConfig({ ...base, optimizer })) as Error & { code?: string; issues?: { path: string; message: string }[] };
      expect(e.code).toBe('ERR_CONFIG');
      return e.issues!.map((i) => `${i.path}: ${i.message}`);
    };
    const why = "(STR steps its raw weights and thresholds with torch.optim.SGD's plain momentum, as RAIVNLab/STR)";
    expect(issues({ nesterov: true })).toEqual([`optimizer.nesterov: Expected false with sparsify.method 'str' ${why} but received true of type boolean`]);
    expect(issues({ name: 'adamw' })).toEqual([`optimizer.name: Expected 'sgd' with sparsify.method 'str' ${why} but received 'adamw' of type string`]);
    expect(sparsifyCallbacksFromConfig(parseConfig(base), 10)[0]).toBeInstanceOf(Str);
  });

  it('refuses a GMP or AC/DC schedule longer than the run with the dotted field, saying when the value is a default', () => {
    const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 2 };
    const issues = (sparsify: object) => {
      const e = errorOf(() => sparsifyCallbacksFromConfig(parseConfig({ ...base, sparsify }), 10)) as Error & { code?: string; issues?: { path: string; message: string }[] };
      expect(e.code).toBe('ERR_CONFIG');
      return e.issues!.map((i) => `${i.path}: ${i.message}`);
    };
    expect(issues({ method: 'acdc', sparsity: 0.9 })).toEqual([
      'sparsify.warmupEpochs: Expected at most epochs (2) but received 10 (the default: sparsify.warmupEpochs is not set)',
      'sparsify.finetuneEpochs: Expected warmupEpochs + finetuneEpochs <= epochs (2) but received 10 + 10 (the defaults: neither is set)',
    ]);
    expect(issues({ method: 'acdc', sparsity: 0.9, warmupEpochs: 1, finetuneEpochs: 2 })).toEqual([
      'sparsify.finetuneEpochs: Expected warmupEpochs + finetuneEpochs <= epochs (2) but received 1 + 2',
    ]);
    expect(issues({ method: 'gmp', sparsity: 0.9, startEpoch: 2, endEpoch: 3, initialSparsity: 0.95 })).toEqual([
      'sparsify.endEpoch: Expected at most epochs (2) but received 3',
      'sparsify.initialSparsity: Expected at most sparsify.sparsity (0.9) but received 0.95',
    ]);
    expect(issues({ method: 'gmp', sparsity: 0.9, startEpoch: 2 })).toEqual([
      'sparsify.startEpoch: Expected at most sparsify.endEpoch (1.5, the default 0.75 × epochs: sparsify.endEpoch is not set) but received 2',
    ]);
    expect(sparsifyScheduleIssues(parseConfig({ ...base, sparsify: { method: 'acdc', sparsity: 0.9, warmupEpochs: 1, finetuneEpochs: 1 } }).sparsify!, 2)).toEqual([]);
  });
});

describe('sparsify API input checks', () => {
  it('changeMasks names an unknown layer, a wrong shape and a non-0/1 mask, and writes nothing', () => {
    manualSeed(1);
    const model = createToyModel();
    const conv1 = maskedLayers(model)[0][1];
    const keepConv1 = tidy(() => zeros(conv1.weight.shape));
    const good: [string, import('../../src').Tensor] = ['conv1', keepConv1];
    expect(() => changeMasks(model, new Map([good, ['nope', keepConv1]]))).toThrow(/Unknown masked layer 'nope'; valid names: conv1, conv2, fc/);
    expect(() => changeMasks(model, new Map([good, ['fc', ones([3])]]))).toThrow(/shape \[10, 8\] for masks\['fc'\] but received a Tensor of shape \[3\]/);
    expect(() => changeMasks(model, new Map([good, ['fc', tidy(() => ones([10, 8]).mul(0.5))]]))).toThrow(/masks\['fc'\].*other values/);
    expect(conv1.density()).toBe(1);
  });

  it('magnitudeMasks names bad layers, scope and eligible masks', () => {
    manualSeed(1);
    const layers = maskedLayers(createToyModel()).map(([, l]) => l);
    expect(() => magnitudeMasks(0 as never, 0, 0 as never)).toThrow(/Expected array of masked layers \(MaskedConv2d or MaskedLinear\) for layers but received 0/);
    expect(() => magnitudeMasks(layers, 0.5, 'nope' as never)).toThrow(/for scope but received 'nope'|for scope but received "nope"/);
    expect(() => magnitudeMasks(layers, 0.5, 'global', [])).toThrow(/Expected array of 3 Tensors for eligible/);
  });

  it('rejects bad options by name', () => {
    expect(() => new Gmp({ sparsity: 1, endEpoch: 2 })).toThrow(/sparsity/);
    expect(() => new Gmp({ sparsity: 0.5, startEpoch: 3, endEpoch: 2 })).toThrow(/endEpoch/);
    expect(() => new Rigl({ sparsity: 0.5, totalSteps: 0 })).toThrow(/totalSteps/);
    expect(() => new Rigl({ sparsity: 0.5, totalSteps: 10, growth: 'magic' as never })).toThrow(/growth/);
    expect(() => new Acdc({ sparsity: 0.5, epochs: 5, warmupEpochs: 6 })).toThrow(/warmupEpochs/);
    const model = createToyModel();
    expect(() => new Rigl({ sparsity: 0.5, totalSteps: 10 }).update(model, 1)).toThrow(/gradient of conv1\.weight/);
    expect(() => signTransfer(model, model.stateDict(), 'sizes' as TransferKind)).toThrow(/kind/);
  });
});
