/**
 * config.hessian through trainFromConfig: the last metrics row carries the top Hessian eigenvalue
 * of the training loss at the final weights, on the config's seeded un-augmented examples. The
 * reference is PyTorch (float64): the full Hessian over the kept θ entries and the biases of the
 * checkpointed Sign-In MLP (θ = mask ⊙ m ⊙ w), its eigenvalue of largest magnitude by eigvalsh.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { createRunDir, parseConfig, readMetrics, runPaths } from '../../../src/experiments';
import { saveSafetensors, setLogger } from '../../../src';
import { pruneBatch } from '../../../src/experiments/prune-data';
import { trainFromConfig } from '../../../src/experiments/runner';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { describeWithTorch } from '../../helpers/torch-ref';
import { runPython } from '../../helpers/torchvision';

describeWithTorch('config.hessian: top eigenvalue at the final weights in the last metrics row', () => {
  const dir = tmpDir('hessian-run-');
  writeIdxSet(path.join(dir, 'data'), fashionImages(256), false);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => setLogger(pino({ level: 'silent' })));

  const config = parseConfig({
    dataset: { name: 'mnist', root: path.join(dir, 'data'), augment: false },
    model: { name: 'mlp', options: { hidden: [6] } },
    pruning: { method: 'random', sparsity: 0.9 },
    signin: { enabled: true },
    optimizer: { lr: 0.05 },
    epochs: 2,
    batchSize: 32,
    threads: 1,
    hessian: { samples: 48, batchSize: 16, maxIterations: 1000, tol: 1e-6 },
  });

  test('equals PyTorch eigvalsh of the full Hessian on the kept coordinates', async () => {
    const { dir: runDir } = createRunDir(path.join(dir, 'runs'), config);
    await trainFromConfig(config, runDir);
    const rows = readMetrics(runDir);
    expect(rows[0].topHessianEigenvalue).toBeUndefined();
    const ours = rows[1].topHessianEigenvalue!;
    expect(typeof ours).toBe('number');

    const [x, y] = await pruneBatch(config, 48);
    const io = path.join(dir, 'io.safetensors');
    saveSafetensors(io, new Map([['x', x], ['y', y]]));
    x.dispose();
    y.dispose();
    const ref = JSON.parse(runPython(`
import sys
import torch.nn.functional as F
_NP.update({'I8': np.int8, 'BOOL': np.bool_})
t = load(sys.argv[1])
io = load(sys.argv[2])
X = io['x'].double().flatten(1)
Y = io['y'].long()
layers = ['fc1', 'fc2']
theta = {l: (t[f'model.{l}.weight_mask'].double() * t[f'model.{l}.weight_m'].double() * t[f'model.{l}.weight_w'].double()) for l in layers}
kept = {l: t[f'model.{l}.weight_mask'] != 0 for l in layers}
bias = {l: t[f'model.{l}.bias'].double() for l in layers}
sizes = [int(kept[l].sum()) for l in layers] + [bias[l].numel() for l in layers]
v0 = torch.cat([theta[l][kept[l]] for l in layers] + [bias[l] for l in layers])
def loss(v):
    parts = list(torch.split(v, sizes))
    out = X
    for i, l in enumerate(layers):
        w = torch.zeros_like(theta[l]).masked_scatter(kept[l], parts[i])
        out = F.linear(out, w, parts[len(layers) + i])
        if i + 1 < len(layers):
            out = F.relu(out)
    return F.cross_entropy(out, Y)
H = torch.autograd.functional.hessian(loss, v0)
ev = torch.linalg.eigvalsh(H)
print(json.dumps({'top': float(ev[ev.abs().argmax()]), 'n': v0.numel()}))
`, [runPaths(runDir).checkpoint, io]).trim()) as { top: number; n: number };
    expect(ref.n).toBeGreaterThan(50);
    expect(Math.abs(ours - ref.top)).toBeLessThan(2e-3 * Math.abs(ref.top));
  });
});
