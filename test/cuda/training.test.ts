/**
 * A few epochs of training through the Trainer with `device: 'cuda'` (what a config's device
 * field gives the runner) against the same run on the CPU: masked CIFAR ResNet-20, plain and
 * Sign-In, the per-epoch training losses agree (TF32 off). Then bf16 and fp16 autocast on CUDA:
 * the losses stay finite and within mixed-precision distance of the float32 curve; the same with
 * gradient accumulation.
 */
import * as pino from 'pino';
import {
  SGD, Trainer, applySignIn, createModel, keep, manualSeed, pruneModel, randint, randn, tidy, type AmpMode,
  type BatchSource, type Callback, type EpochMetrics, type Tensor,
} from '../../src';
import { describeCuda } from './cuda-env';

class FixedBatches implements BatchSource {
  constructor(private readonly batches: { x: Tensor; y: Tensor }[]) {}
  get length(): number {
    return this.batches.length;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<{ x: Tensor; y: Tensor }> {
    // The trainer disposes each batch after its step: hand out copies.
    for (const b of this.batches) yield { x: b.x.clone(), y: b.y.clone() };
  }
}

async function losses(device: string, signin: boolean, amp: AmpMode = false, channelsLast = false, probe?: (trainer: () => Trainer) => Callback, gradAccumSteps = 1): Promise<number[]> {
  manualSeed(5);
  const model = createModel('cifar_resnet_20', { numClasses: 10 });
  await pruneModel(model, { method: 'random', sparsity: 0.8, scope: 'layerwise', distribution: 'uniform', seed: 5 });
  if (signin) applySignIn(model);
  if (device !== 'cpu') model.to(device);
  const optimizer = SGD.forModel(model, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  manualSeed(6);
  const batches = Array.from({ length: 3 }, () => tidy(() => ({ x: keep(randn([16, 3, 32, 32])), y: keep(randint(0, 10, [16])) })));
  const curve: number[] = [];
  const trainer: Trainer = new Trainer({
    model, optimizer, train: new FixedBatches(batches), epochs: 3, lr: () => 0.05, device, amp, channelsLast, progress: false, logger: pino.default({ level: 'silent' }), gradAccumSteps,
    callbacks: [{ name: 'curve', onEpochEnd: (_ctx, m: EpochMetrics) => { curve.push(m.trainLoss); } }, ...(probe ? [probe(() => trainer)] : [])],
  });
  await trainer.fit();
  for (const b of batches) { b.x.dispose(); b.y.dispose(); }
  optimizer.dispose?.();
  model.dispose();
  return curve;
}

/**
 * How far apart two correct float32 runs of these 3 epochs may end, per epoch, relative: training
 * is chaotic, so rounding differences grow with the steps. Measured on the CPU between NCHW and
 * channels_last (two sets of kernels, like CPU and CUDA): 1e-6, 5e-5, 2.1e-3 (plain) and 4e-5,
 * 1.3e-4, 1.1e-3 (Sign-In); these are 14-40x that. The kernels themselves are held to 1e-6
 * in fused.test.ts and every op to 1e-9 in float64 in zoo-ops.test.ts.
 */
const CURVE_TOLERANCE = [1e-3, 5e-3, 3e-2];

describeCuda('training on CUDA against the CPU', () => {
  for (const signin of [false, true]) {
    it(`masked ResNet-20${signin ? ' with Sign-In' : ''}: the loss curves agree`, async () => {
      const cpu = await losses('cpu', signin);
      const gpu = await losses('cuda', signin);
      expect(gpu).toHaveLength(3);
      gpu.forEach((l, i) => expect(Math.abs(l - cpu[i])).toBeLessThanOrEqual(CURVE_TOLERANCE[i] * Math.abs(cpu[i])));
    });
  }

  it('gradient accumulation (2 micro-batches a step): the loss curve agrees with the CPU\'s, and fp16 with the loss scaler stays near it', async () => {
    const cpu = await losses('cpu', true, false, false, undefined, 2);
    const gpu = await losses('cuda', true, false, false, undefined, 2);
    gpu.forEach((l, i) => expect(Math.abs(l - cpu[i])).toBeLessThanOrEqual(CURVE_TOLERANCE[i] * Math.abs(cpu[i])));
    const fp16 = await losses('cuda', true, 'fp16', false, undefined, 2);
    fp16.forEach((l, i) => {
      expect(Number.isFinite(l)).toBe(true);
      expect(Math.abs(l - gpu[i])).toBeLessThanOrEqual(0.05 * Math.abs(gpu[i]));
    });
  });

  it.each<[AmpMode, boolean]>([['bf16', false], ['bf16', true], ['fp16', false], ['fp16', true]])('amp %s, channelsLast %s: finite losses near the float32 curve', async (amp, cl) => {
    const fp32 = await losses('cuda', true);
    const mixed = await losses('cuda', true, amp, cl);
    mixed.forEach((l, i) => {
      expect(Number.isFinite(l)).toBe(true);
      expect(Math.abs(l - fp32[i])).toBeLessThanOrEqual(0.05 * Math.abs(fp32[i]));
    });
  });

  // Whether a step overflows at the default scale (2^16) is the run's own; the invariant holds
  // either way: a callback is told of exactly the steps the scaler skips, whose update halves it.
  it('fp16: callbacks see gradsFinite false on exactly the steps the loss scaler skips', async () => {
    const finite: boolean[] = [];
    const halved: boolean[] = [];
    let before = 0;
    await losses('cuda', true, 'fp16', false, (trainer) => ({
      name: 'probe',
      onAfterBackward: (ctx) => { finite.push(ctx.gradsFinite!); before = trainer().gradScaler!.getScale(); },
      onStepEnd: () => { halved.push(trainer().gradScaler!.getScale() < before); },
    }));
    expect(finite).toHaveLength(9);
    expect(finite.map((f) => !f)).toEqual(halved);
  });
});
