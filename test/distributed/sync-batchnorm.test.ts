/**
 * SyncBatchNorm on loopback Gloo: a synchronized BatchNorm layer on 2 ranks, each holding part of
 * a batch (equal or unequal parts), gives each rank the rows of the output and input gradient that
 * libtorch's own batch norm gives on the whole batch in one process, parameter gradients that sum
 * to the whole batch's, and the whole batch's running statistics on every rank. allReduceWithGrad
 * against its closed form. Training ToyNet in training mode, 2 ranks with B/2 and SyncBatchNorm
 * end with the weights and running statistics of 1 process with batch B; without it they do not;
 * a rank killed mid-run makes the other fail, not hang.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchNorm1d, BatchNorm2d, Generator, randn, tidy, type Tensor } from '../../src';
import { convertSyncBatchNorm, destroyProcessGroup, initProcessGroup, syncBatchNorm } from '../../src/distributed';
import type { BatchNormSync } from '../../src/nn';
import { maxDiff } from '../helpers/compare';
import { maxAbsDiff, runDdpRank, runRank, trainDdp } from '../helpers/ddp-ranks';
import { syncBnDraws, type SyncBnCase } from '../helpers/sync-bn-case';

const WORKER = path.join(__dirname, 'sync-bn-worker.ts');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-syncbn-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface LayerCase extends SyncBnCase {
  name: string;
  tol: number;
}

interface RankOut {
  rank: number;
  closedForm: { y: number[]; grad: number[] };
  y: number[];
  grad: number[];
  weightGrad?: number[];
  biasGrad?: number[];
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
}

/** The worker's draws through an unsynchronized layer on the whole batch. */
function reference(c: LayerCase): Omit<RankOut, 'rank' | 'closedForm'> & { rows: number } {
  return tidy(() => {
    const { bn, passes } = syncBnDraws(c);
    let last: { y: Tensor; x: Tensor } | undefined;
    for (const { x, g } of passes) {
      const leaf = x.detach().requiresGrad_(true);
      const y = bn.forward(leaf);
      y.mul(g).sum().backward();
      last = { y, x: leaf };
    }
    const out = {
      y: last!.y.float().toArray(), grad: last!.x.grad!.float().toArray(), rows: c.shape.slice(1).reduce((s, n) => s * n, 1),
      weightGrad: bn.weight?.grad?.toArray(), biasGrad: bn.bias?.grad?.toArray(),
      runningMean: bn.runningMean!.toArray(), runningVar: bn.runningVar!.toArray(), numBatchesTracked: bn.numBatchesTracked!.item(),
    };
    bn.dispose();
    return out;
  });
}

const CASES: LayerCase[] = [
  { name: 'BatchNorm2d float64, equal halves', dtype: 'float64', shape: [8, 3, 5, 4], split: [4, 4], momentum: 0.1, affine: true, tol: 1e-12 },
  { name: 'BatchNorm2d float64, rows 5 + 3, cumulative momentum', dtype: 'float64', shape: [8, 3, 5, 4], split: [5, 3], momentum: null, affine: true, tol: 1e-12 },
  { name: 'BatchNorm1d [N, C] float64, no affine', dtype: 'float64', shape: [6, 5], split: [2, 4], momentum: 0.3, affine: false, tol: 1e-12 },
  { name: 'BatchNorm1d [N, C, L] float32', dtype: 'float32', shape: [6, 4, 7], split: [3, 3], momentum: 0.1, affine: true, tol: 2e-5 },
  { name: 'BatchNorm2d float32 channels_last', dtype: 'float32', shape: [8, 6, 3, 3], split: [4, 4], momentum: 0.1, affine: true, channelsLast: true, tol: 2e-5 },
];

