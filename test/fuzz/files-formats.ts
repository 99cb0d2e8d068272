/**
 * The formats files.test.ts mutates: for each, small valid files written by the toolkit's own
 * writers (or sharp, or the byte layout of the format's spec), how a mutant of each is made, and
 * the public call that reads it. A load that succeeds is checked for consistency with the bytes
 * (shapes against byte counts, counts against the file's size); a returned string is an
 * inconsistency.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {
  F, ImageFolder, SGD, applySignIn, cifar10, cifar100, compose, encodeSafetensors, fashionMnist, fromTypedArray, loadMasks, loadSafetensorsHeader,
  loadSafetensorsWithMetadata, manualSeed, parseConfig, readIdxImages, readIdxLabels, resize, saveMasks, tidy, toRng, toTensor, centerCrop,
  type Tensor,
} from '../../src';
import { configHash } from '../../src/experiments/hash';
import { runPaths } from '../../src/experiments/paths';
import { readLock } from '../../src/experiments/lock';
import { readTransferRecord } from '../../src/experiments/runs';
import { loadSweepFile } from '../../src/experiments/sweep';
import { checkRunIntact, runState, scanRuns } from '../../src/experiments/run-scan';
import { writeReport } from '../../src/experiments/report';
import { trainConfigFromFlags } from '../../src/cli';
import { loadCheckpoint, readCheckpointInfo, saveCheckpoint } from '../../src/train/checkpoint';
import { fakeRun } from '../unit/experiments/fixtures';
import { maskedToy } from '../native/signin/helpers';
import { toyBatch } from '../helpers/toy-model';
import { int, joinSafetensors, mutateBytes, mutateJsonText, mutateSafetensors, splitSafetensors, type Field, type Mutant, type Rand } from './files-mutate';

export interface Seed {
  name: string;
  /** Where load() writes the mutant: a coded error must name it or its folder. */
  file: string;
  bytes: Buffer;
  mutate(r: Rand): Mutant;
  /** Writes `bytes` where the reader looks and reads it; a string names an inconsistency of a successful load. */
  load(bytes: Buffer): Promise<string | undefined>;
}

const DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** A loaded safetensors file against its own header and size: every tensor's shape and dtype as declared, the data section used exactly. */
function safetensorsConsistency(file: string, tensors: Map<string, Tensor>): string | undefined {
  const h = loadSafetensorsHeader(file);
  let used = 0;
  for (const e of h.entries) {
    const t = tensors.get(e.name);
    if (!t) return `tensor ${e.name} of the header was not loaded`;
    if (t.shape.join(',') !== e.shape.join(',')) return `${e.name}: shape [${t.shape}] loaded, [${e.shape}] declared`;
    const bytes = e.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[e.dtype];
    if (bytes !== e.dataOffsets[1] - e.dataOffsets[0]) return `${e.name}: ${bytes} bytes for ${e.dataOffsets[1] - e.dataOffsets[0]} declared`;
    used += bytes;
  }
  if (tensors.size !== h.entries.length) return `${tensors.size} tensors loaded, ${h.entries.length} in the header`;
  if (h.dataStart + used !== fs.statSync(file).size) return `header ${h.dataStart} + data ${used} bytes != file size ${fs.statSync(file).size}`;
  return undefined;
}

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

function safetensorsSeeds(dir: string): Seed[] {
  const file = path.join(dir, 'weights.safetensors');
  const tensors = new Map<string, Tensor>([
    ['a.weight', fromTypedArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])],
    ['a.count', fromTypedArray(new BigInt64Array([1n, -2n, 3n, 4n]), [4])],
    ['a.mask', fromTypedArray(new Uint8Array([1, 0, 1, 1, 0]), [5], { dtype: 'bool' })],
    ['b.half', tidy(() => fromTypedArray(new Float32Array([0.5, -1, 2]), [3]).to({ dtype: 'bfloat16' }))],
    ['b.scalar', fromTypedArray(new Float64Array([Math.PI]), [])],
    ['b.empty', fromTypedArray(new Uint8Array(0), [0, 4])],
  ]);
  const bytes = encodeSafetensors(tensors, { format: 'test', note: '{"json": [1, 2]}' });
  disposeAll(tensors);
  return [{
    name: 'tensors',
    file,
    bytes,
    mutate: (r) => mutateSafetensors(r, bytes),
    load: async (b) => {
      fs.writeFileSync(file, b);
      const { tensors: loaded } = loadSafetensorsWithMetadata(file);
      try {
        return safetensorsConsistency(file, loaded);
      } finally {
        disposeAll(loaded);
      }
    },
  }];
}

