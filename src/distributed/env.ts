/**
 * The variables torchrun sets for each worker (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT, ...): the launcher writes exactly these, and a worker reads them, so
 * a worker also runs under torchrun itself or a scheduler that sets them.
 */
import { ToolkitError } from '../errors';
import { int, obj, str } from '../validate';

export interface DistributedEnv {
  rank: number;
  localRank: number;
  worldSize: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

function intVar(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  const v = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(v) || v < min || v > max) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable ${name} to be an integer in [${min}, ${max}] but it is ${raw === undefined ? 'unset' : `'${raw}'`}`);
  }
  return v;
}

/** The worker's place in the job, or undefined when WORLD_SIZE is unset (not launched distributed). */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | undefined {
  obj('env', env, 'environment object (process.env)');
  if (env.WORLD_SIZE === undefined) return undefined;
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  const rank = intVar(env, 'RANK', 0, worldSize - 1);
  const localWorldSize = env.LOCAL_WORLD_SIZE === undefined ? worldSize : intVar(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  const localRank = env.LOCAL_RANK === undefined ? rank : intVar(env, 'LOCAL_RANK', 0, localWorldSize - 1);
  return {
    rank,
    localRank,
    worldSize,
    localWorldSize,
    masterAddr: env.MASTER_ADDR ?? '127.0.0.1',
    masterPort: env.MASTER_PORT === undefined ? 29500 : intVar(env, 'MASTER_PORT', 1, 65535),
  };
}

/** The environment of one worker, as torchrun writes it. */
export function workerEnv(w: { rank: number; localRank: number; worldSize: number; localWorldSize: number; nodeRank: number; nnodes: number; masterAddr: string; masterPort: number }): Record<string, string> {
  obj('worker', w, 'worker placement ({ rank, localRank, worldSize, ... })');
  for (const k of ['rank', 'localRank', 'worldSize', 'localWorldSize', 'nodeRank', 'nnodes', 'masterPort'] as const) int(k, w[k], 0);
  str('masterAddr', w.masterAddr);
  return {
    RANK: String(w.rank),
    LOCAL_RANK: String(w.localRank),
    WORLD_SIZE: String(w.worldSize),
    LOCAL_WORLD_SIZE: String(w.localWorldSize),
    GROUP_RANK: String(w.nodeRank),
    ROLE_RANK: String(w.rank),
    ROLE_WORLD_SIZE: String(w.worldSize),
    MASTER_ADDR: w.masterAddr,
    MASTER_PORT: String(w.masterPort),
    TORCHELASTIC_RUN_ID: 'none',
    // torchrun's default with several workers per node: one intra-op thread each unless set.
    ...(w.localWorldSize > 1 && process.env.OMP_NUM_THREADS === undefined ? { OMP_NUM_THREADS: '1' } : {}),
  };
}
