/**
 * A Trainer with its own objective (`criterion`, `evalCriterion`, `accuracy`), checked against
 * closed forms in float64: SGD on a linear model under mean squared error, whose gradient is
 * (2 / (N·out)) Eᵀ X with E = X Wᵀ − Y, and cross-entropy and arg-max of fixed logits.
 */
import * as pino from 'pino';
import { F, Linear, noGrad, SGD, tensor, type Criterion, type Tensor } from '../../../src';
import { Trainer, type BatchSource } from '../../../src/train/trainer';

const silent = pino.default({ level: 'silent' });

type Mat = number[][];

/** A deterministic pseudo-random matrix (no generator shared with the code under test). */
function mat(rows: number, cols: number, seed: number): Mat {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

const matmulT = (x: Mat, w: Mat): Mat => x.map((r) => w.map((wr) => wr.reduce((s, v, i) => s + v * r[i], 0)));

function source(batches: { x: Mat; y: Mat | number[] }[]): BatchSource {
  return {
    length: batches.length,
    async *[Symbol.asyncIterator]() {
      for (const b of batches) {
        const y = typeof b.y[0] === 'number' ? tensor(b.y as number[], { dtype: 'int64' }) : tensor(b.y as Mat);
        yield { x: tensor(b.x), y };
      }
    },
  };
}

function linearModel(w: Mat): Linear {
  const model = new Linear(w[0].length, w.length, { bias: false });
  noGrad(() => model.weight.copy_(tensor(w)));
  return model;
}

/** SGD on mean((X Wᵀ − Y)²) in float64, one step per batch: the weights, and each epoch's batch-weighted mean loss. */
function mseReference(w0: Mat, batches: { x: Mat; y: Mat }[], epochs: number, lr: number): { w: Mat; losses: number[] } {
  const w = w0.map((r) => [...r]);
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    let n = 0;
    for (const { x, y } of batches) {
      const err = matmulT(x, w).map((r, i) => r.map((v, j) => v - y[i][j]));
      const scale = 2 / (x.length * w.length);
      sum += err.flat().reduce((s, v) => s + v * v, 0) / (x.length * w.length) * x.length;
      n += x.length;
      const grad = w.map((_, o) => w[0].map((_, k) => scale * err.reduce((s, r, i) => s + r[o] * x[i][k], 0)));
      w.forEach((r, o) => r.forEach((_, k) => { r[k] -= lr * grad[o][k]; }));
    }
    losses.push(sum / n);
  }
  return { w, losses };
}

