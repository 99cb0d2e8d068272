/**
 * failed.json's `rootCause`: the worker of a `--nproc` launch that failed first, recorded by the
 * launcher once its workers have exited. Rank 0 records its own error (often only the echo of
 * another rank's failure: a peer that vanished, a timeout); this says where the failure began.
 */
import * as fs from 'node:fs';
import { writeJsonAtomic } from '../atomic';
import { readRecordBounded } from '../bounded-read';
import type { WorkerFailure } from '../distributed/error-file';
import { runPaths } from './paths';
import { parseRecordJson } from './record-json';

/** failed.json's rootCause: the launcher's record of the worker, less when it failed. */
export type RootCause = Omit<WorkerFailure, 'timeMs'>;

/**
 * Adds `rootCause` to the run's failed.json (rank 0's { code, message } kept), writing the file
 * when rank 0 left none (it was stopped or killed). interrupted.json goes: that stop was the
 * launcher's, after the failure, and the run reads as failed. A folder that is not a run yet
 * (the workers failed before making it) is left alone; returns whether the record was written.
 */
export function recordRootCause(runDir: string, cause: RootCause): boolean {
  const paths = runPaths(runDir);
  if (!fs.existsSync(paths.config)) return false;
  let own: Record<string, unknown> = {};
  try {
    const parsed: unknown = parseRecordJson(readRecordBounded(paths.failed));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) own = parsed as Record<string, unknown>;
  } catch {
    // none, or unreadable: the root cause is then the record
  }
  const { rank, localRank, host, exitCode, code, message } = cause;
  writeJsonAtomic(paths.failed, { ...own, rootCause: { rank, localRank, host, exitCode, ...(code === undefined ? {} : { code }), message } });
  fs.rmSync(paths.interrupted, { force: true });
  return true;
}