describe.each(CASES)('SyncBatchNorm over 2 ranks: $name', (c) => {
  let ranks: RankOut[];
  let ref: ReturnType<typeof reference>;
  beforeAll(async () => {
    const initMethod = `file://${path.join(dir, `store-${CASES.indexOf(c)}`)}`;
    const outs = [0, 1].map((r) => path.join(dir, `case${CASES.indexOf(c)}-rank${r}.json`));
    const exits = await Promise.all(outs.map((out, r) => runRank(WORKER, r, 2, { ...c, initMethod, out })));
    exits.forEach((e) => expect({ code: e.code, stderr: e.stderr }).toEqual({ code: 0, stderr: '' }));
    ranks = outs.map((o) => JSON.parse(fs.readFileSync(o, 'utf8')) as RankOut);
    ref = reference(c);
  }, 60_000);

  it("each rank's output and input gradient are its rows of the whole batch's", () => {
    let lo = 0;
    for (const r of ranks) {
      const rows = c.split[r.rank] * ref.rows;
      expect(maxDiff(r.y, ref.y.slice(lo, lo + rows))).toBeLessThan(c.tol * 10);
      expect(maxDiff(r.grad, ref.grad.slice(lo, lo + rows))).toBeLessThan(c.tol * 10);
      lo += rows;
    }
    // The normalized output has unit scale: the tolerance is far below what a per-rank batch norm would differ by.
    expect(Math.max(...ref.y.map(Math.abs))).toBeGreaterThan(0.5);
  });

  it('the parameter gradients of the ranks sum to the whole batch\'s', () => {
    if (!c.affine) {
      expect(ranks[0].weightGrad).toBeUndefined();
      return;
    }
    const sum = (k: 'weightGrad' | 'biasGrad') => ranks[0][k]!.map((v, i) => v + ranks[1][k]![i]);
    expect(maxDiff(sum('weightGrad'), ref.weightGrad!)).toBeLessThan(c.tol * 100);
    expect(maxDiff(sum('biasGrad'), ref.biasGrad!)).toBeLessThan(c.tol * 100);
  });

  it('every rank holds the whole batch\'s running statistics', () => {
    for (const r of ranks) {
      expect(maxDiff(r.runningMean, ref.runningMean)).toBeLessThan(c.tol);
      expect(maxDiff(r.runningVar, ref.runningVar)).toBeLessThan(c.tol * 10);
      expect(r.numBatchesTracked).toBe(2);
    }
    expect(ranks[1].runningVar).toEqual(ranks[0].runningVar);
  });

  it('allReduceWithGrad: y = Σ x, and the gradient of x_r is Σ of the ranks\' upstream gradients', () => {
    for (const r of ranks) expect(r.closedForm).toEqual({ y: [3, 6], grad: [3, 2] });
  });
});

describe('DDP training with BatchNorm in training mode', () => {
  it('a rank killed mid-run makes the other fail inside SyncBatchNorm\'s collective within the timeout, not hang', async () => {
    const initMethod = `file://${path.join(dir, 'store-kill')}`;
    // No per-forward buffer broadcast: the survivor's first collective after the kill is SyncBatchNorm's.
    const args = (r: number) => ({ mode: 'plain', syncBn: true, broadcastBuffers: false, steps: 6, batch: 16, initMethod, out: path.join(dir, `kill-${r}.json`), dieAtStep: 2, timeoutMs: 10_000 });
    const [survivor, killed] = await Promise.all([runDdpRank(0, 2, args(0)), runDdpRank(1, 2, args(1))]);
    expect(killed.code === null || killed.code === 137).toBe(true);
    expect(survivor.code).toBe(3);
    expect(survivor.stderr).toMatch(/rank 0 failed: ERR_DISTRIBUTED syncBatchNorm: .*(peer process may have exited|timed out)/);
    expect(survivor.ms).toBeLessThan(25_000);
  });

  it('2 ranks with B/2 and SyncBatchNorm end where 1 process with B does; without it they do not', async () => {
    const [one, two, local] = await Promise.all([
      trainDdp(dir, 'sync-1', 1, { mode: 'signin', syncBn: true }),
      trainDdp(dir, 'sync-2', 2, { mode: 'signin', syncBn: true }),
      trainDdp(dir, 'local-2', 2, { mode: 'signin', train: true }),
    ]);
    for (const d of Object.values(maxAbsDiff(two[0].state, two[1].state))) expect(d).toBe(0);
    const synced = maxAbsDiff(one[0].state, two[0].state);
    for (const [k, d] of Object.entries(synced)) expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
    // Per-rank statistics (PyTorch DDP's default) give another result: the test can fail.
    const unsynced = maxAbsDiff(one[0].state, local[0].state);
    expect(Math.max(...Object.values(unsynced))).toBeGreaterThan(1e-3);
  });
});

