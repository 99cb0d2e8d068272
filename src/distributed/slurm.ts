/**
 * A job launched by SLURM's `srun` (opt-in: `train --slurm`, SIGNIN_TORCH_LAUNCHER=slurm) in
 * torchrun's terms. Two ways, as PyTorch code is run under SLURM:
 * - one task per process (`srun --ntasks-per-node=G`): each task is a worker, RANK = SLURM_PROCID,
 *   LOCAL_RANK = SLURM_LOCALID, WORLD_SIZE = SLURM_STEP_NUM_TASKS (mmcv's _init_dist_slurm,
 *   Lightning's SLURMEnvironment);
 * - one task per node running the launcher (`srun --ntasks-per-node=1 ... --nproc G`): the node
 *   rank is SLURM_NODEID and the nodes SLURM_STEP_NUM_NODES.
 * The step's variables are read, not the job's (SLURM_NTASKS, SLURM_JOB_NODELIST): a step may
 * run on part of the allocation, and their absence tells an sbatch or salloc shell, where
 * SLURM_NTASKS is set but one process runs, from a task srun started.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import { envVarError, intVar } from './env-var';
import { expandHostList } from './hostlist';

/** What `launch` and torchrun's variables need, from SLURM's. */
export interface SlurmPlacement {
  rank: number;
  localRank: number;
  worldSize: number;
  localWorldSize: number;
  nodeRank: number;
  nnodes: number;
  masterAddr: string;
  masterPort: number;
}

const MEANING: Record<string, string> = {
  SLURM_STEP_NUM_TASKS: 'the tasks of this job step',
  SLURM_STEP_NUM_NODES: 'the nodes of this job step',
  SLURM_STEP_NODELIST: "the step's nodes, as a host list",
  SLURM_STEP_TASKS_PER_NODE: "the tasks on each of the step's nodes",
  SLURM_PROCID: "this task's index in the step",
  SLURM_LOCALID: "this task's index on its node",
  SLURM_NODEID: "this task's node's index in the step",
  SLURM_JOB_ID: 'the job id',
};

const UNSET = "which srun sets for each task it starts; an sbatch or salloc shell is not one: start the training with srun";

function unexpected(name: string, expected: string, raw: string | undefined): ToolkitError {
  return envVarError(name, expected, raw, `${MEANING[name]}, ${UNSET}`);
}

function slurmInt(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER, expected?: string): number {
  return intVar(env, name, min, max, `${MEANING[name]}, ${UNSET}`, expected);
}

/** SLURM_STEP_TASKS_PER_NODE's `2(x3),1` as [2, 2, 2, 1], `nnodes` entries. */
export function expandTasksPerNode(raw: string | undefined, nnodes: number, name = 'SLURM_STEP_TASKS_PER_NODE'): number[] {
  const expected = `the tasks on each of the ${nnodes} nodes, such as '4(x${nnodes})'`;
  if (raw === undefined) throw unexpected(name, expected, raw);
  const counts: number[] = [];
  for (const part of raw.split(',')) {
    const m = /^(\d+)(?:\(x(\d+)\))?$/.exec(part);
    const repeat = Number(m?.[2] ?? 1);
    if (!m || Number(m[1]) < 1 || repeat < 1 || counts.length + repeat > nnodes) throw unexpected(name, expected, raw);
    for (let i = 0; i < repeat; i++) counts.push(Number(m[1]));
  }
  if (counts.length !== nnodes) throw unexpected(name, expected, raw);
  return counts;
}

/**
 * The port every task derives alike from the job id: 15000 + SLURM_JOB_ID mod 10000, Lightning's
 * rule (SLURMEnvironment), so a job moved between launchers keeps its port. Two steps of one job
 * running at once on the same first node need MASTER_PORT or --master-port.
 */
export function slurmPort(env: NodeJS.ProcessEnv): number {
  return 15000 + (slurmInt(env, 'SLURM_JOB_ID', 0) % 10000);
}

/**
 * This task's place from srun's variables. MASTER_ADDR / MASTER_PORT, where set, win over the
 * first node of SLURM_STEP_NODELIST and slurmPort. Nodes must hold the same number of tasks,
 * ranks in srun's default block order (torchrun's placement, which the device check and the
 * rendezvous's naming of missing nodes assume); anything else is refused naming the variable.
 */
