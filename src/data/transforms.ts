/**
 * Seeded image transforms with torchvision's algorithms: randomCrop (with padding),
 * randomHorizontalFlip, randomResizedCrop, resize, centerCrop, toTensor and normalize.
 *
 * A transform is plain data (`{ op: 'random_crop', ... }`), so a pipeline can be sent to worker
 * threads. `compose([...])` builds a Pipeline that
 *  1. plans the geometric transforms from the image size and an Rng (torchvision's parameter
 *     algorithms, drawn in torchvision's order),
 *  2. runs them on uint8 HWC pixels (Pillow's bilinear resampling, see resample.ts), or, for
 *     encoded files, lets sharp (libvips) do the leading extract/resize while decoding, and
 *  3. writes float32 CHW values (x/255, then every normalize, in float32 like torch) straight into
 *     the caller's batch buffer; trailing crops and flips are fused into this last pass.
 * Randomness always comes from an Rng, a seed or a torch Generator, never Math.random.
 */
import { InvalidArgumentError } from '../errors';
import { bool, isInt, keysOf, list, obj, options } from '../validate';
import type { ImageShape, RawImage } from './base';
import { cropCopy, resizeBilinear } from './resample';
import { toRng, type RandomSource, type Rng } from './rng';

export type Size2 = [number, number];

export type Transform =
  | { op: 'to_tensor' }
  | { op: 'normalize'; mean: number[]; std: number[] }
  | { op: 'random_crop'; size: Size2; padding: [number, number, number, number]; padIfNeeded: boolean; fill: number }
  | { op: 'random_horizontal_flip'; p: number }
  | { op: 'random_resized_crop'; size: Size2; scale: [number, number]; ratio: [number, number] }
  | { op: 'resize'; size: number | Size2 }
  | { op: 'center_crop'; size: Size2 };

export const TRANSFORM_OPS = ['to_tensor', 'normalize', 'random_crop', 'random_horizontal_flip', 'random_resized_crop', 'resize', 'center_crop'] as const;

function size2(name: string, v: unknown): Size2 {
  if (isInt(v) && v > 0) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x) && x > 0)) return [v[0], v[1]];
  throw new InvalidArgumentError(name, 'positive integer or [height, width]', v);
}

function range2(name: string, v: unknown, positive: boolean): [number, number] {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0)) && v[0] <= v[1]) {
    return [v[0], v[1]];
  }
  throw new InvalidArgumentError(name, `[min, max] with min <= max${positive ? ', both > 0' : ''}`, v);
}

/** uint8 HWC → float32 CHW in [0, 1] (torchvision ToTensor). Implied at the end when omitted. */
export function toTensor(): Transform {
  return { op: 'to_tensor' };
}

/** (x - mean[c]) / std[c] per channel (torchvision Normalize); one value applies to all channels. */
export function normalize(mean: number | number[], std: number | number[]): Transform {
  const m = typeof mean === 'number' ? [mean] : mean;
  const s = typeof std === 'number' ? [std] : std;
  list('mean', m, 'number or non-empty array of numbers', (x) => typeof x === 'number' && Number.isFinite(x));
  if (m.length === 0) throw new InvalidArgumentError('mean', 'number or non-empty array of numbers', mean);
  const stdExpected = `positive number or array of ${m.length} positive numbers`;
  if (!Array.isArray(s) || s.length !== m.length) throw new InvalidArgumentError('std', stdExpected, std);
  list('std', s, stdExpected, (x) => typeof x === 'number' && x > 0);
  return { op: 'normalize', mean: [...m], std: [...s] };
}

export interface RandomCropOptions {
  /** Border added before cropping: n (all sides), [left/right, top/bottom] or [left, top, right, bottom]. */
  padding?: number | number[];
  /** Pad (both sides, by the shortfall) when the image is smaller than size. */
  padIfNeeded?: boolean;
  /** Padding value, 0..255 (torchvision's fill, constant padding mode). */
  fill?: number;
}

