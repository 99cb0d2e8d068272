/**
 * srun's variables in torchrun's terms (SIGNIN_TORCH_LAUNCHER=slurm, `train --slurm`). The
 * reference is torchrun's placement, which `--nproc --nnodes --node-rank` reproduces (launch.ts,
 * checked against torchrun's agent in multinode.test.ts): RANK = node × tasks per node + local
 * rank, and srun's block distribution numbers its tasks that way. The shell environments are the
 * variables SLURM 22.05 (Debian 12's slurmctld + slurmd on one machine) gave an `sbatch -n 2`
 * script and each task of `srun -n 2`.
 */
import { exportLauncherEnv, distributedEnv } from '../../src/distributed/env';
import { slurmPlacement } from '../../src/distributed/slurm';
import { storeFor } from '../../src/distributed/rendezvous';
import { launcherFrom } from '../../src/cli/flags';
import { errorOf } from '../helpers/error-of';

/** An sbatch script's shell: the job's variables, no step's (one process runs there). */
const SBATCH_SHELL = {
  SLURM_JOB_ID: '2', SLURM_JOBID: '2', SLURM_JOB_NODELIST: 'vm', SLURM_JOB_NUM_NODES: '1', SLURM_NNODES: '1', SLURM_NODELIST: 'vm',
  SLURM_NTASKS: '2', SLURM_NPROCS: '2', SLURM_TASKS_PER_NODE: '2', SLURM_NODEID: '0', SLURM_PROCID: '0', SLURM_LOCALID: '0', SLURM_GTIDS: '0',
};
/** Task 1 of `srun -n 2` in that job. */
const SRUN_TASK_1 = {
  ...SBATCH_SHELL, SLURM_JOB_ID: '1', SLURM_JOBID: '1', SLURM_GTIDS: '0,1', SLURM_LOCALID: '1', SLURM_PROCID: '1',
  SLURM_STEP_ID: '0', SLURM_STEPID: '0', SLURM_STEP_NODELIST: 'vm', SLURM_STEP_NUM_NODES: '1', SLURM_STEP_NUM_TASKS: '2', SLURM_STEP_TASKS_PER_NODE: '2',
};

/** A task of `srun --nodes N --ntasks-per-node G` (block distribution) on gpu[01-N]. */
function srunTask(nodes: number, perNode: number, node: number, local: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SIGNIN_TORCH_LAUNCHER: 'slurm', SLURM_JOB_ID: '4123456', SLURM_STEP_NUM_TASKS: String(nodes * perNode), SLURM_STEP_NUM_NODES: String(nodes),
    SLURM_STEP_NODELIST: `gpu[01-${String(nodes).padStart(2, '0')}]`, SLURM_STEP_TASKS_PER_NODE: `${perNode}(x${nodes})`,
    SLURM_NODEID: String(node), SLURM_LOCALID: String(local), SLURM_PROCID: String(node * perNode + local), ...extra,
  };
}

