/**
 * Every error the toolkit throws extends ToolkitError and carries a stable `code`. The codes are
 * listed in docs/errors.md; test/unit/errors.test.ts keeps the two in sync.
 */
import { quoteText } from './quote';
import { didYouMean, suggest } from './suggest';

export const ERROR_CODES = {
  ERR_INVALID_ARG: 'An argument or option has the wrong type or value.',
  ERR_TENSOR_DISPOSED: 'A tensor was used after dispose() or after its tidy() scope ended.',
  ERR_UNKNOWN_NAME: 'A name (model, dataset, pruner, operator, ...) is not registered.',
  ERR_STATE_DICT: 'A state dict does not match the module: missing, unexpected or mis-shaped keys.',
  ERR_SAFETENSORS: 'A safetensors file is malformed, truncated or holds an unsupported dtype.',
  ERR_DATASET: 'A dataset file is missing, corrupt or in the wrong format.',
  ERR_DOWNLOAD: 'A dataset file could not be downloaded, did not match its published md5, or its archive held what it must not.',
  ERR_CONFIG: 'An experiment config failed validation.',
  ERR_RUN_LOCKED: 'Another live process is training the same run directory.',
  ERR_IO: 'A file could not be written: the disk is full, the file system is read-only, or permission is denied.',
  ERR_ADDON_LOAD: 'The native addon could not be loaded.',
  ERR_TIDY_ASYNC: 'tidy(), noGrad() or enableGrad() was given a function that returned a Promise.',
  ERR_TORCH: 'libtorch raised an error.',
  ERR_TORCH_INDEX: 'libtorch raised an index error.',
  ERR_TORCH_VALUE: 'libtorch raised a value error.',
  ERR_TORCH_TYPE: 'libtorch raised a type error.',
  ERR_TORCH_NOT_IMPLEMENTED: 'libtorch does not implement the operation for these inputs.',
  ERR_NATIVE: 'The native addon raised an unexpected C++ exception.',
  ERR_DISTRIBUTED: 'A collective or the process group failed: a peer exited, timed out or could not be reached.',
  ERR_DATA_WORKER: 'A DataLoader worker thread failed: it exited, or threw an error that has no toolkit code.',
  ERR_INTERRUPTED: 'Training (at a step boundary, with a checkpoint) or pruning at initialization (between rounds, nothing saved) was stopped by its abort signal (SIGINT, SIGTERM in the CLI); the same command resumes or starts over.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of ERROR_CODES (a code read from a file or another process is not trusted). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

export interface Issue {
  code: string;
  path: string;
  message: string;
}

/**
 * Error classes never fail on their text (a message, a name, a title, the value received: what is
 * not a string is described), since an error built on a failure path must not hide that failure;
 * the fields callers match on (`code`, `issues`, ...) are checked like any other argument.
 */
export class ToolkitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(text(message), options);
    if (!isErrorCode(code)) {
      throw new InvalidArgumentError('code', 'a code of ERROR_CODES (docs/errors.md)', code);
    }
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * The error of a code rebuilt from its message alone (an error that crossed the addon or a
   * worker thread): the code picks the class, the message is kept; NativeError for libtorch's codes.
   */
  static fromCode(code: ErrorCode, message: string, cause?: unknown): ToolkitError {
    switch (code) {
      case 'ERR_TENSOR_DISPOSED': return withMessage(new TensorDisposedError(), message, cause);
      case 'ERR_INVALID_ARG': return withMessage(new InvalidArgumentError('', '', undefined), message, cause);
      case 'ERR_UNKNOWN_NAME': return withMessage(new UnknownNameError('', '', []), message, cause);
      case 'ERR_TORCH': case 'ERR_TORCH_INDEX': case 'ERR_TORCH_VALUE': case 'ERR_TORCH_TYPE':
      case 'ERR_TORCH_NOT_IMPLEMENTED': case 'ERR_NATIVE':
        return new NativeError(code, message, { cause });
      default: return new ToolkitError(code, message, { cause });
    }
  }
}

/**
 * A method by which an instance says what it is in an error's "but received …": a Tensor names its
 * dtype and shape, which is what a wrong tensor argument is usually wrong in.
 */
export const describeAs: unique symbol = Symbol('signin-torch.describeAs');

