/**
 * PyTorch's own torchrun (torch 1.13's `python3 -m torch.distributed.run`) in a child process,
 * as a PyTorch user starts it: the reference launcher of the distributed tests.
 */
import { spawn } from 'node:child_process';
import { CHILD_ENV } from './kill-child';
import { PYTHON } from './pytorch';

export interface Exit {
  code: number | null;
  stderr: string;
  ms: number;
}

export interface TorchrunOptions {
  /** --nproc_per_node (default 2). */
  nprocPerNode?: number;
  env?: NodeJS.ProcessEnv;
  /** Killed with its workers after this (default 120 s). */
  timeoutMs?: number;
  /** Sees stderr (the workers' too) as it grows. */
  onStderr?: (s: string) => void;
}

/**
 * `torchrun --nproc_per_node N <flags> --no_python <command>` until it exits. torch 1.13's torchrun
 * under Python 3.11 (Debian 12) fails before starting any worker with its default `--redirects 0
 * --tee 0` (Std.from_str('0') is None there: 3.11's IntFlag iteration skips 0), so stdout is teed
 * through a log file (1) and stderr left to the workers. Its own process group, so that the agent
 * and its workers are killed together.
 */
export function torchrun(flags: string[], command: string[], opts: TorchrunOptions = {}): Promise<Exit> {
  const t0 = Date.now();
  const nproc = String(opts.nprocPerNode ?? 2);
  const child = spawn(PYTHON, ['-m', 'torch.distributed.run', '--nproc_per_node', nproc, '--monitor_interval', '1', '--redirects', '1', '--tee', '1', ...flags, '--no_python', ...command], {
    env: { ...CHILD_ENV, OMP_NUM_THREADS: '1', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
    opts.onStderr?.(stderr);
  });
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t0 });
    });
  });
}
