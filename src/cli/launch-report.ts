/**
 * What a `--nproc` launcher says once its workers have exited, the same for `signin-torch train`
 * and examples/imagenet/train-resnet50.ts: the root cause's summary on stderr (the workers printed
 * their errors, interleaved: this says which came first) and, on node 0, failed.json's rootCause.
 */
import type { LaunchResult } from '../distributed/launch';
import { formatFailures } from '../distributed/error-file';
import { recordRootCause } from '../experiments/root-cause';
import type { Launcher } from './flags';
import { formatError } from './format-error';

/** `runDir`: the run the workers trained, whose failed.json gets the root cause; undefined when they trained none (an evaluation). */
export function reportLaunch(r: LaunchResult, launcher: Launcher, runDir: string | undefined, err: (s: string) => void): void {
  if (!r.rootCause) return;
  err(formatFailures(r.rootCause, r.otherFailures ?? []));
  const multiNode = launcher.nnodes > 1;
  if (multiNode) err("  (this node's workers only: a failure on another node is in that node's launcher's summary)\n");
  // Rank 0 writes the run, on node 0. With several nodes, an ERR_DISTRIBUTED there may be the echo of another node's failure.
  if (runDir === undefined || (launcher.nodeRank ?? 0) !== 0 || (multiNode && r.rootCause.code === 'ERR_DISTRIBUTED')) return;
  try {
    recordRootCause(runDir, r.rootCause);
  } catch (e) {
    err(`the root cause is not in ${runDir}'s failed.json: ${formatError(e)}\n`);
  }
}
