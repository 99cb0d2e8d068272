/**
 * Parity with PyTorch on the same libtorch: forward values and gradients (input and weights) of
 * conv2d, linear, batch norm (train and eval, running stats) and cross-entropy, on random inputs,
 * to float32 tolerance. References come from torch itself (test/helpers/torch-ref.ts).
 */
import {
  BatchNorm1d, BatchNorm2d, F, Tensor, keep, manualSeed, noGrad, randint, randn, rand, tidy,
} from '../../src';
import { describeWithTorch, expectClose, runTorch } from '../helpers/torch-ref';

function leaf(shape: number[]): Tensor {
  return keep(randn(shape)).requiresGrad_(true);
}

function grads(ts: Record<string, Tensor | undefined>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(ts)) if (t) out[k] = keep(t.grad!);
  return out;
}

interface ConvCase {
  inC: number; outC: number; k: [number, number]; stride: [number, number]; padding: [number, number];
  dilation: [number, number]; groups: number; bias: boolean; hw: [number, number];
}

const CONV_CASES: ConvCase[] = [
  { inC: 3, outC: 4, k: [3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, bias: true, hw: [7, 6] },
  { inC: 3, outC: 5, k: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1, bias: false, hw: [8, 8] },
  { inC: 2, outC: 3, k: [3, 2], stride: [1, 1], padding: [2, 1], dilation: [2, 2], groups: 1, bias: true, hw: [6, 7] },
  { inC: 4, outC: 6, k: [3, 3], stride: [2, 1], padding: [1, 0], dilation: [1, 1], groups: 2, bias: true, hw: [7, 5] },
  { inC: 4, outC: 4, k: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 4, bias: false, hw: [5, 5] },
];

describeWithTorch('parity with PyTorch (torch-ref python)', () => {
  beforeAll(() => manualSeed(1234));

  it('conv2d forward and backward (stride, padding, dilation, groups)', () => {
    const inputs: Record<string, Tensor> = {};
    const ours: Record<string, Tensor> = {};
    CONV_CASES.forEach((c, i) => {
      const x = leaf([2, c.inC, ...c.hw]);
      const w = leaf([c.outC, c.inC / c.groups, ...c.k]);
      const b = c.bias ? leaf([c.outC]) : undefined;
      const y = F.conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
      const gy = keep(randn(y.shape));
      y.backward(gy);
      Object.assign(inputs, { [`x${i}`]: x, [`w${i}`]: w, [`gy${i}`]: gy }, b ? { [`b${i}`]: b } : {});
      ours[`y${i}`] = keep(y);
      for (const [k, g] of Object.entries(grads({ x, w, b }))) ours[`g${k}${i}`] = g;
    });
    const ref = runTorch(`
      cases = json.loads('${JSON.stringify(CONV_CASES)}')
      for i, c in enumerate(cases):
          x = inp[f'x{i}'].clone().requires_grad_()
          w = inp[f'w{i}'].clone().requires_grad_()
          b = inp[f'b{i}'].clone().requires_grad_() if c['bias'] else None
          y = F.conv2d(x, w, b, stride=c['stride'], padding=c['padding'], dilation=c['dilation'], groups=c['groups'])
          y.backward(inp[f'gy{i}'])
          out[f'y{i}'] = y
          out[f'gx{i}'] = x.grad
          out[f'gw{i}'] = w.grad
          if b is not None:
              out[f'gb{i}'] = b.grad
    `, inputs);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(ref.out).sort());
    for (const k of Object.keys(ref.out)) expectClose(ours[k], ref.out[k]);
  });

  it('linear forward and backward (2-D and 3-D input, with and without bias)', () => {
    const x2 = leaf([5, 7]);
    const x3 = leaf([2, 4, 7]);
    const w = leaf([3, 7]);
    const b = leaf([3]);
    const y2 = F.linear(x2, w, b);
    const y3 = F.linear(x3, w);
    const g2 = keep(randn(y2.shape));
    const g3 = keep(randn(y3.shape));
    y2.backward(g2);
    y3.backward(g3);
    const ref = runTorch(`
      x2 = inp['x2'].clone().requires_grad_(); x3 = inp['x3'].clone().requires_grad_()
      w = inp['w'].clone().requires_grad_(); b = inp['b'].clone().requires_grad_()
      y2 = F.linear(x2, w, b); y3 = F.linear(x3, w)
      y2.backward(inp['g2']); y3.backward(inp['g3'])
      out.update(y2=y2, y3=y3, gx2=x2.grad, gx3=x3.grad, gw=w.grad, gb=b.grad)
    `, { x2, x3, w, b, g2, g3 });
    expectClose(y2, ref.out.y2);
    expectClose(y3, ref.out.y3);
    expectClose(x2.grad!, ref.out.gx2);
    expectClose(x3.grad!, ref.out.gx3);
    expectClose(w.grad!, ref.out.gw);
    expectClose(b.grad!, ref.out.gb);
  });

  it('BatchNorm2d and BatchNorm1d: training (grads, running stats) then eval', () => {
    const bn2 = new BatchNorm2d(4, { momentum: 0.2 });
    const bn1 = new BatchNorm1d(3);
    noGrad(() => tidy(() => {
      bn2.weight!.copy_(rand([4]).add(0.5));
      bn2.bias!.copy_(randn([4]));
    }));
    const xa = leaf([5, 4, 3, 3]);
    const xb = keep(randn([5, 4, 3, 3]).mul(2).add(1));
    const xe = keep(randn([2, 4, 3, 3]));
    const x1 = leaf([6, 3]);
    const ga = keep(randn([5, 4, 3, 3]));
    const g1 = keep(randn([6, 3]));
    const ours: Record<string, Tensor> = {};
    const w0 = keep(bn2.weight!.detach().clone());
    const b0 = keep(bn2.bias!.detach().clone());
    const ya = bn2.forward(xa);
    ya.backward(ga);
    ours.ya = keep(ya);
    ours.yb = keep(tidy(() => bn2.forward(xb).detach()));
    bn2.eval();
    ours.ye = keep(tidy(() => bn2.forward(xe).detach()));
    const y1 = bn1.forward(x1);
    y1.backward(g1);
    const ref = runTorch(`
      bn2 = nn.BatchNorm2d(4, momentum=0.2)
      with torch.no_grad():
          bn2.weight.copy_(inp['w0']); bn2.bias.copy_(inp['b0'])
      xa = inp['xa'].clone().requires_grad_()
      ya = bn2(xa); ya.backward(inp['ga'])
      out.update(ya=ya, gxa=xa.grad, gw=bn2.weight.grad, gb=bn2.bias.grad)
      out['yb'] = bn2(inp['xb'])
      bn2.eval()
      out['ye'] = bn2(inp['xe'])
      out.update(rm=bn2.running_mean, rv=bn2.running_var, nbt=bn2.num_batches_tracked)
      bn1 = nn.BatchNorm1d(3)
      x1 = inp['x1'].clone().requires_grad_()
      y1 = bn1(x1); y1.backward(inp['g1'])
      out.update(y1=y1, gx1=x1.grad, rm1=bn1.running_mean, rv1=bn1.running_var)
    `, { w0, b0, xa, xb, xe, ga, x1, g1 });
    expectClose(ours.ya, ref.out.ya);
    expectClose(xa.grad!, ref.out.gxa);
    expectClose(bn2.weight!.grad!, ref.out.gw);
    expectClose(bn2.bias!.grad!, ref.out.gb);
    expectClose(ours.yb, ref.out.yb);
    expectClose(ours.ye, ref.out.ye);
    expectClose(bn2.runningMean!, ref.out.rm);
    expectClose(bn2.runningVar!, ref.out.rv);
    expect(bn2.numBatchesTracked!.item()).toBe(2);
    expect(ref.out.nbt.item()).toBe(2);
    expectClose(y1, ref.out.y1);
    expectClose(x1.grad!, ref.out.gx1);
    expectClose(bn1.runningMean!, ref.out.rm1);
    expectClose(bn1.runningVar!, ref.out.rv1);
  });

  it('BatchNorm2d with momentum null (cumulative average) and without running stats', () => {
    const cum = new BatchNorm2d(3, { momentum: null });
    const free = new BatchNorm2d(3, { trackRunningStats: false, affine: false });
    const xs = [0, 1, 2].map(() => keep(randn([4, 3, 2, 2]).mul(1.5).add(0.3)));
    const xe = keep(randn([2, 3, 2, 2]));
    tidy(() => xs.forEach((x) => cum.forward(x)));
    free.eval();
    const yFree = keep(tidy(() => free.forward(xe)));
    const ref = runTorch(`
      cum = nn.BatchNorm2d(3, momentum=None)
      for i in range(3):
          cum(inp[f'x{i}'])
      free = nn.BatchNorm2d(3, track_running_stats=False, affine=False).eval()
      out.update(rm=cum.running_mean, rv=cum.running_var, y=free(inp['xe']))
    `, { x0: xs[0], x1: xs[1], x2: xs[2], xe });
    expectClose(cum.runningMean!, ref.out.rm);
    expectClose(cum.runningVar!, ref.out.rv);
    expectClose(yFree, ref.out.y);
    expect([...free.stateDict().keys()]).toEqual([]);
  });

  it('cross-entropy with label smoothing, class weights, ignore_index and reductions: value and grads', () => {
    const x = leaf([8, 6]);
    const w = leaf([5, 6]);
    const b = leaf([5]);
    const target = keep(randint(0, 5, [8]));
    tidy(() => target.copy_(target.maskedFill(target.eq(3), 3)));
    const cw = keep(rand([5]).add(0.5));
    const probs = keep(tidy(() => F.softmax(randn([8, 5]), 1)));
    const logits = F.linear(x, w, b);
    const losses = {
      smooth: F.crossEntropy(logits, target, { labelSmoothing: 0.1 }),
      weighted: F.crossEntropy(logits, target, { labelSmoothing: 0.2, weight: cw, ignoreIndex: 3, reduction: 'sum' }),
      none: F.crossEntropy(logits, target, { reduction: 'none', labelSmoothing: 0.05 }),
      soft: F.crossEntropy(logits, probs, { labelSmoothing: 0.1 }),
      nll: F.nllLoss(F.logSoftmax(logits, 1), target, { weight: cw }),
    };
    const total = losses.smooth.add(losses.weighted).add(losses.none.mul(losses.none).sum()).add(losses.soft).add(losses.nll);
    total.backward();
    const ref = runTorch(`
      x = inp['x'].clone().requires_grad_(); w = inp['w'].clone().requires_grad_(); b = inp['b'].clone().requires_grad_()
      t = inp['target']; cw = inp['cw']
      logits = F.linear(x, w, b)
      smooth = F.cross_entropy(logits, t, label_smoothing=0.1)
      weighted = F.cross_entropy(logits, t, label_smoothing=0.2, weight=cw, ignore_index=3, reduction='sum')
      none = F.cross_entropy(logits, t, reduction='none', label_smoothing=0.05)
      soft = F.cross_entropy(logits, inp['probs'], label_smoothing=0.1)
      nll = F.nll_loss(F.log_softmax(logits, 1), t, weight=cw)
      (smooth + weighted + (none * none).sum() + soft + nll).backward()
      out.update(smooth=smooth, weighted=weighted, none=none, soft=soft, nll=nll, gx=x.grad, gw=w.grad, gb=b.grad)
    `, { x, w, b, target, cw, probs });
    for (const [k, v] of Object.entries(losses)) expectClose(v, ref.out[k]);
    expectClose(x.grad!, ref.out.gx);
    expectClose(w.grad!, ref.out.gw);
    expectClose(b.grad!, ref.out.gb);
  });

  it('pools, softmax and mse match', () => {
    const x = keep(randn([2, 3, 7, 6]));
    const ours = {
      max: F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
      maxCeil: F.maxPool2d(x, 2, { ceilMode: true }),
      avg: F.avgPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 0], countIncludePad: false }),
      adaptive: F.adaptiveAvgPool2d(x, [3, 2]),
      logsm: F.logSoftmax(x, 1),
      mse: F.mseLoss(x, x.flip([3])),
    };
    const ref = runTorch(`
      x = inp['x']
      out['max'] = F.max_pool2d(x, 3, stride=2, padding=1)
      out['maxCeil'] = F.max_pool2d(x, 2, ceil_mode=True)
      out['avg'] = F.avg_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 0), count_include_pad=False)
      out['adaptive'] = F.adaptive_avg_pool2d(x, (3, 2))
      out['logsm'] = F.log_softmax(x, 1)
      out['mse'] = F.mse_loss(x, x.flip(3))
    `, { x });
    for (const [k, v] of Object.entries(ours)) expectClose(v, ref.out[k]);
  });
});
