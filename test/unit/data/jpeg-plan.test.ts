/**
 * Which plans the libjpeg path takes (src/data/jpeg.ts): a leading in-image crop and/or resize
 * becomes the decoder's box and output size; everything after it stays for Pipeline.execute.
 */
import { jpegPlan } from '../../../src/data/jpeg';
import type { Step } from '../../../src/data/transforms';

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