function masksSeeds(dir: string): Seed[] {
  const file = path.join(dir, 'masks.safetensors');
  const model = maskedToy(1, 0.4);
  saveMasks(model, file);
  const bytes = fs.readFileSync(file);
  return [{
    name: 'masks',
    file,
    bytes,
    mutate: (r) => mutateSafetensors(r, bytes),
    load: async (b) => {
      fs.writeFileSync(file, b);
      const into = maskedToy(2, 0.9);
      loadMasks(into, file);
      for (const [name, m] of into.namedBuffers()) {
        if (!name.endsWith('weight_mask')) continue;
        const bad = tidy(() => m.ne(0).logicalAnd(m.ne(1)).any().item());
        if (bad) return `${name} holds values other than 0 and 1 after loadMasks`;
      }
      return undefined;
    },
  }];
}

function checkpointSeeds(dir: string): Seed[] {
  const file = path.join(dir, 'checkpoint.safetensors');
  const make = () => {
    manualSeed(3);
    const model = maskedToy(3, 0.5);
    applySignIn(model, { beta: 1 });
    return { model, optimizer: SGD.forModel(model, { lr: 0.05, momentum: 0.9 }) };
  };
  const a = make();
  const { x, y } = toyBatch(4, { inChannels: 1, imageSize: 8 });
  tidy(() => F.crossEntropy(a.model.forward(x), y).backward());
  a.optimizer.step();
  x.dispose();
  y.dispose();
  saveCheckpoint(file, { ...a, callbacks: [], position: { epoch: 1, step: 1 }, extra: { note: 'x' } });
  const checked = fs.readFileSync(file);
  // Checkpoints written before checksums load unchecked: without it, damaged tensor bytes reach the restore.
  const { header, data } = splitSafetensors(checked);
  const doc = JSON.parse(header) as { __metadata__: Record<string, string> };
  delete doc.__metadata__.signin_torch_sha256;
  const unchecked = joinSafetensors(JSON.stringify(doc), data);
  const load = async (b: Buffer) => {
    fs.writeFileSync(file, b);
    const info = readCheckpointInfo(file);
    const into = make();
    const { position } = loadCheckpoint(file, { ...into, callbacks: [] });
    for (const v of [position.epoch, position.step, info.position.epoch]) {
      if (!Number.isSafeInteger(v) || v < 0) return `position ${JSON.stringify(position)} is not counts`;
    }
    return undefined;
  };
  return [
    { name: 'with sha256', file, bytes: checked, mutate: (r) => mutateSafetensors(r, checked), load },
    { name: 'without sha256', file, bytes: unchecked, mutate: (r) => mutateSafetensors(r, unchecked), load },
  ];
}

