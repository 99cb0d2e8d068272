/**
 * Layerwise density distributions (pure TS): every layer in [0, 1], the global target met, and
 * ER / ERK / balanced / pyramidal proportions checked against closed formulas computed here.
 */
import { InvalidArgumentError, UnknownNameError } from '../../../src/errors';
import { DISTRIBUTION_NAMES, layerDensities, type LayerShape } from '../../../src/pruning/distributions';

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function resnet20(): LayerShape[] {
  const out: LayerShape[] = [{ name: 'conv1.weight', shape: [16, 3, 3, 3] }];
  let inC = 16;
  for (const [stage, c] of [[1, 16], [2, 32], [3, 64]] as const) {
    for (let b = 0; b < 3; b++) {
      out.push({ name: `layer${stage}.${b}.conv1.weight`, shape: [c, inC, 3, 3] });
      out.push({ name: `layer${stage}.${b}.conv2.weight`, shape: [c, c, 3, 3] });
      inC = c;
    }
  }
  out.push({ name: 'fc.weight', shape: [10, 64] });
  return out;
}

const lenet5: LayerShape[] = [
  { name: 'conv1.weight', shape: [6, 1, 5, 5] },
  { name: 'conv2.weight', shape: [16, 6, 5, 5] },
  { name: 'fc1.weight', shape: [120, 400] },
  { name: 'fc2.weight', shape: [84, 120] },
  { name: 'fc3.weight', shape: [10, 84] },
];

const vggSmall: LayerShape[] = [
  { name: 'features.0.weight', shape: [64, 3, 3, 3] },
  { name: 'features.3.weight', shape: [128, 64, 3, 3] },
  { name: 'features.6.weight', shape: [256, 128, 3, 3] },
  { name: 'features.8.weight', shape: [256, 256, 3, 3] },
  { name: 'classifier.weight', shape: [10, 256] },
];

const MODELS: [string, LayerShape[]][] = [['resnet20', resnet20()], ['lenet5', lenet5], ['vgg', vggSmall]];
const DENSITIES = [0.5, 0.2, 0.1, 0.05, 0.02];

/** Water-filling reference: d_l = min(1, ε·raw_l) with Σ d_l n_l = budget, ε by bisection. */
function waterFill(raw: number[], sizes: number[], budget: number, fixed: boolean[]): number[] {
  const free = budget - sizes.reduce((s, n, l) => s + (fixed[l] ? n : 0), 0);
  const f = (eps: number) => raw.reduce((s, r, l) => s + (fixed[l] ? 0 : Math.min(1, eps * r) * sizes[l]), 0);
  let lo = 0;
  let hi = 1;
  while (f(hi) < free) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < free) lo = mid; else hi = mid;
  }
  return raw.map((r, l) => (fixed[l] ? 1 : Math.min(1, hi * r)));
}

const erRaw = (s: readonly number[]) => (s[0] + s[1]) / (s[0] * s[1]);
const erkRaw = (s: readonly number[]) => s.reduce((a, b) => a + b, 0) / prod(s);

function expectBudget(layers: LayerShape[], d: number[], density: number): void {
  const sizes = layers.map((l) => prod(l.shape));
  const total = sizes.reduce((a, b) => a + b, 0);
  const kept = d.reduce((s, x, l) => s + x * sizes[l], 0);
  expect(Math.abs(kept - density * total)).toBeLessThan(1e-6 * total);
  for (const x of d) {
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThanOrEqual(1);
  }
}

