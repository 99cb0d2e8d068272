import { DistributedSampler, permutation, RandomSampler, SequentialSampler, ShardSampler } from '../../../src/data';
import { pythonHas, runPythonJson } from '../../helpers/pytorch';

function sorted(a: Iterable<number>): number[] {
  return [...a].sort((x, y) => x - y);
}

describe('samplers', () => {
  test('SequentialSampler and RandomSampler', () => {
    expect([...new SequentialSampler(5).indices()]).toEqual([0, 1, 2, 3, 4]);
    const s = new RandomSampler(100, { seed: 3 });
    const e0 = s.indices();
    expect(sorted(e0)).toEqual([...Array(100).keys()]);
    expect([...s.indices()]).toEqual([...e0]);
    s.setEpoch(1);
    const e1 = s.indices();
    expect([...e1]).not.toEqual([...e0]);
    s.setEpoch(0);
    expect([...s.indices()]).toEqual([...e0]);
    expect([...new RandomSampler(100, { seed: 4 }).indices()]).toEqual([...permutation(100, 4)]);
  });

  test.each([
    [10, 3, false],
    [10, 3, true],
    [12, 4, false],
    [7, 8, false],
    [60000, 7, false],
  ])('DistributedSampler n=%i worldSize=%i dropLast=%s: equal sizes, disjoint, union = all', (n, W, dropLast) => {
    const parts = Array.from({ length: W }, (_, rank) => {
      const s = new DistributedSampler(n, { rank, worldSize: W, seed: 5, dropLast });
      s.setEpoch(2);
      return s;
    });
    const lists = parts.map((p) => [...p.indices()]);
    const size = dropLast ? Math.floor(n / W) : Math.ceil(n / W);
    for (const l of lists) expect(l.length).toBe(size);
    expect(parts[0].length).toBe(size);
    const all = lists.flat();
    const unique = new Set(all);
    if (dropLast) expect(unique.size).toBe(all.length); // disjoint
    else {
      expect(unique.size).toBe(n); // union = all
      expect(all.length - unique.size).toBe(size * W - n); // only the padding repeats
    }
  });

  test('argument checks', () => {
    expect(() => new DistributedSampler(10, { rank: 3, worldSize: 3 })).toThrow('Expected integer in [0, 2] for rank but received 3 of type number');
    expect(() => new DistributedSampler(10, { rank: 0, worldSize: 0 })).toThrow('Expected positive integer for worldSize but received 0 of type number');
    expect(() => new RandomSampler(10).setEpoch(-1)).toThrow('Expected non-negative integer for epoch but received -1 of type number');
  });
});

(pythonHas('torch') ? describe : describe.skip)('against PyTorch (same libtorch, /usr/bin/python3)', () => {
  test('DistributedSampler (after set_epoch) and RandomSampler orders are PyTorch\'s', () => {
    const cases = [
      { n: 10, W: 3, rank: 1, shuffle: true, seed: 0, dropLast: false, epoch: 0 },
      { n: 10, W: 3, rank: 2, shuffle: true, seed: 7, dropLast: true, epoch: 3 },
      { n: 5, W: 8, rank: 6, shuffle: true, seed: 1, dropLast: false, epoch: 1 },
      { n: 11, W: 2, rank: 1, shuffle: false, seed: 0, dropLast: false, epoch: 0 },
      { n: 50000, W: 4, rank: 3, shuffle: true, seed: 42, dropLast: false, epoch: 9 },
    ];
    const ref = runPythonJson<{ dist: number[][]; perm: number[] }>(
      String.raw`
import sys, json, torch
from torch.utils.data.distributed import DistributedSampler
cases = json.load(sys.stdin)
out = []
for c in cases:
    s = DistributedSampler(list(range(c['n'])), num_replicas=c['W'], rank=c['rank'], shuffle=c['shuffle'], seed=c['seed'], drop_last=c['dropLast'])
    s.set_epoch(c['epoch'])
    out.append(list(s))
g = torch.Generator(); g.manual_seed(12)
print(json.dumps({'dist': out, 'perm': list(torch.utils.data.RandomSampler(range(1000), generator=g))}))
`,
      cases,
    );
    cases.forEach((c, k) => {
      const s = new DistributedSampler(c.n, { rank: c.rank, worldSize: c.W, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
      s.setEpoch(c.epoch);
      expect([...s.indices()]).toEqual(ref.dist[k]);
    });
    expect([...new RandomSampler(1000, { seed: 12 }).indices()]).toEqual(ref.perm);
  });
});

describe('ShardSampler', () => {
  it('shares an evaluation set out among the ranks, each sample exactly once, shares within one of each other', () => {
    for (const [n, world] of [[17, 2], [17, 3], [16, 4], [2, 4], [0, 3]]) {
      const shares = Array.from({ length: world }, (_, r) => [...new ShardSampler(n, { rank: r, worldSize: world }).indices()]);
      expect(shares.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      for (const [r, share] of shares.entries()) {
        expect(new ShardSampler(n, { rank: r, worldSize: world }).length).toBe(share.length);
        expect(share.length).toBe(Math.floor(n / world) + (r < n % world ? 1 : 0));
      }
    }
  });

  it('refuses a rank outside the world, naming it', () => {
    expect(() => new ShardSampler(10, { rank: 2, worldSize: 2 })).toThrow('Expected integer in [0, 1] for rank but received 2 of type number');
    expect(() => new ShardSampler(10, undefined as never)).toThrow(/for options/);
  });
});
