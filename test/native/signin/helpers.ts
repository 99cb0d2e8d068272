/** Shared pieces of the Sign-In tests: a masked toy model, random masks, comparisons. */
import { Generator, maskedLayers, noGrad, rand, resetDueAtEpoch, resetDueAtStep, resolveResetOptions, tidy, type Module, type Tensor } from '../../../src';
import { createToyModel, type ToyNet } from '../../helpers/toy-model';

/** The toy net with a random mask of the given density on every masked layer. */
export function maskedToy(seed: number, density = 0.5, opts: { width?: number; inChannels?: number } = {}): ToyNet {
  const model = createToyModel(opts);
  const gen = new Generator(seed);
  randomMasks(model, density, gen);
  return model;
}

export function randomMasks(model: Module, density: number, gen: Generator): void {
  for (const [, layer] of maskedLayers(model)) {
    tidy(() => {
      layer.setMask(rand(layer.weight.shape, { generator: gen }).lt(density));
    });
  }
}

/** Max |a − b| and max |b| (for relative tolerances). */
export function maxDiff(a: Tensor, b: Tensor): { abs: number; scale: number } {
  return noGrad(() => tidy(() => ({
    abs: a.sub(b).abs().max().item(),
    scale: b.abs().max().item(),
  })));
}

export function values(t: Tensor): number[] {
  return t.toArray();
}

/** Entries of t where mask == 0. */
export function outsideMask(t: Tensor, mask: Tensor): number[] {
  const v = t.toArray();
  const m = mask.toArray();
  return v.filter((_, i) => m[i] === 0);
}

/** The float32 rounding step (ulp) of x. */
export function ulp32(x: number): number {
  const f = new Float32Array([Math.abs(x)]);
  const i = new Uint32Array(f.buffer);
  const next = new Float32Array(new Uint32Array([i[0] + 1]).buffer)[0];
  return next - f[0];
}

/**
 * The resets of a schedule over `epochs` epochs of `stepsPerEpoch` steps, asked as the trainer asks
 * its hooks: 's<step>' for a reset after that step, 'e<epoch>' for one after that epoch.
 */
export function simulate(opts: Parameters<typeof resolveResetOptions>[0], epochs: number, stepsPerEpoch: number): string[] {
  const o = resolveResetOptions(opts);
  const out: string[] = [];
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < stepsPerEpoch; i++) {
      step++;
      if (resetDueAtStep(o, step, epoch, stepsPerEpoch)) out.push(`s${step}`);
    }
    if (resetDueAtEpoch(o, epoch + 1)) out.push(`e${epoch + 1}`);
  }
  return out;
}
