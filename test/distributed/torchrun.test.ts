/**
 * Workers launched by PyTorch's own torchrun (torch 1.13's `python3 -m torch.distributed.run`),
 * as a PyTorch user launches them: 2 ranks on loopback, each test a few seconds of work.
 * - Its default static rendezvous: the agent hosts the TCPStore on MASTER_PORT and sets
 *   TORCHELASTIC_USE_AGENT_STORE=True, so every rank joins as a client (rank 0 used to try to
 *   host a second store there and fail with the port in use); the c10d rendezvous (what
 *   --standalone uses) leaves the store to rank 0. Collectives give their closed forms.
 * - --max_restarts: a rank that dies after joining makes the agent restart both, and the new
 *   attempt joins under its own prefix of the agent's store.
 * - `signin-torch train` under torchrun, a rank killed in a checkpoint write, and resumption with
 *   another world size (1 -> 2 -> 1 process, the global batch kept) end where one uninterrupted
 *   process ends (float32 tolerance; masks bit-identical).
 * Skipped, with the reason, where the reference python has no torch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../src/distributed/free-port';
import { readMetrics, runDirFor } from '../../src/experiments';
import { tmpDir } from '../helpers/data-fixtures';
import { lenetSignInRun } from '../helpers/lenet-run';
import { checkpointDiff } from '../helpers/checkpoint-diff';
import { killInWrite, trainArgs, trainToEnd } from '../helpers/kill-child';
import { PYTHON, pytorchAvailable } from '../helpers/pytorch';
import { torchrun } from '../helpers/torchrun';

const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const WORKER = path.join(__dirname, 'collectives-worker.ts');

const ranksOf = (dir: string) => [0, 1].map((k) => JSON.parse(fs.readFileSync(path.join(dir, `rank${k}.json`), 'utf8')));

/** What collectives-worker.ts must see with 2 ranks: the closed forms of its collectives. */
function expectCollectives(o: { sum: number[]; avg: number[]; max: number[]; b: number[]; gathered: number[][]; worldSize: number }): void {
  expect(o.worldSize).toBe(2);
  expect(o.sum).toEqual([1 + 2, 10 + 20]);
  expect(o.avg).toEqual([1.5]);
  expect(o.max).toEqual([1]);
  expect(o.b).toEqual([101, 201]);
  expect(o.gathered).toEqual([[0], [2]]);
}

