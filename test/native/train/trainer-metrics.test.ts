/**
 * What the Trainer reports and hands on per step, checked against what its model computed: the
 * epoch's loss and top-1 (training) and top-1/top-5 (evaluation) from the logits of each batch in
 * float64, and the parameter list reaching gradient clipping and data-parallel hooks. The epoch's
 * dataSeconds and evalSeconds on a clock that only the batch sources move: what training waited
 * for its batches, and the evaluation's time, each exactly.
 */
import * as pino from 'pino';
import { Generator, SGD, keep, manualSeed, tidy, type Tensor } from '../../../src';
import { Trainer, type DataParallelHooks } from '../../../src/train/trainer';
import type { BatchSource } from '../../../src/train/trainer';
import { batchesOf, createToyModel, toyBatch } from '../../helpers/toy-model';

const silent = pino.default({ level: 'silent' });


/** Mean cross-entropy, top-1 and top-5 of float32 logits, in float64 (random logits: no ties). */
function reference(logits: number[][][], targets: number[][]): { loss: number; top1: number; top5: number } {
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let n = 0;
  logits.forEach((batch, b) => {
    let batchLoss = 0;
    batch.forEach((row, r) => {
      const target = row[targets[b][r]];
      const max = Math.max(...row);
      batchLoss += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - target;
      const above = row.filter((v) => v > target).length;
      if (above < 1) top1++;
      if (above < 5) top5++;
    });
    lossSum += batchLoss;
    n += batch.length;
  });
  return { loss: lossSum / n, top1: top1 / n, top5: top5 / n };
}

describe('Trainer', () => {
  it('reports the float64 loss, top-1 and top-5 of the logits its model produced', async () => {
    manualSeed(0);
    const model = createToyModel({ inChannels: 1, width: 4 });
    const gen = new Generator(11);
    const train = Array.from({ length: 3 }, (_, i) => toyBatch(16 + i, { generator: gen, imageSize: 12 }));
    const test = Array.from({ length: 2 }, () => toyBatch(20, { generator: gen, imageSize: 12 }));
    // Logits of each batch in the order the sources give them: training first, then evaluation.
    const seen: { train: number[][][]; test: number[][][] } = { train: [], test: [] };
    const forward = model.forward.bind(model);
    model.forward = (x: Tensor) => {
      const out = forward(x);
      const [rows, classes] = out.shape;
      const flat = out.toArray();
      (model.training ? seen.train : seen.test).push(Array.from({ length: rows }, (_, r) => flat.slice(r * classes, (r + 1) * classes)));
      return out;
    };
    const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9 });
    const trainer = new Trainer({ model, optimizer, train: batchesOf(train), test: batchesOf(test), epochs: 1, lr: () => 0.05, progress: false, logger: silent });
    const m = (await trainer.fit())!;
    const r = reference(seen.train, train.map((b) => b.y.toArray()));
    expect(m.trainAcc).toBe(r.top1);
    expect(m.trainLoss).toBeCloseTo(r.loss, 6);
    const e = reference(seen.test, test.map((b) => b.y.toArray()));
    expect(m.testAcc).toBe(e.top1);
    expect(m.testTop5).toBe(e.top5);
    expect(m.testLoss).toBeCloseTo(e.loss, 6);
    // Random labels on 10 classes: the counts are neither all nor nothing, so the checks bite.
    expect(r.top1).toBeGreaterThan(0);
    expect(e.top5).toBeGreaterThan(e.top1);
    expect(e.top5).toBeLessThan(1);
    for (const b of [...train, ...test]) {
      b.x.dispose();
      b.y.dispose();
    }
    optimizer.dispose();
    model.dispose();
  });

  it('hands the parameters to gradient clipping: one SGD step moves the weights by at most lr · maxNorm', async () => {
    const moved = async (gradClipNorm?: number): Promise<number> => {
      manualSeed(1);
      const model = createToyModel({ inChannels: 1, width: 4 });
      const b = toyBatch(16, { generator: new Generator(2), imageSize: 12 });
      const before = tidy(() => model.parameters().map((p) => keep(p.clone())));
      const optimizer = SGD.forModel(model, { lr: 1 });
      await new Trainer({ model, optimizer, train: batchesOf([b]), epochs: 1, lr: () => 1, gradClipNorm, progress: false, logger: silent }).fit();
      const norm = tidy(() => Math.sqrt(model.parameters().reduce((s, p, i) => s + p.sub(before[i]).pow(2).sum().item(), 0)));
      for (const t of [...before, b.x, b.y]) t.dispose();
      optimizer.dispose();
      model.dispose();
      return norm;
    };
    expect(await moved()).toBeGreaterThan(0.05);
    const clipped = await moved(0.01);
    expect(clipped).toBeLessThanOrEqual(0.01 * (1 + 1e-5));
    expect(clipped).toBeGreaterThan(0.0099);
  });

  it("hands data-parallel hooks the model's parameters after every backward", async () => {
    manualSeed(2);
    const model = createToyModel({ inChannels: 1, width: 4 });
    const gen = new Generator(4);
    const data = [toyBatch(8, { generator: gen, imageSize: 12 }), toyBatch(8, { generator: gen, imageSize: 12 })];
    const synced: Tensor[][] = [];
    const hooks: DataParallelHooks = {
      syncState: () => undefined,
      prepareBackward: () => undefined,
      syncGradients: (params) => {
        expect(params.every((p) => p.grad !== undefined)).toBe(true);
        synced.push([...params]);
      },
      syncBuffers: () => undefined,
    };
    const optimizer = SGD.forModel(model, { lr: 0.01 });
    await new Trainer({ model, optimizer, train: batchesOf(data), epochs: 1, lr: () => 0.01, dataParallel: hooks, progress: false, logger: silent }).fit();
    expect(synced).toHaveLength(2);
    const expected = model.parameters();
    for (const params of synced) {
      expect(params).toHaveLength(expected.length);
      params.forEach((p, i) => expect(p).toBe(expected[i]));
    }
    for (const b of data) {
      b.x.dispose();
      b.y.dispose();
    }
    optimizer.dispose();
    model.dispose();
  });
});

