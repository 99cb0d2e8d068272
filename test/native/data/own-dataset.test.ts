/**
 * A researcher's own data through the DataLoader: a Dataset object of their own and an
 * ArrayDataset over their pixels. A valid one gives the batch torchvision's ToTensor + Normalize
 * gives (computed in PyTorch); an invalid sample is an ERR_DATASET naming it, where a short pixel
 * array used to become NaN pixels, a fractional label a RangeError from BigInt, an out-of-range
 * label a batch the loss refused later; a huge numClasses threw a RangeError (or filled the heap).
 */
import { ArrayDataset, DataLoader, normalize, toTensor, type Dataset, type Sample } from '../../../src/data';
import { tensor } from '../../../src/tensor';
import { errorOf } from '../../helpers/error-of';
import { describeWithTorch, runTorch } from '../../helpers/torch-ref';

const PIXELS = Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => (i * 37) % 256);

/** Three 2×2 images with 2 channels (HWC bytes), labels 0, 1, 0; get() may be replaced. */
function own(get?: (i: number) => Sample): Dataset {
  return {
    name: 'mine', length: 3, numClasses: 2, classes: ['a', 'b'], shape: [2, 2, 2],
    label: (i) => i % 2,
    get: get ?? ((i) => ({ image: { data: Uint8Array.from(PIXELS.slice(i * 8, i * 8 + 8)), width: 2, height: 2, channels: 2 }, label: i % 2 })),
    toSpec: () => { throw new Error('in-process only'); },
  };
}

async function firstBatch(ds: Dataset): Promise<{ x: number[]; y: number[] }> {
  const loader = new DataLoader(ds, { batchSize: 3, transforms: [toTensor(), normalize([0.5, 0.25], [0.5, 2])] });
  for await (const b of loader) return { x: b.x.toArray(), y: b.y.toArray() };
  throw new Error('no batch');
}

describeWithTorch('a dataset of your own', () => {
  it('gives the batch of torchvision ToTensor + Normalize', async () => {
    const ref = runTorch(`
      hwc = inp['p'].reshape(3, 2, 2, 2)
      x = hwc.permute(0, 3, 1, 2).float() / 255
      out['x'] = (x - torch.tensor([0.5, 0.25]).view(1, 2, 1, 1)) / torch.tensor([0.5, 2.0]).view(1, 2, 1, 1)
    `, { p: tensor(PIXELS, { dtype: 'uint8' }) }).out;
    const images = Uint8Array.from(PIXELS);
    const expected = ref.x.toArray();
    for (const ds of [own(), new ArrayDataset({ images, labels: [0, 1, 0], width: 2, height: 2, channels: 2, numClasses: 2 })]) {
      const b = await firstBatch(ds);
      b.x.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
      expect(b.y).toEqual([0, 1, 0]);
    }
  });
});

describe('an invalid sample of your own dataset', () => {
  const image = (data: Uint8Array) => ({ data, width: 2, height: 2, channels: 2 });
  it.each([
    ['a pixel array shorter than its size', () => ({ image: image(new Uint8Array(3)), label: 0 }), /sample 0 gives 3 bytes for 2×2×2/],
    ['no pixel array', () => ({ image: { width: 2, height: 2, channels: 2 }, label: 0 }), /sample 0 gives no Uint8Array image.data/],
    ['a fractional label', () => ({ image: image(new Uint8Array(8)), label: 0.5 }), /sample 0 has label 0.5, not an integer in \[0, 1\]/],
    ['a NaN label', () => ({ image: image(new Uint8Array(8)), label: Number.NaN }), /sample 0 has label NaN/],
    ['a label out of range', () => ({ image: image(new Uint8Array(8)), label: 2 }), /sample 0 has label 2, not an integer in \[0, 1\] \(numClasses 2\)/],
  ])('%s is an ERR_DATASET naming the sample', async (_what, get, message) => {
    const e = await firstBatch(own(get as never)).catch((err) => err);
    expect(e.code).toBe('ERR_DATASET');
    expect(e.message).toMatch(message);
  });

  it('a dataset without a class count, or an ArrayDataset of 2^40 classes, is refused where it is given', () => {
    expect(errorOf(() => new DataLoader({ ...own(), numClasses: undefined } as never)).message).toContain('for dataset');
    const e = errorOf(() => new ArrayDataset({ images: new Uint8Array(0), labels: [], width: 1, height: 1, channels: 1, numClasses: 2 ** 40 }));
    expect(e.code).toBe('ERR_INVALID_ARG');
    expect(e.message).toBe('Expected integer in [1, 16777216] for numClasses but received 1099511627776 of type number');
  });
});
