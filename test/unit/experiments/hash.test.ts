import { createHash } from 'node:crypto';
import { canonicalJson, configHash, nonDefaultFields } from '../../../src/experiments/hash';
import { parseConfig } from '../../../src/experiments/schema';

const minimal = { dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 160 };

describe('canonicalJson', () => {
  test('sorts keys at every level, keeps array order, drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,1]},"b":1}');
    expect(canonicalJson({ x: 1e-4 })).toBe('{"x":0.0001}');
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ x: 2n ** 70n })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(() => canonicalJson({ x: new Array(2 ** 32 - 1) })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });
});

describe('configHash (open_lth desc hashing)', () => {
  test('only non-default fields take part; required fields always do', () => {
    expect(nonDefaultFields(parseConfig(minimal))).toEqual(minimal);
    const c = parseConfig({ ...minimal, pruning: { method: 'random', sparsity: 0.9 }, signin: { enabled: true, beta: 1 }, optimizer: { weightDecay: 5e-4 } });
    expect(nonDefaultFields(c)).toEqual({
      ...minimal,
      pruning: { method: 'random', sparsity: 0.9, scope: 'layerwise' },
      signin: { enabled: true },
      optimizer: { weightDecay: 5e-4 },
    });
  });

  test('is the md5 of the canonical JSON of the non-default fields (pinned: changing it orphans every run directory)', () => {
    const expected = createHash('md5').update('{"dataset":{"name":"cifar10"},"epochs":160,"model":{"name":"cifar_resnet_20"}}').digest('hex');
    expect(configHash(parseConfig(minimal))).toBe(expected);
  });

  test('writing a default explicitly does not change the hash; changing a value does', () => {
    const h = configHash(parseConfig(minimal));
    expect(configHash(parseConfig({ ...minimal, optimizer: { lr: 0.1, momentum: 0.9 }, schedule: { milestones: [] }, seed: 0, model: { name: 'cifar_resnet_20', options: {} } }))).toBe(h);
    expect(configHash(parseConfig({ ...minimal, seed: 1 }))).not.toBe(h);
    expect(configHash(parseConfig({ ...minimal, optimizer: { lr: 0.05 } }))).not.toBe(h);
  });

  test('key order in the input does not matter', () => {
    const a = parseConfig({ epochs: 3, model: { name: 'lenet5', options: { b: 1, a: 2 } }, dataset: { name: 'mnist' } });
    const b = parseConfig({ dataset: { name: 'mnist' }, model: { options: { a: 2, b: 1 }, name: 'lenet5' }, epochs: 3 });
    expect(configHash(a)).toBe(configHash(b));
  });

  test('execution-only fields (device, threads, dataset.root) are not hashed', () => {
    const h = configHash(parseConfig(minimal));
    expect(configHash(parseConfig({ ...minimal, device: 'cuda:0', threads: 2, dataset: { name: 'cifar10', root: '/data/cifar' } }))).toBe(h);
  });

  test('a config written before a defaulted field existed keeps its hash', () => {
    // Simulates an old config.json: it lacks fields that now have defaults (e.g. signin.momentumAtReset).
    const old = { ...minimal, signin: { enabled: true }, pruning: { method: 'random', sparsity: 0.9 } };
    const now = parseConfig(old);
    expect(now.signin.momentumAtReset).toBe('keep');
    expect(configHash(parseConfig(old))).toBe(configHash(now));
    expect(configHash(parseConfig(JSON.parse(JSON.stringify(now))))).toBe(configHash(now));
  });
});
