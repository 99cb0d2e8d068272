/**
 * The torchrun-style launcher and the collectives over a TCPStore: 3 workers spawned by launch()
 * join from the environment alone; results are checked against their closed forms. A worker that
 * fails makes launch() stop the others and report its exit code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataParallelContext } from '../../src/distributed/data-parallel';
import { launch } from '../../src/distributed/launch';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const WORKER = path.join(__dirname, 'collectives-worker.ts');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-launch-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('spawns workers with torchrun variables; collectives over TCPStore give their closed forms', async () => {
  const n = 3;
  const r = await launch({ nproc: n, command: TSX, args: [WORKER, dir] });
  expect(r).toEqual({ exitCode: 0, codes: [0, 0, 0] });
  const ranks = [0, 1, 2].map((k) => JSON.parse(fs.readFileSync(path.join(dir, `rank${k}.json`), 'utf8')));
  ranks.forEach((o, k) => {
    expect(o.vars.slice(0, 5)).toEqual([String(k), String(k), '3', '3', '127.0.0.1']);
    expect(Number(o.vars[5])).toBeGreaterThan(0);
    expect(o.vars[6]).toBe('0');
    expect(o.worldSize).toBe(n);
    expect(o.sum).toEqual([1 + 2 + 3, 10 + 20 + 30]);
    expect(o.avg).toEqual([2]);
    expect(o.max).toEqual([2]);
    expect(o.b).toEqual([101, 201]); // rank 1's values
    expect(o.gathered).toEqual([[0], [2], [4]]);
    // Means weighted by each rank's count (1, 2, 3 samples with means 0, 1, 2).
    expect(o.evalMeans.loss).toBeCloseTo((0 * 1 + 1 * 2 + 2 * 3) / 6, 12);
    expect(o.evalMeans.top1).toBeCloseTo((0 * 1 + 0.1 * 2 + 0.2 * 3) / 6, 12);
    expect(o.evalMeans.top5).toBeCloseTo(1, 12);
    // The epoch's row: training loss and accuracy the mean of the ranks' (0, 1, 2), the wait for input rank 1's 5 s, the longest.
    expect(o.epoch).toEqual({ epoch: 1, step: 4, lr: 0.1, trainLoss: 1, trainAcc: 1 / 8, epochSeconds: 9, dataSeconds: 5 });
    expect(o.localBatch).toBe(4);
  });
});

it('a failing worker stops the others and its exit code is returned', async () => {
  const t0 = Date.now();
  const r = await launch({ nproc: 2, command: TSX, args: [WORKER, dir, 'fail-rank-1'], graceMs: 2000 });
  expect(r.exitCode).toBe(5);
  expect(r.codes[1]).toBe(5);
  expect(r.codes[0]).not.toBe(0);
  expect(Date.now() - t0).toBeLessThan(20_000);
});

it('DataParallelContext: one process is the identity; a global batch must divide evenly', () => {
  const one = new DataParallelContext(0, 1);
  expect(one.sampler(10, { shuffle: true, seed: 0 })).toBeUndefined();
  expect(one.reduceEval({ loss: 1, top1: 0.5, top5: 0.9 }, 7)).toEqual({ loss: 1, top1: 0.5, top5: 0.9 });
  expect(one.evalSampler(10)).toBeUndefined();
  const row = { epoch: 1, step: 2, lr: 0.1, trainLoss: 0.7, trainAcc: 0.25, epochSeconds: 3, dataSeconds: 1.5 };
  one.epochMetricsOverRanks(row);
  expect(row).toEqual({ epoch: 1, step: 2, lr: 0.1, trainLoss: 0.7, trainAcc: 0.25, epochSeconds: 3, dataSeconds: 1.5 });
  const two = new DataParallelContext(1, 2);
  expect(() => two.localBatch(7)).toThrow(/global batch 7 must be a multiple of the world size 2/);
  expect(two.sampler(10, { shuffle: false, seed: 0 })!.indices()).toEqual(Int32Array.from([1, 3, 5, 7, 9]));
  expect(two.evalSampler(9)!.indices()).toEqual(Int32Array.from([1, 3, 5, 7]));
  const writes: string[] = [];
  const cb = { name: 'metrics', onEpochEnd: () => void writes.push('x'), getState: () => ({ json: 1 }) };
  const wrapped = two.mainOnly(cb);
  expect(wrapped.onEpochEnd).toBeUndefined();
  expect(wrapped.getState!()).toEqual({ json: 1 });
  expect(new DataParallelContext(0, 2).mainOnly(cb)).toBe(cb);
});
