/**
 * The whole pruning procedure against the codebases the Sign-In paper's PaI baselines come from
 * (reference-pruners.py restates Synaptic-Flow's prune_loop and pruners, GraSP's and SNIP's
 * authors' code and RigL's ERK in PyTorch 1.13, float64). Both sides start from the same
 * weights and batches (a CIFAR ResNet-8 with projection shortcuts, 1x16x16 inputs, float64) and
 * must choose the SAME weights. The references round the kept count their own way (Synaptic-Flow
 * N - int((1 - d) N), GraSP's code one weight more, SNIP's round(N (1 - s)) over weights and
 * biases; docs/pruning-fidelity.md), so ours is asked for the reference's count: what is compared
 * is which weights are kept, not how the count is rounded (checked separately, within one weight).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createModel, keep, layerDensities, manualSeed, prunableWeights, pruneModel, pytorchStateDict, randint, randn, tidy,
  type Module, type PruneOptions, type Tensor,
} from '../../../src';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';
import { captureLogs } from './fixtures';

const REFERENCE = fs.readFileSync(path.join(__dirname, 'reference-pruners.py'), 'utf8');
const INPUT = [1, 16, 16];
const DENSITY = 0.1;

function resnet8(seed: number): Module {
  manualSeed(seed);
  return createModel('cifar_resnet', { depth: 8, inChannels: 1, inputSize: 16, numClasses: 10, shortcut: 'B' }).to('float64');
}

function batch(n: number, seed: number): [Tensor, Tensor] {
  manualSeed(seed);
  return tidy(() => [keep(randn([n, ...INPUT], { dtype: 'float64' })), keep(randint(0, 10, [n]))]);
}

type Masks = Map<string, number[]>;

async function ourMasks(seed: number, options: PruneOptions): Promise<Masks> {
  const m = resnet8(seed);
  await pruneModel(m, options);
  const out: Masks = new Map(prunableWeights(m).map((w) => [w.name, w.mask.toArray()]));
  m.dispose();
  return out;
}

const kept = (masks: Masks) => [...masks.values()].reduce((s, m) => s + m.filter((v) => v === 1).length, 0);
const total = (masks: Masks) => [...masks.values()].reduce((s, m) => s + m.length, 0);

/** Per layer, the entries where our mask and the reference's differ (all zero when they agree). */
function differing(ours: Masks, ref: Masks): Record<string, number> {
  expect([...ours.keys()].sort()).toEqual([...ref.keys()].sort());
  return Object.fromEntries([...ours].map(([name, m]) => [name, m.filter((v, i) => v !== ref.get(name)![i]).length]));
}

const none = (masks: Masks) => Object.fromEntries([...masks.keys()].map((n) => [n, 0]));

