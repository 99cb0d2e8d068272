/**
 * The benchmarked training step's setup, shared by the step-time and memory benches (the twin
 * of bench/pytorch/resnet20.py): masked CIFAR ResNet-20, random layerwise-uniform mask, optional
 * Sign-In, SGD, and a pool of random batches.
 */
import { MixedPrecision, SGD, applySignIn, createModel, keep, manualSeed, pruneModel, randint, randn, setNumThreads, type Model, type Tensor } from '../src';

export interface StepSetupParams {
  threads: number;
  density: number;
  signin: boolean;
  batch: number;
}

export interface StepSetup {
  model: Model;
  opt: SGD;
  pool: { x: Tensor; y: Tensor }[];
  /** The batch as the Trainer hands it to the model: channels_last by default on the CPU (channelsLast 'auto'). */
  input(x: Tensor): Tensor;
}

export async function resnet20Step(p: StepSetupParams): Promise<StepSetup> {
  setNumThreads(p.threads);
  manualSeed(0);
  const model = createModel('cifar_resnet_20', { numClasses: 10 });
  await pruneModel(model, { method: 'random', sparsity: 1 - p.density, scope: 'layerwise', distribution: 'uniform', seed: 0 });
  if (p.signin) applySignIn(model);
  model.train();
  const opt = SGD.forModel(model, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  // A pool of batches: one repeated batch lets the loss collapse towards denormal numbers.
  const pool = Array.from({ length: 4 }, () => ({ x: keep(randn([p.batch, 3, 32, 32])), y: keep(randint(0, 10, [p.batch])) }));
  const precision = new MixedPrecision({ device: 'cpu' });
  return { model, opt, pool, input: (x) => precision.input(x) };
}
