/**
 * Flags shared by the `signin-torch` command and the examples, parsed by commander: integer flags,
 * and the launcher's (torchrun's --nproc-per-node, --nnodes, --node-rank, --master-addr,
 * --master-port), so that `train` and examples/imagenet/train-resnet50.ts accept the same values
 * and refuse a bad one with the same ERR_INVALID_ARG line naming the flag, before anything runs.
 */
import { CommanderError, Option, type Command } from 'commander';
import { IssuesError, ToolkitError } from '../errors';
import { quoteText } from '../quote';
import { exportLauncherEnv, launcherVar, timeoutFromEnv } from '../distributed/env';
import { MAX_NNODES, MAX_NPROC, type LaunchOptions } from '../distributed/launch';
import { slurmPlacement } from '../distributed/slurm';
import { maxThreads, maxThreadsReason } from '../validate';

/**
 * An integer flag in [min, max], parsed by commander: a bad value is one ERR_INVALID_ARG line
 * naming the flag, before any config is read. `why` explains a bound that depends on the machine.
 */
export function intFlag(flag: string, min: number, max = Infinity, why?: string): (v: string) => number {
  const range = max !== Infinity ? `an integer in [${min}, ${max}]` : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  const expected = why ? `${range} (${why})` : range;
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be ${expected} but received ${quoteText(v)}`);
    }
    return n;
  };
}

/**
 * A number flag, parsed by commander: a value that is not a finite number or fails `ok` is one
 * ERR_INVALID_ARG line naming the flag (Number() alone lets NaN through to the run).
 */
export function numberFlag(flag: string, expected: string, ok: (n: number) => boolean): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be ${expected} but received ${quoteText(v)}`);
    return n;
  };
}

/** The spellings of the workers-per-machine flag: the CLI's, and torchrun's. */
export type NprocFlag = '--nproc' | '--nproc-per-node';

/** What commander gives for addLauncherOptions' flags (each undefined when not given). */
export interface LauncherFlags {
  nproc?: number;
  nprocPerNode?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  slurm?: boolean;
}

/**
 * Adds the launcher's options to a command. Both spellings of the workers-per-machine flag are
 * accepted (a torchrun user types --nproc-per-node), not together; `shown` is the one the help lists.
 */
export function addLauncherOptions(command: Command, shown: NprocFlag): Command {
  const nproc = (flag: NprocFlag): Option => new Option(`${flag} <n>`, "data-parallel: spawn n worker processes on this machine with torchrun's variables (RANK, WORLD_SIZE, ...)")
    .argParser(intFlag(flag, 1, MAX_NPROC));
  const alias = nproc(shown === '--nproc' ? '--nproc-per-node' : '--nproc').hideHelp();
  const options = [
    nproc(shown).conflicts(alias.attributeName()),
    alias,
    new Option('--nnodes <n>', 'data-parallel: machines in the job (default: 1)').argParser(intFlag('--nnodes', 1, MAX_NNODES)),
    new Option('--node-rank <n>', "data-parallel: this machine's index (default: 0)").argParser(intFlag('--node-rank', 0, MAX_NNODES - 1)),
    new Option('--master-addr <host>', 'data-parallel: address of rank 0 (default: 127.0.0.1)'),
    new Option('--master-port <port>', 'data-parallel: TCP port of rank 0 (default: a free one on one machine, 29500 on several)').argParser(intFlag('--master-port', 1, 65535)),
    new Option('--slurm', `data-parallel under srun: each task a worker (RANK from SLURM_PROCID, ...), or with ${shown} each task (one per node) a launcher; master: the step's first node, port 15000 + SLURM_JOB_ID mod 10000`),
  ];
  for (const o of options) command.addOption(o);
  return command;
}

/** What `launch` needs besides the command: the placement of this machine's workers. */
export type Launcher = Omit<LaunchOptions, 'command' | 'args'> & { nnodes: number };

/**
 * The launch the flags ask for, their values checked together; undefined when this process
 * trains itself: without --nproc, or as a worker (WORLD_SIZE is set by the launcher that started
 * it, or by torchrun), which re-runs the launching command line.
 */
