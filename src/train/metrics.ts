/** Accuracy counting from logits, done on the device with one readback per batch. */
import { InvalidArgumentError } from '../errors';
import { invalidTensorArg, tensorArg } from '../nn/functional';
import { noGrad } from '../tensor/autograd';
import { tidy } from '../tensor/engine';
import type { Tensor } from '../tensor/tensor';
import { isInt, list } from '../validate';

/** How many rows of logits have the target among their top-k classes, for each k. */
export function topkCorrect(logits: Tensor, target: Tensor, ks: number[]): number[] {
  if (tensorArg('logits', logits).ndim !== 2) throw invalidTensorArg('logits', 'a 2-D Tensor (batch, classes)', logits);
  tensorArg('target', target);
  if (list('ks', ks, 'non-empty array of positive integers', (k) => isInt(k) && k >= 1).length === 0) {
    throw new InvalidArgumentError('ks', 'non-empty array of positive integers', ks);
  }
  return noGrad(() => tidy(() => {
    const classes = logits.shape[1];
    const kmax = Math.min(Math.max(...ks), classes);
    const { indices } = logits.topk(kmax, 1, true, true);
    // A row's top-k indices are distinct, so its target is at most one of them: hits per rank,
    // summed over the batch, then accumulated over ranks here, count the rows right within k.
    // The trainer calls this every step, after the backward has evicted libtorch's code and data
    // from the caches, where each small op costs 30-50 µs: three ops after topk, not six.
    const cum = indices.eq(target.reshape([-1, 1])).sum(0).toArray();
    for (let r = 1; r < cum.length; r++) cum[r] += cum[r - 1];
    return ks.map((k) => cum[Math.min(k, classes) - 1]);
  }));
}

/** Running sums for loss and accuracy over an epoch. */
export class MetricAccumulator {
  private lossSum = 0;
  private top1 = 0;
  private top5 = 0;
  private n = 0;

  add(loss: number, correct: number[], batchSize: number): void {
    this.lossSum += loss * batchSize;
    this.top1 += correct[0];
    this.top5 += correct[1] ?? 0;
    this.n += batchSize;
  }

  get count(): number {
    return this.n;
  }

  /** The running sums [loss × samples, top-1 hits, top-5 hits, samples], exact (a mid-epoch checkpoint's). */
  sums(): [number, number, number, number] {
    return [this.lossSum, this.top1, this.top5, this.n];
  }

  /** Continues from sums() (an epoch resumed in its middle). */
  static fromSums(sums: readonly number[]): MetricAccumulator {
    if (!Array.isArray(sums) || sums.length !== 4 || !sums.every((v) => typeof v === 'number')) {
      throw new InvalidArgumentError('sums', 'an array of 4 numbers (MetricAccumulator.sums())', sums);
    }
    const acc = new MetricAccumulator();
    [acc.lossSum, acc.top1, acc.top5, acc.n] = sums;
    return acc;
  }

  result(): { loss: number; top1: number; top5: number } {
    const n = Math.max(this.n, 1);
    return { loss: this.lossSum / n, top1: this.top1 / n, top5: this.top5 / n };
  }
}