function idxBytes(count: number, rows: number, cols: number, fill: (i: number) => number): { images: Buffer; labels: Buffer } {
  const images = Buffer.alloc(16 + count * rows * cols);
  images.writeUInt32BE(2051, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(rows, 8);
  images.writeUInt32BE(cols, 12);
  for (let i = 16; i < images.length; i++) images[i] = fill(i);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(2049, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = i % 10;
  return { images, labels };
}

const IDX_FIELDS: Record<'images' | 'labels', Field[]> = {
  images: [{ name: 'magic', at: 0, size: 4, le: false }, { name: 'count', at: 4, size: 4, le: false }, { name: 'rows', at: 8, size: 4, le: false }, { name: 'cols', at: 12, size: 4, le: false }],
  labels: [{ name: 'magic', at: 0, size: 4, le: false }, { name: 'count', at: 4, size: 4, le: false }],
};

function idxSeeds(dir: string): Seed[] {
  const { images, labels } = idxBytes(6, 28, 28, (i) => (i * 37) & 0xff);
  const seeds: Seed[] = [];
  for (const gz of [false, true]) {
    const root = path.join(dir, gz ? 'gz' : 'raw');
    fs.mkdirSync(root, { recursive: true });
    const valid = { images, labels };
    const name = (k: 'images' | 'labels') => path.join(root, `t10k-${k}-idx${k === 'images' ? 3 : 1}-ubyte${gz ? '.gz' : ''}`);
    const encode = (b: Buffer) => (gz ? zlib.gzipSync(b) : b);
    for (const k of ['images', 'labels'] as const) fs.writeFileSync(name(k), encode(valid[k]));
    for (const k of ['images', 'labels'] as const) {
      const bytes = encode(valid[k]);
      seeds.push({
        name: `${k}${gz ? '.gz' : ''}`,
        file: name(k),
        bytes,
        // A gzip file is damaged either as gzip or, half the time, as the IDX bytes it holds.
        mutate: (r) => {
          if (!gz || r() < 0.5) return mutateBytes(r, bytes, gz ? [] : IDX_FIELDS[k]);
          const m = mutateBytes(r, valid[k], IDX_FIELDS[k]);
          return { label: `inside the gzip: ${m.label}`, bytes: zlib.gzipSync(m.bytes) };
        },
        load: async (b) => {
          fs.writeFileSync(name(k), b);
          try {
            const file = name(k);
            if (k === 'images') {
              const im = readIdxImages(file);
              if (im.data.length !== im.count * im.rows * im.cols) return `${im.data.length} bytes for ${im.count}×${im.rows}×${im.cols}`;
            } else {
              const l = readIdxLabels(file);
              const declared = (gz ? zlib.gunzipSync(b) : b).readUInt32BE(4);
              if (l.length !== declared) return `${l.length} labels for ${declared} declared`;
            }
            const ds = fashionMnist({ root, train: false });
            if (ds.length < 1 || ds.length > 10000) return `fashionMnist of ${ds.length} samples`;
            return undefined;
          } finally {
            fs.writeFileSync(name(k), encode(valid[k]));
          }
        },
      });
    }
  }
  return seeds;
}

/** Text mutants of a plain-text file (a class names list): byte damage, or a line repeated a million characters long. */
function mutateText(r: Rand, bytes: Buffer): Mutant {
  if (r() < 0.8) return mutateBytes(r, bytes);
  const lines = bytes.toString('utf8').split('\n');
  const i = int(r, lines.length);
  lines[i] = lines[i].repeat(Math.ceil(1e6 / Math.max(1, lines[i].length)));
  return { label: `line ${i + 1} a million characters long`, bytes: Buffer.from(lines.join('\n')) };
}

/** `records` CIFAR records of `labels` label bytes each (each below its limit) and 3072 pixel bytes. */
function cifarBytes(records: number, limits: readonly number[]): { bytes: Buffer; fields: Field[] } {
  const size = limits.length + 3072;
  const bytes = Buffer.alloc(records * size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 11) & 0xff;
  const fields: Field[] = [];
  for (let r = 0; r < records; r++) {
    limits.forEach((limit, b) => {
      bytes[r * size + b] = (r * 7 + b) % limit;
      fields.push({ name: `label byte ${b} of record ${r}`, at: r * size + b, size: 1, le: false });
    });
  }
  return { bytes, fields };
}

function cifarSeeds(dir: string): Seed[] {
  const root10 = path.join(dir, 'cifar');
  const root100 = path.join(dir, 'cifar-100-binary');
  for (const root of [root10, root100]) fs.mkdirSync(root, { recursive: true });
  const ten = cifarBytes(3, [10]);
  const hundred = cifarBytes(3, [20, 100]);
  const names = Buffer.from(`${Array.from({ length: 10 }, (_, i) => `class${i}`).join('\n')}\n`);
  const namesFile = path.join(root10, 'batches.meta.txt');
  fs.writeFileSync(namesFile, names);
  /** The labels against their limits, the record count against the file's size. */
  const check = (ds: { length: number; label(i: number): number; classes: readonly string[] }, b: Buffer, size: number, classes: number) => {
    if (ds.length * size !== b.length) return `${ds.length} records from ${b.length} bytes`;
    if (ds.classes.length !== classes) return `${ds.classes.length} class names for ${classes} classes`;
    for (let i = 0; i < ds.length; i++) if (ds.label(i) < 0 || ds.label(i) >= classes) return `label ${ds.label(i)} of record ${i}`;
    return undefined;
  };
  // Each file is valid again after its mutant: the names file's mutants are read with the batch.
  const batch = (file: string, valid: Buffer, fields: Field[], load: (b: Buffer) => string | undefined): Seed => {
    fs.writeFileSync(file, valid);
    return {
      name: path.basename(file),
      file,
      bytes: valid,
      mutate: (r) => mutateBytes(r, valid, fields),
      load: async (b) => {
        fs.writeFileSync(file, b);
        try {
          return load(b);
        } finally {
          fs.writeFileSync(file, valid);
        }
      },
    };
  };
  return [
    batch(path.join(root10, 'test_batch.bin'), ten.bytes, ten.fields, (b) => check(cifar10({ root: root10, train: false }), b, 3073, 10)),
    // CIFAR-100's record: a coarse (< 20) and a fine (< 100) label byte, read by both label types.
    batch(path.join(root100, 'test.bin'), hundred.bytes, hundred.fields, (b) => check(cifar100({ root: root100, train: false }), b, 3074, 100)
      ?? check(cifar100({ root: root100, train: false, labelType: 'coarse' }), b, 3074, 20)),
    {
      name: 'batches.meta.txt',
      file: namesFile,
      bytes: names,
      mutate: (r) => mutateText(r, names),
      load: async (b) => {
        fs.writeFileSync(namesFile, b);
        try {
          return check(cifar10({ root: root10, train: false }), ten.bytes, 3073, 10);
        } finally {
          fs.writeFileSync(namesFile, names);
        }
      },
    },
  ];
}

/** The segments of a JPEG up to its scan: the length of each, and the sizes and counts of SOFn and SOS. */
function jpegFields(b: Buffer): Field[] {
  const out: Field[] = [];
  for (let p = 2; p + 4 <= b.length && b[p] === 0xff;) {
    const m = b[p + 1];
    const len = b.readUInt16BE(p + 2);
    const tag = `marker 0x${m.toString(16)} at ${p}`;
    out.push({ name: `${tag} length`, at: p + 2, size: 2, le: false });
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      out.push({ name: `${tag} precision`, at: p + 4, size: 1, le: false }, { name: `${tag} height`, at: p + 5, size: 2, le: false },
        { name: `${tag} width`, at: p + 7, size: 2, le: false }, { name: `${tag} components`, at: p + 9, size: 1, le: false },
        { name: `${tag} sampling`, at: p + 11, size: 1, le: false });
    }
    if (m === 0xda) {
      out.push({ name: `${tag} components`, at: p + 4, size: 1, le: false });
      break;
    }
    p += 2 + len;
  }
  return out;
}

/** The chunks of a PNG: each length, and IHDR's width, height, depth and colour type. */
function pngFields(b: Buffer): Field[] {
  const out: Field[] = [{ name: 'IHDR width', at: 16, size: 4, le: false }, { name: 'IHDR height', at: 20, size: 4, le: false },
    { name: 'IHDR depth', at: 24, size: 1, le: false }, { name: 'IHDR colour type', at: 25, size: 1, le: false }];
  for (let p = 8; p + 8 <= b.length;) {
    out.push({ name: `chunk ${b.subarray(p + 4, p + 8).toString('latin1')} at ${p} length`, at: p, size: 4, le: false });
    p += 12 + b.readUInt32BE(p);
  }
  return out;
}

/** TIFF (little-endian, as sharp writes it): the first IFD's offset, its entry count, and each entry's count and value. */
function tiffFields(b: Buffer): Field[] {
  const ifd = b.readUInt32LE(4);
  const out: Field[] = [{ name: 'IFD offset', at: 4, size: 4, le: true }, { name: 'IFD entries', at: ifd, size: 2, le: true }];
  for (let e = 0, n = b.readUInt16LE(ifd); e < n; e++) {
    const at = ifd + 2 + 12 * e;
    const tag = b.readUInt16LE(at);
    out.push({ name: `tag ${tag} count`, at: at + 4, size: 4, le: true }, { name: `tag ${tag} value`, at: at + 8, size: 4, le: true });
  }
  return out;
}

/** WebP: the RIFF size, each chunk's size, and a lossy frame's width and height. */
function webpFields(b: Buffer): Field[] {
  const out: Field[] = [{ name: 'RIFF size', at: 4, size: 4, le: true }];
  for (let p = 12; p + 8 <= b.length;) {
    const fourcc = b.subarray(p, p + 4).toString('latin1');
    const size = b.readUInt32LE(p + 4);
    out.push({ name: `chunk ${fourcc} size`, at: p + 4, size: 4, le: true });
    if (fourcc === 'VP8 ') out.push({ name: 'VP8 width', at: p + 14, size: 2, le: true }, { name: 'VP8 height', at: p + 16, size: 2, le: true });
    p += 8 + size + (size & 1);
  }
  return out;
}

/**
 * One image in a one-class ImageFolder, read by get() (sharp) and by decodeInto through a resize
 * and a centre crop, the loader's path (the addon's libjpeg decoder for a JPEG).
 */
function imageSeed(dir: string, name: string, ext: string, bytes: Buffer, fields: (b: Buffer) => Field[]): Seed {
  const root = path.join(dir, `folder-${name}`);
  fs.mkdirSync(path.join(root, 'c'), { recursive: true });
  const file = path.join(root, 'c', `img.${ext}`);
  fs.writeFileSync(file, bytes);
  const pipeline = compose([resize(10), centerCrop(8), toTensor()]);
  const maxPixels = 1 << 20;
  return {
    name,
    file,
    bytes,
    mutate: (r) => mutateBytes(r, bytes, fields(bytes)),
    load: async (b) => {
      fs.writeFileSync(file, b);
      const ds = new ImageFolder(root, { strict: true, maxPixels });
      const { image } = await ds.get(0);
      if (image.data.length !== image.width * image.height * image.channels || image.channels !== 3) {
        return `get(0): ${image.data.length} bytes for ${image.width}×${image.height}×${image.channels}`;
      }
      if (image.width * image.height > maxPixels) return `get(0): ${image.width}×${image.height} decoded, above maxPixels`;
      const out = new Float32Array(3 * 8 * 8).fill(NaN);
      await ds.decodeInto(0, pipeline, () => toRng(0), out, 0, [3, 8, 8]);
      const i = out.findIndex((v) => !(v >= 0 && v <= 1));
      return i >= 0 ? `decodeInto: value ${out[i]} at ${i}` : undefined;
    },
  };
}

async function imageSeeds(dir: string, kind: 'jpeg' | 'sharp'): Promise<Seed[]> {
  const sharp = (await import('sharp')).default;
  const w = 24;
  const h = 18;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i % 5) * 40) & 0xff;
  const raw = () => sharp(px, { raw: { width: w, height: h, channels: 3 } });
  if (kind === 'sharp') {
    return [
      imageSeed(dir, 'rgb-png', 'png', await raw().png().toBuffer(), pngFields),
      imageSeed(dir, 'palette-png', 'png', await raw().png({ palette: true, colours: 16 }).toBuffer(), pngFields),
      imageSeed(dir, 'webp', 'webp', await raw().webp({ quality: 80 }).toBuffer(), webpFields),
      imageSeed(dir, 'tiff', 'tif', await raw().tiff({ compression: 'lzw' }).toBuffer(), tiffFields),
    ];
  }
  return [
    imageSeed(dir, 'baseline', 'jpg', await raw().jpeg({ quality: 80 }).toBuffer(), jpegFields),
    imageSeed(dir, 'progressive', 'jpg', await raw().jpeg({ quality: 90, progressive: true, chromaSubsampling: '4:4:4' }).toBuffer(), jpegFields),
    imageSeed(dir, 'grey', 'jpg', await raw().greyscale().jpeg({ quality: 70 }).toBuffer(), jpegFields),
    // Four components (Adobe's CMYK), alone and progressive: the decoder converts them to RGB.
    imageSeed(dir, 'cmyk', 'jpg', await raw().toColourspace('cmyk').jpeg({ quality: 80 }).toBuffer(), jpegFields),
    imageSeed(dir, 'cmyk-progressive', 'jpg', await raw().toColourspace('cmyk').jpeg({ quality: 80, progressive: true }).toBuffer(), jpegFields),
  ];
}

