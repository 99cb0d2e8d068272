/**
 * `--import <module>`: a user's modules (registerDataset, registerModel, registerPruner, ...)
 * loaded before the CLI builds its commands, as timm resolves `--model` names only after the module
 * that registers them is imported. Loaded first, their names are the flags' choices and configs'
 * valid names; the paths are absolute from then on, so that the workers of `train --nproc` and a
 * sweep's children, started elsewhere, load the same files. No config field names them: a
 * config's hash, and so its run directory, stays what it is without extensions.
 */
import * as path from 'node:path';
import { IssuesError, ToolkitError } from '../errors';
import { isUnregisteredName } from '../experiments/schema';
import type { ChildCommand } from '../experiments/sweep';

export const IMPORT_FLAG = '--import';

/**
 * The modules named by `--import <m>` / `--import=<m>` anywhere in a command line (node, script,
 * arguments), as commander reads a program option before or after the command; `--` ends them.
 */
export function importFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === IMPORT_FLAG) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) throw new ToolkitError('ERR_INVALID_ARG', `Expected a module path after ${IMPORT_FLAG} but received ${v === undefined ? 'nothing' : `'${v}'`}`);
      out.push(v);
      i++;
    } else if (a.startsWith(`${IMPORT_FLAG}=`)) out.push(a.slice(IMPORT_FLAG.length + 1));
  }
  return out;
}

/**
 * Loads each module (require: CommonJS, or TypeScript when node runs with a loader such as tsx),
 * relative paths against the working folder; returns their absolute paths. A module that cannot
 * be found, or throws while loading, is one ERR_INVALID_ARG line naming the flag and the module.
 */
export function loadImports(modules: readonly string[], cwd: string = process.cwd()): string[] {
  return modules.map((m) => {
    if (m.length === 0) throw new ToolkitError('ERR_INVALID_ARG', `Expected a module path for ${IMPORT_FLAG} but received ''`);
    const file = path.resolve(cwd, m);
    try {
      require(file);
    } catch (e) {
      const reason = (e as Error).message?.split('\n')[0] ?? String(e);
      throw new ToolkitError('ERR_INVALID_ARG', `Expected a module that loads for ${IMPORT_FLAG} but ${file} failed: ${reason}`);
    }
    return file;
  });
}

/** A child's command line with the same modules to import (a sweep's `train` children). */
export function withImports(cmd: ChildCommand, files: readonly string[]): ChildCommand {
  return { ...cmd, args: [...cmd.args, ...files.flatMap((f) => [IMPORT_FLAG, f])] };
}

/**
 * The fix a user with a name of their own needs when a command refuses it (an unknown dataset,
 * model or pruner): the CLI's error line ends with it. Empty for any other error.
 */
export function unknownNameHint(e: unknown): string {
  const unknownName = e instanceof ToolkitError && e.code === 'ERR_UNKNOWN_NAME' && /^Unknown (dataset|model|pruner) /.test(e.message);
  return unknownName || namesUnregistered(e) ? `; a name of your own: ${IMPORT_FLAG} the module that registers it (docs/extending.md)` : '';
}

function namesUnregistered(e: unknown): e is IssuesError {
  return e instanceof IssuesError && e.issues.some(isUnregisteredName);
}

/**
 * The error as the CLI prints it: a config naming what the registries lack loses the fix the
 * library gives code (register it in the process), as unknownNameHint gives the CLI's.
 */
export function withoutCodeFix(e: unknown): unknown {
  return namesUnregistered(e) ? new IssuesError(e.code, e.title, e.issues) : e;
}
