/**
 * One training step's precision policy, as the trainer applies it: inputs in channels_last (when
 * asked), the forward and the loss under autocast, the backward on a scaled loss for float16
 * (GradScaler), gradients unscaled before clipping, and the optimizer step skipped when a
 * gradient overflowed. Parameters, gradients and optimizer state stay float32 throughout.
 */
import { InvalidArgumentError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { backends } from '../tensor/runtime';
import { obj } from '../validate';
import { ampDtype, autocast, autocastDeviceOf, type AmpMode, type AutocastDevice, type AutocastDtype } from './autocast';
import { toChannelsLast } from './channels-last';
import { GradScaler, type GradScalerOptions, type Steppable } from './grad-scaler';

export interface MixedPrecisionOptions {
  device: string;
  amp?: AmpMode;
  /**
   * channels_last inputs: true, false, or 'auto' (the default): on the CPU when libtorch has
   * oneDNN, whose NHWC convolutions ran the ResNet-20 step about a quarter faster than NCHW here
   * (docs/architecture.md, "Memory format"); off on CUDA, where it was not measured.
   */
  channelsLast?: ChannelsLastMode;
  /** Options of the float16 loss scaler (ignored for bf16 and fp32). */
  scaler?: GradScalerOptions;
}

export type ChannelsLastMode = boolean | 'auto';

function resolveChannelsLast(mode: unknown, device: AutocastDevice): boolean {
  if (mode === undefined || mode === 'auto') return device === 'cpu' && backends.mkldnn.isAvailable();
  if (typeof mode !== 'boolean') throw new InvalidArgumentError('channelsLast', "true, false or 'auto'", mode);
  return mode;
}

/**
 * What `amp` must be on `device` when `mode` cannot run there ('fp16' on the CPU: libtorch 1.13
 * autocasts CPU ops to bfloat16 only), as the `expected` of an InvalidArgumentError; undefined
 * when it can. Experiment configs are checked with it before a run directory exists.
 */
export function ampDeviceExpectation(mode: AmpMode, device: string): string | undefined {
  return ampDtype(mode) === 'float16' && autocastDeviceOf(device) === 'cpu' ? "'bf16' or false on the CPU (float16 autocast needs a CUDA device)" : undefined;
}

export class MixedPrecision {
  readonly dtype: AutocastDtype | undefined;
  readonly channelsLast: boolean;
  /** Present for float16 only. */
  readonly scaler: GradScaler | undefined;
  private readonly device: AutocastDevice;

  constructor(opts: MixedPrecisionOptions) {
    obj('options', opts, 'MixedPrecision options ({ device, amp?, channelsLast?, scaler? })');
    this.device = autocastDeviceOf(opts.device);
    this.dtype = ampDtype(opts.amp ?? false);
    this.channelsLast = resolveChannelsLast(opts.channelsLast, this.device);
    const expected = ampDeviceExpectation(opts.amp ?? false, opts.device);
    if (expected) throw new InvalidArgumentError('amp', expected, opts.amp);
    this.scaler = this.dtype === 'float16' ? new GradScaler(opts.scaler) : undefined;
  }

  /** The batch as the model should see it (channels_last for 4-D inputs when chosen). */
  input(x: Tensor): Tensor {
    return this.channelsLast && x.shape.length === 4 ? toChannelsLast(x) : x;
  }

  /** Runs the forward (and loss) under autocast when a lower precision is set. */
  forward<T>(fn: () => T): T {
    return autocast({ device: this.device, dtype: this.dtype ?? 'bfloat16', enabled: this.dtype !== undefined }, fn);
  }

  backward(loss: Tensor): void {
    if (this.scaler) this.scaler.scale(loss).backward();
    else loss.backward();
  }

  /** Brings gradients back to their true scale (before clipping); true when one overflowed. */
  unscale(params: readonly Tensor[]): boolean {
    return this.scaler ? this.scaler.unscale(params) : false;
  }

  /** Steps the optimizer unless a gradient overflowed, then updates the loss scale; true if it stepped. */
  step(optimizer: Steppable, params: readonly Tensor[]): boolean {
    if (!this.scaler) {
      optimizer.step();
      return true;
    }
    const stepped = this.scaler.step(optimizer, params);
    this.scaler.update();
    return stepped;
  }
}