/** A metrics.jsonl mutant: one line's JSON edited, or byte damage to the file. */
function mutateLines(r: Rand, bytes: Buffer): Mutant {
  const lines = bytes.toString('utf8').split('\n');
  if (r() < 0.4) return mutateBytes(r, bytes);
  const i = int(r, lines.length - 1);
  const m = mutateJsonText(r, lines[i]);
  lines[i] = m.text;
  return { label: `line ${i + 1}: ${m.label}`, bytes: Buffer.from(lines.join('\n')) };
}

/** A JSON file's mutant: byte damage with probability `damage`, else an edit of its JSON text. */
function mutateJson(r: Rand, bytes: Buffer, damage = 0.25): { label: string; bytes: Buffer } {
  if (r() < damage) return mutateBytes(r, bytes);
  const m = mutateJsonText(r, bytes.toString('utf8'));
  return { label: m.label, bytes: Buffer.from(m.text) };
}

/** What a run file's own reader returns, against what it may hold (the run's state is read for all). */
function ownRead(run: string, file: string): string | undefined {
  const name = path.basename(file);
  if (name === 'run.lock') {
    const h = readLock(run);
    if (h && !(Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === 'string')) return `readLock: ${JSON.stringify(h).slice(0, 200)}`;
  }
  if (name === 'transfer.json') {
    const s = readTransferRecord(run)?.sourceSparsity;
    if (s !== undefined && !(s >= 0 && s < 1)) return `readTransferRecord: sourceSparsity ${s}`;
  }
  return undefined;
}

