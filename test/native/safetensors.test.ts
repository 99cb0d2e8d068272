/**
 * safetensors: exact round trips for every dtype, the byte layout, atomic saves, clear errors for
 * malformed files, and interop both ways with PyTorch, whose side reads and writes the format
 * with struct + json + torch.frombuffer only (no safetensors package, none of our code).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Tensor, decodeSafetensors, decodeSafetensorsHeader, decodeSafetensorsWithMetadata, encodeSafetensors,
  cpuMemoryStats, loadSafetensors, loadSafetensorsHeader, loadSafetensorsWithMetadata, memory, randn, saveSafetensors, tensor, zeros, type DType,
} from '../../src';
import { TOY_MODEL_PYTHON, createToyModel } from '../helpers/toy-model';
import { describeWithTorch, runTorch } from '../helpers/torch-ref';
import { errorOf } from '../helpers/error-of';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function values(t: Tensor): (number | bigint)[] {
  return Array.from(t.data() as ArrayLike<number | bigint>);
}

/** One tensor of every dtype, with edge shapes (scalar, empty) and edge values. */
function sampleTensors(): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  m.set('f32', randn([2, 3]));
  m.set('f64.scalar', tensor(Math.PI, { dtype: 'float64' }));
  m.set('f16', tensor([0.5, -1.25, 65504, 6.103515625e-5, 0]).to('float16'));
  m.set('bf16', tensor([[1.5, -3], [1e30, 0.0078125]]).to('bfloat16'));
  m.set('i64', tensor(new BigInt64Array([1n, -(2n ** 40n), 9007199254740993n])));
  m.set('i32', tensor(new Int32Array([2147483647, -2147483648])));
  m.set('i16', tensor(new Int16Array([-32768, 5])));
  m.set('i8', tensor(new Int8Array([-128, 127, 0])));
  m.set('u8', tensor(new Uint8Array([0, 255, 7])));
  m.set('bool', tensor([true, false, true]));
  m.set('empty', zeros([0, 3]));
  return m;
}

