/** The addon's c10d exports (native/distributed/process_group.cc), typed. */
import { native } from '../native';
import type { NativeTensor } from '../native';
import type { Backend } from './process-group';

export interface NativeInitOptions {
  backend: string;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  store: 'tcp' | 'file';
  host?: string;
  port?: number;
  /** This rank hosts the TCPStore (else it connects to host:port). */
  isServer?: boolean;
  /** Namespace of the group's keys in a store shared with others (torchrun's agent store). */
  prefix?: string;
  path?: string;
  /** Gloo device: a network interface (GLOO_SOCKET_IFNAME) or a hostname to bind; else the host's. */
  interface?: string;
  hostname?: string;
  /** NCCL: the CUDA device index of this rank. */
  device?: number;
}

export interface DistributedBinding {
  distBackends(): Backend[];
  distInit(options: NativeInitOptions): void;
  distInfo(): { rank: number; worldSize: number; backend: Backend } | null;
  distAllReduce(tensors: NativeTensor[], op: string, bucketBytes: number): void;
  distBroadcast(tensors: NativeTensor[], root: number): void;
  distAllGather(tensor: NativeTensor): NativeTensor[];
  distAllReduceGrad(tensor: NativeTensor): NativeTensor;
  distSyncBatchNorm(input: NativeTensor, weight: NativeTensor | null, bias: NativeTensor | null, eps: number): NativeTensor[];
  distReducerNew(params: NativeTensor[], names: string[], bucketBytes: number, findUnusedParameters: boolean): number;
  distReducerPrepare(reducer: number, outputs: NativeTensor[]): void;
  distReducerFinish(reducer: number): number;
  distReducerFree(reducer: number): void;
  distBarrier(): void;
  distDestroy(): void;
}

export function distNative(): DistributedBinding {
  return native() as unknown as DistributedBinding;
}
