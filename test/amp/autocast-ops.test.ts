/**
 * CPU bfloat16 autocast op by op against torch.autocast('cpu', dtype=torch.bfloat16) of the
 * PyTorch on the same libtorch (/usr/bin/python3's 1.13 here; the GPU machine's 2.x there), for every op the model zoo calls: which ops run in bfloat16 and which
 * in float32, how mixed inputs promote, and the values. Each op gets the inputs it meets in a
 * model under autocast: float32 parameters with float32 inputs (the first layer) or with bfloat16
 * activations (every later one). Same inputs, same libtorch kernels: the values agree to within
 * one bfloat16 rounding (summation order may differ with the thread count).
 */
import {
  F, attentionKernel, autocast, fromTypedArray, gelu, layerNorm, scaledDotProductAttention, tidy, torchVersion, type Tensor,
} from '../../src';
import { describePytorch, expectClose, fromPy, randnArray, runPytorch, seeded, type PyArray } from '../helpers/pytorch';

const rand = seeded(2024);
const SHAPES: Record<string, number[]> = {
  img: [2, 3, 6, 6], convW: [4, 3, 3, 3], convB: [4],
  vec: [3, 5], seq: [2, 3, 5], linW: [6, 5], linB: [6],
  a: [2, 3, 4], b: [2, 4, 5], m: [3, 4], n: [4, 5],
  bnX: [4, 4, 3, 3], bnW: [4], bnB: [4], bnMean: [4], bnVar: [4],
  lnX: [2, 3, 8], lnW: [8], lnB: [8],
  logits: [4, 6], q: [2, 2, 5, 4], k: [2, 2, 5, 4], v: [2, 2, 5, 4],
};
const INPUTS: Record<string, PyArray> = Object.fromEntries(Object.entries(SHAPES).map(([k, s]) => [k, randnArray(s, rand)]));
INPUTS.bnVar = { shape: [4], data: INPUTS.bnVar.data.map((v) => Math.fround(0.5 + Math.abs(v))) };
INPUTS.target = { shape: [4], data: Float64Array.from([0, 5, 2, 3]) };

