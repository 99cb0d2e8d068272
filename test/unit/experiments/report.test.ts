import * as fs from 'node:fs';
import * as path from 'node:path';
import { accuracyTables, disambiguate, formatCell, loadRuns, methodLabel, plotData, sparsityLabel, tablesToCsv, tableToMarkdown, writeReport } from '../../../src/experiments/report';
import { parseConfig, type ExperimentConfig } from '../../../src/experiments/schema';
import { fakeRun, removeDir, tempDir } from './fixtures';

let root: string;
let unfinished: string;

beforeAll(() => {
  root = tempDir('report');
  // Hand-computed cells (percent): mean ± sample std (n − 1).
  //   Random 90%:            80, 82, 84  → 82.00 ± 2.00
  //   Random + Sign-In 90%:  85, 86, 90  → 87.00 ± √7 = 2.65
  //   Random 95%:            70, 74      → 72.00 ± √8 = 2.83 (n=2; seed 2 unfinished)
  //   Random + Sign-In 95%:  75, 76, 77  → 76.00 ± 1.00
  const finals: [number, boolean, number[]][] = [
    [0.9, false, [0.8, 0.82, 0.84]],
    [0.9, true, [0.85, 0.86, 0.9]],
    [0.95, false, [0.7, 0.74]],
    [0.95, true, [0.75, 0.76, 0.77]],
  ];
  for (const [sparsity, signin, accs] of finals) accs.forEach((final, seed) => fakeRun(root, { sparsity, signin, seed, final }));
  unfinished = path.basename(fakeRun(root, { sparsity: 0.95, signin: false, seed: 2 }).dir);
  fakeRun(root, { sparsity: 0.9, signin: false, seed: 0, final: 0.6, dataset: 'cifar100' });
});
afterAll(() => removeDir(root));

