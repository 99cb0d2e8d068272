/**
 * A run killed with SIGKILL in the middle of an epoch resumes from its last checkpoint and ends
 * with exactly the same weights (CPU) as an uninterrupted run of the same config: the model,
 * masks, Sign-In factors, optimizer buffers, RNG state, data order and sign statistics are all
 * restored. Both runs go through the CLI in child processes, as a user would run them.
 *
 * Kills inside a checkpoint write are made deterministic by SIGNIN_TORCH_PAUSE_WRITE (src/atomic.ts),
 * which stops the writer with half the checkpoint in its temporary file.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig, runDirFor, runPaths, readMetrics } from '../../../src/experiments';
import { untimedRows } from '../../helpers/checkpoint-diff';
import { loadSafetensors } from '../../../src/nn/safetensors';
import { fashionImages, tmpDir, writeIdxSet } from '../../helpers/data-fixtures';
import { CHILD_ENV, cliArgs, killInWrite, runTrain, trainArgs, trainToEnd, waitFor } from '../../helpers/kill-child';

describe('resume after SIGKILL', () => {
  const dir = tmpDir('signin-resume-');
  const data = path.join(dir, 'data');
  writeIdxSet(data, fashionImages(2560), false);
  const config = parseConfig({
    dataset: { name: 'mnist', root: data, augment: false },
    model: { name: 'lenet5', options: { batchNorm: true } },
    pruning: { method: 'random', sparsity: 0.9, scope: 'layerwise', distribution: 'erk' },
    signin: { enabled: true, resetPeriod: 7, resetUnit: 'steps' },
    optimizer: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { name: 'cosine', warmupEpochs: 1 },
    labelSmoothing: 0.1,
    epochs: 4,
    batchSize: 32,
    seed: 3,
    threads: 1,
  });
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const straight = path.join(dir, 'straight');
  beforeAll(() => trainToEnd(configFile, straight), 300_000);

  /** The final checkpoint's model and optimizer tensors and the metrics (less timings) equal the straight run's. */
  function expectSameAsStraight(runDir: string): void {
    const a = loadSafetensors(runPaths(runDirFor(straight, config)).checkpoint);
    const b = loadSafetensors(runPaths(runDir).checkpoint);
    const keys = [...a.keys()].filter((k) => k.startsWith('model.') || k.startsWith('optim.'));
    expect(keys.some((k) => k.endsWith('weight_m'))).toBe(true);
    expect(keys.some((k) => k.includes('momentum_buffer'))).toBe(true);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const k of keys) {
      const x = a.get(k)!.data();
      const y = b.get(k)!.data();
      expect({ k, equal: Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0 }).toEqual({ k, equal: true });
    }
    for (const t of [...a.values(), ...b.values()]) t.dispose();
    expect(untimedRows(runDir)).toEqual(untimedRows(runDirFor(straight, config)));
  }

  // Each test trains in CLI child processes: 58 s and 70 s on 2 cores at load 12 next to 4 busy
  // loops of equal priority, too close to jest's default 120 s; interrupt.test.ts allows 300 s too.
  it('ends with bit-identical weights, optimizer state and metrics', async () => {

    const killed = path.join(dir, 'killed');
    const runDir = runDirFor(killed, config);
    const metrics = runPaths(runDir).metrics;
    const child = spawn(process.execPath, trainArgs(configFile, killed), { stdio: 'ignore', env: CHILD_ENV });
    // Two epochs done and checkpointed, then a little into the third: mid-epoch.
    await waitFor(() => fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').trim().split('\n').length >= 2, child, 120_000);
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(fs.existsSync(runPaths(runDir).final)).toBe(false);
    trainToEnd(configFile, killed);
    expectSameAsStraight(runDir);
  }, 300_000);

  it('killed inside checkpoint writes, and with the newest checkpoint damaged: one metrics row per epoch, same end', async () => {
    const killed = path.join(dir, 'killed-in-write');
    const runDir = runDirFor(killed, config);
    const p = runPaths(runDir);
    const epochs = () => readMetrics(runDir).map((r) => r.epoch);

    // 1. Inside the FIRST checkpoint write: epoch 1's row is on disk, its checkpoint is not.
    const listRuns = () => spawnSync(process.execPath, cliArgs(['list', 'runs', '--runs-dir', killed, '--json']), { encoding: 'utf8' });
    const tmp1 = await killInWrite(trainArgs(configFile, killed), 'checkpoint.safetensors:1', (pid) => {
      // While it trains, a second trainer of the same run is refused, naming it; list shows it running.
      const second = runTrain(configFile, killed);
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`ERR_RUN_LOCKED: Run directory ${runDir} is being trained by process ${pid} on `);
      expect(JSON.parse(listRuns().stdout)).toMatchObject([{ status: 'running', pid }]);
    });
    expect(JSON.parse(listRuns().stdout)).toMatchObject([{ status: 'failed', epochs: 1 }]);
    expect(epochs()).toEqual([1]);
    expect([fs.existsSync(tmp1), fs.existsSync(p.checkpoint), fs.existsSync(p.checkpointPrev)]).toEqual([true, false, false]);

    // 2. The rerun starts over (epoch 1 again, its row not duplicated); killed inside its third
    //    checkpoint write, after epochs 1 and 2 were checkpointed: the stale temp file is gone.
    const tmp2 = await killInWrite(trainArgs(configFile, killed), 'checkpoint.safetensors:3');
    expect(epochs()).toEqual([1, 2, 3]);
    expect(fs.existsSync(tmp1)).toBe(false);
    expect([fs.existsSync(tmp2), fs.existsSync(p.checkpoint), fs.existsSync(p.checkpointPrev)]).toEqual([true, true, true]);

    // 3. The newest checkpoint (epoch 2) is damaged: the run falls back to epoch 1's and redoes 2-4.
    fs.truncateSync(p.checkpoint, Math.floor(fs.statSync(p.checkpoint).size / 2));
    trainToEnd(configFile, killed);
    expect(epochs()).toEqual([1, 2, 3, 4]);
    expect(fs.readdirSync(runDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expectSameAsStraight(runDir);
  }, 300_000);
});