/** Name → [PyTorch expression, the toolkit's call]; `x.k` is float32, `b.k` its bfloat16 copy. */
type Args = { x: Record<string, Tensor>; b: Record<string, Tensor>; y: Tensor; state: Record<string, Tensor> };
const OPS: Record<string, [string, (a: Args) => Tensor]> = {
  conv2d: ['F.conv2d(x.img, x.convW, x.convB, padding=1)', ({ x }) => F.conv2d(x.img, x.convW, x.convB, { padding: 1 })],
  conv2d_bf16_input: ['F.conv2d(b.img, x.convW, None, stride=2)', ({ x, b }) => F.conv2d(b.img, x.convW, undefined, { stride: 2 })],
  linear: ['F.linear(x.vec, x.linW, x.linB)', ({ x }) => F.linear(x.vec, x.linW, x.linB)],
  linear_bf16_3d: ['F.linear(b.seq, x.linW, x.linB)', ({ x, b }) => F.linear(b.seq, x.linW, x.linB)],
  matmul_batched: ['torch.matmul(x.a, x.b)', ({ x }) => x.a.matmul(x.b)],
  matmul_mixed: ['torch.matmul(b.a, x.b)', ({ x, b }) => b.a.matmul(x.b)],
  matmul_2d: ['torch.matmul(x.m, x.n)', ({ x }) => x.m.matmul(x.n)],
  batch_norm_train_bf16: [
    'F.batch_norm(b.bnX, state.mean, state.var, x.bnW, x.bnB, training=True)',
    ({ x, b, state }) => F.batchNorm(b.bnX, state.mean, state.var, x.bnW, x.bnB, { training: true }),
  ],
  batch_norm_eval_bf16: [
    'F.batch_norm(b.bnX, x.bnMean, x.bnVar, x.bnW, x.bnB, training=False)',
    ({ x, b }) => F.batchNorm(b.bnX, x.bnMean, x.bnVar, x.bnW, x.bnB, { training: false }),
  ],
  batch_norm_train_fp32: ['F.batch_norm(x.bnX, None, None, x.bnW, x.bnB, training=True)', ({ x }) => F.batchNorm(x.bnX, undefined, undefined, x.bnW, x.bnB, { training: true })],
  layer_norm_bf16: ['F.layer_norm(b.lnX, [8], x.lnW, x.lnB, 1e-6)', ({ x, b }) => layerNorm(b.lnX, [8], x.lnW, x.lnB, 1e-6)],
  layer_norm_fp32: ['F.layer_norm(x.lnX, [8], x.lnW, x.lnB)', ({ x }) => layerNorm(x.lnX, [8], x.lnW, x.lnB)],
  softmax_bf16: ['torch.softmax(b.logits, -1)', ({ b }) => F.softmax(b.logits, -1)],
  softmax_fp32: ['torch.softmax(x.logits, -1)', ({ x }) => F.softmax(x.logits, -1)],
  log_softmax_bf16: ['torch.log_softmax(b.logits, 1)', ({ b }) => F.logSoftmax(b.logits, 1)],
  cross_entropy_bf16: ['F.cross_entropy(b.logits, y)', ({ b, y }) => F.crossEntropy(b.logits, y)],
  cross_entropy_smoothed_fp32: ['F.cross_entropy(x.logits, y, label_smoothing=0.1)', ({ x, y }) => F.crossEntropy(x.logits, y, { labelSmoothing: 0.1 })],
  mse_loss_bf16: ['F.mse_loss(b.a, x.a * 0.5)', ({ x, b }) => F.mseLoss(b.a, x.a.mul(0.5))],
  gelu_bf16: ['F.gelu(b.logits)', ({ b }) => gelu(b.logits)],
  gelu_tanh_fp32: ["F.gelu(x.logits, approximate='tanh')", ({ x }) => gelu(x.logits, 'tanh')],
  relu_bf16: ['F.relu(b.img)', ({ b }) => F.relu(b.img)],
  max_pool2d_bf16: ['F.max_pool2d(b.img, 2)', ({ b }) => F.maxPool2d(b.img, 2)],
  avg_pool2d_bf16: ['F.avg_pool2d(b.img, 3, stride=2, padding=1)', ({ b }) => F.avgPool2d(b.img, 3, { stride: 2, padding: 1 })],
  adaptive_avg_pool2d_bf16: ['F.adaptive_avg_pool2d(b.img, 1)', ({ b }) => F.adaptiveAvgPool2d(b.img, 1)],
  adaptive_avg_pool2d_fp32: ['F.adaptive_avg_pool2d(x.img, 2)', ({ x }) => F.adaptiveAvgPool2d(x.img, 2)],
  add_bf16_fp32: ['b.img + x.img', ({ x, b }) => b.img.add(x.img)],
  add_bf16_bf16: ['b.img + b.img', ({ b }) => b.img.add(b.img)],
  mul_bf16_scalar: ['b.q * 0.5', ({ b }) => b.q.mul(0.5)],
  attention_plain: [
    'torch.matmul(torch.softmax(torch.matmul(x.q * (1 / math.sqrt(4)), x.k.transpose(-2, -1)), -1), x.v)',
    ({ x }) => scaledDotProductAttention(x.q, x.k, x.v, { training: false, kernel: 'plain' }),
  ],
  // The fused kernel of this libtorch: aten::scaled_dot_product_attention from 2.0, its 1.13 precursor before.
  attention_fused: [
    'sdpa(x.q, x.k, x.v)',
    ({ x }) => scaledDotProductAttention(x.q, x.k, x.v, { training: false, kernel: attentionKernel() }),
  ],
};

const REFERENCE = `
import torch.nn.functional as F
from types import SimpleNamespace
x = SimpleNamespace(**{k: v.float() for k, v in inp.items() if k != 'target'})
b = SimpleNamespace(**{k: v.bfloat16() for k, v in vars(x).items()})
y = inp['target'].long()
state = SimpleNamespace(mean=x.bnMean.clone(), var=x.bnVar.clone())
if hasattr(F, 'scaled_dot_product_attention'):
    sdpa = F.scaled_dot_product_attention
else:
    sdpa = lambda q, k, v: torch.ops.aten._scaled_dot_product_attention(q, k, v, None, 0.0, False, False)[0]
res = {}
with torch.autocast('cpu', dtype=torch.bfloat16):
    for name, expr in args.items():
        try:
            r = eval(expr)
        except RuntimeError as e:
            res[name] = 'error: ' + str(e).splitlines()[0]
            continue
        out[name] = r.double()
        res[name] = str(r.dtype).replace('torch.', '')
res['torch'] = torch.__version__
out['running_mean'] = state.mean.double()
out['running_var'] = state.var.double()
res['running'] = str(state.mean.dtype).replace('torch.', '')
`;

const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');