it('without a process group a converted layer is plain BatchNorm; convertSyncBatchNorm counts and reverts', () => {
  tidy(() => {
    const a = new BatchNorm2d(3);
    const b = new BatchNorm2d(3);
    expect(convertSyncBatchNorm(b)).toBe(1);
    expect(b.sync).toBeDefined();
    expect(b.toString()).toContain('sync=true');
    const x = randn([4, 3, 2, 2], { generator: new Generator(3) });
    expect(maxDiff(a.forward(x).toArray(), b.forward(x).toArray())).toBe(0);
    expect(b.runningMean!.toArray()).toEqual(a.runningMean!.toArray());
    expect(convertSyncBatchNorm(b, { enabled: false })).toBe(1);
    expect(b.sync).toBeUndefined();
  });
  expect(() => convertSyncBatchNorm({} as never)).toThrow(/module/);
  expect(() => new BatchNorm2d(2).setSync({ forward: 1 } as never)).toThrow(/sync/);
});

describe('syncBatchNorm in a group of one process', () => {
  const calls: number[] = [];
  const oneProcess: BatchNormSync = { active: () => true, forward: (x, w, b, eps) => (calls.push(x.shape[0]), syncBatchNorm(x, w, b, eps)) };
  beforeAll(() => initProcessGroup({ backend: 'gloo', rank: 0, worldSize: 1, initMethod: `file://${path.join(dir, 'store-one')}`, timeoutMs: 10_000 }));
  afterAll(() => destroyProcessGroup());

  it('bfloat16 input: normalized in float32, returned in bfloat16, as libtorch\'s batch norm on the same input', () => {
    tidy(() => {
      const x = randn([6, 4, 3, 3], { generator: new Generator(5) }).mul(2).add(1).to('bfloat16');
      const plain = new BatchNorm2d(4);
      const synced = new BatchNorm2d(4);
      synced.setSync(oneProcess);
      const want = plain.forward(x.float());
      const got = synced.forward(x);
      expect(got.dtype).toBe('bfloat16');
      expect(maxDiff(got.float().toArray(), want.toArray())).toBeLessThan(0.02);
      expect(maxDiff(synced.runningVar!.toArray(), plain.runningVar!.toArray())).toBeLessThan(1e-5);
    });
  });

  it('without running statistics it trains on batch statistics and updates nothing; eval mode does not synchronize', () => {
    tidy(() => {
      const x = randn([5, 3], { generator: new Generator(6) });
      const plain = new BatchNorm1d(3, { trackRunningStats: false });
      const synced = new BatchNorm1d(3, { trackRunningStats: false });
      synced.setSync(oneProcess);
      expect(maxDiff(synced.forward(x).toArray(), plain.forward(x).toArray())).toBeLessThan(1e-6);
      expect(synced.runningMean).toBeUndefined();
      calls.length = 0;
      const tracked = new BatchNorm1d(3);
      tracked.setSync(oneProcess);
      tracked.eval();
      tracked.forward(x);
      expect(calls).toEqual([]);
      tracked.train();
      tracked.forward(x);
      expect(calls).toEqual([5]);
    });
  });

  it('bad input is refused, naming the argument: one value per channel, no channels, integers', () => {
    tidy(() => {
      const bn = new BatchNorm2d(2);
      bn.setSync(oneProcess);
      expect(() => bn.forward(randn([1, 2, 1, 1]))).toThrow(/input.*more than 1 value per channel/);
      expect(bn.runningMean!.toArray()).toEqual([0, 0]);
      expect(() => syncBatchNorm(randn([4, 0]), undefined, undefined, 1e-5)).toThrow(/input: expected \[N, C, \.\.\.\] with C >= 1/);
      expect(() => syncBatchNorm(randn([4]), undefined, undefined, 1e-5)).toThrow(/input: expected \[N, C/);
      expect(() => syncBatchNorm(randn([4, 2]).to('int64'), undefined, undefined, 1e-5)).toThrow(/input: expected a floating-point tensor/);
      expect(() => syncBatchNorm(randn([4, 2]), randn([3]), undefined, 1e-5)).toThrow(/weight and bias: expected \[2\]/);
      expect(() => syncBatchNorm(randn([4, 2]), undefined, undefined, -1)).toThrow(/eps/);
    });
  });
});
