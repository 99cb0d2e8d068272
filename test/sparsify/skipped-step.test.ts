/**
 * A step the float16 loss scaler skips (ctx.gradsFinite false: an inf or NaN gradient) must leave
 * the callbacks that step or read gradients in onAfterBackward where they were, as the optimizer
 * is left (PyTorch's GradScaler.step): STR steps w and s itself, RiGL grows by the gradient. Each
 * case also runs the same step with finite gradients, which does change them (not vacuous).
 */
import { Rigl, SGD, Str, manualSeed, noGrad, tidy, type MaskedLayer, type Module, type SparsifyContext } from '../../src';
import { createToyModel } from '../helpers/toy-model';

const LAYERS = ['conv1', 'conv2', 'fc'] as const;
const layer = (model: Module, name: string) => model.getModule(name) as unknown as MaskedLayer;
const snapshot = (model: Module) => LAYERS.map((n) => tidy(() => [Array.from(layer(model, n).weight.toArray() as number[]), Array.from(layer(model, n).mask.toArray() as number[])]));

/** A gradient on every layer: `inf` at one entry of each, or finite throughout. */
function setGrads(model: Module, inf: boolean): void {
  for (const n of LAYERS) {
    const l = layer(model, n);
    noGrad(() => {
      const g = tidy(() => l.weight.detach().mul(0).add(0.7));
      if (inf) tidy(() => g.view([-1]).narrow(0, 0, 1).fill_(Infinity));
      l.weight.grad = g;
    });
  }
}

function str(finite: boolean): { changed: boolean; thresholds: number[] } {
  manualSeed(3);
  const model = createToyModel();
  const s = new Str({ sInit: -1.5, momentum: 0.9, weightDecay: 0.05 });
  s.initialize(model);
  const before = snapshot(model);
  const t0 = Object.values(s.thresholds());
  setGrads(model, !finite);
  s.onAfterBackward({ model, optimizer: { lr: 0.5 } as unknown as SparsifyContext['optimizer'], epoch: 0, step: 0, stepsPerEpoch: 10, gradsFinite: finite });
  return { changed: JSON.stringify(snapshot(model)) !== JSON.stringify(before), thresholds: Object.values(s.thresholds()).map((t, i) => t - t0[i]) };
}

function rigl(finite: boolean): { masksChanged: boolean; gradsKept: boolean } {
  manualSeed(4);
  const model = createToyModel();
  const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
  const r = new Rigl({ sparsity: 0.75, totalSteps: 1000, deltaT: 100, dropFraction: 0.3, growth: 'gradient' });
  const ctx: SparsifyContext = { model, optimizer, epoch: 0, step: 0, stepsPerEpoch: 1000 };
  r.onTrainStart(ctx);
  const masks = () => JSON.stringify(snapshot(model).map(([, m]) => m));
  const before = masks();
  setGrads(model, !finite);
  r.onAfterBackward({ ...ctx, step: 100, gradsFinite: finite });
  const gradsKept = LAYERS.every((n) => layer(model, n).weight.grad !== undefined && layer(model, n).weight.grad !== null);
  optimizer.dispose();
  return { masksChanged: masks() !== before, gradsKept };
}

it('STR: a skipped step leaves w, the masks and s as they were; a finite one moves them', () => {
  const skipped = str(false);
  expect(skipped).toEqual({ changed: false, thresholds: [0, 0, 0] });
  const stepped = str(true);
  expect(stepped.changed).toBe(true);
  expect(stepped.thresholds.every((d) => d !== 0 && Number.isFinite(d))).toBe(true);
});

it('RiGL at an update step: a skipped step neither changes the masks nor clears the gradients; a finite one updates the masks', () => {
  expect(rigl(false)).toEqual({ masksChanged: false, gradsKept: true });
  expect(rigl(true).masksChanged).toBe(true);
});
