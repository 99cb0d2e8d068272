/**
 * `report --pair-by`: pairs along any config field, against numbers computed here from the chosen
 * accuracies: per-seed differences, their mean, the sample sd and the 95% paired-t interval
 * mean ± t(0.975, n − 1)·sd/√n with t(0.975, 2) = 4.302653 and t(0.975, 1) = 12.706205 (tables).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadRuns, sparsityLabel, writeReport } from '../../../src/experiments/report';
import { pairedBy, pairedByToMarkdown, parsePairBy } from '../../../src/experiments/report-pair-by';
import type { PairedCell } from '../../../src/experiments/report-paired';
import { appendMetrics, createRunDir, writeFinal } from '../../../src/experiments/runs';
import { parseConfig, setDotted } from '../../../src/experiments/schema';
import { errorOf } from '../../helpers/error-of';
import { removeDir, tempDir } from './fixtures';

const T_975 = { 1: 12.706205, 2: 4.302653 } as Record<number, number>;

let root: string;

/** A finished run of Random 90% on CIFAR-10 with the fields `set` (dotted) changed; top-1 `acc` (percent). */
function run(set: Record<string, unknown>, seed: number, acc: number, runsDir = root): void {
  const raw = { dataset: { name: 'cifar10' }, model: { name: 'cifar_resnet_20' }, pruning: { method: 'random', sparsity: 0.9 }, epochs: 1, seed };
  for (const [k, v] of Object.entries(set)) setDotted(raw, k, v);
  const { dir } = createRunDir(runsDir, parseConfig(raw));
  appendMetrics(dir, { epoch: 1, step: 10, trainLoss: 1, trainAcc: 0.5, testLoss: 1, testAcc: acc / 100, lr: 0.1, epochSeconds: 1 });
  writeFinal(dir, { epoch: 1, step: 10, testAcc: acc / 100, testLoss: 1 });
}

/** The closed form of b − a: differences, mean, sample sd, interval. */
function expectPairs(c: PairedCell, seeds: number[], a: number[], b: number[]): void {
  const d = b.map((x, i) => x - a[i]);
  const n = d.length;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  expect(c.seeds).toEqual(seeds);
  expect(c.summary.n).toBe(n);
  d.forEach((x, i) => expect(c.summary.differences[i]).toBeCloseTo(x, 10));
  expect(c.summary.mean).toBeCloseTo(mean, 10);
  expect(c.summary.positive).toBe(d.filter((x) => x > 0).length);
  if (n < 2) {
    expect(c.summary.ci95.every(Number.isNaN)).toBe(true);
    return;
  }
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (T_975[n - 1] * sd) / Math.sqrt(n);
  expect(c.summary.sd).toBeCloseTo(sd, 10);
  expect(c.summary.ci95[0]).toBeCloseTo(mean - half, 5);
  expect(c.summary.ci95[1]).toBeCloseTo(mean + half, 5);
}

beforeAll(() => {
  root = tempDir('pair-by');
  // optimizer.lr (a setting field: each lr is a table of its own), Random layerwise at 90%:
  //   0.1 (the default): 80, 82, 84; 0.05: 81.5, 82, 86; 0.2: 79, 83 (no seed 2).
  [80, 82, 84].forEach((acc, seed) => run({}, seed, acc));
  [81.5, 82, 86].forEach((acc, seed) => run({ 'optimizer.lr': 0.05 }, seed, acc));
  [79, 83].forEach((acc, seed) => run({ 'optimizer.lr': 0.2 }, seed, acc));
  // pruning.scope (a row field), lr 0.1: global at 90%: 85, 86, 90; at 95% seed 0 in both scopes: 70 and 72.
  [85, 86, 90].forEach((acc, seed) => run({ 'pruning.scope': 'global' }, seed, acc));
  // ... and at lr 0.05 (a second group of the same label): global 83, 82.5 against layerwise 81.5, 82.
  [83, 82.5].forEach((acc, seed) => run({ 'optimizer.lr': 0.05, 'pruning.scope': 'global' }, seed, acc));
  run({ 'pruning.sparsity': 0.95 }, 0, 70);
  run({ 'pruning.sparsity': 0.95, 'pruning.scope': 'global' }, 0, 72);
  // Sign-In with β 2 and 4 (no β 1, the default) and with layerBeta { fc: 4 } next to β 2.
  [86, 87].forEach((acc, seed) => run({ 'signin.enabled': true, 'signin.beta': 2 }, seed, acc));
  [84, 84.5].forEach((acc, seed) => run({ 'signin.enabled': true, 'signin.beta': 4 }, seed, acc));
  [85, 88].forEach((acc, seed) => run({ 'signin.enabled': true, 'signin.beta': 2, 'signin.layerBeta': { fc: 4 } }, seed, acc));
});
afterAll(() => removeDir(root));