describe('SIGNIN_TORCH_LAUNCHER=slurm: one srun task per worker', () => {
  it("gives each task torchrun's variables: rank by block placement, the step's first node as master, port 15000 + job id mod 10000", () => {
    const env = srunTask(2, 4, 1, 2);
    expect(distributedEnv(env)).toEqual({ rank: 6, localRank: 2, worldSize: 8, localWorldSize: 4, masterAddr: 'gpu01', masterPort: 18456 });
    expect(env).toMatchObject({ RANK: '6', LOCAL_RANK: '2', WORLD_SIZE: '8', LOCAL_WORLD_SIZE: '4', GROUP_RANK: '1', GROUP_WORLD_SIZE: '2', MASTER_ADDR: 'gpu01', MASTER_PORT: '18456', TORCHELASTIC_USE_AGENT_STORE: 'False' });
    // Rank 0 hosts the store on the first node; every other rank is its client.
    expect(storeFor('env://', 6, 8, env)).toEqual({ store: 'tcp', host: 'gpu01', port: 18456, isServer: false });
  });

  it('places the tasks of 3 nodes × 2 as the launcher places --nnodes 3 --nproc 2, each rank once', () => {
    const ranks = [];
    for (let node = 0; node < 3; node++) {
      for (let local = 0; local < 2; local++) {
        const p = slurmPlacement(srunTask(3, 2, node, local));
        expect(p).toEqual({ rank: node * 2 + local, localRank: local, worldSize: 6, localWorldSize: 2, nodeRank: node, nnodes: 3, masterAddr: 'gpu01', masterPort: 18456 });
        ranks.push(p.rank);
      }
    }
    expect(ranks).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("reads what srun gave a real task; in an sbatch shell (the job's variables, no step's) it says to start with srun", () => {
    expect(distributedEnv({ ...SRUN_TASK_1, SIGNIN_TORCH_LAUNCHER: 'slurm' })).toEqual({ rank: 1, localRank: 1, worldSize: 2, localWorldSize: 2, masterAddr: 'vm', masterPort: 15001 });
    const e = errorOf(() => distributedEnv({ ...SBATCH_SHELL, SIGNIN_TORCH_LAUNCHER: 'slurm' }));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toBe('Expected environment variable SLURM_STEP_NUM_TASKS to be an integer in [1, 9007199254740991] but it is unset (the tasks of this job step, which srun sets for each task it starts; an sbatch or salloc shell is not one: start the training with srun)');
    // Without the opt-in SLURM's variables are not read at all: one process.
    expect(distributedEnv({ ...SRUN_TASK_1 })).toBeUndefined();
  });

  it('MASTER_ADDR and MASTER_PORT win over the node list and the job id', () => {
    expect(distributedEnv(srunTask(2, 1, 1, 0, { MASTER_ADDR: '10.0.0.7', MASTER_PORT: '29400' }))).toMatchObject({ masterAddr: '10.0.0.7', masterPort: 29400 });
    expect(errorOf(() => distributedEnv(srunTask(2, 1, 1, 0, { MASTER_PORT: '70000' }))).message).toBe("Expected environment variable MASTER_PORT to be an integer in [1, 65535] but it is '70000'");
  });

  it("torchrun's variables win: with WORLD_SIZE set SLURM's are not read; RANK without it is refused", () => {
    const torchrun = { WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '29500' };
    // A worker of `srun --ntasks-per-node=1 ... --slurm --nproc 2` inherits its launcher task's SLURM variables.
    expect(distributedEnv({ ...srunTask(2, 1, 1, 0), ...torchrun })).toEqual({ rank: 3, localRank: 1, worldSize: 4, localWorldSize: 2, masterAddr: 'h', masterPort: 29500 });
    expect(errorOf(() => distributedEnv({ ...srunTask(2, 1, 1, 0), RANK: '1' })).message).toBe("Expected RANK to be unset under SIGNIN_TORCH_LAUNCHER=slurm (SLURM_PROCID and SLURM_LOCALID give them), or set with WORLD_SIZE (torchrun's variables, which then win), but RANK='1' without WORLD_SIZE");
  });

  it('refuses uneven nodes, cyclic ranks and a node list of another length, naming the variable', () => {
    const msg = (extra: NodeJS.ProcessEnv, node = 0, local = 0) => errorOf(() => exportLauncherEnv(srunTask(4, 2, node, local, extra))).message;
    expect(msg({ SLURM_STEP_TASKS_PER_NODE: '2(x3),1', SLURM_STEP_NUM_TASKS: '7' })).toBe("Expected environment variable SLURM_STEP_TASKS_PER_NODE to be the same number of tasks on every node, 4 × that = 7 (SLURM_STEP_NUM_TASKS), as torchrun places workers: ask srun for --ntasks-per-node but it is '2(x3),1'");
    expect(errorOf(() => exportLauncherEnv(srunTask(2, 6, 0, 0, { SLURM_STEP_TASKS_PER_NODE: '8,4', SLURM_STEP_NUM_TASKS: '12' }))).message).toMatch(/^Expected environment variable SLURM_STEP_TASKS_PER_NODE to be the same number of tasks on every node, .* but it is '8,4'$/);
    expect(msg({ SLURM_STEP_TASKS_PER_NODE: '2(x3)' })).toBe("Expected environment variable SLURM_STEP_TASKS_PER_NODE to be the tasks on each of the 4 nodes, such as '4(x4)' but it is '2(x3)'");
    // --distribution=cyclic: task 1 is on node 1.
    expect(msg({ SLURM_PROCID: '1' }, 1, 0)).toBe("Expected environment variable SLURM_PROCID to be 2, SLURM_NODEID × tasks per node + SLURM_LOCALID (srun's default block distribution, as torchrun places ranks; not --distribution=cyclic) but it is '1'");
    expect(msg({ SLURM_STEP_NODELIST: 'gpu[01-03]' })).toBe("Expected environment variable SLURM_STEP_NODELIST to be a host list of 4 nodes (SLURM_STEP_NUM_NODES) but it is 'gpu[01-03]'");
    expect(msg({ SLURM_STEP_NODELIST: 'gpu[03-01]' })).toMatch(/^Expected environment variable SLURM_STEP_NODELIST to be a SLURM host list .*: the range '03-01' runs backwards$/);
    expect(msg({ SLURM_LOCALID: '2' })).toBe("Expected environment variable SLURM_LOCALID to be an integer in [0, 1] but it is '2'");
    expect(msg({ SLURM_JOB_ID: 'x' })).toBe("Expected environment variable SLURM_JOB_ID to be an integer in [0, 9007199254740991] but it is 'x'");
    expect(errorOf(() => distributedEnv({ SIGNIN_TORCH_LAUNCHER: 'slurmx' })).message).toBe("Expected environment variable SIGNIN_TORCH_LAUNCHER to be 'slurm' (read srun's variables) or unset (torchrun's) but it is 'slurmx'");
  });
});

describe('train --slurm (launcherFrom)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  const inTask = (env: NodeJS.ProcessEnv) => {
    for (const k of ['WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'SIGNIN_TORCH_LAUNCHER']) delete process.env[k];
    Object.assign(process.env, env);
  };

  it('with --nproc each task (one per node) launches as node SLURM_NODEID of SLURM_STEP_NUM_NODES', () => {
    const { SIGNIN_TORCH_LAUNCHER: _, ...task } = srunTask(3, 1, 2, 0);
    inTask(task);
    expect(launcherFrom({ slurm: true, nproc: 4 }, '--nproc')).toEqual({ nproc: 4, nnodes: 3, nodeRank: 2, masterAddr: 'gpu01', masterPort: 18456 });
    expect(launcherFrom({ slurm: true, nproc: 4, masterPort: 29600 }, '--nproc')).toMatchObject({ masterPort: 29600 });
    expect(errorOf(() => launcherFrom({ slurm: true, nproc: 4, nnodes: 3 }, '--nproc')).message).toBe('--nnodes and --node-rank come from srun under --slurm (SLURM_STEP_NUM_NODES, SLURM_NODEID): leave them out');
    inTask(srunTask(3, 2, 2, 0));
    expect(errorOf(() => launcherFrom({ nproc: 4 }, '--nproc')).message).toBe("Expected environment variable SLURM_STEP_TASKS_PER_NODE to be 1 on every node under --slurm --nproc (one launcher per node: srun --ntasks-per-node=1) but it is '2(x3)'; or leave out --nproc to make each task a worker");
  });

  it("without --nproc the task is a worker: torchrun's variables are exported for the run and its rendezvous", () => {
    const { SIGNIN_TORCH_LAUNCHER: _, ...task } = srunTask(2, 2, 1, 1);
    inTask(task);
    expect(launcherFrom({ slurm: true, masterAddr: 'ib-gpu01' }, '--nproc')).toBeUndefined();
    expect(process.env).toMatchObject({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'ib-gpu01', MASTER_PORT: '18456', SIGNIN_TORCH_LAUNCHER: 'slurm' });
    inTask({});
    expect(errorOf(() => launcherFrom({ masterAddr: 'x' }, '--nproc')).message).toBe('--nnodes, --node-rank, --master-addr and --master-port apply only with --nproc or --slurm');
  });
});