/** A file built by hand: 8-byte length, the JSON text as given, the data bytes. */
function rawFile(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

describe('round trips', () => {
  it('every dtype, scalar and empty shapes, bit-exact, with metadata', () => {
    const src = sampleTensors();
    const bytes = encodeSafetensors(src, { format: 'pt', note: 'ünïcode ✓' });
    const { tensors, metadata } = decodeSafetensorsWithMetadata(bytes);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect([...tensors.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, t] of src) {
      const back = tensors.get(k)!;
      expect([k, back.dtype, back.shape]).toEqual([k, t.dtype, t.shape]);
      expect([k, values(back)]).toEqual([k, values(t)]);
    }
  });

  it('files: save then load, overwriting atomically without leftovers', () => {
    const file = path.join(dir, 'model.safetensors');
    const model = createToyModel();
    saveSafetensors(file, model.stateDict(), { step: '1' });
    saveSafetensors(file, model.stateDict(), { step: '2' });
    expect(fs.readdirSync(dir).filter((f) => f.includes('model.safetensors'))).toEqual(['model.safetensors']);
    const { tensors, metadata } = loadSafetensorsWithMetadata(file);
    expect(metadata).toEqual({ step: '2' });
    const fresh = createToyModel();
    fresh.loadStateDict(tensors);
    for (const [k, t] of model.stateDict()) expect([k, values(fresh.stateDict().get(k)!)]).toEqual([k, values(t)]);
    expect(loadSafetensors(file).size).toBe(model.stateDict().size);
  });

  it('a saved file holds the bytes encode gives, every dtype, and no copy of it is left in buffers', () => {
    const file = path.join(dir, 'pieces.safetensors');
    const src = sampleTensors();
    for (let i = 0; i < 16; i++) src.set(`big${i}`, randn([256, 256])); // 4 MiB in 16 tensors of 256 KiB
    const buffers = () => process.memoryUsage().arrayBuffers + process.memoryUsage().external;
    const before = buffers();
    saveSafetensors(file, src, { note: 'pieces' });
    const grown = buffers() - before;
    const size = fs.statSync(file).size;
    // Before: each tensor's data() (external memory) and the whole file concatenated, 2x its size;
    // now one buffer of the largest tensor's size to read through.
    expect(grown).toBeLessThan(0.25 * size);
    expect(Buffer.compare(fs.readFileSync(file), encodeSafetensors(src, { note: 'pieces' }))).toBe(0);
    const back = loadSafetensors(file);
    for (const [k, t] of src) expect([k, values(back.get(k)!)]).toEqual([k, values(t)]);
    for (const t of [...src.values(), ...back.values()]) t.dispose();
  });

  it('decoded tensors are independent of the source bytes and counted by memory()', () => {
    const bytes = encodeSafetensors(new Map([['x', tensor([1, 2, 3])]]));
    const before = memory().numTensors;
    const t = decodeSafetensors(bytes).get('x')!;
    bytes.fill(0);
    expect(t.toArray()).toEqual([1, 2, 3]);
    expect(memory().numTensors).toBe(before + 1);
    t.dispose();
    expect(memory().numTensors).toBe(before);
  });
});

describe('files over 2 GiB (a wide model with Sign-In and momentum: they are written fine)', () => {
  const GiB = 2 ** 30;
  /** A sparse file (no disk used) of two U8 tensors: `big` of `bigBytes` zero bytes, then `tail` [1, 2, 3]. */
  function sparseFile(name: string, bigBytes: number): string {
    const header = Buffer.from(JSON.stringify({
      __metadata__: { note: 'big' },
      big: { dtype: 'U8', shape: [bigBytes], data_offsets: [0, bigBytes] },
      tail: { dtype: 'U8', shape: [3], data_offsets: [bigBytes, bigBytes + 3] },
    }), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const file = path.join(dir, name);
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, Buffer.concat([len, header]));
    fs.writeSync(fd, Buffer.from([1, 2, 3]), 0, 3, 8 + header.length + bigBytes);
    fs.closeSync(fd);
    return file;
  }

  it('the header reads without reading the data (transfer and readCheckpointInfo read only that)', () => {
    const file = sparseFile('huge-header.safetensors', 3 * GiB);
    expect(fs.statSync(file).size).toBeGreaterThan(2 * GiB);
    const h = loadSafetensorsHeader(file);
    expect(h.metadata).toEqual({ note: 'big' });
    expect(h.entries.map((e) => [e.name, e.dtype, e.shape, e.dataOffsets])).toEqual([
      ['big', 'U8', [3 * GiB], [0, 3 * GiB]], ['tail', 'U8', [3], [3 * GiB, 3 * GiB + 3]],
    ]);
  });

  // Reads 2.1 GiB (sparse, so fast) into memory: only where the memory is there.
  (os.freemem() > 8 * GiB ? it : it.skip)('every tensor loads, the one over 2 GiB into a buffer of its own (not held twice)', () => {
    const file = sparseFile('huge.safetensors', 2 * GiB + 4096);
    const inUse = cpuMemoryStats().inUseBytes;
    const { tensors, metadata } = loadSafetensorsWithMetadata(file);
    // The big one is not copied into the allocator's memory (held twice while it loads, 4.5 GB).
    expect(cpuMemoryStats().inUseBytes - inUse).toBeLessThan(64 * 2 ** 20);
    expect(metadata).toEqual({ note: 'big' });
    expect(tensors.get('big')!.shape).toEqual([2 * GiB + 4096]);
    // The bytes past 2 GiB in the file.
    expect(values(tensors.get('tail')!)).toEqual([1, 2, 3]);
    for (const t of tensors.values()) t.dispose();
  });
});

describe('byte layout', () => {
  it('aligned data (dtype size descending, then name), header padded to 8 bytes, contiguous offsets', () => {
    const bytes = encodeSafetensors(new Map<string, Tensor>([
      ['z', tensor([true])], ['b', tensor([1, 2])], ['a', tensor([1], { dtype: 'float64' })], ['h', tensor([1]).to('float16')],
    ]));
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header).toEqual({
      a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      h: { dtype: 'F16', shape: [1], data_offsets: [16, 18] },
      z: { dtype: 'BOOL', shape: [1], data_offsets: [18, 19] },
    });
    expect(bytes.length).toBe(8 + n + 19);
    expect(bytes.readFloatLE(8 + n + 12)).toBe(2);
    expect(decodeSafetensorsHeader(bytes).entries.map((e) => e.name)).toEqual(['a', 'b', 'h', 'z']);
  });
});

