/**
 * `signin-torch train --slurm` as srun starts it, with the variables srun gives each task
 * (slurm-env.test.ts has them from a real srun) set by hand on loopback: one task per worker (2
 * tasks on one node), and one launcher task per node (`--slurm --nproc 1` on 2 nodes). Each ends
 * where 1 process with the global batch ends (float32 tolerance, masks bit-identical), the port
 * derived from the job id (15000 + SLURM_JOB_ID mod 10000) and the store on the step's first node.
 * Where a SLURM controller answers (`srun` works), the same training under a real `srun -n 2`,
 * and `--slurm` in the shell of a real sbatch job (no srun) refused.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { runDirFor } from '../../src/experiments';
import { checkpointDiff } from '../helpers/checkpoint-diff';
import { tmpDir } from '../helpers/data-fixtures';
import { lenetSignInRun } from '../helpers/lenet-run';
import { CHILD_ENV, trainArgs, trainToEnd } from '../helpers/kill-child';

const dir = tmpDir('signin-slurm-train-');
const { config, configFile } = lenetSignInRun(dir, { images: 256, epochs: 2 });
const single = path.join(dir, 'single');
beforeAll(() => trainToEnd(configFile, single), 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The environment without any launcher's variables (these tests may themselves run in a SLURM job or under torchrun); SLURM_CONF kept for srun. */
const CLEAN_ENV = Object.fromEntries(Object.entries(CHILD_ENV).filter(([k]) => !/^(SLURM_(?!CONF$)|MASTER_|TORCHELASTIC_)|^(RANK|LOCAL_RANK|WORLD_SIZE|LOCAL_WORLD_SIZE|GROUP_RANK|SIGNIN_TORCH_LAUNCHER)$/.test(k)));

/** A job id whose derived port (15000 + id mod 10000) is free on 127.0.0.1 now. */
async function jobIdWithFreePort(): Promise<number> {
  for (let id = 100 + (process.pid % 9000); ; id++) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer().once('error', () => resolve(false)).listen(15000 + (id % 10000), '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return 3_000_000 + id;
  }
}

/** srun's variables for the task `procid` of a step of `nodes` × `perNode` tasks on localhost,nodeb,... */
function srunVars(jobId: number, nodes: number, perNode: number, procid: number): NodeJS.ProcessEnv {
  return {
    SLURM_JOB_ID: String(jobId), SLURM_STEP_ID: '0', SLURM_STEP_NUM_TASKS: String(nodes * perNode), SLURM_STEP_NUM_NODES: String(nodes),
    SLURM_STEP_NODELIST: ['localhost', 'nodeb', 'nodec'].slice(0, nodes).join(','), SLURM_STEP_TASKS_PER_NODE: `${perNode}(x${nodes})`,
    SLURM_NODEID: String(Math.floor(procid / perNode)), SLURM_LOCALID: String(procid % perNode), SLURM_PROCID: String(procid),
    SLURM_NTASKS: String(nodes * perNode), SLURM_NNODES: String(nodes),
  };
}

