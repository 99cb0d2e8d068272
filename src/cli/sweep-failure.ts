/**
 * What a sweep leaves in $TORCHELASTIC_ERROR_FILE for the supervisor running it (torchrun, a
 * launcher, a batch script reading it) when its runs fail: the first run to fail, recorded as it
 * fails, as torch's agent names the earliest failure the root cause; with its code when it had one.
 * A run trained in the sweep's own process (`-p 1`) has recorded its error there already, earlier
 * still (src/experiments/runner.ts): that record stands.
 */
import { ToolkitError, type ErrorCode } from '../errors';

export function sweepFailure(run: { runDir: string; error: string; code?: ErrorCode }): Error {
  const error = run.code ? run.error.slice(run.code.length + 2) : run.error;
  const message = `sweep run ${run.runDir} failed: ${error}`;
  if (run.code) return ToolkitError.fromCode(run.code, message);
  const e = new Error(message);
  // Its stack would be this function's, not the failed run's (that is in the run's train.log): the error file gets the message instead.
  e.stack = undefined;
  return e;
}
