/**
 * Every op the model zoo uses, forward and backward, on CUDA against the CPU: each zoo model
 * (masked, train mode, so batch norm uses batch statistics) runs the same batch from the same
 * weights on both devices; logits, loss and every parameter gradient must agree at float32
 * tolerance (TF32 off).
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
  model.train();
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

describeCuda('model zoo on CUDA against the CPU (float32)', () => {
  it.each(MODELS)('%s', async (name, shape, classes) => {
    const cpu = await masked(name);
    const gpu = await masked(name);
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    manualSeed(4);
    const x = randn(shape);
    const y = randint(0, classes, [shape[0]]);
    const a = run(cpu, x, y);
    const b = tidy(() => run(gpu, x.to({ device: 'cuda' }), y.to({ device: 'cuda' })));
    expectClose(`${name} logits`, b.logits, a.logits, 1e-4);
    expect(Math.abs(b.loss - a.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(a.loss) + 1e-6);
    expect([...b.grads.keys()]).toEqual([...a.grads.keys()]);
    for (const [n, g] of a.grads) expectClose(`${name} grad ${n}`, b.grads.get(n)!, g, 1e-3);
    for (const t of [x, y]) t.dispose();
    cpu.dispose();
    gpu.dispose();
  });
});
