/**
 * The `--nproc N` launcher: torchrun's static rendezvous. Spawns N copies of a command on this
 * node with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
 * MASTER_ADDR, MASTER_PORT, ...), forwards their output, and, like torchrun, stops the others
 * when one fails. Several nodes: run it on each with the same --nnodes/--master-addr/--master-port
 * and its own --node-rank.
 *
 * Signals, as torchrun: each worker leads its own process group, so a terminal's Ctrl-C reaches
 * the launcher alone, which forwards SIGINT / SIGTERM to every worker's group while they run and
 * waits for them (they checkpoint and exit 130 / 143, the launch's exit code); SIGHUP (a closed
 * terminal or SSH session) and SIGQUIT reach them as SIGTERM, as torchrun terminates its workers
 * on those; a second signal SIGKILLs them. Workers get SUPERVISED_ENV: they leave escalation to
 * the launcher, and stop as on SIGHUP if the launcher itself dies (src/cli/signals.ts), since in
 * their own process groups nothing else would end them.
 *
 * Failures, as torchrun: each worker gets its own TORCHELASTIC_ERROR_FILE (in a folder made for
 * the launch, named for the launcher's pid, removed after it or, when the launcher was killed,
 * by a later launch), and the root cause of a failed launch is the worker that failed first by
 * its error file's time (by its exit's when it wrote none: a kill), not the first
 * to exit; the launch's exit code is that worker's (error-file.ts). Under a TORCHELASTIC_ERROR_FILE
 * of its own (a supervisor of one launcher per node), it copies the root cause's file there, as
 * torchrun's agent does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { list, num, obj, str, int } from '../validate';
import { workerEnv } from './env';
import { freePort } from './free-port';
import { byFirstFailure, ERROR_FILE_ENV, makeErrorDir, passOnErrorFile, workerFailure, type WorkerFailure } from './error-file';

export interface LaunchOptions {
  /** Workers on this node (torchrun's --nproc_per_node). */
  nproc: number;
  nnodes?: number;
  nodeRank?: number;
  /** Default 127.0.0.1 (one node). */
  masterAddr?: string;
  /** Default: a free port on one node, 29500 on several (torchrun's default). */
  masterPort?: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** After one worker fails, how long the others get after SIGTERM before SIGKILL. */
  graceMs?: number;
}

export interface LaunchResult {
  /** 0 when every worker exited 0, else the root cause's exit code (128 + signal when killed); interrupted: the first to exit's. */
  exitCode: number;
  /** Per local rank: exit code, or 128 + signal number. */
  codes: number[];
  /** The worker that failed first on this node, when one failed: absent when a signal stopped the launch or its workers in order. */
  rootCause?: WorkerFailure;
  /** The other workers that failed (or were stopped after the root cause), earliest first. */
  otherFailures?: WorkerFailure[];
}

/** The most workers on one node, and nodes in one job. */
export const MAX_NPROC = 1024;
export const MAX_NNODES = 65535;

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };

const isString = (x: unknown) => typeof x === 'string';

/**
 * Set to '1' in the environment of the processes a supervisor (this launcher, a sweep) starts and
 * forwards signals to: a repeated signal there is the same request again (Slurm signals every
 * process of a job as well), not an order to exit at once (src/cli/signals.ts).
 */
export const SUPERVISED_ENV = 'SIGNIN_TORCH_SUPERVISED';

/**
 * Set with SUPERVISED_ENV to the supervisor's pid: a process still loading when its supervisor was
 * killed is already another's child once it installs its handlers, and finds it gone by this pid.
 */
export const SUPERVISOR_PID_ENV = 'SIGNIN_TORCH_SUPERVISOR_PID';

/** The exit codes of a worker that stopped in order on SIGHUP, SIGINT or SIGTERM (signalExitCode in src/train/interrupt.ts). */
const ORDERLY_STOP_CODES: ReadonlySet<number> = new Set([129, 130, 143]);

/** What the launcher forwards, and as what. */
const FORWARDED: Readonly<Partial<Record<NodeJS.Signals, NodeJS.Signals>>> = { SIGINT: 'SIGINT', SIGTERM: 'SIGTERM', SIGHUP: 'SIGTERM', SIGQUIT: 'SIGTERM' };