export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `${quoteText(value)} of type string`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || typeof value === 'symbol') {
    return `${String(value)} of type ${typeof value}`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  const own = (value as { [describeAs]?: unknown })[describeAs];
  if (typeof own === 'function') return String(own.call(value));
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

/** Free text of an error message: a string as it is, any other value described. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : describeValue(v);
}

/** How many names an UnknownNameError lists before it only counts the rest. */
const MAX_LISTED_NAMES = 100;

function nameList(valid: unknown): string {
  if (!Array.isArray(valid)) return describeValue(valid);
  const shown: string[] = [];
  // An index loop up to the bound: a sparse array such as new Array(2 ** 32 - 1) is not walked.
  for (let i = 0; i < Math.min(valid.length, MAX_LISTED_NAMES); i++) shown.push(text(valid[i]));
  return valid.length > MAX_LISTED_NAMES ? `${shown.join(', ')}, ... (${valid.length - MAX_LISTED_NAMES} more)` : shown.join(', ');
}

export class InvalidArgumentError extends ToolkitError {
  constructor(name: string, expected: string, value: unknown) {
    super('ERR_INVALID_ARG', `Expected ${text(expected)} for ${text(name)} but received ${describeValue(value)}`);
  }
}

/** How a tensor usually came to be disposed; a tensor released on purpose elsewhere says why (Tensor.disposedBy). */
export const DISPOSED_BY_DEFAULT = 'released by dispose() or by the tidy() scope that created it';

export class TensorDisposedError extends ToolkitError {
  constructor(disposedBy = DISPOSED_BY_DEFAULT) {
    super('ERR_TENSOR_DISPOSED', `Tensor is disposed: it was ${text(disposedBy)}`);
  }
}

/** How many of the valid names a "did you mean" weighs (a sparse array of 2 ** 32 - 1 is not walked). */
const MAX_SUGGESTED_FROM = 10_000;

function hint(name: unknown, valid: unknown, accepts: ((member: string) => boolean) | undefined): string {
  if (typeof name !== 'string' || !Array.isArray(valid)) return '';
  const names: string[] = [];
  for (let i = 0; i < Math.min(valid.length, MAX_SUGGESTED_FROM); i++) if (typeof valid[i] === 'string') names.push(valid[i] as string);
  return didYouMean(suggest(name, names, typeof accepts === 'function' ? accepts : undefined));
}

export class UnknownNameError extends ToolkitError {
  /**
   * @param valid the names, families as patterns ('cifar_resnet_<6n+2>'); the message suggests the
   *   ones the name probably meant (src/suggest.ts).
   * @param accepts whether a family member may be suggested (cifar_resnet_26, not cifar_resnet_27).
   */
  constructor(kind: string, name: unknown, valid: readonly string[], accepts?: (member: string) => boolean) {
    super('ERR_UNKNOWN_NAME', `Unknown ${text(kind)} ${typeof name === 'string' ? quoteText(name) : describeValue(name)}${hint(name, valid, accepts)}; valid names: ${nameList(valid)}`);
  }
}

/** The most issues one IssuesError holds (more is a caller's bug, not a report). */
const MAX_ISSUES = 2 ** 16;

function checkIssues(issues: unknown): Issue[] {
  const expected = `array of at most ${MAX_ISSUES} { code, path, message } objects`;
  if (!Array.isArray(issues) || issues.length > MAX_ISSUES) throw new InvalidArgumentError('issues', expected, issues);
  for (let i = 0; i < issues.length; i++) {
    if (typeof issues[i] !== 'object' || issues[i] === null) throw new InvalidArgumentError(`issues[${i}]`, '{ code, path, message }', issues[i]);
  }
  return issues as Issue[];
}

/** Errors that gather every problem found and report them at once (zod, PyTorch's load_state_dict). */
export class IssuesError extends ToolkitError {
  readonly issues: Issue[];
  /** The message's first line, without the issues. */
  readonly title: string;

  constructor(code: ErrorCode, title: string, issues: Issue[]) {
    super(code, `${text(title)}:\n${checkIssues(issues).map((i) => `\t${i.path ? `${text(i.path)}: ` : ''}${text(i.message)}`).join('\n')}`);
    this.issues = issues;
    this.title = text(title);
  }

  /** The same issues, their title naming the file they were read from (loadStateDict knows the module, not the file). */
  from(file: string): IssuesError {
    return new IssuesError(this.code, `${this.title} from '${text(file)}'`, this.issues);
  }
}

/** An error raised inside the addon, rethrown with the caller's JS stack and the original as cause. */
export class NativeError extends ToolkitError {}

/** The codes native/guard.h gives; any other code, or none, is an unexpected C++ exception. */
const NATIVE_CODES = new Set<string>(['ERR_INVALID_ARG', 'ERR_TENSOR_DISPOSED', 'ERR_UNKNOWN_NAME', 'ERR_TORCH', 'ERR_TORCH_INDEX',
  'ERR_TORCH_VALUE', 'ERR_TORCH_TYPE', 'ERR_TORCH_NOT_IMPLEMENTED', 'ERR_NATIVE', 'ERR_DISTRIBUTED'] satisfies ErrorCode[]);

/** An error of class E carrying a message given whole (the native or worker message, which already names the argument). */
function withMessage<E extends ToolkitError>(e: E, message: string, cause: unknown): E {
  e.message = message;
  Object.defineProperty(e, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return e;
}

/**
 * The ToolkitError for an error thrown by the addon (src/native/guard.ts calls it once for every
 * native entry point): its code picks the class, and the native message is kept.
 */
export function fromNative(err: unknown): ToolkitError {
  if (err instanceof ToolkitError) return err;
  const e = err as { code?: string; message?: string };
  const code = (e && typeof e.code === 'string' && NATIVE_CODES.has(e.code) ? e.code : 'ERR_NATIVE') as ErrorCode;
  // describeValue, not String(): an array such as new Array(2 ** 32 - 1) has no string form.
  const message = typeof e?.message === 'string' ? e.message : typeof err === 'object' && err !== null ? describeValue(err) : String(err);
  return ToolkitError.fromCode(code, message, err);
}
