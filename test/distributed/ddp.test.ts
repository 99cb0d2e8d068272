/**
 * Data parallelism on loopback (Gloo, FileStore): 2 ranks with per-rank batch B/2 end with the
 * weights of 1 process with batch B (the reference is a separate single-process run of the same
 * worker), plain and Sign-In, with gradients reduced during backward (c10d's Reducer) or after
 * it; masks and weights are identical across ranks although each rank drew its own; the Reducer
 * rebuilds small buckets and reduces several per backward; micro-batches accumulated under
 * noSync (DDP's no_sync) are reduced once with the last; a parameter without a gradient fails
 * clearly unless findUnusedParameters, and parameters replaced after wrapping are refused; a rank
 * killed mid-run makes the survivor fail with ERR_DISTRIBUTED, not hang, and so does a rank whose
 * peers never join; bad options are refused by name; a reducer freed with its group fails clearly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tensor } from '../../src';
import { destroyProcessGroup, DistributedDataParallel, initProcessGroup } from '../../src/distributed';
import { GradientReducer } from '../../src/distributed/reducer';
import { maxAbsDiff, runDdpRank, trainDdp, TSX } from '../helpers/ddp-ranks';
import { ToyNet } from '../helpers/toy-model';

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-ddp-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['plain', true], ['plain', false], ['signin', true], ['signin', false],
] as const)('DDP over Gloo (%s, overlap %s)', (mode, overlap) => {
  it('2 ranks with batch B/2 each match 1 process with batch B', async () => {
    const tag = `${mode}-${overlap}`;
    const [one, two] = await Promise.all([trainDdp(dir, `${tag}-1`, 1, { mode }), trainDdp(dir, `${tag}-2`, 2, { mode, overlap })]);
    expect(two[0].syncs).toBe(4);
    // 25 MiB buckets: the Reducer's one bucket; none after backward without it.
    expect(two[0].buckets).toBe(overlap ? 1 : 0);
    // The ranks hold identical tensors: masks, factors and weights (each rank drew its own at start).
    for (const d of Object.values(maxAbsDiff(two[0].state, two[1].state))) expect(d).toBe(0);
    // Rank 0 of the 2-process run is the 1-process run up to float32 summation order.
    const diffs = maxAbsDiff(one[0].state, two[0].state);
    for (const [k, d] of Object.entries(diffs)) {
      if (k.endsWith('weight_mask')) expect({ k, d }).toEqual({ k, d: 0 });
      else expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
    }
    // Training moved the weights well beyond the tolerance, and both runs started from the same draw.
    expect(two[1].initial).toEqual(one[0].initial);
    expect(Math.max(...one[0].state['conv2.weight'].map((v, i) => Math.abs(v - one[0].initial[i])))).toBeGreaterThan(1e-3);
  });
});

it.each([true, false])('noSync: micro-batches accumulated on each rank, reduced once a step, match 1 process with batch B (overlap %s)', async (overlap) => {
  const [one, two] = await Promise.all([trainDdp(dir, `nosync-${overlap}-1`, 1, { mode: 'signin' }), trainDdp(dir, `nosync-${overlap}-2`, 2, { mode: 'signin', overlap, accum: 2 })]);
  // forward() armed the reducer (a no-op without overlap) for the last micro-batch of each of the 4 steps only.
  expect(two.map((r) => r.prepares)).toEqual([4, 4]);
  for (const d of Object.values(maxAbsDiff(two[0].state, two[1].state))) expect(d).toBe(0);
  for (const [k, d] of Object.entries(maxAbsDiff(one[0].state, two[0].state))) {
    expect({ k, ok: k.endsWith('weight_mask') ? d === 0 : d < 1e-5 }).toEqual({ k, ok: true });
  }
});

it('the Reducer rebuilds small buckets in gradient order after the first step and reduces each during backward', async () => {
  const [one, two] = await Promise.all([
    trainDdp(dir, 'buckets-1', 1, { mode: 'signin' }),
    trainDdp(dir, 'buckets-2', 2, { mode: 'signin', bucketBytes: 256 }),
  ]);
  // The first step reduces one bucket (as DDP); from the second, buckets of about 256 bytes (a
  // bucket closes once it reaches the cap) in the order the gradients became ready, each launched
  // while backward goes on.
  expect(two[0].buckets).toBeGreaterThan(1);
  expect(two[1].buckets).toBe(two[0].buckets);
  for (const [k, d] of Object.entries(maxAbsDiff(one[0].state, two[0].state))) expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
});

/** Runs 2 ranks of the worker for 2 steps, each expected to fail with exit code 3 and `error` on stderr. */
async function bothRanksFail(tag: string, args: object, error: RegExp): Promise<void> {
  const initMethod = `file://${path.join(dir, `store-${tag}`)}`;
  const exits = await Promise.all([0, 1].map((r) => runDdpRank(r, 2, { mode: 'plain', steps: 2, batch: 16, ...args, initMethod, out: path.join(dir, `${tag}-${r}.json`) })));
  for (const e of exits) {
    expect(e.code).toBe(3);
    expect(e.stderr).toMatch(error);
  }
}