/** A random size crop after optional padding (torchvision RandomCrop, constant padding). */
export function randomCrop(size: number | Size2, opts: RandomCropOptions = {}): Transform {
  const o = options<RandomCropOptions>('options', opts, keysOf<RandomCropOptions>({ padding: true, padIfNeeded: true, fill: true }));
  const p = o.padding ?? 0;
  let padding: [number, number, number, number];
  if (isInt(p) && p >= 0) padding = [p, p, p, p];
  else if (Array.isArray(p) && (p.length === 2 || p.length === 4) && p.every((x) => isInt(x) && x >= 0)) {
    padding = p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[1], p[2], p[3]];
  } else throw new InvalidArgumentError('padding', 'non-negative integer or array of 2 or 4 of them', p);
  const fill = o.fill ?? 0;
  if (!isInt(fill) || fill < 0 || fill > 255) throw new InvalidArgumentError('fill', 'integer in [0, 255]', fill);
  return { op: 'random_crop', size: size2('size', size), padding, padIfNeeded: bool('padIfNeeded', o.padIfNeeded ?? false), fill };
}

/** Mirrors left-right with probability p (torchvision RandomHorizontalFlip). */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new InvalidArgumentError('p', 'number in [0, 1]', p);
  return { op: 'random_horizontal_flip', p };
}

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio w/h (default [3/4, 4/3]). */
  ratio?: [number, number];
}

/** torchvision RandomResizedCrop: 10 attempts at a random area/aspect crop, else a center crop; bilinear. */
export function randomResizedCrop(size: number | Size2, opts: RandomResizedCropOptions = {}): Transform {
  const o = options<RandomResizedCropOptions>('options', opts, keysOf<RandomResizedCropOptions>({ scale: true, ratio: true }));
  return {
    op: 'random_resized_crop',
    size: size2('size', size),
    scale: range2('scale', o.scale ?? [0.08, 1], false),
    ratio: range2('ratio', o.ratio ?? [3 / 4, 4 / 3], true),
  };
}

/** torchvision Resize (bilinear): an integer resizes the smaller edge, keeping the aspect ratio. */
export function resize(size: number | Size2): Transform {
  return { op: 'resize', size: isInt(size) && size > 0 ? size : size2('size', size) };
}

/** torchvision CenterCrop (pads with zeros when the image is smaller). */
export function centerCrop(size: number | Size2): Transform {
  return { op: 'center_crop', size: size2('size', size) };
}

/** One geometric primitive of a plan. Crops may reach outside the image (filled). */
export type Step =
  | { t: 'crop'; x: number; y: number; w: number; h: number; fill: number }
  | { t: 'resize'; w: number; h: number }
  | { t: 'flip' };

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision RandomResizedCrop.get_params: [top, left, height, width]. */
export function randomResizedCropParams(width: number, height: number, scale: [number, number], ratio: [number, number], rng: Rng): [number, number, number, number] {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const i = rng.int(0, height - h + 1);
      const j = rng.int(0, width - w + 1);
      return [i, j, h, w];
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return [Math.trunc((height - h) / 2), Math.trunc((width - w) / 2), h, w];
}

/** torchvision's output size for Resize(size) of a width × height image: [w, h]. */
export function resizeOutputSize(width: number, height: number, size: number | Size2): [number, number] {
  if (typeof size !== 'number') return [size[1], size[0]];
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [size, newLong] : [newLong, size];
}

type GeoTransform = Exclude<Transform, { op: 'to_tensor' } | { op: 'normalize' }>;

