/**
 * The config fields of GraSP's authors' setting (pruning.mode, pruning.temperature,
 * pruning.dataBatches): absent they leave every run directory's hash as it was (pinned below with
 * an md5 written out, and on the published runs' config.json files), written out at their
 * defaults they name the same run, and set for a pruner that would ignore them they are refused by
 * path. Their effect on masks: test/native/experiments/grasp-authors-config.test.ts.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configHash } from '../../../src/experiments/hash';
import { pruneOptionsFor } from '../../../src/experiments/resolve';
import { parseConfig, safeParseConfig } from '../../../src/experiments/schema';

const base = { dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, epochs: 160 };
const grasp = { ...base, pruning: { method: 'grasp', sparsity: 0.9 } };

function issuesOf(input: unknown): { path: string; message: string }[] {
  const r = safeParseConfig(input);
  return r.success ? [] : r.issues.map(({ path: p, message }) => ({ path: p, message }));
}

test('absent, the hash is the md5 of the same canonical JSON as before the fields existed', () => {
  const json = '{"dataset":{"name":"cifar10"},"epochs":160,"model":{"name":"cifar_resnet_20"},"pruning":{"method":"grasp","sparsity":0.9}}';
  expect(configHash(parseConfig(grasp))).toBe(createHash('md5').update(json).digest('hex'));
});

test('every published run keeps the directory its hash named', () => {
  const results = path.join(__dirname, '..', '..', '..', 'docs', 'results');
  const dirs = fs.readdirSync(results).flatMap((r) => {
    const runs = path.join(results, r, 'runs');
    return fs.existsSync(runs) ? fs.readdirSync(runs).map((d) => path.join(runs, d)) : [];
  }).filter((d) => fs.existsSync(path.join(d, 'config.json')));
  expect(dirs.length).toBeGreaterThan(50);
  const moved = dirs.filter((d) => `train_${configHash(parseConfig(JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'))))}` !== path.basename(d));
  expect(moved).toEqual([]);
});

test('written out at their defaults they name the same run; other values another', () => {
  const h = configHash(parseConfig(grasp));
  expect(configHash(parseConfig({ ...grasp, pruning: { ...grasp.pruning, mode: 'eval', temperature: 200, dataBatches: 1 } }))).toBe(h);
  for (const extra of [{ mode: 'train' }, { temperature: 100 }, { dataBatches: 2 }]) {
    expect(configHash(parseConfig({ ...grasp, pruning: { ...grasp.pruning, ...extra } }))).not.toBe(h);
  }
});

test("reach pruneModel: mode for snip and grasp, the temperature as GraSP's option", () => {
  const c = parseConfig({ ...grasp, pruning: { ...grasp.pruning, mode: 'train', temperature: 50, dataBatches: 2 } });
  expect(pruneOptionsFor(c)).toMatchObject({ method: 'grasp', mode: 'train', prunerOptions: { temperature: 50 } });
  expect(pruneOptionsFor(parseConfig(grasp))).not.toHaveProperty('mode');
  expect(pruneOptionsFor(parseConfig(grasp))).not.toHaveProperty('prunerOptions');
  expect(pruneOptionsFor(parseConfig({ ...base, pruning: { method: 'snip', sparsity: 0.9, mode: 'train' } }))).toMatchObject({ method: 'snip', mode: 'train' });
});

test('set where the pruner would ignore them, or out of range, they are refused by path', () => {
  const at = (pruning: Record<string, unknown>) => issuesOf({ ...base, pruning });
  expect(at({ method: 'snip', sparsity: 0.9, temperature: 100 })).toEqual([
    { path: 'pruning.temperature', message: "Only pruning.method 'grasp' takes a temperature (the method here is 'snip'); remove pruning.temperature" },
  ]);
  expect(at({ temperature: 100 })).toEqual([
    { path: 'pruning.temperature', message: "Only pruning.method 'grasp' takes a temperature (the method here is 'none'); remove pruning.temperature" },
  ]);
  for (const method of ['synflow', 'random', 'magnitude']) {
    expect(at({ method, sparsity: 0.9, mode: 'train', dataBatches: 2 })).toEqual(['mode', 'dataBatches'].map((k) => ({
      path: `pruning.${k}`,
      message: `Only the pruners that score on training data ('snip', 'grasp') take pruning.${k} (the method here is '${method}', which scores no batch); remove pruning.${k}`,
    })));
  }
  expect(at({ method: 'grasp', sparsity: 0.9, dataBatches: 3 })).toEqual([
    { path: 'pruning.dataBatches', message: 'Expected a divisor of pruning.dataSamples (128) but received 3 of type number' },
  ]);
  expect(at({ method: 'grasp', sparsity: 0.9, dataSamples: 100, dataBatches: 4 })).toEqual([]);
  expect(at({ method: 'grasp', sparsity: 0.9, temperature: 0, mode: 'test', dataBatches: 0 })).toEqual([
    { path: 'pruning.dataBatches', message: expect.stringMatching(/>= 1|at least 1|>=1/) },
    { path: 'pruning.mode', message: "Expected one of 'eval', 'train' but received 'test' of type string" },
    { path: 'pruning.temperature', message: 'Expected a number > 0 but received 0 of type number' },
  ]);
});
