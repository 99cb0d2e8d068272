/**
 * srun tasks bound to a GPU each (`--gpus-per-task=1`, or `--gpu-bind` splitting the step's GPUs):
 * each sees one CUDA device, its own, and a bare 'cuda' trains there, cuda:0, in the device check
 * (deviceIssues) and the placement (rankPlacement) alike, one rule (srunTaskGpu). torchrun's rule,
 * cuda:<local rank>, stays everywhere else: no SLURM, a launcher's workers inside one task, tasks
 * sharing a GPU. The device count is a parameter: no GPU is needed. The environments are those
 * srun 22.05 gives a task (srun(1)'s OUTPUT ENVIRONMENT VARIABLES; SLURM_GPUS_PER_TASK from sbatch's).
 */
import { rankPlacement, type DistributedEnv } from '../../src/distributed';
import { srunTaskGpu } from '../../src/distributed/slurm';
import { deviceIssues } from '../../src/experiments/devices';
import { errorOf } from '../helpers/error-of';

/** Task `procid` of an srun step of 2 nodes × 2 tasks, each task a worker as `--slurm` exports it. */
function task(procid: number, gpus: Record<string, string>): NodeJS.ProcessEnv {
  return {
    SLURM_STEP_NUM_TASKS: '4', SLURM_STEP_NUM_NODES: '2', SLURM_STEP_TASKS_PER_NODE: '2(x2)', SLURM_PROCID: String(procid),
    SLURM_LOCALID: String(procid % 2), SLURM_NODEID: String(Math.floor(procid / 2)), SLURM_JOB_ID: '77',
    WORLD_SIZE: '4', RANK: String(procid), LOCAL_RANK: String(procid % 2), LOCAL_WORLD_SIZE: '2', ...gpus,
  };
}
const distributed = (procid: number): DistributedEnv => ({ rank: procid, localRank: procid % 2, worldSize: 4, localWorldSize: 2, masterAddr: 'n1', masterPort: 15077 });

const perTask = { SLURM_GPUS_PER_TASK: '1', SLURM_GPUS_ON_NODE: '2', SLURM_STEP_GPUS: '0,1', CUDA_VISIBLE_DEVICES: '0' };
const typedPerTask = { SLURM_GPUS_PER_TASK: 'a100:1', SLURM_GPUS_ON_NODE: '2' };
const gpuBind = { SLURM_GPUS_ON_NODE: '2', SLURM_STEP_GPUS: '2,3', CUDA_VISIBLE_DEVICES: '3' };
const sharedOne = { SLURM_GPUS_ON_NODE: '1', SLURM_STEP_GPUS: '0', CUDA_VISIBLE_DEVICES: '0' };
const allOfNode = { SLURM_GPUS_ON_NODE: '2', SLURM_STEP_GPUS: '0,1', CUDA_VISIBLE_DEVICES: '0,1' };

const place = (procid: number, gpus: Record<string, string>, deviceCount: number) => rankPlacement('cuda', distributed(procid), { deviceCount, vars: task(procid, gpus) }).device;

it('a task bound to its own GPU trains on cuda:0, the one it sees, and the device check lets 2 per node through', () => {
  for (const gpus of [perTask, typedPerTask, gpuBind]) {
    for (const procid of [0, 1, 2, 3]) {
      expect(srunTaskGpu(task(procid, gpus), 1, 2)).toBe(true);
      expect(place(procid, gpus, 1)).toBe('cuda:0');
      expect(deviceIssues('cuda', 1, 2, task(procid, gpus))).toEqual([]);
      expect(deviceIssues('auto', 1, 2, task(procid, gpus))).toEqual([]);
    }
  }
});

it("torchrun's rule elsewhere: every GPU of the node visible, no SLURM, or a launcher's workers inside one task", () => {
  // --gpus-per-node=2 without binding: each task sees both, and takes its local rank's.
  expect(place(1, allOfNode, 2)).toBe('cuda:1');
  expect(deviceIssues('cuda', 2, 2, task(1, allOfNode))).toEqual([]);
  // No SLURM at all: torchrun --nproc_per_node 2 on a machine with one GPU is refused as before.
  const torchrun = { WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2' };
  expect(rankPlacement('cuda', distributed(3), { deviceCount: 1, vars: torchrun }).device).toBe('cuda:1');
  expect(deviceIssues('cuda', 1, 2, torchrun)).toEqual([expect.objectContaining({ code: 'unavailable_device' })]);
  // `--slurm --nproc 2` (one launcher task per node; its 2 workers share the task's one GPU): WORLD_SIZE 4 is not the step's 2 tasks.
  const launched = { ...task(1, perTask), SLURM_STEP_NUM_TASKS: '2', SLURM_STEP_TASKS_PER_NODE: '1(x2)', SLURM_PROCID: '0', SLURM_LOCALID: '0' };
  expect(srunTaskGpu(launched, 1, 2)).toBe(false);
  expect(rankPlacement('cuda', distributed(1), { deviceCount: 1, vars: launched }).device).toBe('cuda:1');
  expect(deviceIssues('cuda', 1, 2, launched)).toHaveLength(1);
});

it('tasks that share one GPU, or see none, or were given 2 each, are not bound to one of their own', () => {
  // --gpus-per-node=1 with 2 tasks: both see the same GPU; two trainers on it are refused as before.
  expect(srunTaskGpu(task(1, sharedOne), 1, 2)).toBe(false);
  expect(place(1, sharedOne, 1)).toBe('cuda:1');
  expect(deviceIssues('cuda', 1, 2, task(1, sharedOne))[0].message).toMatch(/^Expected at most 1 process on this machine with device 'cuda'/);
  // No device visible: the one message that says so.
  expect(srunTaskGpu(task(0, perTask), 0, 2)).toBe(false);
  expect(deviceIssues('cuda', 0, 2, task(0, perTask))[0].message).toMatch(/^Expected 'cpu' or 'auto' but received 'cuda' \(libtorch sees 0 CUDA devices/);
  // --gpus-per-task=2: each sees 2, placed by local rank as torchrun would.
  expect(srunTaskGpu(task(1, { SLURM_GPUS_PER_TASK: '2', SLURM_GPUS_ON_NODE: '4' }), 2, 2)).toBe(false);
  expect(place(1, { SLURM_GPUS_PER_TASK: '2', SLURM_GPUS_ON_NODE: '4' }, 2)).toBe('cuda:1');
  // Explicit devices are untouched: cuda:1 does not exist in a bound task.
  expect(deviceIssues('cuda:1', 1, 2, task(1, perTask))).toHaveLength(1);
  expect(rankPlacement('cuda:0', distributed(1), { deviceCount: 1, vars: task(1, perTask) }).device).toBe('cuda:0');
  expect(rankPlacement('cpu', distributed(1), { deviceCount: 1, vars: task(1, perTask) }).device).toBe('cpu');
});

it('names a bad machine argument', () => {
  expect(errorOf(() => rankPlacement('cuda', distributed(1), { deviceCount: -1, vars: {} })).message).toMatch(/machine\.deviceCount/);
  expect(errorOf(() => rankPlacement('cuda', distributed(1), 7 as never)).message).toMatch(/machine/);
  expect(errorOf(() => deviceIssues('cuda', 1, 2, null as never)).message).toMatch(/env/);
});
