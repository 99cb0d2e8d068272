/**
 * What a sweep leaves in $TORCHELASTIC_ERROR_FILE for the supervisor running it (torchrun, a
 * launcher, a batch script reading it) when its runs fail: the first run to fail, recorded as it
 * fails, as torch's agent names the earliest failure the root cause; with its code when it had one.
 * A run trained in the sweep's own process (`-p 1`) has recorded its error there already, earlier
 * still (src/experiments/runner.ts): that record stands.
 */
import { ToolkitError, type ErrorCode } from '../errors';

/**
 * What recordErrorFile writes: the run's coded error (in a child process too: its own error file
 * gives the sweep the code), or without a code (a child killed before it wrote one: its exit and
 * the end of its train.log) the line alone, which the file gets as `Error: <line>` with that line
 * as the traceback: an Error made here would carry this function's stack.
 */
export function sweepFailure(run: { runDir: string; error: string; code?: ErrorCode }): ToolkitError | string {
  const error = run.code ? run.error.slice(run.code.length + 2) : run.error;
  const message = `sweep run ${run.runDir} failed: ${error}`;
  return run.code ? ToolkitError.fromCode(run.code, message) : message;
}
