/**
 * checkpoint.keepEpochs: a 3-epoch run keeping epoch 1 writes checkpoint.epoch-1.safetensors,
 * which must equal, tensor by tensor, the rolling checkpoint of an independent run (another CLI
 * process, no keep option) SIGKILLed inside its epoch-2 checkpoint write, when that run's
 * checkpoint.safetensors still held epoch 1. A run killed there too resumes without touching its
 * kept file; a run killed inside the kept write itself leaves no half file and rewrites it on
 * resume; a transfer from epoch 1, no longer among the rolling two, reads the kept file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { setLogger } from '../../src';
import { createRunDir, keptCheckpoints, parseConfig, readFinal, readMetrics, runDirFor, runPaths } from '../../src/experiments';
import { trainFromConfig } from '../../src/experiments/runner';
import { loadSafetensorsHeader, loadSafetensorsWithMetadata } from '../../src/nn/safetensors';
import { tidy } from '../../src/tensor/engine';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';
import { killInWrite, trainArgs } from '../helpers/kill-child';

/** Every tensor of a checkpoint file as float64 values with its dtype and shape, and its position. */
function contents(file: string): { position: unknown; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> } {
  const { tensors, metadata } = loadSafetensorsWithMetadata(file);
  try {
    const out: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
    for (const [k, t] of tensors) {
      out[k] = { dtype: t.dtype, shape: [...t.shape], values: Array.from(tidy(() => t.to('float64').contiguous().toArray()) as ArrayLike<number>) };
    }
    return { position: JSON.parse(metadata!.signin_torch).position, tensors: out };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const temps = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

describe('checkpoints kept at chosen epochs', () => {
  const dir = tmpDir('signin-keep-');
  const data = path.join(dir, 'data');
  writeIdxSet(data, fashionImages(400), false);
  const raw = {
    dataset: { name: 'mnist', root: data, augment: false, maxTrainBatches: 2 },
    model: { name: 'mlp', options: { hidden: [24, 12] } },
    pruning: { method: 'random', sparsity: 0.8 },
    signin: { enabled: true, beta: 1.5 },
    optimizer: { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 },
    epochs: 3,
    batchSize: 32,
    seed: 1,
    threads: 1,
  };
  const keep = parseConfig({ ...raw, checkpoint: { keepEpochs: [1] } });
  const plain = parseConfig(raw);
  const keepFile = path.join(dir, 'keep.json');
  const plainFile = path.join(dir, 'plain.json');
  fs.writeFileSync(keepFile, JSON.stringify(keep));
  fs.writeFileSync(plainFile, JSON.stringify(plain));
  const refRuns = path.join(dir, 'ref');
  const keptRuns = path.join(dir, 'kept');
  const midRuns = path.join(dir, 'mid');
  let reference: ReturnType<typeof contents>;

  beforeAll(async () => {
    setLogger(pino({ level: 'silent' }));
    await Promise.all([
      killInWrite(trainArgs(plainFile, refRuns), 'checkpoint.safetensors:2'),
      killInWrite(trainArgs(keepFile, keptRuns), 'checkpoint.safetensors:2'),
    ]);
    await killInWrite(trainArgs(keepFile, midRuns), 'checkpoint.epoch-1.safetensors:1');
    reference = contents(runPaths(runDirFor(refRuns, plain)).checkpoint);
  }, 600_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the option is not part of the run directory (it changes what is kept, not what is trained)', () => {
    expect(runDirFor(keptRuns, keep)).toBe(runDirFor(keptRuns, plain));
  });

  test("the kept epoch-1 checkpoint equals an independent run's rolling checkpoint after epoch 1, and survives resume unchanged", async () => {
    expect(reference.position).toEqual({ epoch: 1, step: 2 });
    const run = runDirFor(keptRuns, keep);
    const kept = path.join(run, 'checkpoint.epoch-1.safetensors');
    expect(contents(kept)).toEqual(reference);
    const before = { sha: sha(kept), mtime: fs.statSync(kept).mtimeMs };

    const r = await trainFromConfig(keep, run);
    expect(r.resumedFrom).toBe(1);
    expect(readFinal(run)?.epoch).toBe(3);
    expect({ sha: sha(kept), mtime: fs.statSync(kept).mtimeMs }).toEqual(before);
    expect(keptCheckpoints(run).map((k) => k.epoch)).toEqual([1]);
    expect(temps(run)).toEqual([]);
    expect(readMetrics(run).map((m) => m.epoch)).toEqual([1, 2, 3]);
  });

  test('killed inside the kept write: no half file stays, and the resumed run writes the same checkpoint', async () => {
    const run = runDirFor(midRuns, keep);
    expect(keptCheckpoints(run)).toEqual([]);
    expect(temps(run)).toHaveLength(1);
    expect(fs.existsSync(runPaths(run).checkpoint)).toBe(false);
    const r = await trainFromConfig(keep, run);
    expect(r.resumedFrom).toBe(0);
    expect(temps(run)).toEqual([]);
    expect(contents(path.join(run, 'checkpoint.epoch-1.safetensors'))).toEqual(reference);
  });

  test('keepEvery keeps every multiple; keepEpochs past the last epoch is refused', async () => {
    const every = parseConfig({ ...raw, epochs: 2, checkpoint: { keepEvery: 2 } });
    const { dir: run } = createRunDir(path.join(dir, 'every'), every);
    await trainFromConfig(every, run);
    expect(keptCheckpoints(run).map((k) => k.epoch)).toEqual([2]);
    expect(contents(keptCheckpoints(run)[0].file)).toEqual(contents(runPaths(run).checkpoint));
    expect(() => parseConfig({ ...raw, checkpoint: { keepEpochs: [2, 4] } })).toThrow(/checkpoint\.keepEpochs: Expected epochs <= epochs \(3\) but received 4/);
    expect(() => parseConfig({ ...raw, checkpoint: { keepEpochs: [2, 1] } })).toThrow(/checkpoint\.keepEpochs: Expected strictly increasing epochs/);
  });

  test("a transfer from epoch 1 (not among the finished source's rolling two) reads the kept checkpoint; an epoch not held lists those held", async () => {
    const source = runDirFor(keptRuns, keep);
    expect(readFinal(source)?.epoch).toBe(3);
    const target = (epoch: number) => parseConfig({ ...raw, pruning: { method: 'none' }, epochs: 1, seed: 7, transfer: { from: source, epoch, kind: 'signs' } });
    const { dir: run } = createRunDir(path.join(dir, 'targets'), target(1));
    await trainFromConfig(target(1), run);
    const kept = path.join(source, 'checkpoint.epoch-1.safetensors');
    const record = JSON.parse(fs.readFileSync(runPaths(run).transfer, 'utf8'));
    expect(record).toMatchObject({
      checkpoint: 'checkpoint.epoch-1.safetensors', epoch: 1, step: 2, sha256: loadSafetensorsHeader(kept).metadata.signin_torch_sha256, sourceSparsity: 0.8,
    });
    // The run records its own sparsity: the source mask's, counted here from the kept file's masks.
    const masks = Object.entries(contents(kept).tensors).filter(([k]) => k.endsWith('.weight_mask')).flatMap(([, t]) => t.values);
    const removed = masks.filter((v) => v === 0).length / masks.length;
    const row = readMetrics(run)[0].sparsity as { overall: { sparsity: number } };
    expect(row.overall.sparsity).toBeCloseTo(removed, 12);

    const { dir: refused } = createRunDir(path.join(dir, 'refused'), target(2));
    fs.rmSync(path.join(source, 'checkpoint.prev.safetensors'));
    const e = await trainFromConfig(target(2), refused).then(() => undefined, (err: unknown) => err as { code?: string; issues?: { path: string; message: string }[] });
    expect(e?.code).toBe('ERR_CONFIG');
    expect(e?.issues).toEqual([{ code: 'missing_epoch', path: 'transfer.epoch', message: expect.stringContaining('epochs 1, 3, but received 2') }]);
  });
});