describe('labels', () => {
  test('method and sparsity labels', () => {
    const c = (pruning: object, signin: boolean) => parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, pruning, signin: { enabled: signin } });
    expect(methodLabel(c({ method: 'random', sparsity: 0.9 }, false))).toBe('Random');
    expect(methodLabel(c({ method: 'random', sparsity: 0.9 }, true))).toBe('Random + Sign-In');
    expect(methodLabel(c({ method: 'synflow', sparsity: 0.9 }, true))).toBe('SynFlow + Sign-In');
    expect(methodLabel(c({}, false))).toBe('Dense');
    // A scope other than the method's default is part of the label: the masks differ.
    expect(methodLabel(c({ method: 'magnitude', sparsity: 0.95, scope: 'layerwise' }, true))).toBe('Magnitude (layerwise ERK) + Sign-In');
    expect(methodLabel(c({ method: 'snip', sparsity: 0.95, scope: 'layerwise', distribution: 'uniform' }, false))).toBe('SNIP (layerwise uniform)');
    expect(methodLabel(c({ method: 'magnitude', sparsity: 0.95, scope: 'global' }, false))).toBe('Magnitude');
    expect(methodLabel(c({ method: 'random', sparsity: 0.95, scope: 'global' }, false))).toBe('Random (global)');
    expect([0.8, 0.9, 0.95, 0.985].map(sparsityLabel)).toEqual(['80%', '90%', '95%', '98.5%']);
  });

  // Expected labels follow the rule in disambiguate's comment and docs/results/README.md: the
  // fields that differ, sorted, with the values of the parsed config (defaults filled in); a field
  // the config leaves out is the word for what that means; a record or a section is named once.
  const mnist = (raw: object = {}) => parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, ...raw });
  const labelsOf = (configs: ExperimentConfig[]) => {
    const labels = disambiguate(configs, () => 'X', (c) => ({ ...c }));
    return configs.map((c) => labels.get(c)!);
  };

  test('disambiguate: a field left at its default shows the default (in the run\'s context), never null', () => {
    expect(labelsOf([mnist({ optimizer: { lr: 0.05 } }), mnist()])).toEqual(['X (optimizer.lr=0.05)', 'X (optimizer.lr=0.1)']);
    expect(labelsOf([mnist({ dataset: { name: 'mnist', augment: false } }), mnist()])).toEqual(['X (dataset.augment=false)', 'X (dataset.augment=true)']);
    // pruning.scope's default depends on the method: layerwise for random (with ERK), global for the others.
    const pruning = (p: object) => mnist({ pruning: { sparsity: 0.9, ...p } });
    expect(labelsOf([pruning({ method: 'random' }), pruning({ method: 'random', scope: 'global' })])).toEqual(['X (pruning.distribution=erk, pruning.scope=layerwise)', 'X (pruning.distribution=none, pruning.scope=global)']);
    expect(labelsOf([pruning({ method: 'magnitude' }), pruning({ method: 'magnitude', scope: 'layerwise' })])).toEqual(['X (pruning.distribution=none, pruning.scope=global)', 'X (pruning.distribution=erk, pruning.scope=layerwise)']);
    // No schema default: the word for what the absence means.
    const signin = (s: object) => mnist({ signin: { enabled: true, ...s } });
    expect(labelsOf([signin({ layers: ['fc3'] }), signin({})])).toEqual(['X (signin.layers=["fc3"])', 'X (signin.layers=all)']);
    expect(labelsOf([signin({ stopResetAfterEpoch: 3 }), signin({})])).toEqual(['X (signin.stopResetAfterEpoch=3)', 'X (signin.stopResetAfterEpoch=never)']);
    expect(labelsOf([signin({ layerBeta: { fc3: 4 } }), signin({})])).toEqual(['X (signin.layerBeta={"fc3":4})', 'X (signin.layerBeta=none)']);
    expect(labelsOf([pruning({ method: 'synflow', iterations: 10 }), pruning({ method: 'synflow' })])).toEqual(['X (pruning.iterations=10)', 'X (pruning.iterations=default)']);
  });

  test('disambiguate: a record or a section some runs lack is named once, compactly', () => {
    const signin = (layerBeta?: Record<string, number>) => mnist({ signin: { enabled: true, ...(layerBeta ? { layerBeta } : {}) } });
    // One β on every layer it names: the count and the β; else (or where that would read alike) its JSON.
    expect(labelsOf([signin({ conv1: 4, conv2: 4, fc3: 4 }), signin()])).toEqual(['X (signin.layerBeta=3 layers at 4)', 'X (signin.layerBeta=none)']);
    expect(labelsOf([signin({ conv1: 2, fc3: 4 }), signin()])).toEqual(['X (signin.layerBeta={"conv1":2,"fc3":4})', 'X (signin.layerBeta=none)']);
    expect(labelsOf([signin({ conv1: 4, fc3: 4 }), signin({ conv2: 4, fc3: 4 }), signin()]))
      .toEqual(['X (signin.layerBeta={"conv1":4,"fc3":4})', 'X (signin.layerBeta={"conv2":4,"fc3":4})', 'X (signin.layerBeta=none)']);
    expect(labelsOf([mnist({ model: { name: 'lenet5', options: { init: 'kaiming_fan_in' } } }), mnist()])).toEqual(['X (model.options={"init":"kaiming_fan_in"})', 'X (model.options={})']);
    expect(labelsOf([mnist({ dataset: { name: 'mnist', augment: { crop: { padding: 2 }, flip: true } } }), mnist()])).toEqual(['X (dataset.augment={"crop":{"padding":2},"flip":true})', 'X (dataset.augment=true)']);
    // A list of names whose JSON runs past 40 characters: its length; two as long: their JSON.
    const layers = (l?: string[]) => mnist({ signin: { enabled: true, ...(l ? { layers: l } : {}) } });
    const last8 = ['layer3.0.conv1', 'layer3.0.conv2', 'layer3.0.downsample.0', 'layer3.1.conv1', 'layer3.1.conv2', 'layer3.2.conv1', 'layer3.2.conv2', 'fc'];
    expect(labelsOf([layers(last8), layers(['conv1', 'fc3']), layers()])).toEqual(['X (signin.layers=8 layers)', 'X (signin.layers=["conv1","fc3"])', 'X (signin.layers=all)']);
    const first8 = ['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.1.conv1', 'layer1.1.conv2', 'layer1.2.conv1', 'layer1.2.conv2', 'fc'];
    expect(labelsOf([layers(last8), layers(first8)])).toEqual([`X (signin.layers=${JSON.stringify(last8)})`, `X (signin.layers=${JSON.stringify(first8)})`]);
    expect(labelsOf([mnist({ hessian: { samples: 64 } }), mnist()])).toEqual(['X (hessian={"batchSize":128,"maxIterations":20,"samples":64,"tol":0.001})', 'X (hessian=none)']);
  });

  test('disambiguate: runs that differ never share a label, and no label says null', () => {
    const variants = {
      layers: [undefined, ['fc3'], ['conv1', 'fc3'], ['conv1', 'conv2', 'fc1', 'fc2', 'fc3', 'conv1.x', 'conv2.x']],
      layerBeta: [undefined, { fc3: 4 }, { conv1: 4, fc3: 4 }, { conv2: 4, fc3: 4 }, { conv1: 2, fc3: 4 }, { conv1: 4, conv2: 4 }],
      beta: [1, 2],
      stopResetAfterEpoch: [undefined, 0],
    };
    const configs = variants.layers.flatMap((layers) => variants.layerBeta.flatMap((layerBeta) => variants.beta.flatMap((beta) => variants.stopResetAfterEpoch.map((stop) =>
      mnist({ signin: { enabled: true, beta, ...(layers ? { layers } : {}), ...(layerBeta ? { layerBeta } : {}), ...(stop !== undefined ? { stopResetAfterEpoch: stop } : {}) } })))));
    const labels = labelsOf(configs);
    expect(new Set(labels).size).toBe(4 * 6 * 2 * 2);
    expect(labels.filter((l) => l.includes('null'))).toEqual([]);
    // A string that reads as the word of a left-out field is written as JSON.
    const root = (r?: string) => mnist({ dataset: { name: 'mnist', ...(r ? { root: r } : {}) } });
    expect(labelsOf([root('default'), root()])).toEqual(['X (dataset.root="default")', 'X (dataset.root=default)']);
  });
});