describe('pairedBy', () => {
  test('a setting field (optimizer.lr): each lr against the default 0.1, over the seeds both ran', () => {
    const p = pairedBy(loadRuns(root), 'optimizer.lr');
    const rows = p.rows.filter((r) => r.group === 'cifar10 cifar_resnet_20 · Random');
    expect(rows.map((r) => [r.baseline, r.value, r.baselineFrom])).toEqual([[0.1, 0.05, 'default'], [0.1, 0.2, 'default']]);
    expectPairs(rows[0].cells[0], [0, 1, 2], [80, 82, 84], [81.5, 82, 86]);
    expectPairs(rows[1].cells[0], [0, 1], [80, 82], [79, 83]);
    expect(p.notes).toEqual([]);
  });

  test('a baseline given: the other values against it', () => {
    const p = pairedBy(loadRuns(root), 'optimizer.lr', 0.05);
    expect(p.rows.map((r) => [r.group, r.baseline, r.value, r.baselineFrom])).toEqual([
      ['cifar10 cifar_resnet_20 · Random', 0.05, 0.1, 'given'],
      ['cifar10 cifar_resnet_20 · Random', 0.05, 0.2, 'given'],
      ['cifar10 cifar_resnet_20 · Random (global)', 0.05, 0.1, 'given'],
    ]);
    expectPairs(p.rows[0].cells[0], [0, 1, 2], [81.5, 82, 86], [80, 82, 84]);
    expectPairs(p.rows[1].cells[0], [0, 1], [81.5, 82], [79, 83]);
    expectPairs(p.rows[2].cells[0], [0, 1], [83, 82.5], [85, 86]);
  });

  test("a row field (pruning.scope): random's default layerwise is the baseline though global sorts first; each sparsity apart", () => {
    const p = pairedBy(loadRuns(root), 'pruning.scope');
    // Groups of one label are told apart by the field in which they differ, its default written out.
    expect(p.rows.map((r) => [r.group, r.baseline, r.value, r.baselineFrom])).toEqual([
      ['cifar10 cifar_resnet_20 · Random (optimizer.lr=0.05)', 'layerwise', 'global', 'default'],
      ['cifar10 cifar_resnet_20 · Random (optimizer.lr=0.1)', 'layerwise', 'global', 'default'],
    ]);
    expectPairs(p.rows[0].cells[0], [0, 1], [81.5, 82], [83, 82.5]);
    const r = p.rows[1];
    expect(r.cells.map((c) => c.sparsity)).toEqual([0.9, 0.95]);
    expectPairs(r.cells[0], [0, 1, 2], [80, 82, 84], [85, 86, 90]);
    expectPairs(r.cells[1], [0], [70], [72]);
    const md = pairedByToMarkdown(p, sparsityLabel);
    expect(md).toContain('## Paired differences by pruning.scope\n\n| pruning.scope: value − baseline | sparsity |');
    // p: t = 5√3 on 2 df, P(|T| > t) = 1 − t/√(2 + t²). Holm over the section's two tests (the one pair
    // has none): the lr 0.05 pair's t = 2 on 1 df has p = 1 − (2/π)·atan 2 > 2·p, so this one's is 2·p.
    const t = 5 * Math.sqrt(3);
    const p90 = 1 - t / Math.sqrt(2 + t * t);
    expect(1 - (2 / Math.PI) * Math.atan(2)).toBeGreaterThan(2 * p90);
    expect(md).toContain(`| cifar10 cifar_resnet_20 · Random (optimizer.lr=0.1): global − layerwise | 90% | 3 | 0: +5.00, 1: +4.00, 2: +6.00 | +5.00 | [+2.52, +7.48] | ${p90.toFixed(3)} | ${(2 * p90).toFixed(3)} | 3 of 3 |`);
    expect(md).toContain('| cifar10 cifar_resnet_20 · Random (optimizer.lr=0.1): global − layerwise | 95% | 1 | 0: +2.00 | +2.00 | – (one pair) | – | – | 1 of 1 |');
  });

  test('without the default among the runs the smallest value is the baseline; a map compares and prints as compact JSON, absent as null', () => {
    const beta = pairedBy(loadRuns(root), 'signin.beta');
    expect(beta.rows.map((r) => [r.group, r.baseline, r.value, r.baselineFrom])).toEqual([['cifar10 cifar_resnet_20 · Random + Sign-In', 2, 4, 'smallest']]);
    expectPairs(beta.rows[0].cells[0], [0, 1], [86, 87], [84, 84.5]);
    const layer = pairedBy(loadRuns(root), 'signin.layerBeta');
    expect(layer.rows.map((r) => [r.baseline, r.value, r.baselineFrom])).toEqual([[null, { fc: 4 }, 'default']]);
    expectPairs(layer.rows[0].cells[0], [0, 1], [86, 87], [85, 88]);
    expect(pairedByToMarkdown(layer, sparsityLabel)).toContain('| cifar10 cifar_resnet_20 · Random + Sign-In: {"fc":4} − null | 90% | 2 |');
    expect(pairedBy(loadRuns(root), 'signin.layerBeta', { fc: 4 }).rows.map((r) => [r.baseline, r.value])).toEqual([[{ fc: 4 }, null]]);
  });

  test('groups of one label told apart by a per-layer β name it once, and the uniform group by "none"', () => {
    const dir = tempDir('pair-by-layer-beta');
    try {
      // Sign-In at β 1 and 2, uniform and with β 4 on two layers: uniform 86, 87 → 85, 88; per-layer 80, 81 → 82, 84.
      const outer = { fc: 4, 'layer3.0.conv1': 4 };
      [[86, 87], [85, 88]].forEach((accs, i) => accs.forEach((acc, seed) => run({ 'signin.enabled': true, 'signin.beta': i + 1 }, seed, acc, dir)));
      [[80, 81], [82, 84]].forEach((accs, i) => accs.forEach((acc, seed) => run({ 'signin.enabled': true, 'signin.beta': i + 1, 'signin.layerBeta': outer }, seed, acc, dir)));
      const p = pairedBy(loadRuns(dir), 'signin.beta');
      expect(p.rows.map((r) => [r.group, r.baseline, r.value, r.baselineFrom])).toEqual([
        ['cifar10 cifar_resnet_20 · Random + Sign-In (signin.layerBeta=2 layers at 4)', 1, 2, 'default'],
        ['cifar10 cifar_resnet_20 · Random + Sign-In (signin.layerBeta=none)', 1, 2, 'default'],
      ]);
      expectPairs(p.rows[0].cells[0], [0, 1], [80, 81], [82, 84]);
      expectPairs(p.rows[1].cells[0], [0, 1], [86, 87], [85, 88]);
    } finally {
      removeDir(dir);
    }
  });

  test('what the runs do not hold is a note: a field no two runs differ in only, a baseline no run has', () => {
    const none = pairedBy(loadRuns(root), 'optimizer.momentum');
    expect(none.rows).toEqual([]);
    expect(none.notes).toEqual(['No two finished runs that agree on every other field (seed and sparsity aside) differ in optimizer.momentum: nothing to pair.']);
    expect(pairedByToMarkdown(none, sparsityLabel)).toBe(`## Paired differences by optimizer.momentum\n\n${none.notes[0]}\n`);
    const absent = pairedBy(loadRuns(root), 'optimizer.lr', 0.3);
    expect(absent.rows).toEqual([]);
    expect(absent.notes).toEqual(['2 of the 2 group(s) whose runs differ in optimizer.lr have no finished run with optimizer.lr = 0.3 and are left out.']);
    // β 2 and β 4 are both in Sign-In runs, the plain runs have neither: the values differ along signin.enabled too.
    const enabled = pairedBy(loadRuns(root).filter((r) => r.config.signin.beta === 4 || !r.config.signin.enabled), 'signin.beta');
    expect(enabled.notes[0]).toMatch(/ Its values \(1, 4\) are in runs that differ in signin\.enabled too\.$/);
  });

  test('errors name the argument: an unknown field, the seed or a sparsity, a baseline the schema refuses, bad runs', () => {
    const runs = loadRuns(root);
    expect(errorOf(() => pairedBy(runs, 'optimizer.lrr')).message).toMatch(/^Expected a dotted field of the config schema .* \(optimizer\.lrr: Unknown key \(did you mean 'lr'\?\).*\) for field but received 'optimizer\.lrr' of type string$/);
    expect(errorOf(() => pairedBy(runs, 'training.lr')).message).toMatch(/\(training: Unknown key; valid keys: dataset, model, .*optimizer.*\) for field but received 'training\.lr' of type string$/);
    for (const f of ['seed', 'pruning.sparsity', 'sparsify', '', 'a..b', '__proto__.x']) {
      expect(errorOf(() => pairedBy(runs, f))).toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/ for field but received /) });
    }
    // Below a value that is not an object: signin.beta is a number, seed.x likewise.
    expect(errorOf(() => pairedBy(runs, 'signin.beta.x')).message).toMatch(/\(signin\.beta holds a value, not fields: Expected number but received an object\) for field but received 'signin\.beta\.x' of type string$/);
    expect(errorOf(() => pairedBy(runs, 'optimizer.lr.a.b')).message).toMatch(/\(optimizer\.lr holds a value, not fields/);
    // A map's entry and a field under a union are fields.
    expect(pairedBy(runs, 'signin.layerBeta.fc').field).toBe('signin.layerBeta.fc');
    expect(pairedBy(runs, 'dataset.augment.crop.padding').field).toBe('dataset.augment.crop.padding');
    expect(errorOf(() => pairedBy(runs, 'pruning.scope', 'globl')).message).toMatch(/^Expected a value of pruning\.scope the config schema takes \(pruning\.scope: Expected one of 'global', 'layerwise'.*\) for baseline but received 'globl' of type string$/);
    expect(errorOf(() => pairedBy(runs, 'signin.beta', -1)).message).toMatch(/for baseline but received -1 of type number$/);
    expect(errorOf(() => pairedBy([{}] as never, 'signin.beta')).message).toMatch(/for runs\[0\]\.config/);
  });

  test('parsePairBy: field, or field=baseline as JSON where it parses, else text; errors name --pair-by', () => {
    expect(parsePairBy('pruning.scope')).toEqual({ field: 'pruning.scope' });
    expect(parsePairBy('pruning.scope=global')).toEqual({ field: 'pruning.scope', baseline: 'global' });
    expect(parsePairBy('signin.beta=4')).toEqual({ field: 'signin.beta', baseline: 4 });
    expect(parsePairBy('signin.layerBeta={"fc":4}')).toEqual({ field: 'signin.layerBeta', baseline: { fc: 4 } });
    expect(parsePairBy('signin.layerBeta=null')).toEqual({ field: 'signin.layerBeta', baseline: null });
    expect(errorOf(() => parsePairBy('training.lr')).message).toMatch(/ for --pair-by but received 'training\.lr' of type string$/);
    expect(errorOf(() => parsePairBy('=4')).message).toMatch(/ for --pair-by but received '' of type string$/);
    expect(errorOf(() => parsePairBy('optimizer.lr=fast')).message).toMatch(/^Expected a value of optimizer\.lr the config schema takes .* for --pair-by but received 'fast' of type string$/);
  });
});

