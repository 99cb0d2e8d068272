/**
 * Seeded mutations of valid files for files.test.ts: generic byte damage (truncation, bit and byte
 * flips, removed or duplicated ranges, appended garbage), extreme values written into a format's
 * known numeric fields (lengths, counts, shapes: the fields a reader trusts to size an allocation),
 * and, for JSON, structural edits (numbers swapped for huge, negative, fractional or non-numeric
 * values, deep nesting, dropped or duplicated keys). The same seed gives the same mutant.
 */

export type Rand = () => number;

export const int = (r: Rand, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

/** FNV-1a of a string: a format's name as part of its seed. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A numeric field of a binary format: `size` bytes at `at`, big- or little-endian. */
export interface Field {
  name: string;
  at: number;
  size: 1 | 2 | 4 | 8;
  le: boolean;
}

export interface Mutant {
  label: string;
  bytes: Buffer;
}

function extreme(r: Rand, size: number): bigint {
  const max = (1n << BigInt(8 * size)) - 1n;
  return pick(r, [0n, 1n, max, max - 1n, max >> 1n, (max >> 1n) + 1n, 255n, 0x10000n & max, 0x7fffn, BigInt(int(r, 1 << 16))]) & max;
}

function writeField(b: Buffer, f: Field, v: bigint): void {
  for (let i = 0; i < f.size; i++) {
    const byte = Number((v >> BigInt(8 * i)) & 0xffn);
    b[f.le ? f.at + i : f.at + f.size - 1 - i] = byte;
  }
}

/** One generic mutation of `valid`, with numeric `fields` as targets of extreme values. */
export function mutateBytes(r: Rand, valid: Buffer, fields: readonly Field[] = []): Mutant {
  const b = Buffer.from(valid);
  const n = b.length;
  // A third of the mutants of a format with known fields write one: the fields that size allocations are few bytes of a file.
  switch (fields.length && r() < 1 / 3 ? 7 : int(r, 7)) {
    case 0: {
      const at = int(r, n);
      return { label: `truncate at ${at}`, bytes: b.subarray(0, at) };
    }
    case 1: {
      const k = 1 + int(r, 8);
      const at: number[] = [];
      for (let i = 0; i < k; i++) {
        const p = int(r, n);
        b[p] ^= 1 << int(r, 8);
        at.push(p);
      }
      return { label: `flip bits at ${at.join(',')}`, bytes: b };
    }
    case 2: {
      const k = 1 + int(r, 4);
      const at: number[] = [];
      for (let i = 0; i < k; i++) {
        const p = int(r, n);
        b[p] = pick(r, [0, 0xff, 0x7f, 0x80, int(r, 256)]);
        at.push(p);
      }
      return { label: `set bytes at ${at.join(',')}`, bytes: b };
    }
    case 3: {
      const from = int(r, n);
      const len = 1 + int(r, Math.min(n - from, 512));
      return { label: `remove [${from}, ${from + len})`, bytes: Buffer.concat([b.subarray(0, from), b.subarray(from + len)]) };
    }
    case 4: {
      const from = int(r, n);
      const len = 1 + int(r, Math.min(n - from, 512));
      const to = int(r, n + 1);
      return { label: `copy [${from}, ${from + len}) to ${to}`, bytes: Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]) };
    }
    case 5: {
      const len = 1 + int(r, 4096);
      const g = Buffer.alloc(len);
      for (let i = 0; i < len; i++) g[i] = int(r, 256);
      return { label: `append ${len} bytes`, bytes: Buffer.concat([b, g]) };
    }
    case 6: {
      const at = int(r, n);
      const end = Math.min(n, at + 1 + int(r, 64));
      b.fill(pick(r, [0, 0xff]), at, end);
      return { label: `fill [${at}, ${end})`, bytes: b };
    }
    default: {
      const f = pick(r, fields);
      const v = extreme(r, f.size);
      if (f.at + f.size <= n) writeField(b, f, v);
      return { label: `${f.name} = ${v}`, bytes: b };
    }
  }
}

const JSON_VALUES = [
  '0', '-1', '1e308', '-1e308', '1e400', '0.5', '-0', '9007199254740993', '1e12', '2147483648', '4294967296',
  '"x"', '""', 'null', 'true', '[]', '{}', '[1e12]', '[-1, 2]', '{"__proto__": {"x": 1}}', '"NaN"', '"Infinity"',
];

