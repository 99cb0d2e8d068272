/** Polling and killing, for tests that SIGKILL a child process at a chosen moment. */
import { spawn, type ChildProcess } from 'node:child_process';

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
 * of that file pauses inside the write), then SIGKILLs it there.
 */
export async function killInWrite(args: string[], pauseWrite: string): Promise<void> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SIGNIN_TORCH_LOG_LEVEL: 'warn', SIGNIN_TORCH_PAUSE_WRITE: pauseWrite },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  await waitFor(() => /paused writing /.test(stderr), child, 240_000);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
