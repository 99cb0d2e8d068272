/**
 * No file crashes, hangs or blows up the process: seeded mutants of a small valid file of every
 * format the toolkit reads (files-formats.ts: safetensors, masks, checkpoints, IDX raw and gzip,
 * CIFAR-10 and CIFAR-100 batches and class names, JPEG (baseline, progressive, grey, CMYK), PNG,
 * WebP and TIFF through ImageFolder, run records (config, metrics, final, failed, interrupted,
 * transfer, the run lock), train configs, sweep grid files) are read through
 * the public API in child processes (run-fuzz.ts watches signals, hangs and resident memory). Each
 * must load consistently with its bytes or throw a coded error that names the file. A fixed
 * sample runs here; SIGNIN_FUZZ_FILES_N=2000 runs that many per format (by hand), and
 * SIGNIN_FUZZ_FILES_SEED another sample.
 */
import * as path from 'node:path';
import { FORMATS } from './files-formats';
import { fuzzSuite } from './run-fuzz';

const N = Number(process.env.SIGNIN_FUZZ_FILES_N ?? 60);
const WORKER = path.join(__dirname, 'files-worker.ts');

describe('fuzz: damaged files never crash, hang or blow up the process', () => {
  it.each(FORMATS)('%s', async (format) => {
    const r = await fuzzSuite(format, { step: N, worker: WORKER, callTimeoutMs: 20000, rssCapBytes: 2 * 2 ** 30 });
    if (process.env.SIGNIN_FUZZ_FILES_N) console.log(`${format}: ${r.calls} mutants, ${r.coded} coded errors, ${r.failures.length} failures`);
    expect(r.failures.map((f) => `${f.kind}: ${f.call}: ${f.detail}`).join('\n')).toBe('');
    expect(r.calls).toBe(N);
  }, 600000);
});
