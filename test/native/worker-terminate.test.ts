/**
 * A worker thread terminated while it is inside a native call that throws must end, not take the
 * process with it. node-addon-api cannot throw into a terminating environment; unless the addon is
 * built with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS it rethrows from the callback wrapper and
 * std::terminate aborts the process. A DataLoader terminates its workers while they decode (the
 * CI once lost test/native/data/loader.test.ts's jest worker to exactly this abort).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

test('worker.terminate() during a throwing native call ends the worker and leaves the process running', () => {
  // Positive-definite but for the last pivot: LAPACK factorizes nearly all of it (~0.1 s here)
  // before ATen's check throws, so a terminate almost always lands inside the call.
  const workerCode = `
    require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();
    const { parentPort } = require('node:worker_threads');
    const { tensor } = require(${JSON.stringify(path.join(root, 'src'))});
    const { call } = require(${JSON.stringify(path.join(root, 'src', 'tensor', 'dispatch'))});
    const n = 1200;
    const diag = new Float64Array(n).fill(1);
    diag[n - 1] = -1;
    const a = call('aten::diag', [tensor(diag)]);
    const attempt = () => { try { call('aten::linalg_cholesky', [a]); return 'no error'; } catch (e) { return e.message; } };
    parentPort.postMessage(attempt());
    for (;;) attempt();
  `;
  const main = `
    const { Worker } = require('node:worker_threads');
    (async () => {
      for (let round = 0; round < 3; round++) {
        const w = new Worker(${JSON.stringify(workerCode)}, { eval: true });
        const first = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
        if (round === 0) process.stdout.write(first.split(':')[0] + '\\n');
        await new Promise((r) => setTimeout(r, 30 + 20 * round));
        await w.terminate();
      }
      process.stdout.write('survived\\n');
    })();
  `;
  const r = spawnSync(process.execPath, ['-e', main], { encoding: 'utf8', timeout: 120_000, cwd: root });
  expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(r.stdout).toBe('linalg.cholesky\nsurvived\n');
}, 150_000);