describe('writeReport with pairBy', () => {
  test('a section per field after the tables in report.md; paired.json keeps the tables\' entries and appends one per field', async () => {
    const out = path.join(root, 'report');
    const r = await writeReport(root, out, { plots: false, pairBy: [{ field: 'pruning.scope' }, { field: 'optimizer.lr', baseline: 0.05 }] });
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toBe(r.markdown);
    const scope = md.indexOf('## Paired differences by pruning.scope');
    const lr = md.indexOf('## Paired differences by optimizer.lr');
    expect(md.lastIndexOf('### cifar10 cifar_resnet_20')).toBeLessThan(scope);
    expect(scope).toBeLessThan(lr);
    expect(md).toContain('| cifar10 cifar_resnet_20 · Random: 0.1 − 0.05 | 90% | 3 | 0: −1.50, 1: +0.00, 2: −2.00 |');
    expect(md).toContain('Baseline: 0.05, as given.');
    const paired = JSON.parse(fs.readFileSync(path.join(out, 'paired.json'), 'utf8')) as { table: string; accuracy: unknown[]; pairBy?: { field: string; rows: unknown[] } }[];
    const tables = r.tables.length;
    expect(paired).toHaveLength(tables + 2);
    expect(paired.slice(0, tables).every((e) => e.pairBy === undefined && Array.isArray(e.accuracy))).toBe(true);
    expect(paired.slice(tables).map((e) => [e.table, e.accuracy, e.pairBy!.field, e.pairBy!.rows.length])).toEqual([
      ['Paired differences by pruning.scope', [], 'pruning.scope', 2],
      ['Paired differences by optimizer.lr', [], 'optimizer.lr', 3],
    ]);
    expect(r.pairedBy.map((p) => p.field)).toEqual(['pruning.scope', 'optimizer.lr']);
  });

  test('without pairBy paired.json holds the tables\' entries alone; a bad entry is refused before anything is written', async () => {
    const out = path.join(root, 'plain');
    await writeReport(root, out, { plots: false });
    const paired = JSON.parse(fs.readFileSync(path.join(out, 'paired.json'), 'utf8')) as object[];
    expect(paired.every((e) => Object.keys(e).join() === 'table,accuracy')).toBe(true);
    const bad = path.join(root, 'bad');
    await expect(writeReport(root, bad, { plots: false, pairBy: [{ field: 'seed' }] })).rejects.toThrow(/ for options\.pairBy\[0\]\.field but received 'seed' of type string$/);
    await expect(writeReport(root, bad, { plots: false, pairBy: [{ field: 'pruning.scope', baseline: 3 }] })).rejects.toThrow(/ for options\.pairBy\[0\]\.baseline but received 3 of type number$/);
    expect(fs.existsSync(bad)).toBe(false);
  });
});
