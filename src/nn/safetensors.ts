/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written in
 * TypeScript: an 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}),
 * then the tensors' bytes, little-endian, row-major. No pickle, ever (architecture.md decision 8).
 *
 * Every header problem is an ERR_SAFETENSORS error that names the file and the key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemErrorText, writeFileAtomic, type Pieces } from '../atomic';
import { openRegular } from '../bounded-read';
import { InvalidArgumentError, ToolkitError } from '../errors';
import { boundText, quoteText } from '../quote';
import { options, str } from '../validate';
import { hostByteLength, hostBytes, sharedScratch, tensorOver } from '../tensor/host-bytes';
import { Tensor, type DType } from '../tensor/tensor';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

interface DtypeInfo {
  dtype: DType;
  size: number;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F64: { dtype: 'float64', size: 8 },
  F32: { dtype: 'float32', size: 4 },
  F16: { dtype: 'float16', size: 2 },
  BF16: { dtype: 'bfloat16', size: 2 },
  I64: { dtype: 'int64', size: 8 },
  I32: { dtype: 'int32', size: 4 },
  I16: { dtype: 'int16', size: 2 },
  I8: { dtype: 'int8', size: 1 },
  U8: { dtype: 'uint8', size: 1 },
  BOOL: { dtype: 'bool', size: 1 },
};

const BY_DTYPE = new Map<DType, SafetensorsDtype>(
  (Object.entries(DTYPES) as [SafetensorsDtype, DtypeInfo][]).map(([k, v]) => [v.dtype, k]),
);

/** The safetensors reference implementation refuses headers above 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Entries in data order. */
  entries: SafetensorsEntry[];
  /** The byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

function fail(source: string, message: string, cause?: unknown): never {
  throw new ToolkitError('ERR_SAFETENSORS', `Invalid safetensors file ${source}: ${message}`, { cause });
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Whether multiplying the sizes in order overflows int64, as the reference implementation's checked product (and libtorch) would. */
function countOverflows(shape: readonly number[]): boolean {
  let n = 1n;
  for (const d of shape) {
    n *= BigInt(d);
    if (n > INT64_MAX) return true;
  }
  return false;
}

/** A header value as an error message quotes it, bounded: a header can hold a string of megabytes. */
function fmt(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // JSON.parse reads a value nested thousands deep, which JSON.stringify's recursion cannot write back.
    s = `${Array.isArray(v) ? 'an array' : 'an object'} nested too deep to show`;
  }
  return boundText(s);
}

/**
 * Parses and validates a header: the JSON, each entry's dtype, shape and offsets (sizes match
 * shape × dtype; entries are contiguous from 0 and end exactly at the end of the data).
 */
export function decodeSafetensorsHeader(bytes: Uint8Array, source = '<buffer>'): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('bytes', 'Uint8Array (or Buffer) of a safetensors file', bytes);
  str('source', source);
  return parseHeader((offset, length) => bytes.subarray(offset, offset + length), bytes.length, source);
}

/** `length` bytes from `offset` of a safetensors file or buffer. */
type ReadBytes = (offset: number, length: number) => Uint8Array;