describeWithTorch('PaI masks against the reference codebases (CIFAR ResNet-8, float64)', () => {
  const SEED = 5;
  const [x, y] = batch(32, 1);
  const halves: [Tensor, Tensor][] = tidy(() => [
    [keep(x.narrow(0, 0, 16)), keep(y.narrow(0, 0, 16))],
    [keep(x.narrow(0, 16, 16)), keep(y.narrow(0, 16, 16))],
  ]);
  const ref = new Map<string, Masks>();

  beforeAll(() => {
    captureLogs();
    const m = resnet8(SEED);
    const inputs: Record<string, Tensor> = { x, y };
    for (const [k, t] of pytorchStateDict(m)) inputs[`sd.${k}`] = t;
    const r = runTorch(`${REFERENCE}
sd = {k[3:]: v for k, v in inp.items() if k.startswith('sd.')}
x, y = inp['x'], inp['y']
halves = [(x[:16], y[:16]), (x[16:], y[16:])]
fresh = lambda: build(sd, 8, 1, 10)
runs = {
    'sf_mag': sf_prune_loop(fresh(), 'mag', [(x, y)], ${JSON.stringify(INPUT)}, ${DENSITY}),
    'sf_snip': sf_prune_loop(fresh(), 'snip', halves, ${JSON.stringify(INPUT)}, ${DENSITY}),
    'sf_grasp': sf_prune_loop(fresh(), 'grasp', halves, ${JSON.stringify(INPUT)}, ${DENSITY}),
    'sf_synflow': sf_prune_loop(fresh(), 'synflow', [(x, y)], ${JSON.stringify(INPUT)}, ${DENSITY}),
    'grasp_authors': grasp_original(fresh(), x, y, ${1 - DENSITY}),
    'snip_authors': snip_original(fresh(), x, y, ${1 - DENSITY}),
}
for run, masks in runs.items():
    for name, mask in masks.items():
        out[run + '|' + name] = mask
`, inputs);
    for (const [key, t] of Object.entries(r.out)) {
      const [run, name] = key.split('|');
      if (!ref.has(run)) ref.set(run, new Map());
      ref.get(run)!.set(name, t.toArray());
    }
    m.dispose();
  });

  /** Our masks at the reference's kept count (of the weights its masks cover). */
  async function oursAtRefCount(run: string, options: Omit<PruneOptions, 'sparsity'>): Promise<[Masks, Masks]> {
    const r = new Map([...ref.get(run)!].filter(([n]) => n.endsWith('.weight')));
    const ours = await ourMasks(SEED, { ...options, sparsity: 1 - kept(r) / total(r) } as PruneOptions);
    expect(kept(ours)).toBe(kept(r));
    return [ours, r];
  }

  test("Synaptic-Flow's count rule keeps N - int((1 - d) N), ours round(d N): at most one weight apart", () => {
    const r = ref.get('sf_mag')!;
    expect(Math.abs(kept(r) - Math.round(DENSITY * total(r)))).toBeLessThanOrEqual(1);
  });

  test('Magnitude = Synaptic-Flow Mag, one global threshold', async () => {
    const [ours, r] = await oursAtRefCount('sf_mag', { method: 'magnitude' });
    expect(differing(ours, r)).toEqual(none(r));
  });

  test("SNIP = Synaptic-Flow SNIP: |∂L/∂mask| with the gradients of two batches summed, eval mode", async () => {
    const [ours, r] = await oursAtRefCount('sf_snip', { method: 'snip', data: halves });
    expect(differing(ours, r)).toEqual(none(r));
  });

  test('GraSP = Synaptic-Flow GraSP (T = 200, z and Hg summed over two batches, eval mode, keeps the highest θ ⊙ Hg)', async () => {
    const [ours, r] = await oursAtRefCount('sf_grasp', { method: 'grasp', data: halves });
    expect(differing(ours, r)).toEqual(none(r));
  });

  test("SynFlow = Synaptic-Flow SynFlow, one round (|θ| everywhere, all-ones input; 100 rounds: synflow-reference.test.ts)", async () => {
    const [ours, r] = await oursAtRefCount('sf_synflow', { method: 'synflow', iterations: 1 });
    expect(differing(ours, r)).toEqual(none(r));
  });

  test("GraSP = the authors' GraSP.py (train mode, the batch in two halves) with mode 'train' and the halves as two batches", async () => {
    const r = ref.get('grasp_authors')!;
    // The authors' threshold keeps the weight it names last among the removed ones: one more than int(s N) removed.
    expect(kept(r)).toBe(total(r) - Math.floor((1 - DENSITY) * total(r)) + 1);
    const [ours] = await oursAtRefCount('grasp_authors', { method: 'grasp', mode: 'train', data: halves });
    expect(differing(ours, r)).toEqual(none(r));
  });

  test("SNIP = the authors' snip-public on the weights (biases ranked with them, ties to the lower index)", async () => {
    const all = ref.get('snip_authors')!;
    expect(kept(all)).toBe(Math.round(total(all) * DENSITY));
    const [ours, r] = await oursAtRefCount('snip_authors', { method: 'snip', data: [x, y] });
    expect(differing(ours, r)).toEqual(none(r));
  });
});

