/** Shared pieces of the sparsify tests: a fixed batch source, a Trainer run and an invariant probe. */
import {
  SGD, Trainer, applySignIn, keep, manualSeed, maskedLayers, noGrad, tidy, type BatchSource, type Callback, type MaskedLayer,
  type Module, type Tensor, type TrainContext,
  signinFactors,
} from '../../src';
import * as pino from 'pino';
import { createToyModel, toyBatch } from '../helpers/toy-model';

/** `n` fixed random batches, handed out as fresh copies each epoch (the trainer disposes them). */
export function fixedSource(n: number, batchSize = 8): BatchSource & { dispose(): void } {
  const batches = Array.from({ length: n }, () => toyBatch(batchSize));
  return {
    length: n,
    async *[Symbol.asyncIterator]() {
      for (const b of batches) yield tidy(() => ({ x: keep(b.x.clone()), y: keep(b.y.clone()) }));
    },
    dispose() {
      for (const b of batches) { b.x.dispose(); b.y.dispose(); }
    },
  };
}

export function toySetup(signin: boolean, seed = 3): { model: Module; optimizer: SGD } {
  manualSeed(seed);
  const model = createToyModel();
  if (signin) applySignIn(model, { beta: 2 });
  const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  return { model, optimizer };
}

export async function train(model: Module, optimizer: SGD, source: BatchSource, epochs: number, callbacks: Callback[], from?: { epoch: number; step: number }): Promise<Trainer> {
  const trainer = new Trainer({
    model, optimizer, train: source, epochs, lr: () => 0.05, callbacks, logger: pino.default({ level: 'silent' }), progress: false,
  });
  if (from) trainer.setPosition(from.epoch, from.step);
  await trainer.fit();
  return trainer;
}

/** Elements where `bad` holds, as a count (0 = invariant holds). */
function count(bad: Tensor): number {
  return tidy(() => bad.sum().item());
}

/**
 * The invariants after a mask change, layer by layer (violation counts, all 0 when they hold):
 * θ, gradient and momentum zero outside the mask; grown entries at θ = 0 with zero momentum;
 * under Sign-In θ = m·w exactly, w = 0 outside the mask and grown entries at m = √β, w = 0.
 */
export function violations(layer: MaskedLayer, optimizer: SGD, before: Tensor): Record<string, number> {
  return noGrad(() => tidy(() => {
    const off = layer.mask.eq(0);
    const grown = layer.mask.ne(0).logicalAnd(before.eq(0));
    const v: Record<string, number> = {
      thetaOff: count(layer.weight.ne(0).logicalAnd(off)),
      thetaGrown: count(layer.weight.ne(0).logicalAnd(grown)),
    };
    const g = layer.weight.grad;
    if (g) v.gradOff = count(g.ne(0).logicalAnd(off));
    const s = signinFactors(layer);
    if (s) {
      const b = optimizer.entryBuffers(layer.weight)!;
      v.product = count(layer.weight.ne(s.m.mul(s.w)));
      v.wOff = count(s.w.ne(0).logicalAnd(off));
      v.mGrown = count(s.m.ne(Math.fround(Math.sqrt(s.beta))).logicalAnd(grown));
      v.wGrown = count(s.w.ne(0).logicalAnd(grown));
      for (const [k, buf] of [['bufM', b.m], ['bufW', b.w]] as const) {
        v[`${k}Off`] = count(buf.ne(0).logicalAnd(off));
        v[`${k}Grown`] = count(buf.ne(0).logicalAnd(grown));
      }
    } else {
      const buf = optimizer.momentumBuffer(layer.weight)!;
      v.bufOff = count(buf.ne(0).logicalAnd(off));
      v.bufGrown = count(buf.ne(0).logicalAnd(grown));
    }
    return v;
  }));
}

/**
 * A callback placed after the method's: after each of its hooks, if some mask changed since the
 * last look, checks the invariants and records the change. `changes` counts the changes seen.
 */
export class InvariantProbe implements Callback {
  readonly name = 'probe';
  changes = 0;
  grown = 0;
  failures: string[] = [];
  private last = new Map<string, Tensor>();

  constructor(private readonly optimizer: SGD) {}

  look(ctx: { model: Module }, where: string): void {
    for (const [name, layer] of maskedLayers(ctx.model)) {
      const before = this.last.get(name);
      const same = before ? tidy(() => before.eq(layer.mask).all().item() === 1) : false;
      if (before && !same) {
        this.changes++;
        this.grown += tidy(() => layer.mask.ne(0).logicalAnd(before.eq(0)).sum().item());
        const v = violations(layer, this.optimizer, before);
        for (const [k, n] of Object.entries(v)) if (n !== 0) this.failures.push(`${where}: ${name}.${k} = ${n}`);
      }
      if (!same) {
        before?.dispose();
        this.last.set(name, keep(layer.mask.clone()));
      }
    }
  }

  onTrainStart(ctx: TrainContext): void { this.look(ctx, 'train start'); }
  onAfterBackward(ctx: TrainContext): void { this.look(ctx, `after backward ${ctx.step}`); }
  onStepEnd(ctx: TrainContext): void { this.look(ctx, `step ${ctx.step}`); }
  onEpochEnd(ctx: TrainContext): void { this.look(ctx, `epoch ${ctx.epoch}`); }

  dispose(): void {
    for (const t of this.last.values()) t.dispose();
  }
}

/** A tensor's values as float64 numbers. */
export function values(t: Tensor): number[] {
  return Array.from(tidy(() => t.detach().to('float64').contiguous().toArray()) as ArrayLike<number>);
}

/** The expected mask, from a float64 sort: the k largest |θ| among the kept, ties to the lower index. */
export function expectedKeep(model: Module, k: number): number[][] {
  const flat: { v: number; i: number; kept: boolean }[] = [];
  const layers = maskedLayers(model);
  for (const [, l] of layers) {
    const w = values(l.weight);
    const m = values(l.mask);
    w.forEach((v, j) => flat.push({ v: Math.abs(v), i: flat.length, kept: m[j] !== 0 }));
  }
  const chosen = new Set(flat.filter((e) => e.kept).sort((a, b) => b.v - a.v || a.i - b.i).slice(0, k).map((e) => e.i));
  let at = 0;
  return layers.map(([, l]) => Array.from({ length: l.weight.numel }, () => (chosen.has(at++) ? 1 : 0)));
}

/** Every parameter and buffer of a model as float64 numbers, by state-dict key. */
export function flatState(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, values(t)]));
}
