/**
 * The process's memory, not only the live-tensor counter, stays flat over a few hundred training
 * steps of a small masked CNN run synchronously (the worst case: no event-loop turn, so no N-API
 * finalizer runs). The counter alone stayed flat while glibc's heap grew ~2 MB per step here.
 * Each run is a fresh child process, so the numbers are its own.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

const SCRIPT = `
const fs = require('node:fs');
const { F, SGD, applySignIn, cpuMemoryStats, manualSeed, memory, pruneModel, randint, randn, setNumThreads, tidy } = require('./src');
const { createToyModel } = require('./test/helpers/toy-model');
setNumThreads(1);
manualSeed(0);
const model = createToyModel({ width: 16 });
(async () => {
await pruneModel(model, { method: 'random', sparsity: 0.8, seed: 0 });
applySignIn(model);
const opt = SGD.forModel(model, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
const x = randn([64, 1, 28, 28]);
const y = randint(0, 10, [64]);
const rss = () => Number(fs.readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
const samples = {};
for (let step = 1; step <= 300; step++) {
  tidy(() => { F.crossEntropy(model.forward(x), y).backward(); opt.step(); });
  opt.zeroGrad();
  if (step === 50 || step === 300) {
    const s = cpuMemoryStats();
    samples[step] = { rss: rss(), mapped: s.inUseBytes + s.cachedBytes, misses: s.misses, tensors: memory().numTensors };
  }
}
process.stdout.write(JSON.stringify(samples));
})();
`;

function run(env: Record<string, string> = {}): Record<number, { rss: number; mapped: number; misses: number; tensors: number }> {
  const r = spawnSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', SCRIPT], {
    cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status} ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

it('RSS and the allocator stay flat over 250 synchronous steps after warm-up', () => {
  const s = run();
  expect(s[300].tensors).toBe(s[50].tensors);
  // A steady loop reuses its blocks: nothing new is mapped after warm-up.
  expect(s[300].misses).toBe(s[50].misses);
  expect(s[300].mapped).toBe(s[50].mapped);
  // What is left is the small native wrapper objects waiting for finalizers (~0.1 MB per step
  // here); glibc alone grew by hundreds of MB over the same steps.
  expect(s[300].rss - s[50].rss).toBeLessThan(64 * 2 ** 20);
}, 300_000);
