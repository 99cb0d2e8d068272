/**
 * Mixed precision for the forward pass through libtorch's autocast: inside `autocast(...)`, ops
 * that autocast lists (conv, linear, matmul, ...) run in the lower precision on their inputs'
 * device, others in float32, exactly as torch.autocast does. Parameters stay float32 (the master
 * weights), so the fused optimizer and Sign-In steps are unchanged. The state is thread-local in
 * libtorch and every op of this toolkit runs on the JS thread: `fn` must be synchronous.
 */
import { InvalidArgumentError, ToolkitError } from '../errors';
import { native } from '../native';
import { oneOf } from '../validate';

export type AutocastDevice = 'cpu' | 'cuda';
export type AutocastDtype = 'bfloat16' | 'float16';
/** The config's spelling: `amp: 'bf16' | 'fp16' | false`. */
export type AmpMode = 'bf16' | 'fp16' | false;

export interface AutocastOptions {
  /** Device type whose ops are autocast: the device of the model's inputs. */
  device: AutocastDevice;
  /** Default: bfloat16 (libtorch 1.13 autocasts CPU ops to bfloat16 only). */
  dtype?: AutocastDtype;
  /** false runs `fn` unchanged (so callers need no branch). */
  enabled?: boolean;
}

export interface AutocastState {
  cpu: boolean;
  cuda: boolean;
  cpuDtype: string;
  cudaDtype: string;
}

interface AmpBinding {
  autocastEnter(device: AutocastDevice, dtype: AutocastDtype): { enabled: boolean; dtype: AutocastDtype };
  autocastExit(device: AutocastDevice, previousEnabled: boolean, previousDtype: AutocastDtype): void;
  autocastState(): AutocastState;
}

function amp(): AmpBinding {
  return native() as unknown as AmpBinding;
}

export const AMP_MODES: Readonly<Record<'bf16' | 'fp16', AutocastDtype>> = { bf16: 'bfloat16', fp16: 'float16' };

/** The autocast dtype of a config's `amp` value; undefined for false. */
export function ampDtype(mode: AmpMode): AutocastDtype | undefined {
  if (mode === false) return undefined;
  return AMP_MODES[oneOf('amp', mode, ['bf16', 'fp16'])];
}

/** The autocast device type of a device string ('cpu', 'cuda', 'cuda:1'). */
export function autocastDeviceOf(device: string): AutocastDevice {
  if (device === 'cpu') return 'cpu';
  if (typeof device === 'string' && /^cuda(:\d+)?$/.test(device)) return 'cuda';
  throw new InvalidArgumentError('device', "'cpu', 'cuda' or 'cuda:N'", device);
}

/** Runs `fn` with autocast enabled for `device`; restores the previous state even when fn throws. */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', '{ device, dtype?, enabled? }', options);
  const device = oneOf('device', options.device, ['cpu', 'cuda'] as const);
  const dtype = oneOf('dtype', options.dtype ?? 'bfloat16', ['bfloat16', 'float16'] as const);
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') throw new InvalidArgumentError('enabled', 'a boolean', options.enabled);
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'a function', fn);
  if (options.enabled === false) return fn();
  const previous = amp().autocastEnter(device, dtype);
  let result: T;
  try {
    result = fn();
  } finally {
    amp().autocastExit(device, previous.enabled, previous.dtype);
  }
  if (result instanceof Promise) {
    throw new ToolkitError('ERR_INVALID_ARG', 'autocast() needs a synchronous fn: libtorch keeps the autocast state per thread, so it cannot span an await');
  }
  return result;
}

/** Whether autocast is on for each device type in this thread, and its dtypes. */
export function autocastState(): AutocastState {
  return amp().autocastState();
}
