/**
 * SyncBatchNorm (torch.nn.SyncBatchNorm.convert_sync_batchnorm): in training mode under a process
 * group of more than one rank, BatchNorm layers normalize with the mean and variance of the whole
 * global batch instead of each rank's shard, and update their running statistics with them (so
 * they stay equal on every rank). Data-parallel training then computes what one process with the
 * global batch computes. Without a group, with one rank, or in eval mode a layer is plain BatchNorm.
 *
 * Unlike PyTorch's, the conversion is in place: the layers keep their class, parameters, buffers
 * and state-dict keys (PyTorch's SyncBatchNorm has the same keys). Each synchronized layer costs
 * two all-reduces of C + 1 and C values in forward and two in backward, and every rank must run the
 * same training forwards and backwards.
 */
import type { BatchStatsReducer } from '../nn/batchnorm';
import { BatchNormBase } from '../nn/batchnorm';
import { moduleArg, type Module } from '../nn/module';
import { bool, options as optionsArg } from '../validate';
import { allReduceWithGrad, getWorldSize } from './process-group';

const PROCESS_GROUP_SUM: BatchStatsReducer = {
  active: () => getWorldSize() > 1,
  sum: (t) => allReduceWithGrad(t),
};

/**
 * Makes every BatchNorm layer of `module` synchronize its training statistics over the default
 * process group (or stop doing so, `enabled: false`); returns the number of layers changed.
 */
export function convertSyncBatchNorm(module: Module, options: { enabled?: boolean } = {}): number {
  moduleArg('module', module);
  const enabled = bool('options.enabled', optionsArg<{ enabled?: boolean }>('options', options).enabled ?? true);
  const reducer = enabled ? PROCESS_GROUP_SUM : undefined;
  let n = 0;
  for (const [, m] of module.namedModules()) {
    if (m instanceof BatchNormBase) {
      m.setStatsReducer(reducer);
      n++;
    }
  }
  return n;
}
