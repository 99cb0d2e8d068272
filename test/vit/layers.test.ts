/**
 * The transformer layers and the ViT model against an independent PyTorch implementation with
 * timm's module names, written below and run by /usr/bin/python3 in float64: forward outputs and
 * the gradients of the input and of every parameter. Plus the layers' closed forms (LayerNorm,
 * GELU, attention kernels) and the statistics of DropPath and trunc_normal_.
 */
import {
  DropPath, GELU, InvalidArgumentError, LayerNorm, MultiHeadAttention, attentionKernel, createModel, dropPath, gelu, init,
  layerNorm, manualSeed, noGrad, randn, scaledDotProductAttention, tidy, torchVersion, zeros, type Tensor,
} from '../../src';
import { describeWithTorch, expectClose, runTorch } from '../helpers/torch-ref';
import { VIT_MODULES } from './vit-reference';

const VIT_REFERENCE = `
a = json.loads(inp_args)
model = ViT(a).double()
state = {k: v.double() for k, v in inp.items() if k not in ('x', 'r')}
model.load_state_dict(state, strict=True)
x = inp['x'].double().requires_grad_()
y = model(x)
(y * inp['r']).sum().backward()
out['y'] = y
out['x.grad'] = x.grad
for k, p in model.named_parameters():
    out[k + '.grad'] = p.grad
`;

const ARCH = { size: 8, cin: 2, patch: 4, dim: 8, heads: 2, hidden: 16, depth: 2, classes: 3 };

describeWithTorch('ViT against a PyTorch reference with timm names (float64)', () => {
  test('forward and backward: output, input gradient and every parameter gradient', () => {
    manualSeed(11);
    const model = createModel('vit', {
      inputSize: ARCH.size, inChannels: ARCH.cin, numClasses: ARCH.classes, patchSize: ARCH.patch, embedDim: ARCH.dim,
      depth: ARCH.depth, numHeads: ARCH.heads, mlpRatio: ARCH.hidden / ARCH.dim,
    }).to('float64');
    // Random values everywhere (the init's zero biases and unit norms would hide mix-ups).
    noGrad(() => { for (const p of model.parameters()) tidy(() => p.copy_(randn(p.shape, { dtype: 'float64' }).mul(0.3))); });
    const x = randn([3, ARCH.cin, ARCH.size, ARCH.size], { dtype: 'float64', requiresGrad: true });
    const r = randn([3, ARCH.classes], { dtype: 'float64' });
    const y = model.forward(x);
    y.mul(r).sum().backward();

    const inputs: Record<string, Tensor> = { x, r };
    for (const [k, p] of model.namedParameters()) inputs[k] = p;
    const names = Object.keys(inputs).filter((k) => k !== 'x' && k !== 'r');
    expect(names).toEqual(expect.arrayContaining([
      'cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight',
      'blocks.0.attn.qkv.bias', 'blocks.0.attn.proj.weight', 'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc2.bias', 'norm.weight', 'head.weight',
    ]));
    const ref = runTorch(`inp_args = ${JSON.stringify(JSON.stringify(ARCH))}\n${VIT_MODULES}\n${VIT_REFERENCE}`, inputs);
    expectClose(y, ref.out.y, 1e-10, 1e-12);
    expectClose(x.grad!, ref.out['x.grad'], 1e-10, 1e-12);
    for (const [k, p] of model.namedParameters()) {
      expectClose(p.grad!, ref.out[`${k}.grad`], 1e-9, 1e-12);
    }
    // Every parameter of the reference module exists here under the same name, and no other.
    expect(Object.keys(ref.out).filter((k) => k.endsWith('.grad') && k !== 'x.grad').sort())
      .toEqual(names.map((k) => `${k}.grad`).sort());
    model.dispose();
  });

  test('LayerNorm, GELU (exact and tanh) and both attention kernels against torch.nn.functional', () => {
    manualSeed(3);
    const x = randn([2, 5, 6], { dtype: 'float64' });
    const w = randn([6], { dtype: 'float64' });
    const b = randn([6], { dtype: 'float64' });
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 3, 5, 4], { dtype: 'float64' }));
    const ref = runTorch(`
      out['ln'] = F.layer_norm(inp['x'], [6], inp['w'], inp['b'], 1e-6)
      out['gelu'] = F.gelu(inp['x'])
      out['gelu_tanh'] = F.gelu(inp['x'], approximate='tanh')
      out['att'] = torch.softmax(inp['q'] @ inp['k'].transpose(-1, -2) / 2.0, -1) @ inp['v']
    `, { x, w, b, q, k, v });
    expectClose(layerNorm(x, [6], w, b, 1e-6), ref.out.ln, 1e-12, 1e-12);
    const ln = new LayerNorm(6, { eps: 1e-6 }).to('float64');
    noGrad(() => { ln.getParameter('weight')!.copy_(w); ln.getParameter('bias')!.copy_(b); });
    expectClose(ln.forward(x), ref.out.ln, 1e-12, 1e-12);
    expectClose(gelu(x), ref.out.gelu, 1e-12, 1e-12);
    expectClose(new GELU({ approximate: 'tanh' }).forward(x), ref.out.gelu_tanh, 1e-12, 1e-12);
    for (const kernel of ['auto', 'plain'] as const) {
      expectClose(scaledDotProductAttention(q, k, v, { kernel }), ref.out.att, 1e-12, 1e-12);
    }
  });
});

