/**
 * pruneModel on a researcher's own model, where it used to go wrong: a frozen layer (autograd
 * refused to score it, or SynFlow's Module.to unfroze it), NaN data (NaN scores, ranked last,
 * kept each layer's first weights in index order), and a huge `iterations` (a schedule array of
 * 2^30 densities exhausted V8's heap: an abort). Masks are checked against PyTorch's scores.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { maskedLayers, pruneModel, tidy, type Tensor } from '../../../src';
import { errorOf } from '../../helpers/error-of';
import { TOY_MODEL_PYTHON, createToyModel } from '../../helpers/toy-model';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';
import { SYNFLOW_ABS_COPY, batchFor, captureLogs, seeded } from './fixtures';

const REFERENCE = `
import copy
${TOY_MODEL_PYTHON}
model = ToyNet(in_channels=1, width=4, num_classes=10)
model.load_state_dict({k[3:]: v for k, v in inp.items() if k.startswith('sd.')})
model.eval()
ws = [model.conv1.weight, model.conv2.weight, model.fc.weight]
g = torch.autograd.grad(F.cross_entropy(model(inp['x'].float()), inp['y'].long()), ws)
snip = torch.cat([(w * gi).abs().flatten() for w, gi in zip(ws, g)])
${SYNFLOW_ABS_COPY}
g = torch.autograd.grad(lin(torch.ones(1, 1, 8, 8)).sum(), lws)
synflow = torch.cat([(w * gi).abs().flatten() for w, gi in zip(lws, g)])
for name, s in (('snip', snip), ('synflow', synflow)):
    keep = torch.zeros_like(s)
    keep[s.topk(s.numel() // 2).indices] = 1
    out[name] = keep
`;

function masks(model: ReturnType<typeof createToyModel>): number[] {
  return maskedLayers(model).flatMap(([, l]) => l.mask.toArray());
}

beforeAll(() => { captureLogs(); });

describeWithTorch('a frozen layer', () => {
  const batch = batchFor([1, 8, 8], 8, 5);

  it.each(['snip', 'synflow'] as const)('%s scores it as PyTorch scores it, and it stays frozen', async (method) => {
    const model = seeded(() => createToyModel(), 11);
    const inputs: Record<string, Tensor> = { x: batch.input, y: batch.target };
    for (const [k, t] of model.stateDict()) inputs[`sd.${k}`] = t;
    const expected = runTorch(REFERENCE, inputs).out[method].toArray();
    model.conv2.weight.requiresGrad_(false);
    await pruneModel(model, { method, sparsity: 0.5, data: batch, iterations: 1 });
    expect(masks(model)).toEqual(expected);
    expect([model.conv1, model.conv2, model.fc].map((l) => l.weight.requiresGrad)).toEqual([true, false, true]);
    model.dispose();
  });
});

describe('NaN', () => {
  it('scores are refused, naming the pruner and the layer, and no mask is written', async () => {
    const model = seeded(() => createToyModel(), 11);
    const x = tidy(() => batchFor([1, 8, 8], 8, 5).input.mul(Number.NaN));
    const batch = batchFor([1, 8, 8], 8, 5);
    const e = await pruneModel(model, { method: 'snip', sparsity: 0.5, data: { input: x, target: batch.target } }).catch((err) => err);
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toContain("snip scores['conv1.weight']");
    expect(e.message).toContain('NaN');
    expect(masks(model).every((v) => v === 1)).toBe(true);
    model.dispose();
  });
});

describe('iterations', () => {
  it('beyond 2^24 rounds is refused, naming the option, instead of exhausting the heap', () => {
    const script = `
      const { Sequential, MaskedLinear, pruneModel, scheduleDensities } = require(${JSON.stringify(path.join(__dirname, '..', '..', '..', 'src'))});
      const codes = [];
      try { scheduleDensities(0.5, 2 ** 30); } catch (e) { codes.push(e.code + ' ' + e.message); }
      pruneModel(new Sequential(new MaskedLinear(4, 4)), { method: 'magnitude', sparsity: 0.5, iterations: 2 ** 30 })
        .catch((e) => codes.push(e.code + ' ' + e.message))
        .then(() => console.log(JSON.stringify(codes)));
    `;
    // A small heap: without the bound the child aborts instead of this process.
    const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--require', require.resolve('tsx/cjs'), '-e', script], {
      encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status).toBe(0);
    const codes = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
    expect(codes).toHaveLength(2);
    for (const c of codes) expect(c).toMatch(/^ERR_INVALID_ARG .*for iterations/);
  });

  it('a valid count still prunes', async () => {
    const model = seeded(() => createToyModel(), 11);
    const r = await pruneModel(model, { method: 'magnitude', sparsity: 0.5, iterations: 3 });
    expect(r.schedule).toHaveLength(3);
    expect(r.kept).toBe(Math.round(r.total / 2));
    model.dispose();
  });
});

describe('targets for the default loss', () => {
  it('float or one-hot targets are refused naming the batch (libtorch failed inside cross-entropy), and no mask is written', async () => {
    const model = seeded(() => createToyModel(), 11);
    const batch = batchFor([1, 8, 8], 8, 5);
    const floats = batch.target.to('float32');
    const single = await pruneModel(model, { method: 'snip', sparsity: 0.5, data: { input: batch.input, target: floats } }).catch((err) => err);
    expect(single.code).toBe('ERR_INVALID_ARG');
    expect(single.message).toBe('Expected int64 class indices of shape [8] for the default cross-entropy loss (or pass loss) for data.target but received a Tensor of dtype float32 and shape [8] on cpu');
    const listed = await pruneModel(model, { method: 'grasp', sparsity: 0.5, data: [batch, [batch.input, batch.target.reshape([8, 1])]] }).catch((err) => err);
    expect(listed.message).toContain('for data[1].target but received a Tensor of dtype int64 and shape [8, 1] on cpu');
    expect(masks(model).every((v) => v === 1)).toBe(true);
    model.dispose();
  });

  it('with its own loss, any target the loss takes is accepted', async () => {
    const model = seeded(() => createToyModel(), 11);
    const batch = batchFor([1, 8, 8], 8, 5);
    const r = await pruneModel(model, {
      method: 'snip', sparsity: 0.5, data: { input: batch.input, target: batch.target.to('float32') },
      loss: (out, target) => out.sum(1).sub(target).pow(2).mean(),
    });
    expect(r.kept).toBe(Math.round(r.total / 2));
    model.dispose();
  });
});