function planOne(tr: GeoTransform, w: number, h: number, rng: Rng, steps: Step[]): [number, number] {
  switch (tr.op) {
    case 'random_crop': {
      const [th, tw] = tr.size;
      let [l, t, r, b] = tr.padding;
      let W = w + l + r;
      let H = h + t + b;
      if (tr.padIfNeeded && W < tw) {
        l += tw - W;
        W += 2 * (tw - W);
      }
      if (tr.padIfNeeded && H < th) {
        t += th - H;
        H += 2 * (th - H);
      }
      if (H < th || W < tw) {
        throw new InvalidArgumentError('image', `an image of at least ${th}×${tw} after padding for randomCrop (use padIfNeeded)`, `${H}×${W}`);
      }
      const i = H === th && W === tw ? 0 : rng.int(0, H - th + 1);
      const j = H === th && W === tw ? 0 : rng.int(0, W - tw + 1);
      if (!(i === t && j === l && th === h && tw === w)) steps.push({ t: 'crop', x: j - l, y: i - t, w: tw, h: th, fill: tr.fill });
      return [tw, th];
    }
    case 'random_horizontal_flip':
      if (rng.random() < tr.p) steps.push({ t: 'flip' });
      return [w, h];
    case 'random_resized_crop': {
      const [i, j, ch, cw] = randomResizedCropParams(w, h, tr.scale, tr.ratio, rng);
      if (!(i === 0 && j === 0 && ch === h && cw === w)) steps.push({ t: 'crop', x: j, y: i, w: cw, h: ch, fill: 0 });
      const [oh, ow] = tr.size;
      if (ow !== cw || oh !== ch) steps.push({ t: 'resize', w: ow, h: oh });
      return [ow, oh];
    }
    case 'resize': {
      const [ow, oh] = resizeOutputSize(w, h, tr.size);
      if (ow !== w || oh !== h) steps.push({ t: 'resize', w: ow, h: oh });
      return [ow, oh];
    }
    case 'center_crop': {
      const [th, tw] = tr.size;
      // torchvision pads (zeros) when the image is smaller, then crops the center.
      const pl = tw > w ? Math.trunc((tw - w) / 2) : 0;
      const pt = th > h ? Math.trunc((th - h) / 2) : 0;
      const W = tw > w ? w + pl + Math.trunc((tw - w + 1) / 2) : w;
      const H = th > h ? h + pt + Math.trunc((th - h + 1) / 2) : h;
      const top = roundHalfEven((H - th) / 2);
      const left = roundHalfEven((W - tw) / 2);
      if (!(tw === w && th === h)) steps.push({ t: 'crop', x: left - pl, y: top - pt, w: tw, h: th, fill: 0 });
      return [tw, th];
    }
  }
}

/** A sharp (libvips) decode plan: the leading steps that sharp runs while decoding. */
export interface SharpPlan {
  preExtract?: { left: number; top: number; width: number; height: number };
  resize?: { width: number; height: number };
  postExtract?: { left: number; top: number; width: number; height: number };
  /** Steps left for JS, on sharp's output. */
  rest: Step[];
}

function inBounds(s: Step & { t: 'crop' }, w: number, h: number): boolean {
  return s.x >= 0 && s.y >= 0 && s.x + s.w <= w && s.y + s.h <= h;
}

/** Splits a plan for a w × h source into what sharp does (extract, resize, extract) and the rest. */
export function sharpPlan(steps: readonly Step[], w: number, h: number): SharpPlan {
  const plan: SharpPlan = { rest: [] };
  let k = 0;
  let s = steps[k];
  if (s?.t === 'crop' && inBounds(s, w, h)) {
    plan.preExtract = { left: s.x, top: s.y, width: s.w, height: s.h };
    w = s.w;
    h = s.h;
    s = steps[++k];
  }
  if (s?.t === 'resize') {
    plan.resize = { width: s.w, height: s.h };
    w = s.w;
    h = s.h;
    s = steps[++k];
    if (s?.t === 'crop' && inBounds(s, w, h)) {
      plan.postExtract = { left: s.x, top: s.y, width: s.w, height: s.h };
      k++;
    }
  }
  plan.rest = steps.slice(k);
  return plan;
}

/** Where the final pass reads: a region of the current image (may reach outside), maybe mirrored. */
interface View {
  x: number;
  y: number;
  w: number;
  h: number;
  flip: boolean;
  fill: number;
  padded: boolean;
}

/**
 * A compiled list of transforms. Geometric transforms must come before toTensor/normalize; the
 * output is always float32 CHW (toTensor is implied at the end of the geometric part).
 */
export class Pipeline {
  readonly transforms: readonly Transform[];
  private readonly geo: GeoTransform[];
  private readonly norms: { mean: number[]; std: number[] }[];
  private readonly luts = new Map<number, Float32Array>();

  /** @param name how errors name the list (registerDataset passes its own argument's). */
  constructor(transforms: readonly Transform[], name = 'transforms') {
    list(name, transforms, 'array of transforms');
    this.transforms = transforms.map((t) => ({ ...t }) as Transform);
    this.geo = [];
    this.norms = [];
    let tensorStage = false;
    transforms.forEach((t, i) => {
      const op = (t as { op?: unknown } | null)?.op;
      if (!(TRANSFORM_OPS as readonly unknown[]).includes(op)) {
        throw new InvalidArgumentError(`${name}[${i}]`, `a transform (op one of ${TRANSFORM_OPS.join(', ')})`, t);
      }
      if (t.op === 'to_tensor') tensorStage = true;
      else if (t.op === 'normalize') {
        if (!tensorStage) throw new InvalidArgumentError(`${name}[${i}]`, 'normalize after toTensor()', t);
        this.norms.push({ mean: t.mean, std: t.std });
      } else {
        if (tensorStage) throw new InvalidArgumentError(`${name}[${i}]`, `${t.op} before toTensor() (geometric transforms run on pixels)`, t);
        this.geo.push(t);
      }
    });
  }

