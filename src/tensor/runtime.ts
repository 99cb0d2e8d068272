/** Process-wide runtime controls: seeds, RNG state, generators, threads, devices. */
import { fromNative } from '../errors';
import { native, type NativeGenerator } from '../native';
import { int } from '../validate';
import { Tensor } from './tensor';

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** Seeds the global CPU (and CUDA) generators, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  int('seed', seed, 0);
  guarded(() => native().manualSeed(seed));
}

/** The global CPU generator's state as a uint8 tensor (for checkpoints). */
export function getRngState(): Tensor {
  return guarded(() => new Tensor(native().getRngState()));
}

export function setRngState(state: Tensor): void {
  guarded(() => native().setRngState(state.handle));
}

/** libtorch's intra-op thread count (process-wide). */
export function setNumThreads(n: number): void {
  int('threads', n, 1);
  guarded(() => native().setNumThreads(n));
}

export function getNumThreads(): number {
  return native().getNumThreads();
}

export function torchVersion(): string {
  return native().torchVersion();
}

export const cuda = {
  isAvailable(): boolean {
    return native().cudaDeviceCount() > 0;
  },
  deviceCount(): number {
    return native().cudaDeviceCount();
  },
};

/** An independent CPU random generator, passed to random factories, init and data shuffling. */
export class Generator {
  readonly handle: NativeGenerator;

  constructor(seed: number) {
    int('seed', seed, 0);
    this.handle = guarded(() => new (native().Generator)(seed));
  }

  manualSeed(seed: number): this {
    int('seed', seed, 0);
    this.handle.manualSeed(seed);
    return this;
  }

  initialSeed(): number {
    return this.handle.initialSeed();
  }

  getState(): Tensor {
    return guarded(() => new Tensor(this.handle.getState()));
  }

  setState(state: Tensor): void {
    guarded(() => this.handle.setState(state.handle));
  }
}
