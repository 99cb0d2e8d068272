/** The file names of kept checkpoints: the epoch in the name, read back exactly, nothing else taken for one. */
import * as path from 'node:path';
import { keptCheckpointEpoch, keptCheckpointPath } from '../../src/experiments/paths';

test('a kept checkpoint is checkpoint.epoch-<E>.safetensors, and only such names give an epoch', () => {
  expect(keptCheckpointPath('/runs/train_x', 3)).toBe(path.join('/runs/train_x', 'checkpoint.epoch-3.safetensors'));
  for (const e of [1, 9, 10, 123]) expect(keptCheckpointEpoch(path.basename(keptCheckpointPath('/r', e)))).toBe(e);
  for (const name of ['checkpoint.safetensors', 'checkpoint.prev.safetensors', 'checkpoint.epoch-0.safetensors', 'checkpoint.epoch-01.safetensors',
    'checkpoint.epoch-3.safetensors.123.abc.tmp', '.checkpoint.epoch-3.safetensors.1.a.tmp', 'checkpoint.epoch-.safetensors', 'checkpoint.epoch-3.json']) {
    expect(keptCheckpointEpoch(name)).toBeUndefined();
  }
  expect(() => keptCheckpointPath('/r', 0)).toThrow('Expected integer >= 1 for epoch but received 0 of type number');
  expect(() => keptCheckpointPath('/r', 1.5)).toThrow(/for epoch/);
});