export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  obj('options', options, 'launch options ({ nproc, command, args, ... })');
  str('command', options.command);
  list('args', options.args, 'array of strings', isString);
  if (options.env !== undefined) obj('env', options.env, 'environment object');
  const nproc = int('nproc', options.nproc, 1, MAX_NPROC);
  const nnodes = int('nnodes', options.nnodes ?? 1, 1, MAX_NNODES);
  const nodeRank = int('nodeRank', options.nodeRank ?? 0, 0, nnodes - 1);
  const masterAddr = str('masterAddr', options.masterAddr ?? '127.0.0.1');
  const masterPort = int('masterPort', options.masterPort ?? (nnodes === 1 ? await freePort() : 29500), 1, 65535);
  const graceMs = num('graceMs', options.graceMs ?? 10_000, 0);
  const children: ChildProcess[] = [];
  const codes: number[] = new Array(nproc).fill(-1);
  const exits: { ms: number; signal?: string }[] = new Array(nproc);
  const errorDir = makeErrorDir();
  const errorFile = (local: number) => path.join(errorDir, `local-rank-${local}.json`);
  let firstFailure: number | undefined;
  let interrupted = false;
  /** The workers this launcher sent SIGTERM after the first one exited non-zero. */
  const terminated = new Set<number>();
  const live = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  const forward = (signal: NodeJS.Signals): void => {
    const sent = interrupted ? 'SIGKILL' : FORWARDED[signal]!;
    interrupted = true;
    for (const c of live()) {
      try {
        process.kill(-c.pid!, sent);
      } catch {
        // exited in between
      }
    }
  };
  const forwarded = Object.keys(FORWARDED) as NodeJS.Signals[];
  for (const s of forwarded) process.on(s, forward);
  const exited = new Promise<void>((resolve) => {
    let running = nproc;
    const stopOthers = () => {
      // A worker that recorded its error is on its way out: SIGTERM would replace its exit code with 143.
      children.forEach((c, local) => {
        if (c.exitCode === null && c.signalCode === null && !fs.existsSync(errorFile(local))) {
          terminated.add(local);
          c.kill('SIGTERM');
        }
      });
      setTimeout(() => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, graceMs).unref();
    };
    for (let local = 0; local < nproc; local++) {
      const base = { ...process.env, ...options.env };
      const env = {
        ...base,
        ...workerEnv({ rank: nodeRank * nproc + local, localRank: local, worldSize: nnodes * nproc, localWorldSize: nproc, nodeRank, nnodes, masterAddr, masterPort }, base),
      };
      const child = spawn(options.command, options.args, { env: { ...env, [SUPERVISED_ENV]: '1', [SUPERVISOR_PID_ENV]: String(process.pid), [ERROR_FILE_ENV]: errorFile(local) }, stdio: 'inherit', detached: true });
      children.push(child);
      const done = (code: number, signal?: string) => {
        if (codes[local] !== -1) return;
        codes[local] = code;
        exits[local] = { ms: Date.now(), signal };
        if (code !== 0 && firstFailure === undefined) {
          firstFailure = code;
          // Interrupted, the others are stopping at the step they agreed on; SIGTERM could cut a checkpoint short.
          if (!interrupted) stopOthers();
        }
        if (--running === 0) resolve();
      };
      child.on('error', () => done(127));
      child.on('exit', (code, signal) => done(code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0), signal ?? undefined));
    }
  });
  try {
    await exited;
    // A signal to one worker (a kill of its pid, Slurm's) stops them all in order: an interruption, not a failure.
    // Once the first has stopped so, the SIGTERM this launcher sends the others can reach one whose
    // handlers are already gone while it exits at the same agreed step: that is no failure either.
    const stoppedInOrder = (local: number) => !fs.existsSync(errorFile(local))
      && (exits[local].signal === undefined ? ORDERLY_STOP_CODES.has(codes[local]) : terminated.has(local) && exits[local].signal === 'SIGTERM');
    if (firstFailure === undefined || interrupted || codes.every((c, local) => c === 0 || stoppedInOrder(local))) return { exitCode: firstFailure ?? 0, codes };
    const failures = byFirstFailure(codes.flatMap((exitCode, local) => (exitCode === 0 ? [] : [workerFailure({
      rank: nodeRank * nproc + local, localRank: local, exitCode, exitMs: exits[local].ms, signal: exits[local].signal, errorFile: errorFile(local),
    })])));
    passOnErrorFile(errorFile(failures[0].localRank));
    return { exitCode: failures[0].exitCode, codes, rootCause: failures[0], otherFailures: failures.slice(1) };
  } finally {
    for (const s of forwarded) process.removeListener(s, forward);
    fs.rmSync(errorDir, { recursive: true, force: true });
  }
}