function values(t: Tensor): Float64Array {
  return t.detach().to('float64').data() as Float64Array;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Within one bfloat16 rounding for a bfloat16 result, float32 rounding for a float32 one. Against
 * another libtorch version, whose bfloat16 kernels round differently, a chain of bfloat16 ops
 * (attention: matmul, softmax, matmul) may end several bfloat16 steps away: `loose`.
 */
function expectSameValues(name: string, ours: Tensor, ref: PyArray, dtype: string, loose: boolean): void {
  expect(ours.shape).toEqual(ref.shape);
  const bf16 = dtype === 'bfloat16';
  const step = loose ? 2 ** -5 : 2 ** -8;
  expectClose(values(ours), ref.data, bf16 ? 2 * step : 1e-5, (bf16 ? step : 1e-6) * maxAbs(ref.data), name);
}

describePytorch('autocast (CPU, bfloat16) op by op against torch.autocast', () => {
  let ref: { out: Record<string, PyArray>; res: Record<string, string> };
  beforeAll(() => {
    ref = runPytorch(REFERENCE, INPUTS, Object.fromEntries(Object.entries(OPS).map(([k, [py]]) => [k, py]))) as typeof ref;
  });

  it('runs each op in PyTorch\'s dtype with PyTorch\'s values', () => {
    tidy(() => {
      const x: Record<string, Tensor> = {};
      const b: Record<string, Tensor> = {};
      for (const [k, a] of Object.entries(INPUTS)) {
        if (k === 'target') continue;
        x[k] = fromPy(a, 'float32');
        b[k] = x[k].to('bfloat16');
      }
      const y = fromPy(INPUTS.target, 'int64');
      const state = { mean: x.bnMean.clone(), var: x.bnVar.clone() };
      // An op that libtorch refuses for these dtypes (PyTorch's error) must be refused here too.
      const attempt = (f: (a: Args) => Tensor): Tensor | string => {
        try {
          return f({ x, b, y, state });
        } catch (e) {
          return `error: ${(e as Error).message.split('\n')[0]}`;
        }
      };
      const ours = autocast({ device: 'cpu', dtype: 'bfloat16' }, () => Object.fromEntries(Object.entries(OPS).map(([k, [, f]]) => [k, attempt(f)])));
      const outcome = (v: Tensor | string) => (typeof v === 'string' ? (v.startsWith('error') ? 'error' : v) : v.dtype);
      const { running, torch: refTorch, ...refDtypes } = ref.res;
      const expected = Object.fromEntries(Object.entries(refDtypes).map(([k, d]) => [k, outcome(d)]));
      const got = Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, outcome(v)]));
      // A newer libtorch than the reference's (scripts/libtorch2-check.sh: 2.x against 1.13) may
      // run what the older one refused (2.x's CPU layer_norm takes bf16 input with fp32 weights).
      const otherVersion = majorMinor(torchVersion()) !== majorMinor(refTorch);
      if (otherVersion) {
        for (const [k, d] of Object.entries(expected)) if (d === 'error') expected[k] = got[k];
      }
      expect(got).toEqual(expected);
      for (const [k, t] of Object.entries(ours)) if (typeof t !== 'string' && ref.out[k]) expectSameValues(k, t, ref.out[k], ref.res[k], otherVersion);
      expect(state.mean.dtype).toBe(running);
      expectSameValues('running_mean', state.mean, ref.out.running_mean, running, otherVersion);
      expectSameValues('running_var', state.var, ref.out.running_var, running, otherVersion);
    });
  });

  it('covers both precisions: the lists put some ops in bfloat16 and keep others in float32', () => {
    const counts = { bfloat16: 0, float32: 0 };
    for (const [k, d] of Object.entries(ref.res)) if (k !== 'running' && k !== 'torch') counts[d as keyof typeof counts]++;
    expect(counts.bfloat16).toBeGreaterThan(5);
    expect(counts.float32).toBeGreaterThan(3);
    expect(ref.res.conv2d).toBe('bfloat16');
    expect(ref.res.add_bf16_fp32).toBe('float32');
  });

  it('promotes mixed adds outside autocast as inside (ordinary type promotion)', () => {
    tidy(() => {
      const a = fromTypedArray(new Float32Array([1.5, -2]), [2]).to('bfloat16');
      const c = fromTypedArray(new Float32Array([0.25, 1]), [2]);
      expect(a.add(c).dtype).toBe('float32');
      expect(autocast({ device: 'cpu' }, () => a.add(c)).dtype).toBe('float32');
    });
  });
});
