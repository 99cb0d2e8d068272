/**
 * `signin-torch --import <module>`: a user's registered dataset and model, named by a config, run
 * from the real command line, in the processes the CLI starts: a sweep's children (-p 2) and the
 * data-parallel workers of train --nproc 2. Each process's model writes what its batches held; the
 * images are constant per channel, so each value must be (v / 255 − mean) / std, computed here.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadSafetensors, readFinal } from '../../../src';
import { tmpDir } from '../../helpers/data-fixtures';

const ROOT = path.resolve(__dirname, '../../..');
const dir = tmpDir('cli-import-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const VALUES = [51, 204];
const MEAN = [0.1, 0.5];
const STD = [0.5, 0.25];
const CLASSES = 3;
const seenFile = path.join(dir, 'seen.jsonl');

// What a user writes: CommonJS requiring the package (here its source, as the children run it).
const EXT = `
const fs = require('node:fs');
const { ArrayDataset, MaskedLinear, Model, registerDataset, registerModel, tidy } = require(${JSON.stringify(path.join(ROOT, 'src'))});
const N = 16, C = 2, SIDE = 4;
const images = new Uint8Array(N * SIDE * SIDE * C).map((_, i) => ${JSON.stringify(VALUES)}[i % C]);
const labels = Array.from({ length: N }, (_, i) => i % ${CLASSES});
registerDataset('cli_toy', () => new ArrayDataset({ images, labels, width: SIDE, height: SIDE, channels: C, numClasses: ${CLASSES}, name: 'cli_toy' }),
  { mean: ${JSON.stringify(MEAN)}, std: ${JSON.stringify(STD)} });
class PoolLinear extends Model {
  constructor(o) { super(); this.outputLayerName = 'fc'; this.inputShape = [o.inChannels, o.inputSize, o.inputSize]; this.fc = this.registerModule('fc', new MaskedLinear(o.inChannels, o.numClasses)); }
  forward(x) {
    const v = x.detach(); const a = v.toArray(); v.dispose();
    fs.appendFileSync(${JSON.stringify(seenFile)}, JSON.stringify({ pid: process.pid, first: [a[0], a[SIDE * SIDE]] }) + '\\n');
    return tidy(() => this.fc.forward(x.mean([2, 3])));
  }
}
const positive = (p, v) => { if (!Number.isInteger(v) || v < 1) throw new Error(p + ' must be a positive integer'); return v; };
registerModel({ name: 'cli_pool_linear', description: 'pool + linear', options: { numClasses: { default: ${CLASSES}, check: positive }, inChannels: { default: C, check: positive }, inputSize: { default: SIDE, check: positive } }, create: (o) => new PoolLinear(o) });
`;
const ext = path.join(dir, 'my-ext.js');
fs.writeFileSync(ext, EXT);

const base = { dataset: { name: 'cli_toy' }, model: { name: 'cli_pool_linear' }, epochs: 1, batchSize: 4, threads: 1, device: 'cpu', pruning: { method: 'random', sparsity: 0.5 } };

function signinTorch(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, path.join(ROOT, 'src/cli.ts'), ...args], {
      cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1', SIGNIN_TORCH_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, err }));
  });
}

function seenSince(offset: number): { pid: number; first: number[] }[] {
  return fs.readFileSync(seenFile, 'utf8').slice(offset).trim().split('\n').map((l) => JSON.parse(l) as { pid: number; first: number[] });
}

function expectNormalized(rows: { first: number[] }[]): void {
  const expected = VALUES.map((v, c) => (v / 255 - MEAN[c]) / STD[c]);
  for (const r of rows) r.first.forEach((x, c) => expect(x).toBeCloseTo(expected[c], 5));
}

function runDirs(runs: string): string[] {
  return fs.readdirSync(runs).filter((d) => d.startsWith('train_')).map((d) => path.join(runs, d));
}

test('the CLI rejects a config naming the dataset without --import, naming the valid names', async () => {
  fs.writeFileSync(path.join(dir, 'plain.json'), JSON.stringify(base));
  const r = await signinTorch(['train', '--config', 'plain.json', '--runs-dir', 'runs0']);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/dataset\.name: Expected one of .*'imagenet'.* but received 'cli_toy'/);
}, 120_000);

test('sweep -p 2 --import: both children load the module, train on its normalized data with its model', async () => {
  fs.writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ base, seeds: [1, 2] }));
  const offset = fs.existsSync(seenFile) ? fs.statSync(seenFile).size : 0;
  const r = await signinTorch(['sweep', '--grid', 'grid.json', '--runs-dir', 'runs1', '-p', '2', '--import', './my-ext.js']);
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: expect.stringContaining('sweep: 2 done, 0 skipped, 0 failed of 2') });
  const runs = runDirs(path.join(dir, 'runs1'));
  expect(runs).toHaveLength(2);
  for (const run of runs) {
    expect(readFinal(run)?.epoch).toBe(1);
    const ckpt = loadSafetensors(path.join(run, 'checkpoint.safetensors'));
    expect(ckpt.get('model.fc.weight')!.shape).toEqual([CLASSES, 2]);
    for (const t of ckpt.values()) t.dispose();
  }
  const rows = seenSince(offset);
  expect(new Set(rows.map((x) => x.pid)).size).toBe(2);
  expectNormalized(rows);
}, 300_000);

test('train --nproc 2 --import: both workers load the module', async () => {
  const offset = fs.statSync(seenFile).size;
  const r = await signinTorch(['train', '--import', './my-ext.js', '--config', 'plain.json', '--runs-dir', 'runs2', '--nproc', '2']);
  expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: expect.any(String) });
  const [run] = runDirs(path.join(dir, 'runs2'));
  expect(readFinal(run)?.epoch).toBe(1);
  const rows = seenSince(offset);
  expect(new Set(rows.map((x) => x.pid)).size).toBe(2);
  expectNormalized(rows);
}, 300_000);
