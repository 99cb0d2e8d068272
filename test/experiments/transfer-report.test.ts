/**
 * The report's sparsity of a transfer run, whose config names none: the source's (transfer.json's
 * sourceSparsity), else the overall sparsity its last metrics row records. Run directories are
 * written here with the real runs.ts helpers; nothing is trained.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accuracyTables, createRunDir, parseConfig, scanRunRecords, tableToMarkdown, type MetricsRow } from '../../src/experiments';
import { appendMetrics, writeFinal } from '../../src/experiments/runs';
import { removeDir, tempDir } from '../unit/experiments/fixtures';

const base = { dataset: { name: 'fashion_mnist' }, model: { name: 'lenet5' }, epochs: 2 };

function finish(dir: string, testAcc: number, sparsity?: number): void {
  for (let epoch = 1; epoch <= 2; epoch++) {
    const row: MetricsRow = { epoch, step: epoch, trainLoss: 1, trainAcc: 0.5, testAcc, lr: 0.1, epochSeconds: 1 };
    if (sparsity !== undefined) row.sparsity = { overall: { kept: 1, numel: 10, sparsity }, perLayer: {} };
    appendMetrics(dir, row);
  }
  writeFinal(dir, { epoch: 2, step: 2, testAcc });
}

let runsDir: string;
beforeEach(() => { runsDir = tempDir('transfer-report'); });
afterEach(() => removeDir(runsDir));

test("transfer runs sit in their source's sparsity column (transfer.json, else the recorded sparsity), not at 0%", () => {
  const source = createRunDir(runsDir, parseConfig({ ...base, sparsify: { method: 'rigl', sparsity: 0.9 }, seed: 0 }));
  finish(source.dir, 0.8, 0.9);
  const transfer = (seed: number, from = path.basename(source.dir)) => createRunDir(runsDir, parseConfig({ ...base, transfer: { from, kind: 'signs' }, seed })).dir;
  const withRecord = transfer(10);
  fs.writeFileSync(path.join(withRecord, 'transfer.json'), JSON.stringify({ from: source.dir, kind: 'signs', sourceSparsity: 0.9 }));
  finish(withRecord, 0.82);
  // No transfer.json (or one older than sourceSparsity): the rows' overall sparsity, to 0.01%.
  const recorded = transfer(11);
  finish(recorded, 0.84, 1 - 6147 / 61470 + 3e-7);
  // Written absolute: the same source, so the same row.
  const old = transfer(12, source.dir);
  fs.writeFileSync(path.join(old, 'transfer.json'), JSON.stringify({ from: source.dir, kind: 'signs' }));
  finish(old, 0.86, 0.9);

  const { runs, corrupt } = scanRunRecords(runsDir);
  expect(corrupt).toEqual([]);
  expect(runs.map((r) => [r.config.seed, r.sparsity])).toEqual(expect.arrayContaining([[10, 0.9], [11, 0.9], [12, 0.9]]));
  const [table] = accuracyTables(runs);
  expect(table.sparsities).toEqual([0.9]);
  const row = table.rows.find((r) => r.label === 'Transfer (signs)')!;
  expect(row.cells[0]).toMatchObject({ sparsity: 0.9, seeds: [10, 11, 12], n: 3 });
  expect(row.cells[0]!.mean).toBeCloseTo((82 + 84 + 86) / 3, 10);
  const md = tableToMarkdown(table);
  expect(md).toContain('| Method | 90% |');
  expect(md).not.toMatch(/\| 0% \|/);
});

test('a transfer run with neither a record nor recorded sparsity falls back to its config (0%), and the argument is checked', () => {
  const source = createRunDir(runsDir, parseConfig({ ...base, sparsify: { method: 'rigl', sparsity: 0.9 }, seed: 0 }));
  const run = createRunDir(runsDir, parseConfig({ ...base, transfer: { from: source.dir, kind: 'mask' }, seed: 10 })).dir;
  finish(run, 0.8);
  const { runs } = scanRunRecords(runsDir);
  const r = runs.find((x) => x.dir === run)!;
  expect(r.sparsity).toBeUndefined();
  expect(accuracyTables([r])[0].sparsities).toEqual([0]);
  expect(() => accuracyTables([{ ...r, sparsity: 1.5 }])).toThrow(/runs\[0\]\.sparsity/);
});
