/**
 * The draws that sync-bn-worker.ts and its single-process reference in sync-batchnorm.test.ts
 * share: a BatchNorm layer with random weight and bias, and two passes of a global input x and
 * upstream gradient g, all from one fixed seed.
 */
import { BatchNorm1d, BatchNorm2d, Generator, noGrad, randn, type BatchNormBase, type DType, type Tensor } from '../../src';

export interface SyncBnCase {
  dtype: DType;
  /** The global batch: [N, C], [N, C, L] or [N, C, H, W]. */
  shape: number[];
  /** Rows of the global batch per rank. */
  split: number[];
  momentum: number | null;
  affine: boolean;
  channelsLast?: boolean;
}

export function syncBnDraws(c: SyncBnCase): { bn: BatchNormBase; passes: { x: Tensor; g: Tensor }[] } {
  const gen = new Generator(11);
  const ch = c.shape[1];
  const opts = { momentum: c.momentum, affine: c.affine };
  const bn = c.shape.length === 4 ? new BatchNorm2d(ch, opts) : new BatchNorm1d(ch, opts);
  bn.to(c.dtype);
  noGrad(() => {
    bn.weight?.copy_(randn([ch], { generator: gen, dtype: c.dtype }));
    bn.bias?.copy_(randn([ch], { generator: gen, dtype: c.dtype }));
  });
  bn.train();
  const passes = [1, 2].map((shift) => ({
    x: randn(c.shape, { generator: gen, dtype: c.dtype }).mul(3).add(shift),
    g: randn(c.shape, { generator: gen, dtype: c.dtype }),
  }));
  return { bn, passes };
}
