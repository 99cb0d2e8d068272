/** Polling for tests that kill a child process at a chosen moment. */
import type { ChildProcess } from 'node:child_process';

/** Resolves once cond() holds; rejects if the child exits first or timeoutMs passes. */
export async function waitFor(cond: () => boolean, child: ChildProcess, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (child.exitCode !== null) throw new Error('the run ended before it could be killed');
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for the run');
    await new Promise((r) => setTimeout(r, 20));
  }
}