export function slurmPlacement(env: NodeJS.ProcessEnv = process.env): SlurmPlacement {
  if (typeof env !== 'object' || env === null) throw new InvalidArgumentError('env', 'an environment object (process.env)', env);
  const worldSize = slurmInt(env, 'SLURM_STEP_NUM_TASKS', 1);
  const nnodes = slurmInt(env, 'SLURM_STEP_NUM_NODES', 1, worldSize, `an integer in [1, ${worldSize}] (SLURM_STEP_NUM_TASKS)`);
  const hosts = expandHostList(env.SLURM_STEP_NODELIST ?? '', 'environment variable SLURM_STEP_NODELIST');
  if (hosts.length !== nnodes) throw unexpected('SLURM_STEP_NODELIST', `a host list of ${nnodes} nodes (SLURM_STEP_NUM_NODES)`, env.SLURM_STEP_NODELIST);
  const perNode = expandTasksPerNode(env.SLURM_STEP_TASKS_PER_NODE, nnodes);
  const localWorldSize = perNode[0];
  if (perNode.some((n) => n !== localWorldSize) || localWorldSize * nnodes !== worldSize) {
    throw unexpected('SLURM_STEP_TASKS_PER_NODE', `the same number of tasks on every node, ${nnodes} × that = ${worldSize} (SLURM_STEP_NUM_TASKS), as torchrun places workers: ask srun for --ntasks-per-node`, env.SLURM_STEP_TASKS_PER_NODE);
  }
  const nodeRank = slurmInt(env, 'SLURM_NODEID', 0, nnodes - 1);
  const localRank = slurmInt(env, 'SLURM_LOCALID', 0, localWorldSize - 1);
  const rank = slurmInt(env, 'SLURM_PROCID', 0, worldSize - 1);
  const block = nodeRank * localWorldSize + localRank;
  if (rank !== block) {
    throw unexpected('SLURM_PROCID', `${block}, SLURM_NODEID × tasks per node + SLURM_LOCALID (srun's default block distribution, as torchrun places ranks; not --distribution=cyclic)`, env.SLURM_PROCID);
  }
  if (env.MASTER_ADDR !== undefined && env.MASTER_ADDR.trim() === '') throw unexpected('MASTER_ADDR', "the host of rank 0's store, or unset for the first node of SLURM_STEP_NODELIST", env.MASTER_ADDR);
  const masterAddr = env.MASTER_ADDR ?? hosts[0];
  const masterPort = env.MASTER_PORT === undefined ? slurmPort(env) : slurmInt(env, 'MASTER_PORT', 1, 65535);
  return { rank, localRank, worldSize, localWorldSize, nodeRank, nnodes, masterAddr, masterPort };
}

/**
 * Whether srun gave each of its tasks a GPU of its own and this process is one of those tasks, so
 * that the one CUDA device it sees (`deviceCount`, as libtorch counts them) is its own: a bare
 * 'cuda' is then cuda:0, where torchrun's rule, cuda:<local rank>, names a device the task does
 * not have (mmcv's _init_dist_slurm, `SLURM_PROCID % device_count()`, also lands on 0 there).
 * All three must hold:
 * - the job's ranks are srun's tasks (WORLD_SIZE = SLURM_STEP_NUM_TASKS, RANK = SLURM_PROCID, as
 *   `--slurm` sets them), not workers a launcher in one task started (`--slurm --nproc`, torchrun
 *   under srun), which share that task's GPUs;
 * - this process sees exactly one CUDA device;
 * - each task was given one: SLURM_GPUS_PER_TASK (sbatch/salloc --gpus-per-task, which srun
 *   inherits) is one GPU, or the step has at least a GPU per task on this node (SLURM_GPUS_ON_NODE
 *   ≥ `localProcesses`, which srun sets: `--gpu-bind` splitting them). With fewer, the tasks share
 *   one GPU, refused as before (deviceIssues).
 */
export function srunTaskGpu(env: NodeJS.ProcessEnv, deviceCount: number, localProcesses: number): boolean {
  const tasks = env.SLURM_STEP_NUM_TASKS;
  if (deviceCount !== 1 || tasks === undefined || env.WORLD_SIZE !== tasks || env.RANK !== env.SLURM_PROCID) return false;
  return /^(?:[^:,]+:)?1$/.test(env.SLURM_GPUS_PER_TASK ?? '') || Number(env.SLURM_GPUS_ON_NODE) >= localProcesses;
}