it('a parameter that gets no gradient fails the step with ERR_DISTRIBUTED, and trains with findUnusedParameters', async () => {
  await bothRanksFail('unused', { unused: true },
    /ERR_DISTRIBUTED DistributedDataParallel: backward reduced 0 gradient bucket\(s\) but not all: a parameter that requires grad got no gradient.*findUnusedParameters: true/);
  const [one, two] = await Promise.all([
    trainDdp(dir, 'found-1', 1, { mode: 'plain', unused: true }),
    trainDdp(dir, 'found-2', 2, { mode: 'plain', unused: true, findUnusedParameters: true }),
  ]);
  for (const [k, d] of Object.entries(maxAbsDiff(one[0].state, two[0].state))) expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
  // The unused layer kept rank 0's initial values on both ranks (no gradient, so no step).
  expect(two[1].state['unused.weight']).toEqual(two[0].state['unused.weight']);
});

it('parameters replaced after wrapping (to()) are refused at the first step', async () => {
  await bothRanksFail('moved', { moveAfterWrap: true }, /ERR_DISTRIBUTED DistributedDataParallel: the module's trainable parameters changed after wrapping/);
});

it('a rank killed mid-run makes the other fail with ERR_DISTRIBUTED within the timeout', async () => {
  const initMethod = `file://${path.join(dir, 'store-kill')}`;
  const args = (r: number) => ({ mode: 'plain', steps: 6, batch: 16, initMethod, out: path.join(dir, `kill-${r}.json`), dieAtStep: 2, timeoutMs: 10_000 });
  const [survivor, killed] = await Promise.all([runDdpRank(0, 2, args(0)), runDdpRank(1, 2, args(1))]);
  // SIGKILL: tsx's wrapper process reports it as 128 + 9.
  expect(killed.code === null || killed.code === 137).toBe(true);
  expect(survivor.code).toBe(3);
  // In the gradient bucket's all-reduce during backward, rethrown by backward.
  expect(survivor.stderr).toMatch(/rank 0 failed: ERR_DISTRIBUTED DistributedDataParallel: a gradient bucket's all-reduce failed during backward \(a peer process may have exited/);
  expect(survivor.ms).toBeLessThan(25_000);
  expect(fs.existsSync(path.join(dir, 'kill-0.json'))).toBe(false);
});

it('refuses bad options by name before anything else, and needs a process group', () => {
  const model = new ToyNet();
  const bad: [object, RegExp][] = [
    [{ overlap: 'yes' }, /Expected boolean for options\.overlap but received 'yes'/],
    [{ findUnusedParameters: 1 }, /Expected boolean for options\.findUnusedParameters/],
    [{ bucketBytes: 0 }, /options\.bucketBytes/],
    [{ broadcastBuffers: 'no' }, /Expected boolean for options\.broadcastBuffers/],
  ];
  for (const [options, message] of bad) {
    expect(() => new DistributedDataParallel(model, options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(message) }));
  }
  expect(() => new DistributedDataParallel(model)).toThrow(expect.objectContaining({ code: 'ERR_DISTRIBUTED', message: expect.stringMatching(/no process group/) }));
});

it('in a one-rank group the reducer leaves gradients as they are, and after destroyProcessGroup() it fails with ERR_DISTRIBUTED', () => {
  initProcessGroup({ backend: 'gloo', rank: 0, worldSize: 1, initMethod: `file://${path.join(dir, 'store-one')}` });
  const w = tensor([1, 2, 3]).requiresGrad_(true);
  const reducer = new GradientReducer([w], ['w'], { bucketBytes: 1024, findUnusedParameters: false });
  try {
    for (let step = 0; step < 2; step++) {
      reducer.prepare([], [w]);
      w.mul(tensor([4, 5, 6])).sum().backward();
      expect(reducer.finish()).toBe(1);
      expect(Array.from(w.grad!.data(), Number)).toEqual([4, 5, 6]);
      w.grad = undefined;
    }
  } finally {
    destroyProcessGroup();
  }
  expect(() => reducer.prepare([], [w])).toThrow(expect.objectContaining({ code: 'ERR_DISTRIBUTED', message: expect.stringMatching(/reducer was freed/) }));
});

it('a rank whose peers never join fails with ERR_DISTRIBUTED after the timeout, not a hang', () => {
  const t0 = Date.now();
  const options = { rank: 0, worldSize: 2, initMethod: `file://${path.join(dir, 'store-alone')}`, timeoutMs: 2000 };
  const r = spawnSync(TSX, [path.join(__dirname, 'join-worker.ts'), JSON.stringify(options)], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^ERR_DISTRIBUTED: initProcessGroup: .*(Timeout|timed out|timeout)/im);
  expect(Date.now() - t0).toBeLessThan(30_000);
});
