/**
 * RiGL and SET against google-research/rigl's own code path (rigl/sparse_optimizers_base.py:
 * SparseSETOptimizerBase._get_update_op, reset_momentum and apply_gradients,
 * SparseRigLOptimizerBase.generic_mask_update), rewritten in float64 PyTorch without the 1e-5
 * noise the reference adds to the drop scores (ours breaks ties by index; docs/sparsify.md).
 *
 * - n_prune = int(n_ones · drop_fraction); drop by |mask ⊙ W|; grow by |∂L/∂(mask ⊙ W)| (RiGL)
 *   among the entries not kept after the drop.
 * - new_connections = grown ∧ ¬old mask: θ = 0 ('zeros' grow_init) and momentum 0
 *   (initial_acc_scale 0); every other entry keeps its weight and momentum slot, so an entry
 *   dropped and regrown in the same update is unchanged.
 * - SET's apply_gradients takes the optimizer step first and updates the mask after it.
 */
import {
  Rigl, SGD, manualSeed, noGrad, tidy, type MaskedLayer, type Module, type SparsifyCallback, type SparsifyContext,
} from '../../src';
import { dedent, describePytorch, expectClose, fromPy, maskArray, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { createToyModel } from '../helpers/toy-model';

const LAYERS = ['conv1', 'conv2', 'fc'] as const;

function layer(model: Module, name: string): MaskedLayer {
  return model.getModule(name) as unknown as MaskedLayer;
}

const TOPK_PY = `
    def topk_mask(scores, k):
        order = torch.sort(scores, descending=True, stable=True).indices
        m = torch.zeros_like(scores)
        m[order[:k]] = 1
        return m
`;

/** Writes mask ⊙ W into θ, momentum ⊙ mask into the buffer, and the gradient. */
function setLayer(model: Module, optimizer: SGD, n: string, w: PyArray, buf: PyArray | undefined, g: PyArray): void {
  const l = layer(model, n);
  noGrad(() => tidy(() => {
    l.weight.copy_(fromPy(w));
    l.setMask(l.mask.clone());
    if (buf) optimizer.momentumBuffer(l.weight)!.copy_(fromPy(buf).mul(l.mask));
  }));
  l.weight.grad = fromPy(g);
}

describePytorch('RiGL and SET vs google-research/rigl (float64 PyTorch)', () => {
  it('RiGL: ⌊d·n⌋ drops; a dropped-and-regrown entry keeps θ and momentum, new entries start at 0 (three updates)', () => {
    const rand = seeded(23);
    const model = createToyModel();
    const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
    const shapes = Object.fromEntries(LAYERS.map((n) => [n, layer(model, n).weight.shape]));
    const inputs: Record<string, PyArray> = {};
    for (const n of LAYERS) {
      inputs[`mask0_${n}`] = maskArray(shapes[n], rand, 0.25);
      noGrad(() => tidy(() => { layer(model, n).setMask(fromPy(inputs[`mask0_${n}`])); }));
    }
    const rigl = new Rigl({ sparsity: 0.75, totalSteps: 1000, deltaT: 100, dropFraction: 0.3 });
    const steps = [100, 200, 300];
    const ours: Record<string, PyArray> = {};
    steps.forEach((step, r) => {
      for (const n of LAYERS) {
        const kept = toPy(layer(model, n).mask).data;
        const g = randnArray(shapes[n], rand, 0.01);
        // Half of the kept entries get a large gradient, so that some entries dropped by |θ| are regrown at once.
        kept.forEach((k, i) => { if (k === 1 && rand() < 0.5) g.data[i] = Math.fround(1 + rand()); });
        inputs[`W${r}_${n}`] = randnArray(shapes[n], rand);
        inputs[`B${r}_${n}`] = randnArray(shapes[n], rand, 0.1);
        inputs[`G${r}_${n}`] = g;
        setLayer(model, optimizer, n, inputs[`W${r}_${n}`], inputs[`B${r}_${n}`], g);
      }
      rigl.update(model, step, optimizer);
      for (const n of LAYERS) {
        const l = layer(model, n);
        ours[`M${r}_${n}`] = toPy(l.mask);
        ours[`W${r}_${n}`] = toPy(l.weight);
        ours[`B${r}_${n}`] = toPy(optimizer.momentumBuffer(l.weight)!);
      }
    });
    const ref = runPytorch(dedent(TOPK_PY) + dedent(`
      names, steps, alpha, t_end = args['names'], args['steps'], args['alpha'], args['t_end']
      masks = {n: inp['mask0_' + n].flatten() for n in names}
      res = {'same': 0, 'floor_not_round': 0}
      for r, step in enumerate(steps):
          drop_fraction = alpha / 2 * (1 + math.cos(math.pi * step / t_end))
          for n in names:
              shape = inp['W%d_%s' % (r, n)].shape
              mask = masks[n]
              weights = inp['W%d_%s' % (r, n)].flatten() * mask
              slot = inp['B%d_%s' % (r, n)].flatten() * mask
              grad = inp['G%d_%s' % (r, n)].flatten()
              n_ones = int(mask.sum())
              n_prune = int(n_ones * drop_fraction)
              n_keep = n_ones - n_prune
              mask1 = topk_mask((mask * weights).abs(), n_keep)
              score_grow = grad.abs()
              lifted = torch.where(mask1 == 1, score_grow.min() - 1, score_grow)
              mask2 = topk_mask(lifted, n_prune)
              new_connections = (mask2 == 1) & (mask == 0)
              weights = torch.where(new_connections, torch.zeros_like(weights), weights)
              slot = torch.where(new_connections, torch.zeros_like(slot), slot)
              masks[n] = mask1 + mask2
              res['same'] += int(((mask2 == 1) & (mask == 1)).sum())
              res['floor_not_round'] += int(n_prune != math.floor(n_ones * drop_fraction + 0.5))
              out['M%d_%s' % (r, n)] = masks[n].reshape(shape)
              out['W%d_%s' % (r, n)] = (weights * masks[n]).reshape(shape)
              out['B%d_%s' % (r, n)] = (slot * masks[n]).reshape(shape)
    `), inputs, { names: LAYERS, steps, alpha: 0.3, t_end: 750 });
    // + 0 turns −0 (a negative weight times a 0 mask) into 0 on both sides.
    const plain = (a: PyArray) => Array.from(a.data, (x) => x + 0);
    for (const [k, v] of Object.entries(ref.out)) expect({ k, values: plain(ours[k]) }).toEqual({ k, values: plain(v) });
    // Not vacuous: entries were dropped and regrown in one update, and ⌊d·n⌋ differed from rounding.
    const res = ref.res as { same: number; floor_not_round: number };
    expect(res.same).toBeGreaterThan(0);
    expect(res.floor_not_round).toBeGreaterThan(0);
    optimizer.dispose();
  });

  it('SET: the optimizer step of an update iteration is taken, then the mask is updated from the stepped |θ|', () => {
    const rand = seeded(31);
    manualSeed(5);
    const model = createToyModel();
    const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
    const shapes = Object.fromEntries(LAYERS.map((n) => [n, layer(model, n).weight.shape]));
    const inputs: Record<string, PyArray> = {};
    for (const n of LAYERS) {
      inputs[`mask_${n}`] = maskArray(shapes[n], rand, 0.25);
      inputs[`W_${n}`] = randnArray(shapes[n], rand);
      inputs[`G_${n}`] = randnArray(shapes[n], rand);
      noGrad(() => tidy(() => { layer(model, n).setMask(fromPy(inputs[`mask_${n}`])); }));
      setLayer(model, optimizer, n, inputs[`W_${n}`], undefined, inputs[`G_${n}`]);
    }
    const set: SparsifyCallback = new Rigl({ sparsity: 0.75, totalSteps: 1000, deltaT: 100, dropFraction: 0.3, growth: 'random' });
    const ctx: SparsifyContext = { model, optimizer, epoch: 0, step: 100, stepsPerEpoch: 1000 };
    set.onAfterBackward?.(ctx);
    optimizer.step();
    ctx.step = 101;
    set.onStepEnd?.(ctx);
    const ref = runPytorch(dedent(TOPK_PY) + dedent(`
      d = 0.3 / 2 * (1 + math.cos(math.pi * 100 / 750))
      for n in args['names']:
          mask = inp['mask_' + n]
          p = (inp['W_' + n] * mask).clone().requires_grad_(True)
          # The toolkit's SGD masks the gradient (the reference's gradient of mask ⊙ W is masked too).
          p.grad = inp['G_' + n] * mask
          opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-3)
          opt.step()
          stepped = p.detach().flatten()
          n_ones = int(mask.sum())
          n_prune = int(n_ones * d)
          mask1 = topk_mask(stepped.abs(), n_ones - n_prune)
          out['theta_' + n] = stepped.reshape(mask.shape)
          out['buf_' + n] = opt.state[p]['momentum_buffer']
          out['mask1_' + n] = mask1.reshape(mask.shape)
    `), inputs, { names: LAYERS });
    for (const n of LAYERS) {
      const l = layer(model, n);
      const [oldM, newM, mask1] = [inputs[`mask_${n}`].data, toPy(l.mask).data, ref.out[`mask1_${n}`].data];
      const theta = toPy(l.weight).data;
      const buf = toPy(optimizer.momentumBuffer(l.weight)!).data;
      const both = newM.map((m, i) => m * oldM[i]);
      const fresh = newM.map((m, i) => m * (1 - oldM[i]));
      const droppedOnly = oldM.map((m, i) => m * (1 - newM[i]));
      expect(newM.reduce((a, b) => a + b, 0)).toBe(oldM.reduce((a, b) => a + b, 0));
      // Kept through the update (dropped-and-regrown included): the stepped θ and momentum.
      expectClose(theta, ref.out[`theta_${n}`], 1e-6, 1e-7, `${n} θ kept`, both);
      expectClose(buf, ref.out[`buf_${n}`], 1e-6, 1e-7, `${n} momentum kept`, both);
      // Only the reference's drop set may leave the mask; new entries start at θ = 0 with zero momentum.
      droppedOnly.forEach((x, i) => { if (x === 1) expect({ n, i, inDropSet: mask1[i] === 0 }).toEqual({ n, i, inDropSet: true }); });
      fresh.forEach((x, i) => { if (x === 1) expect({ n, i, theta: theta[i], buf: buf[i] }).toEqual({ n, i, theta: 0, buf: 0 }); });
      expect(fresh.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
    optimizer.dispose();
  });

  it('denseFirst: the first conv stays dense and out of the ERK budget, as rigl\'s unmasked first layer', () => {
    const rand = seeded(43);
    manualSeed(3);
    const model = createToyModel();
    const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
    const rigl = new Rigl({ sparsity: 0.7, totalSteps: 1000, deltaT: 100, dropFraction: 0.3, denseFirst: true });
    rigl.onTrainStart?.({ model, optimizer, epoch: 0, step: 0, stepsPerEpoch: 1000 });
    const count = (n: string) => toPy(layer(model, n).mask).data.reduce((a, b) => a + b, 0);
    // sparse_utils.get_sparsities_erdos_renyi (include_kernel) over the masked layers, the first left out; kept = n − ⌊s·n⌋.
    const ref = runPytorch(dedent(`
      shapes, default_sparsity = args['shapes'], args['sparsity']
      dense = set()
      while True:
          divisor, rhs, raw = 0, 0, {}
          for i, shape in enumerate(shapes):
              n_param = math.prod(shape)
              n_zeros = int(math.floor(default_sparsity * n_param))
              if i in dense:
                  rhs -= n_zeros
              else:
                  rhs += n_param - n_zeros
                  raw[i] = sum(shape) / n_param
                  divisor += raw[i] * n_param
          eps = rhs / divisor
          max_prob = max(raw.values())
          if max_prob * eps > 1:
              dense |= {i for i, p in raw.items() if p == max_prob}
          else:
              break
      sparsities = [0.0 if i in dense else 1 - eps * raw[i] for i in range(len(shapes))]
      res = [math.prod(s) - int(math.floor(sp * math.prod(s))) for s, sp in zip(shapes, sparsities)]
    `), {}, { shapes: ['conv2', 'fc'].map((n) => layer(model, n).weight.shape), sparsity: 0.7 });
    expect(count('conv1')).toBe(layer(model, 'conv1').weight.numel);
    // Within one weight a layer: the reference's budget is in integer counts, ours real-valued (docs/sparsify.md).
    (ref.res as number[]).forEach((k, i) => expect(Math.abs(count(['conv2', 'fc'][i]) - k)).toBeLessThanOrEqual(1));
    const conv1 = toPy(layer(model, 'conv1').weight);
    for (const n of LAYERS) layer(model, n).weight.grad = fromPy(randnArray(layer(model, n).weight.shape, rand));
    const conv2 = toPy(layer(model, 'conv2').mask);
    rigl.update(model, 100, optimizer);
    expect(count('conv1')).toBe(layer(model, 'conv1').weight.numel);
    expect(Array.from(toPy(layer(model, 'conv1').weight).data)).toEqual(Array.from(conv1.data));
    expect(Array.from(toPy(layer(model, 'conv2').mask).data)).not.toEqual(Array.from(conv2.data));
    optimizer.dispose();
  });
});
