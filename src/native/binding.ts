/**
 * The typed view of the addon's exports: the only place that knows the `.node` file's surface.
 * Every function here is synchronous and may throw an Error with a `code` (see src/errors.ts).
 */
export interface NativeTensor {
  dispose(): void;
  isDisposed(): boolean;
  shape(): number[];
  dtype(): string;
  device(): string;
  numel(): number;
  requiresGrad(): boolean;
  setRequiresGrad(value: boolean): void;
  grad(): NativeTensor | undefined;
  setGrad(grad: NativeTensor | undefined): void;
  isLeaf(): boolean;
  toTypedArray(): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  item(): number | boolean;
  sameStorage(other: NativeTensor): boolean;
}

export interface NativeGenerator {
  manualSeed(seed: number): void;
  initialSeed(): number;
  getState(): NativeTensor;
  setState(state: NativeTensor): void;
}

export interface SgdGroup {
  params: NativeTensor[];
  masks: (NativeTensor | undefined)[];
  momentumBuffers: (NativeTensor | undefined)[];
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

export interface CpuMemoryStats {
  /** Bytes of large blocks (≥ 64 KiB) held by live tensor storage. */
  inUseBytes: number;
  /** Bytes of large blocks freed and kept for reuse. */
  cachedBytes: number;
  peakInUseBytes: number;
  /** Cached bytes above this are returned to the OS as blocks are freed. */
  cacheLimitBytes: number;
  /** Large requests served from the cache / served by mapping fresh memory. */
  hits: number;
  misses: number;
  /** Blocks returned to the OS. */
  releases: number;
}

export interface NativeBinding {
  NativeTensor: new (...args: never[]) => NativeTensor;
  Generator: new (seed: number) => NativeGenerator;
  opHandle(name: string, overload: string): number;
  opSchema(id: number): string;
  callOp(id: number, args: unknown[], kwargs?: Record<string, unknown>): unknown;
  /**
   * add, sub, mul or div (code 0-3; +4: in place, returns undefined) called unboxed: self a
   * Tensor, other a Tensor or number, alpha a number or undefined (add and sub only). +8: self is
   * a slot number, +16: other is one. The result is a new slot's number (a NativeTensor only when
   * the addon's slot table is full): see native/slots.h.
   */
  binaryOp(code: number, self: NativeTensor | number, other: NativeTensor | number, alpha?: number): number | NativeTensor | undefined;
  /** Frees a slot's tensor; park: keep the number unused until a later slotRelease(id, false). */
  slotRelease(slot: number, park: boolean): void;
  /** Moves a slot's tensor into a new NativeTensor, leaving the slot as slotRelease would. */
  slotToHandle(slot: number, park: boolean): NativeTensor;
  /** The handle's alias slot (made on the first call; freed with the handle), or -1 when the table is full. */
  slotAlias(handle: NativeTensor): number;
  backward(tensors: NativeTensor[], grads?: NativeTensor[], retainGraph?: boolean, createGraph?: boolean): void;
  grad(outputs: NativeTensor[], inputs: NativeTensor[], gradOutputs?: NativeTensor[], retainGraph?: boolean,
    createGraph?: boolean, allowUnused?: boolean): (NativeTensor | undefined)[];
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  manualSeed(seed: number): void;
  getRngState(): NativeTensor;
  setRngState(state: NativeTensor): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaDeviceCount(): number;
  liveTensors(): { numTensors: number; numBytes: number };
  torchVersion(): string;
  hasMkldnn(): boolean;
  cpuMemoryStats(): CpuMemoryStats;
  emptyCpuCache(): void;
  setCpuCacheLimit(bytes: number): void;
  fromTypedArray(data: ArrayBufferView, shape: number[], copy: boolean, dtype?: string): NativeTensor;
  [extra: string]: unknown;
}
