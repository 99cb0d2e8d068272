/**
 * Issue 10: no input crashes the process. Every native export (enumerated from the addon, so new
 * ones are covered), every Tensor method and (a fixed sample of) every public TS export are called
 * with junk values (undefined, NaN, ±Infinity, -1, 2^31, 2^53, strings, symbols, bigints, sparse
 * arrays of length 2^32-1, ragged arrays, objects whose getters throw, disposed tensors, tensors of the wrong dtype or shape, ...), each
 * call in a child process watched for signals, hangs and memory (run-fuzz.ts). Every call must
 * return or throw a coded error (or pass through the junk's own exception).
 */
import * as api from '../../src';
import { API_UNSAFE_BY_DESIGN } from './api-unsafe';
import { fuzzSuite, type FuzzFailure, type FuzzReport } from './run-fuzz';

function summary(r: { failures: FuzzFailure[] }): string {
  return r.failures.map((f) => `${f.kind}: ${f.call}: ${f.detail}`).join('\n');
}

/** The entry point of a call label, e.g. 'F.relu' of 'F.relu(NaN)'. */
function entryPoint(label: string): string {
  return label.slice(0, label.indexOf('('));
}

/** The labels fuzz-worker.ts gives the API's entry points: exports, and functions of exported namespaces as 'F.relu'. */
function entryPoints(): Set<string> {
  const out = new Set<string>();
  for (const [name, v] of Object.entries(api)) {
    if (typeof v === 'function') out.add(name);
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, f] of Object.entries(v)) if (typeof f === 'function') out.add(`${name}.${k}`);
    }
  }
  return out;
}

describe('fuzz: the list of what is unsafe by design', () => {
  it('names current entry points', () => {
    const all = entryPoints();
    expect([...API_UNSAFE_BY_DESIGN.keys()].filter((n) => !all.has(n))).toEqual([]);
  });
});

describe('fuzz: junk arguments never crash, hang or blow up the process', () => {
  it('every native export and NativeTensor/Generator method', async () => {
    const r = await fuzzSuite('native');
    expect(r.calls).toBeGreaterThan(1500);
    expect(summary(r)).toBe('');
    expect(r.coded).toBeGreaterThan(r.calls / 2);
  }, 180000);

  it('every public TS entry point (src/index.ts exports): every 20th call', async () => {
    const r = await fuzzSuite('api', { step: 20, callTimeoutMs: 5000 });
    expect(r.calls).toBeGreaterThan(1000);
    // What is unsafe by design (api-unsafe.ts) may crash or hang; its errors must still be coded.
    const failures = r.failures.filter((f) => f.kind === 'uncoded' || !API_UNSAFE_BY_DESIGN.has(entryPoint(f.call)));
    expect(summary({ failures })).toBe('');
  }, 400000);

  it('every Tensor method', async () => {
    const r = await fuzzSuite('tensor', { step: 4 });
    expect(r.calls).toBeGreaterThan(1500);
    expect(summary(r)).toBe('');
    expect(r.coded).toBeGreaterThan(r.calls / 3);
  }, 180000);
});
