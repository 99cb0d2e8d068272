/**
 * The NCCL backend on the GPU machine (scripts/gpu-check.sh): collectives on CUDA tensors and on
 * CPU tensors (staged through the rank's device), allReduceWithGrad and c10d's Reducer included, against closed forms, and DDP training over NCCL
 * on CUDA against the same worker on one CPU process (plain and Sign-In). With one GPU
 * the group has one rank (NCCL allows one rank per device); with two or more, two ranks.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cuda } from '../../src';
import { availableBackends } from '../../src/distributed';
import { maxAbsDiff, trainDdp, TSX } from '../helpers/ddp-ranks';
import { describeCuda, HAS_CUDA } from './cuda-env';

const ROOT = path.resolve(__dirname, '../..');
const HAS_NCCL = availableBackends().includes('nccl');
const WORLD = HAS_CUDA ? Math.min(2, cuda.deviceCount()) : 1;
// The CPU reference's group: Gloo, which a build against pip's torch lacks (the wheels ship no
// Gloo headers); there a one-rank NCCL group, whose collectives stage the CPU tensors through
// the device while the training itself stays on the CPU.
const CPU_BACKEND = availableBackends().includes('gloo') ? 'gloo' : 'nccl';

function describeNccl(name: string, fn: () => void): void {
  if (HAS_CUDA && !HAS_NCCL) describe.skip(`${name} [skipped: this CUDA build of the addon has no NCCL backend (nccl.h was not found when it was built)]`, fn);
  else describeCuda(name, fn);
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-nccl-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCollectives(rank: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [path.join(__dirname, 'nccl-worker.ts'), path.join(dir, 'store-collectives'), path.join(dir, `collectives-${rank}.json`)], {
      cwd: ROOT,
      env: { ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(WORLD) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describeNccl(`NCCL with ${WORLD} rank(s)`, () => {
  it('collectives on CUDA and CPU tensors give the closed forms, on the tensors\' own devices', async () => {
    const exits = await Promise.all(Array.from({ length: WORLD }, (_, r) => runCollectives(r)));
    exits.forEach((e) => expect(e).toEqual({ code: 0, stderr: '' }));
    const ranks = Array.from({ length: WORLD }, (_, r) => r);
    const total = (f: (r: number) => number): number => ranks.reduce((a, r) => a + f(r), 0);
    for (const r of ranks) {
      const { seen, worldSize, buckets } = JSON.parse(fs.readFileSync(path.join(dir, `collectives-${r}.json`), 'utf8'));
      expect(worldSize).toBe(WORLD);
      expect(buckets).toEqual([1, 1]);
      const meanGrad = total((q) => q + 1) / WORLD;
      for (const step of [0, 1]) {
        expect(seen[`reducer grad ${step}`]).toEqual({ device: `cuda:${r}`, values: [meanGrad, meanGrad, meanGrad] });
      }
      for (const where of ['cuda', 'cpu']) {
        const device = where === 'cuda' ? `cuda:${r}` : 'cpu';
        const expected: Record<string, number[]> = {
          sum: [total((q) => q + 1), total((q) => 10 * (q + 1))],
          avg: [total((q) => q + 1) / WORLD],
          max: [WORLD - 1],
          'bucket 0': [total((q) => q), total((q) => 2 * q)],
          'bucket 1': [total((q) => 3 * q)],
          broadcast: [WORLD - 1 + 100, WORLD - 1 + 200],
          withGrad: [total((q) => q + 1), total((q) => 2 * (q + 1))],
          'withGrad grad': [total((q) => q + 1), WORLD],
        };
        ranks.forEach((q) => (expected[`gathered ${q}`] = [q * 2]));
        for (const [name, values] of Object.entries(expected)) {
          expect({ name: `${where} ${name}`, ...seen[`${where} ${name}`] }).toEqual({ name: `${where} ${name}`, device, values });
        }
      }
    }
  });

  it.each(['plain', 'signin'] as const)(`DDP (%s) over NCCL on CUDA matches one CPU process (over ${CPU_BACKEND})`, async (mode) => {
    const [cpu, gpu] = await Promise.all([trainDdp(dir, `${mode}-cpu`, 1, { mode, backend: CPU_BACKEND }), trainDdp(dir, `${mode}-nccl`, WORLD, { mode, backend: 'nccl', cuda: true })]);
    expect(gpu[0].syncs).toBe(4);
    for (const g of gpu.slice(1)) for (const d of Object.values(maxAbsDiff(gpu[0].state, g.state))) expect(d).toBe(0);
    for (const [k, d] of Object.entries(maxAbsDiff(cpu[0].state, gpu[0].state))) {
      if (k.endsWith('weight_mask')) expect({ k, d }).toEqual({ k, d: 0 });
      else expect({ k, ok: d < 1e-4 }).toEqual({ k, ok: true });
    }
    expect(gpu[0].initial).toEqual(cpu[0].initial);
  });
});
