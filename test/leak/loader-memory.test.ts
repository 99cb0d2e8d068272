/**
 * A DataLoader's batches are freed as the run goes, with V8 left to itself (no --expose-gc, no
 * forced collection): each batch's x wraps the JS buffer it was built in, so a buffer kept
 * reachable after its tensor was disposed, or a tensor that never lets its buffer go, would grow
 * the process by a batch per step. 60 batches of 8 MiB, in-process and with 2 workers (whose
 * buffers are transferred, counted in V8's external but not its arrayBuffers); the bound is 16
 * batches from batch 10 on, while a leak grows 50. Each run is a fresh child process.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const MIB = 2 ** 20;
const SIDE = 512;
const BATCH = 8;
const BATCHES = 60;
const FROM = 10;
const BATCH_MIB = (BATCH * SIDE * SIDE * 4) / MIB;

const SCRIPT = `
const { ArrayDataset, DataLoader, setNumThreads } = require('./src');
setNumThreads(1);
const [workers, side, batch, batches] = JSON.parse(process.argv[1]);
const n = 16;
const images = new Uint8Array(n * side * side);
for (let i = 0; i < images.length; i++) images[i] = i * 7;
const ds = new ArrayDataset({ images, labels: Array.from({ length: n }, (_, i) => i % 2), width: side, height: side, channels: 1, numClasses: 2 });
// More batches than the dataset has: the same 16 images, in order, over and over.
const sampler = { length: batch * batches, setEpoch() {}, indices: () => Int32Array.from({ length: batch * batches }, (_, i) => i % n) };
(async () => {
  const samples = [];
  for await (const b of new DataLoader(ds, { batchSize: batch, sampler, numWorkers: workers })) {
    b.x.mean().item();
    b.x.dispose();
    b.y.dispose();
    const m = process.memoryUsage();
    samples.push({ external: m.external, rss: m.rss });
  }
  process.stdout.write(JSON.stringify(samples));
})();
`;

function run(workers: number): { external: number; rss: number }[] {
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', SCRIPT, JSON.stringify([workers, SIDE, BATCH, BATCHES])], {
    cwd: ROOT, encoding: 'utf8', timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { external: number; rss: number }[];
}

describe('DataLoader memory over a run, V8 collecting on its own', () => {
  it.each([0, 2])('with %i workers, external and resident memory stay within 16 batches of batch 10', (workers) => {
    const s = run(workers);
    expect(s).toHaveLength(BATCHES);
    const grown = (key: 'external' | 'rss') => (Math.max(...s.slice(FROM).map((x) => x[key])) - s[FROM - 1][key]) / MIB / BATCH_MIB;
    expect(grown('external')).toBeLessThan(16);
    expect(grown('rss')).toBeLessThan(16);
  });
});