describeWithTorch("ERK / ER layer densities against RigL's sparse_utils.get_sparsities_erdos_renyi", () => {
  // Binary fractions: RigL floors sparsity * n per layer, which is exact here for every layer of
  // both models, so the densities must agree to rounding; other sparsities move a weight or two.
  const SPARSITIES = [0.75, 0.875, 0.9375];
  const shapesOf = (m: Module) => {
    const out = prunableWeights(m).map((w) => ({ name: w.name, shape: w.weight.shape }));
    m.dispose();
    return out;
  };
  const resnet20 = () => createModel('cifar_resnet_20', { inChannels: 1, inputSize: 28, numClasses: 10, shortcut: 'B' });
  const MODELS = [
    ['cifar_resnet_20 (1 channel, option B)', shapesOf(resnet20())],
    ['resnet50', shapesOf(createModel('resnet50', { numClasses: 1000 }))],
  ] as const;

  interface RiglCase { sparsity: number; custom: Record<string, number>; kernel: boolean }

  /** RigL's densities and per-layer kept counts for each case, in one Python run. */
  function rigl(layers: readonly { name: string; shape: readonly number[] }[], cases: RiglCase[]): { density: number[]; kept: number[] }[] {
    const r = runTorch(`${REFERENCE}
layers = [(l['name'], tf_shape(l['shape'])) for l in json.loads(${JSON.stringify(JSON.stringify(layers))})]
js['cases'] = []
for c in json.loads(${JSON.stringify(JSON.stringify(cases))}):
    s = rigl_sparsities(layers, c['sparsity'], c['custom'], c['kernel'])
    kept = rigl_kept(layers, s)
    js['cases'].append({'density': [1 - s[n] for n, _ in layers], 'kept': [kept[n] for n, _ in layers]})
`);
    return (r.js as { cases: { density: number[]; kept: number[] }[] }).cases;
  }

  test.each(MODELS)('%s: ERK and ER densities equal RigL\'s, the dense-layer loop included', (_name, layers) => {
    const cases = SPARSITIES.flatMap((s) => [['erk', true], ['er', false]].map(([ours, kernel]) => ({ ours: ours as 'erk' | 'er', sparsity: s, custom: {}, kernel: kernel as boolean })));
    const r = rigl(layers, cases);
    const worst = Object.fromEntries(cases.map((c, i) => {
      const d = layerDensities(c.ours, layers, 1 - c.sparsity);
      return [`${c.ours} at ${c.sparsity}`, Math.max(...d.map((v, l) => Math.abs(v - r[i].density[l])))];
    }));
    expect(Object.entries(worst).filter(([, v]) => !(v < 1e-12))).toEqual([]);
  });

  test.each(MODELS)("%s: a dense first layer is in our budget, out of RigL's (custom_sparsity_map {first: 0})", (_name, layers) => {
    // RigL's custom layers are left out of the ERK budget: the others keep (1 - s) of their own
    // weights. Ours counts a dense layer as kept: the same masks at d = ((1 - s) N_rest + N_first) / N.
    const sizes = layers.map((l) => l.shape.reduce((a, b) => a * b, 1));
    const n = sizes.reduce((a, b) => a + b, 0);
    const s = 0.875;
    const d = ((1 - s) * (n - sizes[0]) + sizes[0]) / n;
    const ours = layerDensities('erk', layers, d, { dense: [layers[0].name] });
    const [{ density: r }] = rigl(layers, [{ sparsity: s, custom: { [layers[0].name]: 0 }, kernel: true }]);
    expect(Math.max(...ours.map((v, l) => Math.abs(v - r[l])))).toBeLessThan(1e-12);
  });

  test.each(MODELS)("%s: pyramidal and (unclamped) balanced densities equal Gadhikar et al.'s", (_name, layers) => {
    const sizes = layers.map((l) => l.shape.reduce((a, b) => a * b, 1));
    // At 99.5% every layer holds more than its balanced share in both models, so their clamp does not act.
    const r = runTorch(`${REFERENCE}
sizes = ${JSON.stringify(sizes)}
js['pyramidal'] = [gadhikar_pyramidal(sizes, d) for d in [0.2, 0.1, 0.05, 0.01]]
js['balanced'] = gadhikar_balanced(sizes, 0.005)
`).js as { pyramidal: number[][]; balanced: number[] };
    const worst = (a: number[], b: number[]) => Math.max(...a.map((v, l) => Math.abs(v - b[l]) / b[l]));
    expect(Math.max(...[0.2, 0.1, 0.05, 0.01].map((d, i) => worst(layerDensities('pyramidal', layers, d), r.pyramidal[i])))).toBeLessThan(1e-9);
    expect(r.balanced.every((v) => v < 1)).toBe(true);
    expect(worst(layerDensities('balanced', layers, 0.005), r.balanced)).toBeLessThan(1e-12);
  });

  test("Random-ERK at the published 95%: per-layer kept counts within two weights of RigL's n - floor(s_l n)", async () => {
    // RigL rounds up twice per layer: its budget sums n - floor(0.95 n) and its count is
    // n - floor(s_l n), so it keeps 13,555 weights where 5% of 270,608 is 13,530 (ours).
    const [, layers] = MODELS[0];
    const [r] = rigl(layers, [{ sparsity: 0.95, custom: {}, kernel: true }]);
    manualSeed(0);
    const m = resnet20();
    const res = await pruneModel(m, { method: 'random', sparsity: 0.95, scope: 'layerwise', distribution: 'erk', seed: 0 });
    expect(res.kept).toBe(Math.round(0.05 * res.total));
    const off = res.layers.filter((l, i) => Math.abs(l.kept - r.kept[i]) > 2).map((l) => l.name);
    expect(off).toEqual([]);
    m.dispose();
  });
});
