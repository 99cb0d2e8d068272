/**
 * Resume: a run checkpointed at epoch 2 (src/train/checkpoint, with the sparsify callbacks'
 * state) and continued in a fresh model, optimizer and callbacks ends bit-identical to the same
 * run done in one go.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Acdc, Gmp, Rigl, loadCheckpoint, saveCheckpoint, tidy, type Callback, type Module, type SparsifyCallback } from '../../src';
import { fixedSource, toySetup, train } from './helpers';

function flat(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, Array.from(tidy(() => t.detach().to('float64').contiguous().toArray()) as ArrayLike<number>)]));
}

const METHODS: [string, () => SparsifyCallback][] = [
  ['rigl', () => new Rigl({ sparsity: 0.7, deltaT: 3, totalSteps: 16 })],
  ['gmp', () => new Gmp({ sparsity: 0.8, startEpoch: 1, endEpoch: 3, frequency: 3 })],
  ['acdc', () => new Acdc({ sparsity: 0.8, epochs: 4, warmupEpochs: 1, phaseEpochs: 1, finetuneEpochs: 1 })],
];

describe.each(METHODS)('%s resumes from a checkpoint', (_name, make) => {
  it.each([false, true])('Sign-In %s', async (signin) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparsify-resume-'));
    const file = path.join(dir, 'ckpt.safetensors');
    try {
      const src = fixedSource(4);
      const a = toySetup(signin);
      const methodA = make();
      const saver: Callback = {
        name: 'saver',
        onEpochEnd(ctx) {
          if (ctx.epoch === 2) saveCheckpoint(file, { model: a.model, optimizer: a.optimizer, callbacks: [methodA], position: { epoch: ctx.epoch, step: ctx.step } });
        },
      };
      await train(a.model, a.optimizer, src, 4, [methodA, saver]);

      const b = toySetup(signin, 77);
      const methodB = make();
      const { position } = loadCheckpoint(file, { model: b.model, optimizer: b.optimizer, callbacks: [methodB] });
      expect(position).toEqual({ epoch: 2, step: 8 });
      await train(b.model, b.optimizer, src, 4, [methodB], position);
      expect(flat(b.model)).toEqual(flat(a.model));
      a.optimizer.dispose(); b.optimizer.dispose(); src.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
