/**
 * The variables torchrun sets for each worker (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT, ...): the launcher writes exactly these, and a worker reads them, so
 * a worker also runs under torchrun itself or a scheduler that sets them; srun's, on request
 * (SIGNIN_TORCH_LAUNCHER=slurm), are turned into them first.
 */
import { ToolkitError } from '../errors';
import { int, obj, str } from '../validate';
import { intVar as envInt } from './env-var';
import { slurmPlacement } from './slurm';

export interface DistributedEnv {
  rank: number;
  localRank: number;
  worldSize: number;
  /**
   * Processes on this machine (torchrun: --nproc_per_node, the same on every node). Without
   * LOCAL_WORLD_SIZE, LOCAL_RANK + 1: the fewest this machine can hold.
   */
  localWorldSize: number;
  /** Unset in the environment: only an 'env://' rendezvous of several ranks needs them (rendezvous.ts). */
  masterAddr?: string;
  masterPort?: number;
}

/** What an unset variable is, for the error that names it. */
const MEANING: Record<string, string> = {
  RANK: "this process's index in the job",
  LOCAL_RANK: "this process's index on its machine: 0 with one process per machine",
  WORLD_SIZE: 'the number of processes in the job',
};

/** An integer torchrun variable in [min, max]; ERR_INVALID_ARG naming it (and what it is, when unset) otherwise. */
export function intVar(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return envInt(env, name, min, max, MEANING[name] && `${MEANING[name]}; torchrun sets it`);
}

/**
 * The rendezvous and collective timeout in ms from SIGNIN_TORCH_DIST_TIMEOUT_S (whole seconds),
 * undefined when unset. torch takes it as init_process_group(timeout=...), 30 minutes by default;
 * ours defaults to 60 s so that a dead peer surfaces quickly, and a job whose ranks may fall out of
 * step for longer (rank 0 checkpointing to a slow shared disk) raises it without code changes.
 */
export function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env.SIGNIN_TORCH_DIST_TIMEOUT_S === undefined) return undefined;
  return intVar(env, 'SIGNIN_TORCH_DIST_TIMEOUT_S', 1, 30 * 24 * 3600) * 1000;
}

/**
 * The worker's place in the job, or undefined when none of WORLD_SIZE, RANK, LOCAL_RANK is set
 * (not launched distributed). Under SIGNIN_TORCH_LAUNCHER=slurm torchrun's variables are first
 * derived from srun's and written into `env` (exportLauncherEnv). RANK or LOCAL_RANK without
 * WORLD_SIZE is an error rather than one process, as each worker of a misconfigured job would
 * otherwise train alone as rank 0.
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | undefined {
  obj('env', env, 'environment object (process.env)');
  exportLauncherEnv(env);
  if (env.WORLD_SIZE === undefined) {
    const set = ['RANK', 'LOCAL_RANK'].filter((k) => env[k] !== undefined);
    if (set.length === 0) return undefined;
    throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable WORLD_SIZE (${MEANING.WORLD_SIZE}) to be set alongside ${set.map((k) => `${k}='${env[k]}'`).join(' and ')} but it is unset: launch with torchrun or \`signin-torch train --nproc N\`, or unset ${set.join(' and ')} to train in one process`);
  }
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  const rank = intVar(env, 'RANK', 0, worldSize - 1);
  if (env.LOCAL_WORLD_SIZE === undefined) {
    // Only the ranks up to this one are known to share its machine. WORLD_SIZE would put the
    // whole job on it: with one GPU on each of 2 machines, a bare device 'cuda' would be refused
    // as 2 processes needing 2 devices.
    const localRank = intVar(env, 'LOCAL_RANK', 0, worldSize - 1);
    return { rank, localRank, worldSize, localWorldSize: localRank + 1, ...masterVars(env) };
  }
  const localWorldSize = intVar(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  const localRank = intVar(env, 'LOCAL_RANK', 0, localWorldSize - 1);
  return { rank, localRank, worldSize, localWorldSize, ...masterVars(env) };
}

/**
 * SIGNIN_TORCH_LAUNCHER: 'slurm' when this process reads srun's variables (`train --slurm` sets
 * it), undefined for torchrun's alone. Opt-in, since an sbatch or salloc shell has SLURM's job
 * variables but runs one process.
 */
