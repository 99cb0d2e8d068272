/**
 * Data parallelism on loopback (Gloo, FileStore): 2 ranks with per-rank batch B/2 end with the
 * weights of 1 process with batch B (the reference is a separate single-process run of the same
 * worker), plain and Sign-In; masks and weights are identical across ranks although each rank
 * drew its own; a rank killed mid-run makes the survivor fail with ERR_DISTRIBUTED, not hang, and
 * so does a rank whose peers never join.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { maxAbsDiff, runDdpRank, trainDdp, TSX } from '../helpers/ddp-ranks';

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-ddp-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each(['plain', 'signin'] as const)('DDP over Gloo (%s)', (mode) => {
  it('2 ranks with batch B/2 each match 1 process with batch B', async () => {
    const [one, two] = await Promise.all([trainDdp(dir, `${mode}-1`, 1, { mode }), trainDdp(dir, `${mode}-2`, 2, { mode })]);
    expect(two[0].syncs).toBe(4);
    // The ranks hold identical tensors: masks, factors and weights (each rank drew its own at start).
    for (const d of Object.values(maxAbsDiff(two[0].state, two[1].state))) expect(d).toBe(0);
    // Rank 0 of the 2-process run is the 1-process run up to float32 summation order.
    const diffs = maxAbsDiff(one[0].state, two[0].state);
    for (const [k, d] of Object.entries(diffs)) {
      if (k.endsWith('weight_mask')) expect({ k, d }).toEqual({ k, d: 0 });
      else expect({ k, ok: d < 1e-5 }).toEqual({ k, ok: true });
    }
    // Training moved the weights well beyond the tolerance, and both runs started from the same draw.
    expect(two[1].initial).toEqual(one[0].initial);
    expect(Math.max(...one[0].state['conv2.weight'].map((v, i) => Math.abs(v - one[0].initial[i])))).toBeGreaterThan(1e-3);
  });
});

it('a rank killed mid-run makes the other fail with ERR_DISTRIBUTED within the timeout', async () => {
  const initMethod = `file://${path.join(dir, 'store-kill')}`;
  const args = (r: number) => ({ mode: 'plain', steps: 6, batch: 16, initMethod, out: path.join(dir, `kill-${r}.json`), dieAtStep: 2, timeoutMs: 10_000 });
  const [survivor, killed] = await Promise.all([runDdpRank(0, 2, args(0)), runDdpRank(1, 2, args(1))]);
  // SIGKILL: tsx's wrapper process reports it as 128 + 9.
  expect(killed.code === null || killed.code === 137).toBe(true);
  expect(survivor.code).toBe(3);
  expect(survivor.stderr).toMatch(/rank 0 failed: ERR_DISTRIBUTED allReduce/);
  expect(survivor.ms).toBeLessThan(25_000);
  expect(fs.existsSync(path.join(dir, 'kill-0.json'))).toBe(false);
});

it('a rank whose peers never join fails with ERR_DISTRIBUTED after the timeout, not a hang', () => {
  const t0 = Date.now();
  const r = spawnSync(TSX, [path.join(__dirname, 'init-timeout-worker.ts'), path.join(dir, 'store-alone'), '2000'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^ERR_DISTRIBUTED: initProcessGroup: .*(Timeout|timed out|timeout)/im);
  expect(Date.now() - t0).toBeLessThan(30_000);
});
