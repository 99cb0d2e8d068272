/**
 * Checks of the folder a command reads run directories from (`report`, `list runs`): a wrong level
 * of the tree would otherwise give an empty report or list, exit 0, and look like "no runs".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ToolkitError } from '../errors';
import { isRunDirName, runPaths } from '../experiments/paths';

/**
 * A run directory given where the folder of run directories is expected: a report of it would be
 * empty, and train would make a run inside it, from scratch, instead of resuming it. Named as runs
 * are, so that a folder of runs that also keeps the user's config.json is not mistaken for one.
 */
export function notARunDirectory(flag: string, dir: string): void {
  if (isRunDirName(path.basename(path.resolve(dir))) && fs.existsSync(runPaths(dir).config)) {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be the folder that holds run directories but ${dir} is a run directory (it has config.json): pass ${path.dirname(path.resolve(dir))}`);
  }
}

function runFolders(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && isRunDirName(e.name));
  } catch {
    return [];
  }
}

/**
 * A folder of sweeps given where one sweep's folder is expected (`--runs-dir runs` after the main
 * job, whose runs are in runs/main): no run directory of its own, but subfolders that hold some.
 */
export function notAFolderOfSweeps(flag: string, dir: string): void {
  if (runFolders(dir).length > 0) return;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  const holders = entries.filter((e) => e.isDirectory() && runFolders(path.join(dir, e.name)).length > 0).map((e) => e.name).sort();
  if (holders.length === 0) return;
  const which = holders.length === 1 ? `its subfolder ${holders[0]} does: pass ${path.join(dir, holders[0])}` : `its subfolders ${holders.join(', ')} do: pass one of them`;
  throw new ToolkitError('ERR_INVALID_ARG', `Expected ${flag} to be the folder that holds run directories but ${dir} holds none; ${which}`);
}