describe.each(MODELS)('distributions on %s', (_name, layers) => {
  const sizes = layers.map((l) => prod(l.shape));
  for (const dist of DISTRIBUTION_NAMES) {
    test.each(DENSITIES)(`${dist}: every layer in [0, 1] and the global density %p met`, (density) => {
      expectBudget(layers, layerDensities(dist, layers, density), density);
    });
    test.each(DENSITIES)(`${dist} with the first and last layer dense, density %p`, (density) => {
      const dense = [layers[0].name, layers[layers.length - 1].name];
      const fixedSize = sizes[0] + sizes[sizes.length - 1];
      const total = sizes.reduce((a, b) => a + b, 0);
      if (fixedSize > density * total) {
        expect(() => layerDensities(dist, layers, density, { dense })).toThrow(InvalidArgumentError);
        return;
      }
      const d = layerDensities(dist, layers, density, { dense });
      expect(d[0]).toBe(1);
      expect(d[d.length - 1]).toBe(1);
      expectBudget(layers, d, density);
    });
  }

  test.each(DENSITIES)('ERK equals the closed formula min(1, ε·Σshape/Πshape), density %p', (density) => {
    const d = layerDensities('erk', layers, density);
    const total = sizes.reduce((a, b) => a + b, 0);
    const ref = waterFill(layers.map((l) => erkRaw(l.shape)), sizes, density * total, layers.map(() => false));
    d.forEach((x, l) => expect(x).toBeCloseTo(ref[l], 9));
    // Proportions among layers below 1: d_i / d_j = raw_i / raw_j.
    const free = d.map((x, l) => l).filter((l) => d[l] < 1);
    for (const i of free) for (const j of free) expect(d[i] / d[j]).toBeCloseTo(erkRaw(layers[i].shape) / erkRaw(layers[j].shape), 9);
  });

  test.each(DENSITIES)('ER equals min(1, ε·(c_out + c_in)/(c_out·c_in)), kernel ignored, density %p', (density) => {
    const d = layerDensities('er', layers, density);
    const total = sizes.reduce((a, b) => a + b, 0);
    const ref = waterFill(layers.map((l) => erRaw(l.shape)), sizes, density * total, layers.map(() => false));
    d.forEach((x, l) => expect(x).toBeCloseTo(ref[l], 9));
  });

  test('ERK without saturation: ε = D·N / Σ raw_l·n_l exactly', () => {
    const density = 0.02;
    const d = layerDensities('erk', layers, density);
    const total = sizes.reduce((a, b) => a + b, 0);
    const raw = layers.map((l) => erkRaw(l.shape));
    const eps = (density * total) / raw.reduce((s, r, l) => s + r * sizes[l], 0);
    if (raw.every((r) => r * eps <= 1)) d.forEach((x, l) => expect(x).toBeCloseTo(eps * raw[l], 12));
  });

  test.each(DENSITIES)('uniform: one density for every prunable layer, density %p', (density) => {
    const d = layerDensities('uniform', layers, density);
    for (const x of d) expect(x).toBeCloseTo(density, 12);
    const dense = [layers[0].name];
    const total = sizes.reduce((a, b) => a + b, 0);
    const rest = (density * total - sizes[0]) / (total - sizes[0]);
    layerDensities('uniform', layers, density, { dense }).slice(1).forEach((x) => expect(x).toBeCloseTo(rest, 12));
  });

  test.each(DENSITIES)('balanced: the same kept count in every layer below 1, density %p', (density) => {
    const d = layerDensities('balanced', layers, density);
    const counts = d.map((x, l) => x * sizes[l]).filter((_, l) => d[l] < 1);
    for (const c of counts) expect(c).toBeCloseTo(counts[0], 6);
    // Saturated layers are smaller than that count.
    d.forEach((x, l) => { if (x === 1 && counts.length) expect(sizes[l]).toBeLessThanOrEqual(counts[0] + 1e-6); });
  });

  test.each(DENSITIES)('pyramidal: d_l = r^l with r solved for the budget, density %p', (density) => {
    const d = layerDensities('pyramidal', layers, density);
    const r = d[0];
    d.forEach((x, l) => expect(x).toBeCloseTo(r ** (l + 1), 12));
    for (let l = 1; l < d.length; l++) expect(d[l]).toBeLessThanOrEqual(d[l - 1]);
  });
});

test('ERK makes the largest-raw layers dense when ε·raw > 1 and still meets the target', () => {
  const d = layerDensities('erk', lenet5, 0.5);
  expect(Math.max(...d)).toBe(1);
  expect(d[0]).toBe(1); // conv1: 6·1·5·5, the highest Σ/Π
  expectBudget(lenet5, d, 0.5);
});

test('density 1 keeps everything, density 0 keeps nothing', () => {
  for (const dist of DISTRIBUTION_NAMES) {
    expect(layerDensities(dist, lenet5, 1)).toEqual(lenet5.map(() => 1));
    for (const x of layerDensities(dist, lenet5, 0)) expect(x).toBeCloseTo(0, 12);
  }
});

test('unknown distribution names are errors listing the valid ones', () => {
  expect(() => layerDensities('erk2', lenet5, 0.1)).toThrow(UnknownNameError);
  expect(() => layerDensities('erk2', lenet5, 0.1)).toThrow(/^Unknown distribution 'erk2' \(did you mean 'erk'\?\); valid names: uniform, er, erk, balanced, pyramidal$/);
});

test('bad arguments name themselves', () => {
  expect(() => layerDensities('erk', lenet5, 1.5)).toThrow(/^Expected number in \[0, 1\] for density but received 1.5 of type number$/);
  expect(() => layerDensities('erk', [], 0.5)).toThrow(/for layers/);
  expect(() => layerDensities('erk', lenet5, 0.5, { dense: ['nope.weight'] })).toThrow(/for dense but received 'nope.weight'/);
  expect(() => layerDensities('uniform', lenet5, 0.0001, { dense: ['fc1.weight'] }))
    .toThrow(/^Expected number >= 0\.\d+ \(the layers kept dense already hold 48000 of 61470 weights\) for density/);
});
