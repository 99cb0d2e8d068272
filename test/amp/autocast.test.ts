/**
 * CPU bfloat16 autocast against PyTorch's torch.autocast('cpu', dtype=torch.bfloat16) on the same
 * model, weights and batch (/usr/bin/python3: the same libtorch). The float32 forward is checked
 * to differ from the autocast one, so that a no-op autocast cannot pass.
 */
import {
  F, autocast, autocastState, fromTypedArray, manualSeed, tidy, torchVersion, type Tensor,
} from '../../src';
import { describePytorch, runPytorch, toPy } from '../helpers/pytorch';
import { TOY_MODEL_PYTHON, createToyModel, toyBatch } from '../helpers/toy-model';

const REFERENCE = `
import torch.nn as nn
import torch.nn.functional as F
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=3, width=8, num_classes=10)
model.load_state_dict({k[3:]: v for k, v in inp.items() if k.startswith('sd.')})
model.train(args['train'])
x, y = inp['x'].float(), inp['y'].long()
with torch.autocast('cpu', dtype=torch.bfloat16):
    logits = model(x)
    loss = F.cross_entropy(logits, y)
loss.backward()
out['logits'] = logits.double()
out['loss'] = loss.double().reshape(1)
names = ['conv1.weight', 'conv2.weight', 'fc.weight', 'fc.bias']
for n in names:
    out['grad.' + n] = model.get_parameter(n).grad.double()
res = {'logits': str(logits.dtype), 'loss': str(loss.dtype), 'grad': str(model.conv1.weight.grad.dtype), 'torch': torch.__version__}
model.zero_grad()
F.cross_entropy(model(x), y).backward()
for n in names:
    out['grad32.' + n] = model.get_parameter(n).grad.double()
`;

const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');

function maxAbs(a: Float64Array | number[]): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function values(t: Tensor): number[] {
  return Array.from(t.detach().to('float64').data() as Float64Array);
}

describePytorch('autocast (CPU, bfloat16) against torch.autocast', () => {
  for (const train of [true, false]) {
    it(`forward and gradients of a masked conv net in ${train ? 'train' : 'eval'} mode`, () => {
      manualSeed(7);
      const model = createToyModel({ inChannels: 3, width: 8 });
      model.train(train);
      const { x, y } = toyBatch(6, { inChannels: 3, imageSize: 12 });
      const inputs: Record<string, ReturnType<typeof toPy>> = { x: toPy(x), y: toPy(y) };
      for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = toPy(t);
      const ref = runPytorch(REFERENCE, inputs, { train });
      const { torch: refTorch, ...dtypes } = ref.res as { logits: string; loss: string; grad: string; torch: string };
      expect(dtypes).toEqual({ logits: 'torch.bfloat16', loss: 'torch.float32', grad: 'torch.float32' });
      const otherVersion = majorMinor(torchVersion()) !== majorMinor(refTorch);

      tidy(() => {
        const fp32 = values(model.forward(x));
        let logits!: Tensor;
        const loss = autocast({ device: 'cpu', dtype: 'bfloat16' }, () => {
          logits = model.forward(x);
          return F.crossEntropy(logits, y);
        });
        expect(autocastState().cpu).toBe(false);
        expect(logits.dtype).toBe('bfloat16');
        expect(loss.dtype).toBe('float32');
        loss.backward();

        const ours = values(logits);
        const scale = maxAbs(ref.out.logits.data);
        // The same libtorch kernels on the same bf16 inputs: equal up to summation order.
        expect(maxDiff(ours, ref.out.logits.data)).toBeLessThanOrEqual(1e-2 * scale);
        // bf16 keeps 8 significant bits: a real autocast moves the logits off the float32 ones.
        expect(maxDiff(fp32, ref.out.logits.data)).toBeGreaterThan(1e-4 * scale);
        expect(Math.abs(loss.item() - ref.out.loss.data[0])).toBeLessThanOrEqual(1e-2 * Math.abs(ref.out.loss.data[0]));

        const params = new Map(model.namedParameters());
        for (const n of ['conv1.weight', 'conv2.weight', 'fc.weight', 'fc.bias']) {
          const g = params.get(n)!.grad!;
          expect(g.dtype).toBe('float32');
          const r = ref.out[`grad.${n}`].data;
          // Another libtorch than the reference's (scripts/libtorch2-check.sh: 2.x against 1.13)
          // has other bf16 kernels, which round elsewhere (on an AVX2 EPYC, 2.13's train-mode
          // conv gradients were 15% of their largest off 1.13's): there the bound is bf16's own
          // error, twice the reference's distance from its float32 gradient.
          const bf16Error = maxDiff(r, ref.out[`grad32.${n}`].data);
          const bound = otherVersion ? Math.max(2e-2 * maxAbs(r), 2 * bf16Error) : 2e-2 * maxAbs(r);
          expect(maxDiff(values(g), r)).toBeLessThanOrEqual(bound + 1e-6);
        }
      });
    });
  }

  it('restores the previous state when fn throws, and nests', () => {
    expect(() => autocast({ device: 'cpu' }, () => {
      autocast({ device: 'cpu', enabled: true }, () => undefined);
      expect(autocastState().cpu).toBe(true);
      throw new Error('boom');
    })).toThrow('boom');
    expect(autocastState().cpu).toBe(false);
  });

  it('leaves float64 ops alone, as torch.autocast does', () => {
    tidy(() => {
      const a = fromTypedArray(new Float64Array([1, 2, 3, 4]), [2, 2]);
      expect(autocast({ device: 'cpu' }, () => a.matmul(a)).dtype).toBe('float64');
    });
  });
});

describe('autocast arguments', () => {
  it.each([
    [{ device: 'gpu' }, /Expected one of 'cpu', 'cuda' for device but received 'gpu'/],
    [{ device: 'cpu', dtype: 'float32' }, /Expected one of 'bfloat16', 'float16' for dtype but received 'float32'/],
    [{ device: 'cpu', enabled: 1 }, /Expected a boolean for enabled but received 1 of type number/],
    [null, /Expected \{ device, dtype\?, enabled\? \} for options but received null/],
  ])('rejects %p', (opts, message) => {
    expect(() => autocast(opts as never, () => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(message) }));
  });

  it('refuses an async fn after restoring the state', async () => {
    let p: Promise<void> | undefined;
    expect(() => autocast({ device: 'cpu' }, () => (p = Promise.resolve()))).toThrow(/synchronous fn/);
    await p;
    expect(autocastState().cpu).toBe(false);
  });
});
