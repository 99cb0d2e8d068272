/**
 * torch.distributed's functional surface over c10d's ProcessGroupGloo (CPU) and ProcessGroupNCCL
 * (CUDA builds): one default group per process. Collectives are synchronous and in place; a
 * failed or vanished peer raises ERR_DISTRIBUTED within the group's timeout. NCCL reduces on the
 * rank's CUDA device: CPU tensors are copied there and back.
 */
import { fromNative, ToolkitError } from '../errors';
import { cuda } from '../tensor/runtime';
import { Tensor, tensorHandle } from '../tensor/tensor';
import { options as optionsArg, int } from '../validate';
import { distributedEnv, timeoutFromEnv } from './env';
import { distNative } from './native';
import { rendezvousFailure, storeFor } from './rendezvous';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min' | 'product';

export interface InitProcessGroupOptions {
  backend?: Backend;
  /** Default: RANK. */
  rank?: number;
  /** Default: WORLD_SIZE. */
  worldSize?: number;
  /**
   * 'env://' (MASTER_ADDR / MASTER_PORT, the default), 'tcp://host:port' or 'file:///path'
   * (a FileStore: every rank opens the same file; a fresh path per job). A TCPStore is rank 0's,
   * or under torchrun the agent's (rendezvous.ts).
   */
  initMethod?: string;
  /** Bound on every wait: rendezvous and each collective (default $SIGNIN_TORCH_DIST_TIMEOUT_S seconds, else 60 000 ms). */
  timeoutMs?: number;
  /**
   * NCCL: the CUDA device index this rank's collectives run on. Default LOCAL_RANK, one device
   * per local rank (what torchrun scripts do with torch.cuda.set_device(local_rank)).
   */
  device?: number;
}

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'avg', 'max', 'min', 'product'];

/** A native collective's failure as ERR_DISTRIBUTED naming `what` (argument errors stay ERR_INVALID_ARG). */
export function distError(what: string, err: unknown): ToolkitError {
  const e = fromNative(err);
  if (e.code === 'ERR_INVALID_ARG') return e;
  const message = e.message.startsWith(`${what}:`) ? e.message : `${what}: ${e.message}`;
  return new ToolkitError('ERR_DISTRIBUTED', message, { cause: err });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Joins the job's default process group (torch.distributed.init_process_group). Blocks until
 * every rank has joined or timeoutMs passed. Rank and world size default to RANK / WORLD_SIZE.
 */
export function initProcessGroup(options: InitProcessGroupOptions = {}): void {
  optionsArg('options', options);
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') {
    throw new ToolkitError('ERR_INVALID_ARG', `Expected backend to be 'gloo' or 'nccl' but received ${JSON.stringify(backend)}`);
  }
  const env = distributedEnv();
  const worldSize = int('worldSize', options.worldSize ?? env?.worldSize ?? 1, 1);
  const rank = int('rank', options.rank ?? env?.rank ?? 0, 0, worldSize - 1);
  const timeoutMs = int('timeoutMs', options.timeoutMs ?? timeoutFromEnv() ?? 60_000, 1);
  const initMethod = options.initMethod ?? 'env://';
  const store = storeFor(initMethod, rank, worldSize);
  const glooDevice = process.env.GLOO_SOCKET_IFNAME
    ? { interface: process.env.GLOO_SOCKET_IFNAME }
    : store.store === 'file' || LOOPBACK.has(store.host) ? { hostname: '127.0.0.1' } : {};
  const available = availableBackends();
  if (available.length === 0) throw new ToolkitError('ERR_DISTRIBUTED', 'initProcessGroup: this build of the addon has no c10d (libtorch or Gloo headers were missing at build time)');
  if (!available.includes(backend)) {
    throw new ToolkitError('ERR_DISTRIBUTED', `initProcessGroup: backend '${backend}' is not available in this build of the addon (it has ${available.map((a) => `'${a}'`).join(', ')}); NCCL needs a CUDA build of libtorch and nccl.h when the addon is built`);
  }
  const cudaDevice = backend === 'nccl' ? int('device', options.device ?? env?.localRank ?? 0, 0, Math.max(0, cuda.deviceCount() - 1)) : undefined;
  try {
    distNative().distInit({ backend, rank, worldSize, timeoutMs, ...store, ...glooDevice, device: cudaDevice });
  } catch (err) {
    const e = distError('initProcessGroup', err);
    const named = initMethod === 'env://' ? 'MASTER_ADDR:MASTER_PORT' : `initMethod '${initMethod}'`;
    // Nodes are named only where LOCAL_WORLD_SIZE says how many ranks each holds.
    const perNode = process.env.LOCAL_WORLD_SIZE !== undefined && env?.worldSize === worldSize ? env.localWorldSize : undefined;
    const why = e.code === 'ERR_DISTRIBUTED' ? rendezvousFailure(store, named, worldSize, timeoutMs, e.message, perNode) : undefined;
    // The addon's note of the absent ranks is said above in words.
    const libtorch = e.message.replace(/^initProcessGroup: /, '').replace(/ \[(ranks absent from the store: [\d,]+|every rank reached the store)\]$/, '');
    throw why ? new ToolkitError('ERR_DISTRIBUTED', `initProcessGroup: ${why} (libtorch: ${libtorch})`, { cause: err }) : e;
  }
}

