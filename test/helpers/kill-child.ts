/**
 * The CLI in child processes, started from the sources as a user runs it, and SIGKILLed at a
 * chosen moment: the harness of the tests that kill training runs and resume them.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli.ts');

/** The children's environment: warnings and errors only, so that stderr holds what went wrong. */
export const CHILD_ENV: NodeJS.ProcessEnv = { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn' };

/** `node` arguments that run `signin-torch <args>`. */
export function cliArgs(args: string[]): string[] {
  return ['--import', require.resolve('tsx'), CLI, ...args];
}

/** `node` arguments that run `signin-torch train --config <configFile> --runs-dir <runsDir> <extra>`. */
export function trainArgs(configFile: string, runsDir: string, extra: string[] = []): string[] {
  return cliArgs(['train', '--config', configFile, '--runs-dir', runsDir, ...extra]);
}

/** Runs `signin-torch train` in a child process until it exits. */
export function runTrain(configFile: string, runsDir: string, extra: string[] = []): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, trainArgs(configFile, runsDir, extra), { encoding: 'utf8', env: CHILD_ENV });
}

/** Trains (or resumes) a run to its end in a child process; throws with its stderr when it fails. */
export function trainToEnd(configFile: string, runsDir: string, extra: string[] = []): void {
  const r = runTrain(configFile, runsDir, extra);
  if (r.status !== 0) throw new Error(`train failed (${r.status}): ${r.stderr}`);
}

/** Resolves once cond() holds; rejects if the child exits first or timeoutMs passes. */
export async function waitFor(cond: () => boolean, child: ChildProcess, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (child.exitCode !== null) throw new Error('the run ended before it could be killed');
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for the run');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `node <args>` with SIGNIN_TORCH_PAUSE_WRITE = pauseWrite ('<file name>:<n>': the n-th write
 * of that file pauses inside the write), calls whilePaused with its pid once it has paused there,
 * then SIGKILLs it. Returns the temporary file that the killed write leaves behind.
 */
export async function killInWrite(args: string[], pauseWrite: string, whilePaused?: (pid: number) => void): Promise<string> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...CHILD_ENV, SIGNIN_TORCH_PAUSE_WRITE: pauseWrite },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  try {
    await waitFor(() => /paused writing /.test(stderr), child, 240_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  const exited = new Promise((r) => child.once('exit', r));
  try {
    whilePaused?.(child.pid!);
  } finally {
    // Also when whilePaused fails: a paused child would wait forever.
    child.kill('SIGKILL');
    await exited;
  }
  return /paused writing (\S+)/.exec(stderr)![1];
}
