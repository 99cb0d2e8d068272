/**
 * The Trainer's `amp` and `channelsLast` options on the CPU: one SGD step of a conv net under
 * bf16 autocast with channels_last inputs against the same step in PyTorch (torch.autocast('cpu',
 * bfloat16), channels_last input, torch.optim.SGD) from the same weights and batch.
 */
import * as pino from 'pino';
import { SGD, Trainer, manualSeed, tidy, type BatchSource, type EpochMetrics, type Tensor } from '../../src';
import { describePytorch, runPytorch, toPy } from '../helpers/pytorch';
import { TOY_MODEL_PYTHON, createToyModel, oneBatch, toyBatch } from '../helpers/toy-model';

const REFERENCE = `
import torch.nn as nn
import torch.nn.functional as F
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=3, width=8, num_classes=10)
model.load_state_dict({k[3:]: v for k, v in inp.items() if k.startswith('sd.')})
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = inp['x'].float().contiguous(memory_format=torch.channels_last)
y = inp['y'].long()
with torch.autocast('cpu', dtype=torch.bfloat16):
    loss = F.cross_entropy(model(x), y)
loss.backward()
opt.step()
for n in ['conv1.weight', 'conv2.weight', 'fc.weight']:
    out[n] = model.get_parameter(n).detach().double()
res = loss.item()
`;

describePytorch('Trainer with amp bf16 and channelsLast on the CPU', () => {
  it('one step matches PyTorch autocast + SGD', async () => {
    manualSeed(11);
    const model = createToyModel({ inChannels: 3, width: 8 });
    const { x, y } = toyBatch(8, { inChannels: 3, imageSize: 12 });
    const inputs: Record<string, ReturnType<typeof toPy>> = { x: toPy(x), y: toPy(y) };
    for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = toPy(t);
    const ref = runPytorch(REFERENCE, inputs);

    const optimizer = SGD.forModel(model, { lr: 0.1 });
    let metrics: EpochMetrics | undefined;
    const trainer = new Trainer({
      model, optimizer, train: oneBatch(x, y), epochs: 1, lr: () => 0.1, amp: 'bf16', channelsLast: true, progress: false, logger: pino.default({ level: 'silent' }),
      callbacks: [{ name: 'metrics', onEpochEnd: (_c, m) => { metrics = m; } }],
    });
    await trainer.fit();
    expect(Math.abs(metrics!.trainLoss - (ref.res as number))).toBeLessThanOrEqual(1e-2 * Math.abs(ref.res as number));
    const params = new Map(model.namedParameters());
    tidy(() => {
      for (const n of ['conv1.weight', 'conv2.weight', 'fc.weight']) {
        const ours = params.get(n)!.toArray();
        const theirs = ref.out[n].data;
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < ours.length; i++) {
          worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
          scale = Math.max(scale, Math.abs(theirs[i]));
        }
        // Weights move by lr·grad (grads from bf16 activations); the fp32 weights themselves agree.
        expect(worst).toBeLessThanOrEqual(2e-3 * scale);
      }
    });
  });
});

describe('Trainer precision options', () => {
  it("refuses fp16 on the CPU and a channelsLast other than true, false or 'auto'", () => {
    const model = createToyModel();
    const optimizer = SGD.forModel(model, { lr: 0.1 });
    const base = { model, optimizer, train: { length: 0, async *[Symbol.asyncIterator]() {} } as BatchSource, epochs: 1, lr: () => 0.1 };
    expect(() => new Trainer({ ...base, amp: 'fp16' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/for amp but received 'fp16'/) }));
    expect(() => new Trainer({ ...base, amp: 'fp32' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/amp/) }));
    expect(() => new Trainer({ ...base, channelsLast: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/channelsLast/) }));
  });
});
