/**
 * A gzip dataset file inflated straight into shared memory by a short-lived worker thread.
 *
 * Why a worker: inflated in the main thread, the compressed bytes and zlib's output are garbage
 * that only a full collection frees, and a training process's small JS heap gives V8 no reason to
 * run one. Fashion-MNIST's training images left about 70 MiB of dead buffers resident for a whole
 * run that way (116 MiB with zlib's default 16 KiB output pieces, which also fragment the malloc
 * heap). A worker's buffers go when its isolate does, so the caller holds only the result.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

/**
 * What the worker reports: the inflated length, or the error of reading the file or of zlib;
 * `worker` when the worker itself did not finish or said nothing.
 */
export type GunzipReply = { length: number } | { error: { code?: string; message: string; reading?: boolean; worker?: boolean } };

/**
 * Plain JS, run with `eval`: a worker started from a .ts file would load the TS loader first.
 * zlib gets one output piece of the declared size plus a byte, so it makes no pieces to
 * concatenate and still shows a stream that is longer.
 */
const WORKER_SOURCE = `
const { workerData: { fd, size, out, done, port } } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
let reply;
let reading = true;
try {
  const raw = Buffer.allocUnsafe(size);
  let got = 0;
  for (let n = -1; got < size && n !== 0; got += n) n = fs.readSync(fd, raw, got, size - got, got);
  reading = false;
  const chunkSize = Math.max(out.byteLength + 1, zlib.constants.Z_MIN_CHUNK);
  const inflated = zlib.gunzipSync(raw.subarray(0, got), { maxOutputLength: out.byteLength, chunkSize });
  new Uint8Array(out).set(inflated);
  reply = { length: inflated.length };
} catch (e) {
  reply = { error: { code: e && e.code, message: String(e && e.message), reading } };
}
port.postMessage(reply);
port.close();
Atomics.store(done, 0, 1);
Atomics.notify(done, 0);
`;

/**
 * Generous, as zlib inflates hundreds of MB/s: the bound is for a worker that never starts, whose
 * failure is reported on the event loop that this thread blocks while it waits.
 */
const waitMs = (declared: number) => 120_000 + declared / 1000;

/**
 * Inflates the open gzip file `fd` (`size` bytes) into a new shared buffer of `declared` bytes,
 * blocking the caller (for `timeoutMs` at most); never writes more than that. `bytes` holds the
 * inflated prefix.
 */
export function gunzipShared(fd: number, size: number, declared: number, timeoutMs = waitMs(declared)): { bytes: Uint8Array; reply: GunzipReply } {
  const out = new SharedArrayBuffer(declared);
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { fd, size, out, done, port: port2 }, transferList: [port2] });
  // A worker that fails to start reports it on the event loop this thread is blocking: the wait's
  // bound below is what ends that case, and an unheard 'error' event would end the process.
  worker.on('error', () => undefined);
  try {
    if (Atomics.wait(done, 0, 0, timeoutMs) === 'timed-out') {
      return { bytes: new Uint8Array(0), reply: { error: { worker: true, message: `the worker inflating it did not finish in ${Math.round(timeoutMs / 1000)} s` } } };
    }
    const reply = receiveMessageOnPort(port1)?.message as GunzipReply | undefined;
    if (!reply) return { bytes: new Uint8Array(0), reply: { error: { worker: true, message: 'the worker inflating it stopped without a reply' } } };
    return { bytes: new Uint8Array(out, 0, 'length' in reply ? reply.length : 0), reply };
  } finally {
    port1.close();
    void worker.terminate();
  }
}