  /** [C, H, W] produced for an input shape (null: unknown, varies with the image). */
  outputShape(input: ImageShape | null, channels = input?.[0] ?? 3): ImageShape | null {
    for (const n of this.norms) {
      if (n.mean.length !== 1 && n.mean.length !== channels) {
        throw new InvalidArgumentError('normalize mean', `1 or ${channels} values (the images have ${channels} channels)`, n.mean);
      }
    }
    let wh: [number, number] | null = input ? [input[2], input[1]] : null;
    for (const t of this.geo) {
      switch (t.op) {
        case 'random_crop':
        case 'random_resized_crop':
        case 'center_crop':
          wh = [t.size[1], t.size[0]];
          break;
        case 'resize':
          wh = typeof t.size !== 'number' ? [t.size[1], t.size[0]] : wh ? resizeOutputSize(wh[0], wh[1], t.size) : null;
          break;
        default:
          break;
      }
    }
    return wh ? [channels, wh[1], wh[0]] : null;
  }

  /** The geometric steps for a width × height image, drawing from rng in torchvision's order. */
  plan(width: number, height: number, rng: Rng): { steps: Step[]; width: number; height: number } {
    const steps: Step[] = [];
    let w = width;
    let h = height;
    for (const t of this.geo) [w, h] = planOne(t, w, h, rng, steps);
    return { steps, width: w, height: h };
  }

  /**
   * The float each uint8 value becomes, per channel (256 values for channel 0, then channel 1...):
   * x/255 then every normalize, in float32 like torch. Shared and cached: do not modify it.
   */
  lut(channels: number): Float32Array {
    let lut = this.luts.get(channels);
    if (!lut) {
      lut = new Float32Array(256 * channels);
      const f = Math.fround;
      for (let c = 0; c < channels; c++) {
        for (let v = 0; v < 256; v++) {
          let x = f(v / 255);
          for (const n of this.norms) {
            const m = f(n.mean.length === 1 ? n.mean[0] : n.mean[c]);
            const s = f(n.std.length === 1 ? n.std[0] : n.std[c]);
            x = f(f(x - m) / s);
          }
          lut[c * 256 + v] = x;
        }
      }
      this.luts.set(channels, lut);
    }
    return lut;
  }

  /**
   * Runs the steps on img and writes float32 CHW into out at offset. The source pixels are never
   * modified. Returns the [C, H, W] written.
   */
  execute(img: RawImage, steps: readonly Step[], out: Float32Array, offset: number): ImageShape {
    let view: View = { x: 0, y: 0, w: img.width, h: img.height, flip: false, fill: 0, padded: false };
    for (const s of steps) {
      if (s.t === 'flip') view.flip = !view.flip;
      else if (s.t === 'crop') {
        const inside = s.x >= 0 && s.y >= 0 && s.x + s.w <= view.w && s.y + s.h <= view.h;
        const whole = view.x === 0 && view.y === 0 && view.w === img.width && view.h === img.height && !view.flip;
        if (!inside && !whole) {
          // The crop pads beyond the current view: make the view real first.
          img = cropCopy(img, view.x, view.y, view.w, view.h, view.fill, view.flip);
          view = { x: 0, y: 0, w: img.width, h: img.height, flip: false, fill: 0, padded: false };
        }
        const x = view.flip ? view.x + view.w - s.x - s.w : view.x + s.x;
        const y = view.y + s.y;
        const padded = x < 0 || y < 0 || x + s.w > img.width || y + s.h > img.height;
        view = { x, y, w: s.w, h: s.h, flip: view.flip, fill: inside ? view.fill : s.fill, padded };
      } else {
        // Resampling commutes with mirroring (the filter is symmetric): keep the flip for later.
        if (view.padded) {
          img = cropCopy(img, view.x, view.y, view.w, view.h, view.fill, false);
          view = { ...view, x: 0, y: 0, padded: false };
        }
        img = resizeBilinear(img, view.x, view.y, view.w, view.h, s.w, s.h);
        view = { x: 0, y: 0, w: s.w, h: s.h, flip: view.flip, fill: 0, padded: false };
      }
    }
    writeView(img, view, this.lut(img.channels), out, offset);
    return [img.channels, view.h, view.w];
  }

