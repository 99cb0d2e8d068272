/**
 * IMP and LRR levels inside one Trainer run (ImpLevels, as the config runner uses it): after each
 * level the mask equals a float64 global top-k of the trained |θ| among the kept weights, IMP's
 * weights equal the values recorded independently at the rewind iteration (LRR's the trained
 * ones) under the new mask, the mask-change invariants hold and the optimizer state is that of a
 * fresh optimizer. The whole run equals the API loop that makes a new SGD each level, and a run
 * resumed from a checkpoint at a level's end or in the middle of a level ends bit-identical.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ImpLevels, RewindPoint, SGD, impNextLevel, loadCheckpoint, maskedLayers, resetOptimizerState, saveCheckpoint, signinFactors, tidy,
  type Callback, type Tensor,
} from '../../src';
import { expectedKeep, fixedSource, flatState, toySetup, train, values, violations } from './helpers';

const LEVELS = 3;
const EPOCHS_PER_LEVEL = 2;
const STEPS_PER_EPOCH = 4;
const FRACTION = 0.5;
const REWIND_STEP = 3;

const make = (rewind: boolean) => new ImpLevels({
  rewind, levels: LEVELS, epochsPerLevel: EPOCHS_PER_LEVEL, pruneFraction: FRACTION, rewindStep: rewind ? REWIND_STEP : undefined,
});

function allZero(state: Map<string, Tensor>): boolean {
  return [...state.values()].every((t) => values(t).every((v) => v === 0));
}

const CASES = [['IMP', true, false], ['IMP', true, true], ['LRR', false, false], ['LRR', false, true]] as const;

describe.each(CASES)('%s levels (rewind %s, Sign-In %s)', (_name, rewind, signin) => {
  it('prunes by global magnitude, rewinds or keeps the weights, keeps the invariants and resets the optimizer at each level', async () => {
    const { model, optimizer } = toySetup(signin);
    const src = fixedSource(STEPS_PER_EPOCH);
    const imp = make(rewind);
    const total = maskedLayers(model).reduce((a, [, l]) => a + l.weight.numel, 0);
    let kept = total;
    let atRewind: Record<string, number[]> | undefined;
    let pending: { want: number[][]; trained: Record<string, number[]>; masks: Tensor[] } | undefined;
    const levelsChecked: number[] = [];
    // Records, independently of ImpLevels, the weights at the rewind iteration and the expected mask at each level end.
    const before: Callback = {
      name: 'before',
      onStepEnd(ctx) {
        if (ctx.step === REWIND_STEP) atRewind = flatState(model);
      },
      onEpochEnd(ctx) {
        if (ctx.epoch % EPOCHS_PER_LEVEL !== 0 || ctx.epoch === LEVELS * EPOCHS_PER_LEVEL) return;
        kept = Math.round(kept * (1 - FRACTION));
        pending = { want: expectedKeep(model, kept), trained: flatState(model), masks: maskedLayers(model).map(([, l]) => tidy(() => l.mask.clone())) };
      },
    };
    const after: Callback = {
      name: 'after',
      onEpochEnd(ctx) {
        if (!pending) return;
        const expectedSource = rewind ? atRewind! : pending.trained;
        maskedLayers(model).forEach(([name, l], i) => {
          const mask = values(l.mask);
          expect(mask).toEqual(pending!.want[i]);
          expect(values(l.weight)).toEqual(expectedSource[`${name}.weight`].map((v, j) => (mask[j] ? v : 0)));
          expect(violations(l, optimizer, pending!.masks[i])).toEqual(Object.fromEntries(Object.keys(violations(l, optimizer, pending!.masks[i])).map((k) => [k, 0])));
          const s = signinFactors(l);
          if (s) {
            expect(values(s.w)).toEqual(expectedSource[`${name}.weight_w`].map((v, j) => (mask[j] ? v : 0)));
            expect(values(s.m)).toEqual(expectedSource[`${name}.weight_m`].map((v, j) => (mask[j] ? v : Math.fround(Math.sqrt(s.beta)))));
          }
          pending!.masks[i].dispose();
        });
        for (const k of ['bn1.weight', 'bn2.bias', 'bn2.running_mean']) expect(flatState(model)[k]).toEqual(expectedSource[k]);
        expect(allZero(optimizer.stateDict())).toBe(true);
        expect(imp.level).toBe(ctx.epoch / EPOCHS_PER_LEVEL);
        levelsChecked.push(imp.level);
        pending = undefined;
      },
    };
    await train(model, optimizer, src, LEVELS * EPOCHS_PER_LEVEL, [before, imp, after]);
    expect(levelsChecked).toEqual([1, 2]);
    expect(1 - kept / total).toBeCloseTo(0.75, 2);
    expect(maskedLayers(model).reduce((a, [, l]) => a + values(l.mask).filter((v) => v === 1).length, 0)).toBe(kept);
    imp.dispose(); optimizer.dispose(); src.dispose();
  });

  it('equals the API loop with a new optimizer each level (RewindPoint, impNextLevel, SGD.forModel)', async () => {
    const src = fixedSource(STEPS_PER_EPOCH);
    const a = toySetup(signin);
    const imp = make(rewind);
    await train(a.model, a.optimizer, src, LEVELS * EPOCHS_PER_LEVEL, [imp]);

    const b = toySetup(signin);
    const point = new RewindPoint(REWIND_STEP);
    let opt = b.optimizer;
    await train(b.model, opt, src, EPOCHS_PER_LEVEL, [point]);
    for (let level = 1; level < LEVELS; level++) {
      impNextLevel(b.model, { fraction: FRACTION, rewindTo: rewind ? point.snapshot : undefined, optimizer: opt });
      opt.dispose();
      opt = SGD.forModel(b.model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
      await train(b.model, opt, src, EPOCHS_PER_LEVEL, []);
    }
    expect(flatState(a.model)).toEqual(flatState(b.model));
    imp.dispose(); point.dispose(); a.optimizer.dispose(); opt.dispose(); src.dispose();
  });

  it.each([EPOCHS_PER_LEVEL, EPOCHS_PER_LEVEL + 1])('resumes from a checkpoint at epoch %i (a level end, mid-level) bit-identical', async (at) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imp-resume-'));
    const file = path.join(dir, 'ckpt.safetensors');
    try {
      const src = fixedSource(STEPS_PER_EPOCH);
      const a = toySetup(signin);
      const impA = make(rewind);
      // As in the runner: the checkpoint is written before ImpLevels prunes at a level's end.
      const saver: Callback = {
        name: 'saver',
        onEpochEnd(ctx) {
          if (ctx.epoch === at) saveCheckpoint(file, { model: a.model, optimizer: a.optimizer, callbacks: [impA], position: { epoch: ctx.epoch, step: ctx.step } });
        },
      };
      await train(a.model, a.optimizer, src, LEVELS * EPOCHS_PER_LEVEL, [saver, impA]);

      const b = toySetup(signin, 77);
      const impB = make(rewind);
      const { position } = loadCheckpoint(file, { model: b.model, optimizer: b.optimizer, callbacks: [impB] });
      expect(position.epoch).toBe(at);
      expect(impB.level).toBe(at === EPOCHS_PER_LEVEL ? 0 : 1);
      await train(b.model, b.optimizer, src, LEVELS * EPOCHS_PER_LEVEL, [impB], position);
      expect(impB.level).toBe(LEVELS - 1);
      expect(flatState(b.model)).toEqual(flatState(a.model));
      impA.dispose(); impB.dispose(); a.optimizer.dispose(); b.optimizer.dispose(); src.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ImpLevels input checks', () => {
  it('rejects bad options and state by name', () => {
    expect(() => new ImpLevels({ rewind: true, levels: 1, epochsPerLevel: 1, pruneFraction: 0.2 })).toThrow(/levels/);
    expect(() => new ImpLevels({ rewind: true, levels: 2, epochsPerLevel: 0, pruneFraction: 0.2 })).toThrow(/epochsPerLevel/);
    expect(() => new ImpLevels({ rewind: true, levels: 2, epochsPerLevel: 1, pruneFraction: 1 })).toThrow(/pruneFraction/);
    expect(() => new ImpLevels({ rewind: false, levels: 2, epochsPerLevel: 1, pruneFraction: 0.2, rewindStep: 3 })).toThrow(/Expected no rewind step for LRR .* for rewindStep but received 3/);
    const imp = make(true);
    expect(() => imp.setState({ json: { level: 7, captured: false } })).toThrow(/imp\.level/);
    expect(() => imp.setState({ json: { level: 1, captured: true }, tensors: new Map() })).toThrow(/rewind snapshot is missing/);
    expect(() => resetOptimizerState({} as never)).toThrow(/stateDict\(\) and loadStateDict\(\)/);
    const { model, optimizer } = toySetup(false);
    const lrr = make(false);
    lrr.setState({ json: { level: 0, captured: false } });
    expect(() => lrr.onTrainStart({ model, optimizer, epoch: 5, step: 20, stepsPerEpoch: 4 })).toThrow(/lrr state is at level 0, but epoch 6 trains in level 2/);
    optimizer.dispose();
  });

  it('refuses to prune a level when the rewind iteration never came in level 0', async () => {
    const { model, optimizer } = toySetup(false);
    const src = fixedSource(STEPS_PER_EPOCH);
    const imp = new ImpLevels({ rewind: true, levels: 2, epochsPerLevel: 1, pruneFraction: 0.5, rewindStep: 99 });
    await expect(train(model, optimizer, src, 2, [imp])).rejects.toThrow(/Expected an iteration of level 0 \(< 4, the level's steps\) for rewindStep but received 99/);
    optimizer.dispose(); src.dispose();
  });

  it('resetOptimizerState gives every buffer and step count of a trained SGD the value zero', async () => {
    const { model, optimizer } = toySetup(true);
    const src = fixedSource(2);
    await train(model, optimizer, src, 1, []);
    expect(allZero(optimizer.stateDict())).toBe(false);
    resetOptimizerState(optimizer);
    expect(allZero(optimizer.stateDict())).toBe(true);
    optimizer.dispose(); src.dispose();
  });
});
