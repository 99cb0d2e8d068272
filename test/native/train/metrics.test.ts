import { Generator, randint, randn, tensor, tidy, memory } from '../../../src';
import { clipGradNorm } from '../../../src/train/clip';
import { MetricAccumulator, topkCorrect } from '../../../src/train/metrics';

describe('topkCorrect', () => {
  it('counts rows whose target is among the k largest logits', () => {
    tidy(() => {
      const logits = tensor([
        [0.1, 0.9, 0.0, 0.5],
        [0.8, 0.1, 0.3, 0.2],
        [0.2, 0.3, 0.4, 0.1],
      ]);
      // Target ranks: row 0 first, row 1 second (0.3 after 0.8), row 2 last (0.1).
      const target = tensor([1, 2, 3], { dtype: 'int64' });
      expect(topkCorrect(logits, target, [1, 2, 3, 4])).toEqual([1, 2, 2, 3]);
      // k beyond the number of classes counts every row.
      expect(topkCorrect(logits, target, [1, 5])).toEqual([1, 3]);
    });
  });

  it('equals a float64 count of the logits above the target, for any k up to past the classes', () => {
    const gen = new Generator(3);
    tidy(() => {
      for (const [rows, classes] of [[257, 13], [128, 10], [5, 2]]) {
        const logits = randn([rows, classes], { generator: gen });
        const target = randint(0, classes, [rows], { generator: gen });
        const l = logits.toArray();
        const t = target.toArray();
        // Random floats have no ties: a row is right within k when fewer than k logits beat its target's.
        const above = t.map((c, r) => l.slice(r * classes, (r + 1) * classes).filter((v) => v > l[r * classes + c]).length);
        const ks = [1, 3, 5, classes, classes + 7, 2];
        expect(topkCorrect(logits, target, ks)).toEqual(ks.map((k) => above.filter((a) => a < k).length));
      }
    });
  });

  it('leaves no tensors behind', () => {
    const logits = tensor([[1, 2], [3, 0]]);
    const target = tensor([1, 0], { dtype: 'int64' });
    const before = memory().numTensors;
    topkCorrect(logits, target, [1]);
    expect(memory().numTensors).toBe(before);
    logits.dispose();
    target.dispose();
  });
});

describe('MetricAccumulator', () => {
  it('weights losses by batch size', () => {
    const acc = new MetricAccumulator();
    acc.add(1.0, [3, 4], 4);
    acc.add(4.0, [0, 1], 2);
    expect(acc.result()).toEqual({ loss: (4 + 8) / 6, top1: 3 / 6, top5: 5 / 6 });
  });
});

describe('clipGradNorm', () => {
  it('scales all gradients by maxNorm / total norm when above, and returns the norm before', () => {
    const a = tensor([3, 0]).requiresGrad_();
    const b = tensor([4]).requiresGrad_();
    tidy(() => a.mul(tensor([1, 1])).sum().add(b.mul(4).sum()).backward());
    // grads: a -> [1, 1], b -> [4]; total norm sqrt(18)
    const norm = clipGradNorm([a, b], 1);
    expect(norm).toBeCloseTo(Math.sqrt(18), 5);
    const s = 1 / (Math.sqrt(18) + 1e-6);
    tidy(() => {
      expect(a.grad!.toArray().map((v) => v / s)).toEqual([expect.closeTo(1, 5), expect.closeTo(1, 5)]);
      expect(b.grad!.toArray()[0] / s).toBeCloseTo(4, 5);
    });
    expect(clipGradNorm([a, b], 100)).toBeCloseTo(1, 4);
    a.dispose();
    b.dispose();
  });
});
