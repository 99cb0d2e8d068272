/**
 * Every op the model zoo uses, forward and backward, on CUDA against the CPU: each zoo model
 * (masked) runs the same batch from the same weights on both devices; logits, loss and every
 * parameter gradient must agree. Twice, so that the tolerance measures the kernels and not the
 * problem: in float64 and training mode (batch statistics; agreement to 1e-9), and in float32 and
 * eval mode (TF32 off; 1e-4). Not float32 in training mode: there, batch statistics over these
 * small batches amplify rounding through the depth, and two correct float32 backends differ by
 * up to 7e-2 of a layer's largest gradient (measured on the CPU, NCHW against channels_last;
 * float64 against float64 agrees to 4e-13, float32 eval-mode runs to 2.5e-6).
 */
import {
  F, createModel, manualSeed, pruneModel, randint, randn, tidy, type Model, type ModelName, type Tensor,
} from '../../src';
import { describeCuda, expectClose } from './cuda-env';

const MODELS: [ModelName, number[], number][] = [
  ['cifar_resnet_20', [4, 3, 32, 32], 10],
  ['cifar_resnet18', [4, 3, 32, 32], 10],
  ['resnet18', [2, 3, 64, 64], 1000],
  ['resnet50', [2, 3, 64, 64], 1000],
  ['vgg11_bn', [4, 3, 32, 32], 10],
  ['wrn_16_8', [2, 3, 32, 32], 10],
  ['lenet5', [4, 1, 28, 28], 10],
  ['mlp', [4, 1, 28, 28], 10],
];

async function masked(name: ModelName): Promise<Model> {
  manualSeed(3);
  const model = createModel(name, {} as never);
  await pruneModel(model, { method: 'random', sparsity: 0.8, scope: 'layerwise', distribution: 'uniform', seed: 3 });
  return model;
}

function run(model: Model, x: Tensor, y: Tensor): { logits: number[]; loss: number; grads: Map<string, number[]> } {
  return tidy(() => {
    const logits = model.forward(x);
    const loss = F.crossEntropy(logits, y);
    loss.backward();
    const grads = new Map<string, number[]>();
    for (const [n, p] of model.namedParameters()) if (p.grad) grads.set(n, p.grad.to({ device: 'cpu' }).toArray());
    const out = { logits: logits.to({ device: 'cpu' }).toArray(), loss: loss.item(), grads };
    model.zeroGrad();
    return out;
  });
}

// [dtype, training, relative tolerance, absolute (a conv bias before batch norm has a true gradient of 0)]
const MODES = [['float64', true, 1e-9, 1e-12], ['float32', false, 1e-4, 1e-6]] as const;

describeCuda('model zoo on CUDA against the CPU', () => {
  it.each(MODELS.flatMap((m) => MODES.map((mode) => [...m, ...mode] as const)))('%s (%s, training %s)', async (name, shape, classes, dtype, training, rel, abs) => {
    const cpu = await masked(name);
    const gpu = await masked(name);
    gpu.loadStateDict(cpu.stateDict());
    for (const m of [cpu, gpu]) m.to(dtype).train(training);
    gpu.to('cuda');
    manualSeed(4);
    const x = randn(shape, { dtype });
    const y = randint(0, classes, [shape[0]]);
    const a = run(cpu, x, y);
    const b = tidy(() => run(gpu, x.to({ device: 'cuda' }), y.to({ device: 'cuda' })));
    expectClose(`${name} logits`, b.logits, a.logits, rel, abs);
    expect(Math.abs(b.loss - a.loss)).toBeLessThanOrEqual(rel * Math.abs(a.loss) + abs);
    expect([...b.grads.keys()]).toEqual([...a.grads.keys()]);
    for (const [n, g] of a.grads) expectClose(`${name} grad ${n}`, b.grads.get(n)!, g, rel, abs);
    for (const t of [x, y]) t.dispose();
    cpu.dispose();
    gpu.dispose();
  });
});