describe('accuracy tables', () => {
  test('mean ± sample std per (method, sparsity), one table per setting, from the run directories', () => {
    const tables = accuracyTables(loadRuns(root));
    expect(tables.map((t) => t.title)).toEqual(['cifar10 cifar_resnet_20', 'cifar100 cifar_resnet_20']);
    const [t] = tables;
    expect(t.sparsities).toEqual([0.9, 0.95]);
    expect(t.rows.map((r) => r.label)).toEqual(['Random', 'Random + Sign-In']);
    const cell = (row: number, col: number) => t.rows[row].cells[col]!;
    expect(cell(0, 0).mean).toBeCloseTo(82, 10);
    expect(cell(0, 0).std).toBeCloseTo(2, 10);
    expect(cell(1, 0).mean).toBeCloseTo(87, 10);
    expect(cell(1, 0).std).toBeCloseTo(Math.sqrt(7), 10);
    expect(cell(0, 1)).toMatchObject({ n: 2, seeds: [0, 1] });
    expect(cell(0, 1).mean).toBeCloseTo(72, 10);
    expect(cell(0, 1).std).toBeCloseTo(Math.sqrt(8), 10);
    expect(cell(1, 1).std).toBeCloseTo(1, 10);
    expect(t.unfinished).toEqual([unfinished]);
    expect(tables[1].rows[0].cells[0]).toMatchObject({ n: 1, std: 0, values: [60] });
  });

  test('markdown in the paper layout: rows are methods, columns sparsities', () => {
    const [t, t100] = accuracyTables(loadRuns(root));
    expect(tableToMarkdown(t)).toBe([
      '### cifar10 cifar_resnet_20',
      '',
      '| Method | 90% | 95% |',
      '|---|---:|---:|',
      '| Random | 82.00 ± 2.00 | 72.00 ± 2.83 (n=2) |',
      '| Random + Sign-In | 87.00 ± 2.65 | 76.00 ± 1.00 |',
      '',
      'Top-1 test accuracy (%) after the last epoch, mean ± sample standard deviation over up to 3 seeds.',
      '',
      'Setting (non-default fields): `{"dataset":{"name":"cifar10"},"epochs":3,"model":{"name":"cifar_resnet_20"}}`',
      '',
      `1 unfinished run(s) left out: ${unfinished}`,
      '',
    ].join('\n'));
    expect(tableToMarkdown(t100)).toContain('| Random | 60.00 |\n\nTop-1 test accuracy (%) after the last epoch, one seed.');
  });

  test('CSV: one line per cell, with the values', () => {
    const csv = tablesToCsv(accuracyTables(loadRuns(root))).trim().split('\n');
    expect(csv).toEqual([
      'table,method,sparsity,n,mean,std,seeds,values',
      'cifar10 cifar_resnet_20,Random,0.9,3,82.0000,2.0000,0;1;2,80.0000;82.0000;84.0000',
      'cifar10 cifar_resnet_20,Random,0.95,2,72.0000,2.8284,0;1,70.0000;74.0000',
      'cifar10 cifar_resnet_20,Random + Sign-In,0.9,3,87.0000,2.6458,0;1;2,85.0000;86.0000;90.0000',
      'cifar10 cifar_resnet_20,Random + Sign-In,0.95,3,76.0000,1.0000,0;1;2,75.0000;76.0000;77.0000',
      'cifar100 cifar_resnet_20,Random,0.9,1,60.0000,0.0000,0,60.0000',
    ]);
  });

  test('formatCell', () => {
    expect(formatCell(undefined, 3)).toBe('–');
    expect(formatCell({ sparsity: 0.9, values: [1], seeds: [0], n: 1, mean: 1, std: 0 }, 3)).toBe('1.00 (n=1)');
  });

  test('rows that share a label are told apart by the fields that differ', () => {
    const dir = tempDir('report-mixed');
    try {
      const cfg = (distribution: string, seed: number) => ({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, seed, pruning: { method: 'random', sparsity: 0.9, distribution } });
      const { createRunDir, writeFinal } = jest.requireActual('../../../src/experiments/runs') as typeof import('../../../src/experiments/runs');
      for (const [d, acc] of [['erk', 0.9], ['uniform', 0.8]] as const) writeFinal(createRunDir(dir, parseConfig(cfg(d, 0))).dir, { epoch: 1, step: 1, testAcc: acc });
      const [t] = accuracyTables(loadRuns(dir));
      expect(t.rows.map((r) => [r.label, r.cells[0]?.mean])).toEqual([
        ['Random (pruning.distribution=erk)', 90],
        ['Random (pruning.distribution=uniform)', 80],
      ]);
    } finally {
      removeDir(dir);
    }
  });

  test('tables told apart by a field one leaves at its default name the default', () => {
    const dir = tempDir('report-titles');
    try {
      const { createRunDir, writeFinal } = jest.requireActual('../../../src/experiments/runs') as typeof import('../../../src/experiments/runs');
      for (const optimizer of [{ lr: 0.05 }, {}]) {
        const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, optimizer });
        writeFinal(createRunDir(dir, config).dir, { epoch: 1, step: 1, testAcc: 0.9 });
      }
      expect(accuracyTables(loadRuns(dir)).map((t) => t.title).sort()).toEqual(['mnist lenet5 (optimizer.lr=0.05)', 'mnist lenet5 (optimizer.lr=0.1)']);
    } finally {
      removeDir(dir);
    }
  });

  test('rows told apart by a per-layer β name it once, and the uniform row by "none"', () => {
    const dir = tempDir('report-layer-beta');
    try {
      const { createRunDir, writeFinal } = jest.requireActual('../../../src/experiments/runs') as typeof import('../../../src/experiments/runs');
      const signin = (layerBeta?: Record<string, number>) => ({ enabled: true, ...(layerBeta ? { layerBeta } : {}) });
      for (const [s, acc] of [[signin({ conv2: 4, fc3: 4 }), 0.8], [signin(), 0.9]] as const) {
        const config = parseConfig({ dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, pruning: { method: 'random', sparsity: 0.9 }, signin: s });
        writeFinal(createRunDir(dir, config).dir, { epoch: 1, step: 1, testAcc: acc });
      }
      const [t] = accuracyTables(loadRuns(dir));
      expect(t.rows.map((r) => [r.label, r.cells[0]?.mean])).toEqual([
        ['Random + Sign-In (signin.layerBeta=2 layers at 4)', 80],
        ['Random + Sign-In (signin.layerBeta=none)', 90],
      ]);
    } finally {
      removeDir(dir);
    }
  });
});