describe('malformed files give clear ERR_SAFETENSORS errors naming the file and key', () => {
  const ok = (): Buffer => encodeSafetensors(new Map([['w', tensor([1, 2, 3])], ['v', tensor([4])]]));

  it.each<[string, () => string, RegExp]>([
    ['truncated data', () => {
      const f = path.join(dir, 'trunc.safetensors');
      fs.writeFileSync(f, ok().subarray(0, ok().length - 3));
      return f;
    }, /: tensor 'w': data_offsets \[4,16\] end past the data section \(13 bytes; truncated\?\)$/],
    ['truncated header', () => {
      const f = path.join(dir, 'trunc-header.safetensors');
      fs.writeFileSync(f, ok().subarray(0, 20));
      return f;
    }, /: the header claims \d+ bytes but the file has only 12 after the length \(truncated\?\)$/],
    ['shorter than 8 bytes', () => {
      const f = path.join(dir, 'tiny.safetensors');
      fs.writeFileSync(f, Buffer.from([1, 2, 3]));
      return f;
    }, /: the file has 3 bytes, fewer than the 8-byte header length \(truncated\?\)$/],
    ['huge header length', () => {
      const f = path.join(dir, 'huge.safetensors');
      fs.writeFileSync(f, Buffer.from('PK\x03\x04 this is a zip file'));
      return f;
    }, /: the header length \d+ exceeds 100000000 bytes \(not a safetensors file\?\)$/],
    ['invalid JSON', () => rawFile('json.safetensors', null, undefined, '{"w": {"dtype": "F32",'), /: the header is not valid JSON \(/],
    ['header not an object', () => rawFile('array.safetensors', [1, 2]), /: the header is not a JSON object$/],
    ['unsupported dtype', () => rawFile('dtype.safetensors', { w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /: tensor 'w': unsupported dtype "F8_E4M3" \(supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL\)$/],
    ['size mismatch', () => rawFile('size.safetensors', { w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20)),
      /: tensor 'w': data_offsets \[0,20\] hold 20 bytes but shape \[2,3\] of F32 needs 24$/],
    ['bad shape', () => rawFile('shape.safetensors', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /: tensor 'w': shape \[-1\] is not an array of non-negative integers$/],
    ['a shape whose element count overflows int64 (libtorch refused it with ERR_INVALID_ARG, naming no file)',
      () => rawFile('overflow.safetensors', { w: { dtype: 'F32', shape: [2 ** 52, 2 ** 52, 0], data_offsets: [0, 0] } }),
      /: tensor 'w': shape \[4503599627370496,4503599627370496,0\] has more elements than an int64 counts$/],
    ['bad offsets', () => rawFile('offsets.safetensors', { w: { dtype: 'U8', shape: [1], data_offsets: [1] } }, new Uint8Array(1)),
      /: tensor 'w': data_offsets \[1\] is not a pair \[begin, end\] of integers with begin <= end$/],
    ['overlapping tensors', () => rawFile('overlap.safetensors', {
      a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] },
    }, new Uint8Array(3)), /: tensor 'b': data_offsets \[1,3\] overlap the previous tensor \(expected to begin at 2\)$/],
    ['a gap', () => rawFile('gap.safetensors', { a: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } }, new Uint8Array(3)),
      /: tensor 'a': data_offsets \[1,3\] leave a gap after the previous tensor \(expected to begin at 0\)$/],
    ['trailing bytes', () => rawFile('trailing.safetensors', { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(5)),
      /: the data section has 5 bytes but the tensors use 2$/],
    ['BOOL bytes other than 0 and 1', () => rawFile('bool.safetensors', { b: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([1, 2, 0xff])),
      /: tensor 'b': BOOL element 1 is the byte 0x02 \(a BOOL byte must be 0 or 1\)$/],
    ['non-string metadata', () => rawFile('meta.safetensors', { __metadata__: { epoch: 3 } }), /: __metadata__ value of 'epoch' is 3, not a string$/],
    // Found by test/fuzz/files.test.ts: quoting the value in the message overflowed JSON.stringify's stack (a RangeError, no code).
    ['offsets nested 20000 deep', () => rawFile('deep.safetensors', null, new Uint8Array(4), `{"w": {"dtype": "F32", "shape": [1], "data_offsets": ${'['.repeat(20000)}${']'.repeat(20000)}}}`),
      /: tensor 'w': data_offsets an array nested too deep to show is not a pair/],
    ['a shape of a million characters (quoted in part)', () => rawFile('long.safetensors', { w: { dtype: 'F32', shape: 'x'.repeat(1e6), data_offsets: [0, 4] } }, new Uint8Array(4)),
      /: tensor 'w': shape "x{199}… \(1000002 characters\) is not an array of non-negative integers$/],
    ['a tensor name of a million characters (quoted in part)', () => rawFile('name.safetensors', { ['n'.repeat(1e6)]: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /: tensor 'n{200}…' \(1000000 characters\): unsupported dtype/],
    ['a metadata key of a million characters (quoted in part)', () => rawFile('key.safetensors', { __metadata__: { ['k'.repeat(1e6)]: 3 } }),
      /: __metadata__ value of 'k{200}…' \(1000000 characters\) is 3, not a string$/],
  ])('%s', (_name, make, message) => {
    const file = make();
    const before = memory().numTensors;
    const e = errorOf(() => loadSafetensors(file));
    expect(e.code).toBe('ERR_SAFETENSORS');
    expect(e.message.startsWith(`Invalid safetensors file '${file}': `)).toBe(true);
    expect(e.message).toMatch(message);
    expect(memory().numTensors).toBe(before);
  });

  it('a missing file', () => {
    const file = path.join(dir, 'nope.safetensors');
    expect(errorOf(() => loadSafetensors(file))).toMatchObject({
      code: 'ERR_SAFETENSORS', message: expect.stringMatching(new RegExp(`^Cannot read safetensors file '${file}': ENOENT`)),
    });
  });

  it('a failed save names the file and leaves nothing behind', () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const target = path.join(blocker, 'x.safetensors');
    const before = fs.readdirSync(dir).sort();
    expect(errorOf(() => saveSafetensors(target, new Map([['a', zeros([1])]])))).toMatchObject({
      code: 'ERR_SAFETENSORS', message: expect.stringMatching(/^Cannot write safetensors file '.*x\.safetensors': E(NOTDIR|EXIST)/),
    });
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  it('bad options (dtypes to write as, previous) are refused, naming them, before the file is touched', () => {
    const file = path.join(dir, 'as-dtype.safetensors');
    fs.writeFileSync(file, 'before');
    const t = new Map([['a', zeros([2])]]);
    const save = (dtypes: unknown) => errorOf(() => saveSafetensors(file, t, undefined, { dtypes: dtypes as never }));
    expect(save({ a: 'bool' })?.message).toBe('Expected a Map from tensor names to dtypes for options.dtypes but received an object');
    expect(save(new Map([['b', 'bool']]))?.message).toBe("Expected keys among the names of the tensors for options.dtypes but received 'b' of type string");
    expect(save(new Map([['a', 'complex64']]))).toMatchObject({
      code: 'ERR_INVALID_ARG', message: expect.stringMatching(/^Expected a dtype with a safetensors equivalent \(float64, float32, .*bool\) for options\.dtypes\['a'\] but received 'complex64'/),
    });
    expect(errorOf(() => saveSafetensors(file, t, undefined, null as never))?.message).toBe('Expected options object for options but received null');
    expect(errorOf(() => saveSafetensors(file, t, undefined, { previous: 5 } as never))?.message).toBe('Expected string for options.previous but received 5 of type number');
    expect(errorOf(() => saveSafetensors(file, t, undefined, { dtype: new Map() } as never))?.message).toBe("Unknown option 'dtype' in options; valid options: previous, dtypes");
    expect(fs.readFileSync(file, 'utf8')).toBe('before');
  });

  it('bad arguments to encode', () => {
    expect(errorOf(() => encodeSafetensors({ a: zeros([1]) } as never))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(errorOf(() => encodeSafetensors(new Map([['__metadata__', zeros([1])]])))).toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(errorOf(() => encodeSafetensors(new Map([['a', 3 as never]])))).toMatchObject({
      code: 'ERR_INVALID_ARG', message: "Expected a Tensor for tensors['a'] but received number",
    });
  });
});

const PY_DTYPES = `
DT = {'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64,
      'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8, 'BOOL': torch.bool}
NAME = {v: k for k, v in DT.items()}
import struct
`;

describeWithTorch('interop with PyTorch (struct + json + torch.frombuffer)', () => {
  it('PyTorch reads what we write', () => {
    const src = sampleTensors();
    const file = path.join(dir, 'ours.safetensors');
    saveSafetensors(file, src, { origin: 'signin-torch' });
    const ref = runTorch(`
      ${PY_DTYPES.trim().split('\n').join('\n      ')}
      raw = open(${JSON.stringify(file)}, 'rb').read()
      n = struct.unpack('<Q', raw[:8])[0]
      header = json.loads(raw[8:8 + n])
      js['metadata'] = header.pop('__metadata__', {})
      for k, e in header.items():
          s, t = e['data_offsets']
          buf = bytearray(raw[8 + n + s:8 + n + t])
          x = torch.frombuffer(buf, dtype=DT[e['dtype']]) if len(buf) else torch.empty(0, dtype=DT[e['dtype']])
          out[k] = x.reshape(e['shape'])
          js[k] = [e['dtype'], e['shape']]
    `);
    expect(ref.js.metadata).toEqual({ origin: 'signin-torch' });
    const names: Record<DType, string> = {
      float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
    };
    for (const [k, t] of src) {
      expect([k, ref.js[k]]).toEqual([k, [names[t.dtype], t.shape]]);
      expect([k, values(ref.out[k]).map(Number)]).toEqual([k, values(t).map(Number)]);
    }
  });

  it('tensors written as another dtype hold what PyTorch\'s .to(dtype) gives', () => {
    const v = [0, 1, -0, 2.5, -3.75, 1e-8, 70000, -1.5];
    const x = tensor(v);
    const file = path.join(dir, 'as.safetensors');
    saveSafetensors(file, new Map([['bool', x], ['f16', x], ['bf16', x], ['i32', x], ['same', x]]), undefined, {
      dtypes: new Map<string, DType>([['bool', 'bool'], ['f16', 'float16'], ['bf16', 'bfloat16'], ['i32', 'int32']]),
    });
    const ref = runTorch(`
      ${PY_DTYPES.trim().split('\n').join('\n      ')}
      raw = open(${JSON.stringify(file)}, 'rb').read()
      n = struct.unpack('<Q', raw[:8])[0]
      header = json.loads(raw[8:8 + n])
      x = torch.tensor(${JSON.stringify(v)}, dtype=torch.float32)
      for k, e in header.items():
          s, t = e['data_offsets']
          got = torch.frombuffer(bytearray(raw[8 + n + s:8 + n + t]), dtype=DT[e['dtype']])
          js[k] = [e['dtype'], bool(torch.equal(got, x.to(DT[e['dtype']])))]
    `);
    expect(ref.js).toEqual({ bool: ['BOOL', true], f16: ['F16', true], bf16: ['BF16', true], i32: ['I32', true], same: ['F32', true] });
  });

  it('we read what PyTorch writes (any order, unaligned offsets, metadata)', () => {
    const file = path.join(dir, 'theirs.safetensors');
    const ref = runTorch(`
      ${PY_DTYPES.trim().split('\n').join('\n      ')}
      torch.manual_seed(0)
      ts = {
          'e.bool': torch.tensor([True, False, True]),
          'a.half': torch.randn(4).half(),
          'b.weight': torch.randn(3, 2),
          'c.bf': torch.randn(2, 2).bfloat16(),
          'd.long': torch.tensor([1, -2**40, 7]),
          'f.u8': torch.tensor([0, 255, 7], dtype=torch.uint8),
          'g.i8': torch.tensor([-128, 3], dtype=torch.int8),
          'h.f64': torch.randn(2, dtype=torch.float64),
          'i.i32': torch.tensor([-5, 2**31 - 1], dtype=torch.int32),
          'j.i16': torch.tensor([[-7], [300]], dtype=torch.int16),
      }
      header = {'__metadata__': {'format': 'pt', 'written_by': 'python'}}
      data = b''
      for k, t in ts.items():
          b = t.contiguous().view(torch.uint8).numpy().tobytes()
          header[k] = {'dtype': NAME[t.dtype], 'shape': list(t.shape), 'data_offsets': [len(data), len(data) + len(b)]}
          data += b
      h = json.dumps(header).encode()
      open(${JSON.stringify(file)}, 'wb').write(struct.pack('<Q', len(h)) + h + data)
      for k, t in ts.items():
          out[k] = t
          js[k] = [NAME[t.dtype], list(t.shape)]
    `);
    const { tensors, metadata } = loadSafetensorsWithMetadata(file);
    expect(metadata).toEqual({ format: 'pt', written_by: 'python' });
    expect([...tensors.keys()]).toEqual(Object.keys(ref.js));
    const dtypes: Record<string, DType> = {
      F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
    };
    for (const [k, [dt, shape]] of Object.entries(ref.js as Record<string, [string, number[]]>)) {
      const t = tensors.get(k)!;
      expect([k, t.dtype, t.shape]).toEqual([k, dtypes[dt], shape]);
      expect([k, values(t).map(Number)]).toEqual([k, values(ref.out[k]).map(Number)]);
    }
  });

  it('a PyTorch model loads our saved state dict and computes the same output', () => {
    const file = path.join(dir, 'toy.safetensors');
    const model = createToyModel();
    model.eval();
    const x = randn([2, 1, 8, 8]);
    const y = model.forward(x);
    saveSafetensors(file, model.stateDict());
    const ref = runTorch(`
      ${PY_DTYPES.trim().split('\n').join('\n      ')}
      ${TOY_MODEL_PYTHON.trim().split('\n').join('\n      ')}
      raw = open(${JSON.stringify(file)}, 'rb').read()
      n = struct.unpack('<Q', raw[:8])[0]
      header = json.loads(raw[8:8 + n])
      header.pop('__metadata__', None)
      sd = {k: torch.frombuffer(bytearray(raw[8 + n + e['data_offsets'][0]:8 + n + e['data_offsets'][1]]), dtype=DT[e['dtype']]).reshape(e['shape'])
            for k, e in header.items()}
      m = ToyNet()
      m.load_state_dict(sd)
      m.eval()
      out['y'] = m(inp['x'])
    `, { x });
    const a = y.toArray();
    const b = ref.out.y.toArray();
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5));
  });
});
