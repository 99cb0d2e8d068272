/**
 * ImageFolder's JPEG decode path: the addon's jpegDecodeCropResize (native/jpeg/) decodes only the
 * rows a crop needs with libjpeg-turbo and resamples the crop with Pillow's bilinear filter, in the
 * calling thread. That gives torchvision's pixels (PIL decodes with the same libjpeg-turbo), at
 * about half the CPU time of sharp, and it scales with the loader's worker threads, where sharp
 * decodes on libuv's shared pool. When the rest of the plan is only in-image crops and flips
 * (RandomResizedCrop + flip, Resize + CenterCrop), the same call also crops, mirrors and
 * normalizes, writing float32 CHW straight into the batch (decodeJpegInto); otherwise it returns
 * the resampled bytes and the Pipeline runs the rest (decodeJpegPlan). Without the function (an
 * addon built without jpeglib.h, or no addon), or for CMYK/YCCK JPEGs, images are decoded by sharp.
 */
import { native } from '../native';
import type { RawImage } from './base';
import { sharpPlan, type Step } from './transforms';

/**
 * geometry: [x, y, w, h, outW, outH] (the source box and its resampled size), optionally followed by
 * [winX, winY, winW, winH, flip] (the part written, mirrored when flip is 1). Uint8Array out: HWC
 * bytes of the window; Float32Array out: its CHW planes through lut (256 floats per channel) from
 * element offset on. False: a colour space left to sharp.
 */
export interface JpegDecodeFn {
  (data: Uint8Array, geometry: number[], maxPixels: number, out: Uint8Array): boolean;
  (data: Uint8Array, geometry: number[], maxPixels: number, out: Float32Array, lut: Float32Array, offset: number): boolean;
}

let decodeFn: JpegDecodeFn | null | undefined;

/** The addon's decoder, or undefined when the addon is missing or was built without libjpeg. */
export function jpegDecoder(): JpegDecodeFn | undefined {
  if (decodeFn === undefined) {
    try {
      const f = native().jpegDecodeCropResize;
      decodeFn = typeof f === 'function' ? (f as JpegDecodeFn) : null;
    } catch {
      decodeFn = null;
    }
  }
  return decodeFn ?? undefined;
}

/** JPEG files start with the SOI marker and another marker. */
export function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** The source box and output size the decoder produces, and the steps left for Pipeline.execute. */
export interface JpegPlan {
  box: [x: number, y: number, w: number, h: number];
  width: number;
  height: number;
  rest: Step[];
}

/**
 * The leading crop (inside the image) and/or resize of a plan for a w × h image, as sharpPlan
 * finds them; undefined when the plan starts with neither, which leaves the image to sharp's
 * plain decode. A crop after the resize (sharp's postExtract) stays a step of `rest`.
 */
export function jpegPlan(steps: readonly Step[], w: number, h: number): JpegPlan | undefined {
  const p = sharpPlan(steps, w, h);
  if (!p.preExtract && !p.resize) return undefined;
  const e = p.preExtract;
  const box: JpegPlan['box'] = e ? [e.left, e.top, e.width, e.height] : [0, 0, w, h];
  const rest = p.postExtract ? steps.slice(steps.length - p.rest.length - 1) : p.rest;
  return { box, width: p.resize?.width ?? box[2], height: p.resize?.height ?? box[3], rest };
}

/**
 * Runs a plan's decode; undefined for a JPEG the decoder leaves to sharp (CMYK, YCCK). A corrupt
 * or truncated file, or one of more than maxPixels pixels, throws the addon's error, whose message
 * says what libjpeg found.
 */
export function decodeJpegPlan(decode: JpegDecodeFn, bytes: Uint8Array, plan: JpegPlan, maxPixels: number): RawImage | undefined {
  const data = new Uint8Array(plan.width * plan.height * 3);
  if (!decode(bytes, [...plan.box, plan.width, plan.height], maxPixels, data)) return undefined;
  return { data, width: plan.width, height: plan.height, channels: 3 };
}

/** The part of the decoder's output that is written, [x, y, w, h, flip (0 or 1)]. */
export type JpegWindow = [x: number, y: number, w: number, h: number, flip: number];

/**
 * The window that a plan's remaining steps select when they are only crops inside the resampled
 * image and flips (the view arithmetic of Pipeline.execute); undefined when another step remains
 * (a resize, a crop that pads), which leaves them to the Pipeline.
 */
export function jpegWindow(plan: JpegPlan): JpegWindow | undefined {
  let x = 0;
  let y = 0;
  let w = plan.width;
  let h = plan.height;
  let flip = false;
  for (const s of plan.rest) {
    if (s.t === 'flip') flip = !flip;
    else if (s.t === 'crop' && s.x >= 0 && s.y >= 0 && s.x + s.w <= w && s.y + s.h <= h) {
      x = flip ? x + w - s.x - s.w : x + s.x;
      y += s.y;
      w = s.w;
      h = s.h;
    } else return undefined;
  }
  return [x, y, w, h, flip ? 1 : 0];
}

/**
 * Runs a plan whose rest is `window` in one native call: decode, resample, crop, mirror, and
 * float32 CHW through lut into out at offset. False for a JPEG left to sharp (nothing written);
 * corrupt data throws as in decodeJpegPlan.
 */
export function decodeJpegInto(decode: JpegDecodeFn, bytes: Uint8Array, plan: JpegPlan, window: JpegWindow, maxPixels: number, lut: Float32Array, out: Float32Array, offset: number): boolean {
  return decode(bytes, [...plan.box, plan.width, plan.height, ...window], maxPixels, out, lut, offset);
}