const near = (a: number, b: number, tol: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

describe('Trainer criterion', () => {
  const w0 = mat(2, 3, 1);
  const batches = [0, 1, 2].map((b) => ({ x: mat(5, 3, 10 + b), y: mat(5, 2, 20 + b) }));
  const testSet = [{ x: mat(7, 3, 30), y: mat(7, 2, 31) }];

  it('trains a regression by its criterion, reports its loss and no accuracy, evaluates by evalCriterion', async () => {
    const model = linearModel(w0);
    const trainer = new Trainer({
      model, optimizer: SGD.forModel(model, { lr: 0.3 }), train: source(batches), test: source(testSet), epochs: 2, lr: () => 0.3,
      criterion: (out, y) => F.mseLoss(out, y),
      evalCriterion: (out, y) => out.sub(y).abs().mean(),
      progress: false, logger: silent,
    });
    const last = await trainer.fit();
    const ref = mseReference(w0, batches, 2, 0.3);
    const got = model.weight.toArray();
    ref.w.flat().forEach((v, i) => near(got[i], v, 1e-5));
    near(last!.trainLoss, ref.losses[1], 1e-5);
    const pred = matmulT(testSet[0].x, ref.w);
    const mae = pred.flat().reduce((s, v, i) => s + Math.abs(v - testSet[0].y.flat()[i]), 0) / pred.flat().length;
    near(last!.testLoss!, mae, 1e-5);
    expect(last).not.toHaveProperty('trainAcc');
    expect(last).not.toHaveProperty('testAcc');
    expect(last).not.toHaveProperty('testTop5');
    const evaluated = await trainer.evaluate(source(testSet));
    near(evaluated.loss, mae, 1e-5);
    expect(evaluated).toEqual({ loss: evaluated.loss });
  });

  it('hands the criterion each micro-batch with its own input, and accumulates to the unsplit step', async () => {
    const model = linearModel(w0);
    const seen: number[][] = [];
    const criterion: Criterion = (out, y, input) => {
      seen.push(input.toArray());
      return F.mseLoss(out, y);
    };
    const trainer = new Trainer({
      model, optimizer: SGD.forModel(model, { lr: 0.3 }), train: source(batches), epochs: 1, lr: () => 0.3, criterion, gradAccumSteps: 2,
      progress: false, logger: silent,
    });
    const last = await trainer.fit();
    // Each batch of 5 in micro-batches of 2 and 3 rows, in order.
    expect(seen.map((a) => a.length / 3)).toEqual([2, 3, 2, 3, 2, 3]);
    expect(seen.flat()).toEqual(Array.from(new Float32Array(batches.flatMap((b) => b.x.flat()))));
    const ref = mseReference(w0, batches, 1, 0.3);
    const got = model.weight.toArray();
    ref.w.flat().forEach((v, i) => near(got[i], v, 1e-5));
    near(last!.trainLoss, ref.losses[0], 1e-5);
  });

  it('counts accuracy of a custom criterion when asked (accuracy: true)', async () => {
    const w = mat(3, 4, 2);
    const data = [0, 1].map((b) => ({ x: mat(9, 4, 40 + b), y: Array.from({ length: 9 }, (_, i) => (i * 7 + b) % 3) }));
    const model = linearModel(w);
    const trainer = new Trainer({
      model, optimizer: SGD.forModel(model, { lr: 0 }), train: source(data), epochs: 1, lr: () => 0,
      criterion: (logits, y) => F.crossEntropy(logits, y).mul(2), accuracy: true, progress: false, logger: silent,
    });
    const last = await trainer.fit();
    let loss = 0;
    let hits = 0;
    for (const { x, y } of data) {
      matmulT(x, w).forEach((row, i) => {
        const max = Math.max(...row);
        loss += 2 * (max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[y[i] as number]);
        if (row.indexOf(max) === y[i]) hits++;
      });
    }
    near(last!.trainLoss, loss / 18, 1e-5);
    expect(last!.trainAcc).toBe(hits / 18);
  });

  describe('refuses', () => {
    const make = (extra: Record<string, unknown>) => {
      const model = linearModel(w0);
      return { model, trainer: () => new Trainer({ model, optimizer: SGD.forModel(model, { lr: 0.3 }), train: source(batches), test: source(testSet), epochs: 1, lr: () => 0.3, progress: false, logger: silent, ...extra }) };
    };

    it('a criterion that is not a function, and label smoothing beside one', () => {
      expect(make({ criterion: 'mse' }).trainer).toThrow(/Expected function for criterion but received 'mse'/);
      expect(make({ evalCriterion: 3 }).trainer).toThrow(/for evalCriterion/);
      expect(make({ criterion: (o: Tensor, y: Tensor) => F.mseLoss(o, y), labelSmoothing: 0.1 }).trainer).toThrow(/Expected 0 or unset with a criterion .* for labelSmoothing but received 0\.1/);
      expect(make({ criterion: (o: Tensor, y: Tensor) => F.mseLoss(o, y), labelSmoothing: 0 }).trainer).not.toThrow();
      expect(make({ accuracy: 'yes' }).trainer).toThrow(/for accuracy/);
    });

    it('a per-sample loss, a number or a loss not computed from the output, before any step, leaving the weights as they were', async () => {
      for (const [criterion, why] of [
        [(o: Tensor, y: Tensor) => F.mseLoss(o, y, { reduction: 'none' }).mean(1), /for criterion but received a Tensor .*\[5\]/],
        [() => 1.5, /for criterion but received 1\.5/],
        [() => tensor([1.5]), /Expected a function returning a loss that requires grad \(computed from the model's output\) for criterion but received a Tensor that does not require grad/],
      ] as const) {
        const { model, trainer } = make({ criterion });
        const before = model.weight.toArray();
        await expect(trainer().fit()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(why) });
        expect(model.weight.toArray()).toEqual(before);
      }
    });

    it('an evalCriterion that does not give the mean loss', async () => {
      const { trainer } = make({ criterion: (o: Tensor, y: Tensor) => F.mseLoss(o, y), evalCriterion: (o: Tensor) => o });
      await expect(trainer().fit()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/for evalCriterion but received a Tensor .*\[7, 2\]/) });
    });
  });
});
