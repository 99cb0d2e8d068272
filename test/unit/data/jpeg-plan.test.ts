/**
 * Which plans the libjpeg path takes (src/data/jpeg.ts): a leading in-image crop and/or resize
 * becomes the decoder's box and output size; everything after it stays for Pipeline.execute,
 * unless it is only in-image crops and flips, which become the decoder's window (jpegWindow).
 */
import { jpegPlan, jpegWindow } from '../../../src/data/jpeg';
import { compose, toTensor, type Step } from '../../../src/data/transforms';

const crop = (x: number, y: number, w: number, h: number): Step => ({ t: 'crop', x, y, w, h, fill: 0 });
const flip: Step = { t: 'flip' };

test('crop + resize (RandomResizedCrop), then the rest', () => {
  expect(jpegPlan([crop(3, 4, 50, 40), { t: 'resize', w: 24, h: 24 }, flip], 100, 80)).toEqual({ box: [3, 4, 50, 40], width: 24, height: 24, rest: [flip] });
});

test('resize alone decodes the whole image; a crop after it is left to the pipeline (Resize + CenterCrop)', () => {
  expect(jpegPlan([{ t: 'resize', w: 30, h: 20 }, crop(1, 0, 20, 20)], 100, 80)).toEqual({ box: [0, 0, 100, 80], width: 30, height: 20, rest: [crop(1, 0, 20, 20)] });
});

test('a crop alone (CenterCrop) decodes the box at its own size', () => {
  expect(jpegPlan([crop(0, 40, 100, 40)], 100, 80)).toEqual({ box: [0, 40, 100, 40], width: 100, height: 40, rest: [] });
});

test('plans that start otherwise are left to sharp: a padded crop, a flip, nothing', () => {
  expect(jpegPlan([crop(-2, 0, 104, 80), { t: 'resize', w: 10, h: 10 }], 100, 80)).toBeUndefined();
  expect(jpegPlan([crop(0, 0, 100, 81)], 100, 80)).toBeUndefined();
  expect(jpegPlan([flip, { t: 'resize', w: 10, h: 10 }], 100, 80)).toBeUndefined();
  expect(jpegPlan([], 100, 80)).toBeUndefined();
});

describe('jpegWindow: the rest as one window of the resampled image, or undefined', () => {
  const plan = (rest: Step[]) => ({ box: [0, 0, 100, 80] as [number, number, number, number], width: 40, height: 30, rest });

  test('nothing left: the whole output, unmirrored; flips toggle', () => {
    expect(jpegWindow(plan([]))).toEqual([0, 0, 40, 30, 0]);
    expect(jpegWindow(plan([flip]))).toEqual([0, 0, 40, 30, 1]);
    expect(jpegWindow(plan([flip, flip]))).toEqual([0, 0, 40, 30, 0]);
  });

  test('a crop before a flip keeps its place; a crop after a flip is mirrored (x from the right edge)', () => {
    expect(jpegWindow(plan([crop(3, 2, 20, 10), flip]))).toEqual([3, 2, 20, 10, 1]);
    // Flipped 40 wide, columns [3, 23) of the mirror are columns [17, 37) of the original.
    expect(jpegWindow(plan([flip, crop(3, 2, 20, 10)]))).toEqual([17, 2, 20, 10, 1]);
    expect(jpegWindow(plan([crop(5, 5, 30, 20), flip, crop(0, 1, 10, 10)]))).toEqual([25, 6, 10, 10, 1]);
  });

  test('a padded crop or a second resize is left to the pipeline', () => {
    expect(jpegWindow(plan([crop(-1, 0, 40, 30)]))).toBeUndefined();
    expect(jpegWindow(plan([crop(0, 0, 40, 31)]))).toBeUndefined();
    expect(jpegWindow(plan([{ t: 'resize', w: 10, h: 10 }]))).toBeUndefined();
  });
});

test('jpegWindow selects the pixels that Pipeline.execute gives for the same steps', () => {
  const W = 40;
  const H = 30;
  const img = { data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 251), width: W, height: H, channels: 3 };
  const pipeline = compose([toTensor()]);
  let s = 5;
  const rand = (n: number) => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n;
  for (let trial = 0; trial < 200; trial++) {
    const rest: Step[] = [];
    let w = W;
    let h = H;
    for (let k = rand(4); k >= 0; k--) {
      if (rand(2)) rest.push(flip);
      else {
        const cw = 1 + rand(w);
        const ch = 1 + rand(h);
        rest.push(crop(rand(w - cw + 1), rand(h - ch + 1), cw, ch));
        [w, h] = [cw, ch];
      }
    }
    const win = jpegWindow({ box: [0, 0, W, H], width: W, height: H, rest })!;
    expect([win[2], win[3]]).toEqual([w, h]);
    const fromPipeline = new Float32Array(3 * w * h);
    pipeline.execute(img, rest, fromPipeline, 0);
    const fromWindow = new Float32Array(3 * w * h);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sx = win[0] + (win[4] ? w - 1 - x : x);
          fromWindow[c * w * h + y * w + x] = img.data[((win[1] + y) * W + sx) * 3 + c] / 255;
        }
      }
    }
    expect(fromWindow).toEqual(fromPipeline);
  }
});