describe('plots and writeReport', () => {
  test('plot data comes from metrics.jsonl: accuracy in %, flips vs init and vs previous epoch, per-layer at the final epoch', () => {
    const runs = loadRuns(root);
    const [t] = accuracyTables(runs);
    const d = plotData(t, runs);
    expect(d.order).toEqual({ methods: ['Random', 'Random + Sign-In'], sparsities: ['90%', '95%'] });
    expect(d.accuracy).toHaveLength(11 * 3);
    expect(d.accuracy.find((p) => p.method === 'Random' && p.sparsity === '90%' && p.seed === 1 && p.epoch === 3)?.value).toBeCloseTo(82, 10);
    expect(d.flips.filter((p) => p.measure === 'from init')).toHaveLength(11 * 3);
    expect(d.layerNames).toEqual(['conv1', 'layer1.0.conv1', 'fc']);
    expect(d.layers.find((p) => p.method === 'Random + Sign-In' && p.layer === 'fc' && p.seed === 0 && p.sparsity === '90%')?.value).toBeCloseTo(0.2, 10);
    expect(plotData(t, runs, true).accuracy).toHaveLength(12 * 3);
  });

  test('writes report.md, accuracy.csv, report.json and SVG plots', async () => {
    const out = path.join(root, 'report');
    const res = await writeReport(root, out);
    const names = res.files.map((f) => path.basename(f));
    expect(names).toEqual([
      'report.md', 'accuracy.csv', 'report.json', 'paired.json',
      'accuracy-vs-sparsity_cifar10-cifar-resnet-20.svg', 'test-accuracy_cifar10-cifar-resnet-20.svg', 'sign-flips_cifar10-cifar-resnet-20.svg', 'sign-flips-per-layer_cifar10-cifar-resnet-20.svg',
      'test-accuracy_cifar100-cifar-resnet-20.svg', 'sign-flips_cifar100-cifar-resnet-20.svg', 'sign-flips-per-layer_cifar100-cifar-resnet-20.svg',
    ]);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('| Random + Sign-In | 87.00 ± 2.65 | 76.00 ± 1.00 |');
    expect(md).toContain('![cifar10 cifar_resnet_20](test-accuracy_cifar10-cifar-resnet-20.svg)');
    expect(fs.readFileSync(path.join(out, 'accuracy.csv'), 'utf8')).toBe(res.csv);
    const svg = fs.readFileSync(path.join(out, 'test-accuracy_cifar10-cifar-resnet-20.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Random + Sign-In');
    expect(svg).toContain('test accuracy (%)');
    expect(fs.readFileSync(path.join(out, 'sign-flips-per-layer_cifar10-cifar-resnet-20.svg'), 'utf8')).toContain('layer1.0.conv1');
    expect(fs.readFileSync(path.join(out, 'accuracy-vs-sparsity_cifar10-cifar-resnet-20.svg'), 'utf8')).toContain('sparsity (%)');
    // The report folder inside the runs dir is not mistaken for a run.
    expect(loadRuns(root)).toHaveLength(13);
  });

  test('tables only, and an empty runs dir', async () => {
    const out = tempDir('report-out');
    try {
      const res = await writeReport(root, out, { plots: false });
      expect(res.files.map((f) => path.basename(f))).toEqual(['report.md', 'accuracy.csv', 'report.json', 'paired.json']);
      fs.mkdirSync(path.join(out, 'none'));
      const empty = await writeReport(path.join(out, 'none'), out, { plots: false });
      expect(empty.markdown).toContain('No runs found');
      expect(empty.csv).toBe('table,method,sparsity,n,mean,std,seeds,values\n');
    } finally {
      removeDir(out);
    }
  });
});

describe('missing and corrupt run directories', () => {
  test('a missing runs dir is a coded error, not an empty report', async () => {
    const missing = path.join(root, 'nope');
    await expect(writeReport(missing, tempDir('report-out'), { plots: false })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: `Runs directory ${missing} does not exist or is not a folder: pass --runs-dir, the folder that holds the run directories`,
    });
  });

  test('corrupt runs are listed as such, the readable ones still make the tables', async () => {
    const dir = tempDir('report-corrupt');
    const out = tempDir('report-out');
    try {
      fakeRun(dir, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
      const badJson = fakeRun(dir, { sparsity: 0.9, signin: false, seed: 1, final: 0.82 }).dir;
      fs.writeFileSync(path.join(badJson, 'config.json'), '{"epochs": ');
      const badMetrics = fakeRun(dir, { sparsity: 0.9, signin: false, seed: 2, final: 0.84 }).dir;
      fs.writeFileSync(path.join(badMetrics, 'metrics.jsonl'), 'not json\n{"epoch": 1}\n');
      const noConfig = path.join(dir, `train_${'f'.repeat(32)}`);
      fs.mkdirSync(noConfig);
      const res = await writeReport(dir, out, { plots: false });
      expect(res.tables[0].rows[0].cells[0]?.n).toBe(1);
      expect(res.corrupt.map((c) => c.dir).sort()).toEqual([badJson, badMetrics, noConfig].sort());
      const byDir = new Map(res.corrupt.map((c) => [c.dir, c.problems]));
      expect(byDir.get(noConfig)).toEqual(['no config.json (the run was never set up, or it was deleted)']);
      expect(byDir.get(badJson)?.[0]).toMatch(/^config\.json is not valid JSON \(/);
      expect(byDir.get(badMetrics)?.slice(0, 2)).toEqual([expect.stringMatching(/^metrics\.jsonl: line 1: .*not valid JSON/), expect.stringMatching(/^metrics\.jsonl: line 2: step: /)]);
      expect(res.markdown).not.toContain(':;');
      expect(res.markdown).toContain('## Corrupt runs\n\n3 run directories could not be read and are left out of the tables:');
      expect(res.markdown).toContain(`| train_${'f'.repeat(32)} | no config.json (the run was never set up, or it was deleted) |`);
      expect(res.markdown).toContain('From 1 run(s)');
    } finally {
      removeDir(dir);
      removeDir(out);
    }
  });
});

describe('diverged runs', () => {
  test('a run whose loss went NaN is a result: its accuracy counts in its cell, and no table or plot prints NaN', async () => {
    const dir = tempDir('report-diverged');
    const out = tempDir('report-out');
    fakeRun(dir, { sparsity: 0.9, signin: false, seed: 0, final: 0.8 });
    fakeRun(dir, { sparsity: 0.9, signin: false, seed: 1, final: 0.3, diverged: true });
    const res = await writeReport(dir, out, { plots: true });
    expect(res.corrupt).toEqual([]);
    // 80 and 30: mean 55, sample std √((25² + 25²) / 1) = 25√2 = 35.36
    const cell = res.tables[0].rows[0].cells[0]!;
    expect(cell.seeds).toEqual([0, 1]);
    expect(cell.mean).toBeCloseTo(55, 10);
    expect(cell.std).toBeCloseTo(25 * Math.SQRT2, 10);
    expect(res.markdown).toContain('| Random | 55.00 ± 35.36 |');
    for (const file of res.files.filter((f) => fs.statSync(f).isFile())) expect(fs.readFileSync(file, 'utf8')).not.toMatch(/NaN|Infinity|null/);
  });
});
