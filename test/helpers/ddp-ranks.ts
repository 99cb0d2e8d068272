/**
 * Runs ranks of test/distributed/ddp-worker.ts (or another worker) as child processes (Gloo or
 * NCCL, FileStore) and compares their final state dicts: shared by the loopback DDP tests, the
 * SyncBatchNorm tests and the NCCL tests.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { maxDiff } from './compare';

const ROOT = path.resolve(__dirname, '../..');
export const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const WORKER = path.join(ROOT, 'test/distributed/ddp-worker.ts');

export interface DdpResult {
  rank: number;
  state: Record<string, number[]>;
  initial: number[];
  syncs: number;
  /** Gradient buckets the reducer reduced in the last step (0 without overlap). */
  buckets: number;
  /** Backwards the reducer was armed for (prepareBackward calls). */
  prepares: number;
}

export interface DdpExit {
  code: number | null;
  stderr: string;
  ms: number;
}

export function runDdpRank(rank: number, world: number, args: object): Promise<DdpExit> {
  return runRank(WORKER, rank, world, args);
}

/** One rank of `worker` (a tsx script given its arguments as JSON in argv[2]) with torchrun's variables. */
export function runRank(worker: string, rank: number, world: number, args: object): Promise<DdpExit> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(TSX, [worker, JSON.stringify(args)], {
      cwd: ROOT,
      env: { ...process.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world), OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - t0 }));
  });
}

/** Trains `world` ranks of the worker to the end (4 steps, global batch 16) and reads each rank's result. */
export async function trainDdp(dir: string, tag: string, world: number, args: { mode: 'plain' | 'signin'; backend?: string; cuda?: boolean; syncBn?: boolean; train?: boolean; overlap?: boolean; bucketBytes?: number; findUnusedParameters?: boolean; unused?: boolean; accum?: number }): Promise<DdpResult[]> {
  const initMethod = `file://${path.join(dir, `store-${tag}`)}`;
  const outs = Array.from({ length: world }, (_, r) => path.join(dir, `${tag}-rank${r}.json`));
  const exits = await Promise.all(outs.map((out, r) => runDdpRank(r, world, { steps: 4, batch: 16, ...args, initMethod, out })));
  exits.forEach((e) => expect({ code: e.code, stderr: e.stderr }).toEqual({ code: 0, stderr: '' }));
  return outs.map((o) => JSON.parse(fs.readFileSync(o, 'utf8')) as DdpResult);
}

export function maxAbsDiff(a: Record<string, number[]>, b: Record<string, number[]>): Record<string, number> {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  const out: Record<string, number> = {};
  for (const k of Object.keys(a)) out[k] = maxDiff(a[k], b[k]);
  return out;
}