function runSeeds(dir: string): Seed[] {
  const runsDir = path.join(dir, 'runs');
  const finished = fakeRun(runsDir, { sparsity: 0.9, signin: true, seed: 0, final: 0.8 }).dir;
  const failed = fakeRun(runsDir, { sparsity: 0.5, signin: false, seed: 1 }).dir;
  const interrupted = fakeRun(runsDir, { sparsity: 0.5, signin: true, seed: 2 }).dir;
  const locked = fakeRun(runsDir, { sparsity: 0.8, signin: false, seed: 3 }).dir;
  const json = (file: string, v: unknown) => fs.writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
  json(runPaths(failed).failed, { code: 'ERR_DATASET', message: 'Cannot read\nthe file', failedAt: '2026-01-01T00:00:00Z' });
  json(runPaths(interrupted).interrupted, { epoch: 2, step: 20, batch: 3, reason: 'SIGTERM', checkpoint: 'checkpoint.safetensors' });
  // Another host's holder: alive as far as this host can tell, so the run reads as running.
  json(runPaths(locked).lock, { pid: 4242, host: 'fuzz-other-host', startedAt: '2026-01-01T00:00:00Z' });
  json(runPaths(finished).transfer, { from: failed, kind: 'mask', sourceConfigHash: '0'.repeat(16), sourceSparsity: 0.5 });
  const out = path.join(dir, 'report');
  const files: [string, string][] = [
    [finished, runPaths(finished).config], [finished, runPaths(finished).metrics], [finished, runPaths(finished).final],
    [failed, runPaths(failed).failed], [failed, runPaths(failed).metrics], [interrupted, runPaths(interrupted).interrupted],
    [locked, runPaths(locked).lock], [finished, runPaths(finished).transfer],
  ];
  return files.map(([run, file]) => {
    const bytes = fs.readFileSync(file);
    const lines = file.endsWith('.jsonl');
    return {
      name: path.basename(file),
      file,
      bytes,
      mutate: (r: Rand) => (lines ? mutateLines(r, bytes) : mutateJson(r, bytes, 0.3)),
      load: async (b: Buffer) => {
        fs.writeFileSync(file, b);
        try {
          const scan = scanRuns(runsDir);
          if (scan.runs.length + scan.corrupt.length !== 4) return `scanRuns found ${scan.runs.length} runs and ${scan.corrupt.length} corrupt of 4`;
          runState(run);
          await writeReport(runsDir, out, { plots: false });
          checkRunIntact(run);
          return ownRead(run, file);
        } finally {
          fs.writeFileSync(file, bytes);
        }
      },
    };
  });
}

