/**
 * An IMP + Sign-In run of the CLI killed with SIGKILL resumes and ends bit-identical to an
 * uninterrupted run: killed once inside the checkpoint write after a level's end (so it resumes
 * from the level's last checkpoint, written before the prune, and must prune at its start), then
 * again in the middle of the next level (resumes with the level, the rewind snapshot and the mask
 * from the checkpoint). The harness is test/helpers/kill-child.ts: CLI child processes,
 * SIGNIN_TORCH_PAUSE_WRITE to stop a writer inside a given checkpoint write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, readMetrics, runDirFor, runPaths } from '../../src/experiments';
import { untimedRows } from '../helpers/checkpoint-diff';
import { loadSafetensors } from '../../src/nn/safetensors';
import { fashionImages, tmpDir, writeIdxSet } from '../helpers/data-fixtures';
import { killInWrite, trainArgs, trainToEnd } from '../helpers/kill-child';

describe('IMP + Sign-In resumes after SIGKILL', () => {
  const dir = tmpDir('signin-imp-resume-');
  const data = path.join(dir, 'data');
  writeIdxSet(data, fashionImages(1280), false);
  // 3 levels of 2 epochs: dense, 50%, 75%; rewind to iteration 5 of level 0.
  const config = parseConfig({
    dataset: { name: 'mnist', root: data, augment: false },
    model: { name: 'lenet5', options: { batchNorm: true } },
    sparsify: { method: 'imp', sparsity: 0.75, levels: 3, rewindIteration: 5 },
    signin: { enabled: true, resetPeriod: 7, resetUnit: 'steps' },
    optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 },
    schedule: { name: 'cosine' },
    epochs: 6,
    batchSize: 64,
    seed: 3,
    threads: 1,
  });
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const straight = path.join(dir, 'straight');
  beforeAll(() => trainToEnd(configFile, straight), 300_000);

  it('trains the levels: sparsity 0, 50%, 75% and the LR schedule restarting each level', () => {
    const rows = readMetrics(runDirFor(straight, config));
    expect(rows.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const sparsity = rows.map((r) => (r.sparsity as { overall: { sparsity: number } }).overall.sparsity);
    expect(sparsity.map((s) => Math.round(s * 1000) / 1000)).toEqual([0, 0, 0.5, 0.5, 0.75, 0.75]);
    // lr of each epoch's last step (n steps an epoch): cosine over a 2-epoch level, read at (n − 1)/n and 1 + (n − 1)/n of it.
    const n = rows[0].step;
    const lr = (t: number) => 0.025 * (1 + Math.cos((Math.PI * t) / 2));
    rows.forEach((r, i) => expect(r.lr).toBeCloseTo(lr((i % 2) + (n - 1) / n), 12));
  });

  it('killed after a level end and again mid-level: bit-identical weights, optimizer, snapshot and metrics', async () => {
    const killed = path.join(dir, 'killed');
    const runDir = runDirFor(killed, config);
    const p = runPaths(runDir);
    // 1. Inside the third checkpoint write: epoch 2 (level 0's end, before the prune) is the newest checkpoint.
    await killInWrite(trainArgs(configFile, killed), 'checkpoint.safetensors:3');
    expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 2, 3]);
    // 2. Resumed from epoch 2, it prunes at its start; killed inside its second write, epoch 3 (mid level 1) is the newest.
    await killInWrite(trainArgs(configFile, killed), 'checkpoint.safetensors:2');
    expect(readMetrics(runDir).map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
    expect(fs.existsSync(p.final)).toBe(false);
    trainToEnd(configFile, killed);

    const a = loadSafetensors(runPaths(runDirFor(straight, config)).checkpoint);
    const b = loadSafetensors(p.checkpoint);
    const keys = [...a.keys()].filter((k) => k.startsWith('model.') || k.startsWith('optim.') || k.startsWith('cb.imp.'));
    expect(keys.some((k) => k.startsWith('cb.imp.') && k.endsWith('weight_m'))).toBe(true);
    expect(keys.some((k) => k.endsWith('weight_mask'))).toBe(true);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const k of keys) {
      const x = a.get(k)!.data();
      const y = b.get(k)!.data();
      expect({ k, equal: Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0 }).toEqual({ k, equal: true });
    }
    for (const t of [...a.values(), ...b.values()]) t.dispose();
    expect(untimedRows(runDir)).toEqual(untimedRows(runDirFor(straight, config)));
  }, 600_000);
});