/** decodeSafetensorsHeader of a source of `size` bytes read through `read`, which is asked for the header only. */
function parseHeader(read: ReadBytes, size: number, source: string): SafetensorsHeader {
  if (size < 8) fail(source, `the file has ${size} bytes, fewer than the 8-byte header length (truncated?)`);
  const lengthBytes = read(0, 8);
  const n = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(source, `the header length ${n} exceeds ${MAX_HEADER_BYTES} bytes (not a safetensors file?)`);
  const headerLen = Number(n);
  const dataStart = 8 + headerLen;
  if (dataStart > size) {
    fail(source, `the header claims ${headerLen} bytes but the file has only ${size - 8} after the length (truncated?)`);
  }
  let header: unknown;
  try {
    const text = read(8, headerLen);
    header = JSON.parse(Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));
  } catch (e) {
    fail(source, `the header is not valid JSON (${(e as Error).message})`, e);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(source, `${METADATA_KEY} is not an object`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `${METADATA_KEY} value of ${quoteText(k)} is ${fmt(v)}, not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${quoteText(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(source, `${where}: the entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
      fail(source, `${where}: unsupported dtype ${fmt(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) fail(source, `${where}: shape ${fmt(shape)} is not an array of non-negative integers`);
    if (countOverflows(shape as number[])) fail(source, `${where}: shape ${fmt(shape)} has more elements than an int64 counts`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[0] > offsets[1]) {
      fail(source, `${where}: data_offsets ${fmt(offsets)} is not a pair [begin, end] of integers with begin <= end`);
    }
    const st = dtype as SafetensorsDtype;
    const need = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPES[st].size;
    const have = offsets[1] - offsets[0];
    if (have !== need) {
      fail(source, `${where}: data_offsets ${fmt(offsets)} hold ${have} bytes but shape ${fmt(shape)} of ${st} needs ${need}`);
    }
    entries.push({ name, dtype: st, shape: shape as number[], dataOffsets: [offsets[0], offsets[1]] });
  }

  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const dataLen = size - dataStart;
  let offset = 0;
  for (const e of entries) {
    if (e.dataOffsets[0] !== offset) {
      fail(source, `tensor ${quoteText(e.name)}: data_offsets ${fmt(e.dataOffsets)} ${e.dataOffsets[0] < offset ? 'overlap the previous tensor' : 'leave a gap after the previous tensor'} (expected to begin at ${offset})`);
    }
    if (e.dataOffsets[1] > dataLen) {
      fail(source, `tensor ${quoteText(e.name)}: data_offsets ${fmt(e.dataOffsets)} end past the data section (${dataLen} bytes; truncated?)`);
    }
    offset = e.dataOffsets[1];
  }
  if (offset !== dataLen) fail(source, `the data section has ${dataLen} bytes but the tensors use ${offset}`);
  return { metadata, entries, dataStart };
}

/** libtorch reads a bool byte as is: a 2 would sum as 2 and logicalNot to false, so only 0 and 1 pass. */
function checkBool(buf: ArrayBuffer, byteLength: number, e: SafetensorsEntry, source: string): void {
  const b = new Uint8Array(buf, 0, byteLength);
  const i = b.findIndex((v) => v > 1);
  if (i >= 0) fail(source, `tensor ${quoteText(e.name)}: BOOL element ${i} is the byte 0x${b[i].toString(16).padStart(2, '0')} (a BOOL byte must be 0 or 1)`);
}

/**
 * A tensor of the entry's bytes, the first `byteLength` of `buf` (at its start, so aligned for the
 * dtype, as the file's offsets need not be): over them with `copy` false, else copied.
 */
function tensorFromBuffer(buf: ArrayBuffer, byteLength: number, e: SafetensorsEntry, source: string, copy: boolean): Tensor {
  if (e.dtype === 'BOOL') checkBool(buf, byteLength, e, source);
  return tensorOver(buf, e.shape, DTYPES[e.dtype].dtype, copy);
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Every tensor of a parsed header, each entry's bytes given by `bytesOf` at the start of a buffer:
 * one of their own that the tensor keeps (`copy` false), or a scratch buffer reused (`copy`).
 */
function readTensors(header: SafetensorsHeader, bytesOf: (e: SafetensorsEntry) => { buffer: ArrayBuffer; copy: boolean }, source: string): SafetensorsContents {
  const tensors = new Map<string, Tensor>();
  try {
    for (const e of header.entries) {
      const { buffer, copy } = bytesOf(e);
      tensors.set(e.name, tensorFromBuffer(buffer, e.dataOffsets[1] - e.dataOffsets[0], e, source, copy));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: header.metadata };
}

/** Decodes a whole safetensors buffer: tensors (CPU, in data order) and the string metadata. */
export function decodeSafetensorsWithMetadata(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const header = decodeSafetensorsHeader(bytes, source);
  return readTensors(header, (e) => {
    const begin = bytes.byteOffset + header.dataStart + e.dataOffsets[0];
    return { buffer: bytes.buffer.slice(begin, begin + e.dataOffsets[1] - e.dataOffsets[0]) as ArrayBuffer, copy: false };
  }, source);
}

/** Decodes a whole safetensors buffer into tensors (CPU, in data order). */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): Map<string, Tensor> {
  return decodeSafetensorsWithMetadata(bytes, source).tensors;
}

function checkTensors(tensors: unknown): Map<string, Tensor> {
  const map = tensors instanceof Map ? tensors : undefined;
  if (!map) throw new ToolkitError('ERR_INVALID_ARG', `Expected a Map<string, Tensor> for tensors but received ${typeof tensors}`);
  for (const [k, v] of map) {
    if (typeof k !== 'string' || k.length === 0 || k === METADATA_KEY) {
      throw new ToolkitError('ERR_INVALID_ARG', `Expected non-empty string keys other than '${METADATA_KEY}' for tensors but received ${fmt(k)}`);
    }
    if (!(v instanceof Tensor)) throw new ToolkitError('ERR_INVALID_ARG', `Expected a Tensor for tensors['${k}'] but received ${typeof v}`);
  }
  return map as Map<string, Tensor>;
}

/**
 * The dtype each tensor is written as: `dtypes`' entry (a Map from some of the tensors' names to
 * dtypes), else its own.
 */
function checkDtypes(dtypes: unknown, tensors: Map<string, Tensor>): (name: string, t: Tensor) => DType {
  if (dtypes === undefined) return (_, t) => t.dtype;
  if (!(dtypes instanceof Map)) throw new InvalidArgumentError('options.dtypes', 'a Map from tensor names to dtypes', dtypes);
  for (const [k, v] of dtypes) {
    if (!tensors.has(k)) throw new InvalidArgumentError('options.dtypes', 'keys among the names of the tensors', k);
    if (!BY_DTYPE.has(v)) throw new InvalidArgumentError(`options.dtypes['${k}']`, `a dtype with a safetensors equivalent (${[...BY_DTYPE.keys()].join(', ')})`, v);
  }
  const map = dtypes as ReadonlyMap<string, DType>;
  return (name, t) => map.get(name) ?? t.dtype;
}

/**
 * Encodes tensors (any device; values are copied to the CPU) as safetensors bytes, made piece by
 * piece: the header, then each tensor's bytes read through one buffer for all
 * (src/tensor/host-bytes.ts says why). Like the reference implementation, data is ordered by dtype
 * size (largest first) then name, so every tensor is aligned, and the header is padded with
 * spaces to a multiple of 8 bytes.
 */
function encodePieces(tensors: Map<string, Tensor>, metadata?: Record<string, string>, dtypes?: ReadonlyMap<string, DType>): Pieces {
  const map = checkTensors(tensors);
  const storedAs = checkDtypes(dtypes, map);
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || !Object.values(metadata).every((v) => typeof v === 'string')) {
      throw new ToolkitError('ERR_INVALID_ARG', 'Expected an object of string values for metadata but received another value');
    }
  }
  const items = [...map].map(([name, t]) => {
    const dtype = storedAs(name, t);
    const st = BY_DTYPE.get(dtype);
    if (!st) throw new ToolkitError('ERR_SAFETENSORS', `Cannot save tensor '${name}': dtype ${dtype} has no safetensors equivalent`);
    return { name, t, dtype, st, info: DTYPES[st] };
  });
  items.sort((a, b) => b.info.size - a.info.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const { name, t, dtype, st } of items) {
    const n = hostByteLength(t, dtype);
    header[name] = { dtype: st, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const head = Buffer.concat([len, json]);
  function* pieces(): Generator<Uint8Array> {
    yield head;
    const scratch = sharedScratch(Math.max(0, ...items.map(({ t, dtype }) => hostByteLength(t, dtype))));
    for (const { t, dtype } of items) yield hostBytes(t, scratch, dtype);
  }
  return { size: head.length + offset, pieces: pieces() };
}

/** encodePieces' bytes in one buffer. */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const { size, pieces } = encodePieces(tensors, metadata);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically: a temporary file in the same folder is
 * written, flushed and renamed over the target, so readers never see a partial file. With
 * `previous`, the file being replaced is kept under that name (see writeFileAtomic). `dtypes`
 * names tensors to write as another dtype, converted as copy_ converts while each is written, so
 * no converted copy of the whole tensor is made (a float mask as bool: nonzero is true).
 */
export function saveSafetensors(
  file: string, tensors: Map<string, Tensor>, metadata?: Record<string, string>,
  opts: { previous?: string; dtypes?: ReadonlyMap<string, DType> } = {},
): void {
  str('file', file);
  const o = options<{ previous?: string; dtypes?: ReadonlyMap<string, DType> }>('options', opts, ['previous', 'dtypes']);
  if (o.previous !== undefined) str('options.previous', o.previous);
  const pieces = encodePieces(tensors, metadata, o.dtypes);
  try {
    writeFileAtomic(path.resolve(file), pieces, o.previous === undefined ? {} : { previous: path.resolve(o.previous) });
  } catch (e) {
    const reason = e instanceof ToolkitError && e.code === 'ERR_IO' ? e.cause : e;
    throw new ToolkitError('ERR_SAFETENSORS', `Cannot write safetensors file '${file}': ${systemErrorText(reason)}`, { cause: reason });
  }
}

/** The most one read(2) returns on Linux; larger tensors take several. */
const MAX_READ = 0x7ffff000;

/**
 * Runs `use` with a reader of the file's bytes and its size. The file is read piece by piece, never
 * whole: Node reads no file over 2 GiB into one buffer, and a wide model's checkpoint with Sign-In
 * factors and momentum is written larger than that.
 */
function withFile<T>(file: string, use: (read: (offset: number, into: Uint8Array) => void, size: number, source: string) => T): T {
  str('file', file);
  const source = `'${file}'`;
  const cannot = (e: unknown) => new ToolkitError('ERR_SAFETENSORS', `Cannot read safetensors file ${source}: ${(e as Error).message}`, { cause: e });
  // Read by offset, so only a regular file will do; a FIFO put in a checkpoint's place would also
  // wait for a writer for ever.
  const refuse = (kind: string) => new ToolkitError('ERR_SAFETENSORS', `Cannot read safetensors file ${source}: expected a regular file, but it is ${kind}`);
  const { fd, size } = openRegular(file, refuse, cannot);
  try {
    const read = (offset: number, into: Uint8Array): void => {
      for (let done = 0; done < into.length;) {
        let n: number;
        try {
          n = fs.readSync(fd, into, done, Math.min(into.length - done, MAX_READ), offset + done);
        } catch (e) {
          throw cannot(e);
        }
        if (n === 0) fail(source, `the file ended at byte ${offset + done} of the ${size} it had when opened (changed while being read?)`);
        done += n;
      }
    };
    return use(read, size, source);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads every tensor of a safetensors file (CPU tensors, by name). */
export function loadSafetensors(file: string): Map<string, Tensor> {
  return loadSafetensorsWithMetadata(file).tensors;
}

/**
 * Tensors up to this size are read through one scratch buffer and copied; a larger one is read
 * into a buffer of its own that the tensor keeps, so that it is not held twice while it loads (a
 * 2 GiB tensor peaked at 4.5 GB through the scratch buffer).
 */
const SCRATCH_MAX_BYTES = 64 * 2 ** 20;

/**
 * Reads every tensor of a safetensors file and its `__metadata__`. The tensors' bytes go through
 * one scratch buffer and are copied into them: a buffer of its own per tensor stayed resident once
 * the tensors were disposed (a checkpoint loaded into a model is), as garbage that a training
 * process's small JS heap gives V8 no reason to collect. Only tensors over SCRATCH_MAX_BYTES, rare
 * in the zoo's models (ResNet-50's largest is 9 MiB), still get a buffer of their own.
 */
export function loadSafetensorsWithMetadata(file: string): SafetensorsContents {
  return withFile(file, (read, size, source) => {
    const header = headerOf(read, size, source);
    const bytes = (e: SafetensorsEntry) => e.dataOffsets[1] - e.dataOffsets[0];
    const scratch = sharedScratch(Math.max(0, ...header.entries.map(bytes).filter((n) => n <= SCRATCH_MAX_BYTES)));
    return readTensors(header, (e) => {
      const own = bytes(e) > SCRATCH_MAX_BYTES;
      const buffer = own ? new ArrayBuffer(bytes(e)) : scratch;
      read(header.dataStart + e.dataOffsets[0], new Uint8Array(buffer, 0, bytes(e)));
      return { buffer, copy: !own };
    }, source);
  });
}

/** A safetensors file held open: its header, and each entry's bytes on demand. */
export interface SafetensorsReader {
  readonly header: SafetensorsHeader;
  /**
   * Runs `use` on a tensor over the entry's bytes (BOOL bytes checked to be 0 or 1) and on the
   * bytes themselves, read into one buffer for all (sharedScratch): both valid only during `use`.
   */
  withEntry<T>(entry: SafetensorsEntry, use: (view: Tensor, bytes: Uint8Array) => T): T;
}

/**
 * Runs `use` with a reader of a safetensors file, open until `use` returns, so that a file read
 * twice (a checkpoint hashed, then read into a model) is the same file both times even if another
 * one is renamed over its path meanwhile. No entry is held beyond its `withEntry` call.
 */
export function readSafetensorsFile<T>(file: string, use: (reader: SafetensorsReader) => T): T {
  return withFile(file, (read, size, source) => {
    const header = headerOf(read, size, source);
    const bytes = (e: SafetensorsEntry) => e.dataOffsets[1] - e.dataOffsets[0];
    const scratch = sharedScratch(Math.max(0, ...header.entries.map(bytes)));
    return use({
      header,
      withEntry: (e, fn) => {
        const raw = new Uint8Array(scratch, 0, bytes(e));
        read(header.dataStart + e.dataOffsets[0], raw);
        const view = tensorFromBuffer(scratch, bytes(e), e, source, false);
        try {
          return fn(view, raw);
        } finally {
          view.dispose();
        }
      },
    });
  });
}

/** Reads only the header of a safetensors file (not its data): metadata and the tensors' names, dtypes and shapes. */
export function loadSafetensorsHeader(file: string): SafetensorsHeader {
  return withFile(file, headerOf);
}

function headerOf(read: (offset: number, into: Uint8Array) => void, size: number, source: string): SafetensorsHeader {
  return parseHeader((offset, length) => {
    const bytes = new Uint8Array(length);
    read(offset, bytes);
    return bytes;
  }, size, source);
}
