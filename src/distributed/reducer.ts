/**
 * c10d's Reducer (native/distributed/reducer.cc) for DistributedDataParallel: it all-reduces
 * gradient buckets during backward, each as soon as its gradients are ready, so communication
 * overlaps the rest of backward. Its protocol is DDP's: prepare() before each backward that
 * must be reduced, finish() after it.
 */
import { ToolkitError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { tensorHandle } from '../tensor/tensor';
import { distNative } from './native';
import { distError } from './process-group';

export interface ReducerOptions {
  bucketBytes: number;
  findUnusedParameters: boolean;
}

export class GradientReducer {
  private id: number | undefined;

  /** `params` (leaves that require grad, on one device) with their names for error messages. */
  constructor(private readonly params: readonly Tensor[], names: readonly string[], options: ReducerOptions) {
    const handles = params.map((p, i) => tensorHandle(`parameters[${i}]`, p));
    try {
      this.id = distNative().distReducerNew(handles, [...names], options.bucketBytes, options.findUnusedParameters);
    } catch (err) {
      throw distError('DistributedDataParallel', err);
    }
  }

  /**
   * Arms the gradient hooks for the next backward. The Reducer searches `outputs`' graph only
   * when it finds unused parameters. `current` are the module's trainable
   * parameters now: the hooks sit on the tensors given at construction, so a replaced parameter
   * (to(), a new Sign-In split) would silently go unreduced.
   */
  prepare(outputs: readonly Tensor[], current: readonly Tensor[]): void {
    const id = this.open();
    if (current.length !== this.params.length || current.some((p, i) => p !== this.params[i])) {
      throw new ToolkitError('ERR_DISTRIBUTED',
        'DistributedDataParallel: the module\'s trainable parameters changed after wrapping (to(), applySignIn, requiresGrad_): wrap the module after them');
    }
    try {
      distNative().distReducerPrepare(id, outputs.map((t, i) => tensorHandle(`outputs[${i}]`, t)));
    } catch (err) {
      throw distError('DistributedDataParallel', err);
    }
  }

  /** After backward: the number of buckets reduced; throws when a gradient was left out. */
  finish(): number {
    const id = this.open();
    try {
      return distNative().distReducerFinish(id);
    } catch (err) {
      throw distError('DistributedDataParallel', err);
    }
  }

  close(): void {
    if (this.id !== undefined) distNative().distReducerFree(this.id);
    this.id = undefined;
  }

  private open(): number {
    if (this.id === undefined) throw new ToolkitError('ERR_DISTRIBUTED', 'DistributedDataParallel: closed (close() freed its reducer)');
    return this.id;
  }
}
