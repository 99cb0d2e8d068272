/**
 * RiGL's and GMP's mask updates against an independent float64 reference written here in
 * PyTorch: the same weights, gradients and starting masks go to both sides, each side chains its
 * own masks through several updates, and the masks must be identical after every update.
 */
import { Gmp, Rigl, noGrad, tidy, type Module } from '../../src';
import { dedent, describePytorch, fromPy, maskArray, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { createToyModel } from '../helpers/toy-model';

const LAYERS = ['conv1', 'conv2', 'fc'] as const;

function layer(model: Module, name: string) {
  return model.getModule(name) as unknown as { weight: import('../../src').Tensor; mask: import('../../src').Tensor; setMask(m: import('../../src').Tensor): unknown };
}

/** Writes dense weights, then re-applies the layer's own mask (the masked-layer invariant). */
function setWeights(model: Module, w: Record<string, PyArray>): void {
  for (const n of LAYERS) {
    const l = layer(model, n);
    noGrad(() => tidy(() => {
      l.weight.copy_(fromPy(w[n]));
      l.setMask(l.mask.clone());
    }));
  }
}

const TOPK_PY = `
    NEG = torch.tensor(-math.inf, dtype=torch.float64)
    def topk_mask(scores, k):
        order = torch.sort(scores, descending=True, stable=True).indices
        m = torch.zeros_like(scores)
        m[order[:k]] = 1
        return m
`;

describePytorch('sparsify mask updates vs a PyTorch float64 reference', () => {
  it('RiGL: drop by |θ| among the kept, grow by |dense gradient| among the rest, over four updates', () => {
    const rand = seeded(14);
    const model = createToyModel();
    const shapes = Object.fromEntries(LAYERS.map((n) => [n, layer(model, n).weight.shape]));
    const inputs: Record<string, PyArray> = {};
    for (const n of LAYERS) {
      inputs[`mask0_${n}`] = maskArray(shapes[n], rand, 0.25);
      noGrad(() => tidy(() => { layer(model, n).setMask(fromPy(inputs[`mask0_${n}`])); }));
    }
    const steps = [100, 200, 400, 700];
    const rigl = new Rigl({ sparsity: 0.75, totalSteps: 1000, deltaT: 100, dropFraction: 0.3 });
    const ours: Record<string, PyArray> = {};
    steps.forEach((step, r) => {
      const w: Record<string, PyArray> = {};
      for (const n of LAYERS) {
        w[n] = randnArray(shapes[n], rand);
        inputs[`W${r}_${n}`] = w[n];
        inputs[`G${r}_${n}`] = randnArray(shapes[n], rand, 0.01);
      }
      setWeights(model, w);
      for (const n of LAYERS) layer(model, n).weight.grad = fromPy(inputs[`G${r}_${n}`]);
      rigl.update(model, step);
      for (const n of LAYERS) ours[`M${r}_${n}`] = toPy(layer(model, n).mask);
    });
    const ref = runPytorch(dedent(TOPK_PY) + dedent(`
      names, steps, alpha, t_end = args['names'], args['steps'], args['alpha'], args['t_end']
      masks = {n: inp['mask0_' + n].flatten() for n in names}
      for r, step in enumerate(steps):
          d = alpha / 2 * (1 + math.cos(math.pi * step / t_end))
          for n in names:
              W = inp['W%d_%s' % (r, n)].flatten() * masks[n]
              G = inp['G%d_%s' % (r, n)].flatten()
              kept = masks[n] == 1
              n_kept = int(kept.sum())
              n_drop = int(n_kept * d)  # google-research/rigl's int cast (sparse_optimizers_base.py, _get_update_op)
              m1 = topk_mask(torch.where(kept, W.abs(), NEG), n_kept - n_drop)
              m2 = topk_mask(torch.where(m1 == 0, G.abs(), NEG), n_drop)
              masks[n] = m1 + m2
              out['M%d_%s' % (r, n)] = masks[n].reshape(inp['W%d_%s' % (r, n)].shape)
    `), inputs, { names: LAYERS, steps, alpha: 0.3, t_end: 750 });
    let changed = 0;
    for (const [k, v] of Object.entries(ref.out)) {
      expect({ k, mask: Array.from(ours[k].data) }).toEqual({ k, mask: Array.from(v.data) });
      changed += v.data.reduce((a, b) => a + b, 0);
    }
    expect(changed).toBeGreaterThan(0);
    // The updates really moved the mask (otherwise equality would be vacuous).
    expect(Array.from(ours.M0_conv2.data)).not.toEqual(Array.from(inputs.mask0_conv2.data));
  });

  it.each(['global', 'layerwise'] as const)('GMP (%s): cubic schedule, magnitude prune among the kept, six prunes', (scope) => {
    const rand = seeded(41);
    const model = createToyModel();
    const shapes = Object.fromEntries(LAYERS.map((n) => [n, layer(model, n).weight.shape]));
    const gmp = new Gmp({ sparsity: 0.9, initialSparsity: 0.1, startEpoch: 1, endEpoch: 6, frequency: 10, scope });
    const inputs: Record<string, PyArray> = {};
    const ours: Record<string, PyArray> = {};
    const spe = 10;
    const due: number[] = [];
    for (let step = 0; step <= 70; step++) {
      if (!gmp.dueAt(step, spe)) continue;
      const r = due.length;
      due.push(step);
      const w: Record<string, PyArray> = {};
      for (const n of LAYERS) {
        w[n] = randnArray(shapes[n], rand);
        inputs[`W${r}_${n}`] = w[n];
      }
      setWeights(model, w);
      gmp.onStepEnd({ model, optimizer: { lr: 0 }, epoch: Math.floor(step / spe), step, stepsPerEpoch: spe });
      for (const n of LAYERS) ours[`M${r}_${n}`] = toPy(layer(model, n).mask);
    }
    // Independently: prunes at t0, t0 + 10, ..., t1 with t0 = 10 and t1 = 60.
    expect(due).toEqual([10, 20, 30, 40, 50, 60]);
    const ref = runPytorch(dedent(TOPK_PY) + dedent(`
      names, due, scope = args['names'], args['due'], args['scope']
      si, sf, t0, t1 = 0.1, 0.9, 10, 60
      masks = {n: torch.ones(inp['W0_' + n].numel(), dtype=torch.float64) for n in names}
      for r, t in enumerate(due):
          s = sf + (si - sf) * (1 - (t - t0) / (t1 - t0)) ** 3
          W = {n: inp['W%d_%s' % (r, n)].flatten() * masks[n] for n in names}
          if scope == 'global':
              total = sum(W[n].numel() for n in names)
              k = min(math.floor((1 - s) * total + 0.5), int(sum(masks[n].sum() for n in names)))
              flat = torch.cat([torch.where(masks[n] == 1, W[n].abs(), NEG) for n in names])
              keep = topk_mask(flat, k)
              at = 0
              for n in names:
                  masks[n] = keep[at:at + W[n].numel()]
                  at += W[n].numel()
          else:
              for n in names:
                  k = min(math.floor((1 - s) * W[n].numel() + 0.5), int(masks[n].sum()))
                  masks[n] = topk_mask(torch.where(masks[n] == 1, W[n].abs(), NEG), k)
          for n in names:
              out['M%d_%s' % (r, n)] = masks[n].reshape(inp['W%d_%s' % (r, n)].shape)
    `), inputs, { names: LAYERS, due, scope });
    for (const [k, v] of Object.entries(ref.out)) {
      expect({ k, mask: Array.from(ours[k].data) }).toEqual({ k, mask: Array.from(v.data) });
    }
    const kept = LAYERS.reduce((a, n) => a + ours[`M5_${n}`].data.reduce((x, y) => x + y, 0), 0);
    const total = LAYERS.reduce((a, n) => a + ours[`M5_${n}`].data.length, 0);
    if (scope === 'global') expect(kept).toBe(Math.round(0.1 * total));
  });
});