/** A sweep file as `sweep --grid` reads it: each expanded run's config must be one that parses. */
function sweepSeeds(dir: string): Seed[] {
  const file = path.join(dir, 'grid.json');
  const spec = {
    base: { dataset: { name: 'mnist' }, model: { name: 'lenet5' }, epochs: 1, pruning: { method: 'random', sparsity: 0.5 } },
    grid: { 'pruning.sparsity': [0.5, 0.9], 'signin.enabled': [false, true], 'optimizer.lr': [0.1] },
    seeds: [0, 1],
  };
  const bytes = Buffer.from(JSON.stringify(spec, null, 2));
  return [{
    name: 'grid.json',
    file,
    bytes,
    mutate: (r) => mutateJson(r, bytes),
    load: async (b) => {
      fs.writeFileSync(file, b);
      const { runs } = loadSweepFile(file);
      for (const run of runs) configHash(parseConfig(run.config));
      return runs.length > 0 ? undefined : 'a sweep of no runs';
    },
  }];
}

function configSeeds(dir: string): Seed[] {
  const file = path.join(dir, 'config.json');
  const config = {
    dataset: { name: 'cifar10', root: '/data/cifar' },
    model: { name: 'cifar_resnet_20' },
    pruning: { method: 'snip', sparsity: 0.9, dataSamples: 100 },
    signin: { enabled: true, beta: 1, resetPeriod: 2 },
    optimizer: { lr: 0.1, weightDecay: 5e-4 },
    epochs: 3,
    batchSize: 64,
    seed: 2,
  };
  parseConfig(config);
  const bytes = Buffer.from(JSON.stringify(config, null, 2));
  return [{
    name: 'config.json',
    file,
    bytes,
    mutate: (r) => mutateJson(r, bytes),
    load: async (b) => {
      fs.writeFileSync(file, b);
      const { raw, source } = trainConfigFromFlags({ config: file, set: [] });
      configHash(parseConfig(raw, source));
      return undefined;
    },
  }];
}

/** sharp: the formats ImageFolder leaves to sharp (PNG, WebP, TIFF). */
export const FORMATS = ['safetensors', 'masks', 'checkpoint', 'idx', 'cifar', 'jpeg', 'sharp', 'runs', 'config', 'sweep'] as const;
export type FormatName = (typeof FORMATS)[number];

/** The valid seeds of a format, their files written under dir. */
export async function seedsOf(format: FormatName, dir: string): Promise<Seed[]> {
  switch (format) {
    case 'safetensors': return safetensorsSeeds(dir);
    case 'masks': return masksSeeds(dir);
    case 'checkpoint': return checkpointSeeds(dir);
    case 'idx': return idxSeeds(dir);
    case 'cifar': return cifarSeeds(dir);
    case 'jpeg': return imageSeeds(dir, 'jpeg');
    case 'sharp': return imageSeeds(dir, 'sharp');
    case 'runs': return runSeeds(dir);
    case 'config': return configSeeds(dir);
    case 'sweep': return sweepSeeds(dir);
    default: throw new Error(`unknown format ${String(format)}`);
  }
}