describe('transformer layers: kernels, statistics and bad input', () => {
  test('the model uses the fused kernel of its libtorch: the sdpa precursor on 1.13, sdpa on 2.x', () => {
    const major = Number(torchVersion().split('.')[0]);
    expect(attentionKernel()).toBe(major >= 2 ? 'sdpa' : 'sdpa_1_13');
  });

  test('DropPath keeps whole samples with probability 1 − p, scaled by 1/(1 − p); identity in eval', () => {
    manualSeed(5);
    const x = tidy(() => zeros([20000, 3, 2]).add(1));
    const y = dropPath(x, 0.25, true);
    const perSample = y.reshape([20000, 6]);
    const kept = tidy(() => perSample.select(1, 0).gt(0).sum().item()) / 20000;
    // Binomial(20000, 0.75): sd of the fraction 0.0031; 5 sd.
    expect(Math.abs(kept - 0.75)).toBeLessThan(0.016);
    // Each sample is all 0 or all 1/0.75.
    const vals = new Set(perSample.toArray().map((v) => Math.round(v * 1e6)));
    expect([...vals].sort((p, q) => p - q)).toEqual([0, Math.round(1e6 / 0.75)]);
    const layer = new DropPath(0.25).eval();
    expect(layer.forward(x)).toBe(x);
  });

  test('trunc_normal_ of N(0.1, 1) on [−1.9, 2.1] (±2σ) has the truncated normal\'s mean and variance', () => {
    manualSeed(9);
    const t = zeros([200000]);
    init.truncNormal_(t, 0.1, 1, -1.9, 2.1);
    const a = t.toArray();
    // N(0.1, 1) truncated to ±2 sd: mean 0.1, variance 1 − 2·2φ(2)/(Φ(2) − Φ(−2)) = 0.7737413.
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(variance - 0.7737413)).toBeLessThan(0.01);
    expect(a.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThanOrEqual(-1.9);
    expect(a.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThanOrEqual(2.1);
  });

  test('bad input names the argument', () => {
    expect(() => layerNorm(zeros([2, 5]), [6])).toThrow('Expected a Tensor whose last dimensions are [6] for input but received a Tensor of shape [2, 5]');
    expect(() => new MultiHeadAttention(10, { numHeads: 3 })).toThrow(InvalidArgumentError);
    expect(() => new MultiHeadAttention(10, { numHeads: 3 })).toThrow('for numHeads');
    expect(() => new MultiHeadAttention(8, { numHeads: 2 }).forward(zeros([2, 8]))).toThrow('Expected a Tensor [B, N, 8] for input');
    expect(() => createModel('vit', { patchSize: 5 })).toThrow('Expected a divisor of inputSize (28) for options.patchSize of model vit but received 5');
    expect(() => createModel('vit', { numHeads: 5 })).toThrow('for options.numHeads of model vit');
    const m = createModel('vit');
    expect(() => m.forward(zeros([1, 1, 32, 32]))).toThrow('Expected a Tensor [B, 1, 28, 28] for input but received a Tensor of shape [1, 1, 32, 32]');
    m.dispose();
  });
});
