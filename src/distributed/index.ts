export {
  initProcessGroup, isInitialized, availableBackends, getRank, getWorldSize, allReduce, allReduceWithGrad, broadcast, allGather, barrier,
  destroyProcessGroup,
} from './process-group';
export type { Backend, ReduceOp, InitProcessGroupOptions } from './process-group';
export { DistributedDataParallel } from './ddp';
export { convertSyncBatchNorm, syncBatchNorm } from './sync-batchnorm';
export type { DistributedDataParallelOptions, CommStats } from './ddp';
export { distributedEnv, workerEnv } from './env';
export { slurmPlacement } from './slurm';
export type { SlurmPlacement } from './slurm';
export { expandHostList } from './hostlist';
export type { DistributedEnv } from './env';
export { launch, MAX_NPROC, MAX_NNODES } from './launch';
export { freePort } from './free-port';
export type { LaunchOptions, LaunchResult } from './launch';
export { DataParallelContext, dataParallelFromEnv, rankPlacement } from './data-parallel';
export type { EvalSums } from './data-parallel';
