/**
 * AC/DC against IST-DASLab/ACDC's own code path: the compression of its ResNet-50 and CIFAR
 * configs (policies/pruners.py, UnstructuredMagnitudePruner.on_epoch_begin with utils.percentile:
 * one threshold over the stats (|w| + 1e-4) · mask of every listed layer, mask = stat > the
 * ⌈n(1 − s)⌉-th largest stat), rewritten in float64 PyTorch; and the decompression's
 * --reset_momentum_after_recycling (optimization/sgd.py, SGD.reset_momentum_buffer: every
 * parameter's momentum buffer times 0).
 */
import {
  Acdc, F, SGD, applySignIn, manualSeed, maskedLayers, noGrad, tidy, type Module,
} from '../../src';
import { dedent, describePytorch, fromPy, randnArray, runPytorch, seeded, toPy, type PyArray } from '../helpers/pytorch';
import { createToyModel, toyBatch } from '../helpers/toy-model';

/** One forward, backward and SGD step on a toy batch: every momentum buffer becomes non-zero. */
function oneStep(model: Module, optimizer: SGD): void {
  const { x, y } = toyBatch(8);
  const loss = tidy(() => F.crossEntropy(model.forward(x), y));
  loss.backward();
  optimizer.step();
  optimizer.zeroGrad();
  for (const t of [loss, x, y]) t.dispose();
}

/** The sum of |buffer| over every momentum buffer the optimizer holds, by state-dict key. */
function momentumSums(optimizer: SGD): Record<string, number> {
  return Object.fromEntries([...optimizer.stateDict()].filter(([k]) => k.endsWith('momentum_buffer'))
    .map(([k, t]) => [k, noGrad(() => tidy(() => t.abs().sum().item()))]));
}

describePytorch('AC/DC vs IST-DASLab/ACDC (float64 PyTorch)', () => {
  it('compression: one magnitude threshold over every masked layer, as UnstructuredMagnitudePruner', () => {
    const rand = seeded(5);
    const model = createToyModel();
    const layers = maskedLayers(model);
    const inputs: Record<string, PyArray> = {};
    for (const [n, l] of layers) {
      inputs[n] = randnArray(l.weight.shape, rand);
      noGrad(() => tidy(() => { l.weight.copy_(fromPy(inputs[n])); }));
    }
    const total = layers.reduce((a, [, l]) => a + l.weight.numel, 0);
    // The reference keeps ⌈n(1 − s)⌉ − 1 weights (its strict '>' against the ⌈n(1 − s)⌉-th largest),
    // ours round(n(1 − s)): a target between two counts, below the half, gives both the same count.
    const k = Math.floor(0.1 * total);
    const sparsity = 1 - (k + 0.3) / total;
    const acdc = new Acdc({ sparsity, epochs: 4, warmupEpochs: 1, phaseEpochs: 1, finetuneEpochs: 1 });
    acdc.switchTo(model, 'sparse');
    const ref = runPytorch(dedent(`
      def percentile(tensor, p):
          k = math.ceil(tensor.numel() * (1 - p))
          return torch.topk(tensor.view(-1), k)[0][-1]
      names, level = args['names'], args['level']
      stats = {n: (inp[n].abs() + 1e-4) * torch.ones_like(inp[n]) for n in names}
      threshold = percentile(torch.cat([stats[n].view(-1) for n in names]), level)
      for n in names:
          out[n] = (stats[n] > threshold).double()
    `), inputs, { names: layers.map(([n]) => n), level: sparsity });
    let kept = 0;
    for (const [n, l] of layers) {
      const mask = Array.from(toPy(l.mask).data);
      expect({ n, mask }).toEqual({ n, mask: Array.from(ref.out[n].data) });
      kept += mask.reduce((a, b) => a + b, 0);
    }
    expect(kept).toBe(k);
    // Global, not every layer at the same density: the layers' densities differ.
    const densities = layers.map(([, l]) => toPy(l.mask).data.reduce((a, b) => a + b, 0) / l.weight.numel);
    expect(new Set(densities).size).toBeGreaterThan(1);
  });

  it.each([false, true])('decompression zeroes the momentum of every parameter, BatchNorm included (Sign-In %s)', (signin) => {
    manualSeed(2);
    const model = createToyModel();
    if (signin) applySignIn(model, { beta: 2 });
    const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9 });
    const acdc = new Acdc({ sparsity: 0.5, epochs: 4, warmupEpochs: 1, phaseEpochs: 1, finetuneEpochs: 1 });
    acdc.switchTo(model, 'sparse', optimizer);
    oneStep(model, optimizer);
    const before = momentumSums(optimizer);
    expect(Object.keys(before).some((k) => k.startsWith('bn1.'))).toBe(true);
    expect(Object.values(before).every((v) => v > 0)).toBe(true);
    acdc.switchTo(model, 'dense', optimizer);
    const after = momentumSums(optimizer);
    expect(after).toEqual(Object.fromEntries(Object.keys(before).map((k) => [k, 0])));
    optimizer.dispose();
  });
});
