/**
 * The Trainer under DDP on loopback (Gloo, FileStore), with gradients averaged right after
 * backward. Mask decisions (RiGL grows by the gradient, SET at random, STR thresholds, AC/DC by
 * magnitude) and gradient clipping then happen on the global gradient: 2 ranks with batch B/2 each
 * hold bit-identical masks and weights, and match 1 process with batch B (masks exactly, weights
 * to float32 summation order). BatchNorm's running statistics are rank 0's on every rank at the
 * epoch's end, as PyTorch DDP's broadcast_buffers gives (checked against a one-process simulation
 * of it). A gradient overflow on one rank makes every rank skip the step. With shardedEval each rank
 * evaluates its share and every rank gets the whole set's metrics, also when the shares have
 * different numbers of batches and a stop is watched for; a stop during that evaluation stops every
 * rank.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const WORKER = path.join(__dirname, 'trainer-worker.ts');

type State = Record<string, number[]>;
interface Result {
  rank: number;
  state: State;
  norms?: number[];
  masks?: State[];
  testLoss?: number;
  prepares?: number;
  steps?: { foundInf: boolean; stepped: boolean; scale: number }[];
  epochs?: { sharded: Metrics; whole: Metrics }[];
  evaluate?: { sharded: Metrics; whole: Metrics };
  interrupted?: { reason: string; epoch: number };
}

interface Metrics {
  loss: number;
  top1: number;
  top5: number;
}

function runRank(rank: number, world: number, args: object): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [WORKER, JSON.stringify(args)], {
      cwd: ROOT,
      env: { ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world), OMP_NUM_THREADS: '1', SIGNIN_TORCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-trainer-ddp-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(mode: string, world: number, accum?: number): Promise<Result[]> {
  const tag = `${mode}-${world}-${accum ?? 1}`;
  const initMethod = `file://${path.join(dir, `store-${tag}`)}`;
  const outs = Array.from({ length: world }, (_, r) => path.join(dir, `${tag}-rank${r}.json`));
  const exits = await Promise.all(outs.map((out, r) => runRank(r, world, { mode, initMethod, out, accum })));
  exits.forEach((e) => expect({ code: e.code, stderr: e.stderr }).toEqual({ code: 0, stderr: '' }));
  return outs.map((o) => JSON.parse(fs.readFileSync(o, 'utf8')) as Result);
}

function maxAbsDiff(a: State, b: State): Record<string, number> {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  return Object.fromEntries(Object.keys(a).map((k) => [k, Math.max(0, ...a[k].map((v, i) => Math.abs(v - b[k][i])))]));
}

describe.each(['rigl', 'set', 'str', 'acdc', 'clip'])('Trainer with 2 ranks (%s)', (mode) => {
  it('holds identical masks and weights on both ranks, equal to 1 process with the full batch', async () => {
    const [[one], two] = await Promise.all([run(mode, 1), run(mode, 2)]);
    // Bit-identical across ranks, after every step.
    expect(two[1].masks).toEqual(two[0].masks);
    for (const [k, d] of Object.entries(maxAbsDiff(two[0].state, two[1].state))) expect({ k, d }).toEqual({ k, d: 0 });
    expect(two[1].norms).toEqual(two[0].norms);
    // The same mask decisions as one process with the global batch, and its weights to float32 rounding.
    expect(two[0].masks).toEqual(one.masks);
    for (const [k, d] of Object.entries(maxAbsDiff(one.state, two[0].state))) {
      expect({ k, ok: k.endsWith('_mask') ? d === 0 : d < 1e-5 }).toEqual({ k, ok: true });
    }
    // onAfterBackward saw the global gradient (the 1-process one), not the rank's half.
    one.norms!.forEach((n, i) => expect(Math.abs(two[0].norms![i] - n)).toBeLessThan(1e-5 * n));
    expect(one.norms).toHaveLength(8);
    if (mode === 'clip') {
      // Clipping was active at every step (the Trainer clips to 0.05 after the callbacks).
      for (const n of one.norms!) expect(n).toBeGreaterThan(0.1);
    } else {
      // The method changed the masks during training (so equal masks are not a given).
      const first = one.masks![0];
      const last = one.masks![one.masks!.length - 1];
      expect(Object.keys(first).some((k) => first[k].some((v, i) => v !== last[k][i]))).toBe(true);
    }
  }, 120_000);
});

describe.each(['rigl', 'clip'])('Trainer with 2 ranks accumulating 2 micro-batches a step (%s)', (mode) => {
  it('reduces once a step, after the last micro-batch, and matches 1 process with the full batch', async () => {
    const [[one], two] = await Promise.all([run(mode, 1), run(mode, 2, 2)]);
    // c10d's Reducer was armed for the last micro-batch's backward only: the first's gradients
    // were accumulated locally and summed into that one reduction (DDP's no_sync).
    expect(two.map((r) => r.prepares)).toEqual([8, 8]);
    expect(two[1].masks).toEqual(two[0].masks);
    for (const [k, d] of Object.entries(maxAbsDiff(two[0].state, two[1].state))) expect({ k, d }).toEqual({ k, d: 0 });
    expect(two[0].masks).toEqual(one.masks);
    for (const [k, d] of Object.entries(maxAbsDiff(one.state, two[0].state))) {
      expect({ k, ok: k.endsWith('_mask') ? d === 0 : d < 1e-5 }).toEqual({ k, ok: true });
    }
    one.norms!.forEach((n, i) => expect(Math.abs(two[0].norms![i] - n)).toBeLessThan(1e-5 * n));
  }, 120_000);
});

it('BatchNorm running statistics are rank 0\'s on every rank at the epoch\'s end, as PyTorch DDP gives', async () => {
  const [[ref], two] = await Promise.all([run('bn-reference', 1), run('bn', 2)]);
  // Every rank evaluates and would checkpoint the same model.
  for (const [k, d] of Object.entries(maxAbsDiff(two[0].state, two[1].state))) expect({ k, d }).toEqual({ k, d: 0 });
  expect(two[1].testLoss).toBe(two[0].testLoss);
  // Weights: the mean of the shards' gradients; running statistics: shard 0's updates only.
  for (const [k, d] of Object.entries(maxAbsDiff(ref.state, two[0].state))) expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
  expect(two[0].state['bn1.num_batches_tracked']).toEqual([8]);
}, 120_000);

it('an overflow on one rank makes every rank skip the step and back off the scale alike', async () => {
  const two = await run('scaler', 2);
  const expected = [{ foundInf: true, stepped: false, scale: 512 }, { foundInf: false, stepped: true, scale: 512 }];
  expect(two[0].steps).toEqual(expected);
  expect(two[1].steps).toEqual(expected);
  for (const [k, d] of Object.entries(maxAbsDiff(two[0].state, two[1].state))) expect({ k, d }).toEqual({ k, d: 0 });
}, 120_000);

describe('shardedEval with 2 ranks', () => {
  /** Hits are counted exactly; the loss is summed in another order than the one batch's mean. */
  function expectWholeSet(m: { sharded: Metrics; whole: Metrics }): void {
    expect({ top1: m.sharded.top1, top5: m.sharded.top5 }).toEqual({ top1: m.whole.top1, top5: m.whole.top5 });
    expect(Math.abs(m.sharded.loss - m.whole.loss)).toBeLessThan(1e-6 * m.whole.loss);
  }

  it('gives every rank the whole set\'s metrics from shares of 6 and 5 batches, each epoch and from evaluate', async () => {
    const two = await run('eval', 2);
    for (const r of two) {
      expect(r.epochs).toHaveLength(2);
      for (const e of r.epochs!) expectWholeSet(e);
      expectWholeSet(r.evaluate!);
    }
    expect(two[1].epochs).toEqual(two[0].epochs);
    expect(two[1].evaluate).toEqual(two[0].evaluate);
  }, 120_000);

  it('a stop on one rank during the evaluation stops both, in the same epoch, with its reason', async () => {
    const two = await run('eval-stop', 2);
    for (const r of two) expect(r.interrupted).toEqual({ reason: 'SIGTERM', epoch: 0 });
    for (const r of two) expect(r.epochs).toEqual([]);
  }, 120_000);
});
