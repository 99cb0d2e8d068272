/**
 * Tensor lifetime: tidy/keep/dispose semantics, and a 500-step training loop whose live tensor
 * count and bytes stay flat after warm-up (architecture.md decision 4).
 */
import {
  F, Generator, Tensor, keep, manualSeed, memory, noGrad, ones, scopeDepth, tidy, zeros,
} from '../../src';
import { createToyModel, toyBatch } from '../helpers/toy-model';

describe('tidy / keep / dispose', () => {
  it('frees temporaries; the result survives and moves to the enclosing scope', () => {
    const before = memory();
    let inner: Tensor | undefined;
    let temp: Tensor | undefined;
    const outer = tidy(() => {
      inner = tidy(() => {
        temp = ones([4]).mul(3);
        return temp.add(1);
      });
      expect(temp!.isDisposed).toBe(true);
      expect(inner.isDisposed).toBe(false);
      return inner.sum();
    });
    expect(inner!.isDisposed).toBe(true);
    expect(outer.item()).toBe(16);
    expect(memory().numTensors).toBe(before.numTensors + 1);
    outer.dispose();
    expect(memory()).toEqual(before);
  });

  it('finds results inside arrays, objects and Maps', () => {
    const before = memory().numTensors;
    const r = tidy(() => ({ list: [ones([1]), zeros([1])], map: new Map([['a', ones([2])]]), nested: { t: ones([3]) }, n: 1 }));
    expect(memory().numTensors).toBe(before + 4);
    expect(r.map.get('a')!.toArray()).toEqual([1, 1]);
    r.list.forEach((t) => t.dispose());
    r.map.get('a')!.dispose();
    r.nested.t.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('kept tensors survive every scope until disposed', () => {
    const before = memory().numTensors;
    let kept: Tensor | undefined;
    tidy(() => {
      tidy(() => {
        kept = keep(ones([2]).add(1));
      });
    });
    expect(kept!.toArray()).toEqual([2, 2]);
    expect(memory().numTensors).toBe(before + 1);
    kept!.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('a throw inside tidy frees everything the scope created and propagates the error', () => {
    const before = memory();
    expect(() => tidy(() => {
      ones([100]).mul(2);
      tidy(() => {
        zeros([50]).add(1);
        throw new Error('boom');
      });
    })).toThrow('boom');
    expect(memory()).toEqual(before);
    expect(scopeDepth()).toBe(0);
  });

  it('a libtorch error inside tidy also frees everything', () => {
    const before = memory();
    expect(() => tidy(() => ones([2, 3]).matmul(ones([2, 3])))).toThrow(/cannot be multiplied/);
    expect(memory()).toEqual(before);
  });

  it('a Promise-returning function throws ERR_TIDY_ASYNC and frees its tensors', () => {
    const before = memory();
    expect(() => tidy(() => Promise.resolve(ones([3])))).toThrow(expect.objectContaining({ code: 'ERR_TIDY_ASYNC' }));
    expect(memory()).toEqual(before);
  });

  it('dispose of a model releases its parameters and buffers', () => {
    const before = memory();
    const model = createToyModel();
    expect(memory().numTensors).toBeGreaterThan(before.numTensors);
    model.dispose();
    expect(memory()).toEqual(before);
  });
});

describe('500 training steps do not leak', () => {
  it('numTensors and numBytes stay flat after warm-up', () => {
    manualSeed(0);
    const model = createToyModel({ width: 4 });
    const gen = new Generator(1);
    const batches = [0, 1, 2, 3].map(() => toyBatch(16, { generator: gen }));
    const params = model.parameters();
    const lr = 0.05;
    const losses: number[] = [];
    const snapshots: { step: number; numTensors: number; numBytes: number }[] = [];
    const start = memory();

    for (let step = 0; step < 500; step++) {
      const { x, y } = batches[step % batches.length];
      const loss = tidy(() => {
        const l = F.crossEntropy(model.forward(x), y);
        l.backward();
        noGrad(() => {
          for (const p of params) p.sub_(p.grad!, lr);
        });
        return l.item();
      });
      model.zeroGrad();
      losses.push(loss);
      if (step === 20 || step === 100 || step === 250 || step === 499) snapshots.push({ step, ...memory() });
    }

    expect(scopeDepth()).toBe(0);
    const warm = snapshots[0];
    for (const s of snapshots) expect({ ...s, step: 0 }).toEqual({ ...warm, step: 0 });
    // No per-step growth at all: the loop leaves exactly the tensors it started with.
    expect({ numTensors: warm.numTensors, numBytes: warm.numBytes }).toEqual(start);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)));

    model.dispose();
    batches.forEach(({ x, y }) => { x.dispose(); y.dispose(); });
  });
});