function underTorchrun(): void {
  const dir = tmpDir('signin-torchrun-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("static rendezvous (torchrun's default): every rank joins the agent's store; collectives give their closed forms", async () => {
    const out = fs.mkdtempSync(path.join(dir, 'static-'));
    const port = await freePort();
    const r = await torchrun(['--master_addr', '127.0.0.1', '--master_port', String(port)], [TSX, WORKER, out]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    ranksOf(out).forEach((o, k) => {
      expectCollectives(o);
      // RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, GROUP_RANK, agent store, attempt
      expect(o.vars).toEqual([String(k), String(k), '2', '2', '127.0.0.1', String(port), '0', 'True', '0']);
    });
  }, 120_000);

  it('c10d rendezvous (as --standalone): rank 0 hosts the store on the port the agent chose', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'c10d-'));
    const port = await freePort();
    const r = await torchrun(['--rdzv_backend', 'c10d', '--rdzv_endpoint', `127.0.0.1:${port}`, '--rdzv_id', 'torchrun-test'], [TSX, WORKER, out]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    ranksOf(out).forEach((o) => {
      expectCollectives(o);
      expect(o.vars.slice(7)).toEqual(['False', '0']);
      expect(Number(o.vars[5])).not.toBe(port);
    });
  }, 120_000);

  it('--max_restarts 1: a rank that dies after joining makes the agent restart both, and they join again', async () => {
    const out = fs.mkdtempSync(path.join(dir, 'restart-'));
    const port = await freePort();
    const r = await torchrun(['--master_port', String(port), '--max_restarts', '1'], [TSX, WORKER, out, 'rank-1-exits-in-attempt-0']);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    ranksOf(out).forEach((o) => {
      expectCollectives(o);
      expect(o.vars.slice(7)).toEqual(['True', '1']);
    });
  }, 180_000);

  describe('signin-torch train', () => {
    // 3 epochs of 2 steps of 32: epoch 1 by 1 process, epoch 2 by 2 ranks under torchrun, epoch 3 by 1 process.
    const { config, configFile } = lenetSignInRun(dir, { images: 512, epochs: 3, maxTrainBatches: 2 });

    const single = path.join(dir, 'single');
    beforeAll(() => trainToEnd(configFile, single), 120_000);

    /** Kills (SIGKILL) each worker that pauses in a checkpoint write, once per pid; returns when each kill happened. */
    function killPaused(kills: number[]): (stderr: string) => void {
      const killed = new Set<number>();
      return (stderr) => {
        for (const m of stderr.matchAll(/paused writing \S*\.checkpoint\.safetensors\.(\d+)\./g)) {
          const pid = Number(m[1]);
          if (killed.has(pid)) continue;
          killed.add(pid);
          kills.push(Date.now());
          process.kill(pid, 'SIGKILL');
        }
      };
    }

    it('1 process, then 2 ranks under torchrun (rank 0 killed in a checkpoint write), then 1 process: the run of 1 uninterrupted process', async () => {
      const runs = path.join(dir, 'resumed');
      await killInWrite(trainArgs(configFile, runs), 'checkpoint.safetensors:2');
      const runDir = runDirFor(runs, config);

      // Rank 0 writes epoch 2's checkpoint, then pauses in epoch 3's and is killed there.
      const kills: number[] = [];
      const port = await freePort();
      const r = await torchrun(['--master_port', String(port)], [process.execPath, ...trainArgs(configFile, runs)], {
        env: { SIGNIN_TORCH_PAUSE_WRITE: 'checkpoint.safetensors:2' },
        onStderr: killPaused(kills),
      });
      expect(kills).toHaveLength(1);
      expect(r.code).not.toBe(0);
      // The agent stops the surviving rank at once (its monitor runs every second), no timeout waited for.
      expect(Date.now() - kills[0]).toBeLessThan(30_000);

      trainToEnd(configFile, runs);
      expect(readMetrics(runDir).map((m) => m.epoch)).toEqual([1, 2, 3]);
      expect(checkpointDiff(runDirFor(single, config), runDir)).toBeLessThan(1e-5);
    }, 300_000);

    it('--max_restarts 2: rank 0 killed in its second checkpoint write of each attempt, the restarts resume the run to its end', async () => {
      // Attempt 0 is killed writing epoch 2 (resumes from 1), attempt 1 writing epoch 3 (resumes
      // from 2), attempt 2 writes epoch 3 as its first and ends. Each restart takes over the lock
      // the killed rank 0 left.
      const runs = path.join(dir, 'restarted');
      const kills: number[] = [];
      const port = await freePort();
      const r = await torchrun(['--master_port', String(port), '--max_restarts', '2'], [process.execPath, ...trainArgs(configFile, runs)], {
        env: { SIGNIN_TORCH_PAUSE_WRITE: 'checkpoint.safetensors:2' },
        onStderr: killPaused(kills),
      });
      expect({ code: r.code, kills: kills.length, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, kills: 2, stderr: '' });
      const runDir = runDirFor(runs, config);
      expect(readMetrics(runDir).map((m) => m.epoch)).toEqual([1, 2, 3]);
      expect(checkpointDiff(runDirFor(single, config), runDir)).toBeLessThan(1e-5);
    }, 300_000);
  });
}

// Without torch there is no torchrun: one skipped test says so, and no fixture is written.
if (pytorchAvailable()) {
  describe('under torchrun', underTorchrun);
} else {
  console.warn(`skipping torchrun.test.ts: ${PYTHON} cannot import torch, so there is no torchrun (apt-get install -y python3-torch)`);
  it.skip(`runs workers under torchrun (${PYTHON} cannot import torch)`, () => undefined);
}
