/** Process-wide runtime controls: seeds, RNG state, generators, threads, devices. */
import { InvalidArgumentError } from '../errors';
import { native, type NativeGenerator } from '../native';
import { int, maxThreads, maxThreadsReason } from '../validate';
import { HandleOwner } from './handle-owner';
import { Tensor, tensorHandle } from './tensor';

/** Seeds are uint64 in libtorch; beyond 2^53 a JS number no longer holds the integer it shows. */
function seedArg(seed: unknown): number {
  return int('seed', seed, 0, Number.MAX_SAFE_INTEGER);
}

/** Seeds the global CPU (and CUDA) generators, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  seedArg(seed);
  native().manualSeed(seed);
}

/** The global CPU generator's state as a uint8 tensor (for checkpoints). */
export function getRngState(): Tensor {
  return new Tensor(native().getRngState());
}

export function setRngState(state: Tensor): void {
  const h = tensorHandle('state', state);
  native().setRngState(h);
}

/** libtorch's intra-op thread count (process-wide), at most maxThreads(). */
export function setNumThreads(n: number): void {
  const max = maxThreads();
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new InvalidArgumentError('threads', `integer in [1, ${max}] (${maxThreadsReason()})`, n);
  }
  native().setNumThreads(n);
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

/** The CPU backends this libtorch was built with, like torch.backends.mkldnn.is_available(). */
export const backends = {
  mkldnn: {
    isAvailable(): boolean {
      return native().hasMkldnn();
    },
  },
};

/** An independent CPU random generator, passed to random factories, init and data shuffling. */
export class Generator extends HandleOwner {
  override readonly handle: NativeGenerator;

  constructor(seed: number) {
    super();
    seedArg(seed);
    this.handle = new (native().Generator)(seed);
  }

  manualSeed(seed: number): this {
    seedArg(seed);
    this.handle.manualSeed(seed);
    return this;
  }

  initialSeed(): number {
    return this.handle.initialSeed();
  }

  getState(): Tensor {
    return new Tensor(this.handle.getState());
  }

  setState(state: Tensor): void {
    const h = tensorHandle('state', state);
    this.handle.setState(h);
  }
}
