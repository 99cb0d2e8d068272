/**
 * Image resampling on uint8 HWC pixels, a port of Pillow's ImagingResample for the BILINEAR filter
 * (8-bit fixed point, horizontal pass then vertical pass, antialiased when shrinking), so that
 * Resize/RandomResizedCrop on decoded pixels give the same values as torchvision on PIL images.
 * The box is a crop of the source: the filter never reads outside it (PIL's crop-then-resize).
 */
import type { RawImage } from './base';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output pixel, relative to the box start
  kk: Float64Array; // fixed-point weights (integers stored in doubles)
}

function bilinear(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bilinear((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && ww !== 0 ? pre[x] / ww : 0;
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(v: number): number {
  const r = Math.floor(v / ONE);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/**
 * Resizes the box (x0, y0, bw, bh) of src to outW × outH with Pillow's bilinear filter.
 * The box must lie inside the image.
 */
export function resizeBilinear(src: RawImage, x0: number, y0: number, bw: number, bh: number, outW: number, outH: number): RawImage {
  const C = src.channels;
  const needH = outW !== bw;
  const needV = outH !== bh;
  if (!needH && !needV) return cropCopy(src, x0, y0, bw, bh);
  const horiz = precompute(bw, outW);
  const vert = precompute(bh, outH);
  // Rows of the box the vertical pass reads.
  const yFirst = vert.bounds[0];
  const yLast = vert.bounds[outH * 2 - 2] + vert.bounds[outH * 2 - 1];
  let img: RawImage;
  let rowOff: number;
  if (needH) {
    const rows = needV ? yLast - yFirst : bh;
    const first = needV ? yFirst : 0;
    const tmp = new Uint8Array(outW * rows * C);
    const sd = src.data;
    const sw = src.width;
    const { ksize, bounds, kk } = horiz;
    for (let yy = 0; yy < rows; yy++) {
      const rowBase = ((y0 + first + yy) * sw + x0) * C;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const kb = xx * ksize;
        for (let c = 0; c < C; c++) {
          let ss = HALF;
          let p = rowBase + xmin * C + c;
          for (let x = 0; x < xmax; x++, p += C) ss += sd[p] * kk[kb + x];
          tmp[(yy * outW + xx) * C + c] = clip8(ss);
        }
      }
    }
    img = { data: tmp, width: outW, height: rows, channels: C };
    rowOff = -first;
    if (!needV) return img;
  } else {
    img = src;
    rowOff = 0;
  }
  // Vertical pass: reads rows (ymin + y) of the box, which sit at row y0 + ymin + y of src or at
  // row ymin + y - yFirst of the horizontal pass's output.
  const out = new Uint8Array(outW * outH * C);
  const { ksize, bounds, kk } = vert;
  const id = img.data;
  const iw = img.width;
  const xStart = needH ? 0 : x0;
  const yStart = needH ? rowOff : y0;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2];
    const ymax = bounds[yy * 2 + 1];
    const kb = yy * ksize;
    for (let xx = 0; xx < outW; xx++) {
      for (let c = 0; c < C; c++) {
        let ss = HALF;
        let p = ((yStart + ymin) * iw + xStart + xx) * C + c;
        const step = iw * C;
        for (let y = 0; y < ymax; y++, p += step) ss += id[p] * kk[kb + y];
        out[(yy * outW + xx) * C + c] = clip8(ss);
      }
    }
  }
  return { data: out, width: outW, height: outH, channels: C };
}

/**
 * A copy of the region (x0, y0, w, h), which may extend past the image (filled with `fill`),
 * mirrored left-right when flip is set.
 */
export function cropCopy(src: RawImage, x0: number, y0: number, w: number, h: number, fill = 0, flip = false): RawImage {
  const C = src.channels;
  const out = new Uint8Array(w * h * C);
  if (fill !== 0) out.fill(fill);
  const sw = src.width;
  const sh = src.height;
  const sd = src.data;
  for (let y = 0; y < h; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= sh) continue;
    for (let x = 0; x < w; x++) {
      const sx = flip ? x0 + w - 1 - x : x0 + x;
      if (sx < 0 || sx >= sw) continue;
      const s = (sy * sw + sx) * C;
      const d = (y * w + x) * C;
      for (let c = 0; c < C; c++) out[d + c] = sd[s + c];
    }
  }
  return { data: out, width: w, height: h, channels: C };
}
