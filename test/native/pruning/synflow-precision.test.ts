/**
 * SynFlow on a deep ResNet (CIFAR ResNet-56; 8x8 inputs keep it cheap, depth is what overflows):
 * with |θ| and an all-ones input, R = Σ f(1) is about 1e61 at init, beyond float32's 3.4e38. A
 * PyTorch reference of Synaptic-Flow's algorithm written here (every floating state-dict value
 * made absolute, eval-mode BatchNorm, R = Σ f(1), score |θ ⊙ ∂R/∂θ|), run on the same weights,
 * shows the float32 overflow independently and gives the float64 scores ours must equal. Then
 * 25 rounds to 99% sparsity in float64 (the default) leave no layer empty, while float32
 * scoring is refused with an error naming the option.
 */
import pino from 'pino';
import {
  ToolkitError, createModel, getPruner, manualSeed, prunableWeights, pruneModel, setLogger, type Module, type ScoreContext, type Tensor,
} from '../../../src';
import { describeWithTorch, maxViolation, runTorch } from '../../helpers/torch-ref';

const SYNFLOW_REF = `
import copy
dt = torch.float64
sd = {k[3:]: v for k, v in inp.items() if k.startswith('sd.')}
depth, size = 56, 8
n = (depth - 2) // 6

def forward(P, x):
    def bn(y, name):
        return F.batch_norm(y, P[name + '.running_mean'], P[name + '.running_var'], P[name + '.weight'], P[name + '.bias'], False, 0.0, 1e-5)
    y = F.relu(bn(F.conv2d(x, P['conv1.weight'], padding=1), 'bn1'))
    for s in range(3):
        for b in range(n):
            pre = 'layer%d.%d' % (s + 1, b)
            stride = 2 if s > 0 and b == 0 else 1
            o = F.relu(bn(F.conv2d(y, P[pre + '.conv1.weight'], stride=stride, padding=1), pre + '.bn1'))
            o = bn(F.conv2d(o, P[pre + '.conv2.weight'], padding=1), pre + '.bn2')
            sc = y
            if (pre + '.downsample.0.weight') in P:
                sc = bn(F.conv2d(y, P[pre + '.downsample.0.weight'], stride=stride), pre + '.downsample.1')
            y = F.relu(o + sc)
    return F.linear(y.mean((2, 3)), P['fc.weight'], P['fc.bias'])

def linearized(dtype):
    P = {k: (v.to(dtype).abs() if v.is_floating_point() else v) for k, v in sd.items() if not k.endswith('_mask') and 'num_batches' not in k}
    for k in P:
        if k.endswith('weight') and ('bn' not in k) and ('downsample.1' not in k):
            P[k].requires_grad_()
    return P

for dtype, tag in [(torch.float32, 'f32'), (torch.float64, 'f64')]:
    P = linearized(dtype)
    R = forward(P, torch.ones(1, 3, size, size, dtype=dtype)).sum()
    js['R_' + tag] = R.item() if math.isfinite(R.item()) else str(R.item())
    if tag == 'f64':
        names = [k for k in P if P[k].requires_grad]
        g = torch.autograd.grad(R, [P[k] for k in names])
        for k, gi in zip(names, g):
            out[k] = (gi * P[k]).detach().abs()
`;

describeWithTorch('SynFlow precision on CIFAR ResNet-56', () => {
  const logs: string[] = [];
  beforeAll(() => { setLogger(pino({ level: 'info' }, { write: (line: string) => { logs.push(line); } })); });

  function resnet56(): Module {
    manualSeed(0);
    return createModel('cifar_resnet_56', { inputSize: 8 });
  }

  function ctxFor(model: Module): ScoreContext {
    return {
      weights: prunableWeights(model), batches: [], loss: () => { throw new Error('unused'); }, inputShape: [3, 8, 8],
      round: 1, rounds: 1, logger: pino({ level: 'silent' }),
    };
  }

  test('float32 overflows (in PyTorch too); float64 scores equal the PyTorch reference', () => {
    const model = resnet56();
    model.eval();
    const inputs: Record<string, Tensor> = {};
    for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = t;
    const ref = runTorch(SYNFLOW_REF, inputs);
    expect(ref.js.R_f32).toBe('inf');
    expect(ref.js.R_f64 as number).toBeGreaterThan(3.4e38);
    expect(Number.isFinite(ref.js.R_f64 as number)).toBe(true);

    const scores = getPruner('synflow').score(model, ctxFor(model));
    expect(scores.size).toBe(prunableWeights(model).length);
    for (const [name, s] of scores) {
      expect(s.dtype).toBe('float64');
      expect({ name, v: maxViolation(s, ref.out[name], 1e-9, 0) <= 1 }).toEqual({ name, v: true });
    }
    for (const t of model.parameters()) expect(t.dtype).toBe('float32');

    expect(() => getPruner('synflow', { dtype: 'float32' }).score(model, ctxFor(model)))
      .toThrow(/^SynFlow scores overflowed float32 in round 1 of 1 .*pruning\.synflowDtype/);
    model.dispose();
  });

  test('25 rounds to 99% in float64 (default): exact count, no layer collapses; float32 is refused', async () => {
    const model = resnet56();
    const r = await pruneModel(model, { method: 'synflow', sparsity: 0.99, iterations: 25 });
    expect(r.schedule).toHaveLength(25);
    expect(r.kept).toBe(Math.round(0.01 * r.total));
    expect(r.emptyLayers).toEqual([]);
    expect(Math.min(...r.layers.map((l) => l.kept))).toBeGreaterThan(0);
    // Progress lines through the logger: every tenth of the rounds.
    const progress = logs.map((l) => JSON.parse(l) as { msg: string; round: number; rounds: number }).filter((l) => l.msg.startsWith('pruning: '));
    // The first round at or past each tenth of 25: ⌈2.5k⌉.
    expect(progress.map((l) => l.round)).toEqual([3, 5, 8, 10, 13, 15, 18, 20, 23, 25]);
    expect(progress.every((l) => l.rounds === 25 && l.msg === `pruning: ${l.round}/25 rounds`)).toBe(true);
    model.dispose();

    const other = resnet56();
    const err = await pruneModel(other, { method: 'synflow', sparsity: 0.99, prunerOptions: { dtype: 'float32' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolkitError);
    expect((err as ToolkitError).code).toBe('ERR_INVALID_ARG');
    other.dispose();
  });
});
