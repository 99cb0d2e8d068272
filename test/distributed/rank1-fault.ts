/**
 * A user's `--import` module for the failure tests: the dataset `rank1_fault` (64 grey 28×28
 * images, 10 classes) that rank 1 cannot read, as when one node lacks a shard: its factory throws
 * ERR_DATASET when RANK is 1, after the ranks joined their process group. With
 * RANK1_FAULT_AT_IMPORT=1, rank 1 fails while this module loads instead, before it joins.
 */
import { ArrayDataset } from '../../src/data/array-dataset';
import { registerDataset } from '../../src/data/registry';
import { ToolkitError } from '../../src/errors';

export const RANK1_MESSAGE = 'rank 1 cannot read its shard /data/shard-1.bin';

if (process.env.RANK === '1' && process.env.RANK1_FAULT_AT_IMPORT === '1') throw new ToolkitError('ERR_DATASET', RANK1_MESSAGE);

registerDataset('rank1_fault', (o) => {
  if (process.env.RANK === '1') throw new ToolkitError('ERR_DATASET', RANK1_MESSAGE);
  const n = o.train === false ? 16 : 64;
  return new ArrayDataset({
    images: Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 7919) % 256),
    labels: Array.from({ length: n }, (_, i) => i % 10),
    width: 28, height: 28, channels: 1, numClasses: 10, name: 'rank1_fault',
  });
}, { mean: [0.5], std: [0.29], info: { numClasses: 10, inChannels: 1, inputSize: 28 } });
