/**
 * Score parity with PyTorch: SNIP, GraSP and SynFlow scores of the toy conv net (conv-BN-ReLU ×2,
 * linear) against references written here from the papers' definitions, in PyTorch (Debian's
 * torch 1.13 on the same libtorch), on the same weights and batch, float32 tolerance.
 *
 * - SNIP (Lee et al. 2019): |θ ⊙ ∂L/∂θ|.
 * - GraSP (Wang et al. 2020): S(−θ) = −θ ⊙ Hg, Hg by double backward, logits / T with T = 200;
 *   the paper removes the weights with the HIGHEST S, so our importance (higher kept) is −S.
 * - SynFlow (Tanaka et al. 2020): |θ| everywhere, R = Σ f(1), score |θ ⊙ ∂R/∂θ|.
 * Both an unpruned net and one already pruned to 50% (GraSP's z is restricted to kept weights).
 */
import pino from 'pino';
import {
  F, Tensor, getPruner, maskedLayers, prunableWeights, pruneModel, tidy, type Pruner, type ScoreContext,
} from '../../../src';
import { describeWithTorch, expectClose, runTorch } from '../../helpers/torch-ref';
import { TOY_MODEL_PYTHON, createToyModel } from '../../helpers/toy-model';
import { SYNFLOW_ABS_COPY, batchFor, captureLogs, seeded } from './fixtures';

const NAMES = ['conv1.weight', 'conv2.weight', 'fc.weight'];

const REFERENCE = `
import copy
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=1, width=4, num_classes=10)
model.load_state_dict({k[3:]: v for k, v in inp.items() if k.startswith('sd.')})
model.eval()
x, y = inp['x'].float(), inp['y'].long()
names = ['conv1.weight', 'conv2.weight', 'fc.weight']
ws = [model.conv1.weight, model.conv2.weight, model.fc.weight]
ms = [model.conv1.weight_mask, model.conv2.weight_mask, model.fc.weight_mask]

# SNIP: |theta * dL/dtheta|
g = torch.autograd.grad(F.cross_entropy(model(x), y), ws)
for n, w, gi in zip(names, ws, g):
    out['snip.' + n] = (w * gi).abs()

# GraSP: S(-theta) = -theta * Hg with g restricted to the kept weights, logits / T
T = 200.0
g = torch.autograd.grad(F.cross_entropy(model(x) / T, y), ws)
z = [(gi * mi).detach() for gi, mi in zip(g, ms)]
g = torch.autograd.grad(F.cross_entropy(model(x) / T, y), ws, create_graph=True)
hg = torch.autograd.grad(sum((gi * zi).sum() for gi, zi in zip(g, z)), ws)
for n, w, h in zip(names, ws, hg):
    out['grasp_S.' + n] = -w.detach() * h

# SynFlow: absolute values of every parameter and buffer, all-ones input, R = sum of the output
${SYNFLOW_ABS_COPY}
R = lin(torch.ones(1, 1, 8, 8)).sum()
g = torch.autograd.grad(R, lws)
for n, w, gi in zip(names, lws, g):
    out['synflow.' + n] = (w * gi).abs()
js['R'] = R.item()
`;

function ours(model: ReturnType<typeof createToyModel>, pruner: Pruner, batch: { input: Tensor; target: Tensor }): Map<string, Tensor> {
  const ctx: ScoreContext = {
    weights: prunableWeights(model),
    batches: [batch],
    loss: (o, t) => F.crossEntropy(o, t),
    inputShape: [1, 8, 8],
    round: 1,
    rounds: 1,
    logger: pino({ level: 'silent' }),
  };
  model.eval();
  return pruner.score(model, ctx);
}

function reference(model: ReturnType<typeof createToyModel>, batch: { input: Tensor; target: Tensor }): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = { x: batch.input, y: batch.target };
  for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = t;
  return runTorch(REFERENCE, inputs).out;
}

/** |a − b| <= 1e-4·|b| + 1e-5·max|b| elementwise (float32 against float32, scale-aware). */
function expectScoresClose(a: Tensor, b: Tensor): void {
  const scale = tidy(() => b.abs().max().item());
  expect(scale).toBeGreaterThan(0);
  expectClose(a.to('float64'), b, 1e-4, 1e-5 * scale);
}

beforeAll(() => { captureLogs(); });

describeWithTorch.each([
  ['an unpruned net', false],
  ['a net already pruned to 50%', true],
])('score parity with PyTorch on %s', (_label, prePrune) => {
  const batch = batchFor([1, 8, 8], 8, 5);
  const model = seeded(() => createToyModel(), 11);
  let ref: Record<string, Tensor> = {};
  beforeAll(async () => {
    if (prePrune) await pruneModel(model, { method: 'random', sparsity: 0.5, seed: 2 });
    ref = reference(model, batch);
  });

  test('SNIP = |θ ⊙ ∂L/∂θ|', () => {
    const s = ours(model, getPruner('snip'), batch);
    for (const n of NAMES) expectScoresClose(s.get(n)!, ref[`snip.${n}`]);
  });

  test('GraSP importance = −S(−θ) = θ ⊙ Hg (the paper removes the highest S)', () => {
    const s = ours(model, getPruner('grasp'), batch);
    for (const n of NAMES) expectScoresClose(s.get(n)!, tidy(() => ref[`grasp_S.${n}`].neg()));
  });

  test('SynFlow = |θ ⊙ ∂R/∂θ| with |θ| and an all-ones input', () => {
    const s = ours(model, getPruner('synflow'), batch);
    for (const n of NAMES) expectScoresClose(s.get(n)!, ref[`synflow.${n}`]);
  });

  test('the scoring passes leave the model unchanged (abs trick undone, BN statistics untouched)', () => {
    const before = new Map([...model.stateDict()].map(([k, t]) => [k, tidy(() => t.clone())]));
    for (const m of ['snip', 'grasp', 'synflow']) ours(model, getPruner(m), batch);
    for (const [k, t] of model.stateDict()) expect(tidy(() => t.eq(before.get(k)!).all().item())).toBe(1);
  });

  test('GraSP masks keep the lowest S: every kept weight has S below every removed one', async () => {
    const m = seeded(() => createToyModel(), 11);
    if (prePrune) await pruneModel(m, { method: 'random', sparsity: 0.5, seed: 2 });
    await pruneModel(m, { method: 'grasp', sparsity: 0.8, data: batch });
    const S = NAMES.flatMap((n) => ref[`grasp_S.${n}`].toArray());
    const kept = maskedLayers(m).flatMap(([, l]) => l.mask.toArray());
    const eligible = maskedLayers(model).flatMap(([, l]) => l.mask.toArray());
    const scale = Math.max(...S.map(Math.abs));
    const maxKept = Math.max(...S.filter((_, i) => kept[i] === 1));
    const minRemoved = Math.min(...S.filter((_, i) => kept[i] === 0 && eligible[i] === 1));
    expect(maxKept).toBeLessThanOrEqual(minRemoved + 1e-4 * scale);
  });
});
