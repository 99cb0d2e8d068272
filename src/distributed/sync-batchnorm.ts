/**
 * SyncBatchNorm (torch.nn.SyncBatchNorm.convert_sync_batchnorm): in training mode under a process
 * group of more than one rank, BatchNorm layers normalize with the mean and variance of the whole
 * global batch instead of each rank's shard, and update their running statistics with them (so
 * they stay equal on every rank). Data-parallel training then computes what one process with the
 * global batch computes. Without a group, with one rank, or in eval mode a layer is plain BatchNorm.
 *
 * Unlike PyTorch's, the conversion is in place: the layers keep their class, parameters, buffers
 * and state-dict keys (PyTorch's SyncBatchNorm has the same keys), and it runs on the CPU (Gloo)
 * as well as on CUDA. Each synchronized layer costs one all-reduce of 2C + 1 values forward and one
 * of 2C backward, and every rank must run the same training forwards and backwards.
 */
import { BatchNormBase, type BatchNormSync } from '../nn/batchnorm';
import { moduleArg, type Module } from '../nn/module';
import { Tensor, tensorHandle } from '../tensor/tensor';
import { bool, num, options as optionsArg } from '../validate';
import { distError, getWorldSize } from './process-group';
import { distNative } from './native';

/**
 * Training-mode batch normalization of `input` ([N, C, ...]) with the statistics of every rank's
 * input (PyTorch's SyncBatchNorm function; a collective: every rank calls it, in the same order,
 * and its backward is one too). Returns the output, the global mean and biased variance per
 * channel, and the number of values per channel over all ranks.
 */
export function syncBatchNorm(input: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps: number): { y: Tensor; mean: Tensor; variance: Tensor; count: number } {
  const h = tensorHandle('input', input);
  const w = weight === undefined ? null : tensorHandle('weight', weight);
  const b = bias === undefined ? null : tensorHandle('bias', bias);
  num('eps', eps, 0);
  let out: ReturnType<typeof tensorHandle>[];
  try {
    out = distNative().distSyncBatchNorm(h, w, b, eps);
  } catch (err) {
    throw distError('syncBatchNorm', err);
  }
  const [y, mean, variance, count] = out.map((o) => new Tensor(o));
  const n = count.item();
  count.dispose();
  return { y, mean, variance, count: n };
}

const PROCESS_GROUP: BatchNormSync = {
  active: () => getWorldSize() > 1,
  forward: syncBatchNorm,
};

/**
 * Makes every BatchNorm layer of `module` synchronize its training statistics over the default
 * process group (or stop doing so, `enabled: false`); returns the number of layers changed.
 */
export function convertSyncBatchNorm(module: Module, options: { enabled?: boolean } = {}): number {
  moduleArg('module', module);
  const enabled = bool('options.enabled', optionsArg<{ enabled?: boolean }>('options', options).enabled ?? true);
  let n = 0;
  for (const [, m] of module.namedModules()) {
    if (m instanceof BatchNormBase) {
      m.setSync(enabled ? PROCESS_GROUP : undefined);
      n++;
    }
  }
  return n;
}
