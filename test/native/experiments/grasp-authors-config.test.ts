/**
 * GraSP's authors' setting from a config (pruning.mode 'train', dataBatches 2, temperature): a
 * run of that config keeps the weights that the authors' GraSP.py keeps (reference-pruners.py's
 * grasp_original, PyTorch 1.13: train mode, the batch in two halves, logits / T) on the same
 * initial weights and the same examples. Both sides are CIFAR ResNet-8s with projection
 * shortcuts in float32, the precision of every config run: scored in float64, the reference
 * swapped 13 of the 7,800 kept weights at the threshold (float32 rounding of the double backward);
 * pruneModel against the float64 reference is reference-procedures.test.ts. The run is asked for
 * the reference's kept count: the authors' threshold keeps one weight more than int(s N) removes
 * (docs/pruning-fidelity.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, trainFromConfig, runDirFor, createRunDir, type ExperimentConfigInput } from '../../../src/experiments';
import { pruneBatch } from '../../../src/experiments/prune-data';
import { modelOptionsFor } from '../../../src/experiments/resolve';
import { createModel } from '../../../src/models';
import { pytorchStateDict } from '../../../src/models/pytorch';
import { loadSafetensors } from '../../../src/nn/safetensors';
import { prunableWeights } from '../../../src/pruning';
import { manualSeed } from '../../../src/tensor/runtime';
import type { Tensor } from '../../../src/tensor/tensor';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';
import { captureLogs } from '../pruning/fixtures';

const REFERENCE = fs.readFileSync(path.join(__dirname, '..', 'pruning', 'reference-pruners.py'), 'utf8');
const dir = tmpDir('signin-grasp-config-');
const data = path.join(dir, 'data');
writeIdxSet(data, fashionImages(256), false);
const REMOVED = 0.9;
const T = 100;

function input(pruning: Record<string, unknown>): ExperimentConfigInput {
  return {
    dataset: { name: 'mnist', root: data, augment: false, maxTrainBatches: 1 },
    model: { name: 'cifar_resnet', options: { depth: 8, shortcut: 'B' } },
    pruning: { method: 'grasp', sparsity: REMOVED, dataSamples: 32, ...pruning },
    optimizer: { lr: 0.01 },
    epochs: 1,
    batchSize: 16,
    seed: 7,
    threads: 1,
  } as ExperimentConfigInput;
}

type Masks = Map<string, number[]>;

/** The masks in a finished run's checkpoint, by parameter name. */
async function runMasks(pruning: Record<string, unknown>): Promise<Masks> {
  const config = parseConfig(input(pruning));
  const runsDir = path.join(dir, 'runs');
  await trainFromConfig(config, createRunDir(runsDir, config).dir);
  const saved = loadSafetensors(path.join(runDirFor(runsDir, config), 'checkpoint.safetensors'));
  try {
    return new Map([...saved].filter(([k]) => k.endsWith('.weight_mask')).map(([k, t]) => [k.slice('model.'.length, -'_mask'.length), t.toArray()]));
  } finally {
    for (const t of saved.values()) t.dispose();
  }
}

const kept = (m: Masks) => [...m.values()].reduce((s, v) => s + v.filter((x) => x === 1).length, 0);
const differing = (a: Masks, b: Masks) => Object.fromEntries([...a].map(([n, m]) => [n, m.filter((v, i) => v !== b.get(n)![i]).length]));
const none = (m: Masks) => Object.fromEntries([...m.keys()].map((n) => [n, 0]));

describeWithTorch("a config with GraSP's authors' setting", () => {
  let reference: Masks;
  let total = 0;

  beforeAll(async () => {
    captureLogs();
    // The initial weights and the examples as the runner makes them: seeded, then built from the config.
    const config = parseConfig(input({}));
    manualSeed(config.seed);
    const model = createModel(config.model.name, modelOptionsFor(config));
    total = prunableWeights(model).reduce((s, w) => s + w.weight.numel, 0);
    const [x, y] = await pruneBatch(config);
    const inputs: Record<string, Tensor> = { x, y };
    for (const [k, t] of pytorchStateDict(model)) inputs[`sd.${k}`] = t;
    const r = runTorch(`${REFERENCE}
sd = {k[3:]: v.double() for k, v in inp.items() if k.startswith('sd.')}  # build() wants float64; .float() below
masks = grasp_original(build(sd, 8, 1, 10).float(), inp['x'].float(), inp['y'], ${REMOVED}, T=${T}.0)
for name, mask in masks.items():
    out[name] = mask
`, inputs);
    reference = new Map(Object.entries(r.out).map(([k, t]) => [k, t.toArray()]));
    model.dispose();
    x.dispose();
    y.dispose();
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("mode 'train', dataBatches 2 and the temperature give the authors' masks", async () => {
    const k = kept(reference);
    expect(k).toBe(total - Math.floor(REMOVED * total) + 1);
    const ours = await runMasks({ sparsity: 1 - k / total, mode: 'train', dataBatches: 2, temperature: T });
    expect(kept(ours)).toBe(k);
    expect(differing(ours, reference)).toEqual(none(reference));
  }, 120_000);

  test('without them (eval mode, one batch, T = 200) the masks are another set: the fields are not ignored', async () => {
    const k = kept(reference);
    const ours = await runMasks({ sparsity: 1 - k / total });
    const off = Object.values(differing(ours, reference)).reduce((s, v) => s + v, 0);
    expect(off).toBeGreaterThan(0.1 * k);
  }, 120_000);
});
