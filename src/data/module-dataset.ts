/**
 * A Dataset class of one's own in DataLoader worker threads, as PyTorch's
 * `DataLoader(MyDataset(...), num_workers=4)`: its toSpec() returns
 * `moduleSpec(__filename, 'MyDataset', args)`, and each worker requires that module and constructs
 * `new MyDataset(args)`. A class, not a factory: the spec then names what the user wrote, and the
 * worker's instance is built by the same constructor as the main thread's.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors';
import { DatasetError, isDataset, type Dataset, type ModuleDatasetSpec } from './base';

/**
 * The spec a Dataset class of one's own returns from toSpec().
 * @param module the module that exports the class: `__filename`, `import.meta.url` or a package name
 *   (resolved from signin-torch's own location). Its top-level code runs again in every worker.
 * @param exportName the class's export name; a worker constructs `new exports[exportName](args)`.
 * @param args the constructor's argument, structured-cloned to each worker (plain objects, arrays,
 *   strings, numbers, typed arrays, SharedArrayBuffers: no functions, class instances lose their methods).
 */
export function moduleSpec(module: string, exportName: string, args?: unknown): ModuleDatasetSpec {
  return { kind: 'module', module, export: exportName, args };
}

/**
 * Checks a module spec in the main thread, where the DataLoader is made: a relative path would
 * resolve from the worker's file, and args that do not clone would fail in `new Worker`.
 */
export function checkModuleSpec(spec: ModuleDatasetSpec): void {
  const m = spec.module;
  if (typeof m !== 'string' || m === '' || m.startsWith('.')) {
    throw new InvalidArgumentError('toSpec().module', 'the absolute path (__filename), file: URL (import.meta.url) or package name of the module exporting the dataset class', m);
  }
  if (typeof spec.export !== 'string' || spec.export === '') throw new InvalidArgumentError('toSpec().export', 'the export name of the dataset class', spec.export);
  try {
    structuredClone(spec.args);
  } catch (e) {
    throw new InvalidArgumentError('toSpec().args', `structured-cloneable data, which reaches the worker threads (plain objects, arrays, strings, numbers, typed arrays; ${(e as Error).message})`, spec.args);
  }
}

function thrown(e: unknown): string {
  const err = e as { name?: unknown; message?: unknown } | undefined;
  return typeof err?.message === 'string' ? `${String(err.name ?? 'Error')}: ${err.message}` : String(e);
}

/** Why a module did not load, with the fix when it is TypeScript that node cannot read. */
function loadProblem(file: string, e: unknown): string {
  const unread = e instanceof SyntaxError || (e as { code?: unknown })?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
  const hint = unread && /\.[cm]?tsx?$/.test(file)
    ? ': a TypeScript module needs node to run with a TypeScript loader (npx tsx, or NODE_OPTIONS=\'--import tsx\'), which the workers inherit, or compiling to .js'
    : '';
  return `the module does not load (${thrown(e)})${hint}`;
}

/** In a worker: the dataset of a module spec, which must match the main thread's (`main`). */
export function datasetFromModule(spec: ModuleDatasetSpec, main: Pick<Dataset, 'name' | 'length' | 'numClasses'>): Dataset {
  const file = spec.module.startsWith('file:') ? fileURLToPath(spec.module) : spec.module;
  const fail = (problem: string, cause?: unknown) => new DatasetError(
    `Cannot rebuild dataset '${main.name}' in a DataLoader worker from export '${spec.export}' of ${file} (its toSpec()): ${problem}`,
    path.isAbsolute(file) ? file : undefined, { cause },
  );
  let exports: Record<string, unknown>;
  try {
    exports = require(file) as Record<string, unknown>;
  } catch (e) {
    throw fail(loadProblem(file, e), e);
  }
  const Class = exports[spec.export];
  if (Class === undefined) throw fail(`the module has no such export (its exports: ${Object.keys(exports).sort().join(', ') || 'none'})`);
  if (typeof Class !== 'function' || Class.prototype === undefined) {
    throw fail(`the export is ${typeof Class === 'function' ? 'an arrow function' : `a ${typeof Class}`}, not a class (the worker constructs new ${spec.export}(args))`);
  }
  let ds: unknown;
  try {
    ds = new (Class as new (args: unknown) => unknown)(spec.args);
  } catch (e) {
    throw fail(`new ${spec.export}(args) threw ${thrown(e)}`, e);
  }
  if (!isDataset(ds)) throw fail(`new ${spec.export}(args) is not a Dataset (name, length, numClasses, label(i), get(i))`);
  if (ds.length !== main.length || ds.numClasses !== main.numClasses) {
    throw fail(`it has ${ds.length} samples of ${ds.numClasses} classes where the DataLoader's has ${main.length} of ${main.numClasses}: toSpec()'s args must rebuild the same dataset`);
  }
  return ds;
}