export function launcherVar(env: NodeJS.ProcessEnv = process.env): 'slurm' | undefined {
  const v = env.SIGNIN_TORCH_LAUNCHER;
  if (v === undefined || v === 'slurm') return v;
  throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable SIGNIN_TORCH_LAUNCHER to be 'slurm' (read srun's variables) or unset (torchrun's) but it is '${v}'`);
}

/**
 * Under SIGNIN_TORCH_LAUNCHER=slurm, writes torchrun's variables derived from srun's (slurm.ts)
 * into `env`, as mmcv's _init_dist_slurm writes os.environ: the rendezvous and any process this
 * one starts read them there. torchrun's variables win: with WORLD_SIZE set (a worker of `--slurm
 * --nproc`, or torchrun under srun) SLURM's are not read. RANK or LOCAL_RANK without WORLD_SIZE
 * would mix the two and is refused.
 */
export function exportLauncherEnv(env: NodeJS.ProcessEnv = process.env): void {
  if (launcherVar(env) === undefined || env.WORLD_SIZE !== undefined) return;
  const set = ['RANK', 'LOCAL_RANK'].filter((k) => env[k] !== undefined);
  if (set.length > 0) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected ${set.join(' and ')} to be unset under SIGNIN_TORCH_LAUNCHER=slurm (SLURM_PROCID and SLURM_LOCALID give them), or set with WORLD_SIZE (torchrun's variables, which then win), but ${set.map((k) => `${k}='${env[k]}'`).join(' and ')} without WORLD_SIZE`);
  }
  Object.assign(env, workerEnv(slurmPlacement(env), env));
}

/** MASTER_ADDR and MASTER_PORT, checked where set. */
export function masterVars(env: NodeJS.ProcessEnv): { masterAddr?: string; masterPort?: number } {
  const masterAddr = env.MASTER_ADDR;
  if (masterAddr !== undefined && masterAddr.trim() === '') {
    throw new ToolkitError('ERR_INVALID_ARG', "Expected environment variable MASTER_ADDR to be the host of rank 0's store but it is ''");
  }
  return { masterAddr, masterPort: env.MASTER_PORT === undefined ? undefined : intVar(env, 'MASTER_PORT', 1, 65535) };
}

/** The environment of one worker, as torchrun writes it. */
export function workerEnv(w: { rank: number; localRank: number; worldSize: number; localWorldSize: number; nodeRank: number; nnodes: number; masterAddr: string; masterPort: number }, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  obj('worker', w, 'worker placement ({ rank, localRank, worldSize, ... })');
  for (const k of ['rank', 'localRank', 'worldSize', 'localWorldSize', 'nodeRank', 'nnodes', 'masterPort'] as const) int(k, w[k], 0);
  str('masterAddr', w.masterAddr);
  return {
    RANK: String(w.rank),
    LOCAL_RANK: String(w.localRank),
    WORLD_SIZE: String(w.worldSize),
    LOCAL_WORLD_SIZE: String(w.localWorldSize),
    GROUP_RANK: String(w.nodeRank),
    GROUP_WORLD_SIZE: String(w.nnodes),
    ROLE_NAME: 'default',
    ROLE_RANK: String(w.rank),
    ROLE_WORLD_SIZE: String(w.worldSize),
    MASTER_ADDR: w.masterAddr,
    MASTER_PORT: String(w.masterPort),
    TORCHELASTIC_RUN_ID: 'none',
    // Rank 0 hosts the store (torchrun's c10d rendezvous does the same); set so that a worker
    // never follows an agent store named by an inherited environment.
    TORCHELASTIC_USE_AGENT_STORE: 'False',
    TORCHELASTIC_RESTART_COUNT: '0',
    TORCHELASTIC_MAX_RESTARTS: '0',
    // torchrun's default with several workers per node: one intra-op thread each unless set.
    ...(w.localWorldSize > 1 && base.OMP_NUM_THREADS === undefined ? { OMP_NUM_THREADS: '1' } : {}),
  };
}