/** Every path (array of keys) to a leaf or container of a parsed JSON value, the root excluded. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(c, p, out);
    }
  }
  return out;
}

function parentOf(root: unknown, p: (string | number)[]): Record<string | number, unknown> {
  let o = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  return o;
}

/** A JSON value `depth` levels deep, the shape that overflows a recursive walker's stack. */
function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * One structural mutation of a JSON document's text: a value replaced (by an extreme or another
 * type, a deeply nested one, a long string), a key removed, a key repeated, or an unknown key
 * added. Text that is not JSON gets a byte mutation.
 */
export function mutateJsonText(r: Rand, text: string): { label: string; text: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    const m = mutateBytes(r, Buffer.from(text));
    return { label: m.label, text: m.bytes.toString('latin1') };
  }
  const all = paths(doc);
  if (all.length === 0) return { label: 'replace the document', text: pick(r, JSON_VALUES) };
  const p = pick(r, all);
  const where = p.join('.');
  const parent = parentOf(doc, p);
  const key = p[p.length - 1];
  const mark = '@@signin-fuzz-mark@@';
  const marker = JSON.stringify(mark);
  const kind = int(r, 11);
  if (kind < 6) {
    const v = pick(r, JSON_VALUES);
    parent[key] = mark;
    return { label: `${where} = ${v}`, text: JSON.stringify(doc).replace(marker, v) };
  }
  if (kind === 6) {
    const depth = pick(r, [1000, 20000, 200000]);
    const shape = pick(r, ['array', 'object'] as const);
    parent[key] = mark;
    return { label: `${where} = ${shape} nested ${depth} deep`, text: JSON.stringify(doc).replace(marker, deep(depth, shape)) };
  }
  if (kind === 7) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return { label: `remove ${where}`, text: JSON.stringify(doc) };
  }
  if (kind === 8) {
    const n = pick(r, [1e5, 1e6]);
    parent[key] = mark;
    return { label: `${where} = a string of ${n} characters`, text: JSON.stringify(doc).replace(marker, JSON.stringify('x'.repeat(n))) };
  }
  if (kind === 9) {
    // The key repeated at the top level, after the document's own keys: JSON.parse keeps the last.
    const v = pick(r, JSON_VALUES);
    return { label: `${String(key)} repeated at the top level = ${v}`, text: JSON.stringify(doc).replace(/\}$/, `,${JSON.stringify(String(key))}:${v}}`) };
  }
  // A key the schema does not know, which a loose schema keeps and later code may walk.
  if (Array.isArray(parent)) return { label: 'unchanged', text };
  const value = r() < 0.5 ? deep(pick(r, [100, 20000]), pick(r, ['array', 'object'] as const)) : pick(r, JSON_VALUES);
  parent[`extra${int(r, 10)}`] = mark;
  return { label: `${where} gains an unknown key = ${value.slice(0, 30)}`, text: JSON.stringify(doc).replace(marker, value) };
}

/** safetensors: 8-byte little-endian header length, the JSON header, the data. */
export function splitSafetensors(b: Buffer): { header: string; data: Buffer } {
  const n = Number(b.readBigUInt64LE(0));
  return { header: b.subarray(8, 8 + n).toString('utf8'), data: b.subarray(8 + n) };
}

export function joinSafetensors(header: string, data: Buffer): Buffer {
  const h = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

/**
 * A safetensors mutant: byte damage anywhere (the header length a field), or a structural edit of
 * the header JSON (or of a JSON string in its __metadata__, such as a checkpoint's position)
 * written back with a correct length, so that the reader gets past the length check.
 */
export function mutateSafetensors(r: Rand, valid: Buffer): Mutant {
  const choice = int(r, 3);
  if (choice === 0) return mutateBytes(r, valid, [{ name: 'header length', at: 0, size: 8, le: true }]);
  const { header, data } = splitSafetensors(valid);
  if (choice === 1) {
    const m = mutateJsonText(r, header);
    return { label: `header: ${m.label}`, bytes: joinSafetensors(m.text, data) };
  }
  const doc = JSON.parse(header) as Record<string, unknown>;
  const meta = doc.__metadata__ as Record<string, string> | undefined;
  const jsonKeys = Object.keys(meta ?? {}).filter((k) => /^[[{]/.test(meta![k]));
  if (!meta || jsonKeys.length === 0) {
    const m = mutateJsonText(r, header);
    return { label: `header: ${m.label}`, bytes: joinSafetensors(m.text, data) };
  }
  const k = pick(r, jsonKeys);
  const m = mutateJsonText(r, meta[k]);
  meta[k] = m.text;
  return { label: `metadata ${k}: ${m.label}`, bytes: joinSafetensors(JSON.stringify(doc), data) };
}