describe('Trainer timings', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 0;
    jest.spyOn(performance, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  /** The batches of `source`, each taking `ms` on the clock to arrive (a loader that makes training wait). */
  function slow(source: BatchSource, ms: number): BatchSource {
    return {
      length: source.length,
      async *[Symbol.asyncIterator]() {
        for await (const b of source) {
          clock += ms;
          yield b;
        }
      },
    };
  }

  it('dataSeconds: the waits for the training batches; evalSeconds: the evaluation, apart from them', async () => {
    manualSeed(0);
    const model = createToyModel({ inChannels: 1, width: 4 });
    const gen = new Generator(5);
    const train = Array.from({ length: 3 }, () => toyBatch(8, { generator: gen, imageSize: 12 }));
    const test = Array.from({ length: 2 }, () => toyBatch(8, { generator: gen, imageSize: 12 }));
    // Each forward takes 7 ms on the clock: the steps' and the evaluation's compute.
    const forward = model.forward.bind(model);
    model.forward = (x: Tensor) => {
      clock += 7;
      return forward(x);
    };
    const optimizer = SGD.forModel(model, { lr: 0.05 });
    const rows: Record<string, unknown>[] = [];
    const trainer = new Trainer({
      model, optimizer, train: slow(batchesOf(train), 40), test: slow(batchesOf(test), 250), epochs: 2, evalEvery: 2, lr: () => 0.05, progress: false, logger: silent,
      callbacks: [{ name: 'rows', onEpochEnd: (_ctx, m) => { rows.push({ ...m }); } }],
    });
    await trainer.fit();
    expect(rows.map((r) => [r.dataSeconds, r.evalSeconds])).toEqual([[0.12, undefined], [0.12, 0.514]]);
    for (const b of [...train, ...test]) {
      b.x.dispose();
      b.y.dispose();
    }
    optimizer.dispose();
    model.dispose();
  });
});