  /** Plans and runs on decoded pixels, writing into out at offset. Returns the [C, H, W] written. */
  applyInto(img: RawImage, rng: Rng, out: Float32Array, offset: number): ImageShape {
    return this.execute(img, this.plan(img.width, img.height, rng).steps, out, offset);
  }

  /** Convenience: the float32 CHW result for one image. */
  apply(img: RawImage, random: RandomSource): { data: Float32Array; shape: ImageShape } {
    const rng = toRng(random);
    const { steps, width, height } = this.plan(img.width, img.height, rng);
    const data = new Float32Array(img.channels * width * height);
    return { data, shape: this.execute(img, steps, data, 0) };
  }
}

/** float32 CHW from a (cropped, maybe mirrored, maybe padded) view of uint8 HWC pixels. */
function writeView(img: RawImage, v: View, lut: Float32Array, out: Float32Array, offset: number): void {
  const C = img.channels;
  const sw = img.width;
  const sh = img.height;
  const sd = img.data;
  const plane = v.w * v.h;
  // Output columns [a, b) read source columns inside the image; the rest are fill.
  let a: number;
  let b: number;
  if (!v.flip) {
    a = Math.max(0, -v.x);
    b = Math.min(v.w, sw - v.x);
  } else {
    // column x reads v.x + v.w - 1 - x
    a = Math.max(0, v.x + v.w - sw);
    b = Math.min(v.w, v.x + v.w);
  }
  if (b < a) b = a;
  const step = v.flip ? -C : C;
  const luts = Array.from({ length: C }, (_, c) => lut.subarray(c * 256, c * 256 + 256));
  const fills = luts.map((l) => l[v.fill]);
  for (let y = 0; y < v.h; y++) {
    const sy = v.y + y;
    const rowOut = offset + y * v.w;
    if (sy < 0 || sy >= sh || a === b) {
      for (let c = 0; c < C; c++) out.fill(fills[c], rowOut + c * plane, rowOut + c * plane + v.w);
      continue;
    }
    if (a > 0 || b < v.w) {
      for (let c = 0; c < C; c++) {
        out.fill(fills[c], rowOut + c * plane, rowOut + c * plane + a);
        out.fill(fills[c], rowOut + c * plane + b, rowOut + c * plane + v.w);
      }
    }
    const sx = v.flip ? v.x + v.w - 1 - a : v.x + a;
    const p0 = (sy * sw + sx) * C;
    if (C === 3) {
      const l0 = luts[0];
      const l1 = luts[1];
      const l2 = luts[2];
      let p = p0;
      for (let x = rowOut + a, end = rowOut + b; x < end; x++, p += step) {
        out[x] = l0[sd[p]];
        out[x + plane] = l1[sd[p + 1]];
        out[x + 2 * plane] = l2[sd[p + 2]];
      }
    } else {
      for (let c = 0; c < C; c++) {
        const l = luts[c];
        let p = p0 + c;
        for (let x = rowOut + c * plane + a, end = rowOut + c * plane + b; x < end; x++, p += step) out[x] = l[sd[p]];
      }
    }
  }
}

/** A Pipeline from a list of transforms (a Pipeline is returned as is). */
export function compose(transforms: readonly Transform[] | Pipeline): Pipeline {
  return transforms instanceof Pipeline ? transforms : new Pipeline(transforms);
}

/**
 * Training augmentation as configs name it (dataset.augment): a random crop of the image's own
 * size after zero padding, and a horizontal flip with probability 1/2, in that order (the CIFAR
 * recipe, here also for MNIST-likes, where the Fashion-MNIST regime pads by 2).
 */
export interface AugmentOptions {
  crop?: { padding: number };
  flip?: boolean;
}

/** The geometric transforms of an AugmentOptions for square images of side `size`. */
export function augmentTransforms(size: number, opts: AugmentOptions): Transform[] {
  obj('opts', opts, 'augment options ({ crop?, flip? })');
  const out: Transform[] = [];
  if (opts.crop) out.push(randomCrop(size, { padding: obj<{ padding: number }>('opts.crop', opts.crop, 'crop options ({ padding })').padding }));
  if (opts.flip) out.push(randomHorizontalFlip());
  return out;
}