/** The tasks of one step, each `train --slurm <extra>` in `runs`; resolves to their exit codes and stderr. */
function runStep(vars: NodeJS.ProcessEnv[], runs: string[], extra: string[] = []): Promise<{ codes: number[]; stderr: string }> {
  let stderr = '';
  return Promise.all(vars.map((v, i) => new Promise<number>((resolve) => {
    const child = spawn(process.execPath, trainArgs(configFile, runs[i], ['--slurm', ...extra]), { env: { ...CLEAN_ENV, ...v }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => { stderr += String(d); });
    child.on('exit', (code) => resolve(code ?? 128));
  }))).then((codes) => ({ codes, stderr }));
}

it('2 srun tasks on one node, each a worker (train --slurm), end where 1 process with the global batch does', async () => {
  const runs = path.join(dir, 'per-task');
  const job = await jobIdWithFreePort();
  const r = await runStep([0, 1].map((p) => srunVars(job, 1, 2, p)), [runs, runs]);
  expect({ codes: r.codes, stderr: r.codes.some(Boolean) ? r.stderr : '' }).toEqual({ codes: [0, 0], stderr: '' });
  // Rank 0 alone speaks for the run.
  expect(r.stderr.match(/^training /gm)).toHaveLength(1);
  expect(checkpointDiff(runDirFor(single, config), runDirFor(runs, config))).toBeLessThan(1e-5);
}, 120_000);

it('2 nodes of one srun task each, a launcher (train --slurm --nproc 1), end there too; node 1 writes nothing of the run', async () => {
  const [runs0, runs1] = [path.join(dir, 'per-node-0'), path.join(dir, 'per-node-1')];
  const job = await jobIdWithFreePort();
  const r = await runStep([0, 1].map((p) => srunVars(job, 2, 1, p)), [runs0, runs1], ['--nproc', '1']);
  expect({ codes: r.codes, stderr: r.codes.some(Boolean) ? r.stderr : '' }).toEqual({ codes: [0, 0], stderr: '' });
  expect(checkpointDiff(runDirFor(single, config), runDirFor(runs0, config))).toBeLessThan(1e-5);
  expect(fs.readdirSync(runDirFor(runs1, config))).toEqual(['config.json']);
}, 120_000);

it('2 srun tasks of one node with --slurm --nproc are refused before training, naming SLURM_STEP_TASKS_PER_NODE', async () => {
  const runs = path.join(dir, 'refused');
  const r = await runStep([srunVars(await jobIdWithFreePort(), 1, 2, 0)], [runs], ['--nproc', '1']);
  expect(r.codes).toEqual([1]);
  expect(r.stderr).toBe("ERR_INVALID_ARG: Expected environment variable SLURM_STEP_TASKS_PER_NODE to be 1 on every node under --slurm --nproc (one launcher per node: srun --ntasks-per-node=1) but it is '2(x1)'; or leave out --nproc to make each task a worker\n");
  expect(fs.existsSync(runs)).toBe(false);
});

/** Whether a SLURM controller runs jobs here: `srun -n 2 true` within 20 s. */
function srunWorks(): boolean {
  const r = spawnSync('srun', ['-n', '2', '--time', '1', 'true'], { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

function underSrun(): void {
  it('a real `srun -n 2 ... train --slurm` ends where 1 process with the global batch does', () => {
    const runs = path.join(dir, 'srun');
    const r = spawnSync('srun', ['-n', '2', '--time', '5', process.execPath, ...trainArgs(configFile, runs, ['--slurm'])], { encoding: 'utf8', env: CLEAN_ENV, timeout: 110_000 });
    expect({ code: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(checkpointDiff(runDirFor(single, config), runDirFor(runs, config))).toBeLessThan(1e-5);
  }, 120_000);

  it('`train --slurm` in the shell of an sbatch job, without srun, says to start it with srun', () => {
    const out = path.join(dir, 'sbatch.out');
    const script = `#!/bin/sh\n${[process.execPath, ...trainArgs(configFile, path.join(dir, 'sbatch'), ['--slurm'])].map((a) => `'${a}'`).join(' ')}\n`;
    const r = spawnSync('sbatch', ['--wait', '-n', '2', '--time', '2', '-o', out], { input: script, encoding: 'utf8', env: CLEAN_ENV, timeout: 110_000 });
    expect(r.status).toBe(1);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^ERR_INVALID_ARG: Expected environment variable SLURM_STEP_NUM_TASKS to be an integer in \[1, \d+\] but it is unset \(the tasks of this job step, which srun sets for each task it starts; an sbatch or salloc shell is not one: start the training with srun\)\n$/);
  }, 120_000);
}

if (srunWorks()) {
  describe('under a real srun', underSrun);
} else {
  console.warn('skipping the real-srun tests of slurm-train.test.ts: no SLURM controller answered `srun -n 2 true` (docs/distributed.md, "Under SLURM", says how one was set up on one machine)');
  it.skip('trains under a real srun (no SLURM controller here)', () => undefined);
}
