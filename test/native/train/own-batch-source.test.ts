/**
 * A batch source of one's own, as a PyTorch user writes one: the trainer disposes each batch after
 * using it, so a source that yields the tensors it keeps has them disposed after one epoch. The
 * next epoch names that cause instead of failing with a bare "Tensor is disposed".
 */
import { InvalidArgumentError, SGD, Trainer, type BatchSource, type Tensor } from '../../../src';
import { createToyModel, toyBatch } from '../../helpers/toy-model';
import { rejectionOf } from '../../helpers/error-of';

function trainerOn(train: BatchSource, epochs: number): Trainer {
  const model = createToyModel();
  return new Trainer({ model, optimizer: SGD.forModel(model, { lr: 0.01 }), train, epochs, lr: () => 0.01 });
}

describe('a batch source of your own', () => {
  it('yielding the tensors it keeps: the second epoch names batch.x and the fix', async () => {
    const { x, y } = toyBatch(4);
    const kept: BatchSource = { length: 1, async *[Symbol.asyncIterator]() { yield { x, y }; } };
    const e = await rejectionOf(trainerOn(kept, 2).fit());
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.message).toBe('Expected a Tensor not yet disposed (the trainer disposes each batch after using it: a batch source yields new '
      + 'tensors, such as slices of the data it holds) for batch.x but received a disposed Tensor');
    expect(x.isDisposed).toBe(true);
  });

  it('yielding slices of the data it holds trains every epoch and leaves the data alive', async () => {
    const { x, y } = toyBatch(8);
    const sliced: BatchSource = {
      length: 2,
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 8; i += 4) yield { x: x.slice(0, i, i + 4), y: y.slice(0, i, i + 4) };
      },
    };
    const trainer = trainerOn(sliced, 3);
    const last = await trainer.fit();
    expect(last?.epoch).toBe(3);
    expect(last?.step).toBe(6);
    expect([x.isDisposed, y.isDisposed]).toEqual([false, false]);
    expect((await trainer.evaluate(sliced)).loss).toBeGreaterThan(0);
  });

  it('a batch whose y is not a Tensor is named', async () => {
    const { x } = toyBatch(4);
    const bad: BatchSource = { length: 1, async *[Symbol.asyncIterator]() { yield { x: x.clone(), y: [1, 2, 3, 4] as unknown as Tensor }; } };
    const e = await rejectionOf(trainerOn(bad, 1).fit());
    expect(e.message).toBe('Expected Tensor for batch.y but received an array of length 4');
  });
});