/** The collective backends this build of the addon has: 'gloo' with Gloo headers, 'nccl' in CUDA builds with nccl.h. */
export function availableBackends(): Backend[] {
  return distNative().distBackends();
}

export function isInitialized(): boolean {
  return distNative().distInfo() !== null;
}

function info(what: string): { rank: number; worldSize: number } {
  const i = distNative().distInfo();
  if (!i) throw new ToolkitError('ERR_DISTRIBUTED', `${what}: no process group; call initProcessGroup() first`);
  return i;
}

/** This process's rank (0 when no group exists, as a single process is rank 0 of 1). */
export function getRank(): number {
  return distNative().distInfo()?.rank ?? 0;
}

export function getWorldSize(): number {
  return distNative().distInfo()?.worldSize ?? 1;
}

function handles(what: string, tensors: Tensor | Tensor[]): ReturnType<typeof tensorHandle>[] {
  const list = Array.isArray(tensors) ? tensors : [tensors];
  return list.map((t, i) => tensorHandle(`${what}: tensors[${i}]`, t));
}

/**
 * Reduces tensors in place across ranks. Several tensors travel as flat buckets of at most
 * bucketBytes (default 25 MiB, DDP's bucket_cap_mb), one collective per bucket.
 */
export function allReduce(tensors: Tensor | Tensor[], options: { op?: ReduceOp; bucketBytes?: number } = {}): void {
  info('allReduce');
  const op = options.op ?? 'sum';
  if (!REDUCE_OPS.includes(op)) throw new ToolkitError('ERR_INVALID_ARG', `Expected op to be one of ${REDUCE_OPS.join(', ')} but received ${JSON.stringify(op)}`);
  const bucketBytes = int('bucketBytes', options.bucketBytes ?? 25 * 2 ** 20, 1);
  const hs = handles('allReduce', tensors);
  try {
    distNative().distAllReduce(hs, op, bucketBytes);
  } catch (err) {
    throw distError('allReduce', err);
  }
}

/** Copies rank `root`'s values into the tensors of every rank, in place. */
export function broadcast(tensors: Tensor | Tensor[], root = 0): void {
  const { worldSize } = info('broadcast');
  int('root', root, 0, worldSize - 1);
  const hs = handles('broadcast', tensors);
  try {
    distNative().distBroadcast(hs, root);
  } catch (err) {
    throw distError('broadcast', err);
  }
}

/** Every rank's copy of `tensor`, in rank order (new tensors). */
export function allGather(tensor: Tensor): Tensor[] {
  info('allGather');
  const h = tensorHandle('allGather: tensor', tensor);
  let out: ReturnType<typeof tensorHandle>[];
  try {
    out = distNative().distAllGather(h);
  } catch (err) {
    throw distError('allGather', err);
  }
  return out.map((o) => new Tensor(o));
}

/**
 * The sum of `tensor` over the ranks as a new tensor that autograd differentiates through
 * (torch.distributed.nn.functional.all_reduce): its backward sums the gradients over the ranks
 * too, so every rank must run the same backward.
 */
export function allReduceWithGrad(tensor: Tensor): Tensor {
  info('allReduceWithGrad');
  const h = tensorHandle('allReduceWithGrad: tensor', tensor);
  try {
    return new Tensor(distNative().distAllReduceGrad(h));
  } catch (err) {
    throw distError('allReduceWithGrad', err);
  }
}

export function barrier(): void {
  info('barrier');
  try {
    distNative().distBarrier();
  } catch (err) {
    throw distError('barrier', err);
  }
}

/** Leaves the group (torch.distributed.destroy_process_group); a no-op when there is none. */
export function destroyProcessGroup(): void {
  distNative().distDestroy();
}
