/**
 * The small files a report is made from, kept beside it. Run directories hold checkpoints (MBs a
 * run) and are not committed, so a report whose runs are gone could not be regenerated, nor grown
 * by later seeds. Copying each finished run's config.json, metrics.jsonl, final.json (and
 * transfer.json) — a few KB — into `<out>/runs/<run>/` makes `report --runs-dir <out>/runs`
 * reproduce the report, and new runs can be added there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomic';
import { readRecordBytes } from '../bounded-read';
import { str } from '../validate';
import { RUN_FILES } from './paths';

const RECORD_FILES = [RUN_FILES.config, RUN_FILES.metrics, RUN_FILES.final, RUN_FILES.transfer] as const;

/** The folder under a report's output folder that holds the records. */
export function recordsDir(outDir: string): string {
  return path.join(str('outDir', outDir), 'runs');
}

/**
 * Copies the record files of the given (finished) run directories into recordsDir(outDir),
 * replacing older copies of the same run; returns the run directories copied. A run whose
 * directory is already that copy is left alone. Each record is read as the report reads it
 * (readRecordBytes): a regular file within MAX_RECORD_BYTES, else ERR_INVALID_ARG naming it.
 */
export function copyRunRecords(runDirs: readonly string[], outDir: string): string[] {
  const root = recordsDir(outDir);
  const copied: string[] = [];
  for (const dir of runDirs) {
    const to = path.join(root, path.basename(dir));
    if (path.resolve(to) === path.resolve(dir)) continue;
    for (const file of RECORD_FILES) {
      const from = path.join(dir, file);
      if (fs.existsSync(from)) writeFileAtomic(path.join(to, file), readRecordBytes(from));
    }
    copied.push(dir);
  }
  return copied;
}
