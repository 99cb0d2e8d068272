/**
 * channelsLast 'auto', the Trainer's default: on the CPU the batch goes channels_last when
 * libtorch has oneDNN (whose NHWC convolutions are the faster path there), and the float32 step
 * it takes is PyTorch's usual NCHW step up to rounding. References: PyTorch on the same libtorch
 * (torch.backends.mkldnn.is_available(), and one NCHW SGD step from the same weights and batch).
 */
import * as pino from 'pino';
import { MixedPrecision, SGD, Trainer, backends, isChannelsLast, manualSeed, randn, tidy, type EpochMetrics, type Tensor } from '../../src';
import * as aten from '../../src/tensor/aten';
import { describePytorch, runPytorch, toPy } from '../helpers/pytorch';
import { TOY_MODEL_PYTHON, createToyModel, oneBatch, toyBatch } from '../helpers/toy-model';

const REFERENCE = `
import torch.nn as nn
import torch.nn.functional as F
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=3, width=8, num_classes=10)
model.load_state_dict({k[3:]: v for k, v in inp.items() if k.startswith('sd.')})
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss = F.cross_entropy(model(inp['x'].float()), inp['y'].long())
loss.backward()
opt.step()
for n in ['conv1.weight', 'conv2.weight', 'fc.weight', 'bn1.running_mean']:
    out[n] = model.get_buffer(n).double() if 'running' in n else model.get_parameter(n).detach().double()
res = {'loss': loss.item(), 'mkldnn': torch.backends.mkldnn.is_available()}
`;

describe("channelsLast 'auto'", () => {
  it('is on for the CPU exactly when libtorch has oneDNN, and off for CUDA', () => {
    expect(new MixedPrecision({ device: 'cpu' }).channelsLast).toBe(backends.mkldnn.isAvailable());
    expect(new MixedPrecision({ device: 'cpu', channelsLast: 'auto' }).channelsLast).toBe(backends.mkldnn.isAvailable());
    expect(new MixedPrecision({ device: 'cuda' }).channelsLast).toBe(false);
    expect(new MixedPrecision({ device: 'cpu', channelsLast: false }).channelsLast).toBe(false);
    expect(new MixedPrecision({ device: 'cuda', channelsLast: true }).channelsLast).toBe(true);
  });

  it('gives a one-channel batch strides libtorch reads as channels_last, and the format reaches the next layer', () => {
    const strides = (t: Tensor) => [0, 1, 2, 3].map((d) => aten.stride(t, d));
    tidy(() => {
      // contiguous(channels_last) would keep [784, 784, 28, 1] (both formats at once), which
      // libtorch reads as NCHW: the whole network then ran in NCHW.
      const x = new MixedPrecision({ device: 'cpu', channelsLast: true }).input(randn([4, 1, 28, 28]));
      expect(strides(x)).toEqual([784, 1, 28, 1]);
      const model = createToyModel({ inChannels: 1, width: 4 });
      const y = model.conv1.forward(x);
      expect(y.shape).toEqual([4, 4, 28, 28]);
      // oneDNN's NHWC convolution answers in NHWC (what the speed comes from); without it the layout is libtorch's choice.
      if (backends.mkldnn.isAvailable()) expect(strides(y)).toEqual([28 * 28 * 4, 1, 28 * 4, 4]);
    });
  });

  it('names the option and its values on a bad one', () => {
    expect(() => new MixedPrecision({ device: 'cpu', channelsLast: 'on' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG', message: "Expected true, false or 'auto' for channelsLast but received 'on' of type string" }),
    );
  });
});

describePytorch("Trainer with the default channelsLast ('auto') on the CPU", () => {
  it("agrees with PyTorch's oneDNN flag and takes PyTorch's NCHW float32 step up to rounding", async () => {
    manualSeed(5);
    const model = createToyModel({ inChannels: 3, width: 8 });
    const { x, y } = toyBatch(8, { inChannels: 3, imageSize: 12 });
    const inputs: Record<string, ReturnType<typeof toPy>> = { x: toPy(x), y: toPy(y) };
    for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = toPy(t);
    const ref = runPytorch(REFERENCE, inputs);
    const { loss, mkldnn } = ref.res as { loss: number; mkldnn: boolean };
    expect(backends.mkldnn.isAvailable()).toBe(mkldnn);

    const seen: boolean[] = [];
    const forward = model.forward.bind(model);
    model.forward = (input: Tensor) => {
      seen.push(isChannelsLast(input));
      return forward(input);
    };
    const optimizer = SGD.forModel(model, { lr: 0.1, momentum: 0.9 });
    let metrics: EpochMetrics | undefined;
    const trainer = new Trainer({
      model, optimizer, train: oneBatch(x, y), epochs: 1, lr: () => 0.1, progress: false, logger: pino.default({ level: 'silent' }),
      callbacks: [{ name: 'metrics', onEpochEnd: (_c, m) => { metrics = m; } }],
    });
    await trainer.fit();
    expect(seen).toEqual([mkldnn]);
    expect(Math.abs(metrics!.trainLoss - loss)).toBeLessThanOrEqual(1e-5 * Math.abs(loss));
    const tensors = new Map([...model.namedParameters(), ...model.namedBuffers()]);
    tidy(() => {
      for (const n of ['conv1.weight', 'conv2.weight', 'fc.weight', 'bn1.running_mean']) {
        const ours = tensors.get(n)!.toArray();
        const theirs = ref.out[n].data;
        for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs[i])).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(theirs[i]));
      }
    });
  });
});