export function launcherFrom(flags: LauncherFlags, shown: NprocFlag): Launcher | undefined {
  const nproc = flags.nproc ?? flags.nprocPerNode;
  const slurm = flags.slurm === true || launcherVar() === 'slurm';
  if (slurm && (flags.nnodes !== undefined || flags.nodeRank !== undefined)) {
    throw new ToolkitError('ERR_INVALID_ARG', '--nnodes and --node-rank come from srun under --slurm (SLURM_STEP_NUM_NODES, SLURM_NODEID): leave them out');
  }
  if (nproc === undefined) {
    if (slurm) return slurmWorker(flags);
    if ([flags.nnodes, flags.nodeRank, flags.masterAddr, flags.masterPort].some((v) => v !== undefined)) {
      throw new ToolkitError('ERR_INVALID_ARG', `--nnodes, --node-rank, --master-addr and --master-port apply only with ${shown} or --slurm`);
    }
    return undefined;
  }
  const nnodes = flags.nnodes ?? 1;
  if (flags.nodeRank !== undefined && flags.nodeRank >= nnodes) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected --node-rank to be an integer in [0, ${nnodes - 1}] (below --nnodes ${nnodes}) but received ${flags.nodeRank}`);
  }
  if (process.env.WORLD_SIZE !== undefined) return undefined;
  // Read by every worker once it has started; a bad value is refused here, once, before any starts.
  timeoutFromEnv();
  if (slurm) return slurmLauncher(nproc, flags, shown);
  return { nproc, nnodes, nodeRank: flags.nodeRank, masterAddr: flags.masterAddr, masterPort: flags.masterPort };
}

/** The master flags over MASTER_ADDR / MASTER_PORT, which win over what SLURM's variables give. */
function withMasterFlags(flags: LauncherFlags, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(flags.masterAddr === undefined ? {} : { MASTER_ADDR: flags.masterAddr }),
    ...(flags.masterPort === undefined ? {} : { MASTER_PORT: String(flags.masterPort) }),
  };
}

/** `--slurm` alone: this srun task is a worker. Its torchrun variables go into process.env now, so that bad srun variables are refused before the config is read. */
function slurmWorker(flags: LauncherFlags): undefined {
  if (process.env.WORLD_SIZE !== undefined) return undefined;
  const env = withMasterFlags(flags, { ...process.env, SIGNIN_TORCH_LAUNCHER: 'slurm' });
  exportLauncherEnv(env);
  Object.assign(process.env, env);
  return undefined;
}

/** `--slurm --nproc G`: this srun task, the only one on its node, launches G workers as node SLURM_NODEID. */
function slurmLauncher(nproc: number, flags: LauncherFlags, shown: NprocFlag): Launcher {
  const p = slurmPlacement(withMasterFlags(flags, process.env));
  if (p.localWorldSize !== 1) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected environment variable SLURM_STEP_TASKS_PER_NODE to be 1 on every node under --slurm ${shown} (one launcher per node: srun --ntasks-per-node=1) but it is '${process.env.SLURM_STEP_TASKS_PER_NODE}'; or leave out ${shown} to make each task a worker`);
  }
  return { nproc, nnodes: p.nnodes, nodeRank: p.nodeRank, masterAddr: p.masterAddr, masterPort: p.masterPort };
}

/** A global batch the world size does not divide: refused here rather than by every worker at once. */
export function checkWorldSize(batchSize: number, l: Launcher, shown: NprocFlag): void {
  const world = l.nproc * l.nnodes;
  if (batchSize % world === 0) return;
  throw new IssuesError('ERR_CONFIG', `Invalid --batch-size for ${shown} ${l.nproc}${l.nnodes > 1 ? ` × --nnodes ${l.nnodes}` : ''}`, [{
    code: 'batch_not_divisible', path: 'batchSize',
    message: `the global batch ${batchSize} must be a multiple of the world size ${world}: pass a --batch-size that ${world} divides, or another ${shown}`,
  }]);
}

/**
 * Workers on the CPU, bounded as `sweep --processes` is: each is a libtorch process with its own
 * threads on this machine's cores, so more only thrash (torchrun bounds nothing, its workers being
 * one per GPU). On CUDA the device check bounds them by the GPUs instead (deviceIssues).
 *
 * @param device the device the workers train on, 'auto' resolved where it can be.
 * @param asked the config's device, as the message names it.
 */
export function checkCpuWorkers(l: Launcher, device: string, asked: string, shown: NprocFlag): void {
  if (device !== 'cpu' || l.nproc <= maxThreads()) return;
  throw new ToolkitError('ERR_INVALID_ARG', `Expected ${shown} to be an integer in [1, ${maxThreads()}] (${maxThreadsReason()}: with device '${asked}' every worker trains on this machine's CPUs) but received ${l.nproc}`);
}

/**
 * How an example script ends on an error: commander's own (bad flag, --help) as commander prints
 * it, anything else as one `<code>: <message>` line; never a stack for a user's mistake.
 */
export function exitWithError(e: unknown): never {
  if (e instanceof CommanderError) {
    if (e.exitCode !== 0) process.stderr.write(`${e.message}\n`);
    process.exit(e.exitCode);
  }
  const err = e as { code?: string; message?: string };
  process.stderr.write(`${err.code ?? 'ERROR'}: ${err.message ?? String(e)}\n`);
  process.exit(1);
}
