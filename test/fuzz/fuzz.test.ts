/**
 * Issue 10: no input crashes the process. Every native export (enumerated from the addon, so new
 * ones are covered) and every Tensor method is called with junk values (undefined, NaN, ±Infinity,
 * -1, 2^31, 2^53, strings, symbols, bigints, sparse arrays of length 2^32-1, ragged arrays,
 * objects whose getters throw, disposed tensors, tensors of the wrong dtype or shape, ...), each
 * call in a child process watched for signals, hangs and memory (run-fuzz.ts). Every call must
 * return or throw a coded error (or pass through the junk's own exception).
 */
import { fuzzSuite, type FuzzReport } from './run-fuzz';

function summary(r: FuzzReport): string {
  return r.failures.map((f) => `${f.kind}: ${f.call}: ${f.detail}`).join('\n');
}

describe('fuzz: junk arguments never crash, hang or blow up the process', () => {
  it('every native export and NativeTensor/Generator method', async () => {
    const r = await fuzzSuite('native');
    expect(r.calls).toBeGreaterThan(1500);
    expect(summary(r)).toBe('');
    expect(r.coded).toBeGreaterThan(r.calls / 2);
  }, 180000);

  it('every Tensor method', async () => {
    const r = await fuzzSuite('tensor', { step: 4 });
    expect(r.calls).toBeGreaterThan(1500);
    expect(summary(r)).toBe('');
    expect(r.coded).toBeGreaterThan(r.calls / 3);
  }, 180000);
});
