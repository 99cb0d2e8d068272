/**
 * The examples SNIP and GraSP score on (src/experiments/prune-data.ts): pruning.dataSamples of them,
 * class-balanced or not, un-augmented. The expected selection is computed in PyTorch from the
 * IDX label bytes (torch.randperm with the config's seed, then the first ones, or the first ones
 * of each class up to its quota) and the pixels are checked against the raw image bytes.
 */
import * as fs from 'node:fs';
import { MEAN_STD } from '../../../src/data';
import { parseConfig } from '../../../src/experiments';
import { classQuotas, pruneBatch, pruneBatches } from '../../../src/experiments/prune-data';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';
import { tensor } from '../../../src';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';

const SELECT = `
labels = inp['labels'].long()
perm = torch.randperm(labels.numel(), generator=torch.Generator().manual_seed(int(inp['seed'].item())))
k = int(inp['samples'].item())
if inp['balanced'].item() == 0:
    idx = perm[:k]
else:
    C = 10
    quota = [k // C + (1 if c < k % C else 0) for c in range(C)]
    idx = []
    for i in perm.tolist():
        c = int(labels[i])
        if quota[c] > 0:
            quota[c] -= 1
            idx.append(i)
        if len(idx) == k:
            break
    idx = torch.tensor(idx)
js['idx'] = idx.tolist()
js['counts'] = torch.bincount(labels[idx], minlength=10).tolist()
# GraSP_fetch_data's order: each class's examples as met, the classes concatenated in turn.
js['by_class'] = [i for c in range(10) for i in idx.tolist() if int(labels[i]) == c]
`;

describeWithTorch('pruning data: samples and class balance', () => {
  const dir = tmpDir('signin-prune-data-');
  const { train } = writeIdxSet(dir, fashionImages(600), false);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = (pruning: Record<string, unknown>) => parseConfig({
    dataset: { name: 'mnist', root: dir }, model: { name: 'lenet5' }, pruning: { method: 'snip', sparsity: 0.5, ...pruning }, epochs: 1, seed: 4,
  });

  function expected(samples: number, balanced: boolean): { idx: number[]; counts: number[]; by_class: number[] } {
    return runTorch(SELECT, {
      labels: tensor(Array.from(train.labels)), seed: tensor([4]), samples: tensor([samples]), balanced: tensor([balanced ? 1 : 0]),
    }).js as { idx: number[]; counts: number[]; by_class: number[] };
  }

  async function check(samples: number, balanced: boolean): Promise<number[]> {
    const ref = expected(samples, balanced);
    const [x, y] = await pruneBatch(config({ dataSamples: samples, dataBalanced: balanced }));
    try {
      expect(x.shape).toEqual([samples, 1, 28, 28]);
      expect(y.toArray()).toEqual(ref.idx.map((i) => train.labels[i]));
      // Un-augmented: exactly the stored pixels, normalized.
      const { mean, std } = MEAN_STD.mnist;
      const px = x.toArray();
      ref.idx.forEach((i, r) => {
        for (const p of [0, 300, 783]) {
          expect(Math.abs(px[r * 784 + p] - (train.images[i * 784 + p] / 255 - mean[0]) / std[0])).toBeLessThan(1e-5);
        }
      });
    } finally {
      x.dispose();
      y.dispose();
    }
    return ref.counts;
  }

  test('unbalanced: the first dataSamples of the seeded order', async () => {
    await check(37, false);
  });

  test('balanced: dataSamples / classes of each class, the first classes one more', async () => {
    expect(await check(40, true)).toEqual(Array(10).fill(4));
    const counts = await check(45, true);
    expect(counts).toEqual(classQuotas(45, 10));
    expect(counts).toEqual([5, 5, 5, 5, 5, 4, 4, 4, 4, 4]);
  });

  test("dataBatches: equal consecutive batches of the same examples, class by class when balanced (GraSP's authors' halves)", async () => {
    for (const balanced of [false, true]) {
      const ref = expected(40, balanced);
      const order = balanced ? ref.by_class : ref.idx;
      const batches = await pruneBatches(config({ dataSamples: 40, dataBalanced: balanced, dataBatches: 2 }));
      try {
        expect(batches.map(([x]) => x.shape)).toEqual([[20, 1, 28, 28], [20, 1, 28, 28]]);
        expect(batches.flatMap(([, y]) => y.toArray())).toEqual(order.map((i) => train.labels[i]));
        const { mean, std } = MEAN_STD.mnist;
        const second = batches[1][0].toArray();
        expect(Math.abs(second[300] - (train.images[order[20] * 784 + 300] / 255 - mean[0]) / std[0])).toBeLessThan(1e-5);
      } finally {
        for (const t of batches.flat()) t.dispose();
      }
    }
  });

  test('more samples than the data holds is an error naming the field', async () => {
    await expect(pruneBatch(config({ dataSamples: 301 }))).rejects.toThrow(/^Expected at most 300 \(the examples of mnist's training set\) for pruning\.dataSamples but received 301/);
    const perClass = Math.min(...Array.from({ length: 10 }, (_, c) => train.labels.filter((l) => l === c).length));
    await expect(pruneBatch(config({ dataSamples: 10 * (perClass + 1), dataBalanced: true })))
      .rejects.toThrow(/too few examples of class [\d, ]+\) for pruning\.dataSamples/);
  });

  test('the config records them (defaults: 128 samples, unbalanced; SynFlow in float64)', () => {
    const c = config({});
    expect(c.pruning).toMatchObject({ dataSamples: 128, dataBalanced: false, synflowDtype: 'float64' });
    expect(JSON.parse(JSON.stringify(c)).pruning.dataSamples).toBe(128);
  });
});
